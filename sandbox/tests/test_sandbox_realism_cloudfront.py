# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sandbox's CloudFront behaves like CloudFront (sandbox/README.md, "AWS's behaviour"), and ``instant`` stays moto.

The shared sandbox (AWS's behaviour, time scale 1: InProgress for 2 s) for the
rules, one ``instant`` sandbox for moto's old behaviour. One wildcard
certificate, issued once, covers every alias the tests use. A timing assertion
("still InProgress") is made only by a call that returned inside the window, so
a slow machine fails loudly instead of passing by luck.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import ssl
import time
import urllib.error
import urllib.request
import uuid

import boto3
import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from linktrack_sandbox import realism, testing

WINDOWS = realism.Windows(1.0)
ORIGIN = "links.iterable.com"


def _code(caught):
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def cf(aws, sandbox):
    """A CloudFront client, a domain of its own and an ISSUED certificate for the domain, *.domain and *.sub.domain."""
    domain = "cf-%s.example.com" % uuid.uuid4().hex[:8]
    arn, status = testing.issue_certificate(aws("acm"), domain, sans=["*." + domain, "*.sub." + domain])
    assert status == "ISSUED"
    return {"client": aws("cloudfront"), "acm": aws("acm"), "domain": domain, "arn": arn, "sandbox": sandbox}


def _alias(cf, label=None):
    return "%s.%s" % (label or uuid.uuid4().hex[:10], cf["domain"])


def _config(cf, alias, **extra):
    config = testing.distribution_config(uuid.uuid4().hex, alias, ORIGIN, cf["arn"])
    config.update(extra)
    return config


def _create(cf, alias=None, **extra):
    config = _config(cf, alias or _alias(cf), **extra)
    answer = cf["client"].create_distribution(DistributionConfig=config)
    return answer["Distribution"], answer["ETag"], config


def _deployed(client, dist_id, timeout=WINDOWS.cloudfront_in_progress + 10.0):
    got = testing.wait_for(lambda: client.get_distribution(Id=dist_id), lambda got: got["Distribution"]["Status"] == "Deployed", timeout)
    assert got["Distribution"]["Status"] == "Deployed"
    return got


def _update(client, dist_id, change):
    current = client.get_distribution_config(Id=dist_id)
    config = current["DistributionConfig"]
    change(config)
    return client.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config)


def _disable_and_delete(client, dist_id):
    _update(client, dist_id, lambda config: config.update(Enabled=False))
    client.delete_distribution(Id=dist_id, IfMatch=_deployed(client, dist_id)["ETag"])


# --- 1. ETags and If-Match -----------------------------------------------------------------------

def test_etag_changes_on_every_write_and_if_match_must_be_current(cf):
    """UpdateDistribution / DeleteDistribution API reference: IfMatch is the ETag of the last GET; PreconditionFailed (412) otherwise."""
    client = cf["client"]
    dist, created_etag, _config_sent = _create(cf)
    got = client.get_distribution_config(Id=dist["Id"])
    assert got["ETag"] == created_etag == client.get_distribution(Id=dist["Id"])["ETag"]
    config = got["DistributionConfig"]
    config["Comment"] = "first update"
    first = client.update_distribution(Id=dist["Id"], IfMatch=created_etag, DistributionConfig=config)
    assert first["ETag"] != created_etag
    assert client.get_distribution_config(Id=dist["Id"])["ETag"] == first["ETag"]
    config["Comment"] = "second update"
    for stale in (created_etag, "NOT" + first["ETag"]):
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            client.update_distribution(Id=dist["Id"], IfMatch=stale, DistributionConfig=config)
        assert _code(caught) == ("PreconditionFailed", 412)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.update_distribution(Id=dist["Id"], IfMatch="", DistributionConfig=config)
    assert _code(caught)[0] == "InvalidIfMatchVersion"
    second = client.update_distribution(Id=dist["Id"], IfMatch=first["ETag"], DistributionConfig=config)
    assert second["ETag"] not in (created_etag, first["ETag"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.delete_distribution(Id=dist["Id"], IfMatch=first["ETag"])
    assert _code(caught) == ("PreconditionFailed", 412)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.delete_distribution(Id=dist["Id"], IfMatch="")
    assert _code(caught)[0] == "InvalidIfMatchVersion"
    assert client.get_distribution_config(Id=dist["Id"])["DistributionConfig"]["Comment"] == "second update"


# --- 2. InProgress after every write ----------------------------------------------------------

def test_in_progress_after_create_and_after_every_update_then_deployed(cf):
    client = cf["client"]
    sent = time.monotonic()
    dist, _etag, _config_sent = _create(cf)
    assert dist["Status"] == "InProgress"
    got = client.get_distribution(Id=dist["Id"])["Distribution"]["Status"]
    listed = [item["Status"] for item in client.list_distributions()["DistributionList"]["Items"] if item["Id"] == dist["Id"]]
    if time.monotonic() < sent + WINDOWS.cloudfront_in_progress:
        assert (got, listed) == ("InProgress", ["InProgress"])
    else:
        pytest.fail("the machine is too slow to see the %.1f s window" % WINDOWS.cloudfront_in_progress)
    _deployed(client, dist["Id"])
    assert time.monotonic() >= sent + WINDOWS.cloudfront_in_progress
    for change in (lambda config: config.update(Comment="updated"), lambda config: config.update(Enabled=False)):
        sent = time.monotonic()
        answer = _update(client, dist["Id"], change)
        assert answer["Distribution"]["Status"] == "InProgress"
        _deployed(client, dist["Id"])
        assert time.monotonic() >= sent + WINDOWS.cloudfront_in_progress


# --- 3. delete: disabled and Deployed; 6. CallerReference once -------------------------------------

def test_delete_needs_disabled_and_deployed_and_the_caller_reference_is_never_accepted_again(cf):
    client = cf["client"]
    alias = _alias(cf)
    dist, _etag, config = _create(cf, alias)
    etag = _deployed(client, dist["Id"])["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.delete_distribution(Id=dist["Id"], IfMatch=etag)
    assert _code(caught) == ("DistributionNotDisabled", 409)
    sent = time.monotonic()
    etag = _update(client, dist["Id"], lambda config: config.update(Enabled=False))["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.delete_distribution(Id=dist["Id"], IfMatch=etag)
    assert time.monotonic() < sent + WINDOWS.cloudfront_in_progress, "the machine is too slow to see the window"
    assert _code(caught) == ("DistributionNotDisabled", 409)
    client.delete_distribution(Id=dist["Id"], IfMatch=_deployed(client, dist["Id"])["ETag"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_distribution(Id=dist["Id"])
    assert _code(caught)[0] == "NoSuchDistribution"
    # The alias is free again, the CallerReference is not: not with the same config, not with another.
    for attempt in (config, dict(copy.deepcopy(config), Comment="another config")):
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            client.create_distribution(DistributionConfig=attempt)
        assert _code(caught) == ("DistributionAlreadyExists", 409)
    again, _etag, _config_sent = _create(cf, alias)
    assert again["Id"] != dist["Id"]


def test_caller_reference_cannot_change_in_an_update(cf):
    client = cf["client"]
    dist, _etag, _config_sent = _create(cf)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        _update(client, dist["Id"], lambda config: config.update(CallerReference=uuid.uuid4().hex))
    assert _code(caught)[0] == "IllegalUpdate"


# --- 4. CNAMEAlreadyExists ------------------------------------------------------------------------

def _foreign(sandbox, aliases):
    request = urllib.request.Request(sandbox["AWS_ENDPOINT_URL"] + "/_sandbox/cloudfront/foreign-aliases",
                                     data=json.dumps(aliases).encode("utf-8"), method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def test_an_alias_held_by_another_distribution_is_refused_on_create_and_update(cf):
    client = cf["client"]
    alias = _alias(cf)
    first, _etag, _config_sent = _create(cf, alias)
    for taken in (alias, alias.upper()):
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            _create(cf, taken)
        assert _code(caught) == ("CNAMEAlreadyExists", 409)
    other, _etag, _config_sent = _create(cf)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        _update(client, other["Id"], lambda config: config["Aliases"].update(Quantity=2, Items=config["Aliases"]["Items"] + [alias]))
    assert _code(caught) == ("CNAMEAlreadyExists", 409)
    # Its own aliases do not conflict with themselves.
    _update(client, first["Id"], lambda config: config.update(Comment="same aliases"))


def test_an_alias_held_in_another_account_is_refused(cf):
    """The sandbox hook stands for distributions the caller cannot see (alternate-domain-names-move.html)."""
    sandbox = cf["sandbox"]
    exact, covered = _alias(cf), _alias(cf, "www")
    sub = "sub." + cf["domain"]
    try:
        answer = _foreign(sandbox, [exact, "*." + sub])
        assert answer == {"foreign_aliases": sorted([exact, "*." + sub]), "enforced": True}
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            _create(cf, exact)
        assert _code(caught) == ("CNAMEAlreadyExists", 409)
        dist, _etag, _config_sent = _create(cf, covered)
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            _update(cf["client"], dist["Id"], lambda config: config["Aliases"].update(Quantity=1, Items=["x." + sub]))
        assert _code(caught) == ("CNAMEAlreadyExists", 409)
    finally:
        _foreign(sandbox, [])
    _create(cf, exact)
    request = urllib.request.Request(sandbox["AWS_ENDPOINT_URL"] + "/_sandbox/cloudfront/foreign-aliases", data=b'{"not": "a list"}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400


# --- 5. InvalidViewerCertificate ----------------------------------------------------------------

def _refused(cf, alias, certificate, status=None):
    viewer = {"ACMCertificateArn": certificate, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"} if certificate else {
        "CloudFrontDefaultCertificate": True}
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        _create(cf, alias, ViewerCertificate=viewer)
    assert _code(caught) == ("InvalidViewerCertificate", 400), status


def test_the_viewer_certificate_must_be_issued_in_us_east_1_and_cover_every_alias(cf, aws):
    domain = cf["domain"]
    pending = cf["acm"].request_certificate(DomainName="pending." + domain, ValidationMethod="DNS")["CertificateArn"]
    elsewhere = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1").client(
        "acm", endpoint_url=cf["sandbox"]["AWS_ENDPOINT_URL"])
    eu_arn, eu_status = testing.issue_certificate(elsewhere, "eu." + domain)
    assert eu_status == "ISSUED"
    _refused(cf, "pending." + domain, pending, "not issued")
    _refused(cf, "eu." + domain, eu_arn, "outside us-east-1")
    _refused(cf, "x.other-%s.example.com" % uuid.uuid4().hex[:6], cf["arn"], "not covered")
    _refused(cf, "a.b." + domain, cf["arn"], "a wildcard covers one label only")
    _refused(cf, _alias(cf), None, "aliases need a certificate of their own")
    _refused(cf, _alias(cf), cf["arn"].rsplit("/", 1)[0] + "/" + str(uuid.uuid4()), "no such certificate")
    # Covered: the name itself, one label under the wildcard, and the wildcard as an alias.
    for alias in (domain, _alias(cf), "*." + domain):
        dist, _etag, _config_sent = _create(cf, alias)
        assert dist["DistributionConfig"]["ViewerCertificate"]["CloudFrontDefaultCertificate"] is False
        if alias.startswith("*."):
            _disable_and_delete(cf["client"], dist["Id"])  # free the wildcard for other tests
    dist, _etag, _config_sent = _create(cf)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        _update(cf["client"], dist["Id"], lambda config: config["Aliases"].update(Quantity=2, Items=config["Aliases"]["Items"] + ["a.b." + domain]))
    assert _code(caught) == ("InvalidViewerCertificate", 400)
    assert aws("acm").describe_certificate(CertificateArn=pending)["Certificate"]["Status"] == "PENDING_VALIDATION"


# --- 7. what the config keeps across updates --------------------------------------------------------

def test_web_acl_logging_and_associations_survive_updates(cf):
    client = cf["client"]
    functions = {"Quantity": 1, "Items": [{"FunctionARN": "arn:aws:cloudfront::123456789012:function/rewrite", "EventType": "viewer-request"}]}
    lambdas = {"Quantity": 1, "Items": [{"LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:edge:3",
                                         "EventType": "origin-request", "IncludeBody": False}]}
    kept = {
        "WebACLId": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/linktrack/0d5b2c9e-5bb6-4c0e-9f4e-000000000001",
        "Logging": {"Enabled": True, "IncludeCookies": True, "Bucket": "cf-logs.s3.amazonaws.com", "Prefix": "links/"},
    }
    config = _config(cf, _alias(cf), **copy.deepcopy(kept))
    config["DefaultCacheBehavior"].update(FunctionAssociations=functions, LambdaFunctionAssociations=lambdas)
    dist = client.create_distribution(DistributionConfig=config)["Distribution"]

    def seen():
        current = client.get_distribution_config(Id=dist["Id"])["DistributionConfig"]
        behavior = current["DefaultCacheBehavior"]
        return dict((key, current[key]) for key in kept), behavior["FunctionAssociations"], behavior["LambdaFunctionAssociations"]

    assert seen() == (kept, functions, lambdas)
    _update(client, dist["Id"], lambda config: config.update(Comment="an update that changes something else"))
    assert seen() == (kept, functions, lambdas)
    assert client.get_distribution_config(Id=dist["Id"])["DistributionConfig"]["Comment"] == "an update that changes something else"


# --- 8. the edge serves a distribution from its first Deployed on -----------------------------------

def _served_name(sandbox, alias):
    der, _version = testing.tls_peer_certificate(sandbox, alias)
    return x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_the_edge_serves_a_new_distribution_only_once_it_is_deployed(cf):
    sandbox, client = cf["sandbox"], cf["client"]
    alias = _alias(cf)
    sent = time.monotonic()
    dist, _etag, _config_sent = _create(cf, alias)
    status, _headers, _body = testing.edge_request(sandbox, alias, "/", https=False)
    name = _served_name(sandbox, alias)
    assert time.monotonic() < sent + WINDOWS.cloudfront_in_progress, "the machine is too slow to see the window"
    assert (status, name) == (403, "*.cloudfront.net")
    _deployed(client, dist["Id"])
    assert _served_name(sandbox, alias) == cf["domain"]
    status, headers, _body = testing.edge_request(sandbox, alias, "/")
    assert (status, headers["x-sandbox-distribution"]) == (200, dist["Id"])
    # An update makes it InProgress again; it stays served meanwhile.
    _update(client, dist["Id"], lambda config: config.update(Comment="redeploying"))
    assert client.get_distribution(Id=dist["Id"])["Distribution"]["Status"] == "InProgress"
    status, _headers, _body = testing.edge_request(sandbox, alias, "/")
    assert status == 200
    got = cf["acm"].get_certificate(CertificateArn=cf["arn"])["Certificate"]
    der, _version = testing.tls_peer_certificate(sandbox, alias)
    assert ssl.DER_cert_to_PEM_cert(der).strip() == got.strip()


# --- instant: moto as it was -------------------------------------------------------------------------

def test_instant_is_moto_as_before(tmp_path_factory, sandbox_python):  # pylint: disable=unused-argument
    values = testing.start_sandbox(tmp_path_factory.mktemp("sandbox-cf-instant"), 300, SANDBOX_AWS_BEHAVIOUR="instant")
    try:
        client = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1").client(
            "cloudfront", endpoint_url=values["AWS_ENDPOINT_URL"])
        arn = "arn:aws:acm:us-east-1:123456789012:certificate/%s" % uuid.uuid4()  # moto checks no certificate
        config = testing.distribution_config(uuid.uuid4().hex, "instant.example.com", ORIGIN, arn)
        made = client.create_distribution(DistributionConfig=config)
        dist_id = made["Distribution"]["Id"]
        assert client.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"
        twin = client.create_distribution(DistributionConfig=dict(copy.deepcopy(config), CallerReference=uuid.uuid4().hex))
        assert twin["Distribution"]["Id"] != dist_id  # the same alias twice: accepted
        current = client.get_distribution_config(Id=dist_id)
        answer = client.update_distribution(Id=dist_id, IfMatch="ANY-ETAG", DistributionConfig=current["DistributionConfig"])
        assert answer["ETag"] == made["ETag"] == current["ETag"]
        client.delete_distribution(Id=dist_id, IfMatch="ANY-ETAG")  # enabled, any ETag: accepted
        answer = _foreign(values, ["instant.example.com"])
        assert answer == {"foreign_aliases": ["instant.example.com"], "enforced": False}
        with urllib.request.urlopen(urllib.request.Request(values["AWS_ENDPOINT_URL"] + "/_sandbox/reset", data=b"", method="POST"), timeout=10):
            pass
        with urllib.request.urlopen(values["AWS_ENDPOINT_URL"] + "/_sandbox/cloudfront/foreign-aliases", timeout=10) as got:
            assert json.load(got)["foreign_aliases"] == []
    finally:
        down = testing.stop_sandbox(values)
        assert down.returncode == 0, down.stdout + down.stderr


# --- the cover rule itself (no sandbox needed) ---------------------------------------------------------

@pytest.mark.parametrize("names, alias, expected", [
    (["links.example.com"], "links.example.com", True),
    (["LINKS.example.com"], "links.EXAMPLE.com", True),
    (["*.example.com"], "links.example.com", True),
    (["*.example.com"], "example.com", False),
    (["*.example.com"], "a.links.example.com", False),
    (["*.example.com"], "*.example.com", True),
    (["links.example.com"], "*.example.com", False),
    (["*.links.example.com"], "*.example.com", False),
    (["links.example.com"], "links.example.com.", False),
    (["example.com", "*.example.com"], "example.com", True),
])
def test_what_a_certificate_covers(names, alias, expected):
    from linktrack_sandbox import realism_cloudfront  # pylint: disable=import-outside-toplevel
    assert realism_cloudfront.covers(names, alias) is expected
