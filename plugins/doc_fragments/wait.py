# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """O(wait) and O(wait_timeout) of the AWS modules; each module sets the defaults and says in its notes what it waits for."""

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until AWS reports the work done - C(ISSUED) for a certificate, C(Deployed) for a distribution, C(INSYNC)
        for a Route 53 change (the module's notes say more).
      - Every poll shows as a progress line while the task runs and is returned in C(wait_history).
    type: bool
  wait_timeout:
    description:
      - Seconds to wait at most with O(wait=true); must be above 0. The task fails when the deadline passes,
        saying what it waited for and what it saw last.
    type: int
"""
