# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of module_utils/_acm.py against a hand-written fake ACM client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import itertools
import re

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.linktrack.https.plugins.module_utils._acm import (
    AcmCertificateManager,
    build_spec,
    format_serial,
    format_time,
    idempotency_token,
    run_module,
)
from ansible_collections.linktrack.https.plugins.module_utils._common import AwsCaller, LinktrackError, Progress, result_from_exception
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock, client_error

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
WRITE_OPS = ("request_certificate", "delete_certificate", "add_tags_to_certificate", "remove_tags_from_certificate")
RECORD_VALUE = "_c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws."


class FakeAcm:
    """Just enough of ACM: certificates in a dict, every call recorded.

    Stricter than moto, as ACM documents itself: a certificate just requested
    stays unknown to DescribeCertificate and ListCertificates for ``hide_new``
    reads ("a delay of several seconds", RequestCertificate); a token answers
    with its certificate even after that was deleted; ``InUseBy`` keeps a
    deleted distribution for ``in_use_linger[arn]`` more reads and
    DeleteCertificate answers ResourceInUseException meanwhile.
    """

    _ids = itertools.count(1)

    def __init__(self, page_size=2, honour_filters=True, summary_sans=True):
        self.certs = {}
        self.tags = {}
        self.calls = []
        self.tokens = {}
        self.errors = {}  # operation -> list of exceptions raised by the next calls
        self.statuses = {}  # arn -> statuses the next DescribeCertificate calls show, in order
        self.records_after = {}  # arn -> DescribeCertificate calls that still lack ResourceRecord
        self.on_request = None
        self.page_size = page_size
        self.honour_filters = honour_filters
        self.summary_sans = summary_sans
        self.hide_new = 0  # reads a new certificate stays unknown for
        self.hidden = {}  # arn -> reads (Describe or List) that still do not show it
        self.in_use_linger = {}  # arn -> DescribeCertificate calls that still list InUseBy
        self.delete_in_use = {}  # arn -> DeleteCertificate calls answered ResourceInUseException anyway

    # ---- set-up helpers ----

    def add(self, domain, sans=(), status="ISSUED", created=None, tags=None, key="RSA_2048", kind="AMAZON_ISSUED",
            not_after=None, in_use_by=(), failure_reason=None, revoked=False, method="DNS", serial="0A:1B:2C",
            managed_by=None):
        number = next(self._ids)
        arn = "arn:aws:acm:us-east-1:123456789012:certificate/%08d-0000-0000-0000-000000000000" % number
        names = [domain] + [n for n in sans if n != domain]
        cert = {
            "CertificateArn": arn,
            "DomainName": domain,
            "SubjectAlternativeNames": names,
            "Status": status,
            "Type": kind,
            "KeyAlgorithm": key,
            "CreatedAt": created or NOW - datetime.timedelta(days=30),
            "NotAfter": not_after or NOW + datetime.timedelta(days=300),
            "Serial": serial,
            "InUseBy": list(in_use_by),
            "DomainValidationOptions": [
                {"DomainName": n, "ValidationMethod": method, "ValidationStatus": "SUCCESS",
                 "ResourceRecord": {"Name": "_abc.%s." % n.lstrip("*."), "Type": "CNAME", "Value": RECORD_VALUE}}
                for n in names
            ],
        }
        if failure_reason:
            cert["FailureReason"] = failure_reason
        if managed_by:
            cert["ManagedBy"] = managed_by
        if revoked:
            cert["RevokedAt"] = NOW - datetime.timedelta(days=1)
        self.certs[arn] = cert
        self.tags[arn] = dict(tags or {})
        return arn

    def ops(self):
        return [op for op, _kw in self.calls]

    def writes(self):
        return [op for op in self.ops() if op in WRITE_OPS]

    def _enter(self, op, kwargs):
        self.calls.append((op, kwargs))
        pending = self.errors.get(op)
        if pending:
            raise pending.pop(0)

    def _get(self, arn, op):
        if arn not in self.certs or self.hidden.get(arn, 0) > 0:
            if self.hidden.get(arn, 0) > 0:
                self.hidden[arn] -= 1
            raise client_error("ResourceNotFoundException", operation=op)
        return self.certs[arn]

    # ---- the ACM API ----

    def list_certificates(self, **kwargs):
        self._enter("list_certificates", kwargs)
        statuses = kwargs.get("CertificateStatuses")
        keys = (kwargs.get("Includes") or {}).get("keyTypes") or ["RSA_1024", "RSA_2048"]
        found = []
        for cert in self.certs.values():
            if self.hidden.get(cert["CertificateArn"], 0) > 0:
                continue
            if self.honour_filters and ((statuses and cert["Status"] not in statuses) or cert["KeyAlgorithm"] not in keys):
                continue
            fields = ("CertificateArn", "DomainName", "Status", "Type", "KeyAlgorithm", "CreatedAt", "NotAfter", "ManagedBy")
            summary = dict((k, cert[k]) for k in fields if k in cert)
            if "RevokedAt" in cert:
                summary["RevokedAt"] = cert["RevokedAt"]
            if self.summary_sans:
                summary["SubjectAlternativeNameSummaries"] = list(cert["SubjectAlternativeNames"])
                summary["HasAdditionalSubjectAlternativeNames"] = False
            summary["InUse"] = bool(cert["InUseBy"])
            found.append(summary)
        start = int(kwargs.get("NextToken") or 0)
        page = {"CertificateSummaryList": found[start:start + self.page_size]}
        if start + self.page_size < len(found):
            page["NextToken"] = str(start + self.page_size)
        return page

    def describe_certificate(self, CertificateArn):
        self._enter("describe_certificate", {"CertificateArn": CertificateArn})
        cert = self._get(CertificateArn, "DescribeCertificate")
        script = self.statuses.get(CertificateArn)
        if script:
            cert["Status"] = script.pop(0)
        shown = dict(cert)
        shown["DomainValidationOptions"] = [dict(o) for o in cert["DomainValidationOptions"]]
        if cert["InUseBy"] and CertificateArn in self.in_use_linger:
            if self.in_use_linger[CertificateArn] <= 0:
                cert["InUseBy"] = []
            self.in_use_linger[CertificateArn] -= 1
            shown["InUseBy"] = list(cert["InUseBy"])
        if self.records_after.get(CertificateArn, 0) > 0:
            self.records_after[CertificateArn] -= 1
            for option in shown["DomainValidationOptions"]:
                option.pop("ResourceRecord", None)
        return {"Certificate": shown}

    def list_tags_for_certificate(self, CertificateArn):
        self._enter("list_tags_for_certificate", {"CertificateArn": CertificateArn})
        self._get(CertificateArn, "ListTagsForCertificate")
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags[CertificateArn].items()]}

    def add_tags_to_certificate(self, CertificateArn, Tags):
        self._enter("add_tags_to_certificate", {"CertificateArn": CertificateArn, "Tags": Tags})
        self._get(CertificateArn, "AddTagsToCertificate")
        self.tags[CertificateArn].update((t["Key"], t["Value"]) for t in Tags)
        return {}

    def delete_certificate(self, CertificateArn):
        self._enter("delete_certificate", {"CertificateArn": CertificateArn})
        cert = self._get(CertificateArn, "DeleteCertificate")
        if cert["InUseBy"] or self.delete_in_use.get(CertificateArn, 0) > 0:
            self.delete_in_use[CertificateArn] = self.delete_in_use.get(CertificateArn, 0) - 1
            raise client_error("ResourceInUseException", operation="DeleteCertificate")
        del self.certs[CertificateArn]
        return {}

    def request_certificate(self, **kwargs):
        self._enter("request_certificate", kwargs)
        token = kwargs.get("IdempotencyToken")
        if token in self.tokens:
            return {"CertificateArn": self.tokens[token]}
        if self.on_request:
            self.on_request(self)
        arn = self.add(kwargs["DomainName"], kwargs.get("SubjectAlternativeNames") or [], status="PENDING_VALIDATION",
                       created=NOW, tags=tags_dict(kwargs.get("Tags")), key=kwargs.get("KeyAlgorithm", "RSA_2048"),
                       serial=None)
        cert = self.certs[arn]
        cert.pop("NotAfter")
        cert.pop("Serial")
        for option in cert["DomainValidationOptions"]:
            option["ValidationStatus"] = "PENDING_VALIDATION"
        self.tokens[token] = arn
        self.hidden[arn] = self.hide_new
        return {"CertificateArn": arn}


class FakeCloudFront:
    """GetDistribution only: the ids in ``existing`` exist, any other is NoSuchDistribution."""

    def __init__(self, existing=()):
        self.existing = set(existing)
        self.calls = []

    def get_distribution(self, Id):
        self.calls.append(Id)
        if Id not in self.existing:
            raise client_error("NoSuchDistribution", status=404, operation="GetDistribution")
        return {"Distribution": {"Id": Id, "Status": "Deployed"}, "ETag": "E1"}


def tags_dict(tags):
    return dict((t["Key"], t["Value"]) for t in tags or [])


def params(**overrides):
    base = dict(domain_name="links.example.com", certificate_arn=None, subject_alternative_names=[],
                key_algorithm="RSA_2048", tags=None, state="present", wait=False, wait_timeout=3600,
                validation_timeout=300, force=False)
    base.update(overrides)
    return base


def run(fake, check_mode=False, clock=None, cloudfront=None, progress=None, **overrides):
    clock = clock or FakeClock(1000.0)
    caller = AwsCaller(clock=clock)
    extra = {}
    if cloudfront is not None:
        extra["cloudfront"] = lambda: cloudfront
    if progress is not None:
        extra["progress"] = progress
    manager = AcmCertificateManager(fake, caller, clock=clock, check_mode=check_mode, utcnow=lambda: NOW, **extra)
    return manager.run(build_spec(params(**overrides)))


MANAGED = {"linktrack.https:managed": "true"}


# --------------------------------------------------------------------------
# Reuse against request
# --------------------------------------------------------------------------


def test_existing_issued_certificate_is_reused_with_two_requests():
    fake = FakeAcm()
    fake.add("other.example.com")
    arn = fake.add("links.example.com", tags=MANAGED, serial="0A:1B:2C")
    result = run(fake)
    assert fake.ops() == ["list_certificates", "describe_certificate"]
    list_kwargs = fake.calls[0][1]
    assert sorted(list_kwargs["CertificateStatuses"]) == ["ISSUED", "PENDING_VALIDATION"]
    assert list_kwargs["Includes"] == {"keyTypes": ["RSA_2048"]}
    assert result["changed"] is False
    assert result["differences"] == []
    assert result["arn"] == arn
    assert result["status"] == "ISSUED"
    assert result["domain_name"] == "links.example.com"
    assert result["subject_alternative_names"] == []
    assert result["serial"] == "0a:1b:2c"
    assert result["not_after"] == "2027-03-28T12:00:00Z"
    assert result["key_algorithm"] == "RSA_2048"
    assert result["validation_records"] == [
        {"domain_name": "links.example.com", "name": "_abc.links.example.com", "type": "CNAME", "value": RECORD_VALUE}
    ]
    assert result["aws_requests"] == 2
    assert result["retries"] == 0


def test_listing_reads_every_page_then_describes_once():
    fake = FakeAcm(page_size=2)
    for index in range(5):
        fake.add("site%d.example.com" % index)
    arn = fake.add("links.example.com")
    result = run(fake)
    assert fake.ops() == ["list_certificates"] * 3 + ["describe_certificate"]
    assert [kw.get("NextToken") for op, kw in fake.calls if op == "list_certificates"] == [None, "2", "4"]
    assert result["arn"] == arn and result["changed"] is False


def test_names_are_compared_as_a_set_and_case_insensitively():
    fake = FakeAcm()
    arn = fake.add("links.example.com", sans=["www.links.example.com"])
    result = run(fake, domain_name="LINKS.example.com.", subject_alternative_names=["WWW.links.example.com", "links.example.com"])
    assert result["arn"] == arn
    assert result["subject_alternative_names"] == ["www.links.example.com"]
    assert fake.writes() == []


def test_certificate_with_more_names_is_not_reused():
    fake = FakeAcm()
    fake.add("links.example.com", sans=["other.example.com"])
    result = run(fake)
    assert fake.writes() == ["request_certificate"]
    assert result["changed"] is True


def test_request_when_nothing_matches():
    fake = FakeAcm()
    result = run(fake, subject_alternative_names=["www.links.example.com"], tags={"team": "email"})
    request = [kw for op, kw in fake.calls if op == "request_certificate"]
    assert len(request) == 1
    kw = request[0]
    assert kw["DomainName"] == "links.example.com"
    assert kw["SubjectAlternativeNames"] == ["links.example.com", "www.links.example.com"]
    assert kw["ValidationMethod"] == "DNS"
    assert kw["KeyAlgorithm"] == "RSA_2048"
    assert tags_dict(kw["Tags"]) == {"linktrack.https:managed": "true", "team": "email"}
    assert kw["IdempotencyToken"] == idempotency_token(["www.links.example.com", "links.example.com"], "RSA_2048")
    assert result["changed"] is True
    assert result["status"] == "PENDING_VALIDATION"
    assert result["arn"] == fake.tokens[kw["IdempotencyToken"]]
    assert result["managed"] is True
    assert [r["domain_name"] for r in result["validation_records"]] == ["links.example.com", "www.links.example.com"]
    assert result["differences"] == [{
        "field": "certificate", "before": None,
        "after": {"domain_name": "links.example.com", "subject_alternative_names": ["www.links.example.com"],
                  "key_algorithm": "RSA_2048", "tags": {"linktrack.https:managed": "true", "team": "email"}},
    }]
    assert result["diff"]["before"] == {"certificate": None}


def test_second_run_after_request_reuses_it():
    fake = FakeAcm()
    first = run(fake)
    fake.calls = []
    second = run(fake)
    assert second["changed"] is False
    assert second["arn"] == first["arn"]
    assert fake.ops() == ["list_certificates", "describe_certificate"]


def test_idempotency_token_is_deterministic_and_fits_acm():
    token = idempotency_token(["links.example.com", "a.example.com"], "RSA_2048")
    assert token == idempotency_token(["a.example.com", "links.example.com"], "RSA_2048")
    assert token == idempotency_token(["A.example.com", "links.example.com"], "RSA_2048")
    assert token != idempotency_token(["a.example.com", "links.example.com"], "EC_prime256v1")
    assert token != idempotency_token(["links.example.com"], "RSA_2048")
    assert token != idempotency_token(["a.example.com", "links.example.com"], "RSA_2048", salt="x")
    assert len(token) == 32 and re.match(r"^\w+$", token)


@pytest.mark.parametrize("status, extra", [
    ("EXPIRED", {}),
    ("REVOKED", {}),
    ("FAILED", {"failure_reason": "CAA_ERROR"}),
    ("VALIDATION_TIMED_OUT", {}),
    ("ISSUED", {"not_after": NOW - datetime.timedelta(days=1)}),
    ("ISSUED", {"revoked": True}),
    ("ISSUED", {"kind": "IMPORTED"}),
    ("ISSUED", {"key": "EC_prime256v1"}),
    ("PENDING_VALIDATION", {"method": "EMAIL"}),
])
def test_unusable_certificates_are_not_reused(status, extra):
    # the fake ignores the list filters, so the logic's own checks are what is tested
    fake = FakeAcm(honour_filters=False)
    old = fake.add("links.example.com", status=status, tags=MANAGED, **extra)
    result = run(fake)
    assert fake.writes() == ["request_certificate"]
    assert result["arn"] != old
    assert result["changed"] is True


def test_pending_validation_certificate_is_reused():
    fake = FakeAcm()
    arn = fake.add("links.example.com", status="PENDING_VALIDATION")
    result = run(fake)
    assert result["arn"] == arn and result["status"] == "PENDING_VALIDATION"
    assert fake.writes() == []


def test_two_candidates_the_collection_tagged_one_wins():
    fake = FakeAcm()
    fake.add("links.example.com", created=NOW - datetime.timedelta(days=90))  # older, untagged
    tagged = fake.add("links.example.com", created=NOW - datetime.timedelta(days=5), tags=MANAGED)
    result = run(fake)
    assert result["arn"] == tagged
    assert result["managed"] is True
    assert fake.ops().count("list_tags_for_certificate") == 2
    assert fake.ops()[-1] == "describe_certificate"
    assert fake.writes() == []


def test_candidate_deleted_before_its_tags_are_read_is_dropped():
    # a concurrent run settled on the other certificate and deleted this one
    # between our listing and our ListTagsForCertificate
    fake = FakeAcm()
    first = fake.add("links.example.com", created=NOW - datetime.timedelta(days=90))
    second = fake.add("links.example.com", created=NOW - datetime.timedelta(days=5))

    def vanish(CertificateArn):
        fake.calls.append(("list_tags_for_certificate", {"CertificateArn": CertificateArn}))
        if CertificateArn == first:
            raise client_error("ResourceNotFoundException", operation="ListTagsForCertificate")
        return {"Tags": []}

    fake.list_tags_for_certificate = vanish
    result = run(fake)
    assert result["arn"] == second
    assert fake.writes() == []


def test_other_errors_reading_tags_still_fail():
    fake = FakeAcm()
    fake.add("links.example.com")
    fake.add("links.example.com")
    fake.errors["list_tags_for_certificate"] = [client_error("AccessDeniedException")]
    with pytest.raises(ClientError):
        run(fake)


def test_two_untagged_candidates_the_oldest_wins():
    fake = FakeAcm()
    fake.add("links.example.com", created=NOW - datetime.timedelta(days=5))
    oldest = fake.add("links.example.com", created=NOW - datetime.timedelta(days=90))
    result = run(fake)
    assert result["arn"] == oldest
    assert result["managed"] is False


def test_candidates_without_name_summaries_are_confirmed_by_describe():
    # an emulator that lists only DomainName: names are checked with DescribeCertificate
    fake = FakeAcm(summary_sans=False)
    fake.add("links.example.com", sans=["www.links.example.com"])
    exact = fake.add("links.example.com")
    result = run(fake)
    assert result["arn"] == exact
    assert fake.writes() == []


# --------------------------------------------------------------------------
# Two runs at once
# --------------------------------------------------------------------------


def test_concurrent_older_certificate_wins_and_ours_is_deleted():
    fake = FakeAcm()
    holder = {}

    def other_host(acm):
        holder["arn"] = acm.add("links.example.com", status="PENDING_VALIDATION",
                                created=NOW - datetime.timedelta(seconds=5), tags=MANAGED)

    fake.on_request = other_host
    result = run(fake)
    mine = fake.tokens[idempotency_token(["links.example.com"], "RSA_2048")]
    assert result["arn"] == holder["arn"]
    assert mine not in fake.certs
    assert [kw["CertificateArn"] for op, kw in fake.calls if op == "delete_certificate"] == [mine]
    assert list(fake.certs) == [holder["arn"]]
    assert result["changed"] is True


def test_concurrent_newer_certificate_loses_and_ours_is_kept():
    fake = FakeAcm()
    holder = {}

    def other_host(acm):
        holder["arn"] = acm.add("links.example.com", status="PENDING_VALIDATION",
                                created=NOW + datetime.timedelta(seconds=5), tags=MANAGED)

    fake.on_request = other_host
    result = run(fake)
    assert result["arn"] != holder["arn"]
    assert "delete_certificate" not in fake.ops()  # the other host deletes its own


def test_stale_token_pointing_at_a_deleted_certificate_moves_to_the_next_token():
    fake = FakeAcm()
    first_token = idempotency_token(["links.example.com"], "RSA_2048")
    fake.tokens[first_token] = "arn:aws:acm:us-east-1:123456789012:certificate/gone"
    clock = FakeClock(1000.0)
    result = run(fake, clock=clock, visibility_timeout=20)
    # only after the visibility window: a new certificate is unknown for seconds too
    assert clock.t - 1000.0 == pytest.approx(20)
    tokens = [kw["IdempotencyToken"] for op, kw in fake.calls if op == "request_certificate"]
    assert tokens == [first_token, idempotency_token(["links.example.com"], "RSA_2048",
                                                     "arn:aws:acm:us-east-1:123456789012:certificate/gone")]
    assert result["arn"] in fake.certs
    assert len(fake.certs) == 1


def test_server_error_on_request_is_retried_with_the_same_token():
    # the token is what makes a retried request safe: ACM answers it with the certificate it made
    fake = FakeAcm()
    fake.errors["request_certificate"] = [client_error("InternalFailure", status=500), client_error("500", status=503)]
    clock = FakeClock(1000.0)
    result = run(fake, clock=clock)
    tokens = [kw["IdempotencyToken"] for op, kw in fake.calls if op == "request_certificate"]
    assert tokens == [idempotency_token(["links.example.com"], "RSA_2048")] * 3
    assert list(fake.certs) == [result["arn"]]
    assert result["retries"] == 2 and len(clock.sleeps) == 2


def test_server_error_after_acm_made_the_certificate_gives_one_certificate():
    # the first answer is lost (5xx) after ACM made the certificate: the retry gets the same one
    fake = FakeAcm()
    original = fake.request_certificate
    answers = []

    def made_then_failed(**kwargs):
        answer = original(**kwargs)
        answers.append(answer)
        if len(answers) == 1:
            raise client_error("ServiceUnavailable", status=503)
        return answer

    fake.request_certificate = made_then_failed
    result = run(fake)
    assert len(fake.certs) == 1 and result["arn"] in fake.certs
    assert [a["CertificateArn"] for a in answers] == [result["arn"]] * 2
    assert "delete_certificate" not in fake.ops()


def test_server_errors_to_the_end_fail_with_aws_error_and_keep_the_token():
    fake = FakeAcm()
    fake.errors["request_certificate"] = [client_error("InternalFailure", status=500) for dummy in range(10)]
    with pytest.raises(ClientError):
        run(fake)
    tokens = set(kw["IdempotencyToken"] for op, kw in fake.calls if op == "request_certificate")
    assert tokens == {idempotency_token(["links.example.com"], "RSA_2048")}
    assert fake.certs == {}


def test_request_gives_up_after_every_token_met_a_deleted_certificate():
    fake = FakeAcm()
    salt = ""
    for index in range(8):
        gone = "arn:aws:acm:us-east-1:123456789012:certificate/gone-%d" % index
        fake.tokens[idempotency_token(["links.example.com"], "RSA_2048", salt)] = gone
        salt = gone
    with pytest.raises(LinktrackError) as info:
        run(fake, visibility_timeout=5)
    assert info.value.field == "domain_name"
    assert "after 8 tries" in info.value.message and "deleted" in info.value.message
    assert fake.certs == {}
    assert len(info.value.details["attempts"]) == 8


def test_new_certificate_unknown_for_a_while_is_read_again_with_the_same_arn():
    # ACM: "a delay of several seconds before you can retrieve information about the new certificate"
    fake = FakeAcm()
    fake.hide_new = 4
    clock = FakeClock(1000.0)
    result = run(fake, clock=clock)
    assert fake.writes() == ["request_certificate"]
    assert len(fake.certs) == 1 and result["arn"] in fake.certs
    described = [kw["CertificateArn"] for op, kw in fake.calls if op == "describe_certificate"]
    assert described[:5] == [result["arn"]] * 5
    assert result["status"] == "PENDING_VALIDATION" and result["changed"] is True
    assert result["waited_seconds"] == pytest.approx(sum(clock.sleeps)) and result["waited_seconds"] > 0
    assert [h["state"] for h in result["wait_history"]][:4] == ["not visible yet"] * 4
    again = run(fake)
    assert again["arn"] == result["arn"] and again["changed"] is False


def test_new_certificate_missing_from_the_list_after_the_request_is_kept():
    # visible to DescribeCertificate, not yet to ListCertificates: _settle keeps it
    fake = FakeAcm()
    original = fake.request_certificate
    unlisted = []

    def request(**kwargs):
        answer = original(**kwargs)
        fake.hidden.pop(answer["CertificateArn"], None)
        unlisted.append(answer["CertificateArn"])
        return answer

    fake.request_certificate = request
    listed = fake.list_certificates

    def list_certificates(**kwargs):
        page = listed(**kwargs)
        page["CertificateSummaryList"] = [s for s in page["CertificateSummaryList"]
                                          if s["CertificateArn"] not in unlisted]
        return page

    fake.list_certificates = list_certificates
    result = run(fake)
    assert list(fake.certs) == [result["arn"]]
    assert "delete_certificate" not in fake.ops()


def test_new_certificate_that_never_shows_counts_as_gone_only_after_the_window():
    fake = FakeAcm()
    fake.hide_new = 10 ** 6
    clock = FakeClock(1000.0)
    with pytest.raises(LinktrackError):
        run(fake, clock=clock, visibility_timeout=30)
    # eight tokens, each read for its whole window before the next
    assert clock.t - 1000.0 == pytest.approx(8 * 30)


def test_certificate_managed_by_cloudfront_is_not_reused():
    fake = FakeAcm()
    managed = fake.add("links.example.com", tags=MANAGED, managed_by="CLOUDFRONT")
    result = run(fake)
    assert result["arn"] != managed
    assert fake.writes() == ["request_certificate"]


def test_certificate_managed_by_cloudfront_is_skipped_among_candidates():
    fake = FakeAcm()
    fake.add("links.example.com", created=NOW - datetime.timedelta(days=90), managed_by="CLOUDFRONT")
    mine = fake.add("links.example.com", created=NOW - datetime.timedelta(days=5))
    result = run(fake)
    assert result["arn"] == mine and fake.writes() == []


# --------------------------------------------------------------------------
# Validation records and waiting
# --------------------------------------------------------------------------


def test_validation_record_that_appears_late_is_waited_for():
    fake = FakeAcm()
    clock = FakeClock(1000.0)
    arn = fake.add("links.example.com", status="PENDING_VALIDATION")
    fake.records_after[arn] = 3
    result = run(fake, clock=clock)
    assert result["validation_records"] == [
        {"domain_name": "links.example.com", "name": "_abc.links.example.com", "type": "CNAME", "value": RECORD_VALUE}
    ]
    assert fake.ops().count("describe_certificate") == 4
    assert len(clock.sleeps) == 2
    assert result["waited_seconds"] == pytest.approx(sum(clock.sleeps))
    assert result["waited_seconds"] > 0


def test_validation_record_that_never_appears_times_out():
    fake = FakeAcm()
    arn = fake.add("links.example.com", status="PENDING_VALIDATION")
    fake.records_after[arn] = 10 ** 6
    with pytest.raises(LinktrackError) as info:
        run(fake, validation_timeout=30)
    assert info.value.field == "validation_timeout"
    assert arn in info.value.message


def test_wait_until_issued():
    fake = FakeAcm()
    clock = FakeClock(1000.0)
    arn = fake.add("links.example.com", status="PENDING_VALIDATION")
    fake.statuses[arn] = ["PENDING_VALIDATION", "PENDING_VALIDATION", "PENDING_VALIDATION", "ISSUED"]
    result = run(fake, clock=clock, wait=True)
    assert result["status"] == "ISSUED"
    assert result["waited_seconds"] > 0
    assert fake.writes() == []


def test_wait_fails_with_acm_reason_and_expected_record():
    fake = FakeAcm()
    arn = fake.add("links.example.com", status="PENDING_VALIDATION")
    fake.statuses[arn] = ["PENDING_VALIDATION", "PENDING_VALIDATION", "FAILED"]
    fake.certs[arn]["FailureReason"] = "CAA_ERROR"
    with pytest.raises(LinktrackError) as info:
        run(fake, wait=True)
    message = info.value.message
    assert "FAILED" in message and "CAA_ERROR" in message
    assert "_abc.links.example.com CNAME " + RECORD_VALUE in message
    assert info.value.details["failure_reason"] == "CAA_ERROR"
    assert info.value.details["validation_records"][0]["name"] == "_abc.links.example.com"


def test_wait_times_out_naming_wait_timeout():
    fake = FakeAcm()
    clock = FakeClock(1000.0)
    arn = fake.add("links.example.com", status="PENDING_VALIDATION")
    fake.statuses[arn] = ["PENDING_VALIDATION"] * 1000
    with pytest.raises(LinktrackError) as info:
        run(fake, clock=clock, wait=True, wait_timeout=60)
    assert info.value.field == "wait_timeout"
    assert clock.t - 1000.0 == pytest.approx(60)


# --------------------------------------------------------------------------
# Throttling
# --------------------------------------------------------------------------


def test_throttling_then_success():
    fake = FakeAcm()
    arn = fake.add("links.example.com")
    fake.errors["list_certificates"] = [client_error("ThrottlingException")]
    fake.errors["describe_certificate"] = [client_error("Throttling")]
    clock = FakeClock(1000.0)
    result = run(fake, clock=clock)
    assert result["arn"] == arn
    assert result["retries"] == 2
    assert result["aws_requests"] == 4
    assert fake.ops() == ["list_certificates", "list_certificates", "describe_certificate", "describe_certificate"]
    assert len(clock.sleeps) == 2


def _given_up(error, attempts):
    """Every ListCertificates call raises ``error``; the caller gives up after ``attempts``.

    Returns (the exception, the failed result, the clock, the caller).
    """
    fake = FakeAcm()
    fake.errors["list_certificates"] = [error] * attempts
    clock = FakeClock(1000.0)
    caller = AwsCaller(clock=clock, max_attempts=attempts)
    manager = AcmCertificateManager(fake, caller, clock=clock, utcnow=lambda: NOW)
    with pytest.raises(type(error)) as err:
        manager.run(build_spec(params()))
    return err.value, result_from_exception(err.value, {"retries": caller.retries}, caller), clock, caller


def test_throttled_to_the_end_says_how_often_it_tried():
    exc, result, clock, caller = _given_up(client_error("ThrottlingException", "Rate exceeded"), 3)
    assert result["failed"] and result["error_code"] == "ThrottlingException" and result["retries"] == 2
    assert result["msg"] == (
        "AWS answered ThrottlingException: An error occurred (ThrottlingException) when calling the Op operation: "
        "Rate exceeded; the collection tried it 3 times in %.0f s, with backoff, and gave up" % sum(clock.sleeps))
    # without the caller, or for an error it did not give up on, no such sentence
    assert "tried it" not in result_from_exception(exc)["msg"]
    assert "tried it" not in result_from_exception(client_error("AccessDeniedException"), None, caller)["msg"]


def test_unreachable_to_the_end_says_how_often_it_tried():
    _exc, result, clock, _caller = _given_up(EndpointConnectionError(endpoint_url="https://acm.us-east-1.amazonaws.com/"), 2)
    assert "error_code" not in result
    # botocore's text ends in a quote, not a full stop: nothing is cut
    assert result["msg"] == (
        'EndpointConnectionError: Could not connect to the endpoint URL: "https://acm.us-east-1.amazonaws.com/"'
        "; the collection tried it 2 times in %.0f s, with backoff, and gave up" % sum(clock.sleeps))


def test_non_retryable_error_surfaces_at_once():
    fake = FakeAcm()
    fake.errors["list_certificates"] = [client_error("AccessDeniedException")]
    with pytest.raises(ClientError):
        run(fake)
    assert fake.ops() == ["list_certificates"]


# --------------------------------------------------------------------------
# Check mode and tags
# --------------------------------------------------------------------------


def test_check_mode_request_makes_no_write_call():
    fake = FakeAcm()
    result = run(fake, check_mode=True)
    assert fake.writes() == []
    assert fake.certs == {}
    assert result["changed"] is True
    assert result["arn"] is None and result["status"] is None
    assert result["validation_records"] == []
    assert [d["field"] for d in result["differences"]] == ["certificate"]
    assert result["diff"] == {"before": {"certificate": None},
                              "after": {"certificate": {"domain_name": "links.example.com",
                                                        "subject_alternative_names": [],
                                                        "key_algorithm": "RSA_2048",
                                                        "tags": {"linktrack.https:managed": "true"}}}}


def test_check_mode_existing_certificate_reports_no_change():
    fake = FakeAcm()
    arn = fake.add("links.example.com")
    result = run(fake, check_mode=True)
    assert result["changed"] is False and result["arn"] == arn
    assert fake.writes() == []


def test_missing_tags_are_added_and_shown_in_the_diff():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags={"team": "old", "keep": "me"})
    result = run(fake, tags={"team": "email", "keep": "me"})
    assert result["changed"] is True
    assert result["differences"] == [{"field": "tags", "before": {"team": "old"}, "after": {"team": "email"}}]
    assert fake.tags[arn] == {"team": "email", "keep": "me"}
    fake.calls = []
    again = run(fake, tags={"team": "email", "keep": "me"})
    assert again["changed"] is False
    assert fake.writes() == []


def test_check_mode_tags_are_not_written():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags={"team": "old"})
    result = run(fake, check_mode=True, tags={"team": "email"})
    assert result["changed"] is True
    assert fake.tags[arn] == {"team": "old"}
    assert fake.writes() == []


# --------------------------------------------------------------------------
# certificate_arn
# --------------------------------------------------------------------------


def test_certificate_arn_describes_only():
    fake = FakeAcm()
    arn = fake.add("links.example.com")
    result = run(fake, domain_name=None, certificate_arn=arn)
    assert fake.ops() == ["describe_certificate"]
    assert result["arn"] == arn and result["changed"] is False


def test_certificate_arn_that_does_not_exist():
    fake = FakeAcm()
    with pytest.raises(LinktrackError) as info:
        run(fake, domain_name=None, certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/nope")
    assert info.value.field == "certificate_arn"


def test_certificate_arn_must_cover_domain_name():
    fake = FakeAcm()
    arn = fake.add("other.example.com")
    with pytest.raises(LinktrackError) as info:
        run(fake, certificate_arn=arn)
    assert info.value.field == "certificate_arn"
    assert "links.example.com" in info.value.message


# --------------------------------------------------------------------------
# state=absent
# --------------------------------------------------------------------------


def test_absent_deletes_the_tagged_certificate_then_reports_no_change():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED, status="FAILED")
    keep = fake.add("other.example.com", tags=MANAGED)
    result = run(fake, state="absent")
    assert result["changed"] is True
    assert result["deleted"] == [arn]
    assert list(fake.certs) == [keep]
    list_kwargs = fake.calls[0][1]
    assert "CertificateStatuses" not in list_kwargs
    assert "EC_prime256v1" in list_kwargs["Includes"]["keyTypes"]
    again = run(fake, state="absent")
    assert again["changed"] is False and again["deleted"] == []


def test_absent_refuses_untagged_without_force():
    fake = FakeAcm()
    arn = fake.add("links.example.com")
    with pytest.raises(LinktrackError) as info:
        run(fake, state="absent")
    assert info.value.field == "force"
    assert arn in info.value.message
    assert fake.writes() == []
    result = run(fake, state="absent", force=True)
    assert result["deleted"] == [arn] and fake.certs == {}


def test_absent_refuses_in_use_and_names_the_users():
    fake = FakeAcm()
    user = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"
    fake.add("links.example.com", tags=MANAGED, in_use_by=[user])
    fake.add("links.example.com", tags=MANAGED, status="EXPIRED")
    with pytest.raises(LinktrackError) as info:
        run(fake, state="absent", force=True)
    assert user in info.value.message
    assert fake.writes() == []  # nothing deleted, not even the unused one
    assert len(fake.certs) == 2


def test_absent_check_mode_deletes_nothing():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED)
    result = run(fake, state="absent", check_mode=True)
    assert result["changed"] is True and result["deleted"] == [arn]
    assert result["diff"]["before"]["certificates"][0]["arn"] == arn
    assert result["diff"]["after"] == {"certificates": []}
    assert fake.writes() == [] and arn in fake.certs


def test_absent_by_arn():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED)
    result = run(fake, state="absent", domain_name=None, certificate_arn=arn)
    assert result["deleted"] == [arn]
    # one listing, only to learn whether another certificate still needs the validation record
    assert fake.ops().count("list_certificates") == 1
    assert fake.ops().count("describe_certificate") == 1
    again = run(fake, state="absent", domain_name=None, certificate_arn=arn)
    assert again["changed"] is False


# --------------------------------------------------------------------------
# Bad input, before any call
# --------------------------------------------------------------------------


@pytest.mark.parametrize("overrides, field, fragment", [
    ({"domain_name": ""}, "domain_name", "empty"),
    ({"domain_name": "a" * 64 + ".example.com"}, "domain_name", "at most 63"),
    ({"domain_name": ".".join(["abcdefghij"] * 24)}, "domain_name", "at most 253"),
    ({"domain_name": "links_x.example.com"}, "domain_name", "underscore"),
    ({"domain_name": "links example.com"}, "domain_name", "white space"),
    ({"domain_name": "https://links.example.com"}, "domain_name", "scheme"),
    ({"domain_name": "links.example.com/path"}, "domain_name", "path"),
    ({"domain_name": "com"}, "domain_name", "top-level"),
    ({"domain_name": "*.example.com"}, "domain_name", "wildcard"),
    ({"domain_name": "a" * 60 + ".example.com"}, "domain_name", "at most 64"),
    ({"subject_alternative_names": ["bad name.example.com"]}, "subject_alternative_names[0]", "white space"),
    ({"key_algorithm": "RSA_1024"}, "key_algorithm", "RSA_2048"),
    ({"wait_timeout": 0}, "wait_timeout", "above 0"),
    ({"wait_timeout": -5}, "wait_timeout", "above 0"),
    ({"validation_timeout": 0}, "validation_timeout", "above 0"),
    ({"domain_name": None}, "domain_name", "required"),
    ({"certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x"}, "certificate_arn", "us-east-1"),
    ({"certificate_arn": "not-an-arn"}, "certificate_arn", "not an ACM certificate ARN"),
    ({"tags": {"linktrack.https:managed": "false"}}, "tags", "is reserved; the collection sets it on every certificate"),
    ({"tags": {"aws:x": "y"}}, "tags", "aws:"),
])
def test_bad_input_is_refused_naming_the_field(overrides, field, fragment):
    with pytest.raises(LinktrackError) as info:
        build_spec(params(**overrides))
    assert info.value.field == field
    assert fragment in info.value.message
    assert field.split("[")[0] in info.value.message


def test_bad_input_makes_no_call():
    fake = FakeAcm()
    with pytest.raises(LinktrackError):
        run(fake, domain_name="*.example.com")
    assert fake.calls == []


def test_names_are_normalised():
    sans = ["B.example.com", "a.example.com", "links.xn--bcher-kva.de"]
    spec = build_spec(params(domain_name="Links.Bücher.DE.", subject_alternative_names=sans))
    assert spec.domain_name == "links.xn--bcher-kva.de"
    assert spec.subject_alternative_names == ["a.example.com", "b.example.com"]
    assert spec.names == ["links.xn--bcher-kva.de", "a.example.com", "b.example.com"]


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("0C:9A:53:18", "0c:9a:53:18"),
    ("143987065952829878956818701037730727638919515791", "19:38:9a:74:8c:2d:7d:b0:6e:f4:e5:ae:58:d0:b1:3c:a0:ef:8e:8f"),
    ("255", "ff"),
    ("abc", "0a:bc"),
    (None, None),
])
def test_format_serial(value, expected):
    assert format_serial(value) == expected


def test_format_time_is_utc_iso():
    local = datetime.datetime(2027, 1, 1, 14, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert format_time(local) == "2027-01-01T12:00:00Z"
    assert format_time(None) is None


# --------------------------------------------------------------------------
# state=absent: users ACM still lists, shared validation records
# --------------------------------------------------------------------------

DIST = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"


def test_absent_waits_while_acm_still_lists_a_deleted_distribution():
    # ACM keeps a deleted distribution in InUseBy for minutes (terraform-provider-aws 3866)
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED, in_use_by=[DIST])
    fake.in_use_linger[arn] = 3
    cloudfront = FakeCloudFront()
    clock = FakeClock(1000.0)
    lines = []
    progress = Progress(report=lines.append, subject="links.example.com")
    result = run(fake, clock=clock, state="absent", cloudfront=cloudfront, progress=progress)
    assert result["deleted"] == [arn] and fake.certs == {}
    assert cloudfront.calls == ["E2EXAMPLE"]  # asked once, remembered
    assert result["waited_seconds"] == pytest.approx(clock.t - 1000.0) and result["waited_seconds"] > 0
    # the first read found it in use; two more polls still list the distribution, the third not
    assert [h["done"] for h in result["wait_history"]] == [False, False, True]
    assert lines[0] == "links.example.com: certificate %s in use by %s, 0s of 30m" % (arn, DIST)
    assert fake.ops().count("delete_certificate") == 1


def test_absent_trusts_the_distributions_the_caller_deleted():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED, in_use_by=[DIST])
    fake.in_use_linger[arn] = 1
    cloudfront = FakeCloudFront(existing=["E2EXAMPLE"])  # still answers right after its delete
    result = run(fake, state="absent", cloudfront=cloudfront, deleted_distributions=["E2EXAMPLE"])
    assert result["deleted"] == [arn]
    assert cloudfront.calls == []


def test_absent_refuses_at_once_while_a_listed_distribution_exists():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED, in_use_by=[DIST])
    clock = FakeClock(1000.0)
    with pytest.raises(LinktrackError) as info:
        run(fake, clock=clock, state="absent", cloudfront=FakeCloudFront(existing=["E2EXAMPLE"]))
    assert DIST in info.value.message and info.value.field == "state"
    assert info.value.details["in_use_by"] == {arn: [DIST]}
    assert clock.t == 1000.0 and fake.writes() == []


def test_absent_refuses_at_once_for_a_user_that_is_not_a_distribution():
    fake = FakeAcm()
    user = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
    fake.add("links.example.com", tags=MANAGED, in_use_by=[user, DIST])
    with pytest.raises(LinktrackError) as info:
        run(fake, state="absent", cloudfront=FakeCloudFront())
    assert user in info.value.message and DIST not in info.value.message
    assert fake.writes() == []


def test_absent_waits_out_resource_in_use_from_delete():
    # InUseBy already empty, DeleteCertificate still says ResourceInUseException
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED)
    fake.delete_in_use[arn] = 2
    clock = FakeClock(1000.0)
    result = run(fake, clock=clock, state="absent", cloudfront=FakeCloudFront())
    assert result["deleted"] == [arn] and fake.certs == {}
    assert fake.ops().count("delete_certificate") == 3
    assert result["waited_seconds"] > 0 and len(result["wait_history"]) == 2


def test_absent_resource_in_use_from_delete_with_a_living_user_refuses():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED)
    original = fake.delete_certificate

    def attached_meanwhile(CertificateArn):
        fake.certs[CertificateArn]["InUseBy"] = [DIST]
        fake.delete_certificate = original
        return original(CertificateArn)

    fake.delete_certificate = attached_meanwhile
    with pytest.raises(LinktrackError) as info:
        run(fake, state="absent", cloudfront=FakeCloudFront(existing=["E2EXAMPLE"]))
    assert DIST in info.value.message
    assert arn in fake.certs


def test_absent_in_use_timeout_names_the_option():
    fake = FakeAcm()
    arn = fake.add("links.example.com", tags=MANAGED, in_use_by=[DIST])
    fake.in_use_linger[arn] = 10 ** 6
    clock = FakeClock(1000.0)
    with pytest.raises(LinktrackError) as info:
        run(fake, clock=clock, state="absent", cloudfront=FakeCloudFront(), in_use_timeout=120)
    assert info.value.field == "in_use_timeout"
    assert DIST in info.value.message and "10 to 20 minutes" in info.value.message
    assert clock.t - 1000.0 == pytest.approx(120)
    assert info.value.details["wait_history"][-1]["elapsed"] == pytest.approx(120)
    assert arn in fake.certs


def test_absent_keeps_the_validation_record_another_certificate_needs():
    # ACM uses one validation CNAME for every certificate of a name in the account
    fake = FakeAcm()
    mine = fake.add("links.example.com", tags=MANAGED)
    other = fake.add("links.example.com", sans=["www.links.example.com"])
    fake.add("links.example.com", sans=["old.links.example.com"], status="EXPIRED")
    result = run(fake, state="absent")
    assert result["deleted"] == [mine] and other in fake.certs
    assert result["validation_records"] == [
        {"domain_name": "links.example.com", "name": "_abc.links.example.com", "type": "CNAME", "value": RECORD_VALUE}]
    assert result["validation_records_in_use"] == [
        {"domain_name": "links.example.com", "name": "_abc.links.example.com", "type": "CNAME", "value": RECORD_VALUE,
         "needed_by": [other]}]


def test_absent_keeps_the_record_when_the_list_shows_no_alternative_names():
    # moto lists only DomainName: a certificate whose other name matches is described to find out
    fake = FakeAcm(summary_sans=False)
    mine = fake.add("links.example.com", tags=MANAGED)
    by_name = fake.add("links.example.com", sans=["www.links.example.com"])
    by_san = fake.add("other.example.com", sans=["links.example.com"])
    fake.add("unrelated.example.com")
    result = run(fake, state="absent")
    assert result["deleted"] == [mine]
    assert result["validation_records_in_use"][0]["needed_by"] == sorted([by_name, by_san])


def test_absent_frees_the_validation_record_nobody_else_needs():
    fake = FakeAcm()
    fake.add("links.example.com", tags=MANAGED)
    fake.add("other.example.com")
    fake.add("links.example.com", sans=["x.example.com"], status="FAILED")
    result = run(fake, state="absent")
    assert [r["name"] for r in result["validation_records"]] == ["_abc.links.example.com"]
    assert result["validation_records_in_use"] == []


# --------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------


def test_wait_for_issued_reports_each_poll_and_returns_the_history():
    fake = FakeAcm()
    arn = fake.add("links.example.com", status="PENDING_VALIDATION")
    fake.statuses[arn] = ["PENDING_VALIDATION", "PENDING_VALIDATION", "PENDING_VALIDATION", "ISSUED"]
    lines = []
    result = run(fake, wait=True, wait_timeout=600, progress=Progress(report=lines.append, subject="links.example.com"))
    assert lines[0] == "links.example.com: certificate %s PENDING_VALIDATION, 0s of 10m" % arn
    assert lines[-1].startswith("links.example.com: certificate %s ISSUED, " % arn)
    assert [h["state"] for h in result["wait_history"]] == ["PENDING_VALIDATION"] * 2 + ["ISSUED"]


def test_run_module_takes_progress_and_reports_in_the_result():
    fake = FakeAcm()
    fake.hide_new = 1
    lines = []
    result = run_module(params(), client_factory=lambda service: {"acm": fake}[service], progress=lines.append)
    assert result["changed"] is True and not result.get("failed")
    assert lines and all(line.startswith("links.example.com: certificate arn:aws:acm:") for line in lines)
    assert result["wait_history"][0]["state"] == "not visible yet"


def test_bad_new_options_are_refused_naming_the_field():
    for overrides, field in (({"visibility_timeout": 0}, "visibility_timeout"), ({"in_use_timeout": -1}, "in_use_timeout"),
                             ({"deleted_distributions": ["not a distribution"]}, "deleted_distributions[0]")):
        with pytest.raises(LinktrackError) as info:
            build_spec(params(**overrides))
        assert info.value.field == field and field in info.value.message
