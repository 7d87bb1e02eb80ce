#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: route53_records
short_description: Manage a few Route 53 record sets of one hosted zone in one change batch
version_added: 0.1.0
description:
  - Creates, updates or deletes simple Route 53 record sets (CNAME, A, AAAA, TXT, and alias A/AAAA, for example
    to a CloudFront distribution) of one public hosted zone.
  - Makes a fixed, small number of requests, whatever the number of records; one zone lookup
    (C(ListHostedZonesByName), or C(GetHostedZone) when O(hosted_zone_id) is given), one C(ListResourceRecordSets)
    covering every record name, one C(ChangeResourceRecordSets) holding every change, then C(GetChange) until the
    change is C(INSYNC) when O(wait=true). A no-op run makes two requests, one when O(known_zones) holds the zone, or
    none when O(snapshot) already shows the desired state.
  - Compares the records in normalised form (names and CNAME targets in lower case without trailing dot, values in
    any order, alias targets with or without trailing dot) and UPSERTs only what differs. Never uses CREATE, which
    Route 53 refuses for a record set that exists (C(InvalidChangeBatch)). A CNAME replaces other types at its name
    (or the other way round) only through O(replace_types), as a DELETE and an UPSERT in the same batch, because a
    CNAME beside other data is refused too.
  - All input is checked before any write. Errors name the option, such as V(records[1].ttl).
  - Manages simple record sets only; a name that holds record sets with a routing policy (C(SetIdentifier)) is
    rejected.
author:
  - linktrack.https contributors (@linktrack-https)
options:
  zone:
    description:
      - Name of the public hosted zone, such as V(example.com).
      - When neither O(zone) nor O(hosted_zone_id) is given, the longest matching public hosted zone for the
        records' names is used. All records must then belong to the same zone.
    type: str
  hosted_zone_id:
    description:
      - Id of the hosted zone, with or without the C(/hostedzone/) prefix.
      - A private hosted zone is refused unless O(allow_private_zone=true).
      - When O(zone) is given too, both must name the same zone.
    type: str
  allow_private_zone:
    description:
      - Accept a private hosted zone given by O(hosted_zone_id) (or in O(snapshot)). Records there are seen only
        inside the zone's VPCs, not by ACM's validation or by the readers of an email, so the default refuses such a
        zone, before any write.
      - Zones found by name (O(zone), or the longest match) are always public ones; a private zone of the same name
        is passed over.
      - Even with V(true), an alias to CloudFront is refused in a private zone, because Route 53 does not accept it
        there.
    type: bool
    default: false
  known_zones:
    description:
      - The RV(linktrack.https.aws_shared_listing#module:zones) of one listing made for the whole play, a hint that
        saves this call its own C(ListHostedZonesByName) when neither O(zone), O(hosted_zone_id) nor O(snapshot) is
        given. The longest matching public zone among them is chosen as from the module's own listing and taken only
        when C(ListResourceRecordSets) with this task's credentials reads it; no fitting zone there, or a zone these
        credentials cannot read (another account), and the module looks the zone up on its own as without the hint.
    type: list
    elements: dict
  records:
    description:
      - The record sets to manage. Each name and type may appear once.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Fully qualified name of the record, such as V(links.example.com). Lower case and a trailing dot do not
            matter. Underscores (V(_abc.links.example.com)) and a leading V(*.) are accepted.
        type: str
        required: true
      type:
        description:
          - Record type.
        type: str
        required: true
        choices: [CNAME, A, AAAA, TXT]
      value:
        description:
          - The one value of the record. Mutually exclusive with O(records[].values) and O(records[].alias).
          - For TXT, text without quotes is quoted (and cut into 255-character strings); text starting with a quote
            is taken as Route 53 writes it.
          - With O(state=absent), a given value must match the current one, or the module fails instead of deleting.
        type: str
      values:
        description:
          - Several values (A, AAAA, TXT). Their order does not matter.
        type: list
        elements: str
      ttl:
        description:
          - TTL in seconds, 0 to 2147483647. Defaults to 300 for records with a value.
          - Alias records have no TTL; giving one is an error.
        type: int
      alias:
        description:
          - Makes the record an alias (type A or AAAA only).
        type: dict
        suboptions:
          dns_name:
            description:
              - The target, such as the distribution's domain V(d111111abcdef8.cloudfront.net).
            type: str
            required: true
          hosted_zone_id:
            description:
              - Hosted zone id of the target. The default is CloudFront's.
            type: str
            default: Z2FDTNDATAQYW2
          evaluate_target_health:
            description:
              - Whether Route 53 evaluates the target's health.
              - V(true) is refused, before any request, for a CloudFront target (hosted zone C(Z2FDTNDATAQYW2) or a
                C(cloudfront.net) name), which Route 53 cannot health-check.
            type: bool
            default: false
  state:
    description:
      - V(present) creates or updates the records. V(absent) deletes them if they exist, with their current values
        as Route 53 requires; value, values and alias may then be left out.
    type: str
    choices: [present, absent]
    default: present
  replace_types:
    description:
      - Record types to remove at the names of O(records) in the same change batch, unless O(records) asks for that
        type at that name. Use it to turn a CNAME into alias A and AAAA records (V([CNAME])) or back (V([A, AAAA])).
      - Without it, a CNAME beside other types at one name is an error, before any write.
    type: list
    elements: str
    choices: [CNAME, A, AAAA, TXT]
    default: []
  read_names:
    description:
      - More names whose current record sets are read in the same C(ListResourceRecordSets) request and returned in
        RV(snapshot), without being changed. A later call of the same run can then get them from O(snapshot).
    type: list
    elements: str
    default: []
  snapshot:
    description:
      - The RV(snapshot) returned by an earlier call in the same run. Its zone is used without a lookup. When it
        covers every record name and already shows the desired state, the module makes no request at all.
      - When it does not show the desired state, the module reads the record sets afresh before it writes, so a
        write never relies on the snapshot.
    type: dict
  wait:
    default: true
  wait_timeout:
    default: 300
extends_documentation_fragment: [amazon.aws.common.modules, amazon.aws.region.modules, amazon.aws.boto3,
  linktrack.https.attributes, linktrack.https.wait]
notes:
  - O(wait=true) waits until Route 53 reports the change C(INSYNC) (on all its name servers).
  - Route 53 is a global service; requests are signed for us-east-1 whatever O(region) says.
  - Supports check mode (no write, the exact changes are reported) and diff mode (exactly the record sets that
    differ).
  - Throttling and C(PriorRequestNotComplete) are retried with a jittered backoff; RV(retries) counts the retries.
"""

EXAMPLES = r"""
- name: Publish the ACM validation record, reading the tracking domain's records in the same request
  linktrack.https.route53_records:
    records:
      - name: _3639ac514e785e898d2646601fa951d5.links.example.com
        type: CNAME
        value: _98d2646601fa951d53639ac514e785e8.acm-validations.aws
    read_names:
      - links.example.com
  register: validation_dns

- name: Point the tracking domain at CloudFront (alias A + AAAA), replacing an old CNAME in the same batch
  linktrack.https.route53_records:
    snapshot: "{{ validation_dns.snapshot }}"
    records:
      - name: links.example.com
        type: A
        alias:
          dns_name: d111111abcdef8.cloudfront.net
      - name: links.example.com
        type: AAAA
        alias:
          dns_name: d111111abcdef8.cloudfront.net
    replace_types: [CNAME]

- name: A plain CNAME in a given zone, without waiting for INSYNC
  linktrack.https.route53_records:
    zone: example.com
    records:
      - name: links.example.com
        type: CNAME
        value: d111111abcdef8.cloudfront.net
        ttl: 60
    wait: false

- name: Remove the records again
  linktrack.https.route53_records:
    hosted_zone_id: Z0123456789ABCDEFGHIJ
    state: absent
    records:
      - name: links.example.com
        type: A
      - name: links.example.com
        type: AAAA
"""

RETURN = r"""
hosted_zone_id:
  description: Id of the hosted zone, without the /hostedzone/ prefix.
  returned: success
  type: str
  sample: Z0123456789ABCDEFGHIJ
zone:
  description: Name of the hosted zone, without trailing dot.
  returned: success
  type: str
  sample: example.com
changes:
  description:
    - Each change made (or, in check mode, that would be made), deletes first, as sent in the one change batch.
    - C(before) and C(after) are V(null) or a dictionary with C(ttl) and C(values), or with C(alias).
  returned: success
  type: list
  elements: dict
  sample:
    - action: DELETE
      name: links.example.com
      type: CNAME
      before: {ttl: 300, values: [links.iterable.com]}
      after: null
    - action: UPSERT
      name: links.example.com
      type: A
      before: null
      after: {alias: {dns_name: d111111abcdef8.cloudfront.net, hosted_zone_id: Z2FDTNDATAQYW2, evaluate_target_health: false}}
differences:
  description: The record sets that differ, as C(field) (name and type), C(before) and C(after).
  returned: success
  type: list
  elements: dict
  sample:
    - field: links.example.com CNAME
      before: {ttl: 300, values: [links.iterable.com]}
      after: null
change_id:
  description: Id of the Route 53 change, or V(null) when nothing was sent.
  returned: success
  type: str
  sample: C2682N5HXP0BZ4
status:
  description: Status of the change (V(PENDING) or V(INSYNC)), or V(null) when nothing was sent.
  returned: success
  type: str
  sample: INSYNC
waited_seconds:
  description: Seconds spent waiting for C(INSYNC).
  returned: success
  type: float
  sample: 0
wait_history:
  description:
    - One entry per C(GetChange) poll while waiting for C(INSYNC) (C(what), C(state), C(elapsed), C(timeout),
      C(done)). Empty when nothing was awaited.
    - "Run by the action plugin, each poll is also shown while the task runs, as
      C(links.example.com: Route 53 change C2682N5HXP0BZ4 PENDING, 4s of 5m)."
  returned: always
  type: list
  elements: dict
  sample:
    - {what: Route 53 change C2682N5HXP0BZ4, state: PENDING, elapsed: 0.0, timeout: 300, done: false}
    - {what: Route 53 change C2682N5HXP0BZ4, state: INSYNC, elapsed: 3.2, timeout: 300, done: true}
private_zone:
  description: Whether the hosted zone is a private one (only with O(allow_private_zone=true)).
  returned: success
  type: bool
  sample: false
read_from:
  description: Where the current record sets came from, V(route53) (one listing) or V(snapshot) (no request).
  returned: success
  type: str
  sample: route53
snapshot:
  description:
    - The zone and the record sets at every record name and O(read_names) name after this call (in check mode, as
      they would be). Pass it as O(snapshot) to a later call of the same run to save its requests.
  returned: success
  type: dict
  sample:
    hosted_zone_id: Z0123456789ABCDEFGHIJ
    zone: example.com
    private_zone: false
    names: [links.example.com]
    record_sets:
      - Name: links.example.com.
        Type: CNAME
        TTL: 300
        ResourceRecords: [{Value: links.iterable.com}]
retries:
  description: How many AWS requests were retried (throttling, PriorRequestNotComplete, 5xx, dropped connections).
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.linktrack.https.plugins.module_utils._aws import aws_client
from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._route53 import CLOUDFRONT_HOSTED_ZONE_ID, run_module
from ansible_collections.linktrack.https.plugins.module_utils._records import RECORD_TYPES

# The action plugin of the same name validates with these too (plugins/action/).
RECORD_OPTIONS = dict(
    name=dict(type="str", required=True),
    type=dict(type="str", required=True, choices=list(RECORD_TYPES)),
    value=dict(type="str"),
    values=dict(type="list", elements="str"),
    ttl=dict(type="int"),
    alias=dict(
        type="dict",
        options=dict(
            dns_name=dict(type="str", required=True),
            hosted_zone_id=dict(type="str", default=CLOUDFRONT_HOSTED_ZONE_ID),
            evaluate_target_health=dict(type="bool", default=False),
        ),
    ),
)

ARGUMENT_SPEC = dict(
    zone=dict(type="str"),
    hosted_zone_id=dict(type="str"),
    records=dict(type="list", elements="dict", required=True, options=RECORD_OPTIONS),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    replace_types=dict(type="list", elements="str", choices=list(RECORD_TYPES), default=[]),
    read_names=dict(type="list", elements="str", default=[]),
    snapshot=dict(type="dict"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=300),
    allow_private_zone=dict(type="bool", default=False),
    known_zones=dict(type="list", elements="dict"),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleAWSModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, client_factory=aws_client)


if __name__ == "__main__":
    main()
