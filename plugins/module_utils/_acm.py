# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Find, request, wait for and delete DNS-validated ACM certificates.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

The logic of ``linktrack.https.acm_dns_certificate`` lives here, in plain
classes that take a boto3 ACM client, an ``AwsCaller`` and a ``Clock``, so that
unit tests can drive them with a hand-written fake client.

How a certificate is chosen (``state=present`` with ``domain_name``):

* One ``ListCertificates`` pass (all pages) filtered to ``ISSUED`` and
  ``PENDING_VALIDATION`` and to the requested key algorithm finds the
  candidates: ACM-issued certificates for exactly the requested set of names
  that are not expired and not revoked.
* One candidate: one ``DescribeCertificate``. More than one: their tags are
  read and the first of this order wins: tagged ``linktrack.https:managed``,
  then the oldest ``CreatedAt``, then the smallest ARN. The order does not
  depend on the status, which changes over time, so two hosts that look at the
  same certificates settle on the same one.
* None: ``RequestCertificate`` with DNS validation, the managed tag and a
  deterministic ``IdempotencyToken`` derived from the key algorithm and the
  sorted names, so that two requests within ACM's one-hour token window get
  one certificate. Afterwards the list is read again; if another matching
  certificate appeared (a second host that raced past the token), the same
  order picks one and the certificate this run requested is deleted when it
  lost. If ACM answers a token with a certificate that is provably gone or can
  no longer be used, the next token is derived from that ARN, so hosts that
  meet the same stale token still agree on the next one.

What real ACM does, and what this module does about it:

* "There is a delay of several seconds before you can retrieve information
  about the new certificate" (ACM API reference, RequestCertificate). During
  it DescribeCertificate answers ``ResourceNotFoundException`` and
  ListCertificates leaves the certificate out. So the ARN a request returned
  is read again, with the same ARN, until it shows or ``visibility_timeout``
  passes; only a certificate still unknown after that window counts as gone
  (a token whose certificate was deleted within ACM's one-hour token window).
* A 5xx answer to RequestCertificate is retried with the *same* token: that is
  what the token is for ("if you call RequestCertificate multiple times with
  the same idempotency token within one hour, ACM recognizes that you are
  requesting only one certificate", same page).
* ACM keeps a deleted CloudFront distribution in ``InUseBy`` for minutes, and
  DeleteCertificate answers ``ResourceInUseException`` meanwhile
  (hashicorp/terraform-provider-aws issue 3866 and PR 3868;
  amplify-education/serverless-domain-manager issue 32: 10 to 20 minutes).
  state=absent therefore checks each user: a CloudFront distribution that
  GetDistribution no longer knows (``NoSuchDistribution``), or that the caller
  says it deleted (``deleted_distributions``), is waited out, up to
  ``in_use_timeout``; any other user refuses the delete at once, by name.
* ACM uses one validation CNAME for every certificate of a name in one account
  (ACM User Guide, DNS validation: it reuses the CNAME record). The absent
  result names the records another certificate still needs
  (``validation_records_in_use``), so the caller keeps them.
* Certificates that CloudFront manages carry ``ManagedBy: CLOUDFRONT``
  (DescribeCertificate / ListCertificates); they are never reused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import re

from ansible_collections.linktrack.https.plugins.module_utils._aws import MANAGED_TAG_KEY, MANAGED_TAG_VALUE, check_region, clean_tags, new_caller
from ansible_collections.linktrack.https.plugins.module_utils._common import Clock, Differences, Progress, LinktrackError, error_code
from ansible_collections.linktrack.https.plugins.module_utils._common import normalize_domain, poll_until, result_from_exception
from ansible_collections.linktrack.https.plugins.module_utils._common import Spec
from ansible_collections.linktrack.https.plugins.module_utils._records import format_serial, validate_seconds

# ACM can request RSA_2048, EC_prime256v1 and EC_secp384r1; CloudFront serves
# RSA keys and 256-bit ECDSA keys only. The intersection:
KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1")
# Every key type ACM knows; ListCertificates shows only RSA_1024/RSA_2048 by
# default, so state=absent asks for all of them.
ALL_KEY_TYPES = ("RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1")
REUSABLE_STATUSES = ("ISSUED", "PENDING_VALIDATION")
# What ACM answers for a certificate ARN of another account (DescribeCertificate,
# ListTagsForCertificate: ResourceNotFoundException "cannot be found in the
# caller's account", InvalidArnException; ACM API Reference) or one the IAM
# policy denies (AccessDeniedException, ACM API Reference, Common Errors).
FOREIGN_ERRORS = ("ResourceNotFoundException", "InvalidArnException", "AccessDeniedException", "AccessDenied")
FAILED_STATUSES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")
CERTIFICATE_DOMAIN_MAX = 64  # RFC 5280: the common name has at most 64 characters
TOKEN_LENGTH = 32
# Tokens tried before giving up. Each one whose certificate is gone costs one
# visibility window; a domain set up and torn down n times within ACM's token
# hour meets n - 1 of them.
REQUEST_ATTEMPTS = 8
# arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE
_DISTRIBUTION_ARN_RE = re.compile(r"^arn:aws[a-z-]*:cloudfront::\d{12}:distribution/([A-Z0-9]+)$")
_DISTRIBUTION_ID_RE = re.compile(r"^[A-Z0-9]{6,32}$")

_ARN_RE = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate/[A-Za-z0-9-]+$")


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------


class CertificateSpec(Spec):
    """The validated, normalised input of one run."""

    FIELDS = dict(
        domain_name=None, subject_alternative_names=[], key_algorithm="RSA_2048", tags=None, state="present", wait=False,
        wait_timeout=3600, validation_timeout=300, force=False, certificate_arn=None, visibility_timeout=60,
        in_use_timeout=1800, deleted_distributions=[])

    @property
    def names(self):
        """All names of the certificate: domain_name first, then the sorted alternatives."""
        if self.domain_name is None:
            return []
        return [self.domain_name] + self.subject_alternative_names

    def desired(self):
        return {
            "domain_name": self.domain_name,
            "subject_alternative_names": list(self.subject_alternative_names),
            "key_algorithm": self.key_algorithm,
            "tags": self.request_tags(),
        }

    def request_tags(self):
        tags = dict(self.tags or {})
        tags[MANAGED_TAG_KEY] = MANAGED_TAG_VALUE
        return tags


def build_spec(params):
    """Validate and normalise the module parameters; raise ``LinktrackError`` naming the field.

    Nothing here talks to AWS.
    """
    state = params.get("state") or "present"
    if state not in ("present", "absent"):
        raise LinktrackError("state must be present or absent, got %r." % (state,), field="state")

    arn = params.get("certificate_arn")
    if arn is not None:
        arn = arn.strip()
        match = _ARN_RE.match(arn)
        if not match:
            raise LinktrackError(
                "certificate_arn: %r is not an ACM certificate ARN; expected "
                "arn:aws:acm:us-east-1:ACCOUNT:certificate/ID." % (params.get("certificate_arn"),),
                field="certificate_arn",
            )
        if match.group(1) != "us-east-1":
            raise LinktrackError(
                "certificate_arn: %s is in %s, but CloudFront only accepts ACM certificates from us-east-1. "
                "Request or import the certificate in us-east-1." % (arn, match.group(1)),
                field="certificate_arn",
            )

    domain = params.get("domain_name")
    if domain is None and arn is None:
        raise LinktrackError(
            "domain_name is required unless certificate_arn is given. Give the tracking domain, "
            "such as links.example.com.",
            field="domain_name",
        )
    if domain is not None:
        domain = normalize_domain(domain, "domain_name", allow_wildcard=False)
        if state == "present" and len(domain) > CERTIFICATE_DOMAIN_MAX:
            raise LinktrackError(
                "domain_name: %r is %d characters long; ACM puts it in the certificate's common name, which "
                "has at most %d characters (RFC 5280). Use a shorter tracking domain."
                % (domain, len(domain), CERTIFICATE_DOMAIN_MAX),
                field="domain_name",
            )

    sans = []
    raw_sans = params.get("subject_alternative_names") or []
    if not isinstance(raw_sans, (list, tuple)):
        raise LinktrackError("subject_alternative_names must be a list of host names.", field="subject_alternative_names")
    if raw_sans and domain is None:
        raise LinktrackError(
            "subject_alternative_names needs domain_name; with only certificate_arn the names come from the certificate.",
            field="subject_alternative_names",
        )
    for index, value in enumerate(raw_sans):
        name = normalize_domain(value, "subject_alternative_names[%d]" % index, allow_wildcard=True)
        if name != domain and name not in sans:
            sans.append(name)
    sans.sort()

    key_algorithm = params.get("key_algorithm") or "RSA_2048"
    if key_algorithm not in KEY_ALGORITHMS:
        raise LinktrackError(
            "key_algorithm: %r is not one CloudFront can serve from an ACM-requested certificate; "
            "use one of %s." % (key_algorithm, ", ".join(KEY_ALGORITHMS)),
            field="key_algorithm",
        )

    tags = clean_tags(params.get("tags"), "certificate")

    wait_timeout = params.get("wait_timeout", 3600)
    validate_seconds(wait_timeout, "wait_timeout")
    validation_timeout = params.get("validation_timeout", 300)
    validate_seconds(validation_timeout, "validation_timeout")
    visibility_timeout = params.get("visibility_timeout", 60)
    validate_seconds(visibility_timeout, "visibility_timeout")
    in_use_timeout = params.get("in_use_timeout", 1800)
    validate_seconds(in_use_timeout, "in_use_timeout")
    deleted = []
    raw_deleted = params.get("deleted_distributions") or []
    if not isinstance(raw_deleted, (list, tuple)):
        raise LinktrackError("deleted_distributions must be a list of CloudFront distribution ids or ARNs.",
                             field="deleted_distributions")
    for index, value in enumerate(raw_deleted):
        dist_id = distribution_id(value)
        if dist_id is None:
            raise LinktrackError(
                "deleted_distributions[%d]: %r is neither a CloudFront distribution id (E2EXAMPLE) nor its ARN "
                "(arn:aws:cloudfront::ACCOUNT:distribution/E2EXAMPLE)." % (index, value),
                field="deleted_distributions[%d]" % index,
            )
        deleted.append(dist_id)

    return CertificateSpec(domain_name=domain, subject_alternative_names=sans, key_algorithm=key_algorithm, tags=tags, state=state,
                           wait=bool(params.get("wait")), wait_timeout=wait_timeout, validation_timeout=validation_timeout,
                           force=bool(params.get("force")), certificate_arn=arn, visibility_timeout=visibility_timeout,
                           in_use_timeout=in_use_timeout, deleted_distributions=deleted)


# --------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------


def idempotency_token(names, key_algorithm, salt=""):
    """The ``IdempotencyToken`` for these names: 32 lower-case hex characters.

    Derived only from the key algorithm, the sorted names and ``salt`` (empty
    for the first attempt), so every host computes the same token.
    """
    material = "linktrack.https|%s|%s|%s" % (key_algorithm, ",".join(sorted(n.lower() for n in names)), salt)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:TOKEN_LENGTH]


def distribution_id(value):
    """The distribution id in a CloudFront distribution ARN or id, or ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _DISTRIBUTION_ARN_RE.match(text)
    if match:
        return match.group(1)
    return text if _DISTRIBUTION_ID_RE.match(text) else None


def _record_domain(name):
    """The name a validation record is for: a wildcard and its base name share one record."""
    name = (name or "").lower()
    return name[2:] if name.startswith("*.") else name


def format_time(value):
    """An ISO 8601 UTC time string (``2026-01-31T12:00:00Z``), or ``None``."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _as_datetime(value):
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    return None


def _strip_dot(name):
    return name[:-1] if name and name.endswith(".") else name


def tags_to_dict(tag_list):
    return dict((t.get("Key"), t.get("Value", "")) for t in tag_list or [])


def validation_records(certificate):
    """The DNS validation records of a described certificate.

    One entry per distinct record (a wildcard and its base name share one),
    ``name`` in lower case without the trailing dot, ``value`` as ACM gives it.
    """
    records = []
    seen = set()
    for option in certificate.get("DomainValidationOptions") or []:
        record = option.get("ResourceRecord")
        if not record:
            continue
        name = _strip_dot(record.get("Name", "").lower())
        key = (name, record.get("Type"), record.get("Value"))
        if key in seen:
            continue
        seen.add(key)
        records.append({
            "domain_name": (option.get("DomainName") or "").lower(),
            "name": name,
            "type": record.get("Type"),
            "value": record.get("Value"),
        })
    return records


def _records_ready(certificate):
    """True when every DNS-validated name of the certificate has its ResourceRecord."""
    options = certificate.get("DomainValidationOptions") or []
    dns = [o for o in options if o.get("ValidationMethod", "DNS") == "DNS"]
    return bool(dns) and all(o.get("ResourceRecord") for o in dns)


def _email_validated(certificate):
    options = certificate.get("DomainValidationOptions") or []
    return any(o.get("ValidationMethod") == "EMAIL" for o in options)


def certificate_names(certificate):
    """The set of lower-case names of a described certificate."""
    names = set(n.lower() for n in certificate.get("SubjectAlternativeNames") or [])
    if certificate.get("DomainName"):
        names.add(certificate["DomainName"].lower())
    return names


def _summary_names(summary):
    """The summary's names, or ``None`` when the summary cannot tell them all."""
    listed = summary.get("SubjectAlternativeNameSummaries")
    if listed is None or summary.get("HasAdditionalSubjectAlternativeNames"):
        return None
    names = set(n.lower() for n in listed)
    if summary.get("DomainName"):
        names.add(summary["DomainName"].lower())
    return names


# --------------------------------------------------------------------------
# The manager
# --------------------------------------------------------------------------


class _Candidate:
    def __init__(self, summary, names_known):
        self.summary = summary
        self.arn = summary["CertificateArn"]
        self.names_known = names_known
        self.described = None
        self.tags = None

    def sort_key(self):
        created = _as_datetime(self.summary.get("CreatedAt"))
        if created is None and self.described:
            created = _as_datetime(self.described.get("CreatedAt"))
        stamp = created.timestamp() if created else float("inf")
        managed = (self.tags or {}).get(MANAGED_TAG_KEY) == MANAGED_TAG_VALUE
        return (0 if managed else 1, stamp, self.arn)


class AcmCertificateManager:
    """Desired versus current for one DNS-validated ACM certificate.

    ``client`` is a boto3 ACM client (or a fake with the same methods),
    ``caller`` the module's ``AwsCaller``, ``clock`` a ``Clock``. In check mode
    no write call is made. ``utcnow`` returns the current aware UTC time (for
    the expiry check).
    """

    def __init__(self, client, caller, clock=None, check_mode=False, utcnow=None, cloudfront=None, progress=None,
                 known_certificates=None):
        self.client = client
        # known_certificates: summaries from a listing made once for the whole play (aws_shared_listing), a hint only
        self.known_certificates = known_certificates
        # cloudfront: a callable that returns a CloudFront client (state=absent only)
        self.cloudfront = cloudfront
        self._cloudfront_client = None
        self._gone = {}  # InUseBy entry -> whether it is proven gone
        self._in_use_start = None
        self.progress = progress if progress is not None else Progress()
        self.caller = caller
        self.clock = clock or Clock()
        self.check_mode = check_mode
        self.utcnow = utcnow or _utcnow
        self.differences = Differences()
        self.waited = 0.0
        self.deleted = []

    # ---- AWS calls -------------------------------------------------------

    def _call(self, method, **kwargs):
        return self.caller(getattr(self.client, method), **kwargs)

    def _describe(self, arn):
        return self._call("describe_certificate", CertificateArn=arn)["Certificate"]

    @staticmethod
    def _unless_gone(read, arn):
        """``read(arn)``, or ``None`` when the certificate no longer exists."""
        try:
            return read(arn)
        except Exception as exc:  # noqa: BLE001 - only "not found" is expected here
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def _describe_or_none(self, arn):
        return self._unless_gone(self._describe, arn)

    def _tags(self, arn):
        return tags_to_dict(self._call("list_tags_for_certificate", CertificateArn=arn).get("Tags"))

    def _tags_or_none(self, arn):
        """The certificate's tags, or ``None`` when it no longer exists."""
        return self._unless_gone(self._tags, arn)

    def list_summaries(self, statuses, key_types):
        summaries = []
        kwargs = {"Includes": {"keyTypes": list(key_types)}}
        if statuses:
            kwargs["CertificateStatuses"] = list(statuses)
        while True:
            page = self._call("list_certificates", **kwargs)
            summaries.extend(page.get("CertificateSummaryList") or [])
            token = page.get("NextToken")
            if not token:
                return summaries
            kwargs["NextToken"] = token

    # ---- choosing --------------------------------------------------------

    def _expired(self, cert):
        not_after = _as_datetime(cert.get("NotAfter"))
        return not_after is not None and not_after <= self.utcnow()

    def _usable(self, cert, spec, present=True, check_key=True):
        """Whether a summary or described certificate may be reused (present) or is in scope (absent).

        For state=absent every status and type is in scope: the tag check and
        ``force`` decide what may go.
        """
        if not present:
            return True
        if cert.get("Type", "AMAZON_ISSUED") != "AMAZON_ISSUED":
            return False
        if cert.get("ManagedBy"):
            # CloudFront requested and renews it for a distribution of its own (ManagedBy: CLOUDFRONT)
            return False
        if cert.get("Status") not in REUSABLE_STATUSES:
            return False
        if cert.get("RevokedAt") or self._expired(cert):
            return False
        if check_key and cert.get("KeyAlgorithm", spec.key_algorithm) != spec.key_algorithm:
            return False
        return True

    def _candidates(self, summaries, spec, present=True):
        wanted = set(spec.names)
        found = []
        for summary in summaries:
            if not summary.get("CertificateArn") or not self._usable(summary, spec, present):
                continue
            names = _summary_names(summary)
            if names is not None:
                if names != wanted:
                    continue
                found.append(_Candidate(summary, True))
            elif (summary.get("DomainName") or "").lower() in wanted:
                found.append(_Candidate(summary, False))
        return found

    def _confirm(self, candidates, spec, present=True):
        """Describe the candidates whose names the list could not show; keep the exact matches."""
        wanted = set(spec.names)
        kept = []
        for cand in candidates:
            if not cand.names_known:
                cand.described = self._describe_or_none(cand.arn)
                if cand.described is None or certificate_names(cand.described) != wanted:
                    continue
                if not self._usable(cand.described, spec, present):
                    continue
            kept.append(cand)
        return kept

    def _order(self, candidates, known_tags=None):
        """Sort candidates by the deterministic preference; reads tags only for more than one."""
        if len(candidates) > 1:
            kept = []
            for cand in candidates:
                if cand.tags is None:
                    cand.tags = (known_tags or {}).get(cand.arn)
                if cand.tags is None:
                    cand.tags = self._tags_or_none(cand.arn)
                if cand.tags is None:
                    # deleted since it was listed (a concurrent run settling on another one)
                    continue
                kept.append(cand)
            candidates = kept
        return sorted(candidates, key=lambda c: c.sort_key())

    def _find_existing(self, spec):
        if self.known_certificates is not None:
            found = self._find_known(spec)
            if found[0] is not None:
                return found
        return self._choose(self.list_summaries(REUSABLE_STATUSES, [spec.key_algorithm]), spec)

    def _find_known(self, spec):
        """The certificate the play's shared listing names for ``spec``, confirmed with this host's credentials.

        The summaries are those of one ListCertificates made once for the play
        (aws_shared_listing), perhaps with another host's credentials: the same
        selection code as the host's own listing (``_choose``) picks from them,
        and the pick counts only once DescribeCertificate (the read a re-run
        makes anyway) has shown it to this host's credentials. A certificate of
        another account cannot be described: DescribeCertificate answers
        ResourceNotFoundException, "The specified certificate cannot be found in
        the caller's account" (ACM API Reference, DescribeCertificate), or the
        caller's IAM policy denies it (AccessDeniedException). Then, and when the
        hint holds no match, ``(None, None)``: the host lists on its own, as
        without the hint, so a wrong hint costs a request but never picks
        another certificate or requests a second one.
        """
        summaries = [s for s in self.known_certificates
                     if s.get("KeyAlgorithm") == spec.key_algorithm and s.get("Status") in REUSABLE_STATUSES]
        try:
            return self._choose(summaries, spec)
        except Exception as exc:  # noqa: BLE001 - only "not this account's" errors fall back
            if error_code(exc) in FOREIGN_ERRORS:
                return None, None
            raise

    def _choose(self, summaries, spec):
        candidates = self._candidates(summaries, spec)
        if len(candidates) > 1:
            candidates = self._confirm(candidates, spec)
        for cand in self._order(candidates):
            cert = cand.described or self._describe_or_none(cand.arn)
            if self._acceptable(cert, spec):
                return cert, cand.tags
        return None, None

    def _acceptable(self, cert, spec, check_key=True):
        """Whether a described certificate can be the one for ``spec``."""
        if cert is None or certificate_names(cert) != set(spec.names):
            return False
        if not self._usable(cert, spec, check_key=check_key):
            return False
        # a certificate waiting for e-mail validation would never validate through DNS
        return not (cert.get("Status") == "PENDING_VALIDATION" and _email_validated(cert))

    # ---- requesting ------------------------------------------------------

    def _read_new(self, arn, spec):
        """DescribeCertificate of a certificate just requested, until ACM shows it.

        ACM: "there is a delay of several seconds before you can retrieve
        information about the new certificate" (RequestCertificate). The same
        ARN is read again until it shows; ``None`` only when it is still
        unknown after ``visibility_timeout`` (the token's certificate is gone).
        """
        def check():
            cert = self._describe_or_none(arn)
            return cert is not None, cert if cert is not None else "not visible yet"

        try:
            cert, waited = poll_until(check, spec.visibility_timeout, "ACM to show the requested certificate %s" % arn,
                                      clock=self.clock, first_delay=1.0, max_delay=5.0, progress=self.progress,
                                      label="certificate %s" % arn)
        except LinktrackError as exc:
            self.waited += exc.details.get("waited_seconds", spec.visibility_timeout)
            return None
        self.waited += waited
        return cert

    def _request(self, spec):
        tags = [{"Key": k, "Value": v} for k, v in sorted(spec.request_tags().items())]
        salt = ""
        problems = []
        for _attempt in range(REQUEST_ATTEMPTS):
            token = idempotency_token(spec.names, spec.key_algorithm, salt)
            kwargs = {
                "DomainName": spec.domain_name,
                "ValidationMethod": "DNS",
                "IdempotencyToken": token,
                "KeyAlgorithm": spec.key_algorithm,
                "Tags": tags,
            }
            if spec.subject_alternative_names:
                # ACM wants the domain name among the alternative names too
                kwargs["SubjectAlternativeNames"] = list(spec.names)
            # throttling and 5xx are retried by AwsCaller with this same token: ACM
            # answers a token it has seen with the certificate it made for it
            arn = self._call("request_certificate", **kwargs)["CertificateArn"]
            cert = self._read_new(arn, spec)
            # the key algorithm is not checked here: the token already includes it
            if self._acceptable(cert, spec, check_key=False):
                return cert
            # the token points at a certificate that is gone (still unknown after the
            # visibility window), failed, or is for other names
            problems.append("token %s gave %s (%s)" % (
                token, arn, cert.get("Status") if cert else "unknown after %ss: deleted" % spec.visibility_timeout))
            salt = arn
        raise LinktrackError(
            "domain_name: could not request a usable certificate for %s after %d tries: %s."
            % (", ".join(spec.names), REQUEST_ATTEMPTS, "; ".join(problems)),
            field="domain_name",
            details={"attempts": problems},
        )

    def _settle(self, spec, mine):
        """After a request: if another matching certificate appeared, keep one and drop ours if it lost.

        Returns ``(certificate, tags)`` of the one kept.
        """
        mine_arn = mine["CertificateArn"]
        mine_tags = spec.request_tags()
        summaries = self.list_summaries(REUSABLE_STATUSES, [spec.key_algorithm])
        candidates = self._candidates(summaries, spec)
        if mine_arn not in [c.arn for c in candidates]:
            candidates.append(_Candidate(mine, True))  # the list may not show it yet
        for cand in candidates:
            if cand.arn == mine_arn:
                cand.described = mine
                cand.names_known = True
        if len(candidates) == 1:
            return mine, mine_tags
        candidates = self._confirm(candidates, spec)
        for cand in self._order(candidates, {mine_arn: mine_tags}):
            if cand.arn == mine_arn:
                return mine, mine_tags
            cert = cand.described or self._describe_or_none(cand.arn)
            if not self._acceptable(cert, spec):
                continue
            try:
                self._call("delete_certificate", CertificateArn=mine_arn)
                self.deleted.append(mine_arn)
            except Exception as exc:  # noqa: BLE001 - a host that shares our token may have deleted it already
                if error_code(exc) != "ResourceNotFoundException":
                    raise
            return cert, cand.tags
        return mine, mine_tags

    # ---- waiting ---------------------------------------------------------

    def _wait_for_records(self, cert, spec):
        if cert.get("Status") != "PENDING_VALIDATION" or _email_validated(cert) or _records_ready(cert):
            return cert
        state = {"cert": cert}

        def check():
            state["cert"] = self._describe(cert["CertificateArn"])
            current = state["cert"]
            if current.get("Status") != "PENDING_VALIDATION":
                return True, current
            if _records_ready(current):
                return True, current
            return False, "not filled in yet (%s)" % current.get("Status")

        try:
            value, waited = poll_until(check, spec.validation_timeout, "ACM to fill in the DNS validation records of %s"
                                       % cert["CertificateArn"], clock=self.clock, first_delay=1.0, max_delay=10.0,
                                       progress=self.progress, label="certificate %s validation records" % cert["CertificateArn"])
        except LinktrackError as exc:
            raise LinktrackError(
                "validation_timeout: ACM did not show the DNS validation records of %s within %s seconds. "
                "Raise validation_timeout or run again." % (cert["CertificateArn"], spec.validation_timeout),
                field="validation_timeout",
                details=dict(exc.details, arn=cert["CertificateArn"]),
            )
        self.waited += waited
        return value

    def _fail_for_status(self, cert, spec):
        records = validation_records(cert)
        expected = "; ".join("%s %s %s" % (r["name"], r["type"], r["value"]) for r in records) or "none shown"
        reason = cert.get("FailureReason") or "no reason given"
        raise LinktrackError(
            "Certificate %s for %s is %s (%s). The DNS validation record ACM expected: %s. "
            "Fix the cause, delete the certificate (state=absent) and run again."
            % (cert["CertificateArn"], cert.get("DomainName"), cert.get("Status"), reason, expected),
            field="certificate_arn" if spec.certificate_arn else "domain_name",
            details={"arn": cert["CertificateArn"], "status": cert.get("Status"), "failure_reason": cert.get("FailureReason"),
                     "validation_records": records},
        )

    def _wait_for_issued(self, cert, spec):
        if cert.get("Status") == "ISSUED":
            return cert
        if cert.get("Status") in FAILED_STATUSES:
            self._fail_for_status(cert, spec)
        state = {"cert": cert}

        def check():
            current = self._describe(cert["CertificateArn"])
            state["cert"] = current
            if current.get("Status") in FAILED_STATUSES:
                self._fail_for_status(current, spec)
            return current.get("Status") == "ISSUED", current.get("Status")

        try:
            _status, waited = poll_until(check, spec.wait_timeout, "certificate %s to become ISSUED" % cert["CertificateArn"],
                                         clock=self.clock, first_delay=2.0, max_delay=30.0, progress=self.progress,
                                         label="certificate %s" % cert["CertificateArn"])
        except LinktrackError as exc:
            if exc.field:
                raise
            records = validation_records(state["cert"])
            raise LinktrackError(
                "wait_timeout: certificate %s was still %s after %s seconds. Check that these DNS validation "
                "records are published: %s."
                % (cert["CertificateArn"], state["cert"].get("Status"), spec.wait_timeout,
                   "; ".join("%s %s %s" % (r["name"], r["type"], r["value"]) for r in records) or "none shown"),
                field="wait_timeout",
                details=dict(exc.details, arn=cert["CertificateArn"], validation_records=records),
            )
        self.waited += waited
        return state["cert"]

    # ---- tags ------------------------------------------------------------

    def _reconcile_tags(self, cert, spec, current):
        """Add the ``tags`` that are missing or differ; other tags are left alone."""
        if not spec.tags:
            return current
        if current is None:
            current = self._tags(cert["CertificateArn"])
        missing = dict((k, v) for k, v in spec.tags.items() if current.get(k) != v)
        if not missing:
            return current
        self.differences.add("tags", dict((k, current.get(k)) for k in sorted(missing)), dict(sorted(missing.items())))
        if not self.check_mode:
            self._call("add_tags_to_certificate", CertificateArn=cert["CertificateArn"],
                       Tags=[{"Key": k, "Value": v} for k, v in sorted(missing.items())])
        merged = dict(current)
        merged.update(missing)
        return merged

    # ---- results ---------------------------------------------------------

    def _result(self, cert, tags=None, spec=None):
        if cert is None:
            desired = spec.desired() if spec else {}
            return {
                "arn": None,
                "status": None,
                "domain_name": desired.get("domain_name"),
                "subject_alternative_names": desired.get("subject_alternative_names", []),
                "not_after": None,
                "serial": None,
                "key_algorithm": desired.get("key_algorithm"),
                "validation_records": [],
                "in_use_by": [],
                "managed": True,
                "failure_reason": None,
            }
        domain = (cert.get("DomainName") or "").lower()
        sans = sorted(n for n in certificate_names(cert) if n != domain)
        managed = None if tags is None else tags.get(MANAGED_TAG_KEY) == MANAGED_TAG_VALUE
        return {
            "arn": cert["CertificateArn"],
            "status": cert.get("Status"),
            "domain_name": domain,
            "subject_alternative_names": sans,
            "not_after": format_time(cert.get("NotAfter")),
            "serial": format_serial(cert.get("Serial")),
            "key_algorithm": cert.get("KeyAlgorithm"),
            "validation_records": validation_records(cert),
            "in_use_by": list(cert.get("InUseBy") or []),
            "managed": managed,
            "failure_reason": cert.get("FailureReason"),
        }

    def _finish(self, result):
        result["changed"] = bool(self.differences)
        result["differences"] = self.differences.as_list()
        result["diff"] = self.differences.as_diff()
        result["waited_seconds"] = round(self.waited, 3)
        result["wait_history"] = list(self.progress.history)
        result["retries"] = self.caller.retries
        result["aws_requests"] = self.caller.calls
        return result

    # ---- entry points ----------------------------------------------------

    def run(self, spec):
        if spec.state == "absent":
            return self.ensure_absent(spec)
        return self.ensure_present(spec)

    def ensure_present(self, spec):
        tags = None
        if spec.certificate_arn:
            cert = self._describe_or_none(spec.certificate_arn)
            if cert is None:
                raise LinktrackError(
                    "certificate_arn: no certificate %s exists in us-east-1 for these credentials." % spec.certificate_arn,
                    field="certificate_arn",
                )
            if spec.domain_name and spec.domain_name not in certificate_names(cert):
                raise LinktrackError(
                    "certificate_arn: %s does not cover domain_name %s (it covers %s)."
                    % (spec.certificate_arn, spec.domain_name, ", ".join(sorted(certificate_names(cert)))),
                    field="certificate_arn",
                )
        else:
            cert, tags = self._find_existing(spec)
            if cert is None:
                self.differences.add("certificate", None, spec.desired())
                if self.check_mode:
                    return self._finish(self._result(None, spec=spec))
                cert, tags = self._settle(spec, self._request(spec))

        tags = self._reconcile_tags(cert, spec, tags)
        cert = self._wait_for_records(cert, spec)
        if spec.wait:
            cert = self._wait_for_issued(cert, spec)
        return self._finish(self._result(cert, tags))

    def ensure_absent(self, spec):
        summaries = None
        if spec.certificate_arn:
            cert = self._describe_or_none(spec.certificate_arn)
            targets = [cert] if cert is not None else []
        else:
            summaries = self.list_summaries(None, ALL_KEY_TYPES)
            candidates = self._confirm(self._candidates(summaries, spec, present=False), spec, present=False)
            targets = []
            for cand in candidates:
                cert = cand.described or self._describe_or_none(cand.arn)
                if cert is not None and certificate_names(cert) == set(spec.names):
                    targets.append(cert)
        if not targets:
            return self._finish({"deleted": [], "arn": None, "status": None, "validation_records": [],
                                 "validation_records_in_use": []})

        # users that still exist refuse the delete at once, before anything is deleted
        blocked = []
        for cert in targets:
            living = self._living_users(cert.get("InUseBy") or [], spec)
            if living:
                blocked.append((cert["CertificateArn"], living))
        if blocked:
            raise self._in_use_error(blocked)
        untagged = []
        if not spec.force:
            for cert in targets:
                tags = self._tags(cert["CertificateArn"])
                if tags.get(MANAGED_TAG_KEY) != MANAGED_TAG_VALUE:
                    untagged.append(cert)
        if untagged:
            raise LinktrackError(
                "force: %s %s not tagged %s=%s, so this collection did not request %s. Set force: true to "
                "delete %s anyway."
                % (", ".join(c["CertificateArn"] for c in untagged), "is" if len(untagged) == 1 else "are",
                   MANAGED_TAG_KEY, MANAGED_TAG_VALUE, "it" if len(untagged) == 1 else "them",
                   "it" if len(untagged) == 1 else "them"),
                field="force",
                details={"untagged": [c["CertificateArn"] for c in untagged]},
            )

        records, in_use_records = self._records_still_needed(targets, summaries)
        before = [{"arn": c["CertificateArn"], "domain_name": (c.get("DomainName") or "").lower(), "status": c.get("Status")}
                  for c in targets]
        self.differences.add("certificates", before, [])
        for cert in targets:
            if self.check_mode:
                self.deleted.append(cert["CertificateArn"])
                continue
            if self._delete(cert, spec):
                self.deleted.append(cert["CertificateArn"])
        first = targets[0]
        return self._finish({"deleted": list(self.deleted), "arn": first["CertificateArn"] if len(targets) == 1 else None,
                             "status": None, "validation_records": records, "validation_records_in_use": in_use_records})

    # ---- state=absent: users and shared records ----------------------------

    def _distribution_gone(self, dist_id, spec):
        """Whether the CloudFront distribution no longer exists (or the caller deleted it)."""
        if dist_id in spec.deleted_distributions:
            return True
        if self.cloudfront is None:
            return False
        if self._cloudfront_client is None:
            self._cloudfront_client = self.cloudfront()
        try:
            self.caller(self._cloudfront_client.get_distribution, Id=dist_id)
        except Exception as exc:  # noqa: BLE001 - only "no such distribution" means gone
            if error_code(exc) == "NoSuchDistribution":
                return True
            raise
        return False

    def _living_users(self, users, spec):
        """The entries of ``InUseBy`` that still exist.

        Only a CloudFront distribution can be proven gone (GetDistribution
        answers NoSuchDistribution, or the caller deleted it); ACM keeps listing
        such a distribution for minutes. Anything else counts as existing.
        """
        living = []
        for user in users:
            if user not in self._gone:
                match = _DISTRIBUTION_ARN_RE.match(user)
                self._gone[user] = bool(match) and self._distribution_gone(match.group(1), spec)
            if not self._gone[user]:
                living.append(user)
        return living

    @staticmethod
    def _in_use_error(blocked):
        return LinktrackError(
            "state=absent: will not delete a certificate that is in use: %s. Detach it from these "
            "resources first (for CloudFront: point the distribution at another certificate or delete it)."
            % "; ".join("%s is used by %s" % (arn, ", ".join(users)) for arn, users in blocked),
            field="state",
            details={"in_use_by": dict((arn, list(users)) for arn, users in blocked)},
        )

    def _in_use_left(self, spec):
        """Seconds left of ``in_use_timeout``, which all waits of one run share."""
        if self._in_use_start is None:
            self._in_use_start = self.clock.now()
        return spec.in_use_timeout - (self.clock.now() - self._in_use_start)

    def _wait_until_unused(self, arn, spec):
        """Wait until ACM lists no user of the certificate; every user it lists must be gone.

        Returns the described certificate, or ``None`` when it was deleted meanwhile.
        """
        state = {"cert": None}

        def check():
            current = self._describe_or_none(arn)
            state["cert"] = current
            if current is None:
                return True, "deleted"
            users = list(current.get("InUseBy") or [])
            living = self._living_users(users, spec)
            if living:
                raise self._in_use_error([(arn, living)])
            return not users, ("in use by %s" % ", ".join(users)) if users else "no longer in use"

        left = self._in_use_left(spec)
        try:
            if left <= 0:
                raise LinktrackError("in_use_timeout passed", details={"waited_seconds": 0.0})
            _value, waited = poll_until(check, left, "ACM to drop the deleted distributions from InUseBy of %s" % arn,
                                        clock=self.clock, first_delay=5.0, max_delay=30.0, progress=self.progress,
                                        label="certificate %s" % arn)
        except LinktrackError as exc:
            if exc.field:
                raise
            self.waited += exc.details.get("waited_seconds", 0.0)
            users = ((state["cert"] or {}).get("InUseBy")) or []
            raise LinktrackError(
                "in_use_timeout: ACM still lists %s as in use by %s after %s seconds, though %s no longer exist%s. "
                "ACM is known to take 10 to 20 minutes to forget a deleted CloudFront distribution; run the teardown "
                "again later, or raise in_use_timeout." % (arn, ", ".join(users) or "a resource", spec.in_use_timeout,
                                                           "they" if len(users) != 1 else "it",
                                                           "" if len(users) != 1 else "s"),
                field="in_use_timeout",
                details={"in_use_by": {arn: list(users)}, "waited_seconds": round(self.waited, 3),
                         "wait_history": list(self.progress.history)},
            )
        self.waited += waited
        return state["cert"]

    def _delete(self, cert, spec):
        """Delete one certificate, waiting out users that are gone. True when this call deleted it."""
        arn = cert["CertificateArn"]
        if cert.get("InUseBy") and self._wait_until_unused(arn, spec) is None:
            return False
        delay = 2.0
        while True:
            try:
                self._call("delete_certificate", CertificateArn=arn)
                return True
            except Exception as exc:  # noqa: BLE001
                code = error_code(exc)
                if code == "ResourceNotFoundException":
                    return False
                if code != "ResourceInUseException":
                    raise
            # ACM refused: it still counts a user, maybe one its InUseBy does not show yet
            current = self._describe_or_none(arn)
            if current is None:
                return False
            if current.get("InUseBy"):
                if self._wait_until_unused(arn, spec) is None:
                    return False
                continue
            left = self._in_use_left(spec)
            if left <= 0:
                raise LinktrackError(
                    "in_use_timeout: ACM kept refusing to delete %s (ResourceInUseException) for %s seconds, "
                    "though it lists no user. Run the teardown again later, or raise in_use_timeout."
                    % (arn, spec.in_use_timeout),
                    field="in_use_timeout",
                    details={"in_use_by": {arn: []}, "waited_seconds": round(self.waited, 3)},
                )
            pause = min(delay, left)
            self.progress.poll("certificate %s" % arn, "delete refused: in use", spec.in_use_timeout - left + pause,
                               spec.in_use_timeout)
            self.clock.sleep(pause)
            self.waited += pause
            delay = min(delay * 1.6, 30.0)

    def _records_still_needed(self, targets, summaries):
        """The validation records of ``targets``, and those another certificate still needs.

        ACM uses one validation CNAME for every certificate of a name in one
        account, so a record stays while a certificate that is not being
        deleted and has not failed covers its name. Returns ``(records,
        in_use)``; each entry of ``in_use`` names those certificates in
        ``needed_by``.
        """
        records = []
        for cert in targets:
            for record in validation_records(cert):
                if record["name"] not in [r["name"] for r in records]:
                    records.append(record)
        if not records:
            return records, []
        if summaries is None:
            summaries = self.list_summaries(None, ALL_KEY_TYPES)
        gone = set(c["CertificateArn"] for c in targets)
        domains = set(_record_domain(r["domain_name"]) for r in records)
        needed = {}
        for summary in summaries:
            arn = summary.get("CertificateArn")
            if not arn or arn in gone or summary.get("Status") in FAILED_STATUSES:
                continue
            names = _summary_names(summary)
            if names is None:
                # the summary cannot tell every name: its DomainName may already match, else ask
                names = set([(summary.get("DomainName") or "").lower()])
                if not set(_record_domain(n) for n in names) & domains:
                    described = self._describe_or_none(arn)
                    if described is None or described.get("Status") in FAILED_STATUSES:
                        continue
                    names = certificate_names(described)
            for domain in set(_record_domain(n) for n in names) & domains:
                needed.setdefault(domain, []).append(arn)
        in_use = []
        for record in records:
            users = needed.get(_record_domain(record["domain_name"]))
            if users:
                in_use.append(dict(record, needed_by=sorted(users)))
        return records, in_use


def known_certificates(value):
    """The ``known_certificates`` option checked: ``None``, or a list of ListCertificates summaries."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, dict) and isinstance(s.get("CertificateArn"), str)
                                              for s in value):
        raise LinktrackError("known_certificates: must be the certificates list of linktrack.https.aws_shared_listing "
                             "(summaries with CertificateArn), or left out.", field="known_certificates")
    return value


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``acm_dns_certificate`` does with its validated ``params``.

    The module's ``main()`` and the action plugin that runs it inside the worker
    process both call this, so the module's behaviour exists once.
    ``client_factory(service)`` returns a boto3 client. ``progress`` is a
    callable that takes one line of text: every poll of a wait is reported
    there (``<domain>: certificate <arn> PENDING_VALIDATION, 1m10s of 10m``).
    Returns the result dict; a failure is a dict with ``failed: true`` and
    ``msg``.
    """
    caller = new_caller()
    tracker = Progress(report=progress, subject=str(params.get("domain_name") or "").strip().rstrip(".").lower())
    try:
        check_region(params, "acm_dns_certificate")
        spec = build_spec(params)
        if spec.domain_name:
            tracker.subject = spec.domain_name
        manager = AcmCertificateManager(client_factory("acm"), caller, check_mode=check_mode, progress=tracker,
                                        cloudfront=lambda: client_factory("cloudfront"),
                                        known_certificates=known_certificates(params.get("known_certificates")))
        result = manager.run(spec)
    except Exception as exc:  # noqa: BLE001 - one failed result for every error (result_from_exception)
        return result_from_exception(exc, {"retries": caller.retries, "aws_requests": caller.calls,
                                           "wait_history": list(tracker.history)}, caller)
    diff_data = result.pop("diff")
    if diff:
        result["diff"] = diff_data
    return result
