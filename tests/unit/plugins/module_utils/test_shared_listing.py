# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The play's shared listings (aws_shared_listing) and the per-domain reads that take them as a hint.

A hint may only save requests: with it, the per-domain reads pick the same
certificate and zone as without it, and a hint from other credentials (another
account: DescribeCertificate answers ResourceNotFoundException,
ListResourceRecordSets NoSuchHostedZone) or one without a match falls back to
the host's own listing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.linktrack.https.plugins.module_utils import _shared_listing
from ansible_collections.linktrack.https.plugins.module_utils._acm import AcmCertificateManager, build_spec
from ansible_collections.linktrack.https.plugins.module_utils._acm import run_module as acm_run_module
from ansible_collections.linktrack.https.plugins.module_utils._common import AwsCaller, LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._route53 import Request, Route53Records
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock, client_error
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.test_acm import MANAGED, NOW, FakeAcm, params
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.test_route53 import FakeRoute53, cname

DIST = "d111111abcdef8.cloudfront.net"


class ZonesRoute53(FakeRoute53):
    """FakeRoute53 with ListHostedZones (Marker paging) and NoSuchHostedZone for a zone it does not hold."""

    def list_hosted_zones(self, Marker=None, MaxItems="100"):
        self._enter("list_hosted_zones", dict(Marker=Marker, MaxItems=MaxItems))
        ids = sorted(self.zones)
        if Marker:
            ids = ids[ids.index(Marker):]
        limit = int(MaxItems)
        answer = {"HostedZones": [{"Id": "/hostedzone/" + zid, "Name": self.zones[zid]["name"] + ".",
                                   "Config": {"PrivateZone": self.zones[zid]["private"]}} for zid in ids[:limit]],
                  "IsTruncated": len(ids) > limit, "MaxItems": MaxItems}
        if len(ids) > limit:
            answer["NextMarker"] = ids[limit]
        return answer

    def list_resource_record_sets(self, HostedZoneId, **kwargs):
        if HostedZoneId not in self.zones:
            self._enter("list_resource_record_sets", dict(HostedZoneId=HostedZoneId))
            raise client_error("NoSuchHostedZone", status=404, operation="ListResourceRecordSets")
        return super(ZonesRoute53, self).list_resource_record_sets(HostedZoneId, **kwargs)


def shared(acm=None, route53=None, **options):
    clients = {"acm": acm, "route53": route53}
    return _shared_listing.run_module(dict(dict(list_certificates=acm is not None, list_zones=route53 is not None),
                                           **options), client_factory=lambda service: clients[service])


def find(fake, known=None, check_mode=True, **overrides):
    """The preflight's certificate read: ``(arn or None, ops)``."""
    fake.calls = []
    caller = AwsCaller(clock=FakeClock(1000.0))
    manager = AcmCertificateManager(fake, caller, clock=FakeClock(1000.0), check_mode=check_mode, utcnow=lambda: NOW,
                                    known_certificates=known)
    result = manager.run(build_spec(params(**overrides)))
    return result["arn"], fake.ops()


def zone_read(fake, known=None, **kwargs):
    fake.calls = []
    caller = AwsCaller(clock=FakeClock())
    kwargs.setdefault("records", [{"name": "_probe.links.example.com", "type": "TXT"}])
    kwargs.setdefault("read_names", ["links.example.com"])
    kwargs.setdefault("state", "absent")  # the preflight's probe when there are no validation records yet
    request = Request(known_zones=known, wait=False, **kwargs)
    result = Route53Records(fake, caller, clock=FakeClock()).run(request, check_mode=True)
    return result, [op for op, _kw in fake.calls]


# --------------------------------------------------------------------------
# the listings
# --------------------------------------------------------------------------


def test_one_certificate_listing_for_every_key_algorithm_and_reusable_status():
    fake = FakeAcm(page_size=2)
    rsa = fake.add("links.example.com")
    ec = fake.add("links.example.org", key="EC_prime256v1")
    fake.add("links.example.net", key="EC_secp384r1")  # CloudFront cannot serve it: not listed
    fake.add("old.example.com", status="EXPIRED")
    fake.add("a.example.com")
    result = shared(acm=fake)
    listed = [s["CertificateArn"] for s in result["certificates"]]
    assert set([rsa, ec]) <= set(listed) and len(listed) == 3
    calls = [kw for op, kw in fake.calls if op == "list_certificates"]
    assert len(calls) == 2 == result["aws_requests"]  # two pages of 2
    assert calls[0]["Includes"] == {"keyTypes": ["RSA_2048", "EC_prime256v1"]}
    assert calls[0]["CertificateStatuses"] == ["ISSUED", "PENDING_VALIDATION"]
    assert result["zones"] is None and result["errors"] == [] and result["changed"] is False


def test_the_summaries_are_compact_and_travel_as_json():
    fake = FakeAcm()
    fake.add("links.example.com", created=NOW - datetime.timedelta(days=3))
    summary = shared(acm=fake)["certificates"][0]
    assert json.loads(json.dumps(summary)) == summary  # epoch seconds, not datetimes
    assert summary["CreatedAt"] == (NOW - datetime.timedelta(days=3)).timestamp()
    assert "InUse" not in summary and "Serial" not in summary


def test_one_zone_listing_pages_by_marker_and_keeps_private_zones_marked():
    fake = ZonesRoute53()
    for index in range(150):
        fake.add_zone("zone%03d.example.com" % index)
    fake.add_zone("example.com", "ZPRIV", private=True)
    result = shared(route53=fake)
    assert len(result["zones"]) == 151
    assert [op for op, _kw in fake.calls] == ["list_hosted_zones", "list_hosted_zones"]
    assert {"id": "ZPRIV", "name": "example.com", "private": True} in result["zones"]


def test_a_listing_that_fails_is_left_out_without_failing():
    acm = FakeAcm()
    acm.errors["list_certificates"] = [client_error("AccessDeniedException")]
    route53 = ZonesRoute53()
    route53.add_zone("example.com", "ZEXAMPLE")
    warnings = []
    clients = {"acm": acm, "route53": route53}
    result = _shared_listing.run_module({"list_certificates": True, "list_zones": True},
                                        client_factory=lambda service: clients[service], warn=warnings.append)
    assert not result.get("failed")
    assert result["certificates"] is None
    assert result["zones"] == [{"id": "ZEXAMPLE", "name": "example.com", "private": False}]
    assert result["errors"] == warnings and "AccessDeniedException" in warnings[0]


def test_a_region_other_than_us_east_1_is_refused_before_any_request():
    fake = FakeAcm()
    result = _shared_listing.run_module({"region": "eu-west-1"}, client_factory=lambda service: fake)
    assert result["failed"] and "region" in result["msg"] and fake.calls == []


# --------------------------------------------------------------------------
# ACM: the hint
# --------------------------------------------------------------------------


def test_a_hit_costs_one_describe_and_no_listing():
    fake = FakeAcm()
    arn = fake.add("links.example.com")
    fake.add("other.example.com")
    known = shared(acm=fake)["certificates"]
    assert find(fake, known) == (arn, ["describe_certificate"])


def test_a_miss_lists_on_its_own_and_finds_what_the_hint_did_not_know():
    fake = FakeAcm()
    known = shared(acm=fake)["certificates"]  # listed before this domain's certificate existed
    arn = fake.add("links.example.com")
    found, ops = find(fake, known)
    assert found == arn
    assert ops == ["list_certificates", "describe_certificate"]


def test_a_miss_still_requests_nothing_in_check_mode_and_one_certificate_for_real():
    fake = FakeAcm()
    known = shared(acm=fake)["certificates"]
    assert find(fake, known) == (None, ["list_certificates"])
    arn, ops = find(fake, known, check_mode=False)
    assert ops.count("request_certificate") == 1 and arn
    # the stale hint (no certificate) on the next run: the host's own listing finds the one made
    assert find(fake, known, check_mode=False)[0] == arn
    assert fake.ops().count("request_certificate") == 0


def test_a_hint_from_another_account_falls_back_to_the_hosts_own_certificate():
    theirs = FakeAcm()
    theirs.add("links.example.com")
    known = shared(acm=theirs)["certificates"]
    mine = FakeAcm()  # another account: its DescribeCertificate does not know their ARN
    own = mine.add("links.example.com")
    assert own != known[0]["CertificateArn"]
    found, ops = find(mine, known)
    assert found == own
    assert ops == ["describe_certificate", "list_certificates", "describe_certificate"]
    assert not [op for op in ops if op == "request_certificate"]


def test_a_hint_these_credentials_may_not_read_falls_back():
    fake = FakeAcm()
    arn = fake.add("links.example.com")
    known = shared(acm=fake)["certificates"]
    fake.errors["describe_certificate"] = [client_error("AccessDeniedException")]
    found, ops = find(fake, known)
    assert found == arn
    assert ops == ["describe_certificate", "list_certificates", "describe_certificate"]


def test_other_errors_on_the_hinted_certificate_still_fail():
    fake = FakeAcm()
    fake.add("links.example.com")
    known = shared(acm=fake)["certificates"]
    fake.errors["describe_certificate"] = [client_error("ValidationException")]
    with pytest.raises(Exception) as caught:
        find(fake, known)
    assert "ValidationException" in str(caught.value)


@pytest.mark.parametrize("tagged", [0, 1, None])
def test_several_certificates_for_one_name_pick_the_same_one_with_or_without_the_hint(tagged):
    fake = FakeAcm()
    arns = [fake.add("links.example.com", created=NOW - datetime.timedelta(days=days),
                     tags=MANAGED if index == tagged else None)
            for index, days in enumerate((5, 90, 40))]
    fake.add("links.example.com", key="EC_prime256v1", created=NOW - datetime.timedelta(days=400))
    without, _ops = find(fake)
    known = shared(acm=fake)["certificates"]
    with_hint, ops = find(fake, known)
    assert with_hint == without == (arns[tagged] if tagged is not None else arns[1])
    assert "list_certificates" not in ops


def test_the_hint_keeps_to_the_key_algorithm_asked_for():
    fake = FakeAcm()
    rsa = fake.add("links.example.com")
    ec = fake.add("links.example.com", key="EC_prime256v1")
    known = shared(acm=fake)["certificates"]
    assert find(fake, known)[0] == rsa
    assert find(fake, known, key_algorithm="EC_prime256v1") == (ec, ["describe_certificate"])


def test_known_certificates_that_are_not_summaries_name_the_option():
    result = acm_run_module(params(known_certificates=[{"DomainName": "links.example.com"}]),
                            client_factory=lambda service: FakeAcm())
    assert result["failed"] and result["msg"].startswith("known_certificates:")


# --------------------------------------------------------------------------
# Route 53: the hint
# --------------------------------------------------------------------------


def _zones():
    fake = ZonesRoute53()
    fake.add_zone("example.com", "ZPARENT")
    fake.add_zone("links.example.com", "ZLINKS")
    fake.add_zone("links.example.com", "ZPRIVATE", private=True)
    fake.add_zone("example.org", "ZORG")
    return fake


def test_a_known_zone_costs_one_record_listing_and_picks_the_longest_public_match():
    fake = _zones()
    known = shared(route53=fake)["zones"]
    without, ops_without = zone_read(fake)
    with_hint, ops = zone_read(fake, known)
    assert (with_hint.hosted_zone_id, with_hint.zone) == (without.hosted_zone_id, without.zone) == ("ZLINKS", "links.example.com")
    assert ops_without == ["list_hosted_zones_by_name", "list_resource_record_sets"]
    assert ops == ["list_resource_record_sets"]
    assert with_hint.snapshot == without.snapshot


def test_a_zone_the_hint_lacks_is_looked_up_on_its_own():
    fake = ZonesRoute53()
    fake.add_zone("example.com", "ZPARENT")
    known = [{"id": "ZORG", "name": "example.org", "private": False}]
    result, ops = zone_read(fake, known)
    assert result.hosted_zone_id == "ZPARENT"
    assert ops == ["list_hosted_zones_by_name", "list_resource_record_sets"]


def test_a_zone_of_another_account_falls_back_to_the_hosts_own_zone():
    theirs = _zones()
    known = shared(route53=theirs)["zones"]
    mine = ZonesRoute53()
    mine.add_zone("example.com", "ZMINE")  # this account has only the parent zone
    result, ops = zone_read(mine, known)
    assert (result.hosted_zone_id, result.zone) == ("ZMINE", "example.com")
    assert ops == ["list_resource_record_sets", "list_hosted_zones_by_name", "list_resource_record_sets"]


def test_access_denied_on_the_known_zone_falls_back():
    fake = _zones()
    known = shared(route53=fake)["zones"]
    fake.errors["list_resource_record_sets"] = [client_error("AccessDenied", status=403)]
    result, ops = zone_read(fake, known)
    assert result.hosted_zone_id == "ZLINKS"
    assert ops == ["list_resource_record_sets", "list_hosted_zones_by_name", "list_resource_record_sets"]


def test_a_given_zone_or_zone_id_wins_over_the_hint():
    fake = _zones()
    known = shared(route53=fake)["zones"]
    result, ops = zone_read(fake, known, zone="example.com")
    assert result.hosted_zone_id == "ZPARENT" and ops[0] == "list_hosted_zones_by_name"
    result, ops = zone_read(fake, known, hosted_zone_id="ZPARENT")
    assert result.hosted_zone_id == "ZPARENT" and ops[0] == "get_hosted_zone"


def test_two_public_zones_of_one_name_are_left_to_the_own_listing_which_refuses():
    fake = _zones()
    fake.add_zone("links.example.com", "ZLINKS2")
    known = shared(route53=fake)["zones"]
    with pytest.raises(LinktrackError) as caught:
        zone_read(fake, known)
    assert caught.value.field == "hosted_zone_id"
    assert [op for op, _kw in fake.calls] == ["list_hosted_zones_by_name"]


def test_a_write_after_a_known_zone_read_goes_to_that_zone():
    fake = _zones()
    known = shared(route53=fake)["zones"]
    fake.calls = []
    caller = AwsCaller(clock=FakeClock())
    request = Request([cname("x.links.example.com", DIST)], known_zones=known, wait=False)
    result = Route53Records(fake, caller, clock=FakeClock()).run(request, check_mode=False)
    assert result.hosted_zone_id == "ZLINKS"
    assert [op for op, _kw in fake.calls] == ["list_resource_record_sets", "change_resource_record_sets"]
    assert fake.rrsets("ZLINKS", "x.links.example.com")[0]["ResourceRecords"] == [{"Value": DIST}]


def test_known_zones_that_are_not_zones_name_the_option():
    with pytest.raises(LinktrackError) as caught:
        Request([cname("links.example.com", DIST)], known_zones=[{"name": "example.com"}])
    assert caught.value.field == "known_zones"


def test_the_scope_comes_back_unchanged_so_hosts_with_other_credentials_can_tell():
    fake = FakeAcm()
    assert shared(acm=fake, scope="abc123")["scope"] == "abc123"
    assert shared(acm=fake)["scope"] == ""
