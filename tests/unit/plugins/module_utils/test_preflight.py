# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of module_utils/_preflight.py: the checks with a fake DNS and a fake CloudFront.

The wire parsing (``WireDns._interpret``) is tested with dnspython's own
messages; the real servers (BIND, the Route 53 stand-in and the parent zone
stand-ins) answer in the integration target dns_preflight.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dns.flags
import dns.message
import dns.name
import dns.rrset
import pytest

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._dns import Server
from ansible_collections.linktrack.https.plugins.module_utils._preflight import (
    Preflight,
    WireDns,
    caa_allows_amazon,
    parse_caa,
    parents,
)

DIST = "d111111abcdef8.cloudfront.net"
ZONE_NS = ["ns1.example.com"]


def answer(status, values=None, ttl=300, authority_ns=None, zone="example.com", reason=""):
    return {"status": status, "values": list(values or []), "ttl": ttl, "authority_ns": list(authority_ns or []),
            "zone": zone, "reason": reason}


class FakeDns:
    """Answers from tables: ``zone`` {(name, type): answer} for the zone servers, ``parent`` the same for the
    parent servers, ``world`` for the system resolver; anything else is NXDOMAIN / NODATA."""

    def __init__(self, zone=None, parent=None, world=None):
        self.zone = zone or {}
        default_parent = {("example.com", "NS"): answer("referral", authority_ns=ZONE_NS, zone="com")}
        self.parent = parent if parent is not None else default_parent
        self.world = world or {}
        self.asked = []
        self.found = []

    def find_servers(self, name, port=53):
        self.found.append(name)
        return [Server("found-for-" + name, port)]

    def ask(self, name, rdtype, servers):
        labels = [s.label for s in servers]
        self.asked.append((name, rdtype, tuple(labels)))
        if any(label in ("192.0.2.2", "found-for-com") for label in labels):
            return self.parent.get((name, rdtype), answer("nodata", zone="com"))
        table = {("example.com", "SOA"): answer("answer", ["ns1.example.com. h. 1 2 3 4 5"]),
                 ("example.com", "NS"): answer("answer", ZONE_NS)}
        table.update(self.zone)
        if (name, rdtype) in table:
            return table[(name, rdtype)]
        return answer("nxdomain" if name.startswith("links") else "nodata")

    def resolve(self, name, rdtype):
        self.asked.append((name, rdtype, ("resolver",)))
        return self.world.get((name, rdtype), answer("nxdomain"))


def params(**extra):
    base = dict(name="links.example.com", zone="", servers=["192.0.2.1"], zone_name_servers=[],
                parent_servers=["192.0.2.2"], port=53, current_records=None, iterable_region="usdc", takeover=False,
                distribution_domain="", checks=["caa", "delegation", "record"], query_timeout=3)
    base.update(extra)
    return base


def cname(value, ttl=300):
    return {("links.example.com", "CNAME"): answer("answer", [value], ttl)}


def run(fake, **extra):
    return Preflight(fake, params(**extra)).run()


# ---- CAA ---------------------------------------------------------------------


def test_parents_climb_to_the_top_level():
    assert parents("links.example.com") == ["links.example.com", "example.com", "com"]


@pytest.mark.parametrize("records, allowed", [
    ([], True),
    ([(0, "iodef", "mailto:security@example.com")], True),
    ([(0, "issue", "amazon.com")], True),
    ([(0, "issue", "amazontrust.com; account=1")], True),
    ([(0, "ISSUE", "AWSTRUST.COM")], True),
    ([(0, "issue", "amazonaws.com")], True),
    ([(0, "issue", "letsencrypt.org")], False),
    ([(0, "issue", ";")], False),
    ([(0, "issue", "letsencrypt.org"), (0, "issue", "amazon.com")], True),
    ([(0, "issuewild", "letsencrypt.org")], True),
])
def test_caa_sets(records, allowed):
    assert caa_allows_amazon(records) is allowed


def test_issuewild_counts_only_for_wildcards():
    records = [(0, "issue", "amazon.com"), (0, "issuewild", "letsencrypt.org")]
    assert caa_allows_amazon(records) is True
    assert caa_allows_amazon(records, wildcard=True) is False


def test_parse_caa_text():
    assert parse_caa('0 issue "amazon.com"') == (0, "issue", "amazon.com")
    assert parse_caa('128 issuewild ";"') == (128, "issuewild", ";")


def test_caa_at_a_parent_that_forbids_amazon_refuses_and_names_it():
    fake = FakeDns(zone={("example.com", "CAA"): answer("answer", ['0 issue "letsencrypt.org"'])})
    result = run(fake)
    assert result["passed"] is False
    assert result["caa"]["relevant_name"] == "example.com"
    assert result["caa"]["allows_amazon"] is False
    assert "CAA: the CAA records at example.com" in result["problems"][0]
    assert 'issue "amazon.com"' in result["problems"][0]


def test_closest_caa_set_wins_over_a_parent():
    fake = FakeDns(zone={("links.example.com", "CAA"): answer("answer", ['0 issue "amazon.com"']),
                         ("example.com", "CAA"): answer("answer", ['0 issue "letsencrypt.org"'])})
    result = run(fake)
    assert result["passed"] is True
    assert result["caa"]["relevant_name"] == "links.example.com"
    assert ("example.com", "CAA", ("192.0.2.1",)) not in fake.asked


def test_caa_climbs_above_the_zone_through_the_parent_servers():
    fake = FakeDns()
    fake.parent[("com", "CAA")] = answer("answer", ['0 issue "pki.goog"'], zone="com")
    result = run(fake)
    assert result["caa"]["relevant_name"] == "com"
    assert not result["passed"]
    assert "com (parent servers)" in result["caa"]["checked"]


def test_a_cname_domain_takes_the_targets_caa_set():
    fake = FakeDns(zone=cname("links.iterable.com"),
                   world={("links.iterable.com", "CAA"): answer("answer", ['0 issue "digicert.com"'])})
    result = run(fake)
    assert result["caa"]["relevant_name"] == "links.example.com"
    assert "CAA" in result["problems"][0]
    assert ("links.iterable.com", "CAA", ("resolver",)) in fake.asked


def test_unreadable_caa_above_the_zone_is_a_note_not_a_refusal():
    fake = FakeDns(parent={("example.com", "NS"): answer("referral", authority_ns=ZONE_NS, zone="com"),
                           ("com", "CAA"): answer("error", reason="timeout")})
    result = run(fake)
    assert result["passed"] is True
    assert any("could not be read" in line for line in result["messages"])


# ---- delegation ----------------------------------------------------------------


def test_delegation_that_matches_passes():
    result = run(FakeDns())
    assert result["delegation"]["matched"] is True
    assert result["delegation"]["parent_name_servers"] == ZONE_NS


def test_delegation_to_other_servers_refuses_with_both_sets():
    fake = FakeDns(parent={("example.com", "NS"): answer("referral", authority_ns=["ns-1.awsdns-01.com"], zone="com")})
    result = run(fake)
    assert result["delegation"]["matched"] is False
    problem = result["problems"][0]
    assert "delegates example.com to ns-1.awsdns-01.com" in problem
    assert "ns1.example.com" in problem and "registrar" in problem


def test_zone_not_delegated_at_all_refuses():
    fake = FakeDns(parent={("example.com", "NS"): answer("nxdomain", zone="com")})
    result = run(fake)
    assert "does not delegate example.com at all" in result["problems"][0]


def test_provider_name_servers_are_compared_in_any_order_and_case():
    fake = FakeDns(parent={("example.com", "NS"): answer("referral", authority_ns=["ns-b.net", "ns-a.com"])})
    result = run(fake, zone_name_servers=["NS-A.com.", "ns-b.net"])
    assert result["delegation"]["matched"] is True


def test_without_parent_servers_the_parent_zones_ns_are_found():
    fake = FakeDns()
    result = run(fake, parent_servers=[])
    assert "com" in fake.found
    assert result["delegation"]["parent_servers"] == ["found-for-com"]


def test_unanswered_parent_fails_naming_parent_servers():
    fake = FakeDns(parent={("example.com", "NS"): answer("error", reason="timeout")})
    with pytest.raises(LinktrackError) as info:
        run(fake)
    assert info.value.field == "parent_servers"


# ---- the existing record -----------------------------------------------------------


def test_nothing_there():
    result = run(FakeDns())
    assert result["record"]["kind"] == "none"
    assert result["ttl"]["seconds"] == 0


def test_right_region_origin_passes_and_reports_the_ttl():
    result = run(FakeDns(zone=cname("links.iterable.com.", 3600)))
    assert result["record"]["kind"] == "origin"
    assert result["passed"]
    assert result["ttl"]["seconds"] == 3600
    assert "up to 60m" in result["ttl"]["message"]
    assert any(line.startswith("Cutover: links.example.com: CNAME links.iterable.com ->") for line in result["messages"])


def test_other_region_origin_refuses_naming_the_region_variable():
    result = run(FakeDns(zone=cname("links.eu.iterable.com")))
    assert result["record"]["kind"] == "other_region"
    assert result["problems"][0].startswith("link_domain_iterable_region:")
    assert "link_domain_iterable_region: edc" in result["problems"][0]
    assert run(FakeDns(zone=cname("links.eu.iterable.com")), iterable_region="edc")["passed"]


def test_something_else_refuses_unless_takeover():
    fake = FakeDns(zone=cname("shop.example.net"))
    result = run(fake)
    assert result["record"]["kind"] == "other"
    assert result["problems"][0].startswith("link_domain_takeover:")
    assert run(FakeDns(zone=cname("shop.example.net")), takeover=True)["passed"]


def test_plain_addresses_are_something_else():
    fake = FakeDns(zone={("links.example.com", "A"): answer("answer", ["192.0.2.1"], 60)})
    result = run(fake)
    assert result["record"]["kind"] == "other"
    assert result["ttl"]["seconds"] == 60


def test_our_distribution_by_cname_passes():
    result = run(FakeDns(zone=cname(DIST + ".")), distribution_domain=DIST.upper())
    assert result["record"]["kind"] == "ours"
    assert result["passed"]
    assert not any(line.startswith("TTL:") for line in result["messages"])


def test_another_distribution_is_someone_elses():
    result = run(FakeDns(zone=cname(DIST)), distribution_domain="d222222abcdef8.cloudfront.net")
    assert result["record"]["kind"] == "other"
    assert "link_domain_takeover" in result["problems"][0]


def test_a_cloudfront_target_without_a_distribution_of_ours_is_someone_elses():
    result = run(FakeDns(zone=cname(DIST)))
    assert result["record"]["kind"] == "other"
    assert not result["passed"]
    assert run(FakeDns(zone=cname(DIST)), takeover=True)["passed"]


def test_route53_alias_records_from_the_provider_read():
    sets = [{"Name": "links.example.com.", "Type": "A",
             "AliasTarget": {"DNSName": DIST + ".", "HostedZoneId": "Z2FDTNDATAQYW2", "EvaluateTargetHealth": False}},
            {"Name": "_x.links.example.com.", "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": "y"}]}]
    fake = FakeDns()
    result = run(fake, current_records=sets, distribution_domain=DIST)
    assert result["record"]["kind"] == "ours"
    assert result["record"]["alias"] is True
    assert ("links.example.com", "CNAME", ("192.0.2.1",)) not in fake.asked


def test_route53_cname_from_the_provider_read_keeps_its_ttl():
    sets = [{"Name": "links.example.com.", "Type": "CNAME", "TTL": 900, "ResourceRecords": [{"Value": "links.iterable.com"}]}]
    result = run(FakeDns(), current_records=sets)
    assert result["record"]["kind"] == "origin"
    assert result["ttl"]["seconds"] == 900


def test_every_problem_is_listed_at_once():
    records = cname("links.eu.iterable.com")
    records[("example.com", "CAA")] = answer("answer", ['0 issue "letsencrypt.org"'])
    fake = FakeDns(zone=records,
                   parent={("example.com", "NS"): answer("nxdomain", zone="com")})
    result = run(fake)
    assert len(result["problems"]) == 3


def test_checks_can_be_left_out():
    fake = FakeDns(parent={("example.com", "NS"): answer("nxdomain", zone="com")})
    result = run(fake, checks=["record"])
    assert result["passed"]
    assert "delegation" not in result and "caa" not in result


def test_zone_comes_from_the_soa_of_the_answer_or_is_checked():
    fake = FakeDns(zone={("links.example.com", "SOA"): answer("nxdomain", zone="example.com")})
    assert run(fake)["zone"] == "example.com"
    with pytest.raises(LinktrackError) as info:
        run(FakeDns(), zone="example.org")
    assert info.value.field == "zone"


# ---- the wire ---------------------------------------------------------------------


def _response(qname, rdtype, aa=True, answer_rrsets=(), authority=()):
    query = dns.message.make_query(qname, rdtype)
    response = dns.message.make_response(query)
    if aa:
        response.flags |= dns.flags.AA
    response.answer.extend(answer_rrsets)
    response.authority.extend(authority)
    return response


def test_wire_referral_gives_the_delegated_name_servers():
    qname = dns.name.from_text("example.com.")
    ns = dns.rrset.from_text_list("example.com.", 172800, "IN", "NS", ["ns-b.net.", "ns-a.com."])
    result = WireDns._interpret(qname, "NS", _response(qname, "NS", aa=False, authority=[ns]), "p")
    assert result["status"] == "referral"
    assert result["authority_ns"] == ["ns-a.com", "ns-b.net"]


def test_wire_nodata_names_the_zone_from_the_soa():
    qname = dns.name.from_text("links.example.com.")
    soa = dns.rrset.from_text("example.com.", 60, "IN", "SOA", "ns1.example.com. h.example.com. 1 2 3 4 5")
    result = WireDns._interpret(qname, "CAA", _response(qname, "CAA", authority=[soa]), "z")
    assert result["status"] == "nodata" and result["zone"] == "example.com"


def test_wire_cname_answer_and_ttl():
    qname = dns.name.from_text("links.example.com.")
    rr = dns.rrset.from_text("links.example.com.", 120, "IN", "CNAME", "links.iterable.com.")
    result = WireDns._interpret(qname, "CNAME", _response(qname, "CNAME", answer_rrsets=[rr]), "z")
    assert result == dict(result, status="answer", values=["links.iterable.com."], ttl=120)
    caa = WireDns._interpret(qname, "CAA", _response(qname, "CAA", answer_rrsets=[rr]), "z")
    assert caa["status"] == "cname" and caa["values"] == ["links.iterable.com"]


def test_wire_answer_without_aa_is_not_trusted():
    qname = dns.name.from_text("links.example.com.")
    rr = dns.rrset.from_text("links.example.com.", 120, "IN", "CNAME", "links.iterable.com.")
    result = WireDns._interpret(qname, "CNAME", _response(qname, "CNAME", aa=False, answer_rrsets=[rr]), "z")
    assert result["status"] == "error"


def test_a_parent_that_cannot_be_found_is_a_note():
    class NoParent(FakeDns):
        def find_servers(self, name, port=53):
            raise LinktrackError("servers: found no NS records for com", field="servers")

    result = run(NoParent(), parent_servers=[])
    assert result["passed"] is True
    assert result["delegation"]["matched"] is None
    assert any("Delegation of example.com not checked" in line for line in result["messages"])


def test_zone_of_a_cname_name_is_found_one_level_up():
    fake = FakeDns(zone={("links.example.com", "SOA"): answer("cname", ["links.iterable.com"], zone=None)})
    assert run(fake)["zone"] == "example.com"
    assert ("example.com", "SOA", ("192.0.2.1",)) in fake.asked


def test_wire_retries_a_udp_timeout_once():
    import dns.exception

    qname = dns.name.from_text("example.com.")
    soa = dns.rrset.from_text("example.com.", 60, "IN", "SOA", "ns1.example.com. h.example.com. 1 2 3 4 5")

    class Transport:
        calls = 0

        def udp(self, question, address, timeout=None, port=None):
            Transport.calls += 1
            if Transport.calls == 1:
                raise dns.exception.Timeout()
            return _response(qname, "SOA", answer_rrsets=[soa])

    wire = WireDns(timeout=0.1, transport=Transport())
    result = wire.ask("example.com", "SOA", [Server("192.0.2.1", 53, ["192.0.2.1"])])
    assert result["status"] == "answer" and Transport.calls == 2
