#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: link_domain_verify
short_description: Check, read only, that a tracking domain's HTTPS through CloudFront keeps working
version_added: 0.1.0
description:
  - The day-two check of a tracking domain set up by the role C(linktrack.https.link_domain) (or by hand after
    Iterable's guide). It reads and checks and changes nothing, in check mode or not.
  - At most four AWS requests, all reads - ACM C(ListCertificates) (not when O(certificate_arn) is given) and
    C(DescribeCertificate), CloudFront C(GetDistribution) of the distribution in the certificate's C(InUseBy), and
    C(ListDistributions) only when C(InUseBy) names none carrying the domain. The rest is DNS, TLS and HTTP from
    outside.
  - "Checks, each C(passed), C(warning), C(failed) or C(skipped) (an earlier check failed) with a one-line reason
    in RV(checks):
    C(certificate) (exists, ISSUED, covers the name),
    C(certificate_expiry) (days left against O(days_warn) and O(days_fail)),
    C(certificate_renewal) (C(RenewalEligibility) and C(RenewalSummary.RenewalStatus)),
    C(certificate_in_use) (C(InUseBy) contains the distribution),
    C(validation_record) (the validation CNAME answers right from the authoritative name servers; without it ACM
    cannot renew),
    C(distribution) (exists, Deployed, enabled),
    C(distribution_drift) (the guide's settings field by field, as M(linktrack.https.cloudfront_link_distribution)
    compares them),
    C(dns) (the tracking domain's record points at the distribution),
    C(tls) (the SNI check through the distribution, ACM's certificate served),
    C(end_to_end) (HTTPS, HTTP and the deep-link files reach Iterable, as M(linktrack.https.iterable_tracking_domain)
    checks them)."
  - A failed check does not fail the task unless O(fail_on_error=true); RV(status) and RV(passed) say it, and
    M(linktrack.https.link_domain_verify_report) makes the reports of many domains.
author:
  - linktrack.https contributors (@linktrack-https)
options:
  domain_name:
    description: The tracking domain, for example C(links.example.com).
    type: str
    required: true
  iterable_region:
    description: The Iterable region whose link host the distribution's origin must be.
    type: str
    choices: [usdc, edc]
    default: usdc
  certificate_arn:
    description:
      - The ACM certificate to check. When not given, the certificate covering O(domain_name) is found with
        C(ListCertificates) (ISSUED and in use first).
    type: str
  days_warn:
    description: Fewer days left than this is a warning. ACM tells the account 45 days before expiry when it cannot renew.
    type: int
    default: 45
  days_fail:
    description: Fewer days left than this fails the check. At most O(days_warn).
    type: int
    default: 14
  checks:
    description: The checks to run (default all). A check left out is not reported.
    type: list
    elements: str
    choices: [certificate, certificate_expiry, certificate_renewal, certificate_in_use, validation_record,
              distribution, distribution_drift, dns, tls, end_to_end]
  dns_servers:
    description:
      - The authoritative name servers (C(host) or C(host:port)) to ask for the validation CNAME and the tracking
        domain's record. When not given, the zone's NS records are found and asked.
    type: list
    elements: str
  distribution_dns_servers:
    description: Name servers that answer for the distribution's C(dXXXX.cloudfront.net) name (Route 53 alias records).
    type: list
    elements: str
  connect_host:
    description: Where the TLS and HTTP checks connect, instead of the distribution's own host name.
    type: str
  https_port:
    description: The HTTPS port of the checks.
    type: int
    default: 443
  http_port:
    description: The HTTP port of the checks.
    type: int
    default: 80
  ca_path:
    description: A PEM file of trusted CA certificates for the TLS checks (the system store when not set).
    type: path
  deep_links:
    description: Whether the deep-link files must be served (as in M(linktrack.https.iterable_tracking_domain)).
    type: bool
    default: true
  timeout:
    description: Seconds for each network question.
    type: float
    default: 10
  fail_on_error:
    description: Fail the task when a check failed.
    type: bool
    default: false
extends_documentation_fragment: [amazon.aws.common.modules, amazon.aws.region.modules, amazon.aws.boto3,
  linktrack.https.attributes.read_only, linktrack.https.attributes]
requirements:
  - boto3
  - dnspython
  - cryptography
seealso:
  - module: linktrack.https.link_domain_verify_report
  - module: linktrack.https.iterable_tracking_domain
  - module: linktrack.https.cloudfront_link_distribution
"""

EXAMPLES = r"""
- name: Check links.example.com and fail when a check fails
  linktrack.https.link_domain_verify:
    domain_name: links.example.com
    iterable_region: usdc
    days_warn: 45
    days_fail: 14
    fail_on_error: true
  register: verify

- name: Show one line per check
  ansible.builtin.debug:
    var: verify.summary
"""

RETURN = r"""
domain_name:
  description: The tracking domain, normalised.
  returned: success
  type: str
  sample: links.example.com
status:
  description: C(failed) when a check failed or was skipped, else C(warning) when one warned, else C(passed).
  returned: success
  type: str
  sample: passed
passed:
  description: Whether no check failed.
  returned: success
  type: bool
checks:
  description: One entry per check, in the order of the description.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The check.
      type: str
    status:
      description: C(passed), C(warning), C(failed) or C(skipped).
      type: str
    reason:
      description: Why, in one line.
      type: str
    details:
      description: Data behind the reason (days left, the drift's fields, the validation records...), when there is any.
      type: dict
  sample:
    - {name: certificate_expiry, status: passed, reason: "380 days left (NotAfter 2027-12-18; warn below 45, fail below 14)"}
summary:
  description: "One line per check: C(DOMAIN CHECK: STATUS - REASON)."
  returned: success
  type: list
  elements: str
certificate:
  description: What ACM said of the certificate (C(arn), C(status), C(not_after), C(days_left), C(renewal_eligibility),
    C(renewal_status), C(in_use_by), C(serial)); empty values when there is none.
  returned: success
  type: dict
distribution:
  description: The distribution carrying the domain (C(id), C(arn), C(domain_name), C(status), C(enabled)).
  returned: success
  type: dict
aws_requests:
  description: The AWS requests made (retries included); at most four without retries.
  returned: always
  type: int
aws_request_names:
  description: Each AWS request, as C(service:operation).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.linktrack.https.plugins.module_utils._aws import aws_client
from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._verify import CHECK_NAMES, run_module

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    domain_name=dict(type="str", required=True),
    iterable_region=dict(type="str", choices=["usdc", "edc"], default="usdc"),
    certificate_arn=dict(type="str"),
    days_warn=dict(type="int", default=45),
    days_fail=dict(type="int", default=14),
    checks=dict(type="list", elements="str", choices=list(CHECK_NAMES)),
    dns_servers=dict(type="list", elements="str"),
    distribution_dns_servers=dict(type="list", elements="str"),
    connect_host=dict(type="str"),
    https_port=dict(type="int", default=443),
    http_port=dict(type="int", default=80),
    ca_path=dict(type="path"),
    deep_links=dict(type="bool", default=True),
    timeout=dict(type="float", default=10),
    fail_on_error=dict(type="bool", default=False),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleAWSModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, client_factory=aws_client)


if __name__ == "__main__":
    main()
