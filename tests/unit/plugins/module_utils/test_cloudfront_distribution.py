# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LinkDistribution against a fake CloudFront client.

The fake covers what the emulator cannot do: deployments that stay InProgress,
stale ETags, CNAMEAlreadyExists, throttling, and it records every request so
the request budget and "check mode writes nothing" can be asserted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import random

import pytest
from botocore.exceptions import ClientError

from ansible_collections.linktrack.https.plugins.module_utils._common import AwsCaller, LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._cloudfront import (
    DistributionSpec,
    LinkDistribution,
    desired_config,
)
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock, client_error

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f2c5a4e-1111-2222-3333-444455556666"
WRITES = frozenset(["create_distribution_with_tags", "update_distribution", "delete_distribution",
                    "tag_resource", "untag_resource"])


class FakeCloudFront:
    """Just enough of CloudFront. ``deploy_after``: GetDistribution calls before InProgress turns Deployed."""

    def __init__(self, deploy_after=0, page_size=100):
        self.dists = {}
        self.order = []
        self.calls = []
        self.faults = {}
        self.deploy_after = deploy_after
        self.page_size = page_size
        self.hidden_from_list = set()
        self.counter = 0

    # -- helpers -----------------------------------------------------------

    def fail_next(self, method, *errors):
        self.faults.setdefault(method, []).extend(errors)

    def _enter(self, name, kwargs):
        self.calls.append((name, kwargs))
        pending = self.faults.get(name)
        if pending:
            fault = pending.pop(0)
            raise fault() if callable(fault) else fault

    def names(self):
        return [name for name, _kwargs in self.calls]

    def writes(self):
        return [name for name in self.names() if name in WRITES]

    def _new_etag(self):
        self.counter += 1
        return "ETAG%d" % self.counter

    def add(self, config, status="Deployed", tags=None, dist_id=None):
        """Put a distribution in place, as another run or a person made it."""
        self.counter += 1
        dist_id = dist_id or "E%012d" % self.counter
        self.dists[dist_id] = {
            "Id": dist_id,
            "ARN": "arn:aws:cloudfront::123456789012:distribution/%s" % dist_id,
            "DomainName": "d%012d.cloudfront.net" % self.counter,
            "Status": status,
            "polls": 0,
            "config": copy.deepcopy(config),
            "etag": self._new_etag(),
            "tags": dict(tags or {}),
        }
        self.order.append(dist_id)
        return dist_id

    def _dist(self, dist_id):
        if dist_id not in self.dists:
            raise client_error("NoSuchDistribution", "The specified distribution does not exist.", 404)
        return self.dists[dist_id]

    def _view(self, d):
        return {"Id": d["Id"], "ARN": d["ARN"], "DomainName": d["DomainName"], "Status": d["Status"],
                "DistributionConfig": copy.deepcopy(d["config"])}

    def _alias_owner(self, aliases, except_id=None):
        for other in self.dists.values():
            if other["Id"] != except_id and set(aliases) & set(other["config"]["Aliases"].get("Items", [])):
                return other
        return None

    # -- the API -----------------------------------------------------------

    def list_distributions(self, **kwargs):
        self._enter("list_distributions", kwargs)
        size = int(kwargs.get("MaxItems", self.page_size))
        ids = [i for i in self.order if i not in self.hidden_from_list]
        start = ids.index(kwargs["Marker"]) + 1 if kwargs.get("Marker") else 0
        page = ids[start:start + size]
        truncated = start + size < len(ids)
        items = []
        for dist_id in page:
            d = self.dists[dist_id]
            items.append({"Id": d["Id"], "ARN": d["ARN"], "DomainName": d["DomainName"], "Status": d["Status"],
                          "Aliases": copy.deepcopy(d["config"]["Aliases"]), "Enabled": d["config"]["Enabled"]})
        result = {"Quantity": len(items), "IsTruncated": truncated, "Marker": kwargs.get("Marker", "")}
        if items:
            result["Items"] = items
        if truncated:
            result["NextMarker"] = page[-1]
        return {"DistributionList": result}

    def get_distribution_config(self, **kwargs):
        self._enter("get_distribution_config", kwargs)
        d = self._dist(kwargs["Id"])
        return {"DistributionConfig": copy.deepcopy(d["config"]), "ETag": d["etag"]}

    def get_distribution(self, **kwargs):
        self._enter("get_distribution", kwargs)
        d = self._dist(kwargs["Id"])
        if d["Status"] == "InProgress":
            d["polls"] += 1
            if d["polls"] > self.deploy_after:
                d["Status"] = "Deployed"
        return {"Distribution": self._view(d), "ETag": d["etag"]}

    def create_distribution_with_tags(self, **kwargs):
        self._enter("create_distribution_with_tags", kwargs)
        config = kwargs["DistributionConfigWithTags"]["DistributionConfig"]
        for d in self.dists.values():
            if d["config"]["CallerReference"] == config["CallerReference"]:
                raise client_error("DistributionAlreadyExists", "The caller reference that you are using to "
                                   "create a distribution is associated with another distribution.", 409)
        if self._alias_owner(config["Aliases"]["Items"]):
            raise client_error("CNAMEAlreadyExists", "One or more of the CNAMEs you provided are already "
                               "associated with a different resource.", 409)
        tags = dict((t["Key"], t["Value"]) for t in kwargs["DistributionConfigWithTags"]["Tags"]["Items"])
        dist_id = self.add(config, status="InProgress", tags=tags)
        d = self.dists[dist_id]
        return {"Distribution": self._view(d), "ETag": d["etag"]}

    def update_distribution(self, **kwargs):
        self._enter("update_distribution", kwargs)
        d = self._dist(kwargs["Id"])
        if kwargs["IfMatch"] != d["etag"]:
            raise client_error("PreconditionFailed", "The precondition given in one or more of the "
                               "request-header fields evaluated to false.", 412)
        config = kwargs["DistributionConfig"]
        if config["CallerReference"] != d["config"]["CallerReference"]:
            raise client_error("IllegalUpdate", "CallerReference cannot change", 400)
        if self._alias_owner(config["Aliases"].get("Items", []), except_id=d["Id"]):
            raise client_error("CNAMEAlreadyExists", "already associated", 409)
        d["config"] = copy.deepcopy(config)
        d["etag"] = self._new_etag()
        d["Status"] = "InProgress"
        d["polls"] = 0
        return {"Distribution": self._view(d), "ETag": d["etag"]}

    def delete_distribution(self, **kwargs):
        self._enter("delete_distribution", kwargs)
        d = self._dist(kwargs["Id"])
        if kwargs["IfMatch"] != d["etag"]:
            raise client_error("PreconditionFailed", "stale", 412)
        if d["config"]["Enabled"] or d["Status"] != "Deployed":
            raise client_error("DistributionNotDisabled", "not disabled", 409)
        del self.dists[d["Id"]]
        self.order.remove(d["Id"])

    def list_tags_for_resource(self, **kwargs):
        self._enter("list_tags_for_resource", kwargs)
        for d in self.dists.values():
            if d["ARN"] == kwargs["Resource"]:
                return {"Tags": {"Items": [{"Key": k, "Value": v} for k, v in sorted(d["tags"].items())]}}
        raise client_error("NoSuchResource", "no", 404)

    def tag_resource(self, **kwargs):
        self._enter("tag_resource", kwargs)
        for d in self.dists.values():
            if d["ARN"] == kwargs["Resource"]:
                d["tags"].update((t["Key"], t["Value"]) for t in kwargs["Tags"]["Items"])

    def untag_resource(self, **kwargs):
        self._enter("untag_resource", kwargs)
        for d in self.dists.values():
            if d["ARN"] == kwargs["Resource"]:
                for key in kwargs["TagKeys"]["Items"]:
                    d["tags"].pop(key, None)


def spec(**kwargs):
    params = {"domain_name": "links.example.com", "certificate_arn": ARN}
    params.update(kwargs)
    return DistributionSpec.from_params(params)


@pytest.fixture
def clock():
    return FakeClock(1000.0)


@pytest.fixture
def fake():
    return FakeCloudFront()


def make(fake, clock, **kwargs):
    caller = AwsCaller(clock=clock, rng=random.Random(7))
    return LinkDistribution(fake, caller, clock=clock, **kwargs), caller


def managed(config):
    return {"linktrack.https:managed": "true"}


# --------------------------------------------------------------------------
# Create, no-op, request budget
# --------------------------------------------------------------------------


def test_create_then_noop_rerun_is_two_requests(fake, clock):
    ld, _caller = make(fake, clock)
    first = ld.run(spec(tags={"team": "crm"}))
    assert first["changed"] is True and first["created"] is True
    assert fake.names() == ["list_distributions", "create_distribution_with_tags"]
    sent = fake.calls[1][1]["DistributionConfigWithTags"]
    assert sent["DistributionConfig"] == desired_config(spec())
    assert sent["Tags"]["Items"] == [{"Key": "linktrack.https:managed", "Value": "true"},
                                     {"Key": "team", "Value": "crm"}]
    assert first["domain_name"].endswith(".cloudfront.net")
    assert first["aliases"] == ["links.example.com"]
    assert first["origin_domain"] == "links.iterable.com"
    assert first["status"] == "InProgress"

    fake.calls = []
    again = ld.run(spec())
    assert again["changed"] is False
    assert again["differences"] == []
    assert fake.names() == ["list_distributions", "get_distribution_config"]
    assert again["id"] == first["id"]


def test_create_differences_list_every_owned_field(fake, clock):
    ld, _caller = make(fake, clock)
    result = ld.run(spec())
    fields = [d["field"] for d in result["differences"]]
    assert "Origin.CustomOriginConfig.OriginSslProtocols" in fields
    assert all(d["before"] is None for d in result["differences"])
    assert {"field": "ViewerCertificate.ACMCertificateArn", "before": None, "after": ARN} in result["differences"]


# --------------------------------------------------------------------------
# Drift
# --------------------------------------------------------------------------


def drifted(fake):
    config = desired_config(spec())
    config["DefaultCacheBehavior"]["Compress"] = False
    config["PriceClass"] = "PriceClass_100"
    return fake.add(config, tags={"linktrack.https:managed": "true"})


def test_drift_is_repaired_with_fresh_etag_and_reported(fake, clock):
    dist_id = drifted(fake)
    ld, _caller = make(fake, clock)
    result = ld.run(spec())
    assert result["changed"] is True
    assert result["differences"] == [
        {"field": "DefaultCacheBehavior.Compress", "before": False, "after": True},
        {"field": "PriceClass", "before": "PriceClass_100", "after": "PriceClass_All"},
    ]
    assert fake.names() == ["list_distributions", "get_distribution_config", "update_distribution"]
    assert fake.calls[2][1]["IfMatch"] == "ETAG2"
    assert fake.dists[dist_id]["config"]["DefaultCacheBehavior"]["Compress"] is True
    assert result["diff"] == {"before": {"DefaultCacheBehavior.Compress": False, "PriceClass": "PriceClass_100"},
                              "after": {"DefaultCacheBehavior.Compress": True, "PriceClass": "PriceClass_All"}}
    fake.calls = []
    assert ld.run(spec())["changed"] is False


def test_check_mode_reports_the_same_and_writes_nothing(fake, clock):
    drifted(fake)
    ld, _caller = make(fake, clock)
    checked = ld.run(spec(), check_mode=True)
    assert fake.writes() == []
    real = ld.run(spec())
    assert checked["changed"] is real["changed"] is True
    assert checked["differences"] == real["differences"]


def test_check_mode_create_and_absent_write_nothing(fake, clock):
    ld, _caller = make(fake, clock)
    created = ld.run(spec(), check_mode=True)
    assert created["changed"] is True and created["id"] is None
    assert fake.dists == {} and fake.writes() == []
    dist_id = fake.add(desired_config(spec()), tags={"linktrack.https:managed": "true"})
    gone = ld.run(spec(state="absent"), check_mode=True)
    assert gone["changed"] is True
    assert gone["differences"] == [{"field": "Enabled", "before": True, "after": False},
                                   {"field": "Distribution", "before": dist_id, "after": None}]
    assert fake.writes() == [] and dist_id in fake.dists


def test_precondition_failed_once_refetches_and_retries(fake, clock):
    dist_id = drifted(fake)
    fake.fail_next("update_distribution", client_error("PreconditionFailed", "stale", 412))
    ld, _caller = make(fake, clock)
    result = ld.run(spec())
    assert result["changed"] is True
    assert fake.names() == ["list_distributions", "get_distribution_config", "update_distribution",
                            "get_distribution_config", "update_distribution"]
    assert fake.dists[dist_id]["config"]["PriceClass"] == "PriceClass_All"


def test_precondition_failed_where_someone_else_repaired_it(fake, clock):
    dist_id = drifted(fake)
    ld, _caller = make(fake, clock)

    def repaired_by_someone_else():
        fake.dists[dist_id]["config"] = desired_config(spec())
        fake.dists[dist_id]["etag"] = "OTHER"
        return client_error("PreconditionFailed", "stale", 412)

    fake.fail_next("update_distribution", repaired_by_someone_else)
    result = ld.run(spec())
    assert fake.names().count("update_distribution") == 1
    assert result["changed"] is False


def test_stale_etag_forever_gives_up_after_bounded_attempts(fake, clock):
    drifted(fake)
    fake.fail_next("update_distribution", *[client_error("PreconditionFailed", "stale", 412) for _n in range(10)])
    ld, _caller = make(fake, clock, update_attempts=3)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec())
    assert fake.names().count("update_distribution") == 3
    assert "stale ETags" in info.value.message


def test_throttling_then_success_counts_retries(fake, clock):
    fake.add(desired_config(spec()))
    fake.fail_next("list_distributions", client_error("Throttling", "Rate exceeded", 400),
                   client_error("Throttling", "Rate exceeded", 400))
    ld, caller = make(fake, clock)
    result = ld.run(spec())
    assert result["changed"] is False
    assert caller.retries == 2
    assert fake.names() == ["list_distributions"] * 3 + ["get_distribution_config"]
    assert len(clock.sleeps) == 2


def test_paging_finds_the_alias_past_the_first_page_in_any_case(fake, clock):
    for n in range(7):
        other = desired_config(spec(domain_name="links%d.example.com" % n))
        fake.add(other)
    mine = desired_config(spec())
    mine["Aliases"]["Items"] = ["LINKS.Example.com"]
    dist_id = fake.add(mine)
    ld, _caller = make(fake, clock, page_size=3)
    result = ld.run(spec())
    assert result["id"] == dist_id and result["changed"] is False
    lists = [kw for name, kw in fake.calls if name == "list_distributions"]
    assert [kw.get("Marker") for kw in lists] == [None, "E000000000005", "E000000000011"]
    assert all(kw["MaxItems"] == "3" for kw in lists)


def test_every_page_is_scanned_and_duplicates_are_refused(fake, clock):
    first = fake.add(desired_config(spec()))
    for n in range(4):
        fake.add(desired_config(spec(domain_name="links%d.example.com" % n)))
    second = fake.add(desired_config(spec(comment="dup")))
    ld, _caller = make(fake, clock, page_size=2)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec())
    assert first in info.value.message and second in info.value.message
    assert info.value.field == "domain_name"
    assert fake.writes() == []


# --------------------------------------------------------------------------
# One distribution per alias
# --------------------------------------------------------------------------


def test_cname_already_exists_on_create_changes_nothing(fake, clock):
    fake.fail_next("create_distribution_with_tags",
                   client_error("CNAMEAlreadyExists", "One or more of the CNAMEs you provided are already "
                                "associated with a different resource.", 409))
    ld, _caller = make(fake, clock)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec())
    assert info.value.field == "domain_name"
    assert "another AWS account" in info.value.message
    assert "Nothing was changed" in info.value.message
    assert fake.dists == {}


def test_alias_on_another_distribution_is_named_and_nothing_changes(fake, clock):
    other = fake.add(desired_config(spec()))
    config = desired_config(spec(domain_name="old.example.com"))
    config["CallerReference"] = "by-hand"
    mine = fake.add(config)
    ld, _caller = make(fake, clock)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec(distribution_id=mine))
    assert other in info.value.message and fake.dists[other]["DomainName"] in info.value.message
    assert info.value.details["conflicting_distribution"] == other
    assert fake.writes() == []


def test_cname_already_exists_on_update_names_the_owner_when_visible(fake, clock):
    config = desired_config(spec(domain_name="old.example.com"))
    config["CallerReference"] = "by-hand"
    mine = fake.add(config)
    ld, _caller = make(fake, clock)
    # the alias appears on another distribution between our check and our update
    original = fake.update_distribution

    def racing_update(**kwargs):
        fake.update_distribution = original
        fake.add(desired_config(spec(comment="racer")), dist_id="ERACER")
        return original(**kwargs)

    fake.update_distribution = racing_update
    with pytest.raises(LinktrackError) as info:
        ld.run(spec(distribution_id=mine))
    assert "ERACER" in info.value.message
    assert fake.dists[mine]["config"]["Aliases"]["Items"] == ["old.example.com"]


def test_cname_held_by_another_account_is_named_from_list_conflicting_aliases(fake, clock):
    config = desired_config(spec(domain_name="old.example.com"))
    config["CallerReference"] = "by-hand"
    mine = fake.add(config)
    fake.fail_next("update_distribution", client_error("CNAMEAlreadyExists", "already associated", 409))

    def list_conflicting_aliases(**kwargs):
        fake.calls.append(("list_conflicting_aliases", kwargs))
        return {"ConflictingAliasesList": {"Quantity": 1, "Items": [
            {"Alias": "links.example.com", "DistributionId": "*******ABCDEF", "AccountId": "******345678"}]}}

    fake.list_conflicting_aliases = list_conflicting_aliases
    ld, _caller = make(fake, clock)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec(distribution_id=mine))
    assert "*******ABCDEF" in info.value.message and "******345678" in info.value.message
    assert ("list_conflicting_aliases", {"DistributionId": mine, "Alias": "links.example.com"}) in fake.calls


def test_retried_create_finds_the_first_distribution(fake, clock):
    """The create went through but its answer was lost, and the listing does not show it yet."""
    existing = fake.add(desired_config(spec()), status="InProgress", tags={"linktrack.https:managed": "true"})
    fake.hidden_from_list.add(existing)
    ld, _caller = make(fake, clock)

    calls = {"n": 0}
    original = fake.list_distributions

    def list_once_hidden(**kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            fake.hidden_from_list.discard(existing)
        return original(**kwargs)

    fake.list_distributions = list_once_hidden
    result = ld.run(spec())
    assert result["id"] == existing
    assert len(fake.dists) == 1
    assert fake.names().count("create_distribution_with_tags") == 1
    assert result["changed"] is False


def test_caller_reference_of_a_deleted_distribution_moves_on_deterministically(fake, clock):
    old = desired_config(spec(domain_name="renamed.example.com"))
    old["CallerReference"] = spec().caller_reference
    fake.add(old)
    ld, _caller = make(fake, clock)
    result = ld.run(spec())
    assert result["created"] is True
    refs = [kw["DistributionConfigWithTags"]["DistributionConfig"]["CallerReference"]
            for name, kw in fake.calls if name == "create_distribution_with_tags"]
    base = "linktrack.https:links.example.com:0f2c5a4e-1111-2222-3333-444455556666"
    assert refs == [base, base + "#2"]


def test_emulator_already_exists_message_id_is_adopted(fake, clock):
    old = desired_config(spec())
    old["Aliases"] = {"Quantity": 0}
    dist_id = fake.add(old)
    original = fake.create_distribution_with_tags

    def moto_style(**kwargs):
        try:
            return original(**kwargs)
        except ClientError as exc:
            raise client_error("DistributionAlreadyExists", str(exc) + " Already exists: %s" % dist_id, 409)

    fake.create_distribution_with_tags = moto_style
    ld, _caller = make(fake, clock)
    result = ld.run(spec())
    assert result["id"] == dist_id and len(fake.dists) == 1
    assert result["differences"] == [{"field": "Aliases", "before": [], "after": ["links.example.com"]}]
    assert fake.dists[dist_id]["config"]["Aliases"]["Items"] == ["links.example.com"]


# --------------------------------------------------------------------------
# Waiting
# --------------------------------------------------------------------------


def test_wait_polls_in_progress_several_times_with_growing_intervals(clock):
    fake = FakeCloudFront(deploy_after=4)
    ld, _caller = make(fake, clock)
    result = ld.run(spec(wait=True))
    assert result["status"] == "Deployed"
    assert fake.names().count("get_distribution") == 5
    assert clock.sleeps == sorted(clock.sleeps) and clock.sleeps[0] == 5.0 and clock.sleeps[-1] > clock.sleeps[0]
    assert len(set(clock.sleeps)) == 4
    assert result["waited_seconds"] == pytest.approx(sum(clock.sleeps))


def test_wait_intervals_are_capped(clock):
    fake = FakeCloudFront(deploy_after=40)
    ld, _caller = make(fake, clock)
    ld.run(spec(wait=True))
    assert max(clock.sleeps) == 60.0


def test_wait_timeout_fails_naming_the_distribution(clock):
    fake = FakeCloudFront(deploy_after=10 ** 6)
    ld, _caller = make(fake, clock)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec(wait=True, wait_timeout=300))
    dist_id = fake.order[0]
    assert dist_id in info.value.message and "Deployed" in info.value.message
    assert info.value.details["waited_seconds"] == pytest.approx(300)
    # the create happened: the failure must still report it
    assert ld.written["changed"] is True and ld.written["id"] == dist_id


def test_nothing_written_means_nothing_reported(fake, clock):
    fake.add(desired_config(spec()))
    ld, _caller = make(fake, clock)
    ld.run(spec())
    assert ld.written == {}


def test_wait_false_returns_at_once_and_a_later_wait_only_waits(clock):
    fake = FakeCloudFront(deploy_after=2)
    ld, _caller = make(fake, clock)
    first = ld.run(spec(wait=False))
    assert first["status"] == "InProgress" and "get_distribution" not in fake.names()
    assert clock.sleeps == []
    fake.calls = []
    later = ld.run(spec(wait=True))
    assert later["changed"] is False and later["status"] == "Deployed"
    assert fake.writes() == []
    assert fake.names() == ["list_distributions", "get_distribution_config"] + ["get_distribution"] * 3
    assert later["waited_seconds"] > 0


def test_deployed_distribution_needs_no_poll(fake, clock):
    fake.add(desired_config(spec()))
    ld, _caller = make(fake, clock)
    result = ld.run(spec(wait=True))
    assert "get_distribution" not in fake.names() and result["waited_seconds"] == 0


# --------------------------------------------------------------------------
# Tags
# --------------------------------------------------------------------------


def test_tags_are_read_only_when_given_and_then_set(fake, clock):
    dist_id = fake.add(desired_config(spec()), tags={"linktrack.https:managed": "true", "old": "1"})
    ld, _caller = make(fake, clock)
    ld.run(spec())
    assert "list_tags_for_resource" not in fake.names()
    result = ld.run(spec(tags={"team": "crm"}, purge_tags=True))
    assert result["differences"] == [{"field": "Tags.team", "before": None, "after": "crm"},
                                     {"field": "Tags.old", "before": "1", "after": None}]
    assert fake.dists[dist_id]["tags"] == {"linktrack.https:managed": "true", "team": "crm"}
    assert ld.run(spec(tags={"team": "crm"}, purge_tags=True))["changed"] is False


# --------------------------------------------------------------------------
# Absent
# --------------------------------------------------------------------------


def test_absent_disables_waits_and_deletes_with_fresh_etag(clock):
    fake = FakeCloudFront(deploy_after=2)
    dist_id = fake.add(desired_config(spec()), tags={"linktrack.https:managed": "true"})
    ld, _caller = make(fake, clock)
    result = ld.run(spec(state="absent"))
    assert result["changed"] is True and result["status"] == "Deleted"
    assert fake.dists == {}
    # the delete takes the ETag of the disable's answer (kept by the polls): no read in between
    assert fake.names() == ["list_distributions", "get_distribution_config", "list_tags_for_resource",
                            "update_distribution", "get_distribution", "get_distribution", "get_distribution",
                            "delete_distribution"]
    update = fake.calls[3][1]
    assert update["DistributionConfig"]["Enabled"] is False
    delete = fake.calls[-1][1]
    assert delete == {"Id": dist_id, "IfMatch": "ETAG3"}
    assert result["waited_seconds"] > 0


def test_absent_when_absent_is_unchanged(fake, clock):
    ld, _caller = make(fake, clock)
    result = ld.run(spec(state="absent"))
    assert result["changed"] is False and fake.names() == ["list_distributions"]


def test_absent_refuses_untagged_unless_forced(fake, clock):
    dist_id = fake.add(desired_config(spec()))
    ld, _caller = make(fake, clock)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec(state="absent"))
    assert info.value.field == "force" and dist_id in info.value.message
    assert fake.writes() == []
    fake.calls = []
    ld.run(spec(state="absent", force=True))
    assert dist_id not in fake.dists
    assert "list_tags_for_resource" not in fake.names()


def test_absent_of_disabled_distribution_deletes_straight_away(fake, clock):
    config = desired_config(spec())
    config["Enabled"] = False
    fake.add(config, tags={"linktrack.https:managed": "true"})
    fake.fail_next("delete_distribution", client_error("PreconditionFailed", "stale", 412))
    ld, _caller = make(fake, clock)
    result = ld.run(spec(state="absent"))
    assert result["differences"][0]["field"] == "Distribution"
    assert "update_distribution" not in fake.names()
    assert fake.names().count("delete_distribution") == 2 and fake.dists == {}


def test_absent_by_unknown_distribution_id_is_unchanged(fake, clock):
    ld, _caller = make(fake, clock)
    assert ld.run(spec(state="absent", distribution_id="ENOPE"))["changed"] is False


def test_present_with_unknown_distribution_id_fails_naming_it(fake, clock):
    ld, _caller = make(fake, clock)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec(distribution_id="ENOPE"))
    assert info.value.field == "distribution_id" and "ENOPE" in info.value.message


def test_invalid_viewer_certificate_names_certificate_arn(fake, clock):
    fake.fail_next("create_distribution_with_tags",
                   client_error("InvalidViewerCertificate", "The specified SSL certificate doesn't exist", 400))
    ld, _caller = make(fake, clock)
    with pytest.raises(LinktrackError) as info:
        ld.run(spec())
    assert info.value.field == "certificate_arn"


# --------------------------------------------------------------------------
# candidate_distributions: the certificate's InUseBy read with one request
# --------------------------------------------------------------------------


def dist_arn(dist_id):
    return "arn:aws:cloudfront::123456789012:distribution/%s" % dist_id


def test_candidate_carrying_the_alias_is_one_get_distribution(fake, clock):
    ld, _caller = make(fake, clock)
    first = ld.run(spec())
    fake.dists[first["id"]]["Status"] = "Deployed"
    fake.calls = []
    again = ld.run(spec(candidate_distributions=[dist_arn(first["id"])]))
    assert fake.names() == ["get_distribution"]
    assert again["changed"] is False and again["differences"] == []
    assert again["id"] == first["id"] and again["status"] == "Deployed"
    assert again["aliases"] == ["links.example.com"]


def test_candidate_path_still_repairs_drift_with_its_etag(fake, clock):
    ld, _caller = make(fake, clock)
    first = ld.run(spec())
    fake.dists[first["id"]]["config"]["PriceClass"] = "PriceClass_100"
    fake.dists[first["id"]]["etag"] = "ETAG-DRIFT"
    fake.calls = []
    again = ld.run(spec(candidate_distributions=[first["id"]]))
    assert fake.names() == ["get_distribution", "update_distribution"]
    assert fake.calls[1][1]["IfMatch"] == "ETAG-DRIFT"
    assert again["changed"] is True
    assert [d["field"] for d in again["differences"]] == ["PriceClass"]


def test_candidate_without_the_alias_or_gone_falls_back_to_the_listing(fake, clock):
    ld, _caller = make(fake, clock)
    mine = ld.run(spec())["id"]
    other = desired_config(spec(domain_name="other.example.com"))
    other_id = fake.add(other)
    fake.calls = []
    found = ld.run(spec(candidate_distributions=[dist_arn(other_id)]))
    assert fake.names() == ["get_distribution", "list_distributions", "get_distribution_config"]
    assert found["id"] == mine and found["changed"] is False

    fake.calls = []
    found = ld.run(spec(candidate_distributions=[dist_arn("EGONE0000000")]))
    assert fake.names() == ["get_distribution", "list_distributions", "get_distribution_config"]
    assert found["id"] == mine


def test_several_or_foreign_candidates_are_not_read(fake, clock):
    ld, _caller = make(fake, clock)
    mine = ld.run(spec())["id"]
    two = [dist_arn(mine), dist_arn("E000000000099")]
    elb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
    for candidates in (two, [elb], []):
        fake.calls = []
        found = ld.run(spec(candidate_distributions=candidates))
        assert fake.names() == ["list_distributions", "get_distribution_config"], candidates
        assert found["id"] == mine
    # the ELB's ARN is left out, so the one distribution left is read directly
    fake.calls = []
    ld.run(spec(candidate_distributions=[elb, dist_arn(mine), mine]))
    assert fake.names() == ["get_distribution"]


def test_candidates_do_not_change_absent_or_distribution_id(fake, clock):
    ld, _caller = make(fake, clock)
    mine = ld.run(spec())["id"]
    fake.calls = []
    ld.run(spec(distribution_id=mine, candidate_distributions=[dist_arn("E000000000099")]))
    assert fake.names() == ["get_distribution"]
    assert fake.calls[0][1] == {"Id": mine}


def test_candidate_distributions_must_be_a_list():
    with pytest.raises(LinktrackError) as err:
        spec(candidate_distributions="E123")
    assert err.value.field == "candidate_distributions"
