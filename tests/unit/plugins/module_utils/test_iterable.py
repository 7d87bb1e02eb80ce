# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the decision logic in module_utils/_iterable.py, with fake DNS, HTTP and TLS."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._dns import Server
from ansible_collections.linktrack.https.plugins.module_utils._iterable import (
    Exchange,
    Settings,
    TlsInspector,
    TrackingDomainVerifier,
    failure_message,
    iterable_steps,
    parse_host,
    verify,
)
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock

DOMAIN = "links.example.com"
DIST = "d111111abcdef8.cloudfront.net"
NS = "127.0.0.1:5354"  # the label of the server every fake answer comes from
AASA = json.dumps({"applinks": {"apps": [], "details": []}}).encode()
ASSETLINKS = json.dumps([{"relation": ["delegate_permission/common.handle_all_urls"]}]).encode()


def settings(**overrides):
    params = {
        "domain_name": DOMAIN,
        "iterable_region": "usdc",
        "distribution_domain": DIST,
        "connect_host": "127.0.0.1",
        "https_port": 8443,
        "http_port": 8080,
        "dns_servers": ["127.0.0.1:5354"],
        "distribution_dns_servers": ["127.0.0.1:5354"],
        "timeout": 2,
    }
    params.update(overrides)
    return Settings.from_params(params)


def answer(*values):
    return {"status": "answer", "values": list(values), "reason": "", "authoritative": True}


def status(kind, reason):
    return {"status": kind, "values": [], "reason": reason, "authoritative": kind != "not_authoritative"}


NODATA = status("nodata", "NODATA (the name exists, without this record type)")


class FakeDns:
    """Answers like ``_dns.DnsChecker.query_one`` from a table {(name, rdtype, server label): response}."""

    def __init__(self, table=None, system=None, authoritative=None):
        self.table = table or {}
        self.system = system or {"A": [], "AAAA": []}
        self.authoritative = authoritative
        self.questions = []

    def ask(self, name, rdtype, server):
        self.questions.append((name, rdtype, server.label))
        return self.table.get((name, rdtype, server.label), NODATA)

    def authoritative_servers(self, name):
        if self.authoritative is None:
            raise LinktrackError("dns_servers: could not find the authoritative name servers", field="dns_servers")
        return self.authoritative

    def system_addresses(self, name):
        return self.system, None


def cname_dns(target=DIST, server=NS):
    return FakeDns({(DOMAIN, "CNAME", server): answer(target)})


def origin_headers(region="usdc", host=DOMAIN, extra=()):
    headers = [("Content-Type", "text/html")]
    if region:
        headers.append(("X-Iterable-Region", region))
        headers.append(("X-Iterable-Origin", {"usdc": "links.iterable.com", "edc": "links.eu.iterable.com"}[region]))
    if host:
        headers.append(("X-Received-Host", host))
    return headers + list(extra)


class FakeHttp:
    """Answers from a table {(scheme, path): (status, headers, body) | error string}."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []

    def fetch(self, scheme, server_name, connect_host, port, path):
        self.requests.append((scheme, server_name, connect_host, port, path))
        exchange = Exchange(scheme, server_name, connect_host, port, path)
        answer = self.routes.get((scheme, path), (404, [("Content-Type", "text/html")], b"not found"))
        if isinstance(answer, str):
            exchange.error = answer
            return exchange
        exchange.status, exchange.headers, exchange.body = answer
        exchange.reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}.get(answer[0], "X")
        return exchange


def good_routes(region="usdc"):
    routes = {}
    for scheme in ("https", "http"):
        routes[(scheme, "/")] = (302, origin_headers(region, extra=[("Location", "https://iterable.com/")]), b"")
    routes[("https", "/.well-known/apple-app-site-association")] = (200, [("Content-Type", "application/json")], AASA)
    routes[("https", "/.well-known/assetlinks.json")] = (
        200, [("Content-Type", "application/json; charset=utf-8")], ASSETLINKS)
    return routes


class FakeTls:
    def __init__(self, result=None, checks=None, raises=None):
        self.result = result if result is not None else {
            "protocol": "TLSv1.3", "subject": "CN=%s" % DOMAIN, "subject_alt_names": [DOMAIN],
            "issuer": "CN=Sandbox CA", "not_after": "2030-01-01T00:00:00Z", "serial": "0A:0B",
            "chain_verified": True, "error": None,
        }
        self.checks = checks if checks is not None else [
            {"name": "chain", "passed": True, "reason": "trusted"},
            {"name": "hostname", "passed": True, "reason": "matches"},
            {"name": "protocol", "passed": True, "reason": "TLSv1.3"},
        ]
        self.calls = []
        self.raises = raises

    def probe(self, server_name, connect_host, port, ca_path=None, timeout=10):
        self.calls.append(("probe", server_name, connect_host, port, ca_path, timeout))
        if self.raises:
            raise self.raises
        return self.result

    def evaluate(self, result, server_name, min_tls_version, min_days_valid, expected_certificate=None,
                 expected_serial=None):
        self.calls.append(("evaluate", server_name, min_tls_version, min_days_valid, expected_serial))
        return self.checks

    def inspector(self):
        return TlsInspector(probe=self.probe, evaluate=self.evaluate)


def verifier(s=None, dns=None, http=None, tls=None):
    s = s or settings()
    return TrackingDomainVerifier(
        s,
        http=http or FakeHttp(good_routes()),
        dns=dns or cname_dns(),
        tls=(tls or FakeTls()).inspector(),
    )


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"domain_name": "https://links.example.com/"}, "domain_name"),
        ({"domain_name": "links"}, "domain_name"),
        ({"domain_name": "*.example.com"}, "domain_name"),
        ({"iterable_region": "apac"}, "iterable_region"),
        ({"distribution_domain": "d1 .cloudfront.net"}, "distribution_domain"),
        ({"distribution_domain": DOMAIN}, "distribution_domain"),
        ({"connect_host": "https://edge"}, "connect_host"),
        ({"connect_host": "999.1.1.1"}, "connect_host"),
        ({"connect_host": "edge.example.com:443"}, "connect_host"),
        ({"connect_host": ""}, "connect_host"),
        ({"https_port": 0}, "https_port"),
        ({"https_port": 70000}, "https_port"),
        ({"http_port": -1}, "http_port"),
        ({"http_port": True}, "http_port"),
        ({"dns_servers": ["127.0.0.1:notaport"]}, "dns_servers"),
        ({"dns_servers": ["127.0.0.1:99999"]}, "dns_servers"),
        ({"dns_servers": "127.0.0.1"}, "dns_servers"),
        ({"distribution_dns_servers": ["[::1"]}, "distribution_dns_servers"),
        ({"ca_path": "/nonexistent/ca.pem"}, "ca_path"),
        ({"timeout": 0}, "timeout"),
        ({"wait_timeout": -1}, "wait_timeout"),
        ({"max_redirects": 21}, "max_redirects"),
        ({"min_days_valid": -1}, "min_days_valid"),
        ({"probe_path": "no-slash"}, "probe_path"),
        ({"probe_path": "/a b"}, "probe_path"),
        ({"expected_serial": "zz:11"}, "expected_serial"),
    ],
)
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(LinktrackError) as err:
        settings(**overrides)
    # list options name the entry too, as dns_servers[0]
    assert err.value.field in (field, field + "[0]")
    assert err.value.message.startswith(err.value.field)


def test_input_is_normalised():
    s = settings(domain_name="Links.Example.COM.", distribution_domain="D111111ABCDEF8.cloudfront.net",
                 connect_host="[::1]", dns_servers=["[::1]:5354", "ns1.example.com", "127.0.0.1"])
    assert s.domain_name == DOMAIN
    assert s.distribution_domain == DIST
    assert s.connect_host == "::1"
    assert [(x.host, x.port) for x in s.dns_servers] == [("::1", 5354), ("ns1.example.com", 53), ("127.0.0.1", 53)]
    assert [x.label for x in s.dns_servers] == ["[::1]:5354", "ns1.example.com", "127.0.0.1"]
    assert s.region["origin"] == "links.iterable.com"
    assert settings(iterable_region="edc").region["app_url"] == "https://app.eu.iterable.com"


def test_parse_host_accepts_addresses_and_names():
    assert parse_host("127.0.0.1", "connect_host") == "127.0.0.1"
    assert parse_host("d1.cloudfront.net", "connect_host") == "d1.cloudfront.net"
    with pytest.raises(LinktrackError) as err:
        parse_host("under_score.example.com", "connect_host")
    assert "connect_host" in err.value.message


# --------------------------------------------------------------------------
# All checks pass
# --------------------------------------------------------------------------


def test_all_checks_pass_for_a_set_up_domain():
    http = FakeHttp(good_routes())
    tls = FakeTls()
    v = verifier(http=http, tls=tls)
    checks, connect_host = v.run()
    assert {name: c["status"] for name, c in checks.items()} == {
        "dns": "passed", "tls": "passed", "https": "passed", "http": "passed", "deep_links": "passed"}
    assert connect_host == "127.0.0.1"
    # every request went to the explicit connect host, with the tracking name as SNI/Host
    assert {(r[1], r[2]) for r in http.requests} == {(DOMAIN, "127.0.0.1")}
    assert ("https", DOMAIN, "127.0.0.1", 8443, "/") in http.requests
    assert ("http", DOMAIN, "127.0.0.1", 8080, "/") in http.requests
    assert tls.calls[0] == ("probe", DOMAIN, "127.0.0.1", 8443, None, 2)
    assert tls.calls[1] == ("evaluate", DOMAIN, "TLSv1.2", 0, None)
    assert "USDC origin answered" in checks["https"]["reason"]
    assert "the origin received Host links.example.com" in checks["https"]["reason"]
    assert "Not proven" not in checks["https"]["reason"]
    assert checks["dns"]["evidence"] == [{
        "asked": "links.example.com CNAME @127.0.0.1:5354 (no recursion)",
        "answered": "d111111abcdef8.cloudfront.net",
    }]
    assert checks["https"]["evidence"][0]["asked"] == (
        "GET https://links.example.com/ (connected to 127.0.0.1:8443, SNI and Host links.example.com)")
    assert "X-Iterable-Region: usdc" in checks["https"]["evidence"][0]["answered"]


def test_verify_result_when_everything_passes():
    s = settings(single_ses_sending_domain=True)
    result = verify(s, verifier(s), clock=FakeClock())
    assert result["passed"] is True
    assert result["changed"] is False
    assert result["attempts"] == 1
    assert result["warnings"] == []
    assert result["iterable_app_url"] == "https://app.iterable.com"
    assert [step["step"] for step in result["iterable_steps"]] == [
        "add tracking domain", "set as default", "enable https"]
    assert all(step["ready"] for step in result["iterable_steps"])


# --------------------------------------------------------------------------
# DNS
# --------------------------------------------------------------------------


def test_dns_cname_to_wrong_target_fails():
    v = verifier(dns=cname_dns(target="d999999other.cloudfront.net"))
    check = v.check_dns()
    assert check["status"] == "failed"
    assert "CNAME to d999999other.cloudfront.net, not to the distribution %s" % DIST in check["reason"]


def test_dns_every_server_must_agree():
    dns = cname_dns()
    dns.table[(DOMAIN, "CNAME", "127.0.0.2")] = status("nxdomain", "NXDOMAIN (the name does not exist)")
    v = verifier(s=settings(dns_servers=["127.0.0.1:5354", "127.0.0.2"]), dns=dns)
    check = v.check_dns()
    assert check["status"] == "failed"
    assert check["reason"] == "127.0.0.2: NXDOMAIN (the name does not exist)."
    assert [e["answered"] for e in check["evidence"]] == [DIST, "NXDOMAIN (the name does not exist)"]


def test_dns_timeout_is_a_failed_check_with_the_reason():
    dns = FakeDns({(DOMAIN, "CNAME", NS): status("timeout", "no answer within 2 seconds")})
    check = verifier(dns=dns).check_dns()
    assert check["status"] == "failed"
    assert check["reason"] == "127.0.0.1:5354: no answer within 2 seconds."
    assert check["evidence"][0]["answered"] == "no answer within 2 seconds"


def test_dns_not_authoritative_answer_fails():
    dns = FakeDns({(DOMAIN, "CNAME", NS): status("not_authoritative", "referral to example.com: not authoritative")})
    check = verifier(dns=dns).check_dns()
    assert check["status"] == "failed"
    assert "not authoritative" in check["reason"]


def alias_dns(a=("127.0.0.1",), aaaa=("::1",), dist_a=("127.0.0.1",), dist_aaaa=("::1",)):
    def ans(values):
        return answer(*values) if values else NODATA

    return FakeDns({
        (DOMAIN, "A", NS): ans(a),
        (DOMAIN, "AAAA", NS): ans(aaaa),
        (DIST, "A", NS): ans(dist_a),
        (DIST, "AAAA", NS): ans(dist_aaaa),
    })


def test_dns_alias_records_matching_the_distribution_pass():
    dns = alias_dns()
    check = verifier(dns=dns).check_dns()
    assert check["status"] == "passed", check
    assert "match the distribution" in check["reason"]
    assert dns.questions == [(DOMAIN, "CNAME", NS), (DOMAIN, "A", NS), (DOMAIN, "AAAA", NS), (DIST, "A", NS), (DIST, "AAAA", NS)]


def test_dns_alias_compared_with_the_system_resolver_when_no_distribution_servers():
    dns = alias_dns()
    dns.system = {"A": ["127.0.0.1", "127.0.0.2"], "AAAA": ["::1"]}
    check = verifier(s=settings(distribution_dns_servers=None), dns=dns).check_dns()
    assert check["status"] == "passed", check
    assert check["evidence"][-1] == {
        "asked": "%s A and AAAA through this machine's resolver" % DIST,
        "answered": "A: 127.0.0.1, 127.0.0.2; AAAA: ::1",
    }


def test_dns_alias_records_not_matching_fail():
    check = verifier(dns=alias_dns(a=("192.0.2.10",), aaaa=())).check_dns()
    assert check["status"] == "failed"
    assert "A 192.0.2.10 does not match the distribution %s's A 127.0.0.1" % DIST in check["reason"]


def test_dns_alias_without_distribution_domain_is_skipped_not_passed():
    s = settings(distribution_domain=None)
    result = verify(s, verifier(s=s, dns=alias_dns()), clock=FakeClock())
    assert result["checks"]["dns"]["status"] == "skipped"
    assert result["passed"] is False
    assert any(w.startswith("dns check skipped") for w in result["warnings"])


def test_dns_without_distribution_domain_accepts_a_cloudfront_cname_only():
    s = settings(distribution_domain=None)
    assert verifier(s=s, dns=cname_dns(target="d2.cloudfront.net")).check_dns()["status"] == "passed"
    check = verifier(s=s, dns=cname_dns(target="links.iterable.com")).check_dns()
    assert check["status"] == "failed"
    assert "not a CloudFront distribution" in check["reason"]


def test_dns_uses_authoritative_servers_when_none_given():
    dns = cname_dns(server="ns1.example.com")
    dns.authoritative = [Server("ns1.example.com", 53)]
    check = verifier(s=settings(dns_servers=None), dns=dns).check_dns()
    assert check["status"] == "passed"
    assert dns.questions == [(DOMAIN, "CNAME", "ns1.example.com")]


def test_dns_without_findable_servers_fails():
    check = verifier(s=settings(dns_servers=None), dns=FakeDns()).check_dns()
    assert check["status"] == "failed"
    assert "authoritative name servers" in check["reason"]


def test_dns_no_records():
    check = verifier(dns=FakeDns()).check_dns()
    assert check["status"] == "failed"
    assert "has no CNAME, A or AAAA record" in check["reason"]


# --------------------------------------------------------------------------
# Connect host
# --------------------------------------------------------------------------


def test_connect_host_defaults_to_the_distribution():
    http = FakeHttp(good_routes())
    _checks, host = verifier(s=settings(connect_host=None), http=http).run()
    assert host == DIST
    assert {r[2] for r in http.requests} == {DIST}


def test_connect_host_falls_back_to_the_dns_target():
    http = FakeHttp(good_routes())
    _checks, host = verifier(s=settings(connect_host=None, distribution_domain=None),
                             dns=cname_dns(target="d2.cloudfront.net"), http=http).run()
    assert host == "d2.cloudfront.net"


def test_nowhere_to_connect_fails_the_network_checks():
    s = settings(connect_host=None, distribution_domain=None)
    checks, host = verifier(s=s, dns=FakeDns()).run()
    assert host is None
    for name in ("tls", "https", "http", "deep_links"):
        assert checks[name]["status"] == "failed"
        assert "Nowhere to connect" in checks[name]["reason"]


# --------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------


def test_tls_failed_checks_are_reported():
    tls = FakeTls(checks=[
        {"name": "chain", "passed": False, "reason": "certificate signed by an unknown CA"},
        {"name": "hostname", "passed": False, "reason": "certificate is for *.cloudfront.net"},
        {"name": "protocol", "passed": True, "reason": "TLSv1.3"},
    ])
    check = verifier(tls=tls).check_tls("127.0.0.1")
    assert check["status"] == "failed"
    assert "chain: certificate signed by an unknown CA" in check["reason"]
    assert "hostname: certificate is for *.cloudfront.net" in check["reason"]
    assert "protocol" not in check["reason"]


def test_tls_connection_error_is_a_failed_check():
    tls = FakeTls(result={"error": "connection refused by 127.0.0.1:8443"})
    check = verifier(tls=tls).check_tls("127.0.0.1")
    assert check["status"] == "failed"
    assert check["reason"] == "TLS handshake failed: connection refused by 127.0.0.1:8443"
    assert [c[0] for c in tls.calls] == ["probe"]


def test_tls_passes_the_expected_serial_through():
    tls = FakeTls()
    s = settings(expected_serial="0a:0b", min_days_valid=14)
    verifier(s=s, tls=tls).check_tls("127.0.0.1")
    assert tls.calls[1] == ("evaluate", DOMAIN, "TLSv1.2", 14, "0a:0b")


def test_tls_probe_result_object_with_attributes_is_understood():
    class Result:
        error = None
        protocol = "TLSv1.2"
        subject = "CN=x"
        subject_alt_names = [DOMAIN]
        issuer = "CN=ca"
        not_after = "2030"
        serial = "01"
        chain_verified = True

    check = verifier(tls=FakeTls(result=Result())).check_tls("127.0.0.1")
    assert check["status"] == "passed"
    assert "over TLSv1.2" in check["reason"]


def test_tls_with_no_checks_is_not_a_pass():
    check = verifier(tls=FakeTls(checks=[])).check_tls("127.0.0.1")
    assert check["status"] == "failed"


# --------------------------------------------------------------------------
# HTTPS / HTTP path
# --------------------------------------------------------------------------


def test_origin_of_the_other_region_fails():
    checks, _host = verifier(http=FakeHttp(good_routes(region="edc"))).run()
    for name in ("https", "http"):
        assert checks[name]["status"] == "failed"
        assert "came from the edc origin" in checks[name]["reason"]
        assert "must be links.iterable.com" in checks[name]["reason"]


def test_host_not_preserved_fails():
    routes = good_routes()
    routes[("https", "/")] = (302, origin_headers(host="links.iterable.com"), b"")
    check = verifier(http=FakeHttp(routes)).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert "origin received Host links.iterable.com instead of links.example.com" in check["reason"]


def test_missing_origin_headers_pass_but_say_what_is_not_proven():
    routes = good_routes()
    routes[("https", "/")] = (302, [("Location", "https://iterable.com/"), ("Via", "1.1 abc.cloudfront.net (CloudFront)")],
                              b"")
    s = settings()
    result = verify(s, verifier(s=s, http=FakeHttp(routes)), clock=FakeClock())
    check = result["checks"]["https"]
    assert check["status"] == "passed"
    assert "the answer passed through CloudFront" in check["reason"]
    assert "Not proven (the origin did not say): the origin's region" in check["reason"]
    assert "the Host the origin received" in check["reason"]
    assert any(w.startswith("https check:") and "Not proven" in w for w in result["warnings"])


def test_require_origin_evidence_turns_missing_headers_into_a_failure():
    routes = good_routes()
    routes[("https", "/")] = (302, [("Location", "https://iterable.com/")], b"")
    s = settings(require_origin_evidence=True)
    check = verifier(s=s, http=FakeHttp(routes)).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert "require_origin_evidence is true" in check["reason"]


def test_cloudfront_generated_error_fails():
    routes = good_routes()
    routes[("https", "/")] = (403, [("Server", "CloudFront"), ("Content-Type", "text/html")],
                              b"<h1>403 ERROR</h1> Generated by cloudfront (CloudFront)")
    check = verifier(http=FakeHttp(routes)).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert "CloudFront itself answered 403" in check["reason"]


def test_an_error_status_from_the_origin_fails():
    routes = good_routes()
    routes[("https", "/")] = (404, origin_headers(extra=[("Server", "CloudFront"), ("X-Cache", "Error from cloudfront")]),
                              b"404 unknown tracking domain")
    check = verifier(http=FakeHttp(routes)).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert "the answer to GET / was 404 Not Found: does the origin know links.example.com" in check["reason"]
    assert "CloudFront itself" not in check["reason"]


def test_bad_gateway_fails():
    routes = good_routes()
    routes[("https", "/")] = (502, origin_headers(), b"")
    check = verifier(http=FakeHttp(routes)).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert "502" in check["reason"]


def test_refused_https_is_a_failed_check():
    routes = good_routes()
    routes[("https", "/")] = "connection refused by 127.0.0.1:8443"
    check = verifier(http=FakeHttp(routes)).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert check["reason"] == "HTTPS request failed: connection refused by 127.0.0.1:8443"
    assert check["evidence"][0]["answered"] == "no answer: connection refused by 127.0.0.1:8443"


def test_redirect_loop_is_detected():
    routes = good_routes()
    routes[("https", "/")] = (301, origin_headers(extra=[("Location", "/a")]), b"")
    routes[("https", "/a")] = (301, origin_headers(extra=[("Location", "https://links.example.com/")]), b"")
    http = FakeHttp(routes)
    check = verifier(http=http).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert check["reason"].startswith("Redirect loop on links.example.com")
    assert [r[4] for r in http.requests] == ["/", "/a"]


def test_too_many_redirects_on_the_domain_fail():
    routes = good_routes()
    for i in range(10):
        routes[("https", "/%d" % i if i else "/")] = (302, origin_headers(extra=[("Location", "/%d" % (i + 1))]), b"")
    http = FakeHttp(routes)
    check = verifier(s=settings(max_redirects=3), http=http).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert "More than max_redirects=3" in check["reason"]
    assert len(http.requests) == 4


def test_redirects_on_the_domain_are_followed_until_the_destination():
    routes = good_routes()
    routes[("https", "/a/click?_u=x")] = (302, origin_headers(extra=[("Location", "/b")]), b"")
    routes[("https", "/b")] = (302, origin_headers(extra=[("Location", "https://www.example.com/welcome")]), b"")
    http = FakeHttp(routes)
    check = verifier(s=settings(probe_path="/a/click?_u=x"), http=http).check_path("https", "127.0.0.1")
    assert check["status"] == "passed", check
    assert "1 redirect(s) on links.example.com itself" in check["reason"]
    assert "sends the click on to https://www.example.com/welcome" in check["reason"]
    assert len(check["evidence"]) == 2


def test_http_redirected_to_https_passes_with_a_note():
    routes = good_routes()
    routes[("http", "/")] = (301, [("Location", "https://links.example.com/"), ("Server", "CloudFront")], b"")
    http = FakeHttp(routes)
    check = verifier(http=http).check_path("http", "127.0.0.1")
    assert check["status"] == "passed"
    assert "HTTP was redirected to HTTPS" in check["reason"]
    assert [(r[0], r[3]) for r in http.requests] == [("http", 8080), ("https", 8443)]


def test_http_only_setup_fails_https_but_passes_http():
    routes = good_routes()
    routes[("https", "/")] = "TLS certificate not accepted by 127.0.0.1:8443: Hostname mismatch"
    for path in ("/.well-known/apple-app-site-association", "/.well-known/assetlinks.json"):
        routes[("https", path)] = "TLS certificate not accepted by 127.0.0.1:8443: Hostname mismatch"
    tls = FakeTls(checks=[{"name": "hostname", "passed": False, "reason": "not valid for links.example.com"}])
    s = settings(iterable_confirmed=True)
    result = verify(s, verifier(s=s, http=FakeHttp(routes), tls=tls), clock=FakeClock())
    statuses = {n: c["status"] for n, c in result["checks"].items()}
    assert statuses == {"dns": "passed", "tls": "failed", "https": "failed", "http": "passed", "deep_links": "failed"}
    assert result["passed"] is False
    enable = result["iterable_steps"][-1]
    assert enable["step"] == "enable https" and enable["ready"] is False
    assert "Not yet" in enable["what"]
    message = failure_message(result)
    assert message.startswith("iterable_confirmed is true, but the end-to-end checks of links.example.com did not pass "
                              "(tls, https, deep_links)")


# --------------------------------------------------------------------------
# Deep-link files
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, expected",
    [
        ((404, [("Content-Type", "text/html")], b"nope"), "status 404 Not Found, not 200"),
        ((200, [("Content-Type", "text/html")], b"<html></html>"), "Content-Type is 'text/html', not application/json"),
        ((200, [], b"{}"), "Content-Type is '(none)'"),
        ((301, [("Location", "https://www.example.com/aasa")], b""), "redirected (301) to https://www.example.com/aasa"),
        ((200, [("Content-Type", "application/json")], b"{not json"), "not valid JSON"),
        ((200, [("Content-Type", "application/json")], b"[]"), "top level is list, not an object as iOS expects"),
        ("timed out after 2 seconds talking to 127.0.0.1:8443", "request failed: timed out"),
    ],
)
def test_deep_link_problems(answer, expected):
    routes = good_routes()
    routes[("https", "/.well-known/apple-app-site-association")] = answer
    check = verifier(http=FakeHttp(routes)).check_deep_links("127.0.0.1")
    assert check["status"] == "failed"
    assert check["reason"].startswith("apple-app-site-association: ")
    assert expected in check["reason"]
    assert "assetlinks.json" not in check["reason"]
    assert len(check["evidence"]) == 2


def test_assetlinks_must_be_an_array():
    routes = good_routes()
    routes[("https", "/.well-known/assetlinks.json")] = (200, [("Content-Type", "application/json")], b"{}")
    check = verifier(http=FakeHttp(routes)).check_deep_links("127.0.0.1")
    assert check["status"] == "failed"
    assert "assetlinks.json: valid JSON, but the top level is dict, not an array as Android expects" in check["reason"]


def test_deep_links_off_is_skipped_and_still_passes_overall():
    s = settings(deep_links=False)
    http = FakeHttp(good_routes())
    result = verify(s, verifier(s=s, http=http), clock=FakeClock())
    assert result["checks"]["deep_links"]["status"] == "skipped"
    assert result["passed"] is True
    assert not any("well-known" in r[4] for r in http.requests)


# --------------------------------------------------------------------------
# Iterable steps
# --------------------------------------------------------------------------


def test_iterable_steps_are_worded_for_the_region():
    steps = iterable_steps(settings(iterable_region="edc"), passed=True)
    assert [s["step"] for s in steps] == ["add tracking domain", "set as default", "enable https"]
    assert steps[0]["where"] == "https://app.eu.iterable.com > Settings > Domains"
    assert "Iterable app for EDC projects (https://app.eu.iterable.com)" in steps[0]["what"]
    assert "links.example.com" in steps[0]["what"]
    assert steps[1]["what"].startswith("If the project sends through a single Amazon SES sending domain")
    assert "keeps links.eu.iterable.com as its default" in steps[1]["what"]
    assert steps[2]["what"] == "Edit links.example.com and toggle on Enable HTTPS."
    usdc = iterable_steps(settings(), passed=True)
    assert usdc[0]["where"] == "https://app.iterable.com > Settings > Domains"


def test_default_step_follows_single_ses_sending_domain():
    assert [s["step"] for s in iterable_steps(settings(single_ses_sending_domain=False), True)] == [
        "add tracking domain", "enable https"]
    step = iterable_steps(settings(single_ses_sending_domain=True), True)[1]
    assert step["what"].startswith("Set links.example.com as the default tracking domain.")


# --------------------------------------------------------------------------
# Waiting
# --------------------------------------------------------------------------


class FlakyVerifier:
    """Fails ``failures`` times, then passes."""

    def __init__(self, inner, failures):
        self.inner = inner
        self.failures = failures
        self.runs = 0

    def run(self):
        self.runs += 1
        checks, host = self.inner.run()
        if self.runs <= self.failures:
            checks["dns"] = {"status": "failed", "reason": "not yet", "evidence": []}
        return checks, host


def test_wait_timeout_repeats_until_the_checks_pass():
    s = settings(wait_timeout=60)
    clock = FakeClock()
    flaky = FlakyVerifier(verifier(s), failures=2)
    result = verify(s, flaky, clock=clock)
    assert result["passed"] is True
    assert result["attempts"] == 3
    assert len(clock.sleeps) == 2
    assert result["waited_seconds"] == pytest.approx(sum(clock.sleeps))


def test_wait_timeout_ends_with_the_last_result():
    s = settings(wait_timeout=5)
    clock = FakeClock()
    result = verify(s, FlakyVerifier(verifier(s), failures=100), clock=clock)
    assert result["passed"] is False
    assert result["checks"]["dns"]["reason"] == "not yet"
    assert result["attempts"] >= 2
    assert clock.t <= 5.0 + 1e-9
    assert result["warnings"][0] == "dns check failed: not yet"


def test_no_wait_runs_once():
    s = settings()
    flaky = FlakyVerifier(verifier(s), failures=100)
    result = verify(s, flaky, clock=FakeClock())
    assert result["attempts"] == 1
    assert flaky.runs == 1


def test_dns_backend_names_dns_servers_when_no_authoritative_servers_are_found():
    from ansible_collections.linktrack.https.plugins.module_utils._iterable import DnsBackend

    class Checker:
        def find_authoritative_servers(self, name):
            raise LinktrackError("servers: found no NS records for %s. Give servers." % name, field="servers")

    with pytest.raises(LinktrackError) as err:
        DnsBackend(checker=Checker()).authoritative_servers(DOMAIN)
    assert err.value.field == "dns_servers"
    assert err.value.message == "dns_servers: found no NS records for links.example.com. Give dns_servers."


def test_wait_history_has_one_entry_per_attempt():
    s = settings(wait_timeout=60)
    clock = FakeClock()
    lines = []
    result = verify(s, FlakyVerifier(verifier(s), failures=2), clock=clock, progress=lines.append)
    history = result["wait_history"]
    assert [h["state"] for h in history] == ["waiting", "waiting", "done"]
    assert [h["done"] for h in history] == [False, False, True]
    assert history[-1]["elapsed"] == pytest.approx(round(sum(clock.sleeps), 1))
    assert all(h["what"] == "end-to-end checks of %s" % DOMAIN and h["timeout"] == 60 for h in history)
    assert len(lines) == 3


def test_wait_history_of_a_single_attempt():
    s = settings()
    lines = []
    result = verify(s, FlakyVerifier(verifier(s), failures=100), clock=FakeClock(), progress=lines.append)
    assert [(h["state"], h["done"]) for h in result["wait_history"]] == [("waiting", False)]
    assert lines == []
    result = verify(s, verifier(s), clock=FakeClock())
    assert [(h["state"], h["done"]) for h in result["wait_history"]] == [("done", True)]
