#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dns_preflight
short_description: Refuse, before anything changes, a tracking domain whose DNS would break the migration
version_added: 0.1.0
description:
  - Read-only checks for a tracking domain before the certificate, the distribution or the DNS cutover is made. The
    module fails with a message that names what to fix when one of them would break clicks or the setup.
  - B(CAA.) The relevant CAA record set (RFC 8659, the closest non-empty one climbing from the domain towards the root;
    for a domain that is a CNAME the CNAME target's set) must allow C(amazon.com), C(amazontrust.com),
    C(awstrust.com) or C(amazonaws.com), as the ACM User Guide's page "(Optional) Configure a CAA record" says;
    otherwise ACM leaves the certificate C(FAILED) with C(CAA_ERROR).
  - B(Delegation.) The parent zone's NS records for the zone (the referral the parent's servers give) must be the
    zone's own NS records, the zone the DNS provider writes to. A hosted zone that the registrar does not delegate to
    is never seen by ACM's validation (the certificate stays pending).
  - B(The existing record.) What the domain answers today, C(record.kind) - V(none); V(origin), Iterable's origin of
    O(iterable_region); V(other_region), the other region's origin (refused, almost certainly a wrong O(iterable_region));
    V(ours), the C(cloudfront.net) name given in O(distribution_domain), the domain's own distribution;
    V(other), anything else (refused unless O(takeover=true)). The result says what the cutover will change.
  - B(TTL.) How long resolvers may keep sending clicks to the old target after the cutover (the old record's TTL).
  - Asks the zone's authoritative servers directly (recursion off), the parent zone's servers directly, and the
    system resolver only for names outside both zones (a CNAME target's CAA, the parents above the parent zone).
  - Makes no AWS request. The role reads the domain's distribution beforehand (M(linktrack.https.cloudfront_link_distribution)
    in check mode) and passes its domain name as O(distribution_domain).
author:
  - linktrack.https contributors (@linktrack-https)
requirements:
  - dnspython
extends_documentation_fragment: [linktrack.https.attributes.read_only, linktrack.https.attributes]
options:
  name:
    description: The tracking domain, such as V(links.example.com).
    type: str
    required: true
  zone:
    description:
      - The zone the DNS provider writes to (its apex, such as V(example.com)). Empty - the zone the O(servers) answer
        the name from (the owner of the SOA record in their answer).
    type: str
    default: ""
  servers:
    description:
      - The zone's authoritative servers, V(host) or V(host:port). Empty - the zone's NS records, found with the system
        resolver.
    type: list
    elements: str
    default: []
  zone_name_servers:
    description:
      - The zone's own name servers as the DNS provider knows them (for Route 53, the hosted zone's delegation set).
        Empty - the NS records at the zone apex as O(servers) answer them.
    type: list
    elements: str
    default: []
  parent_servers:
    description:
      - The parent zone's servers, V(host) or V(host:port). Empty - the parent zone's NS records, found with the system
        resolver (for V(example.com), the servers of V(com)).
    type: list
    elements: str
    default: []
  port:
    description: Port for servers given without one and for the servers found from NS records.
    type: int
    default: 53
  current_records:
    description:
      - The record sets at the domain as the DNS provider read them, in Route 53's form (C(Name), C(Type), C(TTL),
        C(ResourceRecords) or C(AliasTarget)), for example route53_records' C(snapshot.record_sets). They show alias
        records, which DNS answers as plain addresses. Not given - the CNAME, A and AAAA answers of O(servers).
    type: list
    elements: dict
  iterable_region:
    description: The Iterable region whose origin the distribution will use.
    type: str
    choices: [usdc, edc]
    default: usdc
  takeover:
    description:
      - Replace a record that points elsewhere (kind V(other)) or at the other region's origin (V(other_region)).
    type: bool
    default: false
  distribution_domain:
    description:
      - The C(dXXXX.cloudfront.net) name of this domain's CloudFront distribution, the
        RV(linktrack.https.cloudfront_link_distribution#module:domain_name) of the distribution that carries O(name) as
        an alias (CloudFront lets only one distribution have it). A C(cloudfront.net) target counts as V(ours) only when
        it is this name. Empty - no distribution yet.
    type: str
    default: ""
  checks:
    description: The checks to make.
    type: list
    elements: str
    choices: [caa, delegation, record]
    default: [caa, delegation, record]
  query_timeout:
    description: Seconds to wait for each DNS answer.
    type: float
    default: 3
notes:
  - Supports check mode (it runs the same way); the module never changes anything and always reports C(changed=false).
  - On real DNS, the delegation is what the TLD's servers answer (asked directly, so no cache); a change made at the
    registrar shows there within minutes, but resolvers may keep the old delegation for its TTL (often two days).
"""

EXAMPLES = r"""
- name: Refuse what would break the migration of links.example.com
  linktrack.https.dns_preflight:
    name: links.example.com
    iterable_region: usdc

- name: The same against test servers, a Route 53 zone read beforehand
  linktrack.https.dns_preflight:
    name: links.example.com
    zone: example.com
    servers: ["127.0.0.1:15354"]
    parent_servers: ["127.0.0.1:15356"]
    current_records: "{{ route53_read.snapshot.record_sets }}"
    distribution_domain: "{{ distribution.domain_name | default('') }}"
"""

RETURN = r"""
name:
  description: The domain, normalised.
  returned: always
  type: str
  sample: links.example.com
zone:
  description: The zone apex the checks used.
  returned: success
  type: str
  sample: example.com
record:
  description:
    - What the domain answers today. C(kind) is V(none), V(origin), V(other_region), V(ours) or V(other);
      C(description) says it in words, C(cutover) what the cutover changes.
  returned: success, with the record check
  type: dict
  sample: {kind: origin, type: CNAME, values: [links.iterable.com], ttl: 300, alias: false,
           description: "CNAME links.iterable.com: Iterable's origin for usdc",
           cutover: "links.example.com: CNAME links.iterable.com -> the distribution (step 5, after the TLS check passed)"}
ttl:
  description: C(seconds) resolvers may keep the old answer after the cutover, and C(message).
  returned: success
  type: dict
  sample: {seconds: 300, message: "after the cutover, resolvers may keep sending clicks to links.iterable.com for up to 5m"}
caa:
  description: C(relevant_name), C(records) (the relevant set), C(allows_amazon) and the names C(checked).
  returned: success, with the CAA check
  type: dict
  sample: {relevant_name: null, records: [], allows_amazon: true, checked: ["links.example.com (zone servers)"]}
delegation:
  description: C(zone), C(zone_name_servers), C(parent), C(parent_servers), C(parent_name_servers) and C(matched).
  returned: success, with the delegation check
  type: dict
  sample: {zone: example.com, parent: com, matched: true, zone_name_servers: [ns1.example.com],
           parent_name_servers: [ns1.example.com], parent_servers: ["127.0.0.1:15355"]}
messages:
  description: What the run found, one line each, for the person watching.
  returned: success
  type: list
  elements: str
problems:
  description: Every refusal, each naming what to fix (the module fails when there is one).
  returned: success
  type: list
  elements: str
passed:
  description: Whether no check refused.
  returned: success
  type: bool
dns_questions:
  description: DNS questions asked directly of servers.
  returned: success
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._preflight import (
    CHECKS,
    ORIGINS,
    run_module,
)

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    zone=dict(type="str", default=""),
    servers=dict(type="list", elements="str", default=[]),
    zone_name_servers=dict(type="list", elements="str", default=[]),
    parent_servers=dict(type="list", elements="str", default=[]),
    port=dict(type="int", default=53),
    current_records=dict(type="list", elements="dict"),
    iterable_region=dict(type="str", choices=list(ORIGINS), default="usdc"),
    takeover=dict(type="bool", default=False),
    distribution_domain=dict(type="str", default=""),
    checks=dict(type="list", elements="str", choices=list(CHECKS), default=list(CHECKS)),
    query_timeout=dict(type="float", default=3),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module)


if __name__ == "__main__":
    main()
