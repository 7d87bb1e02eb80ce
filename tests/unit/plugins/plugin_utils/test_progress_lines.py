# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``progress`` of the run_module functions the action plugins display: one line per poll while a wait waits.

The action plugin prefixes the host; these lines are what the module_utils
code hands it. Nothing is shown for a single try or when the first poll
already passes (a re-run).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.linktrack.https.plugins.module_utils import _dns, _tls
from ansible_collections.linktrack.https.plugins.module_utils._common import Progress
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.test_tls_checks import (
    NAME,
    FakeProber,
    facts,
    refused,
)


def test_a_tls_check_that_waits_shows_each_attempt_and_the_pass():
    clock = FakeClock(100.0)
    lines = []
    prober = FakeProber(clock, [refused(), refused(), facts()])
    check = _tls.TlsSniCheck(NAME, "d111.cloudfront.net", wait_timeout=300, prober=prober, clock=clock, progress=lines.append)
    out = check.run()
    assert out["passed"] is True
    assert len(lines) == 3
    assert lines[0] == "TLS check of links.example.com: 1 of 1 checks failing, 0s of 5m"
    assert lines[1].startswith("TLS check of links.example.com: 1 of 1 checks failing, 2s of 5m")
    assert lines[2] == "TLS check of links.example.com: passed, 4s of 5m"  # 3 probes of 0.5 s, pauses of 1 and 1.6 s


@pytest.mark.parametrize("wait_timeout,script", [(300, "pass"), (0, "refused")])
def test_a_tls_check_that_does_not_wait_shows_nothing(wait_timeout, script):
    clock = FakeClock(100.0)
    lines = []
    prober = FakeProber(clock, [facts() if script == "pass" else refused()])
    _tls.TlsSniCheck(NAME, "d111.cloudfront.net", wait_timeout=wait_timeout, prober=prober, clock=clock,
                     progress=lines.append).run()
    assert lines == []


class ScriptedChecker(_dns.DnsChecker):
    """A DnsChecker whose servers answer from a script (no network)."""

    def __init__(self, clock, statuses):
        super(ScriptedChecker, self).__init__(timeout=1, clock=clock)
        self.statuses = list(statuses)

    def query_one(self, name, rdtype, server):
        self.clock.t += 0.2
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return _dns._response(server.label, status, reason=status, authoritative=True)


def test_a_dns_wait_shows_each_poll_until_the_record_is_gone():
    clock = FakeClock(0.0)
    lines = []
    checker = ScriptedChecker(clock, ["timeout", "timeout", "nxdomain"])
    progress = _dns.wait_progress(lines.append, 600)
    result = checker.wait("_x.links.example.com", "CNAME", [], servers=["127.0.0.1:53"], timeout=600, state="absent",
                          progress=progress)
    assert result["matched"] is True and result["attempts"] == 3
    assert lines[0] == "CNAME _x.links.example.com waiting, 0s of 10m"
    assert lines[-1].startswith("CNAME _x.links.example.com done, ")
    assert len(lines) == 3
    assert [h["done"] for h in progress.history] == [False, False, True]


def test_wait_progress_is_none_in_a_module_process_and_for_a_single_ask():
    assert _dns.wait_progress(None, 600) is None
    assert _dns.wait_progress(print, 0) is None
    assert isinstance(_dns.wait_progress(print, 60), Progress)


def test_quiet_start_keeps_a_first_poll_that_is_done_in_the_history_only():
    lines = []
    progress = Progress(report=lines.append, subject="links.example.com", quiet_start=True)
    progress.poll("distribution E2ABC", "Deployed", 0, 2400, done=True)
    assert lines == [] and len(progress.history) == 1
    loud = Progress(report=lines.append, subject="links.example.com")
    loud.poll("distribution E2ABC", "Deployed", 0, 2400, done=True)
    assert lines == ["links.example.com: distribution E2ABC Deployed, 0s of 40m"]
