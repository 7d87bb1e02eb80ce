# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """What the collection's modules support: each attribute with the description of ansible.builtin.action_common_attributes
    and the support level (as community.general.attributes does for its modules); the other fragments say only what
    differs and are listed before this one."""

    # Modules that change AWS resources: check mode and diff both complete.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Nothing is written; C(changed) and the diff are those a real run would give.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff shows before and after of exactly the fields that differ.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
"""

    # Modules that only ask (DNS, TLS, HTTP): nothing to change, nothing to diff. Only what differs from
    # DOCUMENTATION: such a module lists linktrack.https.attributes.read_only first, then linktrack.https.attributes.
    # ansible-core merges the fragments key by key, the module's own attributes and the fragment listed first
    # winning (ansible.utils.plugin_docs.merge_fragment), so the descriptions come from DOCUMENTATION.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    details:
      - The module only reads, so check mode runs the same checks.
  diff_mode:
    support: none
    details:
      - Nothing is changed, so there is nothing to diff.
"""

    # Modules that only make sense on the controller (the role's own steps): listed before the others.
    CONTROLLER = r"""
options: {}
attributes:
  platform:
    support: full
    platforms: controller
"""
