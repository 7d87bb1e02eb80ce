# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of module_utils/_verify.py: the checks with fake ACM, CloudFront, DNS and end-to-end, and the reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import xml.etree.ElementTree as ET  # nosec - parses what the code under test wrote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.linktrack.https.plugins.module_utils import _cloudfront, _verify
from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import client_error

DOMAIN = "links.example.com"
ACCOUNT = "123456789012"
CERT_ARN = "arn:aws:acm:us-east-1:%s:certificate/11111111-2222-3333-4444-555555555555" % ACCOUNT
OTHER_ARN = "arn:aws:acm:us-east-1:%s:certificate/99999999-2222-3333-4444-555555555555" % ACCOUNT
DIST_ID = "E1ABCDEF234567"
DIST_ARN = "arn:aws:cloudfront::%s:distribution/%s" % (ACCOUNT, DIST_ID)
DIST_DOMAIN = "d111111abcdef8.cloudfront.net"
NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)
RECORD_NAME = "_abc.links.example.com"
RECORD_VALUE = "_def.xyz.acm-validations.aws."


def certificate(**overrides):
    cert = {
        "CertificateArn": CERT_ARN,
        "DomainName": DOMAIN,
        "SubjectAlternativeNames": [DOMAIN],
        "Status": "ISSUED",
        "Type": "AMAZON_ISSUED",
        "Serial": "0a:1b",
        "NotAfter": NOW + datetime.timedelta(days=300, hours=1),
        "InUseBy": [DIST_ARN],
        "RenewalEligibility": "ELIGIBLE",
        "DomainValidationOptions": [{
            "DomainName": DOMAIN, "ValidationMethod": "DNS", "ValidationStatus": "SUCCESS",
            "ResourceRecord": {"Name": RECORD_NAME + ".", "Type": "CNAME", "Value": RECORD_VALUE},
        }],
    }
    cert.update(overrides)
    return cert


def distribution(config_changes=None, **overrides):
    spec = _cloudfront.DistributionSpec.from_params(dict(domain_name=DOMAIN, certificate_arn=CERT_ARN,
                                                         iterable_region="usdc", state="present"))
    config = _cloudfront.desired_config(spec, caller_reference=spec.caller_reference)
    for change in config_changes or ():
        change(config)
    dist = {"Id": DIST_ID, "ARN": DIST_ARN, "DomainName": DIST_DOMAIN, "Status": "Deployed",
            "DistributionConfig": config}
    dist.update(overrides)
    return dist


class FakeAcm:
    def __init__(self, certs):
        self.certs = dict((c["CertificateArn"], c) for c in certs)
        self.calls = []

    def list_certificates(self, **kwargs):
        self.calls.append(("list_certificates", kwargs))
        return {"CertificateSummaryList": [
            {"CertificateArn": c["CertificateArn"], "DomainName": c["DomainName"],
             "SubjectAlternativeNameSummaries": c["SubjectAlternativeNames"], "Status": c["Status"],
             "InUse": bool(c.get("InUseBy")), "NotAfter": c.get("NotAfter")} for c in self.certs.values()]}

    def describe_certificate(self, CertificateArn):
        self.calls.append(("describe_certificate", CertificateArn))
        if CertificateArn not in self.certs:
            raise client_error("ResourceNotFoundException")
        return {"Certificate": self.certs[CertificateArn]}


class FakeCloudFront:
    def __init__(self, dists, denied=False):
        self.dists = dict((d["Id"], d) for d in dists)
        self.calls = []
        self.denied = denied

    def get_distribution(self, Id):
        self.calls.append(("get_distribution", Id))
        if self.denied:
            raise client_error("AccessDenied", status=403)
        if Id not in self.dists:
            raise client_error("NoSuchDistribution", status=404)
        return {"Distribution": self.dists[Id], "ETag": "E1"}

    def list_distributions(self, **kwargs):
        self.calls.append(("list_distributions", kwargs))
        return {"DistributionList": {"IsTruncated": False, "Items": [
            {"Id": d["Id"], "Aliases": d["DistributionConfig"]["Aliases"]} for d in self.dists.values()]}}


def dns_answering(value=RECORD_VALUE.rstrip(".")):
    def query(name, rdtype, servers):
        assert (name, rdtype) == (RECORD_NAME, "CNAME")
        if value is None:
            return {"ns1": {"status": "nxdomain", "values": [], "reason": "NXDOMAIN"}}
        return {"ns1": {"status": "answer", "values": [value], "reason": ""}}
    return query


def end_to_end(status="passed", **by_check):
    def run(settings):
        assert settings.distribution_domain == DIST_DOMAIN
        assert settings.expected_serial in ("0a:1b", None)  # None: no certificate was found
        checks = dict((n, {"status": by_check.get(n, status), "reason": "%s says %s" % (n, by_check.get(n, status))})
                      for n in ("dns", "tls", "https", "http", "deep_links"))
        return {"checks": checks, "origin_domain": "links.iterable.com"}
    return run


def run(certs=None, dists=None, params=None, dns=None, e2e=None, denied=False):
    acm = FakeAcm([certificate()] if certs is None else certs)
    cloudfront = FakeCloudFront([distribution()] if dists is None else dists, denied=denied)
    settings = _verify.Settings.from_params(dict(dict(domain_name=DOMAIN), **(params or {})))
    verifier = _verify.Verifier(settings, {"acm": acm, "cloudfront": cloudfront}.__getitem__, utcnow=lambda: NOW,
                                dns_query=dns or dns_answering(), end_to_end=e2e or end_to_end())
    result = verifier.run()
    result["by_name"] = dict((c["name"], c) for c in result["checks"])
    return result, acm, cloudfront


def test_a_healthy_domain_passes_every_check_in_three_requests():
    result, acm, cloudfront = run()
    assert [c["name"] for c in result["checks"]] == list(_verify.CHECK_NAMES)
    assert result["status"] == "passed" and result["passed"], result["summary"]
    assert result["aws_requests"] == 3
    assert result["aws_request_names"] == ["acm:list_certificates", "acm:describe_certificate",
                                           "cloudfront:get_distribution"]
    assert result["certificate"]["days_left"] == 300
    assert result["summary"][0].startswith("%s certificate: passed - " % DOMAIN)


def test_the_certificate_arn_saves_the_listing():
    result, acm, _cf = run(params={"certificate_arn": CERT_ARN})
    assert [c[0] for c in acm.calls] == ["describe_certificate"]
    assert result["aws_requests"] == 2


@pytest.mark.parametrize("days, status", [(300, "passed"), (44, "warning"), (20, "warning"), (13, "failed")])
def test_days_left_against_the_thresholds(days, status):
    cert = certificate(NotAfter=NOW + datetime.timedelta(days=days, hours=1),
                       RenewalSummary={"RenewalStatus": "PENDING_AUTO_RENEWAL"})
    result, _acm, _cf = run(certs=[cert])
    expiry = result["by_name"]["certificate_expiry"]
    assert expiry["status"] == status
    assert expiry["reason"].startswith("%d days left" % days)
    assert expiry["details"]["days_left"] == days


def test_thresholds_are_variables_and_checked():
    cert = certificate(NotAfter=NOW + datetime.timedelta(days=50, hours=1))
    result, _acm, _cf = run(certs=[cert], params={"days_warn": 60, "days_fail": 55})
    assert result["by_name"]["certificate_expiry"]["status"] == "failed"
    with pytest.raises(LinktrackError) as err:
        _verify.Settings.from_params(dict(domain_name=DOMAIN, days_warn=10, days_fail=20))
    assert err.value.field == "days_fail"
    with pytest.raises(LinktrackError) as err:
        _verify.Settings.from_params(dict(domain_name=DOMAIN, checks=["certificate", "bogus"]))
    assert err.value.field == "checks" and "bogus" in str(err.value)


def test_renewal_pending_validation_and_a_missing_cname_are_reported_with_their_reasons():
    cert = certificate(NotAfter=NOW + datetime.timedelta(days=20, hours=1), RenewalSummary={
        "RenewalStatus": "PENDING_VALIDATION",
        "DomainValidationOptions": [{"DomainName": DOMAIN, "ValidationStatus": "PENDING_VALIDATION"}]})
    result, _acm, _cf = run(certs=[cert], dns=dns_answering(None))
    checks = result["by_name"]
    assert result["status"] == "failed"
    assert checks["certificate_expiry"]["status"] == "warning"
    assert checks["certificate_renewal"]["status"] == "failed"
    assert "PENDING_VALIDATION for %s" % DOMAIN in checks["certificate_renewal"]["reason"]
    assert checks["validation_record"]["status"] == "failed"
    assert RECORD_NAME in checks["validation_record"]["reason"] and "NXDOMAIN" in checks["validation_record"]["reason"]
    assert checks["certificate"]["status"] == "passed"


def test_a_wrong_cname_value_fails_the_validation_record():
    result, _acm, _cf = run(dns=dns_answering("_other.acm-validations.aws"))
    assert result["by_name"]["validation_record"]["status"] == "failed"
    assert "_other.acm-validations.aws" in result["by_name"]["validation_record"]["reason"]


@pytest.mark.parametrize("summary, eligibility, status, words", [
    ({"RenewalStatus": "FAILED", "RenewalStatusReason": "CAA_ERROR"}, "ELIGIBLE", "failed", "CAA_ERROR"),
    ({"RenewalStatus": "SUCCESS"}, "ELIGIBLE", "passed", "SUCCESS"),
    (None, "INELIGIBLE", "failed", "INELIGIBLE"),
    (None, "ELIGIBLE", "passed", "ELIGIBLE"),
])
def test_renewal_status_and_eligibility(summary, eligibility, status, words):
    cert = certificate(RenewalEligibility=eligibility)
    if summary:
        cert["RenewalSummary"] = summary
    result, _acm, _cf = run(certs=[cert])
    assert result["by_name"]["certificate_renewal"]["status"] == status
    assert words in result["by_name"]["certificate_renewal"]["reason"]


def test_inside_the_renewal_window_without_renewal_warns():
    cert = certificate(NotAfter=NOW + datetime.timedelta(days=50, hours=1))
    result, _acm, _cf = run(certs=[cert])
    assert result["by_name"]["certificate_renewal"]["status"] == "warning"


def test_a_certificate_not_covering_the_name_fails():
    cert = certificate(DomainName="other.example.com", SubjectAlternativeNames=["other.example.com"])
    result, _acm, _cf = run(certs=[cert], params={"certificate_arn": CERT_ARN})
    assert result["by_name"]["certificate"]["status"] == "failed"
    assert "does not cover %s" % DOMAIN in result["by_name"]["certificate"]["reason"]


def test_a_wildcard_covers_one_label_only():
    assert _verify._covers("links.example.com", ["*.example.com"])
    assert not _verify._covers("a.links.example.com", ["*.example.com"])
    assert not _verify._covers("example.com", ["*.example.com"])


def test_a_pending_certificate_fails_and_the_rest_of_the_certificate_is_skipped():
    cert = certificate(Status="PENDING_VALIDATION", NotAfter=None)
    result, _acm, _cf = run(certs=[cert])
    assert result["by_name"]["certificate"]["status"] == "failed"
    assert "PENDING_VALIDATION" in result["by_name"]["certificate"]["reason"]
    assert result["by_name"]["certificate_expiry"]["status"] == "skipped"
    assert result["status"] == "failed"


def test_no_certificate_fails_and_no_distribution_is_looked_up_beyond_four_requests():
    result, _acm, cloudfront = run(certs=[])
    assert result["by_name"]["certificate"]["status"] == "failed"
    assert "no ACM certificate" in result["by_name"]["certificate"]["reason"]
    assert result["aws_requests"] <= _verify.MAX_AWS_REQUESTS
    # found through the alias: still checked
    assert result["by_name"]["distribution"]["status"] == "passed"
    assert "ListDistributions" in result["by_name"]["distribution"]["reason"]


def test_a_certificate_replaced_on_the_distribution_is_found_through_the_alias_in_four_requests():
    replaced = distribution(config_changes=[lambda c: c["ViewerCertificate"].update(ACMCertificateArn=OTHER_ARN)])
    cert = certificate(InUseBy=[])
    result, _acm, cloudfront = run(certs=[cert], dists=[replaced])
    assert result["aws_requests"] <= _verify.MAX_AWS_REQUESTS
    checks = result["by_name"]
    assert checks["certificate_in_use"]["status"] == "failed"
    assert OTHER_ARN in checks["certificate_in_use"]["reason"]
    drift = checks["distribution_drift"]
    assert drift["status"] == "failed"
    assert [d["field"] for d in drift["details"]["differences"]] == ["ViewerCertificate.ACMCertificateArn"]


def test_console_drift_is_listed_field_by_field():
    def edit(config):
        config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "redirect-to-https"
        config["PriceClass"] = "PriceClass_100"
    result, _acm, _cf = run(dists=[distribution(config_changes=[edit])])
    drift = result["by_name"]["distribution_drift"]
    fields = [d["field"] for d in drift["details"]["differences"]]
    assert "PriceClass" in fields and any(f.endswith("ViewerProtocolPolicy") for f in fields)
    assert "PriceClass_100" in drift["reason"] and "PriceClass_All" in drift["reason"]


@pytest.mark.parametrize("overrides, status, words", [
    ({"Status": "InProgress"}, "warning", "InProgress"),
    ({}, "passed", "Deployed and enabled"),
])
def test_distribution_status(overrides, status, words):
    result, _acm, _cf = run(dists=[distribution(**overrides)])
    assert result["by_name"]["distribution"]["status"] == status
    assert words in result["by_name"]["distribution"]["reason"]


def test_a_disabled_distribution_fails():
    dist = distribution(config_changes=[lambda c: c.update(Enabled=False)])
    result, _acm, _cf = run(dists=[dist])
    assert result["by_name"]["distribution"]["status"] == "failed"
    assert "disabled" in result["by_name"]["distribution"]["reason"]


def test_access_denied_fails_the_check_with_aws_words():
    result, _acm, _cf = run(denied=True)
    assert result["by_name"]["distribution"]["status"] == "failed"
    assert "AccessDenied" in result["by_name"]["distribution"]["reason"]
    assert result["status"] == "failed"


def test_end_to_end_checks_map_onto_dns_tls_and_end_to_end():
    result, _acm, _cf = run(e2e=end_to_end(http="failed", dns="failed"))
    checks = result["by_name"]
    assert checks["dns"]["status"] == "failed" and checks["dns"]["reason"] == "dns says failed"
    assert checks["tls"]["status"] == "passed"
    assert checks["end_to_end"]["status"] == "failed" and checks["end_to_end"]["reason"] == "http: http says failed"


def test_checks_can_be_chosen():
    result, _acm, _cf = run(params={"checks": ["certificate", "certificate_expiry"]})
    assert [c["name"] for c in result["checks"]] == ["certificate", "certificate_expiry"]


def test_run_module_fails_only_when_asked_and_on_bad_input():
    bad = _verify.run_module(dict(domain_name="not a domain"), client_factory=None)
    assert bad["failed"] and bad["field"] == "domain_name"
    factory = {"acm": FakeAcm([]), "cloudfront": FakeCloudFront([])}.__getitem__
    quiet = _verify.run_module(dict(domain_name=DOMAIN, checks=["certificate"]), client_factory=factory)
    assert not quiet.get("failed") and quiet["status"] == "failed"
    loud = _verify.run_module(dict(domain_name=DOMAIN, checks=["certificate"], fail_on_error=True),
                              client_factory=factory)
    assert loud["failed"] and "certificate" in loud["msg"]


# ---- reports -------------------------------------------------------------------


def two_results():
    good, _a, _c = run()
    bad, _a, _c = run(dns=dns_answering(None), certs=[certificate(NotAfter=NOW + datetime.timedelta(days=20, hours=1))])
    bad["domain_name"] = "links2.example.com"
    return [good, bad]


def test_json_report_counts_and_orders_the_domains():
    report = _verify.build_report(two_results(), now=NOW)
    assert [d["domain_name"] for d in report["domains"]] == [DOMAIN, "links2.example.com"]
    assert report["counts"] == {"passed": 1, "warning": 0, "failed": 1}
    assert report["passed"] is False
    json.dumps(report, default=str)


def test_a_failed_verify_task_becomes_one_failed_check():
    report = _verify.build_report([{"domain_name": DOMAIN, "failed": True, "msg": "domain_name: bad"}], now=NOW)
    assert report["domains"][0]["checks"] == [{"name": "verify", "status": "failed", "reason": "domain_name: bad"}]
    with pytest.raises(LinktrackError):
        _verify.build_report([{"no": "domain"}])


def test_junit_has_one_testcase_per_domain_and_check():
    report = _verify.build_report(two_results(), now=NOW)
    suite = ET.fromstring(_verify.junit_xml(report))
    cases = list(suite.iter("testcase"))
    assert suite.tag == "testsuite" and int(suite.get("tests")) == len(cases) == 2 * len(_verify.CHECK_NAMES)
    failures = [(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None]
    assert failures == [("links2.example.com", "validation_record")]
    assert suite.get("failures") == "1"


def test_prometheus_textfile_parses_with_the_real_parser():
    report = _verify.build_report(two_results(), now=NOW)
    families = dict((f.name, f) for f in text_string_to_metric_families(_verify.prometheus_text(report)))
    days = dict((s.labels["domain"], s.value) for s in families["linktrack_certificate_days_left"].samples)
    assert days == {DOMAIN: 300.0, "links2.example.com": 20.0}
    passed = dict(((s.labels["domain"], s.labels["check"]), s.value) for s in families["linktrack_check_passed"].samples)
    assert passed[("links2.example.com", "validation_record")] == 0.0
    assert passed[(DOMAIN, "validation_record")] == 1.0
    assert passed[("links2.example.com", "certificate_expiry")] == 1.0  # a warning is not a failure
    warned = dict(((s.labels["domain"], s.labels["check"]), s.value) for s in families["linktrack_check_warning"].samples)
    assert warned[("links2.example.com", "certificate_expiry")] == 1.0
    domain = dict((s.labels["domain"], s.value) for s in families["linktrack_domain_passed"].samples)
    assert domain == {DOMAIN: 1.0, "links2.example.com": 0.0}
    stamp = families["linktrack_verify_last_run_timestamp_seconds"].samples[0].value
    assert stamp == NOW.replace(minute=0).timestamp()


def test_label_values_are_escaped():
    report = _verify.build_report([{"domain_name": 'a"b\\c', "msg": "x"}], now=NOW)
    families = list(text_string_to_metric_families(_verify.prometheus_text(report)))
    labels = [s.labels for f in families for s in f.samples if "domain" in s.labels]
    assert labels and all(lab["domain"] == 'a"b\\c' for lab in labels)


def test_report_module_writes_the_files_and_fails_when_a_domain_failed(tmp_path):
    paths = dict(json_path=str(tmp_path / "r.json"), junit_path=str(tmp_path / "r.xml"),
                 prometheus_path=str(tmp_path / "r.prom"))
    result = _verify.run_report_module(dict(results=two_results(), **paths))
    assert result["failed"] and "links2.example.com" in result["msg"]
    assert sorted(result["files"]) == sorted(paths.values())
    assert json.loads((tmp_path / "r.json").read_text())["counts"]["failed"] == 1
    assert result["summary"][-1] == "2 domain(s): 1 passed, 0 with warnings, 1 failed"
    ok = _verify.run_report_module(dict(results=two_results()[:1], fail_on_error=True))
    assert not ok.get("failed") and ok["passed"]
    missing = _verify.run_report_module(dict(results=two_results(), json_path=str(tmp_path / "no" / "r.json")))
    assert missing["failed"] and missing["field"] == "json_path"
    empty = _verify.run_report_module(dict(results=[]))
    assert empty["failed"] and empty["field"] == "results"
