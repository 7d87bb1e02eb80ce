#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: link_domain_preflight
short_description: Check the inputs of the link_domain role, each problem naming its variable
version_added: 0.1.0
description:
  - The first task of the P(linktrack.https.link_domain#role) role. Checks every input the role's
    C(meta/argument_specs.yml) cannot check (types and choices are checked there), with the same rules the modules
    use (host names, name servers, TSIG secrets, ports and seconds), and fails with every problem at once, each
    message naming the role's variable (such as C(link_domain_rfc2136_key_secret)).
  - Returns the tracking domain in the form every module uses, and its Iterable origin.
  - Makes no request and changes nothing; the options are the role's variables without the C(link_domain_) prefix.
author:
  - linktrack.https contributors (@linktrack-https)
extends_documentation_fragment: [linktrack.https.attributes.controller, linktrack.https.attributes.read_only,
  linktrack.https.attributes]
options:
  name: {type: raw, description: "The role's C(link_domain_name). The tracking domain (C(link_domain_name))."}
  iterable_region: {type: raw, description: "The role's C(link_domain_iterable_region). The Iterable region."}
  aws_region: {type: raw, description: "The role's C(link_domain_aws_region). The AWS region; must be us-east-1."}
  aws_endpoint_url: {type: raw, description: "The role's C(link_domain_aws_endpoint_url). An http or https AWS endpoint URL, or empty."}
  dns_provider: {type: raw, description: "The role's C(link_domain_dns_provider). route53, rfc2136 or manual."}
  dns_record_type: {type: raw, description: "The role's C(link_domain_dns_record_type). cname or alias."}
  dns_servers: {type: raw, description: "The role's C(link_domain_dns_servers). Authoritative name servers as host or host:port."}
  dns_ttl: {type: raw, description: "The role's C(link_domain_dns_ttl). The TTL of the records."}
  route53_zone: {type: raw, description: "The role's C(link_domain_route53_zone). The Route 53 zone's name."}
  rfc2136_server: {type: raw, description: "The role's C(link_domain_rfc2136_server). The address of the name server that takes the updates."}
  rfc2136_port: {type: raw, description: "The role's C(link_domain_rfc2136_port). Its port."}
  rfc2136_zone: {type: raw, description: "The role's C(link_domain_rfc2136_zone). The zone of the updates."}
  rfc2136_key_name: {type: raw, description: "The role's C(link_domain_rfc2136_key_name). The TSIG key's name."}
  rfc2136_key_secret: {type: raw, description: "The role's C(link_domain_rfc2136_key_secret). The TSIG secret (base64); never shown."}
  ca_path: {type: raw, description: "The role's C(link_domain_ca_path). A CA bundle on the controller."}
  certificate_timeout: {type: raw, description: "The role's C(link_domain_certificate_timeout). Seconds, above 0."}
  validation_timeout: {type: raw, description: "The role's C(link_domain_validation_timeout). Seconds, above 0."}
  deploy_timeout: {type: raw, description: "The role's C(link_domain_deploy_timeout). Seconds, above 0."}
  dns_timeout: {type: raw, description: "The role's C(link_domain_dns_timeout). Seconds, above 0."}
  manual_timeout: {type: raw, description: "The role's C(link_domain_manual_timeout). Seconds, above 0."}
  tls_wait_timeout: {type: raw, description: "The role's C(link_domain_tls_wait_timeout). Seconds, 0 or more."}
  iterable_wait_timeout: {type: raw, description: "The role's C(link_domain_iterable_wait_timeout). Seconds, 0 or more."}
  tls_min_days_valid: {type: raw, description: "The role's C(link_domain_tls_min_days_valid). Days, 0 or more."}
  edge_https_port: {type: raw, description: "The role's C(link_domain_edge_https_port). A port."}
  edge_http_port: {type: raw, description: "The role's C(link_domain_edge_http_port). A port."}
  teardown_confirm: {type: raw, description: "The role's C(link_domain_teardown_confirm). Entry point teardown only; it must be the tracking domain."}
attributes:
  check_mode:
    details: Only checks.
"""

EXAMPLES = r"""
- name: Preflight | Check the variables (each message names its variable)
  linktrack.https.link_domain_preflight:
    name: "{{ link_domain_name }}"
    aws_region: "{{ link_domain_aws_region }}"
    dns_provider: "{{ link_domain_dns_provider }}"
  register: link_domain_preflight
"""

RETURN = r"""
domain:
  description: The tracking domain, lower case, without trailing dot, international names in punycode.
  returned: always
  type: str
  sample: links.example.com
origin:
  description: The Iterable origin of O(iterable_region).
  returned: always
  type: str
  sample: links.iterable.com
iterable_app_url:
  description: The Iterable app of O(iterable_region).
  returned: always
  type: str
  sample: https://app.iterable.com
errors:
  description: Every problem found, each naming its variable.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._role_inputs import run_module

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    name=dict(type="raw"),
    iterable_region=dict(type="raw"),
    aws_region=dict(type="raw"),
    aws_endpoint_url=dict(type="raw"),
    dns_provider=dict(type="raw"),
    dns_record_type=dict(type="raw"),
    dns_servers=dict(type="raw"),
    dns_ttl=dict(type="raw"),
    route53_zone=dict(type="raw"),
    rfc2136_server=dict(type="raw"),
    rfc2136_port=dict(type="raw"),
    rfc2136_zone=dict(type="raw"),
    rfc2136_key_name=dict(type="raw"),
    rfc2136_key_secret=dict(type="raw", no_log=True),
    ca_path=dict(type="raw"),
    certificate_timeout=dict(type="raw"),
    validation_timeout=dict(type="raw"),
    deploy_timeout=dict(type="raw"),
    dns_timeout=dict(type="raw"),
    manual_timeout=dict(type="raw"),
    tls_wait_timeout=dict(type="raw"),
    iterable_wait_timeout=dict(type="raw"),
    tls_min_days_valid=dict(type="raw"),
    edge_https_port=dict(type="raw"),
    edge_http_port=dict(type="raw"),
    teardown_confirm=dict(type="raw"),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module)


if __name__ == "__main__":
    main()
