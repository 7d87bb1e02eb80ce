#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dns_record_wait
short_description: Wait until the authoritative name servers answer a DNS record with the expected values
version_added: 0.1.0
description:
  - Asks the zone's authoritative name servers directly (recursion off, with dnspython), never a caching
    resolver, until they answer the record with the expected values, or the deadline passes.
  - Only answers with the AA (authoritative answer) flag count; a resolver or a server that refers elsewhere is
    reported as not authoritative.
  - Without O(servers), finds the zone's name servers by looking up NS records with the system resolver, walking
    up from O(name), and asks each of them.
  - Sleeps between rounds grow from 1 to 10 seconds. On timeout the module fails and says what each server answered
    instead (NXDOMAIN, NODATA, a CNAME, other values, a timeout...).
  - Only reads; check mode runs it the same way.
author:
  - linktrack.https contributors (@linktrack-https)
extends_documentation_fragment: [linktrack.https.attributes.read_only, linktrack.https.attributes, linktrack.https.dns]
requirements:
  - dnspython
options:
  name:
    description:
      - The record name, such as V(links.example.com). Lower case and a trailing dot do not matter.
    type: str
    required: true
  type:
    description:
      - The record type to ask for.
    type: str
    required: true
    choices: [CNAME, A, AAAA, TXT]
  values:
    description:
      - The expected values. CNAME targets are compared in lower case without trailing dot, addresses in canonical
        form, TXT as the joined text (quotes optional).
      - Empty means any answer of the type will do (with O(state=present)).
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) waits for the values; V(absent) waits until no record of the type is left at the name (NXDOMAIN
        or NODATA), for example after a teardown. O(values) must then be empty.
    type: str
    choices: [present, absent]
    default: present
  match:
    description:
      - V(exact) wants exactly O(values); V(contains) wants at least O(values), other values may be present.
    type: str
    choices: [exact, contains]
    default: exact
  timeout:
    description:
      - Deadline in seconds. V(0) asks once and fails at once when the answers do not match.
    type: int
    default: 600
  mode:
    description:
      - V(all) waits until every server answers as expected; V(any) until at least one does.
    type: str
    choices: [all, any]
    default: all
notes:
  - Supports check mode; the module never changes anything and always reports C(changed=false).
  - Why this module beside M(community.dns.wait_for_txt) and the P(community.general.dig#lookup) lookup -
    C(community.dns.wait_for_txt) waits for TXT records only, on the authoritative name servers it finds itself on
    port 53 (its C(server) option picks the resolver used to find them, by IP
    address). The collection also waits for the ACM validation CNAME, the cutover CNAME or alias A/AAAA and for
    records to be gone (O(state=absent)), and tests against name servers on other ports (V(host:port)).
    The C(dig) lookup asks once, on the controller, through a resolver unless told otherwise, and neither waits
    nor checks that the answer is authoritative (the AA flag), which this module does for every server.
seealso:
  - module: community.dns.wait_for_txt
  - plugin: community.general.dig
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Wait until the zone's name servers answer the new CNAME
  linktrack.https.dns_record_wait:
    name: links.example.com
    type: CNAME
    values: [d111111abcdef8.cloudfront.net]

- name: Ask a test server on a high port and IPv6 loopback, accept it when one of them answers
  linktrack.https.dns_record_wait:
    name: _3639ac514e785e898d2646601fa951d5.links.example.com
    type: CNAME
    values: [_98d2646601fa951d53639ac514e785e8.acm-validations.aws.]
    servers: ["127.0.0.1:5353", "[::1]:5353"]
    mode: any
    timeout: 120

- name: Alias A records exist (any address)
  linktrack.https.dns_record_wait:
    name: links.example.com
    type: A

- name: After a teardown, wait until the record is gone
  linktrack.https.dns_record_wait:
    name: links.example.com
    type: CNAME
    state: absent
"""

RETURN = r"""
name:
  description: The record name asked for, normalised.
  returned: success and on timeout
  type: str
  sample: links.example.com
type:
  description: The record type asked for.
  returned: success and on timeout
  type: str
  sample: CNAME
expected_values:
  description: The expected values, normalised and sorted.
  returned: success and on timeout
  type: list
  elements: str
  sample: [d111111abcdef8.cloudfront.net]
answers:
  description: For each server (V(host) or V(host:port)), the values of the type it answered last, normalised.
  returned: success and on timeout
  type: dict
  sample: {"127.0.0.1:5353": [d111111abcdef8.cloudfront.net]}
responses:
  description:
    - For each server, its last response. C(status) is V(answer), V(nxdomain), V(nodata), V(cname) (another type asked
      for, a CNAME found), V(not_authoritative), V(refused), V(servfail), V(error) or V(timeout); C(reason) says it in
      words.
  returned: success and on timeout
  type: dict
  sample:
    "127.0.0.1:5353":
      server: "127.0.0.1:5353"
      status: answer
      values: [d111111abcdef8.cloudfront.net]
      reason: ""
      authoritative: true
matched:
  description: Whether the servers answered as expected (always V(true) on success).
  returned: success and on timeout
  type: bool
  sample: true
waited_seconds:
  description: Seconds from the first question to the matching answers (or to the deadline).
  returned: success and on timeout
  type: float
  sample: 2.4
wait_history:
  description:
    - One entry per round of questions to the servers, the first and the latest ones when there were more than 200.
    - "Run by the action plugin, each poll is also shown while the task runs (not for a single try, nor for a
      first one that already passes)."
  returned: always
  type: list
  elements: dict
  contains:
    what:
      description: The record asked for, C(TYPE NAME).
      type: str
    state:
      description: C(done) when the answers matched, C(waiting) when they did not yet.
      type: str
    elapsed:
      description: Seconds since the first one.
      type: float
    timeout:
      description: The wait's deadline in seconds (O(timeout)).
      type: int
    done:
      description: Whether this one ended the wait.
      type: bool
  sample:
    - {what: CNAME links.example.com, state: waiting, elapsed: 0.0, timeout: 600, done: false}
    - {what: CNAME links.example.com, state: done, elapsed: 2.4, timeout: 600, done: true}
attempts:
  description: Rounds of questions asked.
  returned: success and on timeout
  type: int
  sample: 3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._dns import DNSPYTHON_REQUIREMENT, MATCHES, MODES, STATES, run_module
from ansible_collections.linktrack.https.plugins.module_utils._records import RECORD_TYPES

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    type=dict(type="str", required=True, choices=list(RECORD_TYPES)),
    values=dict(type="list", elements="str", default=[]),
    state=dict(type="str", choices=list(STATES), default="present"),
    match=dict(type="str", choices=list(MATCHES), default="exact"),
    servers=dict(type="list", elements="str", default=[]),
    port=dict(type="int", default=53),
    timeout=dict(type="int", default=600),
    query_timeout=dict(type="float", default=3),
    mode=dict(type="str", choices=list(MODES), default="all"),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, requirements=[DNSPYTHON_REQUIREMENT])


if __name__ == "__main__":
    main()
