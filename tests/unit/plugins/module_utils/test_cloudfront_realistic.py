# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LinkDistribution against a fake CloudFront that is as strict as AWS where the emulator was lax.

``StrictCloudFront`` adds to the fake of test_cloudfront_distribution:

* a CallerReference once sent is refused for ever, "regardless of the content",
  also after its distribution was deleted (DistributionConfig.CallerReference in
  the API reference; the message names the old id, aws-sdk-js-v3 #2618);
* a distribution is InProgress for ``deploy_seconds`` of the fake clock after
  every create and update, and DeleteDistribution needs it disabled and
  Deployed (DistributionNotDisabled);
* an alias held in another account gives CNAMEAlreadyExists, though no
  listing shows it;
* a certificate that is not ISSUED gives InvalidViewerCertificate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import random

import pytest

from ansible_collections.linktrack.https.plugins.module_utils import _cloudfront
from ansible_collections.linktrack.https.plugins.module_utils._common import AwsCaller, LinktrackError, Progress
from ansible_collections.linktrack.https.plugins.module_utils._cloudfront import (
    LinkDistribution,
    desired_config,
)
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock, client_error
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.test_cloudfront_distribution import (
    ARN,
    FakeCloudFront,
    spec,
)

WAF = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/links/7a1b2c3d"
MANAGED = {"linktrack.https:managed": "true"}


def cert(n):
    return "arn:aws:acm:us-east-1:123456789012:certificate/0000000%d-aaaa-bbbb-cccc-dddddddddddd" % n


class StrictCloudFront(FakeCloudFront):
    """The fake of test_cloudfront_distribution with AWS's stricter rules (see the module docstring)."""

    def __init__(self, clock, deploy_seconds=120.0, issued=None):
        super(StrictCloudFront, self).__init__()
        self.clock = clock
        self.deploy_seconds = deploy_seconds
        self.references = {}  # every CallerReference ever accepted -> distribution id
        self.foreign_aliases = set()  # aliases on distributions of another account
        self.issued = issued  # None: every certificate is ISSUED
        self.deleted = []

    def _deploying(self, d):
        d["Status"] = "InProgress"
        d["deployed_at"] = self.clock.now() + self.deploy_seconds

    def _status(self, d):
        if d["Status"] == "InProgress" and self.clock.now() >= d.get("deployed_at", 0):
            d["Status"] = "Deployed"
        return d["Status"]

    def _check_certificate(self, config):
        arn = (config.get("ViewerCertificate") or {}).get("ACMCertificateArn")
        if self.issued is not None and arn not in self.issued:
            raise client_error("InvalidViewerCertificate", "The specified SSL certificate doesn't exist, isn't in "
                               "us-east-1 region, isn't valid, or doesn't include a valid certificate chain.", 400)

    def _check_aliases(self, config, except_id=None):
        aliases = set(config["Aliases"].get("Items", []))
        if aliases & self.foreign_aliases or self._alias_owner(aliases, except_id=except_id):
            raise client_error("CNAMEAlreadyExists", "One or more of the CNAMEs you provided are already "
                               "associated with a different resource.", 409)

    def list_distributions(self, **kwargs):
        for d in self.dists.values():
            self._status(d)
        return super(StrictCloudFront, self).list_distributions(**kwargs)

    def get_distribution(self, **kwargs):
        self._enter("get_distribution", kwargs)
        d = self._dist(kwargs["Id"])
        self._status(d)
        return {"Distribution": self._view(d), "ETag": d["etag"]}

    def create_distribution_with_tags(self, **kwargs):
        self._enter("create_distribution_with_tags", kwargs)
        config = kwargs["DistributionConfigWithTags"]["DistributionConfig"]
        reference = config["CallerReference"]
        if reference in self.references:
            raise client_error("DistributionAlreadyExists", "The caller reference that you are using to create a "
                               "distribution is associated with another distribution. Already exists: %s"
                               % self.references[reference], 409)
        self._check_aliases(config)
        self._check_certificate(config)
        tags = dict((t["Key"], t["Value"]) for t in kwargs["DistributionConfigWithTags"]["Tags"]["Items"])
        dist_id = self.add(config, status="InProgress", tags=tags)
        self.references[reference] = dist_id
        d = self.dists[dist_id]
        self._deploying(d)
        return {"Distribution": self._view(d), "ETag": d["etag"]}

    def update_distribution(self, **kwargs):
        self._enter("update_distribution", kwargs)
        d = self._dist(kwargs["Id"])
        if kwargs["IfMatch"] != d["etag"]:
            raise client_error("PreconditionFailed", "The precondition given in one or more of the request-header "
                               "fields evaluated to false.", 412)
        config = kwargs["DistributionConfig"]
        if config["CallerReference"] != d["config"]["CallerReference"]:
            raise client_error("IllegalUpdate", "CallerReference cannot change", 400)
        self._check_aliases(config, except_id=d["Id"])
        self._check_certificate(config)
        d["config"] = copy.deepcopy(config)
        d["etag"] = self._new_etag()
        self._deploying(d)
        return {"Distribution": self._view(d), "ETag": d["etag"]}

    def delete_distribution(self, **kwargs):
        self._enter("delete_distribution", kwargs)
        d = self._dist(kwargs["Id"])
        if kwargs["IfMatch"] != d["etag"]:
            raise client_error("PreconditionFailed", "stale", 412)
        if d["config"]["Enabled"] or self._status(d) != "Deployed":
            raise client_error("DistributionNotDisabled", "The distribution you are trying to delete has not been "
                               "disabled.", 409)
        self.deleted.append(d["Id"])
        del self.dists[d["Id"]]
        self.order.remove(d["Id"])

    def list_conflicting_aliases(self, **kwargs):
        self.calls.append(("list_conflicting_aliases", kwargs))
        if kwargs["Alias"] in self.foreign_aliases:
            return {"ConflictingAliasesList": {"Quantity": 1, "Items": [
                {"Alias": kwargs["Alias"], "DistributionId": "*******ABCDEF", "AccountId": "******345678"}]}}
        return {"ConflictingAliasesList": {"Quantity": 0}}


@pytest.fixture
def clock():
    return FakeClock(1000.0)


@pytest.fixture
def fake(clock):
    return StrictCloudFront(clock)


def make(fake, clock, **kwargs):
    caller = AwsCaller(clock=clock, rng=random.Random(7))
    return LinkDistribution(fake, caller, clock=clock, **kwargs)


def creates(fake):
    return [kw["DistributionConfigWithTags"]["DistributionConfig"]["CallerReference"]
            for name, kw in fake.calls if name == "create_distribution_with_tags"]


# --------------------------------------------------------------------------
# CallerReference across setup and teardown cycles
# --------------------------------------------------------------------------


def test_six_setup_teardown_cycles_of_one_domain_make_one_distribution_each(fake, clock):
    """Each cycle has its own certificate (the teardown deletes it): one create each, nothing left after."""
    for n in range(1, 7):
        fake.calls = []
        made = make(fake, clock).run(spec(certificate_arn=cert(n), wait=True))
        assert made["created"] is True and made["status"] == "Deployed"
        assert len(creates(fake)) == 1 and len(fake.dists) == 1
        again = make(fake, clock).run(spec(certificate_arn=cert(n)))
        assert again["changed"] is False and again["id"] == made["id"]
        gone = make(fake, clock).run(spec(state="absent"))
        assert gone["status"] == "Deleted" and fake.dists == {}
    assert len(fake.deleted) == 6 and len(set(fake.references)) == 6


def test_six_cycles_with_one_kept_certificate_move_along_the_reference_sequence(fake, clock):
    """A certificate kept across teardowns: the sequence goes on past references of deleted distributions."""
    for _cycle in range(6):
        made = make(fake, clock).run(spec(wait=True))
        assert made["created"] is True
        make(fake, clock).run(spec(state="absent"))
    base = spec().caller_reference
    assert sorted(fake.references) == sorted([base] + ["%s#%d" % (base, n) for n in range(2, 7)])
    assert fake.dists == {}


def test_retried_create_of_the_same_cycle_adopts_the_first_distribution(fake, clock):
    """The first create went through but its answer was lost and ListDistributions does not show it yet."""
    first = make(fake, clock).run(spec())
    fake.hidden_from_list.add(first["id"])
    fake.calls = []
    second = make(fake, clock).run(spec())
    assert second["id"] == first["id"] and second["created"] is False
    assert len(fake.dists) == 1 and creates(fake) == [spec().caller_reference]


# --------------------------------------------------------------------------
# InProgress, ETags and the delete
# --------------------------------------------------------------------------


def test_delete_waits_for_deployed_and_uses_the_etag_of_the_disable(fake, clock):
    dist_id = fake.add(desired_config(spec()), tags=MANAGED)
    ld = make(fake, clock)
    result = ld.run(spec(state="absent"))
    assert result["status"] == "Deleted" and fake.dists == {}
    names = fake.names()
    update = names.index("update_distribution")
    disable_etag = "ETAG3"
    assert fake.calls[names.index("delete_distribution")][1] == {"Id": dist_id, "IfMatch": disable_etag}
    # nothing but polls between the disable and the delete, and the delete after Deployed
    assert set(names[update + 1:-1]) == {"get_distribution"}
    assert names.count("delete_distribution") == 1
    assert result["waited_seconds"] >= fake.deploy_seconds


def test_delete_after_someone_else_wrote_reads_the_new_etag_once(fake, clock):
    dist_id = fake.add(desired_config(spec()), tags=MANAGED)
    original = fake.delete_distribution

    def touched_first(**kwargs):
        fake.delete_distribution = original
        fake.dists[dist_id]["etag"] = "SOMEONE-ELSE"
        return original(**kwargs)

    fake.delete_distribution = touched_first
    make(fake, clock).run(spec(state="absent"))
    assert fake.dists == {}
    deletes = [kw for name, kw in fake.calls if name == "delete_distribution"]
    assert [kw["IfMatch"] for kw in deletes] == ["ETAG3", "SOMEONE-ELSE"]


def test_update_stays_in_progress_and_wait_true_waits_with_progress_lines(fake, clock):
    config = desired_config(spec())
    config["PriceClass"] = "PriceClass_100"
    dist_id = fake.add(config, tags=MANAGED)
    lines = []
    progress = Progress(report=lines.append, subject="links.example.com")
    result = make(fake, clock, progress=progress).run(spec(wait=True, wait_timeout=2400))
    assert result["status"] == "Deployed" and result["changed"] is True
    assert lines[0] == "links.example.com: distribution %s InProgress, 0s of 40m" % dist_id
    assert lines[-1].startswith("links.example.com: distribution %s Deployed, 2m" % dist_id)
    assert [h["state"] for h in progress.history][-1] == "Deployed" and progress.history[-1]["done"] is True
    assert len(progress.history) == len(lines) >= 3


def test_run_module_takes_progress_and_returns_the_wait_history(monkeypatch, clock):
    fake = StrictCloudFront(clock)
    dist_id = fake.add(desired_config(spec()), tags=MANAGED, status="InProgress")
    fake.dists[dist_id]["deployed_at"] = clock.now() + 4.0
    monkeypatch.setattr(_cloudfront, "new_caller", lambda: AwsCaller(clock=clock, rng=random.Random(3)))
    monkeypatch.setattr(_cloudfront, "Clock", lambda: clock)
    lines = []
    params = {"domain_name": "links.example.com", "certificate_arn": ARN, "wait": True, "region": "us-east-1"}
    result = _cloudfront.run_module(params, client_factory=lambda service: fake, progress=lines.append)
    assert result.get("failed") is not True, result
    assert result["status"] == "Deployed" and result["changed"] is False
    assert result["wait_history"] == [
        {"what": "distribution %s" % dist_id, "state": "InProgress", "elapsed": 0.0, "timeout": 2400, "done": False},
        {"what": "distribution %s" % dist_id, "state": "Deployed", "elapsed": 5.0, "timeout": 2400, "done": True},
    ]
    assert lines == ["links.example.com: distribution %s InProgress, 0s of 40m" % dist_id,
                     "links.example.com: distribution %s Deployed, 5s of 40m" % dist_id]


# --------------------------------------------------------------------------
# Adopting a distribution the collection did not make
# --------------------------------------------------------------------------


def hand_made(fake, referenced=False):
    """A distribution made in the console: WAF, standard logging, an S3 origin, drift in Compress."""
    config = desired_config(spec())
    config["CallerReference"] = "console-1"
    config["WebACLId"] = WAF
    config["Logging"] = {"Enabled": True, "IncludeCookies": False, "Bucket": "logs.s3.amazonaws.com", "Prefix": "cf/"}
    config["DefaultCacheBehavior"]["Compress"] = False
    config["Origins"]["Items"].append({"Id": "assets-s3", "DomainName": "assets.s3.amazonaws.com", "OriginPath": "",
                                       "CustomHeaders": {"Quantity": 0}, "S3OriginConfig": {"OriginAccessIdentity": ""}})
    config["Origins"]["Quantity"] = 2
    if referenced:
        behavior = copy.deepcopy(config["DefaultCacheBehavior"])
        behavior.update(PathPattern="/static/*", TargetOriginId="assets-s3")
        config["CacheBehaviors"] = {"Quantity": 1, "Items": [behavior]}
    return fake.add(config, tags={"owner": "web-team"})


@pytest.mark.parametrize("referenced", [False, True])
def test_adopted_distribution_keeps_waf_logging_origins_and_behaviours(fake, clock, referenced):
    dist_id = hand_made(fake, referenced)
    result = make(fake, clock).run(spec())
    stored = fake.dists[dist_id]["config"]
    assert result["changed"] is True
    assert result["differences"] == [{"field": "DefaultCacheBehavior.Compress", "before": False, "after": True}]
    assert stored["DefaultCacheBehavior"]["Compress"] is True
    assert stored["WebACLId"] == WAF
    assert stored["Logging"]["Enabled"] is True and stored["Logging"]["Bucket"] == "logs.s3.amazonaws.com"
    assert [o["Id"] for o in stored["Origins"]["Items"]] == ["links.iterable.com", "assets-s3"]
    expected = ["WebACLId", "Logging", "Origins[assets-s3]"] + (["CacheBehaviors[/static/*]"] if referenced else [])
    assert result["preserved_fields"] == expected
    if referenced:
        assert stored["CacheBehaviors"]["Items"][0]["TargetOriginId"] == "assets-s3"
    fake.calls = []
    again = make(fake, clock).run(spec())
    assert again["changed"] is False and again["preserved_fields"] == expected
    assert fake.writes() == []


def test_adopted_distribution_in_check_mode_shows_only_what_differs(fake, clock):
    hand_made(fake)
    result = make(fake, clock).run(spec(), check_mode=True)
    assert fake.writes() == []
    assert result["diff"] == {"before": {"DefaultCacheBehavior.Compress": False},
                              "after": {"DefaultCacheBehavior.Compress": True}}
    assert result["preserved_fields"] == ["WebACLId", "Logging", "Origins[assets-s3]"]


def test_take_over_sets_the_guides_values_on_an_adopted_distribution(fake, clock):
    dist_id = hand_made(fake)
    result = make(fake, clock).run(spec(take_over=True))
    stored = fake.dists[dist_id]["config"]
    assert stored["WebACLId"] == "" and stored["Logging"]["Enabled"] is False
    assert [o["Id"] for o in stored["Origins"]["Items"]] == ["links.iterable.com"]
    assert result["preserved_fields"] == []
    assert {"field": "WebACLId", "before": WAF, "after": ""} in result["differences"]


def test_managed_distribution_without_foreign_parts_reads_no_tags(fake, clock):
    fake.add(desired_config(spec()), tags=MANAGED)
    result = make(fake, clock).run(spec())
    assert result["changed"] is False and result["preserved_fields"] == []
    assert fake.names() == ["list_distributions", "get_distribution_config"]


# --------------------------------------------------------------------------
# Messages a person can act on
# --------------------------------------------------------------------------


def test_alias_in_another_account_on_create_says_how_to_move_it(fake, clock):
    fake.foreign_aliases.add("links.example.com")
    with pytest.raises(LinktrackError) as info:
        make(fake, clock).run(spec())
    message = info.value.message
    assert info.value.field == "domain_name" and "Nothing was changed" in message
    assert "another AWS account" in message
    assert "TXT record _links.example.com" in message and "associate-alias" in message
    assert fake.dists == {}


def test_alias_in_another_account_on_update_names_the_txt_value_and_target(fake, clock):
    config = desired_config(spec(domain_name="old.example.com"))
    config["CallerReference"] = "by-hand"
    mine = fake.add(config, tags=MANAGED)
    fake.foreign_aliases.add("links.example.com")
    with pytest.raises(LinktrackError) as info:
        make(fake, clock).run(spec(distribution_id=mine))
    message = info.value.message
    assert "*******ABCDEF" in message and "******345678" in message
    assert "TXT record _links.example.com with the value %s" % fake.dists[mine]["DomainName"] in message
    assert "--target-distribution-id %s --alias links.example.com" % mine in message
    assert fake.dists[mine]["config"]["Aliases"]["Items"] == ["old.example.com"]


def test_invalid_viewer_certificate_names_the_certificate_and_the_domain(clock):
    fake = StrictCloudFront(clock, issued=set())
    with pytest.raises(LinktrackError) as info:
        make(fake, clock).run(spec())
    assert info.value.field == "certificate_arn"
    assert ARN in info.value.message and "links.example.com" in info.value.message
    assert "ISSUED" in info.value.message and "us-east-1" in info.value.message
    assert fake.dists == {}


def test_two_runs_racing_past_a_deleted_reference_make_one_distribution(fake, clock):
    """Both runs find the first reference taken by a deleted distribution; the other run wins #2 first."""
    make(fake, clock).run(spec(wait=True))
    make(fake, clock).run(spec(state="absent"))
    original = fake.create_distribution_with_tags
    racer = {}

    def other_run_wins_the_next_reference(**kwargs):
        reference = kwargs["DistributionConfigWithTags"]["DistributionConfig"]["CallerReference"]
        if reference.endswith("#2") and not racer:
            fake.create_distribution_with_tags = original
            racer["id"] = original(**kwargs)["Distribution"]["Id"]  # the other run's create, same reference
            fake.hidden_from_list.add(racer["id"])  # and not listed yet
        return original(**kwargs)

    fake.create_distribution_with_tags = other_run_wins_the_next_reference
    result = make(fake, clock).run(spec())
    assert result["id"] == racer["id"] and result["created"] is False
    assert len(fake.dists) == 1


def test_run_module_warns_about_what_an_adopted_distribution_keeps(monkeypatch, clock):
    fake = StrictCloudFront(clock)
    dist_id = hand_made(fake)
    monkeypatch.setattr(_cloudfront, "new_caller", lambda: AwsCaller(clock=clock, rng=random.Random(3)))
    warnings = []
    params = {"domain_name": "links.example.com", "certificate_arn": ARN, "region": "us-east-1"}
    result = _cloudfront.run_module(params, check_mode=True, client_factory=lambda service: fake, warn=warnings.append)
    assert result["preserved_fields"] == ["WebACLId", "Logging", "Origins[assets-s3]"]
    assert warnings == ["distribution %s was not created by linktrack.https; its WebACLId, Logging, Origins[assets-s3] are "
                        "kept as they are (take_over: true sets the guide's values there too)." % dist_id]


def test_update_after_a_concurrent_write_rereads_and_retries_with_the_new_etag(fake, clock):
    config = desired_config(spec())
    config["PriceClass"] = "PriceClass_100"
    dist_id = fake.add(config, tags=MANAGED)
    original = fake.update_distribution

    def someone_else_writes_first(**kwargs):
        fake.update_distribution = original
        fake.dists[dist_id]["config"]["Comment"] = "edited in the console"
        fake.dists[dist_id]["etag"] = "CONSOLE"
        return original(**kwargs)

    fake.update_distribution = someone_else_writes_first
    result = make(fake, clock).run(spec())
    updates = [kw for name, kw in fake.calls if name == "update_distribution"]
    assert [kw["IfMatch"] for kw in updates] == ["ETAG2", "CONSOLE"]
    assert result["changed"] is True and fake.dists[dist_id]["config"]["PriceClass"] == "PriceClass_All"
    assert fake.dists[dist_id]["config"]["Comment"] == "edited in the console"


def test_delete_of_a_distribution_enabled_again_meanwhile_disables_and_waits_again(fake, clock):
    dist_id = fake.add(desired_config(spec()), tags=MANAGED)
    original = fake.delete_distribution

    def re_enabled_by_someone(**kwargs):
        fake.delete_distribution = original
        d = fake.dists[dist_id]
        d["config"]["Enabled"] = True
        d["etag"] = "REENABLED"
        fake._deploying(d)
        kwargs["IfMatch"] = "REENABLED"  # the other writer's ETag is what the delete meets
        return original(**kwargs)

    fake.delete_distribution = re_enabled_by_someone
    result = make(fake, clock).run(spec(state="absent"))
    assert result["status"] == "Deleted" and fake.dists == {}
    assert fake.names().count("update_distribution") == 2 and fake.names().count("delete_distribution") == 2
