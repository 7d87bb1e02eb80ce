#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acm_dns_certificate
short_description: Find or request a DNS-validated ACM certificate for a CloudFront tracking domain
version_added: 0.1.0
description:
  - Step 1 of the HTTPS link tracking guide. Finds a public AWS Certificate Manager (ACM) certificate for
    exactly the given names, or requests one with DNS validation, and returns the DNS validation records as
    data that DNS tasks can publish directly.
  - Always works in C(us-east-1), the only region whose ACM certificates CloudFront accepts. Any other
    O(region) is refused before any call.
  - B(Reuse before request.) An ACM-issued certificate for exactly O(domain_name) plus
    O(subject_alternative_names), with the requested O(key_algorithm), whose status is C(ISSUED) or
    C(PENDING_VALIDATION) and that is neither expired nor revoked, is reused. One C(ListCertificates) pass
    (every page) and one C(DescribeCertificate) is all a re-run costs. Tags are read only when more than
    one certificate qualifies; then the first of this order wins, tagged C(linktrack.https:managed=true),
    then the oldest, then the smallest ARN.
  - B(Request.) Otherwise a certificate is requested with DNS validation, the tag
    C(linktrack.https:managed=true) plus O(tags), and an C(IdempotencyToken) derived from the key algorithm
    and the sorted names, so that runs on several hosts within ACM's one-hour token window get the same
    certificate. After the request the list is read again; if another matching certificate appeared (a
    second host that raced past the token), the order above picks one, the certificate this run requested
    is deleted when it lost, and the result names the one kept. A throttled or failed (5xx) request is
    retried with the same token, so it never makes a second certificate.
  - ACM shows a new certificate only some seconds after the request ("a delay of several seconds", ACM API
    reference, RequestCertificate). The module reads the ARN it got again until ACM shows it, up to
    O(visibility_timeout) seconds. Only when ACM answers the token with a certificate that is still unknown
    after that window (deleted within ACM's one-hour token window), or that failed, is the next token
    derived from that certificate's ARN, so hosts that meet the same stale token still agree.
  - ACM fills in the validation records a few seconds after a request; the module waits for them up to
    O(validation_timeout) seconds. With O(wait=true) it then waits until the certificate is C(ISSUED).
  - Certificates that CloudFront manages (C(ManagedBy=CLOUDFRONT)) are never reused.
  - B(state=absent) deletes the certificates for exactly these names (every status and key algorithm), or
    the one O(certificate_arn) names. Before deleting anything it refuses certificates without the managed
    tag unless O(force=true), and certificates used by a resource that still exists, naming it.
  - ACM keeps a deleted CloudFront distribution in C(InUseBy) for minutes (10 to 20 are reported) and
    refuses the delete meanwhile. A distribution that C(GetDistribution) no longer knows, or that
    O(deleted_distributions) names, is therefore waited out, up to O(in_use_timeout) seconds.
  - ACM uses one validation record for every certificate of a name in an account. The absent result lists
    the records of the deleted certificates (RV(validation_records)) and those another certificate still
    needs (RV(validation_records_in_use)); delete only the others.
  - Throttling and transient errors are retried with one jittered backoff; the result counts the retries.
author:
  - linktrack.https contributors (@linktrack-https)
options:
  domain_name:
    description:
      - The tracking domain, for example C(links.example.com). Required unless O(certificate_arn) is given.
      - Upper case and a trailing dot are normalised; international names become punycode. A wildcard, a
        scheme, a path, a port, underscores, white space, a bare top-level domain, a label over 63 or a
        name over 253 characters are refused. ACM puts it in the certificate's common name, so it may have
        at most 64 characters.
      - With O(certificate_arn), the certificate must cover this name.
    type: str
  certificate_arn:
    description:
      - Look up (and with O(wait=true) wait for) exactly this certificate, with one C(DescribeCertificate)
        and no listing. It must be an ACM ARN in C(us-east-1).
      - With O(state=absent), delete exactly this certificate.
    type: str
  subject_alternative_names:
    description:
      - Further names of the certificate besides O(domain_name). Normalised like O(domain_name); wildcards
        such as C(*.example.com) are allowed here. O(domain_name) itself and duplicates are dropped.
    type: list
    elements: str
    default: []
  key_algorithm:
    description:
      - Key algorithm of a requested certificate, and of the certificates that may be reused.
      - Only the algorithms that both ACM can request and CloudFront can serve are offered.
    type: str
    default: RSA_2048
    choices: [RSA_2048, EC_prime256v1]
  tags:
    description:
      - Tags to put on a requested certificate. On a reused certificate, missing or different keys are
        added; other tags are left alone. The key C(linktrack.https:managed) is the module's own and may not
        be given here.
      - Given tags cost one C(ListTagsForCertificate) on a re-run.
    type: dict
  state:
    description:
      - V(present) finds or requests the certificate; V(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
  wait:
    default: false
  wait_timeout:
    default: 3600
  validation_timeout:
    description:
      - Seconds to wait for ACM to fill in the DNS validation records of a C(PENDING_VALIDATION)
        certificate. Must be above 0.
    type: int
    default: 300
  force:
    description:
      - With O(state=absent), also delete certificates this collection did not tag. Certificates in use
        are never deleted.
    type: bool
    default: false
  visibility_timeout:
    description:
      - Seconds to read a certificate just requested again until ACM shows it. A certificate still unknown
        after this is taken as deleted, and the next idempotency token is tried. Must be above 0.
    type: int
    default: 60
  in_use_timeout:
    description:
      - With O(state=absent), seconds to wait in all for ACM to stop listing CloudFront distributions that
        no longer exist in C(InUseBy). ACM is reported to take 10 to 20 minutes. Must be above 0.
    type: int
    default: 1800
  deleted_distributions:
    description:
      - With O(state=absent), ids or ARNs of CloudFront distributions the caller has just deleted. ACM may
        still list them as users of the certificate; they are waited out without asking CloudFront.
    type: list
    elements: str
    default: []
  known_certificates:
    description:
      - The RV(linktrack.https.aws_shared_listing#module:certificates) of one listing made for the whole play, a hint
        that saves this domain its own C(ListCertificates). The certificate they name for O(domain_name) is chosen by
        the same rules as from the module's own listing and taken only when C(DescribeCertificate) with this task's
        credentials shows it; no match there, or a certificate these credentials cannot read (another account), and
        the module lists on its own as without the hint.
      - Only with O(state=present) and without O(certificate_arn).
    type: list
    elements: dict
notes:
  - O(wait=true) waits for C(ISSUED). On C(FAILED), C(VALIDATION_TIMED_OUT), C(REVOKED) or C(EXPIRED) the module fails
    with ACM's reason and the validation record ACM expected.
  - B(Check mode) makes no write call. When a certificate would be requested, C(changed) is true,
    RV(differences) holds the certificate that would be requested, and RV(arn), RV(status), RV(not_after)
    and RV(serial) are null and RV(validation_records) is empty because ACM has not made them yet. When a
    certificate would be deleted, RV(deleted) lists it.
  - C(--diff) shows exactly the fields that would change (C(certificate), C(tags) or C(certificates)).
  - Belongs to the action group C(group/linktrack.https.aws), so one C(module_defaults) entry can set the
    AWS connection options of every AWS module of the collection.
extends_documentation_fragment: [amazon.aws.common.modules, amazon.aws.region.modules, amazon.aws.boto3,
  linktrack.https.attributes, linktrack.https.wait]
seealso:
  - name: Requirements for using SSL/TLS certificates with CloudFront
    description: Why the certificate must be in us-east-1 and which keys CloudFront accepts.
    link: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html
  - name: ACM DNS validation
    description: How ACM validates a domain with a CNAME record.
    link: https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
"""

EXAMPLES = r"""
- name: Find or request the certificate of the tracking domain
  linktrack.https.acm_dns_certificate:
    domain_name: links.example.com
    tags:
      team: email
  register: cert

- name: Publish the validation records in Route 53
  linktrack.https.route53_records:
    zone: example.com
    records:
      - name: "{{ item.name }}"
        type: "{{ item.type }}"
        value: "{{ item.value }}"
  loop: "{{ cert.validation_records }}"

- name: Wait until the certificate is issued
  linktrack.https.acm_dns_certificate:
    certificate_arn: "{{ cert.arn }}"
    wait: true
    wait_timeout: 1800

- name: Point every AWS module of the collection at a local emulator
  module_defaults:
    group/linktrack.https.aws:
      endpoint_url: http://127.0.0.1:5000
      region: us-east-1
  block:
    - name: Request in the emulator
      linktrack.https.acm_dns_certificate:
        domain_name: links.example.com

- name: Delete the certificate of a retired tracking domain, once its distribution is deleted
  linktrack.https.acm_dns_certificate:
    domain_name: old-links.example.com
    state: absent
    # ACM lists a deleted distribution as a user for minutes; wait that out
    in_use_timeout: 1800
  register: retired

- name: Keep the validation records another certificate still needs, delete the others
  ansible.builtin.debug:
    msg: "delete {{ retired.validation_records | rejectattr('name', 'in', retired.validation_records_in_use | map(attribute='name')) | list }}"
"""

RETURN = r"""
arn:
  description:
    - ARN of the certificate. Null in check mode when a certificate would be requested. With
      O(state=absent), the deleted certificate's ARN when exactly one was deleted (or named by
      O(certificate_arn)).
  returned: always
  type: str
  sample: arn:aws:acm:us-east-1:123456789012:certificate/0f3c7a1e-5d0b-4a57-9d64-2f1d6f0b8c11
status:
  description: ACM status of the certificate (C(PENDING_VALIDATION), C(ISSUED), ...). Null when there is none.
  returned: always
  type: str
  sample: ISSUED
domain_name:
  description: The certificate's domain name (common name), in lower case.
  returned: when O(state=present)
  type: str
  sample: links.example.com
subject_alternative_names:
  description: The certificate's other names besides RV(domain_name), sorted, in lower case.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [www.links.example.com]
not_after:
  description: End of the certificate's validity, ISO 8601 in UTC. Null until ACM issued it.
  returned: when O(state=present)
  type: str
  sample: "2027-11-26T17:09:25Z"
serial:
  description:
    - Serial number as ACM shows it, lower-case hex pairs joined by colons. Null until ACM issued it.
    - Pass it to M(linktrack.https.tls_sni_check) as O(linktrack.https.tls_sni_check#module:expected_serial).
  returned: when O(state=present)
  type: str
  sample: "0c:9a:53:18:7e:2f:62:7c:8a:1d:95:43:b7:d8:0f:61"
key_algorithm:
  description: The certificate's key algorithm.
  returned: when O(state=present)
  type: str
  sample: RSA_2048
validation_records:
  description:
    - The DNS records ACM validates the names with, one entry per distinct record (a wildcard and its
      base name share one). Empty in check mode when a certificate would be requested.
    - With O(state=absent), the records of the certificates deleted (or that would be).
  returned: always
  type: list
  elements: dict
  contains:
    domain_name:
      description: The certificate name the record validates.
      type: str
      sample: links.example.com
    name:
      description: Record name, lower case, without a trailing dot.
      type: str
      sample: _3f1c9b0e6a1d2f4b5c6d7e8f9a0b1c2d.links.example.com
    type:
      description: Record type, always C(CNAME) for ACM.
      type: str
      sample: CNAME
    value:
      description: Record value exactly as ACM gives it, a fully qualified name ending in a dot.
      type: str
      sample: _c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws.
  sample:
    - domain_name: links.example.com
      name: _3f1c9b0e6a1d2f4b5c6d7e8f9a0b1c2d.links.example.com
      type: CNAME
      value: _c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws.
in_use_by:
  description: ARNs of the AWS resources that use the certificate, as ACM reports them.
  returned: when O(state=present)
  type: list
  elements: str
  sample: []
managed:
  description:
    - Whether the certificate carries the tag C(linktrack.https:managed=true). Null when the tags were not
      read (one candidate found and no O(tags) given, to keep a re-run at two requests).
  returned: when O(state=present)
  type: bool
  sample: true
failure_reason:
  description: ACM's C(FailureReason) for a failed certificate, else null.
  returned: when O(state=present)
  type: str
  sample: CAA_ERROR
deleted:
  description: ARNs deleted (in check mode, those that would be deleted).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [arn:aws:acm:us-east-1:123456789012:certificate/0f3c7a1e-5d0b-4a57-9d64-2f1d6f0b8c11]
differences:
  description: What differs between the desired and the current state; C(changed) is true exactly when it is not empty.
  returned: always
  type: list
  elements: dict
  contains:
    field:
      description: C(certificate) (one would be or was requested), C(tags) (tags added) or C(certificates) (deleted).
      type: str
    before:
      description: The current value (null when there is none).
      type: raw
    after:
      description: The desired value.
      type: raw
  sample:
    - field: certificate
      before: null
      after:
        domain_name: links.example.com
        subject_alternative_names: []
        key_algorithm: RSA_2048
        tags: {"linktrack.https:managed": "true"}
validation_records_in_use:
  description:
    - With O(state=absent), the entries of RV(validation_records) that another certificate (not deleted
      here, not failed) for the same name still needs, because ACM uses one record for all of them. Keep
      these records; the others can go.
  returned: when O(state=absent)
  type: list
  elements: dict
  contains:
    name:
      description: Record name, lower case, without a trailing dot.
      type: str
    type:
      description: Record type.
      type: str
    value:
      description: Record value.
      type: str
    domain_name:
      description: The certificate name the record validates.
      type: str
    needed_by:
      description: ARNs of the certificates that still need it.
      type: list
      elements: str
  sample: []
waited_seconds:
  description:
    - Seconds spent waiting for ACM to show a new certificate, for validation records, with O(wait=true)
      for C(ISSUED), and with O(state=absent) for ACM to drop deleted distributions from C(InUseBy).
  returned: always
  type: float
  sample: 4.2
wait_history:
  description:
    - One entry per poll of every wait, in order (the first and the latest 200 polls). The action plugin
      also shows each poll as it happens, as C(links.example.com, certificate ARN PENDING_VALIDATION,
      1m10s of 10m).
  returned: always
  type: list
  elements: dict
  contains:
    what:
      description: What was awaited, such as C(certificate ARN).
      type: str
    state:
      description: What the poll saw (C(PENDING_VALIDATION), C(not visible yet), C(in use by ARN)...).
      type: str
    elapsed:
      description: Seconds since that wait began.
      type: float
    timeout:
      description: The deadline of that wait, in seconds.
      type: int
    done:
      description: Whether the wait ended with this poll.
      type: bool
  sample:
    - {what: "certificate arn:aws:acm:us-east-1:123456789012:certificate/0f3c", state: PENDING_VALIDATION,
       elapsed: 0.0, timeout: 3600, done: false}
retries:
  description: How many ACM requests (and CloudFront ones, with O(state=absent)) were retried after throttling or a transient error.
  returned: always
  type: int
  sample: 0
aws_requests:
  description: How many requests were sent to AWS, retries included.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.linktrack.https.plugins.module_utils._acm import KEY_ALGORITHMS, run_module
from ansible_collections.linktrack.https.plugins.module_utils._aws import aws_client
from ansible_collections.linktrack.https.plugins.module_utils._common import module_main

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    domain_name=dict(type="str"),
    certificate_arn=dict(type="str"),
    subject_alternative_names=dict(type="list", elements="str", default=[]),
    key_algorithm=dict(type="str", default="RSA_2048", choices=list(KEY_ALGORITHMS)),
    tags=dict(type="dict"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=3600),
    validation_timeout=dict(type="int", default=300),
    force=dict(type="bool", default=False),
    visibility_timeout=dict(type="int", default=60),
    in_use_timeout=dict(type="int", default=1800),
    deleted_distributions=dict(type="list", elements="str", default=[]),
    known_certificates=dict(type="list", elements="dict"),
)
MODULE_KWARGS = dict(required_one_of=[["domain_name", "certificate_arn"]], supports_check_mode=True)


def main():
    module_main(AnsibleAWSModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, client_factory=aws_client)


if __name__ == "__main__":
    main()
