# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sandbox's Route 53 behaves like Route 53 (sandbox/README.md, "AWS's behaviour"), and ``instant`` stays moto.

The shared sandbox (AWS's behaviour, time scale 1: GetChange PENDING for 0.5 s)
for the rules, one ``instant`` sandbox for moto's old behaviour and for what
a reset brings back.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
import urllib.request
import uuid

import boto3
import botocore.exceptions
import dns.message
import dns.query
import dns.rcode
import pytest

from linktrack_sandbox import aws as sandbox_aws
from linktrack_sandbox import realism, testing

WINDOWS = realism.Windows(1.0)
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"


@pytest.fixture(scope="module")
def r53(aws, sandbox):
    return {"client": aws("route53"), "zone_id": sandbox["SANDBOX_R53_ZONE_ID"], "sandbox": sandbox}


def _name(prefix="r"):
    return "%s-%s.example.com." % (prefix, uuid.uuid4().hex[:8])


def _set(name, rtype, *values, ttl=300):
    return {"Name": name, "Type": rtype, "TTL": ttl, "ResourceRecords": [{"Value": value} for value in values]}


def _alias(name, rtype, target, evaluate=False, zone=CLOUDFRONT_ZONE):
    return {"Name": name, "Type": rtype, "AliasTarget": {"HostedZoneId": zone, "DNSName": target, "EvaluateTargetHealth": evaluate}}


def _change(r53, *changes, zone_id=None):
    return r53["client"].change_resource_record_sets(HostedZoneId=zone_id or r53["zone_id"], ChangeBatch={"Changes": [
        {"Action": action, "ResourceRecordSet": record} for action, record in changes]})


def _refused(r53, *changes, zone_id=None):
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        _change(r53, *changes, zone_id=zone_id)
    error = caught.value.response["Error"]
    assert (error["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("InvalidChangeBatch", 400)
    return error["Message"]


def _sets(r53, name, zone_id=None):
    found = []
    for page in r53["client"].get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id or r53["zone_id"]):
        found.extend(record for record in page["ResourceRecordSets"] if record["Name"].rstrip(".") == name.rstrip("."))
    return sorted((record["Type"], record.get("TTL"), [item["Value"] for item in record.get("ResourceRecords", [])]) for record in found)


# --- 9. CREATE of an existing set, DELETE of a missing or different one ----------------------------

def test_create_of_an_existing_set_is_refused_and_the_batch_is_all_or_nothing(r53):
    name, other = _name(), _name()
    _change(r53, ("CREATE", _set(name, "TXT", '"one"')))
    message = _refused(r53, ("CREATE", _set(other, "TXT", '"new"')), ("CREATE", _set(name, "TXT", '"two"')))
    assert "Tried to create resource record set [name='%s', type='TXT'] but it already exists" % name in message
    assert _sets(r53, name) == [("TXT", 300, ['"one"'])]
    assert _sets(r53, other) == []  # the valid first change was not applied either
    _change(r53, ("UPSERT", _set(name, "TXT", '"two"')))
    assert _sets(r53, name) == [("TXT", 300, ['"two"'])]


def test_delete_of_a_missing_set_or_with_other_values_is_refused(r53):
    name = _name()
    message = _refused(r53, ("DELETE", _set(name, "TXT", '"never"')))
    assert "but it was not found" in message
    _change(r53, ("CREATE", _set(name, "TXT", '"a"', '"b"', ttl=60)))
    for wrong in (_set(name, "TXT", '"a"', ttl=60), _set(name, "TXT", '"a"', '"b"', ttl=300), _set(name, "TXT", '"a"', '"c"', ttl=60)):
        assert "do not match the current values" in _refused(r53, ("DELETE", wrong))
    _change(r53, ("DELETE", _set(name, "TXT", '"b"', '"a"', ttl=60)))
    assert _sets(r53, name) == []
    target = "d%s.cloudfront.net." % uuid.uuid4().hex[:13]
    _change(r53, ("CREATE", _alias(name, "A", target)))
    assert "do not match" in _refused(r53, ("DELETE", _alias(name, "A", "d0000000000000.cloudfront.net.")))
    _change(r53, ("DELETE", _alias(name, "A", target)))


def test_create_delete_cycles_of_one_set_are_accepted(r53):
    """moto alone refused the second CREATE after a CREATE and a DELETE (its journal check)."""
    record = _set(_name("cycle"), "CNAME", "d111111abcdef8.cloudfront.net")
    for dummy in range(3):
        _change(r53, ("CREATE", record))
        _change(r53, ("DELETE", record))
    assert _sets(r53, record["Name"]) == []


# --- 10. CNAME beside other data, CNAME at the apex ---------------------------------------------

def test_a_cname_beside_other_data_is_refused_in_either_order(r53):
    first, second = _name(), _name()
    _change(r53, ("CREATE", _set(first, "TXT", '"data"')))
    for action in ("CREATE", "UPSERT"):
        message = _refused(r53, (action, _set(first, "CNAME", "d1.cloudfront.net")))
        assert "RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records" % first in message
    _change(r53, ("CREATE", _set(second, "CNAME", "d1.cloudfront.net")))
    for action, record in (("CREATE", _set(second, "TXT", '"x"')), ("UPSERT", _alias(second, "A", "d1.cloudfront.net."))):
        message = _refused(r53, (action, record))
        assert "is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists" in message
    # In one batch the order counts: the CNAME may replace the TXT only once the TXT is deleted.
    _refused(r53, ("CREATE", _set(first, "CNAME", "d1.cloudfront.net")), ("DELETE", _set(first, "TXT", '"data"')))
    _change(r53, ("DELETE", _set(first, "TXT", '"data"')), ("CREATE", _set(first, "CNAME", "d1.cloudfront.net")))
    assert _sets(r53, first) == [("CNAME", 300, ["d1.cloudfront.net"])]


def test_a_cname_at_the_zone_apex_is_refused(r53):
    apex = r53["sandbox"]["SANDBOX_ZONE"] + "."
    for action in ("CREATE", "UPSERT"):
        assert "is not permitted at apex in zone" in _refused(r53, (action, _set(apex, "CNAME", "d1.cloudfront.net")))


# --- 11. EvaluateTargetHealth for CloudFront -----------------------------------------------------

def test_evaluate_target_health_true_for_a_cloudfront_alias_is_refused(r53):
    name = _name("alias")
    target = "d%s.cloudfront.net." % uuid.uuid4().hex[:13]
    for rtype in ("A", "AAAA"):
        assert "EvaluateTargetHealth" in _refused(r53, ("UPSERT", _alias(name, rtype, target, evaluate=True)))
    _change(r53, ("UPSERT", _alias(name, "A", target)), ("UPSERT", _alias(name, "AAAA", target)))
    assert [rtype for rtype, _ttl, _values in _sets(r53, name)] == ["A", "AAAA"]
    private = r53["sandbox"]["SANDBOX_R53_PRIVATE_ZONE_ID"]
    assert "private" in _refused(r53, ("UPSERT", _alias(name, "A", target)), zone_id=private)


# --- 12. GetChange -----------------------------------------------------------------------------

def test_get_change_is_pending_then_insync(r53):
    client = r53["client"]
    sent = time.monotonic()
    info = _change(r53, ("UPSERT", _set(_name("change"), "TXT", '"x"')))["ChangeInfo"]
    status = client.get_change(Id=info["Id"])["ChangeInfo"]["Status"]
    assert time.monotonic() < sent + WINDOWS.route53_pending, "the machine is too slow to see the window"
    assert (info["Status"], status) == ("PENDING", "PENDING")
    got = testing.wait_for(lambda: client.get_change(Id=info["Id"])["ChangeInfo"], lambda got: got["Status"] == "INSYNC", 10.0)
    assert got["Status"] == "INSYNC"
    assert time.monotonic() >= sent + WINDOWS.route53_pending
    other = _change(r53, ("UPSERT", _set(_name("change"), "TXT", '"y"')))["ChangeInfo"]
    assert other["Id"] != info["Id"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_change(Id="/change/C0NEVERGIVEN")
    assert caught.value.response["Error"]["Code"] == "NoSuchChange"


# --- 13. a private zone with the public zone's name ------------------------------------------------

def _zones_named(client, zone):
    answer = client.list_hosted_zones_by_name(DNSName=zone)
    return sorted((item["Id"].split("/")[-1], item["Config"]["PrivateZone"]) for item in answer["HostedZones"] if item["Name"] == zone + ".")


def _query(sandbox, name, rdtype):
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, "127.0.0.1", port=int(sandbox["SANDBOX_R53_DNS_PORT"]), timeout=5)


def test_a_private_zone_shares_the_name_and_the_dns_stand_in_serves_only_the_public_one(r53):
    sandbox, client = r53["sandbox"], r53["client"]
    public, private = sandbox["SANDBOX_R53_ZONE_ID"], sandbox["SANDBOX_R53_PRIVATE_ZONE_ID"]
    assert public != private
    assert private == sandbox_aws.private_zone_id_for(sandbox["SANDBOX_ZONE"])
    assert _zones_named(client, sandbox["SANDBOX_ZONE"]) == sorted([(public, False), (private, True)])
    assert client.get_hosted_zone(Id=private)["HostedZone"]["Config"]["PrivateZone"] is True
    only_private, both = _name("private"), _name("split")
    _change(r53, ("UPSERT", _set(only_private, "TXT", '"private view"')), zone_id=private)
    _change(r53, ("UPSERT", _set(both, "TXT", '"private view"')), zone_id=private)
    _change(r53, ("UPSERT", _set(both, "TXT", '"public view"')))
    assert _query(sandbox, only_private, "TXT").rcode() == dns.rcode.NXDOMAIN
    answer = _query(sandbox, both, "TXT")
    assert [rdata.to_text() for rrset in answer.answer for rdata in rrset] == ['"public view"']


# --- instant: moto as it was; reset brings both zones back -------------------------------------------

def test_instant_is_moto_as_before_and_reset_recreates_both_zones(tmp_path_factory, sandbox_python):  # pylint: disable=unused-argument
    values = testing.start_sandbox(tmp_path_factory.mktemp("sandbox-r53-instant"), 300, SANDBOX_AWS_BEHAVIOUR="instant")
    try:
        client = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1").client(
            "route53", endpoint_url=values["AWS_ENDPOINT_URL"])
        r53 = {"client": client, "zone_id": values["SANDBOX_R53_ZONE_ID"]}
        name = _name("instant")
        info = _change(r53, ("CREATE", _set(name, "TXT", '"one"')))["ChangeInfo"]
        assert info["Status"] == "INSYNC"
        assert client.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "INSYNC"
        _change(r53, ("CREATE", _set(name, "TXT", '"two"')))  # moto: a second copy
        _change(r53, ("CREATE", _set(name, "CNAME", "d1.cloudfront.net")))  # moto: beside other data
        assert [rtype for rtype, _ttl, _values in _sets(r53, name)] == ["CNAME", "TXT", "TXT"]
        expected = sorted([(values["SANDBOX_R53_ZONE_ID"], False), (values["SANDBOX_R53_PRIVATE_ZONE_ID"], True)])
        assert _zones_named(client, values["SANDBOX_ZONE"]) == expected
        client.delete_hosted_zone(Id=values["SANDBOX_R53_PRIVATE_ZONE_ID"])
        with urllib.request.urlopen(urllib.request.Request(values["AWS_ENDPOINT_URL"] + "/_sandbox/reset", data=b"", method="POST"), timeout=10):
            pass
        assert _zones_named(client, values["SANDBOX_ZONE"]) == expected
        assert _sets(r53, name) == []
    finally:
        down = testing.stop_sandbox(values)
        assert down.returncode == 0, down.stdout + down.stderr


# --- the batch rules themselves (no sandbox needed) ------------------------------------------------------

def test_batch_rules_weighted_cnames_and_escaped_names():
    from linktrack_sandbox import realism_route53  # pylint: disable=import-outside-toplevel
    weighted = [dict(_set("w.example.com.", "CNAME", "a.example.net"), SetIdentifier=ident, Weight=1) for ident in ("one", "two")]
    errors, after = realism_route53.check_batch("example.com.", False, [], [{"Action": "CREATE", "ResourceRecordSet": record} for record in weighted])
    assert (errors, len(after)) == ([], 2)  # CNAME sets of one name with their own SetIdentifier may live together
    errors, _after = realism_route53.check_batch("example.com.", False, [_set("\\052.example.com.", "TXT", '"x"')],
                                                 [{"Action": "CREATE", "ResourceRecordSet": _set("*.example.com.", "TXT", '"y"')}])
    assert len(errors) == 1 and "already exists" in errors[0]  # Route 53 writes * as \052: the same name
    errors, _after = realism_route53.check_batch("example.com.", False, [], [
        {"Action": "DELETE", "ResourceRecordSet": _set("a.example.com.", "TXT", '"x"')},
        {"Action": "CREATE", "ResourceRecordSet": _set("example.com.", "CNAME", "a.example.net")}])
    assert len(errors) == 2  # every refusal of a batch in one answer


# --- listing order: reversed labels with the trailing dot ------------------------------------------


def test_record_sets_list_in_route53_order_with_the_trailing_dot(r53):
    # Route 53 API Reference, ListResourceRecordSets, "Sort order": com.example.www. -- the trailing dot
    # puts p<id>-a (the "-" is decimal 45) before p<id> (".", decimal 46); moto alone sorted without the dot
    plain = _name("p")
    dashed = plain.replace(".example.com.", "-a.example.com.")
    _change(r53, ("CREATE", _set(plain, "TXT", '"plain"')), ("CREATE", _set(dashed, "TXT", '"dashed"')))
    try:
        listed = r53["client"].list_resource_record_sets(HostedZoneId=r53["zone_id"], StartRecordName=dashed,
                                                         MaxItems="2")["ResourceRecordSets"]
        assert [r["Name"] for r in listed] == [dashed, plain]
        after = r53["client"].list_resource_record_sets(HostedZoneId=r53["zone_id"], StartRecordName=plain,
                                                        MaxItems="5")["ResourceRecordSets"]
        assert after[0]["Name"] == plain and dashed not in [r["Name"] for r in after]
    finally:
        _change(r53, ("DELETE", _set(plain, "TXT", '"plain"')), ("DELETE", _set(dashed, "TXT", '"dashed"')))
