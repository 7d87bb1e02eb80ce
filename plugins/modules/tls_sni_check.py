#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tls_sni_check
short_description: Check the certificate a TLS server presents for a server name (SNI)
version_added: 0.1.0
description:
  - Connects to O(connect_host):O(port), sends O(server_name) as SNI, reads the handshake and decides whether
    the server presents a good certificate for that name. This is step 4 of Iterable's CloudFront guide
    (C(openssl s_client -servername NAME -connect DIST.cloudfront.net:443)) done by a program that decides
    instead of a person reading the output.
  - 'The equivalent command, for a look by hand:
    C(openssl s_client -servername links.example.com -connect d111111abcdef8.cloudfront.net:443 </dev/null).
    The module returns the exact line for its own inputs in RV(openssl_command).'
  - Checks, each with a one-line reason in RV(checks) - C(handshake) (the connection and TLS handshake worked),
    C(name_matches) (O(server_name) is one of the certificate's subjectAltName DNS names, wildcards per RFC 6125),
    C(chain_trusted) (the chain verifies against O(ca_path) or the system trust store),
    C(protocol_minimum) (the negotiated protocol is at least O(min_tls_version)),
    C(validity) (valid now and for at least O(min_days_valid) more days),
    C(expected_certificate) and C(expected_serial) (only when those options are given).
  - The module fails when any check fails, and its message lists every failing check. With O(fail_on_error=false)
    it returns the same data without failing.
  - It never changes anything; RV(ignore:changed) is always V(false), in check mode too.
  - Uses Python's C(ssl) module and the C(cryptography) library; it does not run the C(openssl) program.
author:
  - linktrack.https contributors (@linktrack-https)
extends_documentation_fragment: [linktrack.https.attributes.read_only, linktrack.https.attributes, linktrack.https.tls]
options:
  server_name:
    description:
      - The host name sent as SNI and looked for in the certificate, for example the tracking domain
        C(links.example.com).
      - Must be a host name, not an IP address and not a wildcard. International names are converted to punycode.
    type: str
    required: true
  connect_host:
    description:
      - Where to connect - a host name, an IPv4 address or an IPv6 address (brackets optional).
      - Before the DNS cutover this is the distribution's own host name (C(d111111abcdef8.cloudfront.net)) while
        O(server_name) is the tracking domain.
      - Defaults to O(server_name).
    type: str
  port:
    description:
      - The TCP port, 1 to 65535.
    type: int
    default: 443
  min_tls_version:
    description:
      - The oldest protocol version the check accepts. The module offers every version the local OpenSSL still has
        and checks the one the server picks (the newest it accepts).
    type: str
    choices: [TLSv1.2, TLSv1.3]
    default: TLSv1.2
  min_days_valid:
    default: 14
  expected_certificate:
    description:
      - The certificate the server must present - a PEM certificate (for a full chain, its first certificate) or
        its SHA-256 fingerprint as 64 hex digits, colons allowed, any case.
      - Pass the ACM certificate to prove the edge serves this one and not an older one.
    type: str
  fail_on_error:
    description:
      - When V(true), the module fails if any check fails. When V(false) it returns the same data with
        RV(passed=false) and does not fail.
      - Bad option values always fail.
    type: bool
    default: true
notes:
  - Each attempt makes two TLS connections to the same IP address. The first offers every protocol version and
    cipher and does not verify, so that the certificate and protocol can be read even from a broken server.
    The second verifies the chain with OpenSSL's default security settings and must see the same certificate.
  - The subject common name is not used for name matching, as in browsers (RFC 6125).
  - A connection refused, a name that does not resolve, a peer that does not speak TLS and a timeout are reported
    as a failed C(handshake) check with the reason.
requirements:
  - cryptography >= 3.1
seealso:
  - module: linktrack.https.acm_dns_certificate
  - module: linktrack.https.cloudfront_link_distribution
"""

EXAMPLES = r"""
- name: Step 4 - the distribution serves the tracking domain's ACM certificate (before any DNS change)
  linktrack.https.tls_sni_check:
    server_name: links.example.com
    connect_host: d111111abcdef8.cloudfront.net
    expected_certificate: "{{ certificate_pem }}"
    wait_timeout: 600

- name: After the DNS cutover - the tracking domain itself, serial as ACM reported it
  linktrack.https.tls_sni_check:
    server_name: links.example.com
    expected_serial: "{{ acm.serial }}"
    min_days_valid: 30

- name: Look without failing, TLS 1.3 required, own CA bundle, IPv6 address
  linktrack.https.tls_sni_check:
    server_name: links.example.com
    connect_host: "2001:db8::10"
    port: 8443
    ca_path: /etc/pki/tls/internal-ca.pem
    min_tls_version: TLSv1.3
    fail_on_error: false
  register: tls

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ tls.checks | rejectattr('passed') | map(attribute='reason') | list }}"
  when: not tls.passed
"""

RETURN = r"""
passed:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: true
checks:
  description:
    - Every check made, in order - V(handshake), V(name_matches), V(chain_trusted), V(protocol_minimum), V(validity),
      then V(expected_certificate) and V(expected_serial) when asked for.
    - When the handshake failed, only the V(handshake) check is listed.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check's name.
      type: str
      sample: name_matches
    passed:
      description: Whether it passed.
      type: bool
      sample: true
    reason:
      description: One line saying why.
      type: str
      sample: links.example.com is covered by the certificate name links.example.com
  sample:
    - name: handshake
      passed: true
      reason: TLSv1.3 with TLS_AES_128_GCM_SHA256 from d111111abcdef8.cloudfront.net:443 (SNI links.example.com)
    - name: validity
      passed: false
      reason: expires on 2025-01-10T23:59:59Z, in 9 days; at least 14 days are required (min_days_valid)
msg:
  description: When checks failed, every failing check with its reason.
  returned: when a check failed
  type: str
  sample: >-
    TLS check of links.example.com at d111111abcdef8.cloudfront.net:443 failed 1 of 5 checks after 1 attempt:
    name_matches: links.example.com is not among the certificate's names: *.cloudfront.net
server_name:
  description: The SNI name sent, normalised (lower case, punycode).
  returned: always
  type: str
  sample: links.example.com
connect_host:
  description: Where the module connected, normalised.
  returned: always
  type: str
  sample: d111111abcdef8.cloudfront.net
port:
  description: The TCP port.
  returned: always
  type: int
  sample: 443
address:
  description: The IP address of the last connection made, or V(null) when the name did not resolve.
  returned: always
  type: str
  sample: 192.0.2.10
error:
  description: Why the connection or handshake failed, or V(null).
  returned: always
  type: str
  sample: connection to 192.0.2.10:443 refused (nothing listens on that port)
error_kind:
  description: The kind of failure - V(dns), V(refused), V(timeout), V(not_tls), V(closed), V(tls), V(connect) - or V(null).
  returned: always
  type: str
  sample: refused
protocol:
  description: The negotiated protocol version, as Python names it.
  returned: when the handshake worked
  type: str
  sample: TLSv1.3
cipher:
  description: The negotiated cipher suite (OpenSSL name).
  returned: when the handshake worked
  type: str
  sample: TLS_AES_128_GCM_SHA256
subject:
  description: The subject of the presented certificate (RFC 4514).
  returned: when the handshake worked
  type: str
  sample: CN=links.example.com
issuer:
  description: The issuer of the presented certificate (RFC 4514).
  returned: when the handshake worked
  type: str
  sample: CN=Amazon RSA 2048 M02,O=Amazon,C=US
subject_alt_names:
  description: The certificate's subjectAltName DNS names (lower case), then any IP addresses.
  returned: always
  type: list
  elements: str
  sample: [links.example.com]
not_before:
  description: Start of validity, ISO 8601 UTC.
  returned: when the handshake worked
  type: str
  sample: "2025-01-01T00:00:00Z"
not_after:
  description: End of validity, ISO 8601 UTC.
  returned: when the handshake worked
  type: str
  sample: "2026-01-30T23:59:59Z"
days_left:
  description: Whole days until RV(not_after), rounded down; negative once expired.
  returned: when the handshake worked
  type: int
  sample: 301
serial:
  description: The serial number, colon-separated lower-case hex bytes, the form in which ACM shows it.
  returned: when the handshake worked
  type: str
  sample: "0a:3f:51:9c:2e:77:1b:d4:80:11:6e:5a:2c:93:04:b7"
sha256_fingerprint:
  description: SHA-256 of the DER certificate, colon-separated upper-case hex.
  returned: when the handshake worked
  type: str
  sample: "3B:5E:...:9A"
certificate_pem:
  description: The presented certificate in PEM.
  returned: when the handshake worked
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIIF...\n-----END CERTIFICATE-----\n"
chain_verified:
  description: Whether the chain verified against O(ca_path) or the system trust store; V(null) when no handshake.
  returned: always
  type: bool
  sample: true
chain_error:
  description: Why the chain did not verify, as OpenSSL says it, or V(null).
  returned: always
  type: str
  sample: unable to get local issuer certificate (checked against the system trust store)
attempts:
  description: How many attempts were made.
  returned: always
  type: int
  sample: 1
waited_seconds:
  description: Seconds from the first attempt to the last result.
  returned: always
  type: float
  sample: 0.05
wait_history:
  description:
    - One entry per handshake attempt, the first and the latest ones when there were more than 200.
    - "Run by the action plugin, each poll is also shown while the task runs (not for a single try, nor for a
      first one that already passes)."
    - Each entry has the keys of RV(linktrack.https.dns_record_wait#module:wait_history); here C(what) is C(TLS check
      of SERVER_NAME:), C(state) is C(passed) or how many checks failed (C(2 of 9 checks failing)), and C(timeout) is
      O(wait_timeout) (0 for a single try).
  returned: always
  type: list
  elements: dict
  sample:
    - {what: 'TLS check of links.example.com:', state: 2 of 9 checks failing, elapsed: 0.0, timeout: 300, done: false}
    - {what: 'TLS check of links.example.com:', state: passed, elapsed: 4.1, timeout: 300, done: true}
openssl_command:
  description: The C(openssl s_client) line that shows the same handshake by hand.
  returned: always
  type: str
  sample: openssl s_client -servername links.example.com -connect d111111abcdef8.cloudfront.net:443 </dev/null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._tls import CRYPTOGRAPHY_REQUIREMENT, MIN_TLS_VERSIONS, run_module

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    server_name=dict(type="str", required=True),
    connect_host=dict(type="str"),
    port=dict(type="int", default=443),
    ca_path=dict(type="path"),
    min_tls_version=dict(type="str", default="TLSv1.2", choices=list(MIN_TLS_VERSIONS)),
    min_days_valid=dict(type="int", default=14),
    expected_certificate=dict(type="str"),
    expected_serial=dict(type="str"),
    timeout=dict(type="float", default=10),
    wait_timeout=dict(type="float", default=0),
    fail_on_error=dict(type="bool", default=True),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, requirements=[CRYPTOGRAPHY_REQUIREMENT])


if __name__ == "__main__":
    main()
