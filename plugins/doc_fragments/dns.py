# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the modules that ask a zone's authoritative name servers directly."""

    DOCUMENTATION = r"""
options:
  servers:
    description:
      - The servers to ask, as V(host) or V(host:port); IPv6 addresses with a port as V([::1]:5353). Host names are
        resolved with the system resolver (and /etc/hosts).
      - Default is the zone's authoritative name servers, from its NS records. Give them for a test setup or for
        split-horizon DNS.
    type: list
    elements: str
    default: []
  port:
    description:
      - Port for servers given without one, and for the name servers found from the NS records.
    type: int
    default: 53
  query_timeout:
    description:
      - Seconds to wait for each server's answer.
    type: float
    default: 3
"""
