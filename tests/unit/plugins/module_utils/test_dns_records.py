# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of module_utils/_dns_records.py: one DNS step, three providers, one planner.

A fake zone (``FakeZone``) answers dnspython queries and applies RFC 2136
update messages (all of a message or nothing); a fake checker answers the
authoritative questions from the same zone. Route 53 uses the fake client of
test_route53.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from ansible_collections.linktrack.https.plugins.module_utils import _dns_records
from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.test_route53 import FakeRoute53

SECRET = "c2VjcmV0LXRoYXQtaXMtb25seS1mb3ItdGVzdHMtMDEyMzQ1Njc4OTAxMjM0NQ=="
DIST = "d111111abcdef8.cloudfront.net"
OLD = "links.iterable.com"


class FakeZone:
    """``dns.query``-like: udp()/tcp() answer queries from ``records``; tcp() applies updates atomically."""

    def __init__(self, zone="example.com", records=None, refuse_updates=False):
        self.zone = zone
        self.records = dict(records or {})  # (name, type) -> (ttl, [texts])
        self.updates = []
        self.refuse_updates = refuse_updates

    def _answer(self, query):
        q = query.question[0]
        name = q.name.to_text(omit_final_dot=True)
        rtype = dns.rdatatype.to_text(q.rdtype)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if rtype == "SOA":
            response.authority.append(dns.rrset.from_text(self.zone + ".", 300, "IN", "SOA",
                                                          "ns. host. 1 2 3 4 5"))
            return response
        if (name, rtype) in self.records:
            ttl, texts = self.records[(name, rtype)]
            response.answer.append(dns.rrset.from_text(name + ".", ttl, "IN", rtype, *texts))
        elif not any(n == name for n, _t in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response

    def udp(self, query, where, port=53, timeout=None):
        return self._answer(query)

    def tcp(self, query, where, port=53, timeout=None):
        if query.opcode() != dns.opcode.UPDATE:
            return self._answer(query)
        assert query.had_tsig or query.keyring, "updates must be signed"
        self.updates.append(query)
        response = dns.message.make_response(query)
        if self.refuse_updates:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        new = dict(self.records)
        for rrset in query.update:
            name = rrset.name.to_text(omit_final_dot=True)
            rtype = dns.rdatatype.to_text(rrset.rdtype)
            if rrset.deleting in (dns.rdataclass.ANY, dns.rdataclass.NONE):  # a delete (RFC 2136 2.5.2)
                new.pop((name, rtype), None)
            else:
                new[(name, rtype)] = (rrset.ttl, [r.to_text() for r in rrset])
        self.records = new
        return response


class FakeChecker:
    """The authoritative servers: answer from the zone; ``wait`` succeeds only when the zone is as wanted."""

    def __init__(self, zone):
        self.zone = zone
        self.waits = []

    def _values(self, name, rtype):
        _ttl, texts = self.zone.records.get((name, rtype), (None, []))
        out = []
        for t in texts:
            if rtype == "CNAME":
                out.append(t.rstrip(".").lower())
            elif rtype == "TXT":
                out.append(t.strip('"'))
            else:
                out.append(t)
        return sorted(out)

    def query_authoritative(self, name, rtype, servers=None, port=53):
        values = self._values(name, rtype)
        status = "answer" if values else "nxdomain"
        return {"ns1": {"server": "ns1", "status": status, "values": values, "reason": "", "authoritative": True}}

    def wait(self, name, rtype, expected, servers=None, timeout=600, state="present", progress=None, **kwargs):
        self.waits.append((name, rtype, list(expected), state))
        values = self._values(name, rtype)
        ok = (not values) if state == "absent" else (values == sorted(expected) if expected else bool(values))
        if not ok:
            raise LinktrackError("Timed out waiting for %s %s (seen %s)" % (name, rtype, values), field="timeout")
        return {"matched": True, "waited_seconds": 0}


def params(provider, records, **kw):
    p = dict(provider=provider, records=records, state="present", replace_types=[], purpose="tracking domain record",
             subject=None, servers=[], timeout=60, allow_changes=True, blocked_reason="",
             route53={}, rfc2136={}, manual={})
    p.update(kw)
    return p


def rfc2136(**kw):
    s = dict(server="192.0.2.53", port=53, zone=None, key_name="ansible", key_algorithm="hmac-sha256",
             key_secret=SECRET)
    s.update(kw)
    return s


CUTOVER = [{"name": "links.example.com", "type": "CNAME", "value": DIST, "ttl": 300}]


def run_rfc(zone, records=None, check_mode=False, diff=False, **kw):
    checker = FakeChecker(zone)
    result = _dns_records.run(params("rfc2136", records or CUTOVER, rfc2136=rfc2136(), **kw), check_mode=check_mode,
                              checker=checker, transport=zone, diff=diff)
    return result, checker


def test_plan_is_the_one_planner_of_every_provider():
    assert _dns_records.plan.__doc__ and "every provider" in _dns_records.plan.__doc__
    request = _dns_records.Request(CUTOVER, replace_types=["A", "AAAA"])
    current = [_dns_records.RecordSet("links.example.com", "A", ttl=300, values=["192.0.2.1"])]
    deletes, upserts = _dns_records.plan(request, current)
    assert [d[0].key for d in deletes] == [("links.example.com", "A")]
    assert [u[1].key for u in upserts] == [("links.example.com", "CNAME")]


def test_rfc2136_cutover_in_one_signed_update_then_a_no_op():
    zone = FakeZone(records={("links.example.com", "CNAME"): (300, [OLD + "."])})
    result, checker = run_rfc(zone)
    assert result["changed"] is True
    assert len(zone.updates) == 1
    assert zone.records[("links.example.com", "CNAME")] == (300, [DIST + "."])
    assert result["records"] == [{"name": "links.example.com", "type": "CNAME", "changed": True,
                                  "before": "CNAME " + OLD, "after": "CNAME " + DIST}]
    assert result["report"] == ["links.example.com: CNAME %s  ->  CNAME %s" % (OLD, DIST)]
    assert checker.waits == [("links.example.com", "CNAME", [DIST], "present")]
    again, checker = run_rfc(zone)
    assert again["changed"] is False and len(zone.updates) == 1 and checker.waits == []
    assert again["report"] == ["links.example.com: CNAME %s (already in place)" % DIST]


def test_rfc2136_other_ttl_is_a_change_and_replace_types_give_way_in_the_same_update():
    zone = FakeZone(records={("links.example.com", "A"): (60, ["192.0.2.1"])})
    result, _checker = run_rfc(zone, replace_types=["A", "AAAA"])
    assert len(zone.updates) == 1
    assert ("links.example.com", "A") not in zone.records
    assert [(r["type"], r["changed"], r["after"]) for r in result["records"]] == [
        ("A", True, None), ("CNAME", True, "CNAME " + DIST)]


def test_diff_shows_exactly_the_changed_records():
    zone = FakeZone(records={("links.example.com", "CNAME"): (300, [OLD + "."]),
                             ("_v.links.example.com", "CNAME"): (300, ["_v.acm-validations.aws."])})
    records = CUTOVER + [{"name": "_v.links.example.com", "type": "CNAME", "value": "_v.acm-validations.aws", "ttl": 300}]
    result, _checker = run_rfc(zone, records=records, check_mode=True, diff=True)
    assert result["diff"]["before"] == {"links.example.com CNAME": "CNAME " + OLD}
    assert result["diff"]["after"] == {"links.example.com CNAME": "CNAME " + DIST}
    assert zone.updates == []
    result, _checker = run_rfc(zone, records=records, diff=True)
    again, _checker = run_rfc(zone, records=records, diff=True)
    assert result["changed"] is True and again["changed"] is False and "diff" not in again
    without, _checker = run_rfc(FakeZone(records={("links.example.com", "CNAME"): (300, [OLD + "."])}))
    assert "diff" not in without


def test_rfc2136_check_mode_sends_nothing():
    zone = FakeZone(records={("links.example.com", "CNAME"): (300, [OLD + "."])})
    result, checker = run_rfc(zone, check_mode=True)
    assert result["changed"] is True and zone.updates == [] and checker.waits == []
    assert result["report"][0].endswith("(check mode: not changed)")


def test_rfc2136_refused_update_fails_and_names_the_key():
    zone = FakeZone(refuse_updates=True)
    with pytest.raises(LinktrackError) as err:
        run_rfc(zone)
    assert err.value.field == "rfc2136.key_name" and "REFUSED" in err.value.message


@pytest.mark.parametrize("settings, field", [
    (dict(server="ns1.example.com"), "rfc2136.server"),
    (dict(server=""), "rfc2136.server"),
    (dict(key_name=""), "rfc2136.key_name"),
    (dict(key_secret="not base64!"), "rfc2136.key_secret"),
])
def test_rfc2136_settings_are_checked_before_anything_is_sent(settings, field):
    zone = FakeZone()
    with pytest.raises(LinktrackError) as err:
        _dns_records.run(params("rfc2136", CUTOVER, rfc2136=rfc2136(**settings)), checker=FakeChecker(zone),
                         transport=zone)
    assert err.value.field == field
    assert SECRET not in err.value.message and "not base64!" not in err.value.message
    assert zone.updates == []


def test_rfc2136_absent_deletes_and_confirms_absence():
    zone = FakeZone(records={("_x.links.example.com", "CNAME"): (300, ["_y.acm-validations.aws."])})
    result, checker = run_rfc(zone, records=[{"name": "_x.links.example.com", "type": "CNAME"}], state="absent")
    assert result["changed"] is True and ("_x.links.example.com", "CNAME") not in zone.records
    assert checker.waits == [("_x.links.example.com", "CNAME", [], "absent")]


def test_guard_refuses_a_needed_change_and_writes_nothing():
    zone = FakeZone(records={("links.example.com", "CNAME"): (300, [OLD + "."])})
    with pytest.raises(LinktrackError) as err:
        run_rfc(zone, allow_changes=False, blocked_reason="the TLS check of step 4 did not pass.",
                subject="links.example.com")
    assert "The DNS record of links.example.com was not changed: the TLS check" in err.value.message
    assert zone.updates == []


def test_guard_lets_a_no_op_through_and_check_mode_reports_instead_of_failing():
    zone = FakeZone(records={("links.example.com", "CNAME"): (300, [DIST + "."])})
    result, _c = run_rfc(zone, allow_changes=False, blocked_reason="no TLS check.")
    assert result["changed"] is False and result["blocked"] is False
    zone = FakeZone()
    result, _c = run_rfc(zone, check_mode=True, allow_changes=False, blocked_reason="no TLS check.")
    assert result["blocked"] is True and result["changed"] is False
    assert result["report"][0].startswith("check mode:")


def test_manual_shows_instructions_writes_the_file_and_waits(tmp_path):
    zone = FakeZone()
    checker = FakeChecker(zone)
    shown = []
    path = tmp_path / "records.zone"
    p = params("manual", CUTOVER, manual={"timeout": 5, "records_file": str(path)}, subject="links.example.com")
    with pytest.raises(LinktrackError):  # nobody changed the zone: the wait times out
        _dns_records.run(p, checker=checker, progress=shown.append)
    assert "ACTION NEEDED IN DNS for links.example.com (tracking domain record)." in shown
    assert "    links.example.com. 300 IN CNAME %s." % DIST in shown
    assert path.read_text() == "links.example.com. 300 IN CNAME %s.\n" % DIST
    zone.records[("links.example.com", "CNAME")] = (300, [DIST + "."])  # the person did it
    result = _dns_records.run(p, checker=checker, progress=shown.append)
    assert result["changed"] is False and result["report"] == ["links.example.com: CNAME %s (already in place)" % DIST]


def test_manual_check_mode_returns_the_instructions_without_waiting():
    zone = FakeZone()
    checker = FakeChecker(zone)
    result = _dns_records.run(params("manual", CUTOVER), check_mode=True, checker=checker)
    assert result["changed"] is True and checker.waits == []
    assert any(line.startswith("ACTION NEEDED IN DNS") for line in result["instructions"])


def test_alias_records_are_route53_only():
    records = [{"name": "links.example.com", "type": "A", "alias": {"dns_name": DIST}}]
    with pytest.raises(LinktrackError) as err:
        _dns_records.run(params("manual", records), checker=FakeChecker(FakeZone()))
    assert err.value.field == "records"


def test_route53_cname_to_alias_in_one_batch_and_snapshot_reuse():
    client = FakeRoute53()
    zone_id = client.add_zone("example.com")
    client.add_rrset(zone_id, {"Name": "links.example.com.", "Type": "CNAME", "TTL": 300,
                               "ResourceRecords": [{"Value": OLD}]})
    records = [{"name": "links.example.com", "type": t, "alias": {"dns_name": DIST}} for t in ("A", "AAAA")]
    checker = FakeChecker(FakeZone(records={("links.example.com", "A"): (60, ["192.0.2.1"]),
                                            ("links.example.com", "AAAA"): (60, ["2001:db8::1"])}))
    p = params("route53", records, replace_types=["CNAME"])
    result = _dns_records.run(p, client_factory=lambda service: client, checker=checker)
    assert result["changed"] is True
    assert client.count("change_resource_record_sets") == 1
    assert sorted((r["type"], r["before"], r["after"]) for r in result["records"]) == [
        ("A", None, "A alias " + DIST), ("AAAA", None, "AAAA alias " + DIST), ("CNAME", "CNAME " + OLD, None)]
    assert [w[1] for w in checker.waits] == ["A", "AAAA"]
    listings = client.count("list_resource_record_sets")
    p["route53"] = {"snapshot": result["snapshot"]}
    again = _dns_records.run(p, client_factory=lambda service: client, checker=checker)
    assert again["changed"] is False and again["read_from"] == "snapshot"
    assert client.count("list_resource_record_sets") == listings
    assert client.count("change_resource_record_sets") == 1


def test_run_module_turns_errors_into_a_failed_result_without_the_secret():
    p = params("rfc2136", CUTOVER, rfc2136=rfc2136(key_secret="%%%"))
    result = _dns_records.run_module(p)
    assert result["failed"] is True and "rfc2136.key_secret" in result["msg"] and "%%%" not in result["msg"]


def test_drain_waits_after_a_written_change_with_progress_lines():
    zone = FakeZone(records={("links.example.com", "CNAME"): (300, [DIST + "."])})
    clock, lines = FakeClock(start=100.0), []
    revert = [{"name": "links.example.com", "type": "CNAME", "value": OLD, "ttl": 300}]
    result = _dns_records.run(params("rfc2136", revert, rfc2136=rfc2136(), drain_seconds=25, subject="links.example.com"),
                              checker=FakeChecker(zone), transport=zone, clock=clock, progress=lines.append)
    assert result["changed"] is True and zone.records[("links.example.com", "CNAME")] == (300, [OLD + "."])
    assert result["drained_seconds"] == 25 and sum(clock.sleeps) == 25 and clock.sleeps == [10.0, 10.0, 5.0]
    assert lines[0] == "links.example.com: draining resolver caches of the old answer waiting, 0s of 25s"
    assert lines[-1] == "links.example.com: draining resolver caches of the old answer done, 25s of 25s"
    assert result["report"][-1] == ("Waited 25s (drain_seconds) for resolvers to drop the old answer of "
                                    "links.example.com.")
    # nothing changed: nothing to drain
    clock2 = FakeClock(start=100.0)
    again = _dns_records.run(params("rfc2136", revert, rfc2136=rfc2136(), drain_seconds=25),
                             checker=FakeChecker(zone), transport=zone, clock=clock2)
    assert again["changed"] is False and again["drained_seconds"] == 0 and clock2.sleeps == []


def test_drain_check_mode_waits_nothing_and_says_so():
    zone = FakeZone(records={("links.example.com", "CNAME"): (300, [DIST + "."])})
    clock = FakeClock(start=100.0)
    revert = [{"name": "links.example.com", "type": "CNAME", "value": OLD, "ttl": 300}]
    result = _dns_records.run(params("rfc2136", revert, rfc2136=rfc2136(), drain_seconds=300), check_mode=True,
                              checker=FakeChecker(zone), transport=zone, clock=clock)
    assert result["changed"] is True and clock.sleeps == [] and result["drained_seconds"] == 0
    assert result["report"][-1].startswith("check mode: would wait 5m (drain_seconds)")
    assert zone.updates == []


def test_drain_seconds_must_not_be_negative():
    zone = FakeZone()
    with pytest.raises(LinktrackError) as err:
        _dns_records.run(params("rfc2136", CUTOVER, rfc2136=rfc2136(), drain_seconds=-1), checker=FakeChecker(zone),
                         transport=zone)
    assert err.value.field == "drain_seconds" and zone.updates == []
