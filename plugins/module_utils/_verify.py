# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Day two: read-only checks that a tracking domain's HTTPS keeps working, and their reports.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

``Verifier.run()`` makes at most four AWS requests for one domain, all of them
reads: ACM ListCertificates (skipped when the certificate's ARN is given) and
DescribeCertificate, CloudFront GetDistribution of the distribution named in
the certificate's InUseBy, and ListDistributions only when InUseBy names none
that carries the domain. Everything else is DNS (the authoritative servers),
TLS and HTTP from outside. Nothing is written.

The report functions (``build_report``, ``junit_xml``, ``prometheus_text``)
turn the results of many domains into the files CI, AWX and a Prometheus
node exporter's textfile collector read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math
import os
import tempfile
import xml.etree.ElementTree as ET  # nosec - writes XML only, parses none

from ansible_collections.linktrack.https.plugins.module_utils._common import (
    LinktrackError,
    normalize_domain,
    result_from_exception,
)
from ansible_collections.linktrack.https.plugins.module_utils._aws import check_region, new_caller
from ansible_collections.linktrack.https.plugins.module_utils._records import format_serial, validate_region
from ansible_collections.linktrack.https.plugins.module_utils import _acm, _cloudfront, _dns, _iterable

PASSED = "passed"
WARNING = "warning"
FAILED = "failed"
SKIPPED = "skipped"
STATUSES = (PASSED, WARNING, FAILED, SKIPPED)

# One line each in the summary, one testcase each in the JUnit file, in this order.
CHECK_NAMES = (
    "certificate",          # exists, ISSUED, covers the name
    "certificate_expiry",   # days left against the warn / fail thresholds
    "certificate_renewal",  # RenewalEligibility and RenewalSummary.RenewalStatus
    "certificate_in_use",   # InUseBy contains the distribution
    "validation_record",    # the validation CNAME answers right from the authoritative servers
    "distribution",         # exists, Deployed, enabled
    "distribution_drift",   # the guide's settings, field by field
    "dns",                  # the tracking domain's record points at the distribution
    "tls",                  # SNI check through the distribution, ACM's certificate served
    "end_to_end",           # step 6: HTTPS, HTTP and the deep-link files reach Iterable
)

# ACM User Guide, "Managed certificate renewal" (acm-renewal.html) and "Renewal for domains validated
# by DNS" (dns-renewal-validation.html): ACM starts renewing up to 60 days before NotAfter and, when it
# cannot validate a name automatically, tells the account 45 days before expiry. A certificate that
# ACM renewed has a NotAfter about 13 months away again, so fewer days than these mean trouble.
DEFAULT_DAYS_WARN = 45
DEFAULT_DAYS_FAIL = 14
RENEWAL_WINDOW_DAYS = 60
# RenewalSummary API reference: RenewalStatus is PENDING_AUTO_RENEWAL | PENDING_VALIDATION | SUCCESS | FAILED.
RENEWAL_OK = ("PENDING_AUTO_RENEWAL", "SUCCESS")
MAX_AWS_REQUESTS = 4


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def check(status, reason, **details):
    entry = {"status": status, "reason": reason}
    if details:
        entry["details"] = details
    return entry


def worst(statuses):
    """The domain's status: failed over warning over passed (a skipped check counts as not passed)."""
    statuses = list(statuses)
    if FAILED in statuses or SKIPPED in statuses:
        return FAILED
    if WARNING in statuses:
        return WARNING
    return PASSED


class Settings:
    """The validated input of one domain's verification (``from_params`` names the option at fault)."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    @classmethod
    def from_params(cls, params):
        p = dict((k, v) for k, v in params.items() if v is not None)
        domain = normalize_domain(p.get("domain_name"), "domain_name")
        region = validate_region(p.get("iterable_region") or "usdc")
        warn_days = p.get("days_warn", DEFAULT_DAYS_WARN)
        fail_days = p.get("days_fail", DEFAULT_DAYS_FAIL)
        for field, value in (("days_warn", warn_days), ("days_fail", fail_days)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
                raise LinktrackError("%s must be a whole number of days from 0 to 3650, got %r." % (field, value),
                                     field=field)
        if fail_days > warn_days:
            raise LinktrackError(
                "days_fail (%d) is more than days_warn (%d): a certificate would fail before it warns. Give a "
                "days_warn at least as large as days_fail." % (fail_days, warn_days), field="days_fail")
        arn = p.get("certificate_arn")
        if arn is not None and not _cloudfront.CERTIFICATE_ARN_RE.match(arn.strip()):
            raise LinktrackError(
                "certificate_arn: %r is not the ARN of an ACM certificate in us-east-1 "
                "(arn:aws:acm:us-east-1:123456789012:certificate/<id>)." % (arn,), field="certificate_arn")
        checks = p.get("checks") or list(CHECK_NAMES)
        unknown = [c for c in checks if c not in CHECK_NAMES]
        if unknown:
            raise LinktrackError("checks: %s %s not known; choose from %s." % (
                ", ".join(unknown), "is" if len(unknown) == 1 else "are", ", ".join(CHECK_NAMES)), field="checks")
        dns_servers = _dns.parse_servers(p["dns_servers"], field="dns_servers") if p.get("dns_servers") else None
        # the same validation of the end-to-end inputs as iterable_tracking_domain (names the option at fault)
        e2e = _iterable.Settings.from_params(dict(
            domain_name=domain, iterable_region=region, distribution_domain=None,
            connect_host=p.get("connect_host"), https_port=p.get("https_port", 443), http_port=p.get("http_port", 80),
            ca_path=p.get("ca_path"), dns_servers=p.get("dns_servers"),
            distribution_dns_servers=p.get("distribution_dns_servers"), deep_links=p.get("deep_links", True),
            timeout=p.get("timeout", 10), wait_timeout=0, min_days_valid=0,
        ))
        return cls(domain_name=domain, iterable_region=region, days_warn=warn_days, days_fail=fail_days,
                   certificate_arn=arn.strip() if arn else None, checks=list(checks), dns_servers=dns_servers,
                   e2e=e2e, timeout=e2e.timeout)


def _covers(name, names):
    for candidate in names:
        candidate = (candidate or "").lower()
        if candidate == name:
            return True
        if candidate.startswith("*.") and name.count(".") == candidate.count(".") and name.endswith(candidate[1:]):
            return True
    return False


def _as_datetime(value):
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    return None


def _rank(summary):
    """Prefer ISSUED, then in use, then the latest expiry, then the newest."""
    not_after = _as_datetime(summary.get("NotAfter"))
    created = _as_datetime(summary.get("CreatedAt"))
    return (
        0 if summary.get("Status") == "ISSUED" else 1,
        0 if summary.get("InUse") else 1,
        -(not_after.timestamp() if not_after else 0),
        -(created.timestamp() if created else 0),
        summary.get("CertificateArn") or "",
    )


class Verifier:
    """The checks of one domain. ``client_factory(service)`` gives boto3 clients (or fakes).

    ``dns_query(name, rdtype, servers)`` is ``_dns.query_authoritative`` and
    ``end_to_end(settings)`` is ``_iterable.verify`` unless tests give others.
    """

    def __init__(self, settings, client_factory, caller=None, utcnow=None, dns_query=None, end_to_end=None):
        self.settings = settings
        self.client_factory = client_factory
        self.caller = caller or new_caller()
        self.utcnow = utcnow or _utcnow
        self.dns_query = dns_query or (lambda name, rdtype, servers: _dns.DnsChecker(
            timeout=min(settings.timeout, 5)).query_authoritative(name, rdtype, servers))
        self.end_to_end = end_to_end or _iterable.verify
        self.checks = dict((name, None) for name in CHECK_NAMES)
        self.certificate = None
        self.distribution = None
        self.requests = []
        self._clients = {}

    # ---- AWS reads -----------------------------------------------------------

    def _client(self, service):
        if service not in self._clients:
            self._clients[service] = self.client_factory(service)
        return self._clients[service]

    def _call(self, service, method, **kwargs):
        self.requests.append("%s:%s" % (service, method))
        return self.caller(getattr(self._client(service), method), **kwargs)

    def find_certificate(self):
        """DescribeCertificate's dict of the domain's certificate (ListCertificates first), or ``None``."""
        arn = self.settings.certificate_arn
        if arn is None:
            kwargs = {"Includes": {"keyTypes": list(_acm.ALL_KEY_TYPES)}, "MaxItems": 1000}
            found = []
            while True:
                page = self._call("acm", "list_certificates", **kwargs)
                for summary in page.get("CertificateSummaryList") or []:
                    names = [summary.get("DomainName")] + list(summary.get("SubjectAlternativeNameSummaries") or [])
                    if summary.get("CertificateArn") and _covers(self.settings.domain_name, names):
                        found.append(summary)
                token = page.get("NextToken")
                if not token:
                    break
                kwargs["NextToken"] = token
            if not found:
                return None
            arn = sorted(found, key=_rank)[0]["CertificateArn"]
        return self._read_or_none("ResourceNotFoundException", "acm", "describe_certificate", "Certificate", CertificateArn=arn)

    def find_distribution(self, certificate):
        """``(Distribution, how)`` of the distribution carrying the domain as an alias, or ``(None, how)``."""
        domain = self.settings.domain_name
        ids = _cloudfront.candidate_distribution_ids((certificate or {}).get("InUseBy") or [])
        for dist_id in ids[:1]:
            dist = self._get_distribution(dist_id)
            if dist is not None and domain in _aliases(dist.get("DistributionConfig") or {}):
                return dist, "InUseBy"
        # the certificate is not used by a distribution carrying the name: look for the alias itself
        kwargs = {}
        while True:
            page = self._call("cloudfront", "list_distributions", **kwargs).get("DistributionList") or {}
            for summary in page.get("Items") or []:
                if domain in _aliases(summary):
                    return self._get_distribution(summary["Id"]), "ListDistributions"
            if not page.get("IsTruncated"):
                return None, "ListDistributions"
            kwargs["Marker"] = page.get("NextMarker")

    def _get_distribution(self, dist_id):
        return self._read_or_none("NoSuchDistribution", "cloudfront", "get_distribution", "Distribution", Id=dist_id)

    def _read_or_none(self, not_found, service, operation, key, **kwargs):
        """The ``key`` of what ``operation`` answered, or ``None`` when AWS answers the error code ``not_found``."""
        try:
            return self._call(service, operation, **kwargs)[key]
        except Exception as exc:  # noqa: BLE001 - only "not found" is an answer here
            if _aws_code(exc) == not_found:
                return None
            raise

    # ---- the checks ------------------------------------------------------------

    def run(self):
        s = self.settings
        try:
            cert = self.certificate = self.find_certificate()
        except Exception as exc:  # noqa: BLE001 - reported as the check's failure
            cert = None
            self._fail_aws("certificate", exc, "ACM")
        if cert is not None:
            self.check_certificate(cert)
        elif self.checks["certificate"] is None:
            self.checks["certificate"] = check(FAILED, "no ACM certificate in us-east-1 covers %s (setup step 1 "
                                                       "requests one)" % s.domain_name)
        dist = None
        try:
            dist, how = self.find_distribution(cert)
            self.distribution = dist
            self.check_distribution(dist, cert, how)
        except Exception as exc:  # noqa: BLE001 - reported as the check's failure
            self._fail_aws("distribution", exc, "CloudFront")
        self.check_in_use(cert, dist)
        self.check_validation_record(cert)
        self.check_outside(cert, dist)
        for name in CHECK_NAMES:
            if self.checks[name] is None:
                self.checks[name] = check(SKIPPED, "not checked: an earlier check failed")
        return self.result()

    def _fail_aws(self, name, exc, service):
        reason = result_from_exception(exc, caller=self.caller)["msg"]
        self.checks[name] = check(FAILED, "%s could not be read: %s" % (service, reason))

    def check_certificate(self, cert):
        s = self.settings
        arn = cert.get("CertificateArn")
        status = cert.get("Status")
        names = [cert.get("DomainName")] + list(cert.get("SubjectAlternativeNames") or [])
        if status != "ISSUED":
            why = (" (%s)" % cert["FailureReason"]) if cert.get("FailureReason") else ""
            self.checks["certificate"] = check(FAILED, "%s is %s%s, not ISSUED" % (arn, status, why), arn=arn)
            return
        if not _covers(s.domain_name, names):
            self.checks["certificate"] = check(FAILED, "%s does not cover %s (it covers %s)" % (
                arn, s.domain_name, ", ".join(n for n in names if n)), arn=arn)
            return
        self.checks["certificate"] = check(PASSED, "%s is ISSUED and covers %s" % (arn, s.domain_name), arn=arn)
        not_after = _as_datetime(cert.get("NotAfter"))
        days = self.days_left(cert)
        if days is None:
            self.checks["certificate_expiry"] = check(FAILED, "ACM gives no NotAfter for %s" % arn)
        else:
            when = not_after.strftime("%Y-%m-%d")
            if days < s.days_fail:
                status = FAILED
            elif days < s.days_warn:
                status = WARNING
            else:
                status = PASSED
            self.checks["certificate_expiry"] = check(status, "%d days left (NotAfter %s; warn below %d, fail below "
                                                              "%d)" % (days, when, s.days_warn, s.days_fail),
                                                      days_left=days, not_after=when)
        self.checks["certificate_renewal"] = self.renewal_check(cert, days)

    def days_left(self, cert):
        not_after = _as_datetime(cert.get("NotAfter"))
        if not_after is None:
            return None
        return int(math.floor((not_after - self.utcnow()).total_seconds() / 86400.0))

    @staticmethod
    def renewal_check(cert, days):
        # ACM User Guide "Managed certificate renewal": ELIGIBLE when associated with another AWS
        # service such as CloudFront; CertificateDetail API reference: RenewalEligibility, RenewalSummary.
        eligibility = cert.get("RenewalEligibility")
        summary = cert.get("RenewalSummary") or {}
        status = summary.get("RenewalStatus")
        if status == "FAILED":
            return check(FAILED, "ACM's managed renewal FAILED (%s)" % (summary.get("RenewalStatusReason") or "no reason given"),
                         renewal_status=status, renewal_eligibility=eligibility)
        if status == "PENDING_VALIDATION":
            pending = [o.get("DomainName") for o in summary.get("DomainValidationOptions") or []
                       if o.get("ValidationStatus") != "SUCCESS"]
            return check(FAILED, "ACM's managed renewal is PENDING_VALIDATION%s: ACM cannot see the validation CNAME "
                                 "(publish it again: a setup re-run does)" % (
                                     (" for " + ", ".join(n for n in pending if n)) if pending else ""),
                         renewal_status=status, renewal_eligibility=eligibility)
        if eligibility != "ELIGIBLE":
            return check(FAILED, "RenewalEligibility is %s: ACM will not renew it (ACM renews only certificates in "
                                 "use by an AWS service such as CloudFront)" % (eligibility or "not given"),
                         renewal_status=status, renewal_eligibility=eligibility)
        if status in RENEWAL_OK:
            return check(PASSED, "ELIGIBLE; managed renewal %s" % status, renewal_status=status,
                         renewal_eligibility=eligibility)
        if days is not None and days < RENEWAL_WINDOW_DAYS:
            return check(WARNING, "ELIGIBLE, %d days left and ACM reports no renewal yet (it starts up to %d days "
                                  "before expiry)" % (days, RENEWAL_WINDOW_DAYS), renewal_eligibility=eligibility)
        return check(PASSED, "ELIGIBLE for managed renewal", renewal_eligibility=eligibility)

    def check_distribution(self, dist, cert, how):
        s = self.settings
        if dist is None:
            self.checks["distribution"] = check(FAILED, "no CloudFront distribution has the alias %s (setup step 2 "
                                                        "creates it)" % s.domain_name)
            return
        config = dist.get("DistributionConfig") or {}
        status = dist.get("Status")
        problems = []
        if not config.get("Enabled"):
            problems.append("disabled")
        found = "%s (%s, found through %s)" % (dist.get("Id"), dist.get("DomainName"), how)
        if problems:
            self.checks["distribution"] = check(FAILED, "%s is %s" % (found, ", ".join(problems)), id=dist.get("Id"))
        elif status != "Deployed":
            self.checks["distribution"] = check(WARNING, "%s is %s: a change is still propagating" % (found, status),
                                                id=dist.get("Id"))
        else:
            self.checks["distribution"] = check(PASSED, "%s is Deployed and enabled" % found, id=dist.get("Id"))
        arn = (cert or {}).get("CertificateArn") or (config.get("ViewerCertificate") or {}).get("ACMCertificateArn")
        try:
            spec = _cloudfront.DistributionSpec.from_params(dict(
                domain_name=s.domain_name, certificate_arn=arn, iterable_region=s.iterable_region, state="present"))
        except LinktrackError as exc:
            self.checks["distribution_drift"] = check(FAILED, "cannot compare: %s" % exc)
            return
        # a distribution someone else made keeps its web ACL, logging and other origins (as setup keeps them)
        preserve = bool(_cloudfront.foreign_fields(config, spec)) and not str(
            config.get("CallerReference") or "").startswith(_cloudfront.CALLER_REFERENCE_PREFIX)
        diffs = _cloudfront.config_differences(config, spec, preserve).as_list()
        if diffs:
            self.checks["distribution_drift"] = check(
                FAILED, "%d field(s) differ from the guide's settings (a setup re-run repairs them): %s" % (
                    len(diffs), "; ".join("%s is %s, wanted %s" % (d["field"], _short(d["before"]), _short(d["after"]))
                                          for d in diffs)),
                differences=diffs)
        else:
            self.checks["distribution_drift"] = check(PASSED, "every field as the guide sets it")

    def check_in_use(self, cert, dist):
        if cert is None or dist is None:
            return
        users = list(cert.get("InUseBy") or [])
        if dist.get("ARN") in users:
            self.checks["certificate_in_use"] = check(PASSED, "InUseBy contains %s" % dist.get("Id"))
        else:
            served = ((dist.get("DistributionConfig") or {}).get("ViewerCertificate") or {}).get("ACMCertificateArn")
            self.checks["certificate_in_use"] = check(
                FAILED, "InUseBy does not contain %s (InUseBy: %s; the distribution serves %s)" % (
                    dist.get("Id"), ", ".join(users) or "nothing", served or "no ACM certificate"), in_use_by=users)

    def check_validation_record(self, cert):
        if cert is None:
            return
        records = _acm.validation_records(cert)
        if not records:
            self.checks["validation_record"] = check(FAILED, "ACM gives no DNS validation record for %s (not DNS "
                                                             "validated?)" % cert.get("CertificateArn"))
            return
        bad = []
        for record in records:
            expected = _dns.expected_values("CNAME", [record["value"]])
            try:
                responses = self.dns_query(record["name"], "CNAME", self.settings.dns_servers)
            except LinktrackError as exc:
                bad.append("%s: %s" % (record["name"], exc))
                continue
            matched, failing = _dns.evaluate(responses, expected)
            if not matched:
                seen = "; ".join("%s: %s" % (label, _dns.describe(responses[label])) for label in failing) or "no server"
                bad.append("%s CNAME %s not answered (%s)" % (record["name"], expected[0], seen))
        if bad:
            self.checks["validation_record"] = check(
                FAILED, "without it ACM cannot renew the certificate: %s (a setup re-run publishes it again)" % " | ".join(bad),
                records=records)
        else:
            self.checks["validation_record"] = check(PASSED, "%s answer%s right from the authoritative servers" % (
                ", ".join(r["name"] for r in records), "s" if len(records) == 1 else ""), records=records)

    def check_outside(self, cert, dist):
        s = self.settings
        wanted = [n for n in ("dns", "tls", "end_to_end") if n in s.checks]
        if not wanted:
            return
        if dist is None or not dist.get("DomainName"):
            return
        e2e = _iterable.Settings(**dict(vars(s.e2e), distribution_domain=dist["DomainName"].lower(),
                                        expected_serial=format_serial((cert or {}).get("Serial"))))
        try:
            outcome = self.end_to_end(e2e)
        except LinktrackError as exc:
            for name in wanted:
                self.checks[name] = check(FAILED, str(exc))
            return
        found = outcome["checks"]
        for name in ("dns", "tls"):
            self.checks[name] = check(_map_status(found[name]["status"]), found[name]["reason"])
        parts = [("https", found["https"]), ("http", found["http"]), ("deep_links", found["deep_links"])]
        failed = [(n, c) for n, c in parts if c["status"] == _iterable.FAILED]
        skipped = [(n, c) for n, c in parts if c["status"] == _iterable.SKIPPED and not (n == "deep_links" and not s.e2e.deep_links)]
        if failed or skipped:
            self.checks["end_to_end"] = check(FAILED, " | ".join("%s: %s" % (n, c["reason"]) for n, c in failed + skipped))
        else:
            self.checks["end_to_end"] = check(PASSED, "HTTPS and HTTP reach %s%s" % (
                outcome.get("origin_domain"), ", deep-link files served" if s.e2e.deep_links else ""))

    def result(self):
        s = self.settings
        checks = [dict(name=name, **self.checks[name]) for name in CHECK_NAMES if name in s.checks]
        status = worst(c["status"] for c in checks)
        cert = self.certificate or {}
        dist = self.distribution or {}
        summary = (cert.get("RenewalSummary") or {})
        return {
            "changed": False,
            "domain_name": s.domain_name,
            "status": status,
            "passed": status != FAILED,
            "checks": checks,
            "summary": ["%s %s: %s - %s" % (s.domain_name, c["name"], c["status"], c["reason"]) for c in checks],
            "certificate": {
                "arn": cert.get("CertificateArn"),
                "status": cert.get("Status"),
                "not_after": _acm.format_time(cert.get("NotAfter")),
                "days_left": self.days_left(cert) if cert else None,
                "renewal_eligibility": cert.get("RenewalEligibility"),
                "renewal_status": summary.get("RenewalStatus"),
                "in_use_by": list(cert.get("InUseBy") or []),
                "serial": format_serial(cert.get("Serial")),
            },
            "distribution": {
                "id": dist.get("Id"),
                "arn": dist.get("ARN"),
                "domain_name": dist.get("DomainName"),
                "status": dist.get("Status"),
                "enabled": (dist.get("DistributionConfig") or {}).get("Enabled") if dist else None,
            },
            "aws_requests": self.caller.calls,
            "aws_request_names": list(self.requests),
        }


def _map_status(status):
    return {_iterable.PASSED: PASSED, _iterable.FAILED: FAILED}.get(status, SKIPPED)


def _aliases(config):
    return [a.lower() for a in ((config.get("Aliases") or {}).get("Items") or [])]


def _short(value):
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _aws_code(exc):
    response = getattr(exc, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``link_domain_verify`` does with its validated ``params`` (module and action plugin alike).

    Reads only, so check mode changes nothing. A failed check does not fail the
    task unless ``fail_on_error``; bad input and a broken collection do.
    """
    caller = new_caller()
    try:
        check_region(params, "link_domain_verify")
        settings = Settings.from_params(params)
        result = Verifier(settings, client_factory, caller=caller).run()
    except Exception as exc:  # noqa: BLE001 - one failed result for every error
        return result_from_exception(exc, dict(changed=False, aws_requests=caller.calls), caller)
    if warn is not None:
        for line in result["summary"]:
            if WARNING in line.split(": ", 1)[-1].split(" - ", 1)[0]:
                warn(line)
    if params.get("fail_on_error") and result["status"] == FAILED:
        failed = [c["name"] for c in result["checks"] if c["status"] in (FAILED, SKIPPED)]
        result.update(failed=True, msg="%s failed the checks %s: %s" % (
            result["domain_name"], ", ".join(failed),
            " | ".join("%s: %s" % (c["name"], c["reason"]) for c in result["checks"] if c["status"] == FAILED)))
    return result


# --------------------------------------------------------------------------
# Reports over many domains
# --------------------------------------------------------------------------


def build_report(results, now=None):
    """The JSON report: every domain's checks, and the counts. ``results`` are ``run_module`` results."""
    now = now or _utcnow()
    domains = []
    for result in results:
        if not isinstance(result, dict) or not result.get("domain_name"):
            raise LinktrackError("results: every entry must be a link_domain_verify result with domain_name, got %r"
                                 % (result if not isinstance(result, dict) else sorted(result)), field="results")
        checks = result.get("checks")
        if not checks and result.get("msg"):
            # the verify task itself failed (bad input, a bug): one failed check says why
            checks = [{"name": "verify", "status": FAILED, "reason": str(result["msg"])}]
        domains.append({
            "domain_name": result["domain_name"],
            "status": result.get("status") or worst(c["status"] for c in checks or [{"status": FAILED}]),
            "checks": checks or [],
            "certificate": result.get("certificate") or {},
            "distribution": result.get("distribution") or {},
            "aws_requests": result.get("aws_requests"),
        })
    domains.sort(key=lambda d: d["domain_name"])
    counts = dict((status, 0) for status in (PASSED, WARNING, FAILED))
    for domain in domains:
        counts[domain["status"] if domain["status"] in counts else FAILED] += 1
    return {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "domains": domains,
        "counts": counts,
        "passed": counts[FAILED] == 0,
    }


def summary_lines(report):
    lines = []
    for domain in report["domains"]:
        lines.append("%s: %s" % (domain["domain_name"], domain["status"].upper()))
        for c in domain["checks"]:
            lines.append("  %-20s %-8s %s" % (c["name"], c["status"], c["reason"]))
    counts = report["counts"]
    lines.append("%d domain(s): %d passed, %d with warnings, %d failed" % (
        len(report["domains"]), counts[PASSED], counts[WARNING], counts[FAILED]))
    return lines


def junit_xml(report, suite_name="linktrack.https verify"):
    """One testsuite, one testcase per domain and check: failed is <failure>, skipped <skipped>, warning passes."""
    cases = [(d, c) for d in report["domains"] for c in d["checks"]]
    suite = ET.Element("testsuite", {
        "name": suite_name,
        "tests": str(len(cases)),
        "failures": str(sum(1 for _d, c in cases if c["status"] == FAILED)),
        "errors": "0",
        "skipped": str(sum(1 for _d, c in cases if c["status"] == SKIPPED)),
        "timestamp": report["generated_at"],
    })
    for domain, c in cases:
        case = ET.SubElement(suite, "testcase", {"classname": domain["domain_name"], "name": c["name"]})
        if c["status"] == FAILED:
            ET.SubElement(case, "failure", {"message": c["reason"], "type": "failed"}).text = c["reason"]
        elif c["status"] == SKIPPED:
            ET.SubElement(case, "skipped", {"message": c["reason"]})
        else:
            ET.SubElement(case, "system-out").text = "%s: %s" % (c["status"], c["reason"])
    return ET.tostring(suite, encoding="unicode") + "\n"


def _label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def prometheus_text(report):
    """The Prometheus text exposition format, for a node exporter's textfile collector."""
    lines = []

    def family(name, help_text, samples):
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s gauge" % name)
        for labels, value in samples:
            text = ",".join('%s="%s"' % (k, _label(v)) for k, v in labels)
            lines.append("%s{%s} %s" % (name, text, value))

    domains = report["domains"]
    family("linktrack_certificate_days_left", "Days until the ACM certificate's NotAfter.",
           [((("domain", d["domain_name"]),), d["certificate"].get("days_left"))
            for d in domains if d["certificate"].get("days_left") is not None])
    family("linktrack_check_passed", "1 when the check passed or only warned, 0 when it failed or was skipped.",
           [((("domain", d["domain_name"]), ("check", c["name"])), 1 if c["status"] in (PASSED, WARNING) else 0)
            for d in domains for c in d["checks"]])
    family("linktrack_check_warning", "1 when the check passed with a warning.",
           [((("domain", d["domain_name"]), ("check", c["name"])), 1 if c["status"] == WARNING else 0)
            for d in domains for c in d["checks"]])
    family("linktrack_domain_passed", "1 when no check of the domain failed.",
           [((("domain", d["domain_name"]),), 0 if d["status"] == FAILED else 1) for d in domains])
    family("linktrack_verify_aws_requests", "AWS requests the verification of the domain made.",
           [((("domain", d["domain_name"]),), d["aws_requests"]) for d in domains if d.get("aws_requests") is not None])
    generated = datetime.datetime.strptime(report["generated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    lines.append("# HELP linktrack_verify_last_run_timestamp_seconds When the report was made.")
    lines.append("# TYPE linktrack_verify_last_run_timestamp_seconds gauge")
    lines.append("linktrack_verify_last_run_timestamp_seconds %d" % int(generated.timestamp()))
    return "\n".join(lines) + "\n"


def write_file(path, text):
    """Write ``text`` to ``path`` atomically (a textfile collector never reads half a file)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise LinktrackError("%s: the directory %s does not exist" % (path, directory), field="path")
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def run_report_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``link_domain_verify_report`` does: the files, the summary, and failed when a domain failed."""
    try:
        report = build_report(params.get("results") or [])
        if not report["domains"]:
            raise LinktrackError("results: no verification results to report (did the verify play run on any "
                                 "domain?)", field="results")
        written = []
        for key, render in (("json_path", lambda r: json.dumps(r, indent=2, sort_keys=True, default=str) + "\n"),
                            ("junit_path", junit_xml), ("prometheus_path", prometheus_text)):
            path = params.get(key)
            if path:
                try:
                    write_file(path, render(report))
                except (OSError, LinktrackError) as exc:
                    raise LinktrackError("%s: cannot write %s: %s" % (key, path, exc), field=key)
                written.append(path)
    except LinktrackError as exc:
        return exc.as_result()
    result = dict(changed=False, report=report, summary=summary_lines(report), files=written,
                  passed=report["passed"], counts=report["counts"])
    if params.get("fail_on_error", True) and not report["passed"]:
        failed = [d["domain_name"] for d in report["domains"] if d["status"] == FAILED]
        result.update(failed=True, msg="%d of %d domain(s) failed verification: %s" % (
            len(failed), len(report["domains"]), ", ".join(failed)))
    return result
