# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the modules that check the certificate a server presents (tls_sni_check, iterable_tracking_domain)."""

    DOCUMENTATION = r"""
options:
  ca_path:
    description:
      - A PEM file of trusted CA certificates (or an OpenSSL hashed certificate directory) to verify the chain against,
        for example the sandbox's CA.
      - When not set, the system trust store is used.
    type: path
  min_days_valid:
    description:
      - How many more days the certificate must stay valid. V(0) only requires it to be valid now.
    type: int
  expected_serial:
    description:
      - The serial number the presented certificate must have, in hex as ACM shows it; colons optional, any case.
      - M(linktrack.https.acm_dns_certificate) returns it as RV(linktrack.https.acm_dns_certificate#module:serial), so the
        role passes it without an extra AWS request.
    type: str
  timeout:
    description:
      - Seconds each network step of one attempt may take (connecting, a DNS question, the handshake, a read).
    type: float
    default: 10
  wait_timeout:
    description:
      - Seconds to repeat the checks, with growing pauses between attempts, until they all pass (edges and DNS take
        time to settle). V(0) makes one attempt.
      - The last attempt may run past this deadline by the time its own steps take (see O(timeout)).
    type: float
    default: 0
"""
