# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of module_utils/_dns.py with a fake transport and a fake resolver.

The fake transport answers like an authoritative server from a small table,
built with dnspython's own message classes, so the parsing of real responses
is exercised; the real BIND answers in the integration target dns_record_wait.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._dns import (
    DnsChecker,
    Server,
    evaluate,
    expected_values,
    parse_server,
    parse_servers,
)
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock

DIST = "d111111abcdef8.cloudfront.net"


class FakeServer:
    """An authoritative server for one zone: records {(name, type): [values]}."""

    def __init__(self, zone, records=None, authoritative=True, timeout=False, truncate=False):
        self.zone = dns.name.from_text(zone)
        self.records = dict(records or {})
        self.authoritative = authoritative
        self.timeout = timeout
        self.truncate = truncate

    def respond(self, question, tcp):
        if self.timeout:
            raise dns.exception.Timeout()
        qname = question.question[0].name
        qtype = dns.rdatatype.to_text(question.question[0].rdtype)
        response = dns.message.make_response(question)
        if not qname.is_subdomain(self.zone):
            response.set_rcode(dns.rcode.REFUSED)
            return response
        if self.truncate and not tcp:
            response.flags |= dns.flags.TC
            return response
        if self.authoritative:
            response.flags |= dns.flags.AA
        names = set(n for n, _t in self.records)
        key = qname.to_text(omit_final_dot=True).lower()
        if key not in names:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        values = self.records.get((key, qtype))
        if values is None and (key, "CNAME") in self.records:
            qtype, values = "CNAME", self.records[(key, "CNAME")]
        if values:
            response.answer.append(dns.rrset.from_text(qname, 300, "IN", qtype, *values))
        return response


class FakeTransport:
    def __init__(self, servers):
        self.servers = servers  # (address, port) -> FakeServer
        self.questions = []

    def _serve(self, q, where, port, tcp):
        self.questions.append((where, port, "tcp" if tcp else "udp", q.question[0].name.to_text(), q.flags))
        server = self.servers.get((where, port))
        if server is None:
            raise ConnectionRefusedError(111, "Connection refused")
        return server.respond(q, tcp)

    def udp(self, q, where, timeout=None, port=53):
        return self._serve(q, where, port, False)

    def tcp(self, q, where, timeout=None, port=53):
        return self._serve(q, where, port, True)


class FakeAnswer:
    def __init__(self, rrset):
        self.rrset = rrset


class FakeResolver:
    """The system resolver: NS records per name; other names NXDOMAIN or no answer."""

    def __init__(self, ns, nxdomain=(), cname=None):
        self.ns = ns
        self.nxdomain = set(nxdomain)
        self.cname = cname or {}
        self.asked = []

    def resolve(self, qname, rdtype, raise_on_no_answer=True):
        self.asked.append((qname, rdtype))
        if qname in self.nxdomain:
            raise dns.resolver.NXDOMAIN()
        if qname in self.cname:  # resolve() follows the CNAME; the rrset has the target's name
            target = self.cname[qname]
            return FakeAnswer(dns.rrset.from_text(dns.name.from_text(target), 300, "IN", "NS", *self.ns[target]))
        if qname in self.ns:
            return FakeAnswer(dns.rrset.from_text(dns.name.from_text(qname), 300, "IN", "NS", *self.ns[qname]))
        return FakeAnswer(None)


def fake_getaddrinfo(table):
    def getaddrinfo(host, port, family=0, socktype=0):
        if host not in table:
            raise socket.gaierror(-2, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socktype, 17, "", (a, port)) for a in table[host]]
    return getaddrinfo


def checker(servers, resolver=None, hosts=None, clock=None):
    transport = FakeTransport(servers)
    result = DnsChecker(timeout=2, transport=transport, resolver=resolver, getaddrinfo=fake_getaddrinfo(hosts or {}),
                        clock=clock or FakeClock())
    result.fake = transport
    return result


# --------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, host, port, label",
    [
        ("127.0.0.1", "127.0.0.1", 53, "127.0.0.1"),
        ("127.0.0.1:24353", "127.0.0.1", 24353, "127.0.0.1:24353"),
        ("::1", "::1", 53, "::1"),
        ("[::1]:5353", "::1", 5353, "[::1]:5353"),
        ("2001:DB8::0:1", "2001:db8::1", 53, "2001:db8::1"),
        ("NS1.Example.com.", "ns1.example.com", 53, "ns1.example.com"),
        ("ns1.example.com:5300", "ns1.example.com", 5300, "ns1.example.com:5300"),
    ],
)
def test_parse_server(spec, host, port, label):
    server = parse_server(spec)
    assert (server.host, server.port, server.label) == (host, port, label)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("", "is not a server"),
        ("127.0.0.1:0", "not a port"),
        ("127.0.0.1:70000", "not a port"),
        ("127.0.0.1:dns", "not a number"),
        ("[::1", "unclosed"),
        ("[127.0.0.1]:53", "only IPv6 addresses"),
        ("http://ns1.example.com", "not a host name"),
        ("ns1..example.com", "empty label"),
    ],
)
def test_parse_server_rejects(spec, fragment):
    with pytest.raises(LinktrackError) as info:
        parse_servers(["127.0.0.1", spec])
    assert info.value.field == "servers[1]"
    assert fragment in info.value.message
    assert "servers[1]" in info.value.message


def test_parse_servers_port_and_duplicates():
    servers = parse_servers(["127.0.0.1", "127.0.0.1:53", "127.0.0.1:5353"], port=53)
    assert [s.label for s in servers] == ["127.0.0.1", "127.0.0.1:5353"]
    assert [s.port for s in parse_servers(["127.0.0.1"], port=24353)] == [24353]
    with pytest.raises(LinktrackError) as info:
        parse_servers(["127.0.0.1"], port=0)
    assert info.value.field == "port"


@pytest.mark.parametrize(
    "rdtype, values, expected",
    [
        ("CNAME", ["D111111ABCDEF8.CloudFront.NET."], [DIST]),
        ("A", ["192.0.2.2", "192.0.2.1", "192.0.2.2"], ["192.0.2.1", "192.0.2.2"]),
        ("AAAA", ["2001:DB8:0:0::1"], ["2001:db8::1"]),
        ("TXT", ['"v=spf1 " "-all"', "plain text"], ["plain text", "v=spf1 -all"]),
        ("cname", [], []),
    ],
)
def test_expected_values_are_normalised(rdtype, values, expected):
    assert expected_values(rdtype, values) == expected


@pytest.mark.parametrize(
    "rdtype, values, field, fragment",
    [
        ("A", ["::1"], "values[0]", "not an IPv4"),
        ("AAAA", ["::1", "x"], "values[1]", "not an IPv6"),
        ("CNAME", ["a.example.com", "b.example.com"], "values", "one target"),
        ("CNAME", [""], "values[0]", "non-empty"),
        ("MX", [], "type", "use one of CNAME, A, AAAA, TXT"),
    ],
)
def test_expected_values_reject(rdtype, values, field, fragment):
    with pytest.raises(LinktrackError) as info:
        expected_values(rdtype, values)
    assert info.value.field == field
    assert fragment in info.value.message


# --------------------------------------------------------------------------
# one round of questions
# --------------------------------------------------------------------------

ZONE = {
    ("links.example.com", "CNAME"): ["D111111ABCDEF8.CloudFront.net."],
    ("alias.example.com", "A"): ["192.0.2.1", "192.0.2.2"],
    ("alias.example.com", "AAAA"): ["2001:db8::1"],
    ("txt.example.com", "TXT"): ['"v=spf1 " "-all"'],
}


def test_query_statuses():
    c = checker({
        ("127.0.0.1", 5353): FakeServer("example.com", ZONE),
        ("127.0.0.2", 53): FakeServer("example.com", ZONE, authoritative=False),
        ("127.0.0.3", 53): FakeServer("example.com", ZONE, timeout=True),
        ("127.0.0.4", 53): FakeServer("other.org", {}),
    })
    servers = ["127.0.0.1:5353", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
    r = c.query_authoritative("Links.Example.com.", "CNAME", servers)
    assert list(r) == servers
    assert r["127.0.0.1:5353"]["status"] == "answer"
    assert r["127.0.0.1:5353"]["values"] == [DIST]
    assert r["127.0.0.1:5353"]["authoritative"] is True
    assert r["127.0.0.2"]["status"] == "not_authoritative"
    assert "without the AA flag" in r["127.0.0.2"]["reason"]
    assert r["127.0.0.3"]["status"] == "timeout"
    assert r["127.0.0.4"]["status"] == "refused"
    assert r["127.0.0.5"]["status"] == "error" and "refused" in r["127.0.0.5"]["reason"].lower()
    # recursion is off in every question
    assert all(not flags & dns.flags.RD for _w, _p, _proto, _n, flags in c.fake.questions)
    r = c.query_authoritative("missing.example.com", "A", ["127.0.0.1:5353"])["127.0.0.1:5353"]
    assert (r["status"], r["values"]) == ("nxdomain", [])
    r = c.query_authoritative("alias.example.com", "TXT", ["127.0.0.1:5353"])["127.0.0.1:5353"]
    assert r["status"] == "nodata" and "without a TXT record" in r["reason"]
    r = c.query_authoritative("links.example.com", "A", ["127.0.0.1:5353"])["127.0.0.1:5353"]
    assert r["status"] == "cname" and r["reason"] == "CNAME %s (no A record at the name)" % DIST
    r = c.query_authoritative("alias.example.com", "AAAA", ["127.0.0.1:5353"])["127.0.0.1:5353"]
    assert r["values"] == ["2001:db8::1"]
    r = c.query_authoritative("txt.example.com", "TXT", ["127.0.0.1:5353"])["127.0.0.1:5353"]
    assert r["values"] == ["v=spf1 -all"]


def test_truncated_udp_answer_is_asked_again_over_tcp():
    c = checker({("127.0.0.1", 53): FakeServer("example.com", ZONE, truncate=True)})
    r = c.query_authoritative("alias.example.com", "A", ["127.0.0.1"])["127.0.0.1"]
    assert r["values"] == ["192.0.2.1", "192.0.2.2"]
    assert [q[2] for q in c.fake.questions] == ["udp", "tcp"]


def test_server_names_resolve_and_every_address_is_tried():
    c = checker({("::1", 53): FakeServer("example.com", ZONE)}, hosts={"ns1.test": ["127.0.0.9", "::1"]})
    r = c.query_authoritative("links.example.com", "CNAME", ["ns1.test", "nowhere.test"])
    assert r["ns1.test"]["values"] == [DIST]
    assert [q[0] for q in c.fake.questions] == ["127.0.0.9", "::1"]
    assert r["nowhere.test"]["status"] == "error" and "cannot resolve" in r["nowhere.test"]["reason"]


def test_evaluate_modes_and_matches():
    answer = {"status": "answer", "values": ["192.0.2.1", "192.0.2.2"]}
    nx = {"status": "nxdomain", "values": []}
    responses = {"a": answer, "b": nx}
    assert evaluate(responses, ["192.0.2.1", "192.0.2.2"], "all") == (False, ["b"])
    assert evaluate(responses, ["192.0.2.1", "192.0.2.2"], "any") == (True, ["b"])
    assert evaluate({"a": answer}, ["192.0.2.1"], "all", match="exact") == (False, ["a"])
    assert evaluate({"a": answer}, ["192.0.2.1"], "all", match="contains") == (True, [])
    assert evaluate({"a": answer}, [], "all") == (True, [])
    assert evaluate({"b": nx, "c": {"status": "nodata", "values": []}}, [], "all", state="absent") == (True, [])
    assert evaluate({"a": answer}, [], "all", state="absent") == (False, ["a"])
    assert evaluate({}, [], "any") == (False, [])


# --------------------------------------------------------------------------
# waiting
# --------------------------------------------------------------------------


class ChangingServer(FakeServer):
    """Answers the old record until the clock reaches ``switch_at``."""

    def __init__(self, clock, switch_at, before, after):
        super(ChangingServer, self).__init__("example.com", before)
        self.clock, self.switch_at, self.after = clock, switch_at, after

    def respond(self, question, tcp):
        if self.clock.now() >= self.switch_at:
            self.records = self.after
        return super(ChangingServer, self).respond(question, tcp)


def test_wait_until_the_record_appears_with_growing_sleeps():
    clock = FakeClock()
    server = ChangingServer(clock, 2.0, {("links.example.com", "CNAME"): ["links.iterable.com"]},
                            {("links.example.com", "CNAME"): [DIST]})
    c = checker({("127.0.0.1", 24353): server}, clock=clock)
    result = c.wait("links.example.com", "CNAME", [DIST + "."], servers=["127.0.0.1:24353"], timeout=60)
    assert result["matched"] is True
    assert result["answers"] == {"127.0.0.1:24353": [DIST]}
    assert result["expected_values"] == [DIST]
    assert result["attempts"] == 3
    assert clock.sleeps == [1.0, 1.6]
    assert result["waited_seconds"] == pytest.approx(2.6)


def test_wait_timeout_says_what_each_server_answered():
    clock = FakeClock()
    c = checker({
        ("127.0.0.1", 53): FakeServer("example.com", {("links.example.com", "CNAME"): ["links.iterable.com"]}),
        ("127.0.0.2", 53): FakeServer("example.com", {}),
        ("127.0.0.3", 53): FakeServer("example.com", {}, timeout=True),
        ("127.0.0.4", 53): FakeServer("example.com", {("links.example.com", "CNAME"): [DIST]}),
    }, clock=clock)
    with pytest.raises(LinktrackError) as info:
        c.wait("links.example.com", "CNAME", [DIST], servers=["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"],
               timeout=20)
    message = info.value.message
    assert "Timed out after 20 seconds" in message
    assert "127.0.0.1: links.iterable.com" in message
    assert "127.0.0.2: NXDOMAIN" in message
    assert "127.0.0.3: no answer within 2 seconds" in message
    assert "127.0.0.4" not in message.split("Seen instead")[1]
    details = info.value.details
    assert details["matched"] is False
    assert details["answers"]["127.0.0.1"] == ["links.iterable.com"]
    assert details["responses"]["127.0.0.3"]["status"] == "timeout"
    assert info.value.field == "timeout"
    assert clock.t == pytest.approx(20.0)


def test_mode_any_accepts_one_good_server():
    c = checker({
        ("127.0.0.1", 53): FakeServer("example.com", {}, timeout=True),
        ("127.0.0.2", 53): FakeServer("example.com", {("links.example.com", "CNAME"): [DIST]}),
    })
    result = c.wait("links.example.com", "CNAME", [DIST], servers=["127.0.0.1", "127.0.0.2"], mode="any", timeout=0)
    assert result["matched"] is True and result["attempts"] == 1
    assert result["responses"]["127.0.0.1"]["status"] == "timeout"
    with pytest.raises(LinktrackError):
        c.wait("links.example.com", "CNAME", [DIST], servers=["127.0.0.1", "127.0.0.2"], mode="all", timeout=0)


def test_wait_for_absence():
    c = checker({("127.0.0.1", 53): FakeServer("example.com", {("other.example.com", "A"): ["192.0.2.1"]})})
    result = c.wait("links.example.com", "CNAME", [], servers=["127.0.0.1"], state="absent", timeout=0)
    assert result["matched"] is True
    assert result["responses"]["127.0.0.1"]["status"] == "nxdomain"
    with pytest.raises(LinktrackError) as info:
        c.wait("links.example.com", "CNAME", [DIST], servers=["127.0.0.1"], state="absent", timeout=0)
    assert info.value.field == "values"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"mode": "some"}, "mode"),
        ({"match": "fuzzy"}, "match"),
        ({"state": "gone"}, "state"),
        ({"timeout": -1}, "timeout"),
        ({"name": "https://links.example.com"}, "name"),
    ],
)
def test_wait_rejects_bad_input_before_asking(kwargs, field):
    c = checker({("127.0.0.1", 53): FakeServer("example.com", ZONE)})
    args = dict(name="links.example.com", rdtype="CNAME", expected=[DIST], servers=["127.0.0.1"])
    args.update(kwargs)
    with pytest.raises(LinktrackError) as info:
        c.wait(**args)
    assert info.value.field == field
    assert c.fake.questions == []


def test_query_timeout_must_be_positive():
    with pytest.raises(LinktrackError) as info:
        DnsChecker(timeout=0)
    assert info.value.field == "query_timeout"


# --------------------------------------------------------------------------
# finding the zone's name servers
# --------------------------------------------------------------------------


def test_find_authoritative_servers_walks_up():
    resolver = FakeResolver({"example.com": ["ns2.example.com.", "NS1.example.com."]}, nxdomain=["x.links.example.com"])
    c = checker({("192.0.2.53", 53): FakeServer("example.com", ZONE), ("192.0.2.54", 53): FakeServer("example.com", ZONE)},
                resolver=resolver, hosts={"ns1.example.com": ["192.0.2.53"], "ns2.example.com": ["192.0.2.54"]})
    servers = c.find_authoritative_servers("x.links.example.com")
    assert servers == [Server("ns1.example.com"), Server("ns2.example.com")]
    assert [q for q, _t in resolver.asked] == ["x.links.example.com", "links.example.com", "example.com"]
    result = c.wait("links.example.com", "CNAME", [DIST], timeout=0)
    assert sorted(result["answers"]) == ["ns1.example.com", "ns2.example.com"]
    assert result["answers"]["ns1.example.com"] == [DIST]


def test_find_authoritative_servers_ignores_ns_reached_through_a_cname():
    resolver = FakeResolver({"example.net": ["ns.example.net."], "example.com": ["ns1.example.com."]},
                            cname={"links.example.com": "example.net"})
    c = checker({}, resolver=resolver)
    assert c.find_authoritative_servers("links.example.com", port=5353) == [Server("ns1.example.com", 5353)]


def test_find_authoritative_servers_fails_clearly():
    c = checker({}, resolver=FakeResolver({}))
    with pytest.raises(LinktrackError) as info:
        c.find_authoritative_servers("links.example.com")
    assert info.value.field == "servers"
    assert "links.example.com, example.com" in info.value.message


# --------------------------------------------------------------------------
# run_module: the result's wait_history
# --------------------------------------------------------------------------


def _module_params(**overrides):
    params = {"name": "links.example.com", "type": "CNAME", "values": [DIST], "servers": ["127.0.0.1:24353"],
              "port": 53, "timeout": 60, "mode": "all", "state": "present", "match": "exact", "query_timeout": 2}
    params.update(overrides)
    return params


def _patch_checker(monkeypatch, servers, clock):
    from ansible_collections.linktrack.https.plugins.module_utils import _dns

    class Patched(DnsChecker):
        def __init__(self, timeout=3.0, **_kwargs):
            super(Patched, self).__init__(timeout=timeout, transport=FakeTransport(servers),
                                          getaddrinfo=fake_getaddrinfo({}), clock=clock)

    monkeypatch.setattr(_dns, "DnsChecker", Patched)
    return _dns


def test_run_module_returns_every_poll_in_wait_history(monkeypatch):
    clock = FakeClock()
    server = ChangingServer(clock, 2.0, {("links.example.com", "CNAME"): ["links.iterable.com"]},
                            {("links.example.com", "CNAME"): [DIST]})
    _dns = _patch_checker(monkeypatch, {("127.0.0.1", 24353): server}, clock)
    lines = []
    result = _dns.run_module(_module_params(), progress=lines.append)
    assert result["matched"] is True and result["changed"] is False
    history = result["wait_history"]
    assert [h["state"] for h in history] == ["waiting", "waiting", "done"]
    assert [h["done"] for h in history] == [False, False, True]
    assert [h["elapsed"] for h in history] == [0.0, 1.0, 2.6]
    assert set(h["what"] for h in history) == {"CNAME links.example.com"}
    assert all(h["timeout"] == 60 for h in history)
    assert len(lines) == 3 and lines[-1].startswith("CNAME links.example.com done")

    # a module process has no live line, but the same history
    clock2 = FakeClock()
    server2 = ChangingServer(clock2, 2.0, {("links.example.com", "CNAME"): ["links.iterable.com"]},
                             {("links.example.com", "CNAME"): [DIST]})
    _dns = _patch_checker(monkeypatch, {("127.0.0.1", 24353): server2}, clock2)
    quiet = _dns.run_module(_module_params())
    assert quiet["wait_history"] == history


def test_run_module_timeout_keeps_the_wait_history(monkeypatch):
    clock = FakeClock()
    server = FakeServer("example.com", {("links.example.com", "CNAME"): ["links.iterable.com"]})
    _dns = _patch_checker(monkeypatch, {("127.0.0.1", 24353): server}, clock)
    result = _dns.run_module(_module_params(timeout=5))
    assert result["failed"] is True
    assert len(result["wait_history"]) >= 2
    assert not any(h["done"] for h in result["wait_history"])
    assert result["wait_history"][-1]["elapsed"] == pytest.approx(5.0)

    once = _dns.run_module(_module_params(timeout=0))
    assert once["failed"] is True
    assert [(h["state"], h["done"], h["timeout"]) for h in once["wait_history"]] == [("waiting", False, 0)]


def test_each_once_converts_each_item_once_in_order_and_names_the_field():
    from ansible_collections.linktrack.https.plugins.module_utils import _dns

    seen = []

    def convert(item, where):
        seen.append(where)
        return item.lower()

    assert _dns._each_once(["B", "a", "b"], "names", "strings", convert) == ["b", "a"]
    assert seen == ["names[0]", "names[1]", "names[2]"]
    assert _dns._each_once(None, "names", "strings", convert) == []
    with pytest.raises(LinktrackError) as info:
        _dns._each_once("a", "names", "strings", convert)
    assert info.value.field == "names"
    assert str(info.value) == "names must be a list of strings, got 'a'."
