#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: aws_shared_listing
short_description: List the account's ACM certificates and Route 53 hosted zones once, for every domain of a play
version_added: 0.1.0
description:
  - Makes one paginated ACM C(ListCertificates) (every key algorithm the collection requests, C(ISSUED) and
    C(PENDING_VALIDATION)) and one paginated Route 53 C(ListHostedZones), and returns compact summaries of both.
  - Meant to run once per play (C(run_once=true)); each domain then passes RV(certificates) to
    M(linktrack.https.acm_dns_certificate) as O(linktrack.https.acm_dns_certificate#module:known_certificates) and
    RV(zones) to M(linktrack.https.route53_records) as O(linktrack.https.route53_records#module:known_zones), which
    saves it one listing of each. Those modules take the summaries as a hint only, confirmed with their own
    credentials, so a host with other credentials (another account) still finds its own certificate and zone.
  - A listing that fails (for example no C(route53:ListHostedZones) permission) leaves its result V(null) and is
    named in RV(errors) and a warning; the task does not fail, the domains then list on their own.
  - Makes only read requests; check mode reads the same way.
author:
  - linktrack.https contributors (@linktrack-https)
requirements:
  - boto3
extends_documentation_fragment: [amazon.aws.common.modules, amazon.aws.region.modules, amazon.aws.boto3,
  linktrack.https.attributes.read_only, linktrack.https.attributes]
options:
  list_certificates:
    description: Make the ACM listing (in us-east-1, where CloudFront takes its certificates from).
    type: bool
    default: true
  list_zones:
    description: Make the Route 53 listing.
    type: bool
    default: true
  scope:
    description:
      - An opaque label of the credentials the listings are made with, returned unchanged as RV(scope). The role
        passes a hash of its AWS connection variables (endpoint, profile, access key id, region; never the secret), and
        each host takes the listings as a hint only when its own label is the same.
    type: str
    default: ""
notes:
  - Belongs to the action group C(group/linktrack.https.aws), so one C(module_defaults) entry can set the AWS
    connection options of every AWS module of the collection.
"""

EXAMPLES = r"""
- name: List the certificates and hosted zones once for all the play's domains
  linktrack.https.aws_shared_listing:
  run_once: true
  register: shared

- name: Read each domain's certificate with the shared listing as a hint
  linktrack.https.acm_dns_certificate:
    domain_name: "{{ inventory_hostname }}"
    known_certificates: "{{ shared.certificates }}"
  check_mode: true
"""

RETURN = r"""
certificates:
  description:
    - One entry per certificate of the listing, with the C(CertificateSummary) fields the selection reads
      (C(CertificateArn), C(DomainName), C(SubjectAlternativeNameSummaries), C(HasAdditionalSubjectAlternativeNames),
      C(Status), C(Type), C(KeyAlgorithm), C(ManagedBy)) and C(CreatedAt), C(NotAfter), C(RevokedAt) in seconds
      since the epoch.
    - V(null) when not asked for or when the listing failed.
  returned: always
  type: list
  elements: dict
  sample:
    - CertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/0f2c5a4e-1111-2222-3333-444455556666
      DomainName: links.example.com
      SubjectAlternativeNameSummaries: [links.example.com]
      HasAdditionalSubjectAlternativeNames: false
      Status: ISSUED
      Type: AMAZON_ISSUED
      KeyAlgorithm: RSA_2048
      CreatedAt: 1764763200.0
zones:
  description:
    - One entry per hosted zone, public and private, C(id) (without C(/hostedzone/)), C(name) (lower case, no
      trailing dot) and C(private).
    - V(null) when not asked for or when the listing failed.
  returned: always
  type: list
  elements: dict
  sample: [{id: Z0123456789ABC, name: example.com, private: false}]
scope:
  description: O(scope), unchanged.
  returned: always
  type: str
  sample: 3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea
errors:
  description: The listings that failed, each with the AWS error code.
  returned: always
  type: list
  elements: str
  sample: ["zones: the route53 listing failed (AccessDenied); each host lists on its own."]
retries:
  description: How many ACM and Route 53 requests were retried (throttling, or a transient error such as a dropped connection).
  returned: always
  type: int
  sample: 0
aws_requests:
  description: How many AWS requests this run made, retries included (one per page of each listing).
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.linktrack.https.plugins.module_utils._aws import aws_client
from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._shared_listing import run_module

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(list_certificates=dict(type="bool", default=True), list_zones=dict(type="bool", default=True),
                     scope=dict(type="str", default=""))
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleAWSModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, client_factory=aws_client)


if __name__ == "__main__":
    main()
