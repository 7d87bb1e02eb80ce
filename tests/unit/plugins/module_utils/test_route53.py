# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of module_utils/_route53.py with a fake Route 53 client.

The fake follows Route 53's documented behaviour where the emulator is laxer:
zone and record listings in reversed-label order with paging, DELETE only with
the exact current values, no CNAME beside other types, atomic batches, and
GetChange PENDING for a set number of polls. Errors can be queued per
operation to play throttling and PriorRequestNotComplete.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError

from ansible_collections.linktrack.https.plugins.module_utils import _route53
from ansible_collections.linktrack.https.plugins.module_utils._common import AwsCaller, LinktrackError, Progress
from ansible_collections.linktrack.https.plugins.module_utils._route53 import (
    Request,
    Route53Records,
    common_ancestor,
    route53_order,
)
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock, client_error


def _plain(name):
    return name.rstrip(".").lower()


def _order(name):
    return ".".join(reversed(_plain(name).split("."))) + "."


class FakeRoute53:
    def __init__(self):
        self.zones = {}  # id -> {"name", "private", "rrsets": [dict]}
        self.calls = []
        self.errors = {}  # operation -> list of exceptions (raised first, in order)
        self.after_errors = {}  # operation -> list of exceptions raised AFTER the call took effect
        self.pending_polls = 0
        self.changes = []
        self._next = 0

    # ---- setup -------------------------------------------------------------
    def add_zone(self, name, zone_id=None, private=False):
        self._next += 1
        zone_id = zone_id or "Z%04dFAKE" % self._next
        self.zones[zone_id] = {
            "name": _plain(name),
            "private": private,
            "rrsets": [
                {"Name": _plain(name) + ".", "Type": "NS", "TTL": 172800, "ResourceRecords": [{"Value": "ns-1.awsdns-1.org."}]},
                {"Name": _plain(name) + ".", "Type": "SOA", "TTL": 900, "ResourceRecords": [{"Value": "ns-1.awsdns-1.org. x 1 7200 900 1209600 86400"}]},
            ],
        }
        return zone_id

    def add_rrset(self, zone_id, rrset):
        rrset = copy.deepcopy(rrset)
        if not rrset["Name"].endswith("."):
            rrset["Name"] += "."
        self.zones[zone_id]["rrsets"].append(rrset)

    def rrsets(self, zone_id, name=None):
        return [r for r in self.zones[zone_id]["rrsets"] if name is None or _plain(r["Name"]) == _plain(name)]

    def count(self, op):
        return len([c for c in self.calls if c[0] == op])

    def _enter(self, op, kwargs):
        self.calls.append((op, kwargs))
        queue = self.errors.get(op) or []
        if queue:
            raise queue.pop(0)

    def _leave(self, op):
        queue = self.after_errors.get(op) or []
        if queue:
            raise queue.pop(0)

    # ---- API ---------------------------------------------------------------
    def list_hosted_zones_by_name(self, DNSName=None, HostedZoneId=None, MaxItems="100"):
        self._enter("list_hosted_zones_by_name", dict(DNSName=DNSName, HostedZoneId=HostedZoneId, MaxItems=MaxItems))
        zones = sorted(self.zones.items(), key=lambda kv: (_order(kv[1]["name"]), kv[0]))
        if DNSName:
            zones = [kv for kv in zones if (_order(kv[1]["name"]), kv[0]) >= (_order(DNSName), HostedZoneId or "")]
        limit = int(MaxItems)
        page = zones[:limit]
        answer = {
            "HostedZones": [
                {"Id": "/hostedzone/" + zid, "Name": z["name"] + ".", "CallerReference": zid,
                 "Config": {"PrivateZone": z["private"]}, "ResourceRecordSetCount": len(z["rrsets"])}
                for zid, z in page
            ],
            "IsTruncated": len(zones) > limit,
            "MaxItems": MaxItems,
        }
        if len(zones) > limit:
            answer["NextDNSName"] = zones[limit][1]["name"] + "."
            answer["NextHostedZoneId"] = zones[limit][0]
        return answer

    def get_hosted_zone(self, Id):
        self._enter("get_hosted_zone", dict(Id=Id))
        zid = Id.split("/")[-1]
        if zid not in self.zones:
            raise client_error("NoSuchHostedZone", status=404)
        zone = self.zones[zid]
        return {"HostedZone": {"Id": "/hostedzone/" + zid, "Name": zone["name"] + ".", "Config": {"PrivateZone": zone["private"]}}}

    def list_resource_record_sets(self, HostedZoneId, StartRecordName=None, StartRecordType=None,
                                  StartRecordIdentifier=None, MaxItems="300"):
        self._enter("list_resource_record_sets", dict(HostedZoneId=HostedZoneId, StartRecordName=StartRecordName,
                                                      StartRecordType=StartRecordType, MaxItems=MaxItems))
        rrsets = sorted(self.zones[HostedZoneId]["rrsets"], key=lambda r: (_order(r["Name"]), r["Type"]))
        if StartRecordName:
            start = (_order(StartRecordName), StartRecordType or "")
            rrsets = [r for r in rrsets if (_order(r["Name"]), r["Type"]) >= start]
        limit = int(MaxItems)
        answer = {"ResourceRecordSets": copy.deepcopy(rrsets[:limit]), "IsTruncated": len(rrsets) > limit, "MaxItems": MaxItems}
        if len(rrsets) > limit:
            answer["NextRecordName"] = rrsets[limit]["Name"]
            answer["NextRecordType"] = rrsets[limit]["Type"]
        return answer

    def change_resource_record_sets(self, HostedZoneId, ChangeBatch):
        self._enter("change_resource_record_sets", dict(HostedZoneId=HostedZoneId, ChangeBatch=copy.deepcopy(ChangeBatch)))
        zone = self.zones[HostedZoneId]
        work = copy.deepcopy(zone["rrsets"])
        for change in ChangeBatch["Changes"]:
            rrset = copy.deepcopy(change["ResourceRecordSet"])
            name = _plain(rrset["Name"])
            if not (name == zone["name"] or name.endswith("." + zone["name"])):
                raise client_error("InvalidChangeBatch")
            rrset["Name"] = name + "."
            target = rrset.get("AliasTarget") or {}
            if change["Action"] != "DELETE" and target.get("HostedZoneId") == "Z2FDTNDATAQYW2" \
                    and (target.get("EvaluateTargetHealth") or zone["private"]):
                # AliasTarget: no EvaluateTargetHealth for CloudFront, no CloudFront alias in a private zone
                raise client_error("InvalidChangeBatch")
            same = [r for r in work if _plain(r["Name"]) == name and r["Type"] == rrset["Type"]]
            if change["Action"] == "DELETE":
                if not same or _strip(same[0]) != _strip(rrset):
                    raise client_error("InvalidChangeBatch")
                work.remove(same[0])
            elif change["Action"] == "UPSERT":
                for old in same:
                    work.remove(old)
                work.append(rrset)
            else:
                raise AssertionError("the module must never send %s" % change["Action"])
        names = set(_plain(r["Name"]) for r in work)
        for name in names:
            types = [r["Type"] for r in work if _plain(r["Name"]) == name]
            if "CNAME" in types and len(types) > 1:
                raise client_error("InvalidChangeBatch")
        zone["rrsets"] = work
        self._next += 1
        change_id = "C%04d" % self._next
        self.changes.append(change_id)
        self._leave("change_resource_record_sets")
        return {"ChangeInfo": {"Id": "/change/" + change_id, "Status": "PENDING" if self.pending_polls else "INSYNC"}}

    def get_change(self, Id):
        self._enter("get_change", dict(Id=Id))
        if self.pending_polls:
            self.pending_polls -= 1
            return {"ChangeInfo": {"Id": "/change/" + Id, "Status": "PENDING"}}
        return {"ChangeInfo": {"Id": "/change/" + Id, "Status": "INSYNC"}}


def _strip(rrset):
    out = copy.deepcopy(rrset)
    out["Name"] = _plain(out["Name"])
    if "AliasTarget" in out:
        out["AliasTarget"]["DNSName"] = _plain(out["AliasTarget"]["DNSName"])
    return out


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

DIST = "d111111abcdef8.cloudfront.net"
VALIDATION = "_3639ac514e785e898d2646601fa951d5.links.example.com"


def cname(name, value, ttl=300):
    return {"name": name, "type": "CNAME", "value": value, "ttl": ttl}


def alias(name, rtype, target=DIST):
    return {"name": name, "type": rtype, "alias": {"dns_name": target}}


def api_cname(name, value, ttl=300):
    return {"Name": name, "Type": "CNAME", "TTL": ttl, "ResourceRecords": [{"Value": value}]}


def api_alias(name, rtype, target=DIST):
    return {"Name": name, "Type": rtype,
            "AliasTarget": {"HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": target, "EvaluateTargetHealth": False}}


@pytest.fixture
def aws():
    fake = FakeRoute53()
    fake.zone_id = fake.add_zone("example.com", "ZEXAMPLE")
    return fake


def make(fake, clock=None):
    clock = clock or FakeClock()
    caller = AwsCaller(clock=clock)
    return Route53Records(fake, caller, clock=clock), caller


def run(fake, check_mode=False, clock=None, **kwargs):
    manager, caller = make(fake, clock)
    result = manager.run(Request(**kwargs), check_mode=check_mode)
    return result, caller


def writes(fake):
    return fake.count("change_resource_record_sets")


def last_batch(fake):
    return [c[1] for c in fake.calls if c[0] == "change_resource_record_sets"][-1]["ChangeBatch"]["Changes"]


# --------------------------------------------------------------------------
# ordering helpers
# --------------------------------------------------------------------------


def test_route53_order_and_common_ancestor():
    assert route53_order("links.example.com") == "com.example.links."
    assert sorted(["links.example.com", "links-a.example.com", "a.links.example.com"], key=route53_order) == [
        "links-a.example.com", "links.example.com", "a.links.example.com"]
    assert common_ancestor(["links.example.com", VALIDATION]) == "links.example.com"
    assert common_ancestor(["a.example.com", "b.example.com"]) == "example.com"
    assert common_ancestor(["a.example.com", "b.example.org"]) == ""


# --------------------------------------------------------------------------
# bad input: rejected when the request is built, before any client exists
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "records, kwargs, field, fragment",
    [
        ([], {}, "records", "at least one record"),
        ([{"name": "links.example.com", "type": "MX", "value": "10 mx.example.com"}], {}, "records[0].type",
         "use one of CNAME, A, AAAA, TXT"),
        ([{"name": "links.example.com", "type": "A", "value": "192.0.2.1", "ttl": -1}], {}, "records[0].ttl",
         "from 0 to 2147483647"),
        ([{"name": "links.example.com", "type": "A", "value": "192.0.2.1", "ttl": 2 ** 31}], {}, "records[0].ttl",
         "out of range"),
        ([{"name": "links.example.com", "type": "CNAME", "alias": {"dns_name": DIST}}], {}, "records[0].alias",
         "type A or AAAA"),
        ([{"name": "links.example.com", "type": "A", "alias": {"dns_name": DIST}, "ttl": 60}], {}, "records[0].ttl",
         "no TTL"),
        ([{"name": "links.example.com", "type": "A", "value": "192.0.2.1", "values": ["192.0.2.2"]}], {},
         "records[0].values", "only one of value, values and alias"),
        ([{"name": "links.example.com", "type": "CNAME", "values": ["a.example.net", "b.example.net"]}], {},
         "records[0].values", "exactly one target"),
        ([{"name": "links.example.com", "type": "A", "value": "300.1.1.1"}], {}, "records[0].value", "not an IPv4"),
        ([{"name": "links.example.com", "type": "AAAA", "values": ["::1", "192.0.2.1"]}], {}, "records[0].values[1]",
         "not an IPv6"),
        ([{"name": "links.example.com", "type": "A"}], {}, "records[0].value", "needs a value"),
        ([{"name": "https://links.example.com", "type": "A", "value": "192.0.2.1"}], {}, "records[0].name",
         "without a scheme"),
        ([cname("links.example.com", DIST), alias("links.example.com", "A")], {}, "records[0].type",
         "only record at its name"),
        ([cname("links.example.com", DIST), cname("LINKS.example.com.", DIST)], {}, "records[1]", "listed twice"),
        ([alias("links.example.com", "A")], {"replace_types": ["MX"]}, "replace_types", "not a supported record type"),
        ([alias("links.example.com", "A")], {"hosted_zone_id": "not a zone!"}, "hosted_zone_id", "not a hosted zone id"),
        ([alias("links.example.com", "A")], {"wait_timeout": 0}, "wait_timeout", "above 0"),
        ([alias("links.example.com", "A")], {"state": "absent", "replace_types": ["CNAME"]}, "replace_types",
         "only applies to state=present"),
        ([alias("links.example.com", "A")], {"snapshot": {"zone": "example.com"}}, "snapshot", "earlier route53_records"),
        ([{"name": "links.example.com", "type": "A", "alias": {"dns_name": DIST, "hosted_zone_id": "Z2/x"}}], {},
         "records[0].alias.hosted_zone_id", "not a hosted zone id"),
    ],
)
def test_bad_input_names_the_field(records, kwargs, field, fragment):
    with pytest.raises(LinktrackError) as info:
        Request(records, **kwargs)
    assert info.value.field == field
    assert fragment in info.value.message
    assert field in info.value.message


@pytest.mark.parametrize(
    "records, kwargs, field, fragment",
    [
        ([cname("links.example.org", DIST)], {"zone": "example.com"}, "records[0].name", "outside the hosted zone example.com"),
        ([cname("example.com", DIST)], {}, "records[0].type", "zone apex"),
        ([cname("links.example.net", DIST)], {}, "records[0].name", "no public hosted zone"),
        ([cname("links.example.com", DIST)], {"zone": "example.net"}, "zone", "no public hosted zone named"),
        ([cname("links.example.com", DIST)], {"hosted_zone_id": "ZNOPE"}, "hosted_zone_id", "no hosted zone ZNOPE"),
        ([cname("links.example.com", DIST)], {"hosted_zone_id": "ZEXAMPLE", "zone": "links.example.com"}, "zone",
         "does not match"),
        ([cname("links.example.com", DIST), cname("links.example.org", DIST)], {}, "records[1].name",
         "same hosted zone"),
    ],
)
def test_zone_errors_come_before_any_write(aws, records, kwargs, field, fragment):
    with pytest.raises(LinktrackError) as info:
        run(aws, records=records, **kwargs)
    assert info.value.field == field
    assert fragment in info.value.message
    assert writes(aws) == 0


def test_cname_beside_other_types_needs_replace_types(aws):
    aws.add_rrset(aws.zone_id, api_cname("links.example.com", "links.iterable.com"))
    with pytest.raises(LinktrackError) as info:
        run(aws, records=[alias("links.example.com", "A"), alias("links.example.com", "AAAA")])
    assert info.value.field == "replace_types"
    assert "CNAME beside A, AAAA" in info.value.message
    assert "add CNAME to replace_types" in info.value.message
    assert writes(aws) == 0
    # and the other way round: a CNAME where alias records are
    aws2 = FakeRoute53()
    zid = aws2.add_zone("example.com")
    aws2.add_rrset(zid, api_alias("links.example.com", "A"))
    with pytest.raises(LinktrackError) as info:
        run(aws2, records=[cname("links.example.com", DIST)])
    assert "add A to replace_types" in info.value.message
    assert writes(aws2) == 0


def test_routing_policy_records_are_refused(aws):
    weighted = api_cname("links.example.com", "a.example.net")
    weighted.update({"SetIdentifier": "blue", "Weight": 10})
    aws.add_rrset(aws.zone_id, weighted)
    with pytest.raises(LinktrackError) as info:
        run(aws, records=[cname("links.example.com", DIST)])
    assert "SetIdentifier 'blue'" in info.value.message
    assert writes(aws) == 0


# --------------------------------------------------------------------------
# zone lookup
# --------------------------------------------------------------------------


def test_longest_matching_public_zone_in_one_request():
    fake = FakeRoute53()
    fake.add_zone("example.com", "ZPARENT")
    fake.add_zone("links.example.com", "ZLINKS")
    fake.add_zone("deep.links.example.com", "ZPRIVATE", private=True)
    fake.add_zone("example.org", "ZORG")
    fake.add_zone("aaa.example.com", "ZAAA")
    result, _caller = run(fake, records=[cname("x.deep.links.example.com", DIST)])
    assert (result.hosted_zone_id, result.zone) == ("ZLINKS", "links.example.com")
    assert fake.count("list_hosted_zones_by_name") == 1
    assert fake.calls[0][1]["DNSName"] == "example.com"
    assert fake.rrsets("ZLINKS", "x.deep.links.example.com")[0]["ResourceRecords"] == [{"Value": DIST}]
    assert fake.rrsets("ZPARENT", "x.deep.links.example.com") == []


def test_zone_lookup_pages_until_past_the_names():
    fake = FakeRoute53()
    fake.add_zone("example.com", "ZPARENT")
    for i in range(250):
        fake.add_zone("a%03d.example.com" % i)
    fake.add_zone("zz.example.com", "ZZZ")
    fake.add_zone("zzz.example.com", "ZAFTER")
    result, _caller = run(fake, records=[cname("links.zz.example.com", DIST)])
    assert result.hosted_zone_id == "ZZZ"
    assert fake.count("list_hosted_zones_by_name") == 3
    # a name that sorts early stops after the first page
    fake.calls = []
    result, _caller = run(fake, records=[cname("links.a001.example.com", DIST)])
    assert fake.count("list_hosted_zones_by_name") == 1
    assert result.zone == "a001.example.com"


def test_two_public_zones_of_the_same_name_are_ambiguous():
    fake = FakeRoute53()
    fake.add_zone("example.com", "ZONE1")
    fake.add_zone("example.com", "ZONE2")
    with pytest.raises(LinktrackError) as info:
        run(fake, records=[cname("links.example.com", DIST)])
    assert info.value.field == "hosted_zone_id"
    assert "ZONE1, ZONE2" in info.value.message
    result, _caller = run(fake, records=[cname("links.example.com", DIST)], hosted_zone_id="/hostedzone/ZONE2")
    assert result.hosted_zone_id == "ZONE2"
    assert fake.rrsets("ZONE1", "links.example.com") == []


def test_zone_by_name_and_by_id(aws):
    aws.add_zone("example.com", "ZPRIV", private=True)
    result, _caller = run(aws, records=[cname("links.example.com", DIST)], zone="Example.com.")
    assert result.hosted_zone_id == "ZEXAMPLE"
    assert aws.calls[0] == ("list_hosted_zones_by_name", {"DNSName": "example.com", "HostedZoneId": None, "MaxItems": "100"})
    aws.calls = []
    result, _caller = run(aws, records=[cname("links.example.com", DIST)], hosted_zone_id="ZEXAMPLE", zone="example.com")
    assert [c[0] for c in aws.calls] == ["get_hosted_zone", "list_resource_record_sets"]
    assert result.changed is False


# --------------------------------------------------------------------------
# converging
# --------------------------------------------------------------------------


def test_no_op_with_normalised_comparison_makes_two_reads(aws):
    aws.add_rrset(aws.zone_id, api_cname(VALIDATION.upper() + ".", "_X.ACM-Validations.AWS."))
    aws.add_rrset(aws.zone_id, api_alias("links.example.com", "A", "D111111ABCDEF8.cloudfront.net."))
    aws.add_rrset(aws.zone_id, api_alias("links.example.com", "AAAA", DIST))
    aws.add_rrset(aws.zone_id, {"Name": "txt.example.com", "Type": "TXT", "TTL": 60,
                                "ResourceRecords": [{"Value": '"b"'}, {"Value": '"a"'}]})
    aws.add_rrset(aws.zone_id, {"Name": "ip.example.com", "Type": "AAAA", "TTL": 60,
                                "ResourceRecords": [{"Value": "2001:DB8:0:0::1"}]})
    records = [
        cname(VALIDATION, "_x.acm-validations.aws"),
        alias("links.example.com", "A"),
        alias("LINKS.example.com.", "AAAA", DIST + "."),
        {"name": "txt.example.com", "type": "TXT", "values": ["a", "b"], "ttl": 60},
        {"name": "ip.example.com", "type": "AAAA", "value": "2001:db8::1", "ttl": 60},
    ]
    result, caller = run(aws, records=records)
    assert result.changed is False
    assert result.changes == []
    assert result.as_dict()["differences"] == []
    assert [c[0] for c in aws.calls] == ["list_hosted_zones_by_name", "list_resource_record_sets"]
    assert aws.calls[1][1]["StartRecordName"] == "example.com"
    assert caller.retries == 0


def test_one_listing_covers_the_domain_records_from_the_domain_on(aws):
    aws.add_rrset(aws.zone_id, api_cname(VALIDATION, "_x.acm-validations.aws"))
    aws.add_rrset(aws.zone_id, api_cname("links.example.com", "links.iterable.com"))
    result, _caller = run(aws, records=[cname(VALIDATION, "_x.acm-validations.aws")], read_names=["links.example.com"])
    assert result.changed is False
    assert [c[0] for c in aws.calls] == ["list_hosted_zones_by_name", "list_resource_record_sets"]
    assert aws.calls[1][1]["StartRecordName"] == "links.example.com"
    names = sorted((r["Name"], r["Type"]) for r in result.snapshot["record_sets"])
    assert names == [(VALIDATION + ".", "CNAME"), ("links.example.com.", "CNAME")]


def test_change_of_value_upserts_only_what_differs_and_waits(aws):
    aws.add_rrset(aws.zone_id, api_cname("links.example.com", "links.iterable.com"))
    aws.add_rrset(aws.zone_id, api_cname(VALIDATION, "_x.acm-validations.aws"))
    aws.pending_polls = 2
    clock = FakeClock()
    result, _caller = run(aws, clock=clock, records=[cname("links.example.com", DIST),
                                                     cname(VALIDATION, "_x.acm-validations.aws")])
    assert result.changed is True
    assert result.changes == [{
        "action": "UPSERT", "name": "links.example.com", "type": "CNAME",
        "before": {"ttl": 300, "values": ["links.iterable.com"]},
        "after": {"ttl": 300, "values": [DIST]},
    }]
    batch = aws.calls[2][1]["ChangeBatch"]["Changes"]
    assert batch == [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "links.example.com", "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": DIST}]}}]
    assert aws.count("get_change") == 3
    assert result.status == "INSYNC"
    assert result.change_id == "C0002"
    assert result.waited_seconds > 0
    assert aws.rrsets(aws.zone_id, "links.example.com")[0]["ResourceRecords"] == [{"Value": DIST}]


def test_wait_false_does_not_poll_and_wait_timeout_fails(aws):
    aws.pending_polls = 100
    result, _caller = run(aws, records=[cname("a.example.com", DIST)], wait=False)
    assert result.status == "PENDING"
    assert aws.count("get_change") == 0
    with pytest.raises(LinktrackError) as info:
        run(aws, records=[cname("b.example.com", DIST)], wait_timeout=30)
    assert "INSYNC" in info.value.message
    assert info.value.details["last_seen"] == "PENDING"


def test_cname_to_alias_in_one_batch_and_back(aws):
    aws.add_rrset(aws.zone_id, api_cname("links.example.com", "links.iterable.com", ttl=3600))
    result, _caller = run(aws, records=[alias("links.example.com", "A"), alias("links.example.com", "AAAA")],
                          replace_types=["CNAME", "A", "AAAA"])
    assert writes(aws) == 1
    assert [(c["action"], c["type"]) for c in result.changes] == [("DELETE", "CNAME"), ("UPSERT", "A"), ("UPSERT", "AAAA")]
    assert result.changes[0]["before"] == {"ttl": 3600, "values": ["links.iterable.com"]}
    assert result.changes[1]["after"] == {"alias": {"dns_name": DIST, "hosted_zone_id": "Z2FDTNDATAQYW2",
                                                    "evaluate_target_health": False}}
    sent = last_batch(aws)
    assert sent[0] == {"Action": "DELETE", "ResourceRecordSet": {
        "Name": "links.example.com.", "Type": "CNAME", "TTL": 3600, "ResourceRecords": [{"Value": "links.iterable.com"}]}}
    assert sorted(r["Type"] for r in aws.rrsets(aws.zone_id, "links.example.com")) == ["A", "AAAA"]
    # second run: nothing to do
    aws.calls = []
    result, _caller = run(aws, records=[alias("links.example.com", "A"), alias("links.example.com", "AAAA")],
                          replace_types=["CNAME"])
    assert result.changed is False and writes(aws) == 0
    # and back to a CNAME
    result, _caller = run(aws, records=[cname("links.example.com", "links.iterable.com")], replace_types=["A", "AAAA"])
    assert [(c["action"], c["type"]) for c in result.changes] == [("DELETE", "A"), ("DELETE", "AAAA"), ("UPSERT", "CNAME")]
    assert [r["Type"] for r in aws.rrsets(aws.zone_id, "links.example.com")] == ["CNAME"]


@pytest.mark.parametrize("codes", [["PriorRequestNotComplete"], ["Throttling", "PriorRequestNotComplete"]])
def test_prior_request_not_complete_and_throttling_are_retried(aws, codes):
    aws.errors["change_resource_record_sets"] = [client_error(code) for code in codes]
    aws.errors["list_resource_record_sets"] = [client_error("Throttling")]
    result, caller = run(aws, records=[cname("links.example.com", DIST)])
    assert result.changed is True
    assert caller.retries == len(codes) + 1
    assert len(aws.changes) == 1
    assert aws.rrsets(aws.zone_id, "links.example.com")[0]["ResourceRecords"] == [{"Value": DIST}]


def test_other_errors_are_not_retried(aws):
    aws.errors["change_resource_record_sets"] = [client_error("AccessDenied", status=403)]
    with pytest.raises(ClientError):
        run(aws, records=[cname("links.example.com", DIST)])
    assert writes(aws) == 1


def test_dropped_connection_after_the_change_went_through(aws):
    """The retry of an applied batch fails (its DELETE finds nothing); the module reads again and is done."""
    aws.add_rrset(aws.zone_id, api_cname("links.example.com", "links.iterable.com"))
    aws.after_errors["change_resource_record_sets"] = [ConnectionClosedError(endpoint_url="https://route53")]
    result, caller = run(aws, records=[alias("links.example.com", "A"), alias("links.example.com", "AAAA")],
                         replace_types=["CNAME"])
    assert caller.retries == 1
    assert len(aws.changes) == 1
    assert result.changed is True
    assert sorted(r["Type"] for r in aws.rrsets(aws.zone_id, "links.example.com")) == ["A", "AAAA"]


def test_check_mode_reports_exact_changes_and_writes_nothing(aws):
    aws.add_rrset(aws.zone_id, api_cname("links.example.com", "links.iterable.com"))
    before = copy.deepcopy(aws.zones)
    result, _caller = run(aws, check_mode=True, records=[alias("links.example.com", "A"), alias("links.example.com", "AAAA")],
                          replace_types=["CNAME"])
    assert aws.zones == before
    assert writes(aws) == 0
    assert result.changed is True
    assert [(c["action"], c["type"]) for c in result.changes] == [("DELETE", "CNAME"), ("UPSERT", "A"), ("UPSERT", "AAAA")]
    out = result.as_dict(diff=True)
    assert out["diff"]["before"] == {"links.example.com CNAME": {"ttl": 300, "values": ["links.iterable.com"]},
                                     "links.example.com A": None, "links.example.com AAAA": None}
    assert out["diff"]["after"]["links.example.com CNAME"] is None
    assert out["change_id"] is None
    assert sorted(r["Type"] for r in out["snapshot"]["record_sets"]) == ["A", "AAAA"]


def test_record_listing_pages(aws):
    for i in range(700):
        aws.add_rrset(aws.zone_id, api_cname("h%03d.links.example.com" % i, "x.example.net"))
    aws.add_rrset(aws.zone_id, api_cname("zz.links.example.com", "old.example.net"))
    result, _caller = run(aws, records=[cname("links.example.com", DIST), cname("zz.links.example.com", DIST)])
    assert aws.count("list_resource_record_sets") == 3
    assert [c["before"] for c in result.changes] == [None, {"ttl": 300, "values": ["old.example.net"]}]
    second = [c for c in aws.calls if c[0] == "list_resource_record_sets"][1][1]
    assert second["StartRecordName"] == "h300.links.example.com."


def test_state_absent_deletes_with_current_values(aws):
    aws.add_rrset(aws.zone_id, api_alias("links.example.com", "A"))
    aws.add_rrset(aws.zone_id, api_cname(VALIDATION, "_x.acm-validations.aws", ttl=60))
    records = [{"name": "links.example.com", "type": "A"}, {"name": "links.example.com", "type": "AAAA"},
               {"name": VALIDATION, "type": "CNAME"}]
    result, _caller = run(aws, state="absent", records=records)
    assert [(c["action"], c["type"], c["after"]) for c in result.changes] == [("DELETE", "A", None), ("DELETE", "CNAME", None)]
    assert result.changes[1]["before"] == {"ttl": 60, "values": ["_x.acm-validations.aws"]}
    assert aws.rrsets(aws.zone_id, "links.example.com") == [] and aws.rrsets(aws.zone_id, VALIDATION) == []
    aws.calls = []
    result, _caller = run(aws, state="absent", records=records)
    assert result.changed is False and writes(aws) == 0


def test_state_absent_refuses_a_record_that_holds_another_value(aws):
    aws.add_rrset(aws.zone_id, api_cname("links.example.com", "links.iterable.com"))
    with pytest.raises(LinktrackError) as info:
        run(aws, state="absent", records=[cname("links.example.com", DIST)])
    assert info.value.field == "records[0]"
    assert "not deleting" in info.value.message
    assert writes(aws) == 0


def test_txt_values_are_quoted_once(aws):
    long_text = "x" * 300
    result, _caller = run(aws, records=[{"name": "t.example.com", "type": "TXT", "values": ["v=spf1 -all", long_text]}])
    sent = last_batch(aws)[0]["ResourceRecordSet"]["ResourceRecords"]
    assert sorted(v["Value"] for v in sent) == ['"v=spf1 -all"', '"%s" "%s"' % ("x" * 255, "x" * 45)]
    aws.calls = []
    result, _caller = run(aws, records=[{"name": "t.example.com", "type": "TXT", "values": [long_text, '"v=spf1 -all"']}])
    assert result.changed is False


# --------------------------------------------------------------------------
# snapshots: the role's second call of a run
# --------------------------------------------------------------------------


def test_snapshot_no_op_makes_no_request_and_a_change_reads_afresh(aws):
    aws.add_rrset(aws.zone_id, api_cname(VALIDATION, "_x.acm-validations.aws"))
    aws.add_rrset(aws.zone_id, api_alias("links.example.com", "A"))
    aws.add_rrset(aws.zone_id, api_alias("links.example.com", "AAAA"))
    first, _caller = run(aws, records=[cname(VALIDATION, "_x.acm-validations.aws")], read_names=["links.example.com"])
    assert first.read_from == "route53"
    aws.calls = []
    final = [alias("links.example.com", "A"), alias("links.example.com", "AAAA")]
    second, _caller = run(aws, records=final, replace_types=["CNAME"], snapshot=first.snapshot)
    assert aws.calls == []
    assert second.changed is False and second.read_from == "snapshot"
    assert second.hosted_zone_id == "ZEXAMPLE"
    # somebody changed the record since: the snapshot still says "no change" would be wrong for a write,
    # so a call that needs to write lists afresh first
    aws.zones[aws.zone_id]["rrsets"] = [r for r in aws.zones[aws.zone_id]["rrsets"] if r["Type"] != "AAAA"]
    other = [alias("links.example.com", "A", "d222.cloudfront.net"), alias("links.example.com", "AAAA", "d222.cloudfront.net")]
    third, _caller = run(aws, records=other, snapshot=first.snapshot)
    assert [c[0] for c in aws.calls] == ["list_resource_record_sets", "change_resource_record_sets"]
    assert [(c["type"], c["before"] is None) for c in third.changes] == [("A", False), ("AAAA", True)]
    assert third.read_from == "route53"


def test_snapshot_that_does_not_cover_a_name_is_not_used(aws):
    first, _caller = run(aws, records=[cname(VALIDATION, "_x.acm-validations.aws")])
    aws.calls = []
    second, _caller = run(aws, records=[cname("links.example.com", DIST)], snapshot=first.snapshot)
    assert [c[0] for c in aws.calls] == ["list_resource_record_sets", "change_resource_record_sets"]
    assert second.read_from == "route53"
    with pytest.raises(LinktrackError) as info:
        run(aws, records=[cname("links.example.com", DIST)], snapshot=first.snapshot, zone="example.org")
    assert info.value.field == "zone"


# --------------------------------------------------------------------------
# AWS's rules the emulator did not have
# --------------------------------------------------------------------------


@pytest.mark.parametrize("target", [{"dns_name": DIST},
                                    {"dns_name": "links-cdn.example.net", "hosted_zone_id": "Z2FDTNDATAQYW2"}])
def test_evaluate_target_health_true_for_cloudfront_is_refused_before_any_request(aws, target):
    target = dict(target, evaluate_target_health=True)
    with pytest.raises(LinktrackError) as info:
        run(aws, records=[alias("links.example.com", "A"), {"name": "links.example.com", "type": "AAAA", "alias": target}])
    assert info.value.field == "records[1].alias.evaluate_target_health"
    assert "CloudFront" in info.value.message
    assert aws.calls == []


def test_evaluate_target_health_true_for_another_target_is_sent(aws):
    target = {"dns_name": "dualstack.lb-1.us-east-1.elb.amazonaws.com", "hosted_zone_id": "Z35SXDOTRQ7X7K",
              "evaluate_target_health": True}
    result, _caller = run(aws, records=[{"name": "app.example.com", "type": "A", "alias": target}])
    assert result.changed and last_batch(aws)[0]["ResourceRecordSet"]["AliasTarget"]["EvaluateTargetHealth"] is True


def private_twin(aws):
    """A private zone of the same name beside the public one, as a VPC's split-horizon DNS has."""
    return aws.add_zone("example.com", "ZPRIVATE", private=True)


def test_private_zone_by_id_is_refused_before_any_write(aws):
    private_twin(aws)
    with pytest.raises(LinktrackError) as info:
        run(aws, records=[cname(VALIDATION, "_x.acm-validations.aws")], hosted_zone_id="ZPRIVATE")
    assert info.value.field == "hosted_zone_id"
    assert "private hosted zone" in info.value.message and "allow_private_zone" in info.value.message
    assert [c[0] for c in aws.calls] == ["get_hosted_zone"]
    assert aws.rrsets("ZPRIVATE", VALIDATION) == []


def test_private_zone_by_id_with_allow_private_zone(aws):
    private_twin(aws)
    result, _caller = run(aws, records=[cname("links.example.com", DIST)], hosted_zone_id="ZPRIVATE",
                          allow_private_zone=True)
    assert result.changed and result.hosted_zone_id == "ZPRIVATE" and result.private_zone is True
    assert result.snapshot["private_zone"] is True
    assert result.as_dict()["private_zone"] is True
    # a CloudFront alias is refused even so: Route 53 takes none in a private zone
    with pytest.raises(LinktrackError) as info:
        run(aws, records=[alias("links.example.com", "A")], hosted_zone_id="ZPRIVATE", allow_private_zone=True,
            replace_types=["CNAME"])
    assert info.value.field == "records[0].alias"
    assert writes(aws) == 1


def test_snapshot_of_a_private_zone_is_refused_without_a_request(aws):
    private_twin(aws)
    first, _caller = run(aws, records=[cname("links.example.com", DIST)], hosted_zone_id="ZPRIVATE",
                         allow_private_zone=True)
    aws.calls = []
    with pytest.raises(LinktrackError) as info:
        run(aws, records=[cname("links.example.com", "d2.cloudfront.net")], snapshot=first.snapshot)
    assert info.value.field == "snapshot" and aws.calls == []


@pytest.mark.parametrize("kwargs", [{"zone": "example.com"}, {}])
def test_zone_by_name_picks_the_public_zone_beside_a_private_twin(aws, kwargs):
    private_twin(aws)
    result, _caller = run(aws, records=[alias("links.example.com", "A"), alias("links.example.com", "AAAA")], **kwargs)
    assert result.hosted_zone_id == "ZEXAMPLE" and result.private_zone is False
    assert aws.rrsets("ZPRIVATE", "links.example.com") == []
    assert len(aws.rrsets("ZEXAMPLE", "links.example.com")) == 2


def test_pending_change_is_waited_for_with_progress_lines(aws):
    aws.pending_polls = 3
    lines = []
    progress = Progress(report=lines.append, subject="links.example.com")
    clock = FakeClock()
    manager = Route53Records(aws, AwsCaller(clock=clock), clock=clock, progress=progress)
    result = manager.run(Request(records=[cname("links.example.com", DIST)], wait_timeout=300))
    assert result.status == "INSYNC" and aws.count("get_change") == 4
    change = result.change_id
    assert lines[0] == "links.example.com: Route 53 change %s PENDING, 0s of 5m" % change
    assert lines[-1].startswith("links.example.com: Route 53 change %s INSYNC, " % change)
    assert [h["state"] for h in progress.history] == ["PENDING"] * 3 + ["INSYNC"]
    assert result.waited_seconds == pytest.approx(sum(clock.sleeps)) and result.waited_seconds > 0


def test_run_module_takes_progress_and_returns_the_wait_history(aws, monkeypatch):
    aws.pending_polls = 1
    clock = FakeClock()
    monkeypatch.setattr(_route53, "new_caller", lambda: AwsCaller(clock=clock))
    monkeypatch.setattr(_route53, "Clock", lambda: clock)
    lines = []
    params = dict(records=[cname(VALIDATION, "_x.acm-validations.aws"), cname("links.example.com", DIST)],
                  state="present", zone=None, hosted_zone_id=None, replace_types=[], read_names=[], snapshot=None,
                  wait=True, wait_timeout=300, allow_private_zone=False)
    result = _route53.run_module(params, client_factory=lambda service: aws, progress=lines.append)
    assert result.get("failed") is not True, result
    assert [h["state"] for h in result["wait_history"]] == ["PENDING", "INSYNC"]
    assert len(lines) == 2 and all(line.startswith("links.example.com: Route 53 change ") for line in lines)


def test_progress_lines_are_about_the_tracking_domain():
    validation = Request(records=[cname(VALIDATION, "_x.acm-validations.aws")], read_names=["links.example.com"])
    assert validation.subject == "links.example.com"
    assert Request(records=[cname(VALIDATION, "_x.acm-validations.aws")]).subject == VALIDATION
    assert Request(records=[alias("links.example.com", "A"), cname("www.links.example.com", DIST)]).subject == "links.example.com"
