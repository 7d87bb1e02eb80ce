# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guide's tables as data, input validation, and the owned-field comparison."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._cloudfront import (
    DistributionSpec,
    config_differences,
    desired_config,
    merged_config,
    owned_view,
)

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f2c5a4e-1111-2222-3333-444455556666"


def spec(**kwargs):
    params = {"domain_name": "links.example.com", "certificate_arn": ARN}
    params.update(kwargs)
    return DistributionSpec.from_params(params)


# --------------------------------------------------------------------------
# The guide's three tables, row by row
# --------------------------------------------------------------------------


def test_origin_table():
    config = desired_config(spec())
    assert config["Origins"]["Quantity"] == 1
    origin = config["Origins"]["Items"][0]
    assert origin["DomainName"] == "links.iterable.com"
    assert origin["Id"] == "links.iterable.com"  # Name = origin domain
    assert origin["OriginPath"] == ""
    assert origin["CustomHeaders"] == {"Quantity": 0}
    assert origin["OriginShield"] == {"Enabled": False}
    assert origin["ConnectionAttempts"] == 3
    assert origin["ConnectionTimeout"] == 10
    custom = origin["CustomOriginConfig"]
    assert custom["OriginProtocolPolicy"] == "https-only"
    assert custom["HTTPPort"] == 80
    assert custom["HTTPSPort"] == 443
    assert custom["OriginSslProtocols"] == {"Quantity": 1, "Items": ["TLSv1.2"]}
    assert custom["OriginReadTimeout"] == 30
    assert custom["OriginKeepaliveTimeout"] == 5
    assert "S3OriginConfig" not in origin


def test_default_cache_behavior_table_legacy():
    behavior = desired_config(spec())["DefaultCacheBehavior"]
    assert behavior["TargetOriginId"] == "links.iterable.com"
    assert behavior["Compress"] is True
    assert behavior["ViewerProtocolPolicy"] == "allow-all"
    assert sorted(behavior["AllowedMethods"]["Items"]) == sorted(
        ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"])
    assert behavior["AllowedMethods"]["Quantity"] == 7
    assert behavior["AllowedMethods"]["CachedMethods"] == {"Quantity": 2, "Items": ["GET", "HEAD"]}
    assert behavior["TrustedSigners"] == {"Enabled": False, "Quantity": 0}
    assert behavior["TrustedKeyGroups"] == {"Enabled": False, "Quantity": 0}
    assert behavior["ForwardedValues"] == {
        "QueryString": True,
        "Cookies": {"Forward": "all"},
        "Headers": {"Quantity": 1, "Items": ["*"]},
        "QueryStringCacheKeys": {"Quantity": 0},
    }
    assert (behavior["MinTTL"], behavior["DefaultTTL"], behavior["MaxTTL"]) == (0, 86400, 31536000)
    assert behavior["SmoothStreaming"] is False
    assert behavior["FieldLevelEncryptionId"] == ""
    assert behavior["LambdaFunctionAssociations"] == {"Quantity": 0}
    assert behavior["FunctionAssociations"] == {"Quantity": 0}
    for absent in ("ResponseHeadersPolicyId", "RealtimeLogConfigArn", "CachePolicyId", "OriginRequestPolicyId"):
        assert absent not in behavior


def test_default_cache_behavior_managed_policies():
    behavior = desired_config(spec(cache_mode="managed_policies"))["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behavior["OriginRequestPolicyId"] == "216adef6-5c7f-47e4-b989-5492eafa07d3"
    for legacy in ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL"):
        assert legacy not in behavior


def test_settings_table():
    config = desired_config(spec())
    assert config["PriceClass"] == "PriceClass_All"
    assert config["WebACLId"] == ""
    assert config["Aliases"] == {"Quantity": 1, "Items": ["links.example.com"]}
    assert config["ViewerCertificate"] == {
        "CloudFrontDefaultCertificate": False,
        "ACMCertificateArn": ARN,
        "SSLSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert config["HttpVersion"] == "http2"
    assert config["DefaultRootObject"] == ""
    assert config["Logging"] == {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""}
    assert config["IsIPV6Enabled"] is True
    assert config["Enabled"] is True
    # the certificate's id makes the reference new in every setup/teardown cycle of the domain
    assert config["CallerReference"] == "linktrack.https:links.example.com:0f2c5a4e-1111-2222-3333-444455556666"


@pytest.mark.parametrize("region, origin", [("usdc", "links.iterable.com"), ("edc", "links.eu.iterable.com")])
def test_region_picks_origin(region, origin):
    config = desired_config(spec(iterable_region=region))
    assert config["Origins"]["Items"][0]["DomainName"] == origin
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == origin


def test_origin_domain_overrides_region():
    config = desired_config(spec(iterable_region="edc", origin_domain="Origin.Example.NET."))
    assert config["Origins"]["Items"][0]["DomainName"] == "origin.example.net"


def test_alias_is_normalised():
    assert spec(domain_name="LINKS.Example.com.").domain_name == "links.example.com"


# --------------------------------------------------------------------------
# Bad input, each naming its field
# --------------------------------------------------------------------------


@pytest.mark.parametrize("params, field, words", [
    ({"domain_name": "https://links.example.com"}, "domain_name", "scheme"),
    ({"domain_name": "*.example.com"}, "domain_name", "wildcard"),
    ({"domain_name": "links_example.com"}, "domain_name", "underscore"),
    ({"certificate_arn": ARN.replace("us-east-1", "eu-west-1")}, "certificate_arn", "us-east-1"),
    ({"certificate_arn": "arn:aws:iam::123456789012:server-certificate/x"}, "certificate_arn", "ACM"),
    ({"certificate_arn": ARN.replace("arn:aws:", "arn:aws-cn:")}, "certificate_arn", "partition aws"),
    ({"certificate_arn": ARN.replace("123456789012", "1234")}, "certificate_arn", "arn:aws:acm:us-east-1"),
    ({"certificate_arn": None}, "certificate_arn", "required"),
    ({"iterable_region": "us"}, "iterable_region", "usdc"),
    ({"iterable_region": "eu"}, "iterable_region", "edc"),
    ({"cache_policy_id": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}, "cache_policy_id", "managed_policies"),
    ({"origin_request_policy_id": "216adef6-5c7f-47e4-b989-5492eafa07d3"}, "origin_request_policy_id",
     "managed_policies"),
    ({"cache_mode": "managed_policies", "cache_policy_id": "CachingDisabled"}, "cache_policy_id", "policy id"),
    ({"http_version": "http4"}, "http_version", "http2and3"),
    ({"http_version": "HTTP2"}, "http_version", "http2"),
    ({"wait_timeout": 0}, "wait_timeout", "above 0"),
    ({"wait_timeout": -5}, "wait_timeout", "above 0"),
    ({"viewer_protocol_policy": "https-only"}, "viewer_protocol_policy", "redirect-to-https"),
    ({"price_class": "PriceClass_50"}, "price_class", "PriceClass_All"),
    ({"comment": "x" * 129}, "comment", "128"),
    ({"distribution_id": "e-lower"}, "distribution_id", "E2QWRUHAPOMQZL"),
    ({"tags": {"linktrack.https:managed": "false"}}, "tags", "reserved"),
    ({"tags": {"aws:foo": "x"}}, "tags", "aws:"),
    ({"origin_domain": "links.example.com"}, "origin_domain", "loop"),
])
def test_bad_input_names_the_field(params, field, words):
    with pytest.raises(LinktrackError) as info:
        spec(**params)
    assert info.value.field == field
    assert field in info.value.message
    assert words.lower() in info.value.message.lower()


def test_absent_needs_no_certificate():
    assert spec(state="absent", certificate_arn=None).state == "absent"


# --------------------------------------------------------------------------
# The owned view: both sides in the same form
# --------------------------------------------------------------------------


def emulator_round_trip(config):
    """What moto 5.2 gives back for a config it stored (the defaults it adds, seen in the sandbox)."""
    stored = copy.deepcopy(config)
    origin = stored["Origins"]["Items"][0]
    origin.pop("OriginAccessControlId", None)
    behavior = stored["DefaultCacheBehavior"]
    behavior["TrustedSigners"]["Items"] = []
    behavior["TrustedKeyGroups"]["Items"] = []
    behavior["RealtimeLogConfigArn"] = ""
    behavior.setdefault("CachePolicyId", "")
    if "ForwardedValues" not in behavior:
        behavior["ForwardedValues"] = {"QueryString": False, "Cookies": {"Forward": "none"}}
        behavior.update(MinTTL=0, DefaultTTL=0, MaxTTL=0)
    stored["OriginGroups"] = {"Quantity": 0}
    stored["CacheBehaviors"] = {"Quantity": 0}
    stored["CustomErrorResponses"] = {"Quantity": 0}
    stored["Restrictions"] = {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}}
    stored["ViewerCertificate"].update(
        CloudFrontDefaultCertificate=True, IAMCertificateId="", Certificate="", CertificateSource="cloudfront")
    return stored


@pytest.mark.parametrize("mode", ["legacy", "managed_policies"])
def test_emulator_defaults_give_no_difference(mode):
    s = spec(cache_mode=mode)
    assert not config_differences(emulator_round_trip(desired_config(s)), s)


def test_aws_style_omissions_give_no_difference():
    """Members left out mean the API default, which is what the guide wants for these."""
    s = spec()
    config = desired_config(s)
    origin = config["Origins"]["Items"][0]
    for key in ("OriginPath", "ConnectionAttempts", "ConnectionTimeout", "OriginShield", "OriginAccessControlId"):
        origin.pop(key)
    del origin["CustomOriginConfig"]["OriginReadTimeout"]
    config["DefaultCacheBehavior"]["FunctionAssociations"] = {"Quantity": 0, "Items": []}
    config["Aliases"]["Items"] = ["Links.Example.COM"]
    config.pop("DefaultRootObject")
    config.pop("WebACLId")
    assert not config_differences(config, s)


def test_drift_yields_exactly_the_changed_fields():
    s = spec()
    current = emulator_round_trip(desired_config(s))
    origin = current["Origins"]["Items"][0]
    origin["CustomOriginConfig"]["OriginSslProtocols"] = {"Quantity": 2, "Items": ["TLSv1.1", "TLSv1.2"]}
    origin["CustomOriginConfig"]["OriginProtocolPolicy"] = "match-viewer"
    origin["CustomHeaders"] = {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Secret", "HeaderValue": "s3cr3t"}]}
    current["DefaultCacheBehavior"]["Compress"] = False
    current["DefaultCacheBehavior"]["ForwardedValues"]["Cookies"] = {"Forward": "none"}
    current["ViewerCertificate"]["MinimumProtocolVersion"] = "TLSv1"
    current["IsIPV6Enabled"] = False
    current["Logging"] = {"Enabled": True, "IncludeCookies": False, "Bucket": "logs.s3.amazonaws.com", "Prefix": "x"}
    diffs = config_differences(current, s)
    assert diffs.as_list() == [
        {"field": "Origin.CustomHeaders", "before": ["X-Origin-Secret"], "after": []},
        {"field": "Origin.CustomOriginConfig.OriginProtocolPolicy", "before": "match-viewer", "after": "https-only"},
        {"field": "Origin.CustomOriginConfig.OriginSslProtocols", "before": ["TLSv1.1", "TLSv1.2"],
         "after": ["TLSv1.2"]},
        {"field": "DefaultCacheBehavior.Compress", "before": False, "after": True},
        {"field": "DefaultCacheBehavior.ForwardedValues.Cookies", "before": "none", "after": "all"},
        {"field": "ViewerCertificate.MinimumProtocolVersion", "before": "TLSv1", "after": "TLSv1.2_2021"},
        {"field": "Logging.Enabled", "before": True, "after": False},
        {"field": "IsIPV6Enabled", "before": False, "after": True},
    ]
    assert "s3cr3t" not in repr(diffs.as_list()) and "s3cr3t" not in repr(diffs.as_diff())
    assert diffs.as_diff()["before"]["DefaultCacheBehavior.Compress"] is False


def test_origin_change_is_reported_as_origin_fields():
    usdc = spec()
    edc = spec(iterable_region="edc")
    diffs = config_differences(desired_config(usdc), edc)
    assert diffs.fields() == ["Origins.Ids", "Origin.DomainName", "DefaultCacheBehavior.TargetOriginId"]
    assert diffs.as_list()[1] == {"field": "Origin.DomainName", "before": "links.iterable.com",
                                  "after": "links.eu.iterable.com"}


def test_comment_is_owned_only_when_given():
    current = desired_config(spec())
    current["Comment"] = "edited by hand"
    assert not config_differences(current, spec())
    assert config_differences(current, spec(comment="mine")).as_list() == [
        {"field": "Comment", "before": "edited by hand", "after": "mine"}]


def test_legacy_settings_not_owned_in_managed_mode():
    s = spec(cache_mode="managed_policies")
    view = dict(owned_view(desired_config(s), s))
    assert "DefaultCacheBehavior.ForwardedValues.Headers" not in view
    assert view["DefaultCacheBehavior.CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


# --------------------------------------------------------------------------
# The update keeps what the module does not own
# --------------------------------------------------------------------------


def test_merged_config_repairs_owned_and_keeps_the_rest():
    s = spec()
    current = emulator_round_trip(desired_config(s))
    current["CallerReference"] = "made-by-hand-2019"
    current["Restrictions"] = {"GeoRestriction": {"RestrictionType": "blacklist", "Quantity": 1, "Items": ["KP"]}}
    current["CustomErrorResponses"] = {"Quantity": 1, "Items": [{"ErrorCode": 404, "ErrorCachingMinTTL": 10}]}
    current["Comment"] = "kept"
    current["DefaultCacheBehavior"]["Compress"] = False
    current["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] = "60669652-455b-4ae9-85a4-c4c02393f86c"
    current["Origins"]["Items"][0]["ResponseCompletionTimeout"] = 60
    current["WebACLId"] = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1"
    new = merged_config(current, s)
    assert new["CallerReference"] == "made-by-hand-2019"
    assert new["Restrictions"] == current["Restrictions"]
    assert new["CustomErrorResponses"] == current["CustomErrorResponses"]
    assert new["Comment"] == "kept"
    assert new["DefaultCacheBehavior"]["Compress"] is True
    assert "ResponseHeadersPolicyId" not in new["DefaultCacheBehavior"]
    assert new["Origins"]["Items"][0]["ResponseCompletionTimeout"] == 60
    assert new["WebACLId"] == ""
    assert new["ViewerCertificate"]["CloudFrontDefaultCertificate"] is False
    assert "CertificateSource" not in new["ViewerCertificate"]
    assert not config_differences(new, s)


def test_merged_config_refuses_to_orphan_a_cache_behaviour():
    s = spec(iterable_region="edc")
    current = desired_config(spec())
    behaviour = {"PathPattern": "/static/*", "TargetOriginId": "links.iterable.com"}
    current["CacheBehaviors"] = {"Quantity": 1, "Items": [behaviour]}
    with pytest.raises(LinktrackError) as info:
        merged_config(current, s)
    assert "/static/*" in info.value.message
    assert "links.iterable.com" in info.value.message
