# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/_iterable.py against real loopback servers: HTTP, HTTPS with SNI, DNS over UDP.

The servers run in threads of the test process; certificates come from a
throwaway CA (tests/support/throwaway_tls.py). Nothing here is faked: real sockets, real TLS
handshakes through _tls, real DNS messages through dnspython.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import threading

import pytest

dns_message = pytest.importorskip("dns.message")
import dns.rcode  # noqa: E402
import dns.rrset  # noqa: E402

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

from ansible_collections.linktrack.https.plugins.module_utils._dns import Server  # noqa: E402
from ansible_collections.linktrack.https.plugins.module_utils._iterable import (  # noqa: E402
    DnsBackend,
    dns_answered,
    HttpFetcher,
    Settings,
    TrackingDomainVerifier,
    verify,
)
from ansible_collections.linktrack.https.tests.support.throwaway_tls import (  # noqa: E402
    SilentServer,
    ThrowawayCA,
    free_port,
    has_ipv6_loopback,
)

DOMAIN = "links.example.com"
DIST = "d111111abcdef8.cloudfront.net"


# --------------------------------------------------------------------------
# A small edge + origin: HTTP and HTTPS on loopback, answering like the origin stand-in
# --------------------------------------------------------------------------


class OriginHandler(BaseHTTPRequestHandler):
    region = "usdc"
    deep_links = "json"  # json | html | missing
    seen = None  # list shared per server: (path, Host header)

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status, headers, body=b""):
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Iterable-Region", self.region)
        self.send_header("X-Iterable-Origin", {"usdc": "links.iterable.com", "edc": "links.eu.iterable.com"}[self.region])
        self.send_header("X-Received-Host", self.headers.get("Host", ""))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("Host")))
        if self.path.startswith("/.well-known/"):
            if self.deep_links == "missing":
                return self._send(404, [("Content-Type", "text/html")], b"<h1>Not Found</h1>")
            kind = "text/html" if self.deep_links == "html" else "application/json"
            body = {"applinks": {"details": []}} if "apple" in self.path else [{"relation": []}]
            return self._send(200, [("Content-Type", kind)], json.dumps(body).encode())
        if self.path == "/loop":
            return self._send(301, [("Location", "/loop2")])
        if self.path == "/loop2":
            return self._send(301, [("Location", "https://%s/loop" % DOMAIN)])
        return self._send(302, [("Location", "https://www.example.com/welcome")])


class _TlsHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, context, family=socket.AF_INET):
        self.address_family = family
        self.tls_context = context
        ThreadingHTTPServer.__init__(self, address, handler)

    def get_request(self):
        sock, addr = ThreadingHTTPServer.get_request(self)
        if self.tls_context is None:
            return sock, addr
        # the handshake happens on the handler's thread, at the first read
        return self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


class Site:
    """HTTP and HTTPS servers sharing one origin behaviour; records SNI names, paths and Host headers."""

    def __init__(self, leaf, region="usdc", deep_links="json", host="127.0.0.1"):
        self.host = host
        self.sni = []
        self.requests = []
        handler = type("Handler", (OriginHandler,), {"region": region, "deep_links": deep_links, "seen": self.requests})
        ctx = leaf.server_context()
        ctx.sni_callback = lambda sslobj, name, _ctx: self.sni.append(name)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.https = _TlsHTTPServer((host, 0), handler, ctx, family)
        self.http = _TlsHTTPServer((host, 0), handler, None, family)
        self.threads = [threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
                        for srv in (self.https, self.http)]

    @property
    def https_port(self):
        return self.https.server_address[1]

    @property
    def http_port(self):
        return self.http.server_address[1]

    def __enter__(self):
        for thread in self.threads:
            thread.daemon = True
            thread.start()
        return self

    def __exit__(self, *exc):
        for srv in (self.https, self.http):
            srv.shutdown()
            srv.server_close()


@pytest.fixture(scope="module")
def ca():
    return ThrowawayCA("iterable test root")


@pytest.fixture(scope="module")
def leaf(ca):
    return ca.issue([DOMAIN])


@pytest.fixture()
def ca_file(ca, tmp_path):
    return ca.bundle_path(tmp_path)


# --------------------------------------------------------------------------
# A tiny authoritative DNS server over UDP
# --------------------------------------------------------------------------


class DnsServer:
    """Answers from ``records`` {(name, type): [(rtype, value)]}; NXDOMAIN for unknown names."""

    def __init__(self, records):
        self.records = records
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.questions = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.daemon = True

    def _run(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            rtype = dns.rdatatype.to_text(question.rdtype)
            self.questions.append((name, rtype, bool(query.flags & dns.flags.RD)))
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            known = [key for key in self.records if key[0] == name]
            if not known:
                response.set_rcode(dns.rcode.NXDOMAIN)
            for answer_type, value in self.records.get((name, rtype), []):
                response.answer.append(dns.rrset.from_text(name + ".", 300, "IN", answer_type, value))
            self.sock.sendto(response.to_wire(), peer)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


import dns.flags  # noqa: E402
import dns.rdatatype  # noqa: E402


def settings(site, dns_port, **overrides):
    params = {
        "domain_name": DOMAIN,
        "iterable_region": "usdc",
        "distribution_domain": DIST,
        "connect_host": site.host,
        "https_port": site.https_port,
        "http_port": site.http_port,
        "dns_servers": ["127.0.0.1:%d" % dns_port],
        "distribution_dns_servers": ["127.0.0.1:%d" % dns_port],
        "timeout": 2,
        "require_origin_evidence": True,
    }
    params.update(overrides)
    return Settings.from_params(params)


CNAME_ZONE = {
    (DOMAIN, "CNAME"): [("CNAME", DIST + ".")],
    (DOMAIN, "A"): [("CNAME", DIST + ".")],
    (DOMAIN, "AAAA"): [("CNAME", DIST + ".")],
    (DIST, "A"): [("A", "127.0.0.1")],
    (DIST, "AAAA"): [("AAAA", "::1")],
}


# --------------------------------------------------------------------------
# HttpFetcher
# --------------------------------------------------------------------------


def test_https_fetch_sends_sni_and_host_of_the_tracking_domain(leaf, ca_file):
    with Site(leaf) as site:
        exchange = HttpFetcher(timeout=2, ca_path=ca_file).fetch("https", DOMAIN, "127.0.0.1", site.https_port, "/x?y=1")
    assert exchange.error is None
    assert exchange.status == 302
    assert exchange.header("location") == "https://www.example.com/welcome"
    assert exchange.header("X-Received-Host") == DOMAIN
    assert site.sni == [DOMAIN]
    assert site.requests == [("/x?y=1", DOMAIN)]


def test_http_fetch_sends_the_host_header(leaf):
    with Site(leaf) as site:
        exchange = HttpFetcher(timeout=2).fetch("http", DOMAIN, "127.0.0.1", site.http_port, "/")
    assert exchange.status == 302
    assert site.requests == [("/", DOMAIN)]
    assert site.sni == []


def test_untrusted_certificate_is_an_error_not_an_exception(leaf, tmp_path):
    other = ThrowawayCA("somebody else").bundle_path(tmp_path)
    with Site(leaf) as site:
        exchange = HttpFetcher(timeout=2, ca_path=other).fetch("https", DOMAIN, "127.0.0.1", site.https_port, "/")
    assert exchange.status is None
    assert exchange.error.startswith("TLS certificate not accepted by 127.0.0.1:%d" % site.https_port)
    assert "unable to get local issuer certificate" in exchange.error


def test_certificate_for_another_name_is_rejected(ca, ca_file):
    with Site(ca.issue(["other.example.com"])) as site:
        exchange = HttpFetcher(timeout=2, ca_path=ca_file).fetch("https", DOMAIN, "127.0.0.1", site.https_port, "/")
    assert "Hostname mismatch" in exchange.error


def test_refused_connection_is_an_error():
    port = free_port()
    exchange = HttpFetcher(timeout=2).fetch("http", DOMAIN, "127.0.0.1", port, "/")
    assert exchange.error == "connection refused by 127.0.0.1:%d" % port
    assert exchange.answered() == "no answer: connection refused by 127.0.0.1:%d" % port


def test_silent_server_times_out():
    with SilentServer() as server:
        exchange = HttpFetcher(timeout=0.5).fetch("http", DOMAIN, "127.0.0.1", server.port, "/")
    assert exchange.error == "timed out after 0.5 seconds talking to 127.0.0.1:%d" % server.port


def test_plain_http_on_the_https_port_is_an_error(leaf, ca_file):
    with Site(leaf) as site:
        exchange = HttpFetcher(timeout=2, ca_path=ca_file).fetch("https", DOMAIN, "127.0.0.1", site.http_port, "/")
    assert exchange.error.startswith("TLS handshake with 127.0.0.1:%d failed" % site.http_port)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_connect_host(leaf, ca_file):
    with Site(leaf, host="::1") as site:
        exchange = HttpFetcher(timeout=2, ca_path=ca_file).fetch("https", DOMAIN, "::1", site.https_port, "/")
    assert exchange.status == 302
    assert exchange.asked() == "GET https://links.example.com/ (connected to [::1]:%d, SNI and Host %s)" % (
        site.https_port, DOMAIN)


# --------------------------------------------------------------------------
# DnsBackend
# --------------------------------------------------------------------------


def test_dns_ask_returns_the_cname_without_recursion():
    with DnsServer(CNAME_ZONE) as server:
        response = DnsBackend(timeout=2).ask(DOMAIN, "CNAME", Server("127.0.0.1", server.port, ["127.0.0.1"]))
    assert response["status"] == "answer"
    assert response["values"] == [DIST]
    assert server.questions == [(DOMAIN, "CNAME", False)]


def test_dns_nxdomain():
    with DnsServer(CNAME_ZONE) as server:
        response = DnsBackend(timeout=2).ask("nope.example.com", "CNAME", Server("127.0.0.1", server.port, ["127.0.0.1"]))
    assert response["status"] == "nxdomain"
    assert response["values"] == []


def test_dns_silent_server_is_a_reason():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    try:
        response = DnsBackend(timeout=0.3).ask(DOMAIN, "CNAME", Server("127.0.0.1", port, ["127.0.0.1"]))
    finally:
        sock.close()
    assert response["status"] == "timeout"
    assert dns_answered(response) == "no answer within 0.3 seconds"


# --------------------------------------------------------------------------
# The whole verification against real servers
# --------------------------------------------------------------------------


def test_everything_passes_against_real_servers(leaf, ca_file):
    with DnsServer(CNAME_ZONE) as dns_server, Site(leaf) as site:
        s = settings(site, dns_server.port, ca_path=ca_file, probe_path="/a/click?_u=https%3A%2F%2Fwww.example.com")
        result = verify(s)
    statuses = dict((name, check["status"]) for name, check in result["checks"].items())
    assert statuses == {"dns": "passed", "tls": "passed", "https": "passed", "http": "passed", "deep_links": "passed"}, \
        result["checks"]
    assert result["passed"] is True
    assert "the origin received Host links.example.com" in result["checks"]["https"]["reason"]
    assert "sends the click on to https://www.example.com/welcome" in result["checks"]["https"]["reason"]
    assert "openssl s_client -servername links.example.com" in result["checks"]["tls"]["evidence"][0]["asked"]
    # every HTTPS connection (TLS probe: 2 handshakes; HTTPS path; 2 deep-link files) named the tracking domain
    assert set(site.sni) == {DOMAIN}
    assert len(site.sni) == 5


def test_wrong_certificate_fails_tls_https_and_deep_links(ca, ca_file):
    with DnsServer(CNAME_ZONE) as dns_server, Site(ca.issue(["*.cloudfront.net"])) as site:
        result = verify(settings(site, dns_server.port, ca_path=ca_file))
    checks = result["checks"]
    assert checks["tls"]["status"] == "failed"
    assert "name_matches" in checks["tls"]["reason"]
    assert checks["https"]["status"] == "failed"
    assert "Hostname mismatch" in checks["https"]["reason"]
    assert checks["deep_links"]["status"] == "failed"
    assert checks["http"]["status"] == "passed"
    assert checks["dns"]["status"] == "passed"


def test_other_region_fails_https_and_http(leaf, ca_file):
    with DnsServer(CNAME_ZONE) as dns_server, Site(leaf, region="edc") as site:
        result = verify(settings(site, dns_server.port, ca_path=ca_file))
    for name in ("https", "http"):
        assert result["checks"][name]["status"] == "failed"
        assert "came from the edc origin" in result["checks"][name]["reason"]
    assert result["checks"]["tls"]["status"] == "passed"


@pytest.mark.parametrize("mode, expected", [("missing", "status 404"), ("html", "Content-Type is 'text/html'")])
def test_deep_link_files_missing_or_html(leaf, ca_file, mode, expected):
    with DnsServer(CNAME_ZONE) as dns_server, Site(leaf, deep_links=mode) as site:
        result = verify(settings(site, dns_server.port, ca_path=ca_file))
    check = result["checks"]["deep_links"]
    assert check["status"] == "failed"
    assert "apple-app-site-association: " + expected in check["reason"]
    assert "assetlinks.json: " + expected in check["reason"]
    assert result["checks"]["https"]["status"] == "passed"


def test_redirect_loop_against_a_real_server(leaf, ca_file):
    with DnsServer(CNAME_ZONE) as dns_server, Site(leaf) as site:
        s = settings(site, dns_server.port, ca_path=ca_file, probe_path="/loop")
        check = TrackingDomainVerifier(s).check_path("https", "127.0.0.1")
    assert check["status"] == "failed"
    assert check["reason"].startswith("Redirect loop on links.example.com")
    assert [p for p, _h in site.requests] == ["/loop", "/loop2"]


def test_dns_pointing_elsewhere_fails_only_dns(leaf, ca_file):
    zone = dict(CNAME_ZONE)
    zone[(DOMAIN, "CNAME")] = [("CNAME", "d999999other.cloudfront.net.")]
    with DnsServer(zone) as dns_server, Site(leaf) as site:
        result = verify(settings(site, dns_server.port, ca_path=ca_file))
    assert result["checks"]["dns"]["status"] == "failed"
    assert "CNAME to d999999other.cloudfront.net, not to the distribution" in result["checks"]["dns"]["reason"]
    assert [n for n, c in result["checks"].items() if c["status"] != "passed"] == ["dns"]


def test_alias_records_against_a_real_dns_server(leaf, ca_file):
    zone = dict(CNAME_ZONE)
    del zone[(DOMAIN, "CNAME")]
    zone[(DOMAIN, "A")] = [("A", "127.0.0.1")]
    zone[(DOMAIN, "AAAA")] = [("AAAA", "::1")]
    with DnsServer(zone) as dns_server, Site(leaf) as site:
        check = TrackingDomainVerifier(settings(site, dns_server.port, ca_path=ca_file)).check_dns()
    assert check["status"] == "passed", check
    asked = [e["asked"] for e in check["evidence"]]
    assert asked == [
        "links.example.com CNAME @127.0.0.1:%d (no recursion)" % dns_server.port,
        "links.example.com A @127.0.0.1:%d (no recursion)" % dns_server.port,
        "links.example.com AAAA @127.0.0.1:%d (no recursion)" % dns_server.port,
        "d111111abcdef8.cloudfront.net A @127.0.0.1:%d" % dns_server.port,
        "d111111abcdef8.cloudfront.net AAAA @127.0.0.1:%d" % dns_server.port,
    ]


def test_nothing_listening_gives_failed_checks_not_a_traceback(ca_file):
    class Closed:
        host = "127.0.0.1"
        https_port = free_port()
        http_port = free_port()

    with DnsServer(CNAME_ZONE) as dns_server:
        result = verify(settings(Closed, dns_server.port, ca_path=ca_file))
    checks = result["checks"]
    for name in ("tls", "https", "http", "deep_links"):
        assert checks[name]["status"] == "failed"
        assert "refused" in checks[name]["reason"], checks[name]["reason"]
    assert result["passed"] is False
