# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: prepare_ttl_plan
short_description: What the prepare_ttl entry point of the link_domain role lowers, or why it refuses
version_added: 0.1.0
description:
  - Takes the result of M(linktrack.https.dns_preflight) (what the tracking domain answers today, its TTL) and
    says what the C(prepare_ttl) entry point of P(linktrack.https.link_domain#role) does - lower the TTL of
    the domain's CNAME (same value) to O(ttl), leave it (already as short), or refuse, with the message.
  - Refuses a domain without a record, a record that already points at this domain's distribution, a
    preflight whose record check did not run, and anything but one plain CNAME (a Route 53 alias has no TTL
    of its own). The preflight itself refuses the records it classifies as unsafe to migrate.
  - The lines say when the cutover run can start - the current time plus the old TTL, in UTC (RFC 1035
    section 3.2.1 - a resolver keeps an answer for at most its TTL).
author:
  - linktrack.https contributors (@linktrack-https)
positional: domain, ttl, provider, check_mode, now
options:
  _input:
    description: The registered result of M(linktrack.https.dns_preflight).
    type: dict
    required: true
  domain:
    description: The tracking domain.
    type: str
    required: true
  ttl:
    description: The TTL to lower to (the role's C(link_domain_prepare_ttl)), whole seconds, 1 or more.
    type: raw
    required: true
  provider:
    description: The DNS provider; V(manual) gets the instruction for a person.
    type: str
    default: route53
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    default: false
  now:
    description: The time, in seconds since the epoch; by default the current time.
    type: float
"""

EXAMPLES = r"""
- name: Prepare TTL | Say when the cutover run can start
  ansible.builtin.debug:
    msg: >-
      {{ (link_domain_dns_preflight | linktrack.https.prepare_ttl_plan('links.example.com', 60, 'route53',
          ansible_check_mode)).lines }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    problem:
      description: Why nothing can be prepared (naming the variable to change); empty when it can.
      type: str
    lower:
      description: Whether the TTL must be lowered (it is longer than O(ttl)).
      type: bool
    record:
      description: The record to write (V(name), V(type), V(value), V(ttl)), the same value with the new TTL.
      type: dict
    old_ttl:
      description: The TTL the record has today.
      type: int
    cutover_at:
      description: The earliest start of the cutover run, C(YYYY-MM-DD HH:MM:SS UTC).
      type: str
    lines:
      description: What the role prints.
      type: list
      elements: str
"""

import time

from ansible.errors import AnsibleFilterError

SAFE_KINDS = ("origin", "other_region", "other")


def _utc(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def prepare_ttl_plan(preflight, domain, ttl, provider="route53", check_mode=False, now=None):
    try:
        new_ttl = int(str(ttl).strip())
    except (TypeError, ValueError):
        new_ttl = 0
    if new_ttl < 1 or str(ttl).strip() != str(new_ttl):
        raise AnsibleFilterError("link_domain_prepare_ttl: %r is not a TTL; give whole seconds, 1 or more "
                                 "(for example 60)." % (ttl,))
    now = time.time() if now is None else float(now)
    record = (preflight or {}).get("record") if isinstance(preflight, dict) else None
    plan = {"problem": "", "lower": False, "record": None, "old_ttl": 0, "cutover_at": None, "lines": []}
    if not isinstance(record, dict):
        plan["problem"] = ("link_domain_preflight_checks: the preflight's record check did not run, so the record "
                           "to lower is not known; keep record in link_domain_preflight_checks.")
        return plan
    kind, shown = record.get("kind"), record.get("description") or ""
    values = record.get("values") or []
    if kind == "none":
        plan["problem"] = ("link_domain_name: %s has no record yet, so there is no TTL to lower and no resolver holds "
                           "an old answer: run the setup directly. Nothing was changed." % domain)
    elif kind == "ours":
        plan["problem"] = ("link_domain_name: %s already points at this domain's distribution (%s): there is no "
                           "cutover left to prepare. Nothing was changed." % (domain, shown))
    elif kind not in SAFE_KINDS or record.get("type") != "CNAME" or record.get("alias") or len(values) != 1 \
            or not record.get("ttl"):
        plan["problem"] = ("link_domain_name: %s is %s; only a plain CNAME's TTL can be lowered here (a Route 53 "
                           "alias has no TTL of its own). Lower it at the DNS provider by hand, or run the setup "
                           "directly. Nothing was changed." % (domain, shown or "not a plain CNAME"))
    if plan["problem"]:
        return plan
    old_ttl = int(record["ttl"])
    value = values[0]
    at = _utc(now + old_ttl)
    plan.update(old_ttl=old_ttl, cutover_at=at, lower=old_ttl > new_ttl,
                record={"name": domain, "type": "CNAME", "value": value, "ttl": new_ttl})
    what = "%s CNAME %s" % (domain, value)
    if not plan["lower"]:
        plan["lines"] = ["The TTL of %s is already %d s (link_domain_prepare_ttl: %d): nothing was changed. The cutover "
                         "run can start at %s, and no earlier than the TTL it had before, counted from the run that "
                         "lowered it." % (what, old_ttl, new_ttl, at)]
    elif provider == "manual":
        plan["lines"] = [
            "ACTION NEEDED IN DNS for %s: set the TTL of its CNAME to %d s (it is %d s), same value:" % (
                domain, new_ttl, old_ttl),
            "    %s. %d IN CNAME %s." % (domain, new_ttl, value.rstrip(".")),
            "Then start the cutover run (linktrack.https.setup_link_domain) no earlier than %d s after the change "
            "is live (if it is live now: at %s)." % (old_ttl, at)]
    elif check_mode:
        plan["lines"] = ["check mode: the TTL of %s would be lowered from %d s to %d s; nothing was changed. The "
                         "cutover run could then start at %s." % (what, old_ttl, new_ttl, at)]
    else:
        plan["lines"] = ["The TTL of %s is now %d s (was %d s). Resolvers may keep the old answer until %s: start the "
                         "cutover run (linktrack.https.setup_link_domain) at %s or later." % (
                             what, new_ttl, old_ttl, at, at)]
    return plan


class FilterModule(object):
    def filters(self):
        return {"prepare_ttl_plan": prepare_ttl_plan}
