# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sandbox's ACM behaves like ACM (sandbox/README.md, "AWS's behaviour"), and ``instant`` stays moto.

Real sandboxes on loopback, driven through boto3: one at time scale 1 for most
rules, one at a small scale for the validation deadline, one ``instant``.
Timing assertions are bounded by what the client saw: a rule "hidden for 1 s
after the request" is checked only by a call that returned less than 1 s after
the request was sent, so a slow machine fails loudly instead of passing by luck.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re
import time
import uuid

import boto3
import botocore.exceptions
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from linktrack_sandbox import ca, realism, realism_acm, testing

WINDOWS = realism.Windows(1.0)
SMALL_SCALE = 0.05
RECORD_NAME = re.compile(r"^_[0-9a-f]{32}\.(?P<name>.+)\.$")
RECORD_VALUE = re.compile(r"^_[0-9a-f]{32}\.[a-z]{10}\.acm-validations\.aws\.$")


def _start(tmp_path_factory, offset, **settings):
    try:
        return testing.start_sandbox(tmp_path_factory.mktemp("sandbox-acm"), offset, **settings)
    except testing.SandboxStartError as exc:
        pytest.fail(str(exc))


def _stop(values):
    down = testing.stop_sandbox(values)
    assert down.returncode == 0, down.stdout + down.stderr


def _clients(values):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return dict((name, session.client(name, endpoint_url=values["AWS_ENDPOINT_URL"])) for name in ("acm", "route53", "cloudfront"))


@pytest.fixture(scope="module")
def real(tmp_path_factory, sandbox_python):  # pylint: disable=unused-argument
    """A sandbox with AWS's behaviour at time scale 1 (the default): values plus boto3 clients."""
    values = _start(tmp_path_factory, 300)
    values.update(_clients(values))
    yield values
    _stop(values)


@pytest.fixture(scope="module")
def small(tmp_path_factory, sandbox_python):  # pylint: disable=unused-argument
    """A sandbox with AWS's behaviour at a small time scale, for the long windows."""
    values = _start(tmp_path_factory, 400, SANDBOX_AWS_TIME_SCALE=str(SMALL_SCALE))
    values.update(_clients(values))
    yield values
    _stop(values)


def _name(prefix):
    return "%s-%s.example.com" % (prefix, uuid.uuid4().hex[:8])


def _request(acm, domain, sans=None, **kwargs):
    args = {"DomainName": domain, "ValidationMethod": "DNS", "IdempotencyToken": uuid.uuid4().hex[:32]}
    if sans:
        args["SubjectAlternativeNames"] = sans
    args.update(kwargs)
    sent = time.monotonic()
    arn = acm.request_certificate(**args)["CertificateArn"]
    return arn, sent, time.monotonic()


def _code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def _describe(acm, arn):
    return acm.describe_certificate(CertificateArn=arn)["Certificate"]


def _with_records(acm, arn, timeout=10.0):
    cert = testing.wait_for(lambda: _describe(acm, arn), lambda cert: all(
        option.get("ResourceRecord") for option in cert["DomainValidationOptions"]), timeout)
    assert cert is not None, "%s never became known" % arn
    return cert


def _status(acm, arn, timeout):
    return testing.wait_for(lambda: _describe(acm, arn), lambda cert: cert["Status"] != "PENDING_VALIDATION", timeout)


def _listed(acm, arn, **kwargs):
    arns = []
    for page in acm.get_paginator("list_certificates").paginate(**kwargs):
        arns.extend(summary["CertificateArn"] for summary in page["CertificateSummaryList"])
    return arn in arns


# --- 1. unknown at first ----------------------------------------------------------

def _early(acm, call, window, tries=5):
    """``call(arn)`` on a fresh certificate, returning before ``window`` after the request was sent: (arn, answer or error code).

    On a busy machine a call may come back too late to tell; then a new certificate is tried, up to ``tries`` times.
    """
    for dummy in range(tries):
        arn, sent, dummy_returned = _request(acm, _name("early"))
        try:
            answer = call(arn)
        except botocore.exceptions.ClientError as exc:
            answer = exc.response["Error"]["Code"]
        if time.monotonic() < sent + window:
            return arn, answer
    pytest.fail("the machine is too slow: no call came back within %.1f s of its request in %d tries" % (window, tries))
    return None, None


def test_new_certificate_is_unknown_at_first_then_listed(real):
    """RequestCertificate reference: "a delay of several seconds before you can retrieve information about the new certificate"."""
    acm = real["acm"]
    for call in (acm.describe_certificate, acm.list_tags_for_certificate, acm.get_certificate):
        arn, answer = _early(acm, lambda arn, call=call: call(CertificateArn=arn), WINDOWS.acm_unknown)
        assert answer == "ResourceNotFoundException", call
    arn, listed = _early(acm, lambda arn: _listed(acm, arn), WINDOWS.acm_unknown)
    assert listed is False
    time.sleep(WINDOWS.acm_unknown)
    assert _describe(acm, arn)["CertificateArn"] == arn
    assert _listed(acm, arn)
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == []


# --- 2. the ResourceRecord later ------------------------------------------------------

def test_resource_record_appears_after_the_options(real):
    """aws-cdk 18033: DomainValidationOptions come before their ResourceRecord."""
    acm = real["acm"]

    def after_unknown(arn):
        time.sleep(WINDOWS.acm_unknown + 0.05)
        return _describe(acm, arn)
    arn, early = _early(acm, after_unknown, WINDOWS.acm_records)
    assert early["Status"] == "PENDING_VALIDATION"
    assert [option["DomainName"] for option in early["DomainValidationOptions"]] == [early["DomainName"]]
    assert early["DomainValidationOptions"][0]["ValidationStatus"] == "PENDING_VALIDATION"
    assert "ResourceRecord" not in early["DomainValidationOptions"][0]
    for field in ("NotBefore", "NotAfter", "Serial", "IssuedAt"):
        assert field not in early
    later = _with_records(acm, arn)
    assert later["DomainValidationOptions"][0]["ResourceRecord"]["Type"] == "CNAME"


# --- 3. one record per name -------------------------------------------------------------

def test_each_name_has_its_own_record_shared_by_certificates_of_that_name(real):
    acm = real["acm"]
    first, second = _name("rec-a"), _name("rec-b")
    arns = [_request(acm, first, sans=[first, "*." + first, second])[0], _request(acm, first)[0], _request(acm, second)[0]]
    certs = [_with_records(acm, arn) for arn in arns]
    records = [dict((option["DomainName"], option["ResourceRecord"]) for option in cert["DomainValidationOptions"]) for cert in certs]
    assert list(records[0]) == [first, "*." + first, second]
    for record in records[0].values():
        assert RECORD_VALUE.match(record["Value"]), record
    assert RECORD_NAME.match(records[0][first]["Name"]).group("name") == first
    assert RECORD_NAME.match(records[0][second]["Name"]).group("name") == second
    # A wildcard is validated by its base name's record; certificates for one name share it.
    assert records[0]["*." + first] == records[0][first] == records[1][first]
    assert records[0][second] == records[2][second]
    assert records[0][first]["Name"] != records[0][second]["Name"]
    assert records[0][first]["Value"] != records[0][second]["Value"]


# --- 4. ISSUED once the CNAMEs answer ------------------------------------------------------

def test_issued_only_after_the_cname_answers_from_bind(real):
    acm = real["acm"]
    domain = _name("bind")
    arn = _request(acm, domain)[0]
    record = _with_records(acm, arn)["DomainValidationOptions"][0]["ResourceRecord"]
    # Nothing published, then a wrong value: moto alone would be ISSUED after 1 s.
    time.sleep(WINDOWS.acm_issue_after_dns + 0.5)
    assert _describe(acm, arn)["Status"] == "PENDING_VALIDATION"
    assert testing.publish_bind(real, record["Name"], "CNAME", "_wrong.acm-validations.aws.") == "NOERROR"
    time.sleep(WINDOWS.acm_issue_after_dns + 0.5)
    assert _describe(acm, arn)["Status"] == "PENDING_VALIDATION"
    published = time.monotonic()
    assert testing.publish_bind(real, record["Name"], "CNAME", record["Value"]) == "NOERROR"
    cert = _status(acm, arn, 10.0)
    assert cert["Status"] == "ISSUED"
    assert time.monotonic() >= published + WINDOWS.acm_issue_after_dns
    assert cert["DomainValidationOptions"][0]["ValidationStatus"] == "SUCCESS"
    assert cert["NotAfter"] and cert["Serial"]
    # IssuedAt is when ACM issued it, after the record was published (moto alone says the request's time).
    assert cert["IssuedAt"] > cert["CreatedAt"] + datetime.timedelta(seconds=WINDOWS.acm_records)
    assert acm.get_certificate(CertificateArn=arn)["Certificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_every_name_needs_its_record_and_route53_counts(real):
    acm, route53 = real["acm"], real["route53"]
    first, second = _name("san-a"), _name("san-b")
    arn = _request(acm, first, sans=[first, second])[0]
    options = dict((option["DomainName"], option["ResourceRecord"]) for option in _with_records(acm, arn)["DomainValidationOptions"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        acm.get_certificate(CertificateArn=arn)
    assert _code(caught) == "RequestInProgressException"
    assert testing.publish_bind(real, options[first]["Name"], "CNAME", options[first]["Value"]) == "NOERROR"
    time.sleep(WINDOWS.acm_issue_after_dns + 1.0)
    cert = _describe(acm, arn)
    assert cert["Status"] == "PENDING_VALIDATION"
    assert [option["ValidationStatus"] for option in cert["DomainValidationOptions"]] == ["SUCCESS", "PENDING_VALIDATION"]
    testing.publish_route53(route53, options[second]["Name"], "CNAME", options[second]["Value"])
    assert _status(acm, arn, 10.0)["Status"] == "ISSUED"


# --- 6. CAA ----------------------------------------------------------------------------------

CAA_CASES = (
    ('0 issue "letsencrypt.org"', "FAILED"),
    ('0 issue ";"', "FAILED"),
    ('0 issue "amazon.com"', "ISSUED"),
    ('0 issue "awstrust.com; accounturi=x"', "ISSUED"),
    ('0 iodef "mailto:security@example.com"', "ISSUED"),
)


def test_caa_on_a_parent_that_excludes_amazon_fails_the_certificate(real):
    """ACM User Guide, "(Optional) Configure a CAA record": amazon.com, amazontrust.com, awstrust.com, amazonaws.com.

    The cases run side by side: one parent name with its CAA record each, a certificate for www under it.
    """
    acm = real["acm"]
    arns = []
    for caa, dummy in CAA_CASES:
        parent = _name("caa")
        assert testing.publish_bind(real, parent, "CAA", caa) == "NOERROR"
        arns.append(_request(acm, "www." + parent)[0])
    for arn in arns:
        record = _with_records(acm, arn)["DomainValidationOptions"][0]["ResourceRecord"]
        assert testing.publish_bind(real, record["Name"], "CNAME", record["Value"]) == "NOERROR"
    for arn, (caa, status) in zip(arns, CAA_CASES):
        cert = _status(acm, arn, 10.0)
        assert cert["Status"] == status, caa
        if status == "FAILED":
            assert cert["FailureReason"] == "CAA_ERROR"
            assert cert["DomainValidationOptions"][0]["ValidationStatus"] == "FAILED"
        else:
            assert "FailureReason" not in cert


# --- 7. InUseBy --------------------------------------------------------------------------------

def _deployed(cloudfront, dist_id, timeout=30.0):
    return testing.wait_for(lambda: cloudfront.get_distribution(Id=dist_id), lambda got: got["Distribution"]["Status"] == "Deployed", timeout)


def test_in_use_by_lists_the_distribution_and_keeps_a_deleted_one_for_a_while(real):
    """terraform-provider-aws 3866 / PR 3868, serverless-domain-manager 32: InUseBy lags the deletion by minutes."""
    acm, cloudfront = real["acm"], real["cloudfront"]
    alias = _name("inuse")
    arn, status = testing.issue_certificate(acm, alias)
    assert status == "ISSUED"
    assert _describe(acm, arn)["InUseBy"] == []
    dist = cloudfront.create_distribution(
        DistributionConfig=testing.distribution_config(uuid.uuid4().hex, alias, "links.iterable.com", arn))["Distribution"]
    assert _describe(acm, arn)["InUseBy"] == [dist["ARN"]]
    summary = [item for item in acm.list_certificates()["CertificateSummaryList"] if item["CertificateArn"] == arn]
    assert summary[0]["InUse"] is True
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        acm.delete_certificate(CertificateArn=arn)
    assert _code(caught) == "ResourceInUseException"

    _deployed(cloudfront, dist["Id"])
    config = cloudfront.get_distribution_config(Id=dist["Id"])
    config["DistributionConfig"]["Enabled"] = False
    cloudfront.update_distribution(Id=dist["Id"], IfMatch=config["ETag"], DistributionConfig=config["DistributionConfig"])
    etag = _deployed(cloudfront, dist["Id"])["ETag"]
    deleted = time.monotonic()
    cloudfront.delete_distribution(Id=dist["Id"], IfMatch=etag)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        acm.delete_certificate(CertificateArn=arn)
    in_use_by = _describe(acm, arn)["InUseBy"]
    assert time.monotonic() < deleted + WINDOWS.acm_in_use_linger, "the machine is too slow to see the window"
    assert _code(caught) == "ResourceInUseException"
    assert in_use_by == [dist["ARN"]]
    cert = testing.wait_for(lambda: _describe(acm, arn), lambda cert: cert["InUseBy"] == [], WINDOWS.acm_in_use_linger + 5.0)
    assert cert["InUseBy"] == []
    assert time.monotonic() >= deleted + WINDOWS.acm_in_use_linger
    acm.delete_certificate(CertificateArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        acm.describe_certificate(CertificateArn=arn)
    assert _code(caught) == "ResourceNotFoundException"


# --- 8. ManagedBy ---------------------------------------------------------------------------------

def test_managed_by_cloudfront_is_carried(real):
    acm = real["acm"]
    managed = _request(acm, _name("managed"), ManagedBy="CLOUDFRONT")[0]
    plain = _request(acm, _name("plain"))[0]
    time.sleep(WINDOWS.acm_unknown)
    assert _describe(acm, managed)["ManagedBy"] == "CLOUDFRONT"
    assert "ManagedBy" not in _describe(acm, plain)
    summaries = dict((item["CertificateArn"], item) for item in acm.list_certificates()["CertificateSummaryList"])
    assert summaries[managed]["ManagedBy"] == "CLOUDFRONT"
    assert "ManagedBy" not in summaries[plain]


# --- 9. key types in ListCertificates ---------------------------------------------------------------

def _ec_certificate(name):
    """A self-signed EC P-256 certificate for ``name``, valid for 30 days, and its key (PEM bytes)."""
    leaf = ca.tls.self_signed_leaf([name], key=ca.tls.new_key("EC_prime256v1"), days=30)
    return leaf.cert_pem.encode("ascii"), leaf.key_pem.encode("ascii")


def test_list_without_key_types_returns_only_rsa(real):
    """Filters API reference: default filtering returns only RSA_1024 and RSA_2048 certificates."""
    acm = real["acm"]
    cert_pem, key_pem = _ec_certificate(_name("ec"))
    ec_arn = acm.import_certificate(Certificate=cert_pem, PrivateKey=key_pem)["CertificateArn"]
    assert _describe(acm, ec_arn)["KeyAlgorithm"] == "EC_prime256v1"
    rsa_arn = _request(acm, _name("rsa"))[0]
    time.sleep(WINDOWS.acm_unknown)
    assert not _listed(acm, ec_arn)
    assert _listed(acm, rsa_arn)
    assert _listed(acm, ec_arn, Includes={"keyTypes": ["EC_prime256v1"]})
    assert not _listed(acm, rsa_arn, Includes={"keyTypes": ["EC_prime256v1"]})


def test_request_gives_the_key_algorithm_asked_for(real):
    """RequestCertificate reference: KeyAlgorithm RSA_2048 (the default), EC_prime256v1 or EC_secp384r1."""
    acm = real["acm"]
    arn, status = testing.issue_certificate(acm, _name("ecdsa"), KeyAlgorithm="EC_prime256v1")
    assert status == "ISSUED"
    assert _describe(acm, arn)["KeyAlgorithm"] == "EC_prime256v1"
    key = x509.load_pem_x509_certificate(acm.get_certificate(CertificateArn=arn)["Certificate"].encode()).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert not _listed(acm, arn)
    assert _listed(acm, arn, Includes={"keyTypes": ["EC_prime256v1"]})
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        _request(acm, _name("rsa4096"), KeyAlgorithm="RSA_4096")
    assert _code(caught) == "ValidationException"


# --- 5. the validation deadline ----------------------------------------------------------------------

def test_validation_times_out_without_a_record(small):
    acm = small["acm"]
    timeout = realism.Windows(SMALL_SCALE).acm_validation_timeout
    arn, sent, _returned = _request(acm, _name("timeout"))
    cert = _status(acm, arn, timeout + 10.0)
    assert cert["Status"] == "VALIDATION_TIMED_OUT"
    assert time.monotonic() >= sent + timeout
    assert cert["DomainValidationOptions"][0]["ValidationStatus"] == "FAILED"
    assert not _listed(acm, arn, CertificateStatuses=["PENDING_VALIDATION"])
    assert _listed(acm, arn, CertificateStatuses=["VALIDATION_TIMED_OUT"])


def test_small_scale_keeps_the_order_of_the_windows(small):
    """Scaled windows are never zero: still unknown at once, still not ISSUED without its record."""
    acm = small["acm"]
    arn, status = testing.issue_certificate(acm, _name("scaled"))
    assert status == "ISSUED"
    other = _request(acm, _name("scaled-pending"))[0]
    time.sleep(realism.Windows(SMALL_SCALE).acm_issue_after_dns * 10)
    assert _describe(acm, other)["Status"] == "PENDING_VALIDATION"


# --- instant: moto as it was ---------------------------------------------------------------------

def test_instant_is_moto_as_before(tmp_path_factory, sandbox_python):  # pylint: disable=unused-argument
    values = _start(tmp_path_factory, 300, SANDBOX_AWS_BEHAVIOUR="instant")
    try:
        acm = _clients(values)["acm"]
        arn = _request(acm, _name("instant"))[0]
        cert = _describe(acm, arn)
        assert cert["Status"] == "PENDING_VALIDATION"
        assert cert["DomainValidationOptions"][0]["ResourceRecord"]["Type"] == "CNAME"
        assert _listed(acm, arn)
        # MOTO_ACM_VALIDATION_WAIT=1: ISSUED after a second with nothing published.
        assert _status(acm, arn, 5.0)["Status"] == "ISSUED"
    finally:
        _stop(values)


# --- the rules without a sandbox ----------------------------------------------------------------

class _FakeDns(realism_acm.Dns):
    """Answers from a dict {(name, type): [rdata text, ...]} instead of name servers."""

    def __init__(self, records):
        super().__init__("127.0.0.1", ())
        self.records = records
        self.asked = []

    def rrsets(self, name, rdtype):
        self.asked.append((name, rdtype))
        texts = self.records.get((name.rstrip("."), rdtype), [])
        return [[dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), text) for text in texts]] if texts else []


@pytest.mark.parametrize("name, records, allowed", [
    ("a.b.example.com", {}, True),
    ("a.b.example.com", {("example.com", "CAA"): ['0 issue "letsencrypt.org"']}, False),
    # The closest set decides: a permissive child under a strict parent is allowed, and the other way round.
    ("a.b.example.com", {("b.example.com", "CAA"): ['0 issue "amazontrust.com"'], ("example.com", "CAA"): ['0 issue ";"']}, True),
    ("a.b.example.com", {("b.example.com", "CAA"): ['0 issue "digicert.com"'], ("example.com", "CAA"): ['0 issue "amazon.com"']}, False),
    ("a.example.com", {("example.com", "CAA"): ['0 issue "digicert.com"', '0 issue "amazonaws.com"']}, True),
    # issuewild decides for a wildcard when present; issue otherwise.
    ("*.example.com", {("example.com", "CAA"): ['0 issue "amazon.com"', '0 issuewild ";"']}, False),
    ("example.com", {("example.com", "CAA"): ['0 issue "amazon.com"', '0 issuewild ";"']}, True),
    ("*.example.com", {("example.com", "CAA"): ['0 issue "amazon.com"']}, True),
    ("example.com", {("example.com", "CAA"): ['0 issuewild "amazon.com"']}, True),
])
def test_caa_rules(name, records, allowed):
    assert _FakeDns(records).caa_allows_amazon(name) is allowed


def test_validation_record_shape_and_sharing():
    name, value = realism_acm.validation_record("123456789012", "Links.Example.com.")
    assert RECORD_NAME.match(name).group("name") == "links.example.com"
    assert RECORD_VALUE.match(value)
    assert realism_acm.validation_record("123456789012", "*.links.example.com") == (name, value)
    assert realism_acm.validation_record("210987654321", "links.example.com") != (name, value)
    assert realism_acm.validation_record("123456789012", "www.links.example.com")[0] != name
