# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""acm: AWS's behaviour in the emulator (see realism.py).

Patches moto's ACM in the daemon process so that an AMAZON_ISSUED certificate
behaves as ACM documents it (sandbox/README.md, "AWS's behaviour", lists
each rule with its source):

1. unknown for ``acm_unknown`` after RequestCertificate: DescribeCertificate,
   GetCertificate and ListTagsForCertificate answer ResourceNotFoundException,
   ListCertificates leaves it out ("there is a delay of several seconds before
   you can retrieve information about the new certificate", RequestCertificate
   API reference). The edge stand-in reads moto's backend directly and still
   sees it;
2. ``DomainValidationOptions[].ResourceRecord`` only ``acm_records`` after the
   request (aws-cdk 18033: the options come first, their records later);
3. one validation CNAME per name, derived from the account and the name, so
   certificates for one name share it (ACM DNS validation guide);
4. ISSUED only ``acm_issue_after_dns`` after every name's validation CNAME was
   first seen right on the sandbox's authoritative name servers (BIND and the
   Route 53 stand-in, asked directly), checked by one background thread every
   ``PROBE_INTERVAL`` while certificates wait (and when one is read), each
   certificate every 0.25 s at first, then less often, up to every second
   (shorter below time scale 1, never under 0.1 s; less often when more
   than ten wait at once);
5. VALIDATION_TIMED_OUT when not every record answered by ``acm_validation_timeout``;
6. FAILED with FailureReason CAA_ERROR when, at issue time, the closest CAA
   record set of a name allows none of Amazon's CAs (ACM guide "Set up CAA");
7. InUseBy: the CloudFront distributions whose ViewerCertificate names the
   certificate, and a deleted one for ``acm_in_use_linger`` after its deletion
   (terraform-provider-aws 3866, PR 3868; serverless-domain-manager 32);
   DeleteCertificate answers ResourceInUseException while InUseBy is not empty;
8. ``ManagedBy`` from RequestCertificate's ManagedBy parameter (CLOUDFRONT);
9. ListCertificates without ``Includes.keyTypes`` lists only RSA_1024 and
   RSA_2048 certificates (Filters API reference); RequestCertificate's
   KeyAlgorithm (RSA_2048, EC_prime256v1, EC_secp384r1) gives the key it names.
10. RenewalEligibility ELIGIBLE for an ISSUED certificate that InUseBy shows in use
   (moto says INELIGIBLE always); with the renewal hook ``<state>/acm-renewal.json``
   a certificate approaches expiry and ACM's managed renewal shows in
   RenewalSummary (see ``RenewalHook``).
Also: GetCertificate of a certificate that is not ISSUED answers
RequestInProgressException (GetCertificate API reference), and a certificate
that is not ISSUED has no Serial, NotBefore, NotAfter or IssuedAt.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import logging
import os
import threading
import time

from . import ca

_LOG = logging.getLogger("sandbox.realism.acm")

PROBE_INTERVAL = 0.25
MAX_PROBE_INTERVAL = 1.0
MIN_PROBE_INTERVAL = 0.1  # the floor when SANDBOX_AWS_TIME_SCALE makes the intervals smaller
DNS_TIMEOUT = 0.5
DEFAULT_KEY_TYPES = ("RSA_1024", "RSA_2048")
# RequestCertificate API reference: "Algorithms supported for an ACM certificate request include: RSA_2048, EC_prime256v1, EC_secp384r1".
REQUEST_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")
AMAZON_CAA_DOMAINS = ("amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com")
_NOT_ISSUED_FIELDS = ("Serial", "NotBefore", "NotAfter", "IssuedAt")
_ATTR = "sandbox_realism"
_MARK = "sandbox_realism_acm"
# RequestCertificate's parameters that moto's backend call does not take, for the thread serving the request.
_REQUEST = threading.local()


def normalize(name):
    return name.strip().lower().rstrip(".")


def validation_base(name):
    """The name whose validation record covers ``name``: a wildcard's is the name without ``*.``."""
    name = normalize(name)
    return name[2:] if name.startswith("*.") else name


def validation_record(account_id, name):
    """The (record name, CNAME value) ACM gives ``name`` in ``account_id``: the same for every certificate with that name.

    ACM's shape: ``_<32 hex>.<name>.`` CNAME ``_<32 hex>.<10 letters>.acm-validations.aws.``
    (DNS validation, ACM User Guide). The hex strings come from a hash of the
    account and the name here.
    """
    base = validation_base(name)
    digest = hashlib.sha256(("%s\0%s" % (account_id, base)).encode("utf-8")).digest()
    value_digest = hashlib.sha256(b"value\0" + digest).digest()
    letters = "".join(chr(ord("a") + byte % 26) for byte in value_digest[16:26])
    return "_%s.%s." % (digest[:16].hex(), base), "_%s.%s.acm-validations.aws." % (value_digest[:16].hex(), letters)


class CertState:
    """What the realistic ACM knows of one requested certificate. Guarded by ``lock``."""

    def __init__(self, requested):
        self.lock = threading.Lock()
        self.requested = requested
        self.last_probe = None
        self.seen = {}          # validation record name -> when first seen right
        self.outcome = None     # None (pending), "ISSUED", "FAILED", "VALIDATION_TIMED_OUT"
        self.decided = None
        self.decided_at = None  # wall clock (epoch seconds), for IssuedAt
        self.caa_failed = set()  # names whose CAA allows no Amazon CA
        self.managed_by = None
        self.renewed_not_after = None  # epoch seconds, once the renewal hook's managed renewal succeeded
        self.renewal_summary = None


# ACM User Guide, "Renewal for domains validated by DNS" (dns-renewal-validation.html): ACM begins
# renewing up to 60 days before a certificate expires; ACM User Guide, "ACM concepts" (acm-concepts.html,
# "ACM certificate"): each certificate is valid for 13 months (395 days).
RENEWAL_WINDOW_DAYS = 60
RENEWED_VALIDITY_DAYS = 395
RENEWAL_FILE = "acm-renewal.json"


class RenewalHook:
    """``<state>/acm-renewal.json``: make certificates approach expiry, to exercise managed renewal.

    ``{"links.example.com": {"not_after_days": 20, "renewal_status": "auto"}}`` (keys: the
    certificate's DomainName). For such an ISSUED certificate DescribeCertificate answers NotAfter
    ``not_after_days`` from now and, inside the 60-day renewal window, a RenewalSummary:

    - ``auto`` (the default) decides as ACM does: when the certificate is in use (ELIGIBLE) and every
      validation CNAME answers right on the authoritative servers, the renewal succeeds (SUCCESS,
      and from then on NotAfter is 395 days after the renewal); otherwise PENDING_VALIDATION, the
      names whose CNAME does not answer PENDING_VALIDATION in RenewalSummary.DomainValidationOptions;
    - any RenewalStatus (PENDING_AUTO_RENEWAL, PENDING_VALIDATION, SUCCESS, FAILED) is reported as given
      (FAILED with ``renewal_status_reason``, default OTHER), NotAfter unchanged.

    Sources: RenewalSummary API reference (the four RenewalStatus values, DomainValidationOptions,
    RenewalStatusReason, UpdatedAt); ACM User Guide "Managed certificate renewal" (ELIGIBLE when
    associated with another AWS service such as CloudFront) and "Renewal for domains validated by DNS"
    (automatic while the CNAME is in place). The file is read again whenever it changes; an entry
    removed ends its effect, except a renewal that already succeeded.
    """

    def __init__(self, path, clock=time.time):
        self.path = path
        self.clock = clock
        self._stamp = None
        self._entries = {}
        self._lock = threading.Lock()

    def entries(self):
        with self._lock:
            try:
                stamp = os.stat(self.path).st_mtime_ns if self.path else None
            except OSError:
                stamp = None
            if stamp != self._stamp:
                self._stamp = stamp
                self._entries = {}
                if stamp is not None:
                    try:
                        with open(self.path) as stream:
                            data = json.load(stream)
                        self._entries = dict((normalize(k), v) for k, v in data.items() if isinstance(v, dict))
                    except (OSError, ValueError, AttributeError) as exc:
                        _LOG.warning("%s: %s; no renewal hook", self.path, exc)
            return self._entries

    def apply(self, cert, state, in_use, cname_answers):
        """Change DescribeCertificate's ``cert`` (ISSUED, AMAZON_ISSUED) by the hook's entry."""
        now = self.clock()
        if state.renewed_not_after is not None:
            cert["NotAfter"] = state.renewed_not_after
            cert["RenewalSummary"] = dict(state.renewal_summary)
            return
        entry = self.entries().get(normalize(cert.get("DomainName") or ""))
        if not entry:
            return
        days = float(entry.get("not_after_days", 20))
        cert["NotAfter"] = now + days * 86400
        if days > RENEWAL_WINDOW_DAYS:
            return
        wanted = entry.get("renewal_status", "auto")
        options = []
        pending = False
        for option in cert.get("DomainValidationOptions") or []:
            record = option.get("ResourceRecord") or {}
            answers = bool(record) and cname_answers(record.get("Name"), record.get("Value"))
            pending = pending or not answers
            renewed = dict(option, ValidationStatus="SUCCESS" if answers else "PENDING_VALIDATION")
            options.append(renewed)
        summary = {"DomainValidationOptions": options, "UpdatedAt": now}
        if wanted == "auto":
            if in_use and not pending:
                state.renewed_not_after = now + RENEWED_VALIDITY_DAYS * 86400
                state.renewal_summary = dict(summary, RenewalStatus="SUCCESS")
                cert["NotAfter"] = state.renewed_not_after
                summary = state.renewal_summary
                _LOG.info("%s: renewed (managed renewal, validation CNAME answers)", cert.get("CertificateArn"))
            elif in_use:
                summary["RenewalStatus"] = "PENDING_VALIDATION"
            else:
                return  # INELIGIBLE: ACM does not renew a certificate that is not in use
        else:
            summary["RenewalStatus"] = wanted
            if wanted == "FAILED":
                summary["RenewalStatusReason"] = entry.get("renewal_status_reason", "OTHER")
        cert["RenewalSummary"] = summary


class Dns:
    """Direct questions to the sandbox's authoritative name servers (no system resolver)."""

    def __init__(self, host, ports, timeout=DNS_TIMEOUT):
        self.host = host
        self.ports = list(ports)
        self.timeout = timeout

    def rrsets(self, name, rdtype):
        """The answer RRsets of type ``rdtype`` for ``name`` from every server that answers NOERROR."""
        # pylint: disable=import-outside-toplevel
        import dns.exception
        import dns.flags
        import dns.message
        import dns.name
        import dns.query
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype
        qname = dns.name.from_text(name if name.endswith(".") else name + ".")
        kind = dns.rdatatype.from_text(rdtype)
        found = []
        for port in self.ports:
            query = dns.message.make_query(qname, kind)
            try:
                response = dns.query.udp(query, self.host, port=port, timeout=self.timeout)
                if response.flags & dns.flags.TC:
                    response = dns.query.tcp(query, self.host, port=port, timeout=self.timeout)
            except (dns.exception.DNSException, OSError) as exc:
                _LOG.debug("%s %s on port %s: %s", name, rdtype, port, exc)
                continue
            if response.rcode() != dns.rcode.NOERROR:
                continue
            rrset = response.get_rrset(response.answer, qname, dns.rdataclass.IN, kind)
            if rrset:
                found.append(rrset)
        return found

    def cname_is(self, name, value):
        want = normalize(value)
        return any(normalize(rdata.target.to_text()) == want for rrset in self.rrsets(name, "CNAME") for rdata in rrset)

    def caa_allows_amazon(self, name):
        """RFC 8659 lookup: the closest CAA set on ``name`` or a parent decides; no set at all allows every CA."""
        wildcard = normalize(name).startswith("*.")
        labels = validation_base(name).split(".")
        for index in range(len(labels) - 1):
            candidate = ".".join(labels[index:])
            records = [rdata for rrset in self.rrsets(candidate, "CAA") for rdata in rrset]
            if not records:
                continue
            tags = [(rdata.tag.decode("ascii", "replace").lower(), rdata.value.decode("utf-8", "replace")) for rdata in records]
            # A wildcard follows issuewild when the set has any, else issue; other names follow issue.
            # No property of the kind that applies restricts nothing (iodef alone, say).
            kind = "issuewild" if wildcard and any(tag == "issuewild" for tag, _value in tags) else "issue"
            relevant = [value for tag, value in tags if tag == kind]
            if not relevant:
                return True
            return any(normalize(value.split(";", 1)[0]) in AMAZON_CAA_DOMAINS for value in relevant)
        return True


class Prober:
    """One background thread that moves waiting certificates on, like ACM's own DNS checks; asleep while none waits."""

    def __init__(self, realism, interval=PROBE_INTERVAL):
        self.realism = realism
        self.interval = interval
        self._lock = threading.Lock()
        self._waiting = {}
        self._wake = threading.Event()
        self._thread = None

    def add(self, bundle):
        with self._lock:
            self._waiting[bundle.arn] = bundle
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="acm-validation", daemon=True)
                self._thread.start()
        self._wake.set()

    def count(self):
        """How many certificates wait for their validation records."""
        return len(self._waiting)

    def _run(self):
        while True:
            with self._lock:
                bundles = list(self._waiting.values())
            if not bundles:
                self._wake.wait()
                self._wake.clear()
                continue
            for bundle in bundles:
                try:
                    if _exists(bundle):
                        self.realism.evaluate(bundle)
                except Exception:  # pylint: disable=broad-except
                    _LOG.exception("%s: validation check failed", bundle.arn)
                if bundle.status != "PENDING_VALIDATION" or not _exists(bundle):
                    with self._lock:
                        self._waiting.pop(bundle.arn, None)
            time.sleep(self.interval)


def _exists(bundle):
    """True while the certificate is still in its backend (not deleted, no reset since)."""
    from moto.acm.models import acm_backends  # pylint: disable=import-outside-toplevel
    parts = bundle.arn.split(":")
    try:
        return acm_backends[parts[4]][parts[3]]._certificates.get(bundle.arn) is bundle  # pylint: disable=protected-access
    except KeyError:
        return False


class AcmRealism:
    """The rules above, around moto's CertBundle and backends. One per daemon."""

    def __init__(self, windows, dns_client, clock=time.monotonic, renewal=None):
        self.windows = windows
        self.dns = dns_client
        self.renewal = renewal or RenewalHook(None)
        self.clock = clock
        # Below scale 1 the checks come more often too (benchmarks), never more than every MIN_PROBE_INTERVAL.
        shrink = min(1.0, getattr(windows, "scale", 1.0))
        self.probe_interval = max(MIN_PROBE_INTERVAL, PROBE_INTERVAL * shrink)
        self.max_probe_interval = max(0.5, MAX_PROBE_INTERVAL * shrink)
        self.prober = Prober(self, self.probe_interval)

    # ---- state -------------------------------------------------------------

    @staticmethod
    def state(bundle):
        return getattr(bundle, _ATTR, None)

    def hidden(self, bundle):
        """True while a new certificate is still unknown to the API."""
        state = self.state(bundle)
        return state is not None and self.clock() < state.requested + self.windows.acm_unknown

    def records_ready(self, state):
        return self.clock() >= state.requested + self.windows.acm_records

    @staticmethod
    def names(bundle):
        names = []
        for name in ([bundle.common_name] if bundle.common_name else []) + list(bundle.sans):
            if name not in names:
                names.append(name)
        return names

    def records(self, bundle):
        account = bundle.arn.split(":")[4]
        return dict((name, validation_record(account, name)) for name in self.names(bundle))

    # ---- status --------------------------------------------------------------

    def evaluate(self, bundle):
        """Move a PENDING_VALIDATION certificate on, from what DNS answers now. Thread-safe, throttled."""
        state = self.state(bundle)
        if state is None or bundle.status != "PENDING_VALIDATION":
            return
        # Another thread checking this certificate now decides for this read too: reads never queue behind DNS.
        if not state.lock.acquire(blocking=False):  # pylint: disable=consider-using-with
            return
        try:
            self._evaluate(bundle, state)
        finally:
            state.lock.release()

    def _evaluate(self, bundle, state):
        if state.outcome is not None:
            bundle.status = state.outcome
            return
        now = self.clock()
        if not self.records_ready(state):
            return
        # Probes thin out as a certificate waits (ACM itself checks every few minutes), so
        # many waiting certificates do not flood the name servers.
        # With many waiting at once (benchmarks), each is checked less often: about 200 DNS questions a second at most.
        crowd = max(1.0, self.prober.count() / 10.0)
        interval = min(self.max_probe_interval, self.probe_interval + 0.05 * (now - state.requested)) * crowd
        if state.last_probe is not None and now - state.last_probe < interval:
            return
        state.last_probe = now
        wanted = dict(self.records(bundle).values())
        for record_name, value in wanted.items():
            if record_name not in state.seen and self.dns.cname_is(record_name, value):
                state.seen[record_name] = self.clock()
                _LOG.info("%s: validation record %s answers", bundle.arn, record_name)
        now = self.clock()
        if len(state.seen) == len(wanted):
            if now >= max(state.seen.values()) + self.windows.acm_issue_after_dns:
                state.caa_failed = set(name for name in self.names(bundle) if not self.dns.caa_allows_amazon(name))
                self._decide(bundle, state, "FAILED" if state.caa_failed else "ISSUED")
        elif now >= state.requested + self.windows.acm_validation_timeout:
            self._decide(bundle, state, "VALIDATION_TIMED_OUT")

    def _decide(self, bundle, state, outcome):
        state.outcome = outcome
        state.decided = self.clock()
        state.decided_at = time.time()
        bundle.status = outcome
        _LOG.info("%s: %s%s", bundle.arn, outcome, " (CAA_ERROR: %s)" % ", ".join(sorted(state.caa_failed)) if state.caa_failed else "")

    # ---- describe ------------------------------------------------------------

    def reshape(self, bundle, described):
        """DescribeCertificate's dict as ACM would answer it now."""
        cert = described["Certificate"]
        cert["InUseBy"] = self.in_use_by(bundle)
        state = self.state(bundle)
        if state is None:
            return described
        if state.managed_by:
            cert["ManagedBy"] = state.managed_by
        if bundle.status != "ISSUED":
            for field in _NOT_ISSUED_FIELDS:
                cert.pop(field, None)
        elif state.decided_at is not None:
            cert["IssuedAt"] = state.decided_at
        if bundle.status == "FAILED" and state.caa_failed:
            cert["FailureReason"] = "CAA_ERROR"
        if bundle.status == "ISSUED":
            # ACM User Guide, "Managed certificate renewal": ELIGIBLE if associated with another AWS service
            # such as CloudFront (moto answers INELIGIBLE for every certificate)
            cert["RenewalEligibility"] = "ELIGIBLE" if cert["InUseBy"] else "INELIGIBLE"
        records = self.records(bundle)
        ready = self.records_ready(state)
        options = []
        for name in self.names(bundle):
            record_name, value = records[name]
            option = {"DomainName": name, "ValidationDomain": name, "ValidationMethod": "DNS",
                      "ValidationStatus": self._name_status(bundle, state, name, record_name)}
            if ready:
                option["ResourceRecord"] = {"Name": record_name, "Type": "CNAME", "Value": value}
            options.append(option)
        cert["DomainValidationOptions"] = options
        if bundle.status == "ISSUED" and ready:
            self.renewal.apply(cert, state, bool(cert["InUseBy"]), self.dns.cname_is)
        return described

    def _name_status(self, bundle, state, name, record_name):
        if name in state.caa_failed:
            return "FAILED"
        seen = state.seen.get(record_name)
        if bundle.status == "ISSUED" or (seen is not None and self.clock() >= seen + self.windows.acm_issue_after_dns):
            return "SUCCESS"
        if bundle.status in ("VALIDATION_TIMED_OUT", "FAILED"):
            return "FAILED"
        return "PENDING_VALIDATION"

    # ---- in use --------------------------------------------------------------

    def in_use_by(self, bundle):
        """moto's own list, the distributions naming the certificate, and the lingering deleted ones."""
        # pylint: disable=import-outside-toplevel
        from moto.cloudfront.models import cloudfront_backends
        users = list(bundle.in_use_by)
        account = bundle.arn.split(":")[4]
        try:
            backend = cloudfront_backends[account]["aws"]
        except KeyError:
            return users
        for dist in backend.distributions.copy().values():  # a copy: other threads create and delete
            if _certificate_of(dist) == bundle.arn and dist.arn not in users:
                users.append(dist.arn)
        now = self.clock()
        for cert_arn, dist_arn, deleted in list(getattr(backend, "sandbox_deleted_users", [])):
            if cert_arn == bundle.arn and now < deleted + self.windows.acm_in_use_linger and dist_arn not in users:
                users.append(dist_arn)
        return users


def _certificate_of(dist):
    try:
        return dist.distribution_config.ViewerCertificate.acm_certificate_arn or None
    except AttributeError:
        return None


def _error(code, message):
    from moto.core.exceptions import AWSError  # pylint: disable=import-outside-toplevel
    return AWSError(message, exception_type=code)


def _wrap(cls, name, make):
    """Replace ``cls.name`` by ``make(original)``, once (a second install leaves the first in place)."""
    original = getattr(cls, name)
    if getattr(original, _MARK, False):
        return
    wrapped = make(original)
    wrapped.__name__ = original.__name__
    wrapped.__doc__ = original.__doc__
    setattr(wrapped, _MARK, True)
    setattr(cls, name, wrapped)


def install(windows, context):
    """Patch moto's acm backend with AWS's behaviour (see realism.py)."""
    # pylint: disable=import-outside-toplevel
    from moto.acm import models, responses
    from moto.cloudfront.models import CloudFrontBackend
    config = context["config"]
    renewal = RenewalHook(os.path.join(config["state_dir"], RENEWAL_FILE)) if config.get("state_dir") else None
    realism = AcmRealism(windows, Dns(config["host"], (config["ports"]["bind"], config["ports"]["r53dns"])), renewal=renewal)
    context["acm_realism"] = realism
    _patch_bundle(models.CertBundle, realism)
    _patch_backend(models, realism)
    _patch_responses(responses.AWSCertificateManagerResponse, models, realism)
    _patch_cloudfront(CloudFrontBackend, realism)
    return realism


def _patch_bundle(bundle_cls, realism):
    def make_check(original):
        def check(self):
            if realism.state(self) is None:
                return original(self)
            if self.status == "ISSUED":
                # moto's own check, for expiry only (its timed ISSUED applies to PENDING_VALIDATION).
                return original(self)
            return realism.evaluate(self)
        return check

    def make_describe(original):
        def describe(self):
            return realism.reshape(self, original(self))
        return describe
    _wrap(bundle_cls, "check", make_check)
    _wrap(bundle_cls, "describe", make_describe)


def _patch_backend(models, realism):
    backend_cls = models.AWSCertificateManagerBackend

    def make_request(original):
        def request_certificate(self, domain_name, idempotency_token, subject_alt_names, tags, *args, **kwargs):
            known = set(self._certificates)  # pylint: disable=protected-access
            arn = original(self, domain_name, idempotency_token, subject_alt_names, tags, *args, **kwargs)
            bundle = self._certificates[arn]  # pylint: disable=protected-access
            if arn not in known and bundle.type == "AMAZON_ISSUED" and realism.state(bundle) is None:
                state = CertState(realism.clock())
                state.managed_by = getattr(_REQUEST, "managed_by", None)
                setattr(bundle, _ATTR, state)
                realism.prober.add(bundle)
            return arn
        return request_certificate

    def make_list(original):
        def list_certificates(self, statuses, includes):
            includes = dict(includes or {})
            includes.setdefault("keyTypes", list(DEFAULT_KEY_TYPES))
            for bundle in original(self, statuses, includes):
                if not realism.hidden(bundle):
                    yield bundle
        return list_certificates

    def make_describe(original):
        def describe_certificate(self, arn):
            bundle = original(self, arn)
            if realism.hidden(bundle):
                raise models.CertificateNotFound(arn=arn, account_id=self.account_id)
            return bundle
        return describe_certificate

    def make_delete(original):
        def delete_certificate(self, arn):
            bundle = self._certificates.get(arn)  # pylint: disable=protected-access
            if bundle is not None:
                users = realism.in_use_by(bundle)
                if users:
                    raise _error("ResourceInUseException", "Certificate %s in account %s is in use by %s." % (
                        arn, self.account_id, ", ".join(users)))
            return original(self, arn)
        return delete_certificate

    _wrap(backend_cls, "request_certificate", make_request)
    _wrap(backend_cls, "list_certificates", make_list)
    _wrap(backend_cls, "describe_certificate", make_describe)
    _wrap(backend_cls, "delete_certificate", make_delete)


def _patch_responses(response_cls, models, realism):
    def visible(response):
        """The bundle of the request's CertificateArn, or ResourceNotFoundException while it is unknown."""
        arn = response._get_param("CertificateArn")  # pylint: disable=protected-access
        backend = response.acm_backend
        bundle = backend.get_certificate(arn) if arn else None
        if bundle is not None and realism.hidden(bundle):
            raise models.CertificateNotFound(arn=arn, account_id=backend.account_id)
        return bundle

    def make_get(original):
        def get_certificate(self):
            bundle = visible(self)
            if bundle is not None and realism.state(bundle) is not None and bundle.status != "ISSUED":
                raise _error("RequestInProgressException", "The certificate request is in process and the certificate "
                             "in your account has not yet been issued.")
            return original(self)
        return get_certificate

    def make_tags(original):
        def list_tags_for_certificate(self):
            visible(self)
            return original(self)
        return list_tags_for_certificate

    def make_request(original):
        def request_certificate(self):
            managed_by = self._get_param("ManagedBy")  # pylint: disable=protected-access
            if managed_by is not None and managed_by != "CLOUDFRONT":
                raise _error("ValidationException", "Value '%s' at 'managedBy' failed to satisfy constraint: "
                             "Member must satisfy enum value set: [CLOUDFRONT]" % managed_by)
            key_algorithm = self._get_param("KeyAlgorithm")  # pylint: disable=protected-access
            if key_algorithm is not None and key_algorithm not in REQUEST_KEY_ALGORITHMS:
                raise _error("ValidationException", "Value '%s' at 'keyAlgorithm' failed to satisfy constraint: a certificate "
                             "request takes one of %s; other algorithms are for imported certificates only"
                             % (key_algorithm, ", ".join(REQUEST_KEY_ALGORITHMS)))
            _REQUEST.managed_by = managed_by
            try:
                with ca.requested_key_algorithm(key_algorithm):
                    return original(self)
            finally:
                _REQUEST.managed_by = None
        return request_certificate

    _wrap(response_cls, "get_certificate", make_get)
    _wrap(response_cls, "list_tags_for_certificate", make_tags)
    _wrap(response_cls, "request_certificate", make_request)


def _patch_cloudfront(backend_cls, realism):
    def make_delete(original):
        def delete_distribution(self, distribution_id, *args, **kwargs):
            dist = self.distributions.get(distribution_id)
            cert_arn = _certificate_of(dist) if dist is not None else None
            dist_arn = dist.arn if dist is not None else None
            result = original(self, distribution_id, *args, **kwargs)
            if cert_arn:
                deleted = getattr(self, "sandbox_deleted_users", None)
                if deleted is None:
                    deleted = []
                    self.sandbox_deleted_users = deleted
                now = realism.clock()
                deleted[:] = [entry for entry in deleted if now < entry[2] + realism.windows.acm_in_use_linger]
                deleted.append((cert_arn, dist_arn, now))
            return result
        return delete_distribution
    _wrap(backend_cls, "delete_distribution", make_delete)
