# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CloudFront distribution of one link tracking domain.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

The guide's three tables (Origin, Default Cache Behavior, Settings) are written
down here once, as data: ``desired_config()`` builds the DistributionConfig
that a create sends, and ``owned_view()`` reduces any DistributionConfig (the
desired one or the one AWS returns) to the same flat mapping of the fields this
module owns, with API defaults filled in. Comparing the two views gives the
``Differences`` from which ``changed``, check mode and ``--diff`` follow. Fields
that AWS or an emulator add on their own (an empty ``CachePolicyId``,
``CertificateSource``, ``CloudFrontDefaultCertificate`` beside an ACM ARN...)
are not owned and therefore never cause a change.

``LinkDistribution`` does the work against a boto3 CloudFront client through an
``AwsCaller``; tests give it a fake client and a fake clock.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.linktrack.https.plugins.module_utils._common import Clock, Differences, LinktrackError, Progress, error_code
from ansible_collections.linktrack.https.plugins.module_utils._common import normalize_domain, poll_until, result_from_exception
from ansible_collections.linktrack.https.plugins.module_utils._common import REQUIRED, Spec
from ansible_collections.linktrack.https.plugins.module_utils._records import ITERABLE_REGIONS, origin_for_region, validate_region, validate_seconds
from ansible_collections.linktrack.https.plugins.module_utils._aws import MANAGED_TAG_KEY, MANAGED_TAG_VALUE, check_region, clean_tags, new_caller

# --------------------------------------------------------------------------
# The guide's tables
# --------------------------------------------------------------------------

VIEWER_PROTOCOL_POLICIES = ("allow-all", "redirect-to-https")
PRICE_CLASSES = ("PriceClass_All", "PriceClass_200", "PriceClass_100")
HTTP_VERSIONS = ("http1.1", "http2", "http3", "http2and3")
CACHE_MODES = ("legacy", "managed_policies")
STATES = ("present", "absent")

# Origin table
ORIGIN_PROTOCOL_POLICY = "https-only"
ORIGIN_HTTP_PORT = 80
ORIGIN_HTTPS_PORT = 443
ORIGIN_SSL_PROTOCOLS = ["TLSv1.2"]
ORIGIN_PATH = ""
CONNECTION_ATTEMPTS = 3
CONNECTION_TIMEOUT = 10
ORIGIN_READ_TIMEOUT = 30
ORIGIN_KEEPALIVE_TIMEOUT = 5

# Default Cache Behavior table
ALLOWED_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
CACHED_METHODS = ["GET", "HEAD"]
# "Legacy cache settings > Object caching: Use origin cache headers" is, in the
# API, MinTTL 0 with the console's defaults for the other two TTLs: CloudFront
# follows Cache-Control/Expires from the origin and uses DefaultTTL only when the
# origin sends none. (With all headers forwarded CloudFront caches nothing
# anyway, so these values only matter if the forwarding is ever narrowed.)
LEGACY_MIN_TTL = 0
LEGACY_DEFAULT_TTL = 86400
LEGACY_MAX_TTL = 31536000

# cache_mode managed_policies: the AWS managed policies that behave like the
# guide's legacy settings (nothing cached, every viewer header/cookie/query
# string forwarded to the origin).
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_ORIGIN_REQUEST_POLICY_ID = "216adef6-5c7f-47e4-b989-5492eafa07d3"

# Settings table
SSL_SUPPORT_METHOD = "sni-only"
MINIMUM_PROTOCOL_VERSION = "TLSv1.2_2021"

COMMENT_MAX = 128
CALLER_REFERENCE_PREFIX = "linktrack.https:"

# CloudFront takes ACM certificates from us-east-1 of the commercial partition
# only: there is no CloudFront in aws-us-gov, and CloudFront in aws-cn does not
# take ACM certificates at all.
CERTIFICATE_ARN_RE = re.compile(r"^arn:aws:acm:us-east-1:[0-9]{12}:certificate/[A-Za-z0-9][A-Za-z0-9-]{0,127}$")
POLICY_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DISTRIBUTION_ID_RE = re.compile(r"^[A-Z0-9]{1,64}$")
ALREADY_EXISTS_ID_RE = re.compile(r"Already exists:\s*([A-Z0-9]+)")

STALE_ETAG_CODES = ("PreconditionFailed", "InvalidIfMatchVersion")
# CreateDistribution answers DistributionAlreadyExists for any CallerReference
# sent before, "regardless of the content", also once that distribution is
# deleted (API reference, DistributionConfig.CallerReference; the message names
# the old distribution: "... Already exists: E1SXXXXXXXXXX", aws-sdk-js-v3
# #2618). So the reference carries the certificate's id: every setup and
# teardown cycle of a domain gets a new certificate, hence a new reference,
# while two runs of one cycle (a retried create, two setups at once) share the
# reference and so the distribution. Within one reference the sequence moves on
# (#2, #3...) only past references whose distribution no longer exists.
MAX_CALLER_REFERENCES = 25


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------


# The ARN of a CloudFront distribution, as ACM's DescribeCertificate lists it in InUseBy ("A list of ARNs for
# the Amazon Web Services resources that are using the certificate", ACM API reference, CertificateDetail).
DISTRIBUTION_ARN_RE = re.compile(r"^arn:aws[a-z-]*:cloudfront::[0-9]{12}:distribution/([A-Z0-9]{1,64})$")


def candidate_distribution_ids(values):
    """The CloudFront distribution ids among ``candidate_distributions`` (ids or ARNs), in order, once each.

    Anything else (the ARN of a load balancer that uses the same certificate, say) is left out: the option is a
    hint, and a value that names no distribution only means the listing runs as without it.
    """
    ids = []
    if values is None:
        return ids
    if not isinstance(values, (list, tuple)):
        raise LinktrackError(
            "candidate_distributions: must be a list of CloudFront distribution ids or ARNs (for example the "
            "in_use_by of acm_dns_certificate), not %r." % (values,),
            field="candidate_distributions",
        )
    for value in values:
        text = str(value or "").strip()
        match = DISTRIBUTION_ARN_RE.match(text)
        dist_id = match.group(1) if match else (text if DISTRIBUTION_ID_RE.match(text) else None)
        if dist_id and dist_id not in ids:
            ids.append(dist_id)
    return ids


def _choice(value, choices, field):
    if value not in choices:
        raise LinktrackError(
            "%s: %r is not accepted; use one of %s." % (field, value, ", ".join(choices)),
            field=field,
        )
    return value


class DistributionSpec(Spec):
    """The validated, normalised input of the module.

    ``from_params`` checks everything before any AWS call and raises
    ``LinktrackError`` naming the option at fault.
    """

    FIELDS = dict(
        domain_name=REQUIRED, state="present", certificate_arn=None, iterable_region="usdc", origin_domain=REQUIRED,
        comment=None, enabled=True, distribution_id=None, candidate_distributions=[], viewer_protocol_policy="allow-all",
        price_class="PriceClass_All", http_version="http2", cache_mode="legacy", cache_policy_id=None,
        origin_request_policy_id=None, tags=None, purge_tags=False, wait=False, wait_timeout=2400, force=False, take_over=False)

    @property
    def origin_id(self):
        return self.origin_domain

    @property
    def caller_reference(self):
        """The first CallerReference of this domain and certificate (see MAX_CALLER_REFERENCES)."""
        reference = CALLER_REFERENCE_PREFIX + self.domain_name
        if self.certificate_arn:
            reference += ":" + self.certificate_arn.rsplit("/", 1)[-1]
        return reference

    def caller_references(self):
        """The deterministic sequence of CallerReferences a create tries, in order."""
        base = self.caller_reference
        return [base] + ["%s#%d" % (base, n) for n in range(2, MAX_CALLER_REFERENCES + 1)]

    @classmethod
    def from_params(cls, params):
        """Validate module parameters (a dict) and return a ``DistributionSpec``."""
        p = dict((k, v) for k, v in params.items() if v is not None)
        state = _choice(p.get("state", "present"), STATES, "state")
        domain_name = normalize_domain(p.get("domain_name"), "domain_name")

        certificate_arn = p.get("certificate_arn")
        if certificate_arn is not None:
            certificate_arn = certificate_arn.strip()
            if not CERTIFICATE_ARN_RE.match(certificate_arn):
                raise LinktrackError(
                    "certificate_arn: %r is not the ARN of an ACM certificate in us-east-1. CloudFront only "
                    "uses ACM certificates from us-east-1 (partition aws); give an ARN of the form "
                    "arn:aws:acm:us-east-1:123456789012:certificate/<id>." % (certificate_arn,),
                    field="certificate_arn",
                )
        elif state == "present":
            raise LinktrackError(
                "certificate_arn is required with state: present; give the ARN of the ISSUED ACM "
                "certificate for %s (for example the arn returned by linktrack.https.acm_dns_certificate)."
                % domain_name,
                field="certificate_arn",
            )

        region = validate_region(p.get("iterable_region", "usdc"))
        if p.get("origin_domain") is not None:
            origin_domain = normalize_domain(p["origin_domain"], "origin_domain")
        else:
            origin_domain = origin_for_region(region)
        if origin_domain == domain_name:
            raise LinktrackError(
                "origin_domain: %s is the tracking domain itself; the origin must be Iterable's link host "
                "(%s), or CloudFront would loop." % (origin_domain, " or ".join(r["origin"] for r in ITERABLE_REGIONS.values())),
                field="origin_domain",
            )

        cache_mode = _choice(p.get("cache_mode", "legacy"), CACHE_MODES, "cache_mode")
        cache_policy_id = p.get("cache_policy_id")
        origin_request_policy_id = p.get("origin_request_policy_id")
        if cache_mode == "legacy":
            given = [n for n in ("cache_policy_id", "origin_request_policy_id") if p.get(n) is not None]
            if given:
                raise LinktrackError(
                    "%s: cache_mode legacy (the guide's legacy cache settings) cannot be combined with %s; "
                    "either drop %s or set cache_mode: managed_policies."
                    % (given[0], " and ".join(given), " and ".join(given)),
                    field=given[0],
                )
        else:
            cache_policy_id = cache_policy_id or CACHING_DISABLED_POLICY_ID
            origin_request_policy_id = origin_request_policy_id or ALL_VIEWER_ORIGIN_REQUEST_POLICY_ID
            for name, value in (("cache_policy_id", cache_policy_id),
                                ("origin_request_policy_id", origin_request_policy_id)):
                if not POLICY_ID_RE.match(value):
                    raise LinktrackError(
                        "%s: %r is not a CloudFront policy id; policy ids look like "
                        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad." % (name, value),
                        field=name,
                    )

        http_version = _choice(p.get("http_version", "http2"), HTTP_VERSIONS, "http_version")
        viewer_protocol_policy = _choice(
            p.get("viewer_protocol_policy", "allow-all"), VIEWER_PROTOCOL_POLICIES, "viewer_protocol_policy"
        )
        price_class = _choice(p.get("price_class", "PriceClass_All"), PRICE_CLASSES, "price_class")
        wait_timeout = validate_seconds(p.get("wait_timeout", 2400), "wait_timeout")

        comment = p.get("comment")
        if comment is not None and len(comment) > COMMENT_MAX:
            raise LinktrackError(
                "comment: is %d characters long; CloudFront takes at most %d." % (len(comment), COMMENT_MAX),
                field="comment",
            )

        distribution_id = p.get("distribution_id")
        if distribution_id is not None and not DISTRIBUTION_ID_RE.match(distribution_id):
            raise LinktrackError(
                "distribution_id: %r is not a CloudFront distribution id (upper-case letters and digits, "
                "such as E2QWRUHAPOMQZL)." % (distribution_id,),
                field="distribution_id",
            )

        candidates = candidate_distribution_ids(p.get("candidate_distributions"))
        tags = clean_tags(p.get("tags"), "distribution")

        # the switches as given (module defaults when a caller leaves them out), as booleans
        switches = dict((name, bool(p.get(name, cls.FIELDS[name]))) for name in ("enabled", "purge_tags", "wait", "force", "take_over"))
        return cls(domain_name=domain_name, state=state, certificate_arn=certificate_arn, iterable_region=region,
                   origin_domain=origin_domain, comment=comment, distribution_id=distribution_id, candidate_distributions=candidates,
                   viewer_protocol_policy=viewer_protocol_policy, price_class=price_class, http_version=http_version,
                   cache_mode=cache_mode, cache_policy_id=cache_policy_id, origin_request_policy_id=origin_request_policy_id,
                   tags=tags, wait_timeout=wait_timeout, **switches)


# --------------------------------------------------------------------------
# Desired configuration and the owned view
# --------------------------------------------------------------------------


def _items(values):
    values = list(values)
    if not values:
        return {"Quantity": 0}
    return {"Quantity": len(values), "Items": values}


def default_comment(domain_name):
    return ("linktrack.https - HTTPS link tracking for %s" % domain_name)[:COMMENT_MAX]


def desired_origin(spec):
    return {
        "Id": spec.origin_id,
        "DomainName": spec.origin_domain,
        "OriginPath": ORIGIN_PATH,
        "CustomHeaders": {"Quantity": 0},
        "CustomOriginConfig": {
            "HTTPPort": ORIGIN_HTTP_PORT,
            "HTTPSPort": ORIGIN_HTTPS_PORT,
            "OriginProtocolPolicy": ORIGIN_PROTOCOL_POLICY,
            "OriginSslProtocols": _items(ORIGIN_SSL_PROTOCOLS),
            "OriginReadTimeout": ORIGIN_READ_TIMEOUT,
            "OriginKeepaliveTimeout": ORIGIN_KEEPALIVE_TIMEOUT,
        },
        "ConnectionAttempts": CONNECTION_ATTEMPTS,
        "ConnectionTimeout": CONNECTION_TIMEOUT,
        "OriginShield": {"Enabled": False},
        "OriginAccessControlId": "",
    }


def desired_default_cache_behavior(spec):
    behavior = {
        "TargetOriginId": spec.origin_id,
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
        "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "ViewerProtocolPolicy": spec.viewer_protocol_policy,
        "AllowedMethods": {
            "Quantity": len(ALLOWED_METHODS),
            "Items": list(ALLOWED_METHODS),
            "CachedMethods": _items(CACHED_METHODS),
        },
        "SmoothStreaming": False,
        "Compress": True,
        "LambdaFunctionAssociations": {"Quantity": 0},
        "FunctionAssociations": {"Quantity": 0},
        "FieldLevelEncryptionId": "",
    }
    if spec.cache_mode == "legacy":
        behavior["ForwardedValues"] = {
            "QueryString": True,
            "Cookies": {"Forward": "all"},
            "Headers": _items(["*"]),
            "QueryStringCacheKeys": {"Quantity": 0},
        }
        behavior["MinTTL"] = LEGACY_MIN_TTL
        behavior["DefaultTTL"] = LEGACY_DEFAULT_TTL
        behavior["MaxTTL"] = LEGACY_MAX_TTL
    else:
        behavior["CachePolicyId"] = spec.cache_policy_id
        behavior["OriginRequestPolicyId"] = spec.origin_request_policy_id
    return behavior


def desired_config(spec, caller_reference=None):
    """The whole DistributionConfig a create sends: every row of the guide set explicitly."""
    return {
        "CallerReference": caller_reference or spec.caller_reference,
        "Aliases": _items([spec.domain_name]),
        "DefaultRootObject": "",
        "Origins": _items([desired_origin(spec)]),
        "DefaultCacheBehavior": desired_default_cache_behavior(spec),
        "Comment": spec.comment if spec.comment is not None else default_comment(spec.domain_name),
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "PriceClass": spec.price_class,
        "Enabled": spec.enabled,
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": False,
            "ACMCertificateArn": spec.certificate_arn,
            "SSLSupportMethod": SSL_SUPPORT_METHOD,
            "MinimumProtocolVersion": MINIMUM_PROTOCOL_VERSION,
        },
        "WebACLId": "",
        "HttpVersion": spec.http_version,
        "IsIPV6Enabled": True,
    }


def _list(container, key="Items"):
    """The item list of an AWS ``{Quantity, Items}`` structure; absent means empty."""
    if not container:
        return []
    return list(container.get(key) or [])


def _sorted(values):
    return sorted(values, key=str)


def _or(value, default):
    return default if value is None else value


def _pick_origin(config, origin_id):
    origins = _list(config.get("Origins"))
    for origin in origins:
        if origin.get("Id") == origin_id:
            return origin
    target = (config.get("DefaultCacheBehavior") or {}).get("TargetOriginId")
    for origin in origins:
        if origin.get("Id") == target:
            return origin
    return origins[0] if origins else {}


def _origin_type(origin):
    if origin.get("CustomOriginConfig"):
        return "custom"
    if origin.get("S3OriginConfig"):
        return "s3"
    if origin.get("VpcOriginConfig"):
        return "vpc"
    return None


def _associations(container, arn_key):
    return _sorted("%s %s" % (a.get("EventType"), a.get(arn_key)) for a in _list(container))


def owned_view(config, spec):
    """Reduce a DistributionConfig to the ordered list of ``(field, value)`` this module owns.

    Works on the config AWS returns and on ``desired_config(spec)`` alike, so the
    two compare field by field. Missing members take the value the API gives them
    by default; lists whose order means nothing are sorted. Custom header values
    are not shown (they often carry an origin secret); their names are.
    """
    view = []
    add = view.append
    add(("Aliases", _sorted(a.lower() for a in _list(config.get("Aliases")))))
    if spec.comment is not None:
        add(("Comment", config.get("Comment")))
    add(("Enabled", config.get("Enabled")))

    add(("Origins.Ids", _sorted(o.get("Id") for o in _list(config.get("Origins")))))
    origin = _pick_origin(config, spec.origin_id)
    custom = origin.get("CustomOriginConfig") or {}
    add(("Origin.DomainName", origin.get("DomainName")))
    add(("Origin.Type", _origin_type(origin)))
    add(("Origin.OriginPath", _or(origin.get("OriginPath"), "")))
    add(("Origin.CustomHeaders", _sorted(h.get("HeaderName") for h in _list(origin.get("CustomHeaders")))))
    add(("Origin.CustomOriginConfig.OriginProtocolPolicy", custom.get("OriginProtocolPolicy")))
    add(("Origin.CustomOriginConfig.HTTPPort", custom.get("HTTPPort")))
    add(("Origin.CustomOriginConfig.HTTPSPort", custom.get("HTTPSPort")))
    add(("Origin.CustomOriginConfig.OriginSslProtocols", _sorted(_list(custom.get("OriginSslProtocols")))))
    add(("Origin.CustomOriginConfig.OriginReadTimeout", _or(custom.get("OriginReadTimeout"), ORIGIN_READ_TIMEOUT) if custom else None))
    add(("Origin.CustomOriginConfig.OriginKeepaliveTimeout",
         _or(custom.get("OriginKeepaliveTimeout"), ORIGIN_KEEPALIVE_TIMEOUT) if custom else None))
    add(("Origin.ConnectionAttempts", _or(origin.get("ConnectionAttempts"), CONNECTION_ATTEMPTS)))
    add(("Origin.ConnectionTimeout", _or(origin.get("ConnectionTimeout"), CONNECTION_TIMEOUT)))
    add(("Origin.OriginShield.Enabled", bool((origin.get("OriginShield") or {}).get("Enabled", False))))
    add(("Origin.OriginAccessControlId", _or(origin.get("OriginAccessControlId"), "")))

    b = config.get("DefaultCacheBehavior") or {}
    pre = "DefaultCacheBehavior."
    methods = b.get("AllowedMethods") or {}
    add((pre + "TargetOriginId", b.get("TargetOriginId")))
    add((pre + "ViewerProtocolPolicy", b.get("ViewerProtocolPolicy")))
    add((pre + "AllowedMethods", _sorted(_list(methods)) if methods else ["GET", "HEAD"]))
    add((pre + "CachedMethods", _sorted(_list(methods.get("CachedMethods"))) if methods.get("CachedMethods") else ["GET", "HEAD"]))
    add((pre + "Compress", bool(b.get("Compress", False))))
    add((pre + "SmoothStreaming", bool(b.get("SmoothStreaming", False))))
    add((pre + "TrustedSigners", _sorted(_list(b.get("TrustedSigners")))))
    add((pre + "TrustedKeyGroups", _sorted(_list(b.get("TrustedKeyGroups")))))
    add((pre + "LambdaFunctionAssociations", _associations(b.get("LambdaFunctionAssociations"), "LambdaFunctionARN")))
    add((pre + "FunctionAssociations", _associations(b.get("FunctionAssociations"), "FunctionARN")))
    add((pre + "FieldLevelEncryptionId", b.get("FieldLevelEncryptionId") or ""))
    add((pre + "RealtimeLogConfigArn", b.get("RealtimeLogConfigArn") or ""))
    add((pre + "ResponseHeadersPolicyId", b.get("ResponseHeadersPolicyId") or ""))
    add((pre + "CachePolicyId", b.get("CachePolicyId") or ""))
    add((pre + "OriginRequestPolicyId", b.get("OriginRequestPolicyId") or ""))
    if spec.cache_mode == "legacy":
        # With a cache policy the legacy members are absent (AWS) or filled with
        # defaults (emulator); they are owned only in legacy mode.
        fwd = b.get("ForwardedValues") or {}
        cookies = fwd.get("Cookies") or {}
        add((pre + "ForwardedValues.QueryString", fwd.get("QueryString") if fwd else None))
        add((pre + "ForwardedValues.Cookies", cookies.get("Forward")))
        add((pre + "ForwardedValues.Cookies.WhitelistedNames", _sorted(_list(cookies.get("WhitelistedNames")))))
        add((pre + "ForwardedValues.Headers", _sorted(_list(fwd.get("Headers")))))
        add((pre + "ForwardedValues.QueryStringCacheKeys", _sorted(_list(fwd.get("QueryStringCacheKeys")))))
        add((pre + "MinTTL", _or(b.get("MinTTL"), LEGACY_MIN_TTL)))
        add((pre + "DefaultTTL", _or(b.get("DefaultTTL"), LEGACY_DEFAULT_TTL)))
        add((pre + "MaxTTL", _or(b.get("MaxTTL"), LEGACY_MAX_TTL)))

    cert = config.get("ViewerCertificate") or {}
    add(("PriceClass", _or(config.get("PriceClass"), "PriceClass_All")))
    add(("WebACLId", config.get("WebACLId") or ""))
    add(("ViewerCertificate.ACMCertificateArn", cert.get("ACMCertificateArn") or ""))
    add(("ViewerCertificate.SSLSupportMethod", cert.get("SSLSupportMethod")))
    add(("ViewerCertificate.MinimumProtocolVersion", cert.get("MinimumProtocolVersion")))
    add(("HttpVersion", _or(config.get("HttpVersion"), "http2")))
    add(("DefaultRootObject", config.get("DefaultRootObject") or ""))
    add(("Logging.Enabled", bool((config.get("Logging") or {}).get("Enabled", False))))
    add(("IsIPV6Enabled", config.get("IsIPV6Enabled")))
    return view


# What a distribution made by someone else may carry that the guide's has not.
# An update of such a distribution keeps them (see ``foreign_fields``) unless
# the option ``take_over`` says to set the guide's values instead.
PRESERVED_VIEW_FIELDS = ("WebACLId", "Logging.Enabled")


def foreign_fields(config, spec):
    """The parts of ``config`` beyond the guide's distribution, by name: an AWS WAF web ACL
    (``WebACLId``), standard logging (``Logging``), origins other than ``spec``'s
    (``Origins[ID]``), cache behaviours for other paths (``CacheBehaviors[PATH]``) and origin
    groups (``OriginGroups[ID]``). Empty for a distribution as this module makes it."""
    found = []
    if config.get("WebACLId"):
        found.append("WebACLId")
    if (config.get("Logging") or {}).get("Enabled"):
        found.append("Logging")
    for origin in _list(config.get("Origins")):
        if origin.get("Id") != spec.origin_id:
            found.append("Origins[%s]" % origin.get("Id"))
    for behavior in _list(config.get("CacheBehaviors")):
        found.append("CacheBehaviors[%s]" % behavior.get("PathPattern"))
    for group in _list(config.get("OriginGroups")):
        found.append("OriginGroups[%s]" % group.get("Id"))
    return found


def config_differences(current, spec, preserve=False):
    """``Differences`` between a current DistributionConfig and the guide's, owned fields only.

    With ``preserve`` (a distribution someone else made), the web ACL, the
    logging and the other origins are kept, so they are not compared; only the
    presence of the guide's origin is.
    """
    diffs = Differences()
    desired = dict(owned_view(desired_config(spec), spec))
    for field, before in owned_view(current, spec):
        after = desired[field]
        if preserve and field in PRESERVED_VIEW_FIELDS:
            continue
        if preserve and field == "Origins.Ids":
            after = _sorted(set(before) | set([spec.origin_id]))
        diffs.compare(field, before, after)
    return diffs


# Members of an Origin / DefaultCacheBehavior this module owns. Everything else
# found on the current distribution is carried over unchanged by an update.
OWNED_ORIGIN_KEYS = frozenset([
    "Id", "DomainName", "OriginPath", "CustomHeaders", "S3OriginConfig", "CustomOriginConfig",
    "VpcOriginConfig", "ConnectionAttempts", "ConnectionTimeout", "OriginShield", "OriginAccessControlId",
])
OWNED_CUSTOM_ORIGIN_KEYS = frozenset([
    "HTTPPort", "HTTPSPort", "OriginProtocolPolicy", "OriginSslProtocols", "OriginReadTimeout",
    "OriginKeepaliveTimeout",
])
OWNED_BEHAVIOR_KEYS = frozenset([
    "TargetOriginId", "TrustedSigners", "TrustedKeyGroups", "ViewerProtocolPolicy", "AllowedMethods",
    "SmoothStreaming", "Compress", "LambdaFunctionAssociations", "FunctionAssociations",
    "FieldLevelEncryptionId", "RealtimeLogConfigArn", "CachePolicyId", "OriginRequestPolicyId",
    "ResponseHeadersPolicyId", "ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL",
])
OWNED_TOP_KEYS = ("Aliases", "DefaultRootObject", "Logging", "PriceClass", "Enabled", "ViewerCertificate",
                  "WebACLId", "HttpVersion", "IsIPV6Enabled")


def _referenced_origins(config):
    """Origin ids that parts this module does not own point at."""
    refs = []
    for behavior in _list(config.get("CacheBehaviors")):
        refs.append(("cache behaviour %s" % behavior.get("PathPattern"), behavior.get("TargetOriginId")))
    for group in _list(config.get("OriginGroups")):
        for member in _list(group.get("Members")):
            refs.append(("origin group %s" % group.get("Id"), member.get("OriginId")))
    return refs


def merged_config(current, spec, preserve=False):
    """The DistributionConfig an update sends: the current one with every owned field set as desired.

    Members this module does not own (cache behaviours for other paths, geo
    restrictions, custom error responses, newer API members...) are kept.
    With ``preserve`` (a distribution someone else made) the web ACL, the
    logging and every other origin are kept too; the guide's origin is added
    or set beside them.
    """
    desired = desired_config(spec, caller_reference=current.get("CallerReference"))
    new = copy.deepcopy(current)
    for key in OWNED_TOP_KEYS:
        if preserve and key in ("WebACLId", "Logging") and key in current:
            continue
        new[key] = desired[key]
    if spec.comment is not None or new.get("Comment") is None:
        new["Comment"] = desired["Comment"]

    old_origin = None
    for origin in _list(current.get("Origins")):
        if origin.get("Id") == spec.origin_id:
            old_origin = origin
    origin = desired_origin(spec)
    if old_origin:
        for key, value in old_origin.items():
            if key not in OWNED_ORIGIN_KEYS:
                origin[key] = copy.deepcopy(value)
        for key, value in (old_origin.get("CustomOriginConfig") or {}).items():
            if key not in OWNED_CUSTOM_ORIGIN_KEYS:
                origin["CustomOriginConfig"][key] = copy.deepcopy(value)
    if preserve:
        # the guide's origin in its place (or last), every other origin as it is
        origins = [origin if o.get("Id") == spec.origin_id else copy.deepcopy(o) for o in _list(current.get("Origins"))]
        if old_origin is None:
            origins.append(origin)
        new["Origins"] = _items(origins)
    else:
        for where, origin_id in _referenced_origins(current):
            if origin_id != spec.origin_id:
                raise LinktrackError(
                    "The distribution's %s uses origin %r, which this module would remove (a link tracking "
                    "distribution has the one origin %s). Remove that %s in CloudFront first, or manage this "
                    "distribution some other way." % (where, origin_id, spec.origin_id, where),
                    field="origin_domain",
                )
        new["Origins"] = _items([origin])

    behavior = desired_default_cache_behavior(spec)
    for key, value in (current.get("DefaultCacheBehavior") or {}).items():
        if key not in OWNED_BEHAVIOR_KEYS:
            behavior[key] = copy.deepcopy(value)
    new["DefaultCacheBehavior"] = behavior
    return new


# --------------------------------------------------------------------------
# The distribution
# --------------------------------------------------------------------------


class LinkDistribution:
    """Finds, creates, repairs, waits for and deletes the distribution of one alias.

    ``client`` is a boto3 CloudFront client (or a fake with the same methods),
    ``caller`` an ``AwsCaller``. Nothing here calls Ansible.
    """

    def __init__(self, client, caller, clock=None, page_size=None, update_attempts=4,
                 first_poll_delay=5.0, max_poll_delay=60.0, progress=None):
        self.client = client
        self.progress = progress
        self.call = caller
        self.clock = clock or Clock()
        self.page_size = page_size
        self.update_attempts = update_attempts
        self.first_poll_delay = first_poll_delay
        self.max_poll_delay = max_poll_delay
        # What has been written so far, so that a failure after a write (a wait
        # that timed out, say) still reports changed and the distribution's id.
        self.written = {}

    # -- reading -----------------------------------------------------------

    def list_by_alias(self, alias):
        """Every distribution summary carrying ``alias`` (lower-case compare), over all pages."""
        found = []
        marker = None
        while True:
            kwargs = {}
            if marker:
                kwargs["Marker"] = marker
            if self.page_size:
                kwargs["MaxItems"] = str(self.page_size)
            page = self.call(self.client.list_distributions, **kwargs).get("DistributionList") or {}
            for summary in page.get("Items") or []:
                if alias in [a.lower().rstrip(".") for a in _list(summary.get("Aliases"))]:
                    found.append(summary)
            marker = page.get("NextMarker")
            if not page.get("IsTruncated") or not marker:
                return found

    def get_config(self, distribution_id):
        response = self.call(self.client.get_distribution_config, Id=distribution_id)
        return response["DistributionConfig"], response.get("ETag")

    def get_distribution(self, distribution_id):
        response = self.call(self.client.get_distribution, Id=distribution_id)
        return response["Distribution"], response.get("ETag")

    def tags(self, arn):
        response = self.call(self.client.list_tags_for_resource, Resource=arn)
        return dict((t["Key"], t.get("Value", "")) for t in _list(response.get("Tags")))

    def locate(self, spec):
        """Find the distribution of ``spec``: a dict with id, arn, domain_name, status, config, etag; or None."""
        if spec.distribution_id:
            try:
                dist, etag = self.get_distribution(spec.distribution_id)
            except Exception as exc:  # noqa: BLE001 - only NoSuchDistribution is expected
                if error_code(exc) != "NoSuchDistribution":
                    raise
                if spec.state == "absent":
                    return None
                raise LinktrackError(
                    "distribution_id: distribution %s does not exist. Leave distribution_id out to find or "
                    "create the distribution by its alias %s." % (spec.distribution_id, spec.domain_name),
                    field="distribution_id",
                )
            found = self._from_distribution(dist, etag)
            aliases = [a.lower() for a in _list(found["config"].get("Aliases"))]
            if spec.state == "present" and spec.domain_name not in aliases:
                others = [s for s in self.list_by_alias(spec.domain_name) if s["Id"] != found["id"]]
                if others:
                    raise self._alias_conflict(spec, others[0], found["id"], own_domain=found.get("domain_name"))
            return found

        if spec.state == "present" and len(spec.candidate_distributions) == 1:
            found = self._candidate(spec, spec.candidate_distributions[0])
            if found is not None:
                return found

        matches = self.list_by_alias(spec.domain_name)
        if len(matches) > 1:
            raise LinktrackError(
                "domain_name: %s is an alias of %d distributions (%s); there must be exactly one. Remove the "
                "alias from all but one (or give distribution_id to pick one), then run again."
                % (spec.domain_name, len(matches), ", ".join("%s (%s)" % (m["Id"], m.get("DomainName")) for m in matches)),
                field="domain_name",
                details={"conflicting_distributions": [m["Id"] for m in matches]},
            )
        if not matches:
            return None
        return self._from_summary(matches[0])

    def _candidate(self, spec, dist_id):
        """The distribution ``dist_id`` if it carries ``spec.domain_name``, read with one GetDistribution; else None.

        GetDistribution returns the whole DistributionConfig with the status, the ARN, the domain name and the ETag
        (CloudFront API reference, GetDistribution), everything ListDistributions and GetDistributionConfig give
        together. The summaries of ListDistributions alone would not do: a DistributionSummary has no
        DefaultRootObject and no Logging (CloudFront API reference, DistributionSummary), and both are owned here.
        A distribution that carries the alias is the only one that does: CloudFront refuses an alternate domain name
        that is already associated with another distribution, with CNAMEAlreadyExists (CloudFront Developer Guide,
        "Move an alternate domain name"), so no listing is needed to rule out a second. A candidate that is gone
        (ACM keeps a deleted distribution in InUseBy for minutes) or no longer carries the alias gives None, and the
        caller lists as without it.
        """
        found = self._read_or_none(dist_id)
        if found is None or spec.domain_name not in [a.lower().rstrip(".") for a in _list(found["config"].get("Aliases"))]:
            return None
        return found

    def _read_or_none(self, dist_id):
        """The distribution ``dist_id`` read with one GetDistribution, or None when CloudFront says NoSuchDistribution."""
        try:
            dist, etag = self.get_distribution(dist_id)
        except Exception as exc:  # noqa: BLE001 - only NoSuchDistribution is expected
            if error_code(exc) != "NoSuchDistribution":
                raise
            return None
        return self._from_distribution(dist, etag)

    @staticmethod
    def _from_distribution(dist, etag):
        """A GetDistribution answer as locate() returns it (Distribution always holds its DistributionConfig:
        CloudFront API reference, Distribution)."""
        return {
            "id": dist["Id"],
            "arn": dist.get("ARN"),
            "domain_name": dist.get("DomainName"),
            "status": dist.get("Status"),
            "config": dist["DistributionConfig"],
            "etag": etag,
        }

    def _from_summary(self, summary):
        config, etag = self.get_config(summary["Id"])
        return {
            "id": summary["Id"],
            "arn": summary.get("ARN"),
            "domain_name": summary.get("DomainName"),
            "status": summary.get("Status"),
            "config": config,
            "etag": etag,
        }

    def _alias_conflict(self, spec, other, own_id=None, foreign=None, own_domain=None):
        """The error for an alias that sits elsewhere. ``other``: a visible summary; ``foreign``: what
        ListConflictingAliases said about a distribution in another account; neither: CloudFront said
        CNAMEAlreadyExists about a distribution this account cannot list."""
        target = ("distribution %s" % own_id) if own_id else "a new distribution"
        if other:
            what = "%s is already an alternate domain name (CNAME) of distribution %s (%s) in this account" % (
                spec.domain_name, other["Id"], other.get("DomainName"))
            todo = ("Remove the alias from that distribution (or delete it with state: absent), or give its id as "
                    "distribution_id to manage that one, and run again.")
        else:
            if foreign:
                what = "%s is already an alternate domain name (CNAME) of distribution %s in account %s" % (
                    spec.domain_name, foreign.get("DistributionId"), foreign.get("AccountId"))
            else:
                what = ("%s is already an alternate domain name (CNAME) of a distribution this account cannot "
                        "list, most likely in another AWS account" % spec.domain_name)
            # CloudFront Developer Guide, "Move an alternate domain name" (alternate-domain-names-move):
            # a TXT record _<alias> whose value is the target distribution's domain name proves control of
            # the domain; AssociateAlias then moves the alias if the source distribution is in the same
            # account or disabled, otherwise AWS Support moves it.
            if own_id:
                txt = "publish the TXT record _%s with the value %s, then run aws cloudfront associate-alias " \
                      "--target-distribution-id %s --alias %s" % (spec.domain_name, own_domain, own_id, spec.domain_name)
            else:
                txt = "publish a TXT record _%s whose value is the domain name (dXXXX.cloudfront.net) of the " \
                      "distribution that is to take the alias, then run aws cloudfront associate-alias with that " \
                      "distribution's id and --alias %s" % (spec.domain_name, spec.domain_name)
            todo = ("Remove the alias from that distribution in its own account (or disable that distribution) and "
                    "run again. To move the alias without that account (CloudFront Developer Guide, \"Move an "
                    "alternate domain name\"): %s; this works once the other distribution is disabled, otherwise "
                    "AWS Support moves the alias." % txt)
        return LinktrackError(
            "domain_name: %s, so it cannot be added to %s. Nothing was changed. %s" % (what, target, todo),
            field="domain_name",
            details={"conflicting_distribution": other["Id"] if other else (foreign or {}).get("DistributionId")},
        )

    def _foreign_owner(self, spec, own_id):
        """ListConflictingAliases for an alias held outside this account (ids and accounts come masked)."""
        try:
            response = self.call(self.client.list_conflicting_aliases, DistributionId=own_id,
                                 Alias=spec.domain_name)
        except Exception:  # noqa: BLE001 - only a nicer message is lost (the emulator lacks this call)
            return None
        for item in _list(response.get("ConflictingAliasesList")):
            if (item.get("Alias") or "").lower() == spec.domain_name:
                return item
        return None

    # -- writing -----------------------------------------------------------

    def _create(self, spec):
        """Create the distribution; returns the ``found`` dict of the new (or re-found) distribution.

        Tries the references of ``spec.caller_references()`` in order. A
        reference whose distribution still exists gives that distribution
        (an earlier create of this cycle whose answer was lost, or a run
        racing this one); the next reference is tried only when the one
        taken belongs to a distribution that is gone. Two distributions with
        one alias cannot result: CloudFront refuses the second with
        CNAMEAlreadyExists.
        """
        tags = [{"Key": MANAGED_TAG_KEY, "Value": MANAGED_TAG_VALUE}]
        for key in sorted(spec.tags or {}):
            tags.append({"Key": key, "Value": spec.tags[key]})
        references = spec.caller_references()
        for reference in references:
            try:
                response = self.call(
                    self.client.create_distribution_with_tags,
                    DistributionConfigWithTags={
                        "DistributionConfig": desired_config(spec, caller_reference=reference),
                        "Tags": {"Items": tags},
                    },
                )
            except Exception as exc:  # noqa: BLE001
                code = error_code(exc)
                if code == "CNAMEAlreadyExists":
                    raise self._alias_conflict(spec, self._conflict_owner(spec, None))
                if code != "DistributionAlreadyExists":
                    raise self._explain(exc, spec)
                existing = self._recover_reference(spec, exc)
                if existing is not None:
                    return existing, False
                continue
            dist = response["Distribution"]
            self._wrote(dist["Id"], dist.get("DomainName"), dist.get("ARN"))
            return {
                "id": dist["Id"],
                "arn": dist.get("ARN"),
                "domain_name": dist.get("DomainName"),
                "status": dist.get("Status"),
                "config": dist.get("DistributionConfig"),
                "etag": response.get("ETag"),
                "managed": True,
            }, True
        raise LinktrackError(
            "domain_name: the caller references %s to %s are all taken by distributions that no longer carry "
            "the alias %s. Give distribution_id to adopt one of them." % (references[0], references[-1], spec.domain_name),
            field="domain_name",
        )

    def _recover_reference(self, spec, exc):
        """After DistributionAlreadyExists: the distribution an earlier (timed-out) create made, or None."""
        found = self.locate(spec)  # fails if the alias now sits on two distributions
        if found is not None:
            return found
        match = ALREADY_EXISTS_ID_RE.search(str(exc))
        if match:
            return self._read_or_none(match.group(1))
        return None

    def _update(self, found, spec, build, diffs_of):
        """UpdateDistribution with IfMatch; on a stale ETag fetch again and retry a bounded number of times.

        ``build(config)`` gives the config to send, ``diffs_of(config)`` the
        differences still to make (nothing is sent when a re-fetch shows none).
        Returns the differences that were written.
        """
        config, etag = found["config"], found["etag"]
        diffs = diffs_of(config)
        for _attempt in range(self.update_attempts):
            if not diffs:
                return diffs
            try:
                response = self.call(
                    self.client.update_distribution,
                    Id=found["id"], IfMatch=etag, DistributionConfig=build(config),
                )
            except Exception as exc:  # noqa: BLE001
                code = error_code(exc)
                if code == "CNAMEAlreadyExists":
                    owner = self._conflict_owner(spec, found["id"])
                    foreign = None if owner else self._foreign_owner(spec, found["id"])
                    raise self._alias_conflict(spec, owner, found["id"], foreign, own_domain=found.get("domain_name"))
                if code not in STALE_ETAG_CODES:
                    raise self._explain(exc, spec)
                config, etag = self.get_config(found["id"])
                found["config"], found["etag"] = config, etag
                diffs = diffs_of(config)
                continue
            dist = response["Distribution"]
            self._wrote(found["id"], found.get("domain_name"), found.get("arn"))
            found["status"] = dist.get("Status")
            found["config"] = dist.get("DistributionConfig") or build(config)
            found["etag"] = response.get("ETag")
            found["domain_name"] = dist.get("DomainName") or found["domain_name"]
            found["arn"] = dist.get("ARN") or found["arn"]
            return diffs
        raise LinktrackError(
            "Distribution %s kept changing while this module tried to update it (%d stale ETags in a row: "
            "someone else is editing it). Run again when the other change is done."
            % (found["id"], self.update_attempts),
            field="distribution_id",
        )

    def _wrote(self, dist_id, domain_name, arn):
        self.written = {"changed": True, "id": dist_id, "domain_name": domain_name, "arn": arn}

    def _conflict_owner(self, spec, own_id):
        others = [s for s in self.list_by_alias(spec.domain_name) if s["Id"] != own_id]
        return others[0] if others else None

    def _explain(self, exc, spec=None):
        """Turn the CloudFront errors a person can act on into messages naming the option."""
        code = error_code(exc)
        certificate = "the certificate %s" % spec.certificate_arn if spec and spec.certificate_arn else "the certificate"
        domain = spec.domain_name if spec else "domain_name"
        hints = {
            # CreateDistribution / UpdateDistribution API reference: InvalidViewerCertificate. CloudFront
            # takes an ACM certificate only from us-east-1, only once ISSUED, and only if it covers every
            # alias (Developer Guide, "Requirements for using alternate domain names").
            "InvalidViewerCertificate": (
                "certificate_arn",
                "CloudFront refused %s for %s. It must be an ACM certificate in us-east-1 with status ISSUED "
                "whose names cover %s. Check it with 'aws acm describe-certificate --region us-east-1 "
                "--certificate-arn ARN'; if it is PENDING_VALIDATION, publish its validation record and wait "
                "(acm_dns_certificate with wait: true), otherwise give the ARN of a certificate that covers %s."
                % (certificate, domain, domain, domain),
            ),
            "TrustedSignerDoesNotExist": ("distribution_id", "the distribution refers to a missing trusted signer."),
            "NoSuchCachePolicy": ("cache_policy_id", "that cache policy does not exist."),
            "NoSuchOriginRequestPolicy": ("origin_request_policy_id", "that origin request policy does not exist."),
            "InvalidWebACLId": ("distribution_id", "the distribution's web ACL could not be handled."),
        }
        if code in hints:
            field, text = hints[code]
            return LinktrackError("%s: %s AWS answered %s: %s" % (field, text, code, exc), field=field,
                                  details={"error_code": code})
        return exc

    def _apply_tags(self, found, spec, check_mode, diffs):
        """Compare (and set) the user's tags; only called when ``tags`` was given."""
        current = self.tags(found["arn"])
        add, remove = {}, []
        for key in sorted(spec.tags):
            if current.get(key) != spec.tags[key]:
                diffs.add("Tags.%s" % key, current.get(key), spec.tags[key])
                add[key] = spec.tags[key]
        if spec.purge_tags:
            for key in sorted(current):
                if key not in spec.tags and key != MANAGED_TAG_KEY:
                    diffs.add("Tags.%s" % key, current[key], None)
                    remove.append(key)
        if check_mode:
            return
        if add or remove:
            self._wrote(found["id"], found.get("domain_name"), found.get("arn"))
        if add:
            self.call(self.client.tag_resource, Resource=found["arn"],
                      Tags={"Items": [{"Key": k, "Value": v} for k, v in sorted(add.items())]})
        if remove:
            self.call(self.client.untag_resource, Resource=found["arn"], TagKeys={"Items": remove})

    # -- waiting -----------------------------------------------------------

    def wait_deployed(self, found, timeout):
        """Poll GetDistribution with growing intervals until Deployed; returns seconds waited.

        Each poll keeps the ETag and configuration it read in ``found``: they
        are the current ones (only a write changes the ETag), so a delete
        that follows needs no further read.
        """
        if found.get("status") == "Deployed":
            return 0.0

        def check():
            dist, etag = self.get_distribution(found["id"])
            found["status"] = dist.get("Status")
            found["etag"] = etag or found.get("etag")
            found["config"] = dist.get("DistributionConfig") or found.get("config")
            return found["status"] == "Deployed", found["status"]

        _status, waited = poll_until(
            check,
            timeout,
            "distribution %s (%s) to reach status Deployed (CloudFront goes on deploying; run again with "
            "wait: true to keep waiting, or raise wait_timeout)" % (found["id"], found.get("domain_name")),
            clock=self.clock,
            first_delay=self.first_poll_delay,
            max_delay=self.max_poll_delay,
            progress=self.progress,
            label="distribution %s" % found["id"],
        )
        return waited

    # -- adopting ------------------------------------------------------------

    def _managed(self, found):
        """Whether the distribution carries the collection's managed tag (read once, only when needed)."""
        if "managed" not in found:
            found["managed"] = self.tags(found["arn"]).get(MANAGED_TAG_KEY) == MANAGED_TAG_VALUE
        return found["managed"]

    def _kept(self, found, spec, config):
        """The parts of ``config`` an update keeps because the distribution is not the collection's.

        A distribution without the managed tag (adopted by alias or by
        ``distribution_id``) may carry an AWS WAF web ACL, standard logging,
        other origins and cache behaviours that someone relies on; they are
        kept unless ``take_over``. The tags are read only when there is
        something of that kind to keep.
        """
        fields = foreign_fields(config, spec)
        if not fields or spec.take_over or self._managed(found):
            return []
        return fields

    # -- the two states ----------------------------------------------------

    def _result(self, found, spec, diffs, changed, waited=0.0, created=False, preserved=None):
        config = (found or {}).get("config") or {}
        origin = _pick_origin(config, spec.origin_id) if config else {}
        cert = config.get("ViewerCertificate") or {}
        return {
            "changed": changed,
            "created": created,
            "id": (found or {}).get("id"),
            "arn": (found or {}).get("arn"),
            "domain_name": (found or {}).get("domain_name"),
            "status": (found or {}).get("status"),
            "enabled": config.get("Enabled") if config else None,
            "aliases": [a.lower() for a in _list(config.get("Aliases"))] if config else [],
            "origin_domain": origin.get("DomainName") if origin else None,
            "certificate_arn": cert.get("ACMCertificateArn") or None,
            "differences": diffs.as_list(),
            "preserved_fields": list(preserved or []),
            "waited_seconds": waited,
            "diff": diffs.as_diff(),
        }

    def present(self, spec, check_mode=False):
        found = self.locate(spec)
        if found is None:
            diffs = Differences()
            for field, value in owned_view(desired_config(spec), spec):
                diffs.add(field, None, value)
            for key in sorted(spec.tags or {}):
                diffs.add("Tags.%s" % key, None, spec.tags[key])
            if check_mode:
                return self._result(None, spec, diffs, True)
            found, created = self._create(spec)
            if not created:
                return self._repair(found, spec, check_mode)
            waited = self.wait_deployed(found, spec.wait_timeout) if spec.wait else 0.0
            return self._result(found, spec, diffs, True, waited, created=True)
        return self._repair(found, spec, check_mode)

    def _repair(self, found, spec, check_mode):
        diffs = config_differences(found["config"], spec, bool(self._kept(found, spec, found["config"])))
        if not check_mode and diffs:
            diffs = self._update(
                found, spec,
                build=lambda config: merged_config(config, spec, bool(self._kept(found, spec, config))),
                diffs_of=lambda config: config_differences(config, spec, bool(self._kept(found, spec, config))),
            )
        kept = self._kept(found, spec, found["config"])
        if spec.tags is not None:
            self._apply_tags(found, spec, check_mode, diffs)
        changed = bool(diffs)
        waited = 0.0
        if spec.wait and not check_mode:
            waited = self.wait_deployed(found, spec.wait_timeout)
        return self._result(found, spec, diffs, changed, waited, preserved=kept)

    def absent(self, spec, check_mode=False):
        found = self.locate(spec)
        diffs = Differences()
        if found is None:
            return self._result(None, spec, diffs, False)
        if not spec.force and not self._managed(found):
            raise LinktrackError(
                "distribution %s (%s) carries the alias %s but was not created by linktrack.https (it has no "
                "%s=%s tag), so it is left alone. Set force: true to disable and delete it anyway."
                % (found["id"], found.get("domain_name"), spec.domain_name, MANAGED_TAG_KEY, MANAGED_TAG_VALUE),
                field="force",
                details={"id": found["id"]},
            )
        if found["config"].get("Enabled"):
            diffs.add("Enabled", True, False)
        diffs.add("Distribution", found["id"], None)
        if check_mode:
            return self._result(found, spec, diffs, True)

        def disable(config):
            new = copy.deepcopy(config)
            new["Enabled"] = False
            return new

        def still_enabled(config):
            pending = Differences()
            pending.compare("Enabled", bool(config.get("Enabled")), False)
            return pending

        # Delete needs the distribution disabled and Deployed (DeleteDistribution API reference:
        # DistributionNotDisabled), with If-Match the current ETag: the one the disable returned, or the
        # one the last poll of the wait read.
        self._update(found, spec, build=disable, diffs_of=still_enabled)
        waited = self.wait_deployed(found, spec.wait_timeout)
        for _attempt in range(self.update_attempts):
            try:
                self.call(self.client.delete_distribution, Id=found["id"], IfMatch=found["etag"])
                break
            except Exception as exc:  # noqa: BLE001
                code = error_code(exc)
                if code == "NoSuchDistribution":
                    break
                if code in STALE_ETAG_CODES:
                    found["config"], found["etag"] = self.get_config(found["id"])
                    continue
                if code == "DistributionNotDisabled":
                    # enabled again by someone, or not yet Deployed: read it, disable it (again), wait
                    found["config"], found["etag"] = self.get_config(found["id"])
                    found["status"] = "InProgress"
                    self._update(found, spec, build=disable, diffs_of=still_enabled)
                    waited += self.wait_deployed(found, spec.wait_timeout)
                    continue
                raise self._explain(exc, spec)
        else:
            raise LinktrackError(
                "Distribution %s kept changing while this module tried to delete it; run again." % found["id"],
                field="distribution_id",
            )
        result = self._result(found, spec, diffs, True, waited)
        result["status"] = "Deleted"
        return result

    def run(self, spec, check_mode=False):
        if spec.state == "absent":
            return self.absent(spec, check_mode)
        return self.present(spec, check_mode)


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``cloudfront_link_distribution`` does with its validated ``params``.

    The module's ``main()`` and the action plugin that runs it inside the worker
    process both call this, so the module's behaviour exists once.
    ``client_factory(service)`` returns a boto3 client. ``progress``, when
    given, is called with one line per poll of a wait (the action plugin shows
    them while the task runs); the result's ``wait_history`` holds every poll
    either way. Returns the result dict; a failure is a dict with
    ``failed: true`` and ``msg``, and still says what was written before it (a
    wait that timed out after an update).
    """
    caller = new_caller()
    distribution = None
    tracker = Progress(report=progress, quiet_start=True)
    try:
        check_region(params, "cloudfront_link_distribution")
        spec = DistributionSpec.from_params(params)
        tracker.subject = spec.domain_name
        distribution = LinkDistribution(client_factory("cloudfront"), caller, progress=tracker)
        result = distribution.run(spec, check_mode=check_mode)
    except Exception as exc:  # noqa: BLE001 - one failed result for every error (result_from_exception)
        result = dict(changed=False, retries=caller.retries, aws_requests=caller.calls, wait_history=tracker.history)
        result.update(distribution.written if distribution else {})
        return result_from_exception(exc, result, caller)
    diff_data = result.pop("diff")
    result.update(retries=caller.retries, aws_requests=caller.calls, wait_history=tracker.history)
    if diff:
        result["diff"] = diff_data
    kept = result["preserved_fields"]
    if kept and warn is not None:
        warn("distribution %s was not created by linktrack.https; its %s %s kept as they are (take_over: true sets "
             "the guide's values there too)." % (result["id"], ", ".join(kept), "is" if len(kept) == 1 else "are"))
    return result
