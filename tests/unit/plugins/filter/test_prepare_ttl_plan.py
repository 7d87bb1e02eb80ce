# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the prepare_ttl_plan filter (the role's prepare_ttl entry point)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.linktrack.https.plugins.filter.prepare_ttl_plan import prepare_ttl_plan

DOMAIN = "links.example.com"
NOW = 1796300000.0  # 2026-12-03 12:13:20 UTC


def preflight(kind="origin", rtype="CNAME", values=("links.iterable.com",), ttl=300, alias=False):
    return {"record": {"kind": kind, "type": rtype, "values": list(values), "ttl": ttl, "alias": alias,
                       "description": "%s %s: something" % (rtype, ", ".join(values))}}


def test_lowers_a_cname_to_origin_and_says_when_the_cutover_can_start():
    plan = prepare_ttl_plan(preflight(), DOMAIN, 30, "route53", False, NOW)
    assert plan["problem"] == "" and plan["lower"] is True and plan["old_ttl"] == 300
    assert plan["record"] == {"name": DOMAIN, "type": "CNAME", "value": "links.iterable.com", "ttl": 30}
    assert plan["cutover_at"] == "2026-12-03 12:18:20 UTC"  # NOW + 300 s
    assert plan["lines"] == ["The TTL of links.example.com CNAME links.iterable.com is now 30 s (was 300 s). "
                             "Resolvers may keep the old answer until 2026-12-03 12:18:20 UTC: start the cutover run "
                             "(linktrack.https.setup_link_domain) at 2026-12-03 12:18:20 UTC or later."]


def test_already_short_changes_nothing_check_mode_and_manual_say_what_would_be_done():
    again = prepare_ttl_plan(preflight(ttl=30), DOMAIN, "30", "rfc2136", False, NOW)
    assert again["lower"] is False and "is already 30 s" in again["lines"][0]
    shorter = prepare_ttl_plan(preflight(ttl=10), DOMAIN, 30, "route53", False, NOW)
    assert shorter["lower"] is False  # never raised
    check = prepare_ttl_plan(preflight(), DOMAIN, 30, "route53", True, NOW)
    assert check["lower"] is True and check["lines"][0].startswith("check mode: the TTL of links.example.com CNAME "
                                                                   "links.iterable.com would be lowered from 300 s to 30 s")
    manual = prepare_ttl_plan(preflight(), DOMAIN, 30, "manual", False, NOW)
    assert manual["lines"][0].startswith("ACTION NEEDED IN DNS for links.example.com")
    assert manual["lines"][1] == "    links.example.com. 30 IN CNAME links.iterable.com."


@pytest.mark.parametrize("result, words", [
    (preflight(kind="none", rtype=None, values=(), ttl=None), "has no record yet"),
    (preflight(kind="ours", values=("d1.cloudfront.net",)), "already points at this domain's distribution"),
    (preflight(kind="other", rtype="A", values=("192.0.2.1",)), "only a plain CNAME's TTL"),
    (preflight(kind="other", rtype="A", values=("d1.cloudfront.net",), ttl=None, alias=True), "only a plain CNAME"),
    ({"record": None}, "link_domain_preflight_checks"),
])
def test_refuses_what_cannot_be_prepared(result, words):
    plan = prepare_ttl_plan(result, DOMAIN, 30, "route53", False, NOW)
    assert words in plan["problem"] and plan["record"] is None and plan["lower"] is False


@pytest.mark.parametrize("ttl", [0, -5, "abc", "30s", None, 1.5])
def test_a_ttl_that_is_not_whole_seconds_is_refused_naming_the_variable(ttl):
    with pytest.raises(AnsibleFilterError) as err:
        prepare_ttl_plan(preflight(), DOMAIN, ttl, "route53", False, NOW)
    assert "link_domain_prepare_ttl" in str(err.value)
