#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: link_domain_verify_report
short_description: Write the reports of many link_domain_verify results (JSON, JUnit XML, Prometheus textfile)
version_added: 0.1.0
description:
  - Takes the registered results of M(linktrack.https.link_domain_verify), one per tracking domain, and writes
    a JSON report (O(json_path)), a JUnit XML file with one testsuite and one testcase per domain and check
    (O(junit_path); a failed check is a C(failure), a skipped one C(skipped)) and a Prometheus text-format file for
    a node exporter's textfile collector (O(prometheus_path)) with C(linktrack_certificate_days_left),
    C(linktrack_check_passed{check=...}), C(linktrack_check_warning), C(linktrack_domain_passed),
    C(linktrack_verify_aws_requests) and C(linktrack_verify_last_run_timestamp_seconds).
  - Each file is written whole, through a temporary file in the same directory, also in check mode; the reports are
    the output of a check, not state, so RV(ignore:changed) is always V(false).
  - Fails when a domain failed, unless O(fail_on_error=false), so that the run's exit status says it.
author:
  - linktrack.https contributors (@linktrack-https)
extends_documentation_fragment: [linktrack.https.attributes.read_only, linktrack.https.attributes]
options:
  results:
    description: The results of M(linktrack.https.link_domain_verify), one per domain.
    type: list
    elements: dict
    required: true
  json_path:
    description: Where to write the JSON report. Not written when not set.
    type: path
  junit_path:
    description: Where to write the JUnit XML file. Not written when not set.
    type: path
  prometheus_path:
    description: Where to write the Prometheus textfile (its name must end in C(.prom) for the textfile collector).
    type: path
  fail_on_error:
    description: Fail when a domain failed.
    type: bool
    default: true
attributes:
  check_mode:
    details: Writes the same files; nothing outside them is touched.
  diff_mode:
    details: The reports are output, not state.
seealso:
  - module: linktrack.https.link_domain_verify
"""

EXAMPLES = r"""
- name: Reports of every domain of the play
  linktrack.https.link_domain_verify_report:
    results: "{{ ansible_play_hosts_all | map('extract', hostvars, 'link_domain_verify') | list }}"
    json_path: /var/tmp/linktrack-verify.json
    junit_path: /var/tmp/linktrack-verify.xml
    prometheus_path: /var/lib/node_exporter/textfile/linktrack.prom
  run_once: true
"""

RETURN = r"""
report:
  description: The JSON report - C(generated_at), C(domains) (each with C(domain_name), C(status), C(checks),
    C(certificate), C(distribution), C(aws_requests)), C(counts) and C(passed).
  returned: success
  type: dict
summary:
  description: The readable summary, a line per domain and an indented line per check, and the counts.
  returned: success
  type: list
  elements: str
files:
  description: The files written.
  returned: success
  type: list
  elements: str
passed:
  description: Whether no domain failed.
  returned: success
  type: bool
counts:
  description: Domains C(passed), with C(warning)s and C(failed).
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._verify import run_report_module

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    results=dict(type="list", elements="dict", required=True),
    json_path=dict(type="path"),
    junit_path=dict(type="path"),
    prometheus_path=dict(type="path"),
    fail_on_error=dict(type="bool", default=True),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleModule, ARGUMENT_SPEC, MODULE_KWARGS, run_report_module)


if __name__ == "__main__":
    main()
