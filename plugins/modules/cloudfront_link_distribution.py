#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudfront_link_distribution
short_description: The CloudFront distribution that gives an Iterable link tracking domain HTTPS
version_added: 0.1.0
description:
  - Creates, repairs, awaits and deletes exactly one Amazon CloudFront distribution per link tracking domain, configured
    as Iterable's guide "HTTPS for link tracking domains with Amazon CloudFront" prescribes (steps 2 and 3).
  - Every row of the guide's Origin, Default Cache Behavior and Settings tables is set explicitly. The origin is
    O(iterable_region)'s link host over HTTPS only (ports 80/443, minimum origin protocol TLSv1.2, empty origin path,
    origin id = origin domain, no custom headers, Origin Shield off, 3 connection attempts, connection timeout 10,
    response timeout 30, keep-alive 5). The default behaviour compresses, allows all seven HTTP methods and caches GET
    and HEAD, restricts no viewers and, with the guide's legacy cache settings, forwards all headers, query strings
    and cookies with object caching following the origin (MinTTL 0, DefaultTTL 86400, MaxTTL 31536000, which are the
    console's values for "use origin cache headers"). No response headers policy, smooth streaming, field-level encryption,
    real-time logs or function associations. Settings are all edge locations, no WAF, the alias, the ACM
    certificate with SNI only and security policy TLSv1.2_2021, HTTP/2, no default root object, logging off and IPv6
    on.
  - The distribution is found by its alias (every page of ListDistributions, compared in lower case) or by
    O(distribution_id). A no-op run makes two requests, ListDistributions and GetDistributionConfig (three when the
    distribution has more than the guide's settings, a web ACL for example; its tags then say whether this collection
    made it). With O(candidate_distributions) naming the one distribution that already carries the alias (the
    certificate's RV(linktrack.https.acm_dns_certificate#module:in_use_by)), it makes one, C(GetDistribution).
  - Only the fields above are compared, after both sides are normalised; defaults that AWS adds by itself never
    cause a change. Drift in one of them (a setting changed in the console) is repaired with C(UpdateDistribution)
    using the ETag of a fresh read; a stale ETag is fetched again and the update retried a bounded number of times.
    Parts the guide does not mention (cache behaviours for other paths, geo restrictions, custom error pages) are
    left as they are.
  - A distribution this collection did not create (no C(linktrack.https:managed=true) tag), found by its alias or
    given as O(distribution_id), keeps what the guide's distribution does not have and someone may rely on, an AWS
    WAF web ACL, standard logging, other origins, cache behaviours for other paths and origin groups; RV(preserved_fields)
    names them. O(take_over=true) sets the guide's values there too.
  - New distributions are created with a deterministic caller reference derived from the alias and the certificate's
    id, so a create that is retried after a time-out finds the first distribution instead of making a second, and
    every setup and teardown cycle (a new certificate each) has a reference of its own; CloudFront refuses a caller
    reference once used, also after its distribution was deleted. When the reference is taken by a distribution that
    no longer exists, the next one of a fixed sequence (V(#2), V(#3)...) is used. New distributions carry the tag
    C(linktrack.https:managed=true).
author:
  - linktrack.https contributors (@linktrack-https)
options:
  domain_name:
    description:
      - The link tracking domain, for example C(links.example.com). It becomes the distribution's only alternate
        domain name (CNAME).
      - Lower case, no trailing dot; international names are converted to punycode. Wildcards are refused.
    type: str
    required: true
  certificate_arn:
    description:
      - ARN of the ISSUED ACM certificate that covers O(domain_name), for example the C(arn) returned by
        M(linktrack.https.acm_dns_certificate).
      - It must be an ACM certificate in us-east-1 of the C(aws) partition, C(arn:aws:acm:us-east-1:ACCOUNT:certificate/ID),
        because CloudFront takes certificates from nowhere else.
      - Required when O(state=present).
    type: str
  iterable_region:
    description:
      - Where the Iterable project lives. V(usdc) makes the origin C(links.iterable.com), V(edc) makes it
        C(links.eu.iterable.com).
    type: str
    choices: [usdc, edc]
    default: usdc
  origin_domain:
    description:
      - An explicit origin host name, overriding O(iterable_region). Meant for tests and for Iterable hosts the
        region words do not cover.
    type: str
  state:
    description:
      - V(present) creates the distribution or repairs it to the guide's configuration.
      - V(absent) disables the distribution, waits until that is deployed and deletes it. Only distributions tagged
        C(linktrack.https:managed=true) are deleted unless O(force=true). Absent when already absent changes nothing.
    type: str
    choices: [present, absent]
    default: present
  wait:
    default: false
  wait_timeout:
    default: 2400
  tags:
    description:
      - Tags for the distribution. They are set on create together with C(linktrack.https:managed=true).
      - When given, the distribution's tags are read and missing or different ones are set (one extra request).
        When omitted, tags are neither read nor changed.
      - The key C(linktrack.https:managed) is reserved.
    type: dict
  purge_tags:
    description:
      - With O(tags), also remove tags that are not in O(tags) (C(linktrack.https:managed) is always kept).
    type: bool
    default: false
  comment:
    description:
      - The distribution's comment, at most 128 characters.
      - When omitted, a new distribution gets C(linktrack.https - HTTPS link tracking for DOMAIN) and an existing
        comment is not compared.
    type: str
  enabled:
    description:
      - Whether the distribution serves traffic. The guide's distribution is enabled.
    type: bool
    default: true
  distribution_id:
    description:
      - Work on this distribution instead of finding one by O(domain_name). Useful to adopt a distribution made by
        hand. It is read with one C(GetDistribution); if it lacks the alias and another distribution carries it, the
        module fails and changes nothing.
    type: str
  candidate_distributions:
    description:
      - Distributions that may already carry O(domain_name), as ids or ARNs; typically the RV(linktrack.https.acm_dns_certificate#module:in_use_by)
        of the certificate, whose users are the distributions that serve it. When exactly one of them is a CloudFront
        distribution, it is read with one C(GetDistribution), and used if it carries O(domain_name) (CloudFront
        allows an alias on one distribution only), so no C(ListDistributions) is needed.
      - A hint only. Values that are not CloudFront distributions are left out; a candidate that is gone or lacks the
        alias, or several candidates, mean the distribution is found by its alias as without this option. Ignored
        with O(distribution_id) and with O(state=absent).
    type: list
    elements: str
    default: []
  viewer_protocol_policy:
    description:
      - How viewers may connect. V(allow-all) is the guide's setting and keeps C(http://) links in emails already
        sent working. V(redirect-to-https) sends plain HTTP clicks to HTTPS first, at the cost of one more round
        trip. (C(https-only) is not offered because it would break C(http://) links that are already out.)
    type: str
    choices: [allow-all, redirect-to-https]
    default: allow-all
  price_class:
    description:
      - Which edge locations serve the domain. V(PriceClass_All) is the guide's "use all edge locations (best
        performance)"; the smaller classes cost less and are slower for far-away readers.
    type: str
    choices: [PriceClass_All, PriceClass_200, PriceClass_100]
    default: PriceClass_All
  http_version:
    description:
      - Highest HTTP version offered to viewers. V(http2) is the guide's; V(http2and3) adds HTTP/3 (QUIC) for
        clients that support it. V(http1.1) and V(http3) are accepted because CloudFront accepts them.
    type: str
    choices: [http1.1, http2, http3, http2and3]
    default: http2
  cache_mode:
    description:
      - V(legacy) is the guide's "Legacy cache settings" (all headers, query strings and cookies forwarded; origin
        cache headers followed).
      - V(managed_policies) uses cache policy O(cache_policy_id) and origin request policy O(origin_request_policy_id)
        instead, by default AWS's managed C(CachingDisabled) and C(AllViewer), which forward the same and cache
        nothing. AWS recommends policies over legacy settings; the two cannot be mixed.
    type: str
    choices: [legacy, managed_policies]
    default: legacy
  cache_policy_id:
    description:
      - Cache policy id with O(cache_mode=managed_policies). Default C(4135ea2d-6df8-44a3-9df3-4b5a84be39ad)
        (Managed-CachingDisabled). Refused with O(cache_mode=legacy).
    type: str
  origin_request_policy_id:
    description:
      - Origin request policy id with O(cache_mode=managed_policies). Default
        C(216adef6-5c7f-47e4-b989-5492eafa07d3) (Managed-AllViewer). Refused with O(cache_mode=legacy).
    type: str
  force:
    description:
      - With O(state=absent), delete the distribution carrying the alias even if this collection did not create it.
    type: bool
    default: false
  take_over:
    description:
      - With O(state=present) and a distribution this collection did not create (no C(linktrack.https:managed=true)
        tag), set the guide's values also where that distribution has more than the guide, removing its AWS WAF web
        ACL (C(WebACLId)), its standard logging (C(Logging)) and its other origins.
      - With V(false), those are kept and listed in RV(preserved_fields). Distributions the collection created are
        always repaired to the guide's settings.
    type: bool
    default: false
notes:
  - O(wait=true) waits until the distribution's status is C(Deployed) (step 3 of the guide), polling with growing
    intervals from 5 up to 60 seconds. Real deployments take up to about 35 minutes, hence the O(wait_timeout) default
    of 40 minutes. With O(wait=false) the module returns at once; a later run with O(wait=true) and nothing to change
    only waits. O(state=absent) always waits after disabling, because CloudFront deletes only deployed, disabled
    distributions.
  - CloudFront is global and its API is signed for us-east-1; a O(region) other than C(us-east-1) is refused.
  - One distribution per alias. If the alias sits on another distribution (or AWS answers C(CNAMEAlreadyExists)),
    the module fails, names that distribution where it can be seen, and changes nothing. For an alias held in another
    AWS account the message says how to move it (a TXT record C(_ALIAS) with the target distribution's domain name,
    then C(AssociateAlias)), as the CloudFront Developer Guide's "Move an alternate domain name" describes.
  - Only the fields the module owns appear in RV(differences) and in C(--diff). Custom origin header values are
    never shown, only their names.
extends_documentation_fragment: [amazon.aws.common.modules, amazon.aws.region.modules, amazon.aws.boto3,
  linktrack.https.attributes, linktrack.https.wait]
"""

EXAMPLES = r"""
- name: Create (or repair) the distribution of links.example.com and wait until it is deployed
  linktrack.https.cloudfront_link_distribution:
    domain_name: links.example.com
    certificate_arn: "{{ certificate.arn }}"
    iterable_region: usdc
    wait: true
  register: distribution

- name: Point DNS at it afterwards
  ansible.builtin.debug:
    msg: "links.example.com CNAME {{ distribution.domain_name }}"

- name: An EU project, redirecting plain HTTP to HTTPS, with the managed policies instead of legacy cache settings
  linktrack.https.cloudfront_link_distribution:
    domain_name: links.eu-brand.example
    certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0f2c5a4e-1111-2222-3333-444455556666
    iterable_region: edc
    viewer_protocol_policy: redirect-to-https
    cache_mode: managed_policies
    tags:
      team: lifecycle

- name: Start the deployment now, do other work, and wait for it later
  linktrack.https.cloudfront_link_distribution:
    domain_name: links.example.com
    certificate_arn: "{{ certificate.arn }}"
    wait: false

- name: Later, only wait (nothing left to change)
  linktrack.https.cloudfront_link_distribution:
    domain_name: links.example.com
    certificate_arn: "{{ certificate.arn }}"
    wait: true
    wait_timeout: 2400

- name: Remove the distribution (disable, wait until deployed, delete)
  linktrack.https.cloudfront_link_distribution:
    domain_name: links.example.com
    state: absent
"""

RETURN = r"""
id:
  description: The distribution's id. V(null) in check mode when the distribution would be created.
  returned: always
  type: str
  sample: E2QWRUHAPOMQZL
arn:
  description: The distribution's ARN.
  returned: always
  type: str
  sample: arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL
domain_name:
  description: The distribution's own host name, the target of the tracking domain's CNAME (step 5 of the guide).
  returned: always
  type: str
  sample: d111111abcdef8.cloudfront.net
status:
  description: C(InProgress) or C(Deployed); C(Deleted) after O(state=absent) deleted it.
  returned: always
  type: str
  sample: Deployed
enabled:
  description: Whether the distribution is enabled.
  returned: always
  type: bool
  sample: true
aliases:
  description: The distribution's alternate domain names, lower case.
  returned: always
  type: list
  elements: str
  sample: [links.example.com]
origin_domain:
  description: The host name of the origin the default behaviour uses.
  returned: always
  type: str
  sample: links.iterable.com
certificate_arn:
  description: The ACM certificate the distribution serves.
  returned: always
  type: str
  sample: arn:aws:acm:us-east-1:123456789012:certificate/0f2c5a4e-1111-2222-3333-444455556666
created:
  description: Whether this run created the distribution.
  returned: always
  type: bool
  sample: false
differences:
  description:
    - Every owned field that differed from the guide's configuration (or every field, when the distribution is
      created; or C(Enabled) and C(Distribution) for O(state=absent)). Empty when nothing changed.
    - Field names follow the CloudFront API (C(Origin.*) is the origin the default behaviour uses); tag
      differences are C(Tags.KEY).
  returned: always
  type: list
  elements: dict
  contains:
    field:
      description: The field.
      type: str
    before:
      description: Its value before (null when it did not exist).
      type: raw
    after:
      description: Its value after (null when it is removed).
      type: raw
  sample:
    - field: DefaultCacheBehavior.Compress
      before: false
      after: true
waited_seconds:
  description: Seconds spent waiting for C(Deployed).
  returned: always
  type: float
  sample: 412.5
wait_history:
  description:
    - One entry per poll of a wait for C(Deployed), the first and the latest ones when there were more than 200.
      Empty when nothing was awaited.
    - "Run by the action plugin, each poll is also shown while the task runs, as
      C(links.example.com: distribution E2QWRUHAPOMQZL InProgress, 3m10s of 40m)."
    - Each entry has the keys of RV(linktrack.https.dns_record_wait#module:wait_history); here C(what) is
      C(distribution ID), C(state) the status seen (C(InProgress) or C(Deployed)), C(elapsed) the seconds since the
      wait began and C(timeout) O(wait_timeout).
  returned: always
  type: list
  elements: dict
  sample:
    - {what: distribution E2QWRUHAPOMQZL, state: InProgress, elapsed: 0.0, timeout: 2400, done: false}
    - {what: distribution E2QWRUHAPOMQZL, state: Deployed, elapsed: 190.4, timeout: 2400, done: true}
preserved_fields:
  description:
    - What a distribution this collection did not create has beyond the guide's settings and an update kept, as
      C(WebACLId), C(Logging), C(Origins[ID]), C(CacheBehaviors[PATH]), C(OriginGroups[ID]). Empty for the
      collection's own distributions and with O(take_over=true).
  returned: always
  type: list
  elements: str
  sample: [WebACLId, Logging]
retries:
  description: How many CloudFront requests were retried (throttling, or a transient error such as a dropped connection).
  returned: always
  type: int
  sample: 0
aws_requests:
  description: How many requests this run sent to CloudFront (its only AWS service), retries included.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.linktrack.https.plugins.module_utils._aws import aws_client
from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._cloudfront import (
    CACHE_MODES,
    HTTP_VERSIONS,
    PRICE_CLASSES,
    VIEWER_PROTOCOL_POLICIES,
    run_module,
)

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    domain_name=dict(type="str", required=True),
    certificate_arn=dict(type="str"),
    iterable_region=dict(type="str", choices=["usdc", "edc"], default="usdc"),
    origin_domain=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=2400),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=False),
    comment=dict(type="str"),
    enabled=dict(type="bool", default=True),
    distribution_id=dict(type="str"),
    candidate_distributions=dict(type="list", elements="str", default=[]),
    viewer_protocol_policy=dict(type="str", choices=list(VIEWER_PROTOCOL_POLICIES), default="allow-all"),
    price_class=dict(type="str", choices=list(PRICE_CLASSES), default="PriceClass_All"),
    http_version=dict(type="str", choices=list(HTTP_VERSIONS), default="http2"),
    cache_mode=dict(type="str", choices=list(CACHE_MODES), default="legacy"),
    cache_policy_id=dict(type="str"),
    origin_request_policy_id=dict(type="str"),
    force=dict(type="bool", default=False),
    take_over=dict(type="bool", default=False),
)
MODULE_KWARGS = dict(required_if=[("state", "present", ["certificate_arn"])], supports_check_mode=True)


def main():
    module_main(AnsibleAWSModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, client_factory=aws_client)


if __name__ == "__main__":
    main()
