# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: iterable_report
short_description: The block of step 6 of the link_domain role that a person cannot miss
version_added: 0.1.0
description:
  - Turns the result of M(linktrack.https.iterable_tracking_domain) into the lines the role prints after step 6
    of P(linktrack.https.link_domain#role), that is what a person must still do in Iterable (the module's
    C(iterable_steps)) or that the domain is verified and confirmed, and each check with its status and reason.
  - Without a result (no distribution yet) it says that nothing was checked.
author:
  - linktrack.https contributors (@linktrack-https)
positional: domain, confirmed, check_mode
options:
  _input:
    description: The registered result of M(linktrack.https.iterable_tracking_domain) (or a skipped result).
    type: dict
    required: true
  domain:
    description: The tracking domain, named in the first line of the block (such as C(ACTION NEEDED IN ITERABLE for DOMAIN)).
    type: str
    required: true
  confirmed:
    description: The role's C(link_domain_iterable_confirmed).
    type: bool
    default: false
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Iterable | What a person must still do in Iterable
  ansible.builtin.debug:
    msg: >-
      {{ link_domain_iterable | linktrack.https.iterable_report('links.example.com', link_domain_iterable_confirmed,
         ansible_check_mode) }}
"""

RETURN = r"""
_value:
  description: The lines, between two bars of 78 C(=).
  type: list
  elements: str
"""

BAR = "=" * 78


def iterable_report(result, domain, confirmed=False, check_mode=False):
    r = result if isinstance(result, dict) else {}
    if not isinstance(r.get("checks"), dict):
        why = "check mode, and the distribution does not exist yet." if check_mode else "there is no distribution yet."
        return [BAR, "STEP 6 NOT VERIFIED for %s: %s" % (domain, why),
                "Nothing was checked end to end, and nothing is set up in Iterable.", BAR]
    lines = [BAR]
    if r.get("passed") and confirmed:
        lines.append("%s: verified end to end over HTTPS; the Iterable settings are confirmed "
                     "(link_domain_iterable_confirmed)." % domain)
    else:
        lines.append("ACTION NEEDED IN ITERABLE for %s (%s)" % (domain, r.get("iterable_app_url", "")))
        lines.append("Iterable has no API for tracking domains: this run set up nothing in Iterable. A person must:")
        for i, step in enumerate(r.get("iterable_steps") or [], 1):
            ready = step.get("ready", True)
            lines.append("  %d. %s%s" % (i, step.get("what", ""),
                                         "" if ready else "  [NOT YET: the checks below must pass first]"))
        lines.append("Then set link_domain_iterable_confirmed: true for this domain; later runs fail if a check fails.")
    for name, check in r["checks"].items():
        lines.append("  check %s: %s - %s" % (name, check.get("status"), check.get("reason")))
    lines.append(BAR)
    return lines


class FilterModule(object):
    def filters(self):
        return {"iterable_report": iterable_report}
