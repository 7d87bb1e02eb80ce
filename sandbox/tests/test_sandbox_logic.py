# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sandbox's logic without processes: settings, request naming, DNS answers, edge forwarding rules."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from linktrack_sandbox import aws, bind, ca, catalog, controller, edge, parentdns, r53dns, settings


# --- settings ----------------------------------------------------------------------------

def test_ports_follow_the_base_and_can_be_overridden_one_by_one():
    config = settings.from_environment({"SANDBOX_PORT_BASE": "30000", "SANDBOX_R53_DNS_PORT": "40000", "SANDBOX_STATE_DIR": "/tmp/x"})
    assert config["ports"] == {
        "aws": 30000, "edge_http": 30080, "origin_usdc": 30081, "origin_edc": 30082,
        "bind": 30353, "r53dns": 40000, "parent_dns": 30355, "r53_parent_dns": 30356, "edge_https": 30443,
    }
    assert config["state_dir"] == "/tmp/x"
    assert config["zone"] == "example.com"
    assert settings.from_environment({})["ports"]["aws"] == 15000


@pytest.mark.parametrize("environ, message", [
    ({"SANDBOX_PORT_BASE": "abc"}, "SANDBOX_PORT_BASE='abc' is not a number"),
    ({"SANDBOX_PORT_BASE": "80"}, "SANDBOX_PORT_BASE=80 is out of range"),
    ({"SANDBOX_PORT_BASE": "65300"}, "SANDBOX_PORT_BASE=65300 is too high"),
    ({"SANDBOX_AWS_PORT": "15443"}, "SANDBOX_AWS_PORT and SANDBOX_EDGE_HTTPS_PORT both name port 15443"),
    ({"SANDBOX_ZONE": "not a zone"}, "SANDBOX_ZONE='not a zone' is not a DNS zone name"),
])
def test_bad_settings_name_the_variable(environ, message):
    with pytest.raises(settings.SettingsError, match=message):
        settings.from_environment(environ)


def test_zone_id_is_stable_and_looks_like_route53():
    zone_id = settings.zone_id_for("example.com")
    assert zone_id == settings.zone_id_for("example.com") != settings.zone_id_for("example.org")
    assert zone_id.startswith("Z") and zone_id.isalnum() and zone_id.isupper() and len(zone_id) == 21


def test_env_file_and_yaml_carry_every_name():
    config = settings.from_environment({"SANDBOX_PORT_BASE": "30000", "SANDBOX_STATE_DIR": "/tmp/s b"})
    values = settings.env_values(config, "c2VjcmV0")
    assert list(values) == list(settings.ENV_NAMES)
    shell = controller.env_shell(values)
    assert "export SANDBOX_STATE_DIR='/tmp/s b'\n" in shell
    assert "export SANDBOX_TSIG_SECRET=c2VjcmV0\n" in shell
    assert shell.startswith(controller.ENV_HEADER)
    yaml_text = controller.env_yaml(values)
    assert "sandbox_r53_dns_port: 30354\n" in yaml_text
    assert 'sandbox_ca_bundle: "/tmp/s b/ca/sandbox-ca.pem"\n' in yaml_text


def test_missing_bind_program_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(bind, "SEARCH_PATH", str(tmp_path))
    with pytest.raises(bind.BindError, match="named is not installed. Install the Debian package bind9"):
        bind.find_program("named", "bind9")


# --- naming AWS requests ------------------------------------------------------------------

def _environ(method, path, query="", target="", service="", content_type=""):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "CONTENT_TYPE": content_type}
    if target:
        environ["HTTP_X_AMZ_TARGET"] = target
    if service:
        environ["HTTP_AUTHORIZATION"] = "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/%s/aws4_request, SignedHeaders=host" % service
    return environ


@pytest.mark.parametrize("environ, body, expected", [
    (_environ("POST", "/", target="CertificateManager.RequestCertificate", service="acm"), b"", ("acm", "RequestCertificate", True)),
    (_environ("POST", "/", target="CertificateManager.DescribeCertificate", service="acm"), b"", ("acm", "DescribeCertificate", False)),
    (_environ("POST", "/", target="CertificateManager.AddTagsToCertificate"), b"", ("acm", "AddTagsToCertificate", True)),
    (_environ("POST", "/2020-05-31/distribution", service="cloudfront"), b"", ("cloudfront", "CreateDistribution", True)),
    (_environ("POST", "/2020-05-31/distribution", "WithTags", service="cloudfront"), b"", ("cloudfront", "CreateDistributionWithTags", True)),
    (_environ("GET", "/2020-05-31/distribution/E123/config", service="cloudfront"), b"", ("cloudfront", "GetDistributionConfig", False)),
    (_environ("PUT", "/2020-05-31/distribution/E123/config", service="cloudfront"), b"", ("cloudfront", "UpdateDistribution", True)),
    (_environ("POST", "/2020-05-31/tagging", "Operation=Tag&Resource=arn", service="cloudfront"), b"", ("cloudfront", "TagResource", True)),
    (_environ("POST", "/2013-04-01/hostedzone/Z1/rrset/", service="route53"), b"", ("route53", "ChangeResourceRecordSets", True)),
    (_environ("GET", "/2013-04-01/change/C1"), b"", ("route53", "GetChange", False)),
    (_environ("POST", "/2013-04-01/tags/hostedzone", service="route53"), b"", ("route53", "ListTagsForResources", False)),
    (_environ("POST", "/", service="sts", content_type="application/x-www-form-urlencoded"), b"Action=GetCallerIdentity&Version=2011-06-15",
     ("sts", "GetCallerIdentity", False)),
])
def test_requests_are_named_and_writes_recognised(environ, body, expected):
    assert aws.classify(environ, body) == expected


def test_stats_count_and_reset():
    stats = aws.Stats()
    stats.count("acm", "RequestCertificate", True, 200)
    stats.count("acm", "DescribeCertificate", False, 400)
    stats.count_internal()
    data = stats.snapshot()
    assert (data["total"], data["writes"], data["reads"], data["errors"], data["internal"]) == (2, 1, 1, 1, 1)
    assert data["write_actions"] == {"acm:RequestCertificate": 1}
    stats.reset()
    assert stats.snapshot()["total"] == 0


# --- the Route 53 DNS answers -------------------------------------------------------------

ZONE = {
    "id": "ZTEST", "name": "example.com", "private": False,
    "records": [
        {"Name": "example.com.", "Type": "NS", "TTL": 172800, "ResourceRecords": [{"Value": "ns-1.awsdns-1.com"}]},
        {"Name": "example.com.", "Type": "SOA", "TTL": 900,
         "ResourceRecords": [{"Value": "{'Value': 'ns-1.awsdns-1.com. hostmaster.example.com. 1 7200 900 1209600 86400'}"}]},
        {"Name": "links.example.com.", "Type": "A", "AliasTarget": {"HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": "d1abc.cloudfront.net.",
                                                                    "EvaluateTargetHealth": False}},
        {"Name": "www.example.com.", "Type": "A", "TTL": 120, "ResourceRecords": [{"Value": "192.0.2.10"}]},
        {"Name": "apex-alias.example.com.", "Type": "A", "AliasTarget": {"HostedZoneId": "ZTEST", "DNSName": "www.example.com",
                                                                         "EvaluateTargetHealth": False}},
        {"Name": "cdn.example.com.", "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": "d1abc.cloudfront.net"}]},
        {"Name": "\\052.wild.example.com.", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": '"wild"'}]},
        {"Name": "deep.ent.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.20"}]},
        {"Name": "sub.example.com.", "Type": "NS", "TTL": 60, "ResourceRecords": [{"Value": "ns.elsewhere.net"}]},
    ],
}


def _ask(name, rdtype):
    zones = r53dns.ZoneSet([r53dns.zone_from_route53(ZONE), r53dns.cloudfront_zone(["d1abc.cloudfront.net"])])
    return zones.respond(dns.message.make_query(name, rdtype))


def _texts(response):
    return [rrset.to_text() for rrset in response.answer]


@pytest.mark.parametrize("name, rdtype, rcode, answer", [
    ("links.example.com", "A", "NOERROR", ["links.example.com. 60 IN A 127.0.0.1"]),
    ("links.example.com", "AAAA", "NOERROR", []),
    ("apex-alias.example.com", "A", "NOERROR", ["apex-alias.example.com. 120 IN A 192.0.2.10"]),
    ("cdn.example.com", "AAAA", "NOERROR", ["cdn.example.com. 300 IN CNAME d1abc.cloudfront.net.", "d1abc.cloudfront.net. 60 IN AAAA ::1"]),
    ("x.wild.example.com", "TXT", "NOERROR", ['x.wild.example.com. 60 IN TXT "wild"']),
    ("ent.example.com", "A", "NOERROR", []),
    ("nothing.example.com", "A", "NXDOMAIN", []),
    ("d2zzz.cloudfront.net", "A", "NXDOMAIN", []),
    ("example.com", "SOA", "NOERROR", ["example.com. 900 IN SOA ns-1.awsdns-1.com. hostmaster.example.com. 1 7200 900 1209600 86400"]),
    ("example.org", "A", "REFUSED", []),
])
def test_route53_answers(name, rdtype, rcode, answer):
    response = _ask(name, rdtype)
    assert dns.rcode.to_text(response.rcode()) == rcode
    assert _texts(response) == answer
    if rcode != "REFUSED":
        assert response.flags & dns.flags.AA
    if rcode == "NXDOMAIN" or (rcode == "NOERROR" and not answer):
        assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_route53_delegation_is_a_referral_without_aa():
    response = _ask("host.sub.example.com", "A")
    assert not response.flags & dns.flags.AA
    assert response.answer == []
    assert response.authority[0].to_text() == "sub.example.com. 60 IN NS ns.elsewhere.net."


# --- the edge's routing and forwarding rules ------------------------------------------------

class _FakeCatalog(catalog.Catalog):
    def __init__(self, distributions):  # pylint: disable=super-init-not-called
        self._items = distributions
        self.config = {"zone": "example.com"}

    def distributions(self):
        return self._items

    def zones(self):
        return [{"name": "example.org", "id": "Z", "private": False, "records": []}]


def test_distribution_lookup_by_alias_wildcard_and_own_name():
    dists = [
        {"Id": "E1", "Enabled": True, "DomainName": "d1.cloudfront.net", "Aliases": {"Items": ["links.example.com"]}},
        {"Id": "E2", "Enabled": True, "DomainName": "d2.cloudfront.net", "Aliases": {"Items": ["*.wild.example.com"]}},
        {"Id": "E3", "Enabled": False, "DomainName": "d3.cloudfront.net", "Aliases": {"Items": ["off.example.com"]}},
    ]
    cat = _FakeCatalog(dists)
    assert cat.distribution_for_host("LINKS.example.com.")["Id"] == "E1"
    assert cat.distribution_for_host("a.wild.example.com")["Id"] == "E2"
    assert cat.distribution_for_host("a.b.wild.example.com") is None
    assert cat.distribution_for_host("off.example.com") is None
    assert cat.distribution_for_host("d1.cloudfront.net")["Id"] == "E1"
    assert cat.distribution_for_host("d1.cloudfront.net", aliases_only=True) is None
    assert cat.knows_host("links.example.org") and cat.knows_host("links.example.com") and not cat.knows_host("links.example.net")


def test_forwarding_follows_legacy_cache_settings():
    guide = {"ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "all"}, "Headers": {"Quantity": 1, "Items": ["*"]}}}
    assert edge.forwarding(guide) == {"host": True, "user_agent": True, "query": True, "cookies": "all", "cookie_names": []}
    bare = {"ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}, "Headers": {"Quantity": 0}}}
    assert edge.forwarding(bare) == {"host": False, "user_agent": False, "query": False, "cookies": "none", "cookie_names": []}
    host_only = {"ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "whitelist", "WhitelistedNames": {"Items": ["a"]}},
                                     "Headers": {"Items": ["Host"]}}}
    rules = edge.forwarding(host_only)
    assert (rules["host"], rules["user_agent"]) == (True, False)
    assert edge.EdgeHandler._cookies("a=1; b=2", rules) == "a=1"  # pylint: disable=protected-access


def test_edge_serves_only_issued_acm_certificates(tmp_path):
    sandbox_ca = ca.SandboxCA.load_or_create(str(tmp_path / "ca.pem"), str(tmp_path / "ca.key"))
    cert, key = sandbox_ca.issue(["links.example.com"])
    cert_pem, key_pem = ca.pem_pair(cert, key)
    status = {"value": "PENDING_VALIDATION"}

    class _Certs(_FakeCatalog):
        @staticmethod
        def certificate(arn):
            return (status["value"], cert_pem, key_pem, sandbox_ca.cert_pem) if arn == "arn:good" else None

    dists = [{"Id": "E1", "Enabled": True, "DomainName": "d1.cloudfront.net", "Aliases": {"Items": ["links.example.com", "gone.example.com"]},
              "ViewerCertificate": {"ACMCertificateArn": "arn:good"}}]
    store = edge.CertStore(_Certs(dists), sandbox_ca, str(tmp_path / "tmp"))
    assert store.context_for("links.example.com") is None
    status["value"] = "ISSUED"
    context = store.context_for("links.example.com")
    assert context is not None and context is store.context_for("links.example.com")
    assert store.context_for("d1.cloudfront.net") is None
    dists[0]["ViewerCertificate"]["ACMCertificateArn"] = "arn:missing"
    assert store.context_for("links.example.com") is None
    assert list((tmp_path / "tmp").iterdir()) == []  # no key material left on disk


# --- the parent zone stand-ins (parentdns.py) ------------------------------------------------

def _parent_answer(tmp_path, world, name, rdtype, changes=None):
    path = str(tmp_path / "parent-delegations.json")
    if changes is not None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(changes, handle)
    source = parentdns.Source(parentdns.Delegations("example.com", world, path),
                              {dns.name.from_text("ns1.example.com."): "127.0.0.1"})
    return source.respond(dns.message.make_query(name, rdtype))


def test_parent_gives_a_referral_to_its_world_with_glue(tmp_path):
    bind_world = _parent_answer(tmp_path, "bind", "links.example.com.", "CNAME")
    assert bind_world.rcode() == dns.rcode.NOERROR
    assert not bind_world.flags & dns.flags.AA
    assert not bind_world.answer
    assert [r.target.to_text() for r in bind_world.authority[0]] == ["ns1.example.com."]
    assert bind_world.additional[0][0].address == "127.0.0.1"
    route53 = _parent_answer(tmp_path, "route53", "example.com.", "NS")
    assert sorted(r.target.to_text() for r in route53.authority[0]) == sorted(
        n + "." for n in parentdns.ROUTE53_NAME_SERVERS)
    assert not route53.additional


def test_parent_delegations_change_through_the_file(tmp_path):
    wrong = _parent_answer(tmp_path, "bind", "example.com.", "NS", {"bind": {"example.com": ["ns9.elsewhere.net"]}})
    assert [r.target.to_text() for r in wrong.authority[0]] == ["ns9.elsewhere.net."]
    gone = _parent_answer(tmp_path, "bind", "example.com.", "NS", {"bind": {"example.com": []}})
    assert gone.rcode() == dns.rcode.NXDOMAIN and gone.flags & dns.flags.AA
    assert gone.authority[0].rdtype == dns.rdatatype.SOA
    other = _parent_answer(tmp_path, "route53", "example.com.", "NS", {"bind": {"example.com": []}})
    assert other.rcode() == dns.rcode.NOERROR and other.authority


def test_parent_answers_its_apex_and_refuses_other_zones(tmp_path):
    apex = _parent_answer(tmp_path, "bind", "com.", "SOA")
    assert apex.flags & dns.flags.AA and apex.answer[0].rdtype == dns.rdatatype.SOA
    caa = _parent_answer(tmp_path, "bind", "com.", "CAA")
    assert caa.rcode() == dns.rcode.NOERROR and not caa.answer and caa.authority[0].rdtype == dns.rdatatype.SOA
    assert _parent_answer(tmp_path, "bind", "other.com.", "NS").rcode() == dns.rcode.NXDOMAIN
    assert _parent_answer(tmp_path, "bind", "example.org.", "NS").rcode() == dns.rcode.REFUSED
