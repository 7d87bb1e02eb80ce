#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: iterable_tracking_domain
short_description: Verify an HTTPS click-tracking domain end to end and list the Iterable settings still to make
version_added: 0.1.0
description:
  - Step 6 of Iterable's guide to HTTPS link tracking through Amazon CloudFront.
  - Iterable publishes no API for tracking domains, so this module registers nothing. It observes from outside
    what a click meets, and returns the exact settings a person still makes in the Iterable app of the region
    in RV(iterable_steps).
  - "Checks, each reported as C(passed), C(failed) or C(skipped) with the evidence (what was asked, what was answered):
    C(dns): the authoritative name servers (or O(dns_servers)) answer a CNAME to O(distribution_domain), or A/AAAA
    records that match the distribution's own answers (Route 53 alias records).
    C(tls): the certificate presented for the tracking domain is trusted, valid for the name, over TLS 1.2 or newer
    (the same logic as M(linktrack.https.tls_sni_check)).
    C(https): a GET over HTTPS reaches the Iterable origin of O(iterable_region), the Host header is preserved and
    redirects on the tracking domain itself end within O(max_redirects).
    C(http): the same over plain HTTP, because links in old emails use http.
    C(deep_links): C(/.well-known/apple-app-site-association) and C(/.well-known/assetlinks.json) come over HTTPS
    with status 200, a JSON content type and valid JSON, without redirect."
  - Every request connects to an explicit host (O(connect_host), else O(distribution_domain), else the target of
    the DNS answer) and sends the tracking domain only as SNI and Host. The tracking name is never resolved
    through this machine's resolver.
  - What the HTTPS and HTTP checks can prove against real Iterable is limited. The region of the origin and the
    Host it received are only proven when the origin says so in C(X-Iterable-Region) and C(X-Received-Host)
    headers (the collection's sandbox does). Otherwise the check passes on weaker evidence and says in its
    reason what was not proven. See O(require_origin_evidence) and C(docs/iterable-step6.md).
  - The module never changes anything; RV(ignore:changed) is always false.
author:
  - linktrack.https contributors (@linktrack-https)
extends_documentation_fragment: [linktrack.https.attributes.read_only, linktrack.https.attributes, linktrack.https.tls]
requirements:
  - dnspython >= 2.0
  - cryptography
options:
  domain_name:
    description:
      - The tracking domain, for example V(links.example.com).
      - International names are converted to punycode; a scheme, a path, a port or a wildcard is rejected.
    type: str
    required: true
  iterable_region:
    description:
      - The data center of the Iterable project.
      - V(usdc) forwards to the origin C(links.iterable.com) and uses the app at C(https://app.iterable.com).
      - V(edc) forwards to the origin C(links.eu.iterable.com) and uses the app at C(https://app.eu.iterable.com).
    type: str
    choices: [usdc, edc]
    default: usdc
  distribution_domain:
    description:
      - The CloudFront distribution's own domain name (V(d111111abcdef8.cloudfront.net)), as
        M(linktrack.https.cloudfront_link_distribution) returns it in C(domain_name).
      - The C(dns) check compares the tracking domain's CNAME or A/AAAA answers with it. Without it, a CNAME to any
        C(*.cloudfront.net) name passes and A/AAAA answers make the C(dns) check C(skipped).
    type: str
  connect_host:
    description:
      - Host name or IP address the TLS, HTTPS and HTTP checks connect to, for example the sandbox's edge.
      - Defaults to O(distribution_domain), else the target of the authoritative DNS answer.
    type: str
  https_port:
    description:
      - TCP port of the HTTPS checks on O(connect_host).
    type: int
    default: 443
  http_port:
    description:
      - TCP port of the plain HTTP check on O(connect_host).
    type: int
    default: 80
  dns_servers:
    description:
      - Name servers to ask about O(domain_name), each V(host) or V(host:port) (IPv6 as V([::1]:53)).
      - Questions are sent without recursion, as to an authoritative server.
      - Default is the authoritative name servers of the zone, found through this machine's resolver.
    type: list
    elements: str
  distribution_dns_servers:
    description:
      - Name servers to ask for the A and AAAA records of O(distribution_domain), each V(host) or V(host:port).
      - Only used when the tracking domain answers with A/AAAA records (alias records) instead of a CNAME.
      - Default is this machine's resolver.
    type: list
    elements: str
  deep_links:
    description:
      - Check the deep-link files C(apple-app-site-association) and C(assetlinks.json).
      - Set to V(false) when the project has no mobile deep linking; the C(deep_links) check is then C(skipped).
    type: bool
    default: true
  iterable_confirmed:
    description:
      - Set to V(true) once the person has made the settings of RV(iterable_steps) in Iterable.
      - With V(true) the module fails when the checks did not all pass; with V(false) it only warns.
    type: bool
    default: false
  single_ses_sending_domain:
    description:
      - Whether the project sends through a single Amazon SES sending domain.
      - V(true) makes RV(iterable_steps) include setting the domain as the default tracking domain; V(false) leaves that
        step out; unset words the step with the condition.
    type: bool
  require_origin_evidence:
    description:
      - Fail the C(https) and C(http) checks unless the origin identifies its region (C(X-Iterable-Region)) and the
        Host it received (C(X-Received-Host)).
      - The sandbox's origin stand-in sends these headers. Real Iterable is not documented to, so leave this V(false)
        there; the checks then pass on the evidence available and name what was not proven.
    type: bool
    default: false
  probe_path:
    description:
      - Path and query of the HTTPS and HTTP checks' request, for example V(/a/click?_u=https%3A%2F%2Fwww.example.com%2F).
    type: str
    default: /
  max_redirects:
    description:
      - How many redirects on the tracking domain itself the HTTPS and HTTP checks follow before they call it a loop.
      - A redirect to another host ends the check, because that is where the click goes on to.
    type: int
    default: 5
  min_days_valid:
    default: 0
notes:
  - Iterable has no API for tracking domains; a tracking domain can only be deleted through a support ticket.
    The module therefore never claims a domain is set up in Iterable. RV(iterable_steps) says what a person does.
seealso:
  - module: linktrack.https.tls_sni_check
  - module: linktrack.https.cloudfront_link_distribution
"""

EXAMPLES = r"""
- name: Verify links.example.com end to end and get the Iterable settings still to make
  linktrack.https.iterable_tracking_domain:
    domain_name: links.example.com
    iterable_region: usdc
    distribution_domain: "{{ distribution.domain_name }}"
  register: tracking

- name: Show what a person still does in Iterable
  ansible.builtin.debug:
    msg: "{{ tracking.iterable_steps | map(attribute='what') | list }}"

- name: After the person made the Iterable settings, insist that everything works (retry for 10 minutes)
  linktrack.https.iterable_tracking_domain:
    domain_name: links.example.com
    iterable_region: edc
    distribution_domain: d111111abcdef8.cloudfront.net
    single_ses_sending_domain: true
    iterable_confirmed: true
    wait_timeout: 600

- name: Against the local sandbox (edge on 127.0.0.1, sandbox CA, sandbox DNS)
  linktrack.https.iterable_tracking_domain:
    domain_name: links.example.com
    distribution_domain: d111111abcdef8.cloudfront.net
    connect_host: 127.0.0.1
    https_port: 15443
    http_port: 15080
    ca_path: /tmp/sandbox/ca/sandbox-ca.pem
    dns_servers: ["127.0.0.1:15354"]
    distribution_dns_servers: ["127.0.0.1:15354"]
    require_origin_evidence: true
"""

RETURN = r"""
passed:
  description: Whether every check passed (C(deep_links) may be C(skipped) when O(deep_links=false)).
  returned: always
  type: bool
  sample: true
checks:
  description:
    - The checks C(dns), C(tls), C(https), C(http) and C(deep_links), each with C(status) (C(passed), C(failed) or
      C(skipped)), C(reason), and C(evidence), a list of C(asked) / C(answered) pairs.
  returned: always
  type: dict
  sample:
    dns:
      status: passed
      reason: links.example.com is a CNAME to the distribution d111111abcdef8.cloudfront.net on 127.0.0.1:15354.
      evidence:
        - asked: links.example.com CNAME @127.0.0.1:15354 (no recursion)
          answered: d111111abcdef8.cloudfront.net
    tls:
      status: passed
      reason: 127.0.0.1:15443 presents a trusted certificate valid for links.example.com over TLSv1.3 (...).
      evidence: []
    https:
      status: passed
      reason: "HTTPS to links.example.com reached the origin: an origin answered 302; the USDC origin answered
        (X-Iterable-Region: usdc); the origin received Host links.example.com."
      evidence:
        - asked: GET https://links.example.com/ (connected to 127.0.0.1:15443, SNI and Host links.example.com)
          answered: "302 Found; Location: https://iterable.com/; X-Iterable-Region: usdc; 0 body bytes"
    http:
      status: passed
      reason: "HTTP to links.example.com reached the origin: an origin answered 302."
      evidence: []
    deep_links:
      status: skipped
      reason: "deep_links is false: the deep-link files were not checked."
      evidence: []
iterable_steps:
  description:
    - The settings a person still makes in Iterable, worded for the region's app, in order.
    - C(ready) is false for C(enable https) while the checks have not passed.
  returned: always
  type: list
  elements: dict
  sample:
    - step: add tracking domain
      where: https://app.iterable.com > Settings > Domains
      what: In the Iterable app for USDC projects (https://app.iterable.com), go to Settings > Domains and set up the
        tracking domain links.example.com.
      ready: true
    - step: enable https
      where: https://app.iterable.com > Settings > Domains
      what: Edit links.example.com and toggle on Enable HTTPS.
      ready: true
iterable_app_url:
  description: The Iterable app of the region.
  returned: always
  type: str
  sample: https://app.iterable.com
warnings:
  description:
    - One line per check that failed, was skipped, or passed with something not proven.
    - Ansible adds this key only when there is a warning; read it as C(result.warnings | default([])).
  returned: when a check failed, was skipped, or passed with something not proven
  type: list
  elements: str
  sample: ["https check: HTTPS to links.example.com reached the origin: ... Not proven (the origin did not say): ..."]
domain_name:
  description: The tracking domain as checked (normalised).
  returned: always
  type: str
  sample: links.example.com
iterable_region:
  description: The region checked against.
  returned: always
  type: str
  sample: usdc
origin_domain:
  description: The Iterable origin of the region.
  returned: always
  type: str
  sample: links.iterable.com
deep_links:
  description: Whether the deep-link files were checked.
  returned: always
  type: bool
  sample: true
connect_host:
  description: Where the TLS, HTTPS and HTTP checks connected; null when there was nowhere to connect.
  returned: always
  type: str
  sample: d111111abcdef8.cloudfront.net
attempts:
  description: How many times the whole set of checks ran.
  returned: always
  type: int
  sample: 1
waited_seconds:
  description: Seconds from the start of the first attempt to the end of the last one.
  returned: always
  type: float
  sample: 0.0
wait_history:
  description:
    - One entry per attempt of the end-to-end checks, the first and the latest ones when there were more than 200.
    - "Run by the action plugin, each poll is also shown while the task runs (not for a single try, nor for a
      first one that already passes)."
    - Each entry has the keys of RV(linktrack.https.dns_record_wait#module:wait_history); here C(what) is C(end-to-end
      checks of DOMAIN), C(state) is C(done) when the checks passed and C(waiting) when they did not yet, and
      C(timeout) is O(wait_timeout) (0 for a single attempt).
  returned: always
  type: list
  elements: dict
  sample:
    - {what: end-to-end checks of links.example.com, state: waiting, elapsed: 0.0, timeout: 300, done: false}
    - {what: end-to-end checks of links.example.com, state: done, elapsed: 6.2, timeout: 300, done: true}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._dns import DNSPYTHON_REQUIREMENT
from ansible_collections.linktrack.https.plugins.module_utils._iterable import run_module
from ansible_collections.linktrack.https.plugins.module_utils._tls import CRYPTOGRAPHY_REQUIREMENT

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    domain_name=dict(type="str", required=True),
    iterable_region=dict(type="str", choices=["usdc", "edc"], default="usdc"),
    distribution_domain=dict(type="str"),
    connect_host=dict(type="str"),
    https_port=dict(type="int", default=443),
    http_port=dict(type="int", default=80),
    ca_path=dict(type="path"),
    dns_servers=dict(type="list", elements="str"),
    distribution_dns_servers=dict(type="list", elements="str"),
    deep_links=dict(type="bool", default=True),
    iterable_confirmed=dict(type="bool", default=False),
    single_ses_sending_domain=dict(type="bool"),
    require_origin_evidence=dict(type="bool", default=False),
    probe_path=dict(type="str", default="/"),
    max_redirects=dict(type="int", default=5),
    min_days_valid=dict(type="int", default=0),
    expected_serial=dict(type="str"),
    timeout=dict(type="float", default=10),
    wait_timeout=dict(type="float", default=0),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, requirements=[DNSPYTHON_REQUIREMENT, CRYPTOGRAPHY_REQUIREMENT])


if __name__ == "__main__":
    main()
