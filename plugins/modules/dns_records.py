#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dns_records
short_description: Publish a few DNS records through Route 53, RFC 2136 or a person, and confirm them
version_added: 0.1.0
description:
  - The DNS step of the P(linktrack.https.link_domain#role) role in one task, whatever the DNS provider.
  - Reads the current records, plans the changes with one planner shared by every provider (the records to UPSERT,
    and the record sets of O(replace_types) that give way, such as a CNAME that becomes alias A/AAAA), writes them,
    confirms them by asking the zone's authoritative name servers, and returns the outcome and a report.
  - V(route53) reads with one C(ListResourceRecordSets) (or none, when O(route53.snapshot) of an earlier call already
    shows the records as wanted), writes with one C(ChangeResourceRecordSets) holding every change and waits for
    C(INSYNC), as M(linktrack.https.route53_records) does.
  - V(rfc2136) reads from the primary server (O(rfc2136.server)) and sends every change in one dynamic update signed
    with TSIG, over TCP; the server applies the whole message or none of it (RFC 2136, section 3.4).
  - V(manual) asks the authoritative name servers what they answer; for the records they do not answer as wanted it
    shows the exact zone lines a person must create or delete (at once, while the task runs), writes them to
    O(manual.records_file) when given, and waits up to O(manual.timeout) seconds for the answers.
  - When a change is needed and O(allow_changes=false), nothing is written and the task fails with
    O(blocked_reason) (in check mode it reports that instead). The role uses this for its cutover guard.
author:
  - linktrack.https contributors (@linktrack-https)
requirements:
  - dnspython
  - boto3 (provider V(route53))
options:
  provider:
    description:
      - Who publishes the records.
    type: str
    required: true
    choices: [route53, rfc2136, manual]
  records:
    description:
      - The records, each with O(records[].name), O(records[].type) and O(records[].value) (or, Route 53 only,
        O(records[].alias)). With O(state=absent) the value may be left out.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The record name, such as V(links.example.com).
        type: str
        required: true
      type:
        description: The record type.
        type: str
        required: true
        choices: [CNAME, A, AAAA, TXT]
      value:
        description: The value (a CNAME target, an address or TXT text).
        type: str
      ttl:
        description: The TTL in seconds (not for alias records).
        type: int
      alias:
        description: A Route 53 alias target (type A or AAAA, provider V(route53) only).
        type: dict
        suboptions:
          dns_name:
            description: The target, such as a CloudFront distribution's domain name.
            type: str
            required: true
          hosted_zone_id:
            description: The target's hosted zone (CloudFront's by default).
            type: str
            default: Z2FDTNDATAQYW2
          evaluate_target_health:
            description: Must be V(false) for CloudFront targets.
            type: bool
            default: false
  state:
    description:
      - V(present) publishes the records; V(absent) deletes them.
    type: str
    choices: [present, absent]
    default: present
  replace_types:
    description:
      - Record types at the records' names that give way (are deleted in the same change) with O(state=present).
    type: list
    elements: str
    choices: [CNAME, A, AAAA, TXT]
    default: []
  purpose:
    description:
      - What the records are for, in words; used in messages and returned.
    type: str
    default: DNS records
  subject:
    description:
      - The name the messages are about, such as the tracking domain; by default the shortest record name.
    type: str
  servers:
    description:
      - The authoritative name servers to confirm with (and, for V(manual), to read from), as V(host) or
        V(host:port) (V([v6]:port)). Empty finds the zone's NS records.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds to wait for C(INSYNC) (Route 53) and for the authoritative answers after a write.
    type: int
    default: 600
  allow_changes:
    description:
      - When V(false) and a change is needed, nothing is written and the task fails with O(blocked_reason).
    type: bool
    default: true
  blocked_reason:
    description:
      - Why changes are not allowed, for the message when O(allow_changes=false).
    type: str
    default: ""
  drain_seconds:
    description:
      - Seconds to wait after a change that was written and confirmed, before the task returns, so that
        resolvers that cached the old answer (for up to its TTL) drop it. The role's teardown sets it to
        the TTL of the record that pointed at the distribution, before it disables the distribution.
      - V(0) waits nothing. Check mode waits nothing and says how long it would wait.
    type: int
    default: 0
  route53:
    description: Settings of the V(route53) provider.
    type: dict
    default: {}
    suboptions:
      zone:
        description: The hosted zone's name; by default the longest matching public zone.
        type: str
      hosted_zone_id:
        description: The hosted zone's id.
        type: str
      allow_private_zone:
        description: Accept a private hosted zone.
        type: bool
        default: false
      read_names:
        description: Further names to read in the same listing (returned in RV(snapshot)).
        type: list
        elements: str
        default: []
      snapshot:
        description: RV(snapshot) of an earlier call (or of M(linktrack.https.route53_records)) to save requests.
        type: dict
  rfc2136:
    description: Settings of the V(rfc2136) provider.
    type: dict
    default: {}
    suboptions:
      server:
        description: IPv4 or IPv6 address of the primary name server that takes the updates.
        type: str
      port:
        description: Its port.
        type: int
        default: 53
      zone:
        description: The zone; by default the one the server's SOA answer names.
        type: str
      key_name:
        description: The TSIG key's name.
        type: str
      key_algorithm:
        description: The TSIG key's algorithm.
        type: str
        default: hmac-sha256
        choices: [hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512]
      key_secret:
        description: The TSIG secret (base64). Never shown.
        type: str
  manual:
    description: Settings of the V(manual) provider.
    type: dict
    default: {}
    suboptions:
      timeout:
        description: Seconds to wait for the person's change.
        type: int
        default: 3600
      records_file:
        description: A file on the controller to write the zone lines to (only when a change is needed).
        type: path
extends_documentation_fragment: [amazon.aws.common.modules, amazon.aws.region.modules, amazon.aws.boto3,
  linktrack.https.attributes.controller, linktrack.https.attributes.read_only, linktrack.https.attributes]
attributes:
  check_mode:
    details: Reads only; the report shows what would change, and V(manual) shows the instructions without waiting.
  diff_mode:
    details: The diff has one field per changed record (C(NAME TYPE)), its value before and after; RV(records) has every record.
notes:
  - The AWS options only matter for V(route53).
  - Run by the action plugin, the manual instructions and every poll are shown while the task runs.
"""

EXAMPLES = r"""
- name: Point the tracking domain at the distribution, replacing alias A/AAAA records
  linktrack.https.dns_records:
    provider: route53
    records:
      - {name: links.example.com, type: CNAME, value: d111111abcdef8.cloudfront.net, ttl: 300}
    replace_types: [A, AAAA]
    purpose: tracking domain record

- name: The same through BIND with a TSIG key
  linktrack.https.dns_records:
    provider: rfc2136
    records:
      - {name: links.example.com, type: CNAME, value: d111111abcdef8.cloudfront.net, ttl: 300}
    replace_types: [A, AAAA]
    rfc2136:
      server: 192.0.2.53
      key_name: ansible
      key_secret: "{{ vault_tsig_secret }}"

- name: Ask a person, and wait up to an hour
  linktrack.https.dns_records:
    provider: manual
    records:
      - {name: links.example.com, type: CNAME, value: d111111abcdef8.cloudfront.net, ttl: 300}
    manual:
      timeout: 3600
      records_file: /tmp/links.example.com.zone
"""

RETURN = r"""
provider:
  description: The provider that ran.
  returned: always
  type: str
  sample: route53
purpose:
  description: O(purpose).
  returned: success
  type: str
  sample: tracking domain record
records:
  description: One entry per record changed or already in place, with its value before and after (V(null) for none).
  returned: success
  type: list
  elements: dict
  sample:
    - {name: links.example.com, type: CNAME, changed: true, before: CNAME links.iterable.com,
       after: CNAME d111111abcdef8.cloudfront.net}
report:
  description: The lines the role prints, one per record.
  returned: success
  type: list
  elements: str
  sample: ["links.example.com: CNAME links.iterable.com  ->  CNAME d111111abcdef8.cloudfront.net"]
instructions:
  description: For V(manual), the block a person reads (zone lines, what the servers answer now).
  returned: when a person must change records
  type: list
  elements: str
confirmed:
  description: The records confirmed through the authoritative name servers after the write.
  returned: success
  type: list
  elements: dict
blocked:
  description: Whether a change was needed but O(allow_changes=false) (check mode).
  returned: success
  type: bool
drained_seconds:
  description: The seconds waited after the change (O(drain_seconds)); V(0) when nothing changed or in check mode.
  returned: success
  type: float
snapshot:
  description: For V(route53), the record sets as they are now; pass it as O(route53.snapshot) to a later call.
  returned: provider route53
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.linktrack.https.plugins.module_utils._aws import aws_client
from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._dns import DNSPYTHON_REQUIREMENT, TSIG_ALGORITHMS
from ansible_collections.linktrack.https.plugins.module_utils._dns_records import PROVIDER_NAMES, STATES, run_module
from ansible_collections.linktrack.https.plugins.module_utils._records import RECORD_TYPES

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    provider=dict(type="str", required=True, choices=list(PROVIDER_NAMES)),
    records=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        type=dict(type="str", required=True, choices=list(RECORD_TYPES)),
        value=dict(type="str"),
        ttl=dict(type="int"),
        alias=dict(type="dict", options=dict(
            dns_name=dict(type="str", required=True),
            hosted_zone_id=dict(type="str", default="Z2FDTNDATAQYW2"),
            evaluate_target_health=dict(type="bool", default=False),
        )),
    )),
    state=dict(type="str", choices=list(STATES), default="present"),
    replace_types=dict(type="list", elements="str", choices=list(RECORD_TYPES), default=[]),
    purpose=dict(type="str", default="DNS records"),
    subject=dict(type="str"),
    servers=dict(type="list", elements="str", default=[]),
    timeout=dict(type="int", default=600),
    allow_changes=dict(type="bool", default=True),
    blocked_reason=dict(type="str", default=""),
    drain_seconds=dict(type="int", default=0),
    route53=dict(type="dict", default={}, options=dict(
        zone=dict(type="str"),
        hosted_zone_id=dict(type="str"),
        allow_private_zone=dict(type="bool", default=False),
        read_names=dict(type="list", elements="str", default=[]),
        snapshot=dict(type="dict"),
    )),
    rfc2136=dict(type="dict", default={}, options=dict(
        server=dict(type="str"),
        port=dict(type="int", default=53),
        zone=dict(type="str"),
        key_name=dict(type="str"),
        key_algorithm=dict(type="str", default="hmac-sha256", choices=list(TSIG_ALGORITHMS)),
        key_secret=dict(type="str", no_log=True),
    )),
    manual=dict(type="dict", default={}, options=dict(
        timeout=dict(type="int", default=3600),
        records_file=dict(type="path"),
    )),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleAWSModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module,
                requirements=[DNSPYTHON_REQUIREMENT], client_factory=aws_client)


if __name__ == "__main__":
    main()
