# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interrupted runs converge (CI part): kill_trials.py with two trials.

Trial 1 (Route 53, alias records) is killed during the DNS cutover, trial 2
(RFC 2136, CNAME) while the certificate is requested and validated. The full
figures (N=30, random kill points) are in docs/reliability.md. The pure
helpers of the script are tested here too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import kill_trials
import relhelpers


def test_steps_are_told_by_task_prefix_and_provider_tasks_follow_their_step():
    names = ["Validating arguments against arg spec 'main'", "Preflight | Check", "Certificate | Request",
             "Route 53 | Acm validation record", "Distribution | CloudFront", "Deployed | Wait", "TLS | Check",
             "DNS | Refuse", "RFC 2136 | Tracking domain record", "Iterable | Verify"]
    current, steps = "preflight", []
    for name in names:
        current = kill_trials.step_of(name, current)
        steps.append(current)
    assert steps == ["preflight", "preflight", "certificate", "certificate", "distribution", "deployed", "tls",
                     "dns", "dns", "iterable"]


def test_spans_and_tls_time_from_events():
    events = [
        {"t": 10.0, "ev": "start", "task": "Preflight | Check"},
        {"t": 12.0, "ev": "start", "task": "Certificate | Request"},
        {"t": 15.0, "ev": "start", "task": "TLS | Check the certificate"},
        {"t": 16.0, "ev": "ok", "task": "TLS | Check the certificate", "passed": False},
        {"t": 17.5, "ev": "ok", "task": "TLS | Check the certificate", "passed": True},
        {"t": 18.0, "ev": "start", "task": "DNS | Point"},
        {"t": 21.0, "ev": "end", "task": ""},
    ]
    assert kill_trials.step_spans(events) == {"preflight": 2.0, "certificate": 3.0, "tls": 3.0, "dns": 3.0}
    assert kill_trials.tls_passed_at(events) == 17.5
    assert kill_trials.tls_passed_at(events[:4]) is None


def test_two_interrupted_setups_converge(fresh_emulator, sandbox, tmp_path):
    out = tmp_path / "trials.json"
    cmd = [sys.executable, os.path.join(relhelpers.ROOT, "tests", "reliability", "kill_trials.py"),
           "--trials", "2", "--no-calibrate", "--points", "inside dns,inside certificate", "--seed", "7",
           "--workdir", str(tmp_path / "runs"), "--json", str(out), "--env-file", sandbox.env_file]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
    assert "trials, converged, duplicates, unsafe cutovers" in proc.stdout, proc.stdout + proc.stderr[-4000:]
    data = json.loads(out.read_text())
    summary = data["summary"]
    assert (summary["trials"], summary["converged"], summary["duplicates"], summary["unsafe_cutovers"]) == (2, 2, 0, 0), (
        proc.stdout + proc.stderr[-4000:])
    assert proc.returncode == 0
    for trial in data["trials"]:
        first = trial["runs"][0]
        assert first["killed"], "the first run ended before the kill point: %s" % first
        assert not first["group_left"], "processes of the killed run survived SIGKILL"
        # the cutover came after the TLS check, and the poller really watched
        assert trial["dns_polls"] > 20
        assert trial["cutover_after_tls_seconds"] is not None and trial["cutover_after_tls_seconds"] > 0
    assert [t["provider"] for t in data["trials"]] == ["route53", "rfc2136"]


def test_timeline_and_a_random_moment_inside_a_step():
    events = [
        {"t": 0.0, "ev": "start", "task": "Preflight | Check"},
        {"t": 1.0, "ev": "start", "task": "Certificate | Request"},
        {"t": 3.0, "ev": "start", "task": "Route 53 | Acm validation record"},
        {"t": 3.5, "ev": "start", "task": "Distribution | CloudFront"},
        {"t": 4.0, "ev": "end", "task": ""},
    ]
    steps = kill_trials.timeline(events)
    assert steps == {"preflight": [1.0], "certificate": [2.0, 0.5], "distribution": [0.5]}

    class _Rng:
        def __init__(self, value):
            self.value = value

        def uniform(self, low, high):
            return self.value

    assert kill_trials.choose_moment([2.0, 0.5], _Rng(1.5)) == (1, 1.5)
    assert kill_trials.choose_moment([2.0, 0.5], _Rng(2.25)) == (2, 0.25)
    assert kill_trials.choose_moment([], _Rng(0.0)) == (1, 0.0)


def test_poller_sees_a_cutover_and_dates_it(sandbox):
    """The detector can fire: a CNAME to CloudFront made straight at BIND is seen within a few polls."""
    import time
    import uuid

    import dns.name
    import dns.query
    import dns.tsigkeyring
    import dns.update

    name = "poll-%s.example.com" % uuid.uuid4().hex[:6]
    poller = kill_trials.DnsPoller(name, sandbox["SANDBOX_DNS_SERVER"], int(sandbox["SANDBOX_DNS_PORT"]))
    poller.start()
    try:
        time.sleep(0.3)
        assert poller.first_pointed is None and poller.polls >= 2
        keyring = dns.tsigkeyring.from_text({sandbox["SANDBOX_TSIG_KEY_NAME"]: sandbox["SANDBOX_TSIG_SECRET"]})
        update = dns.update.UpdateMessage(sandbox.zone, keyring=keyring, keyname=sandbox["SANDBOX_TSIG_KEY_NAME"],
                                          keyalgorithm=dns.name.from_text(sandbox["SANDBOX_TSIG_ALGORITHM"]))
        update.add(name + ".", 60, "CNAME", "d1234abcd.cloudfront.net.")
        changed_at = time.time()
        answer = dns.query.tcp(update, sandbox["SANDBOX_DNS_SERVER"], port=int(sandbox["SANDBOX_DNS_PORT"]), timeout=5)
        assert answer.rcode() == 0
        deadline = time.time() + 5
        while poller.first_pointed is None and time.time() < deadline:
            time.sleep(0.02)
    finally:
        poller.stop()
        update = dns.update.UpdateMessage(sandbox.zone, keyring=keyring, keyname=sandbox["SANDBOX_TSIG_KEY_NAME"],
                                          keyalgorithm=dns.name.from_text(sandbox["SANDBOX_TSIG_ALGORITHM"]))
        update.delete(name + ".")
        dns.query.tcp(update, sandbox["SANDBOX_DNS_SERVER"], port=int(sandbox["SANDBOX_DNS_PORT"]), timeout=5)
    assert poller.first_pointed is not None
    assert changed_at - 0.1 <= poller.first_pointed <= changed_at + 0.5
    assert poller.first_answer == ["d1234abcd.cloudfront.net."]
    # a TLS check that passed only after this moment makes it an unsafe cutover
    events = [{"t": poller.first_pointed + 1.0, "ev": "ok", "task": "TLS | Check the certificate", "passed": True}]
    assert poller.first_pointed < kill_trials.tls_passed_at(events)
