# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/troubleshooting.md quotes the error messages a run really gives.

Every failure the guide describes is provoked here, in one run of the setup
playbook against the sandbox (one inventory host per failure): a wrong region,
TSIG keys BIND refuses, a certificate stuck in PENDING_VALIDATION or FAILED
with CAA_ERROR and an alias that CloudFront says is already taken (both
answered like AWS by tests/contract/fault_proxy.py, which the emulator cannot),
manual DNS that never shows up, inputs the preflight refuses, and AWS
throttling every request of one host (through a second proxy, so the other
hosts are not throttled). Each quoted message in the guide (a ```text block
after an ``<!-- message: NAME -->`` marker; ``<...>`` stands for a part that
changes from run to run) must match the message of its failure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re

import pytest
import yaml

from ecohelpers import ROOT, VENV_BIN, base_env, run
from fault_proxy import FaultProxy, throttling_proxy

GUIDE = os.path.join(ROOT, "docs", "troubleshooting.md")
SETUP = os.path.join(ROOT, "playbooks", "setup_link_domain.yml")
SANDBOX_VARS = os.path.join(ROOT, "playbooks", "vars", "sandbox.yml")


def guide_messages():
    """{name: regex} for every quoted message of the guide."""
    with open(GUIDE) as f:
        text = f.read()
    found = {}
    for name, block in re.findall(r"<!-- message: ([a-z0-9-]+) -->\s*```text\n(.*?)```", text, re.S):
        parts = re.split(r"(<[^<>\n]+>)", block.strip())
        pattern = ""
        for part in parts:
            if part.startswith("<") and part.endswith(">"):
                pattern += r"(.+?)"
                continue
            # the guide may wrap long lines: any run of white space matches any other
            if part[:1].isspace() and pattern:
                pattern += r"\s+"
            pattern += r"\s+".join(re.escape(w) for w in part.split())
            if part[-1:].isspace():
                pattern += r"\s+"
        found[name] = pattern
    return found


def _scenarios(tag, sandbox_env):
    wrong_secret = base64.b64encode(b"not the sandbox key, 32 bytes!!!").decode()

    def d(name):
        return "ts-%s-%s.example.com" % (name, tag)

    return {
        "wrong-region": {"domain": d("region"), "vars": {"link_domain_aws_region": "eu-west-1"}},
        "tsig-bad-signature": {"domain": d("tsigsecret"), "vars": {
            "link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_secret": wrong_secret}},
        "tsig-bad-key": {"domain": d("tsigname"), "vars": {
            "link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_name": "linktrack-unknown"}},
        "pending-validation": {"domain": d("pending"), "fault": "pending", "vars": {
            "link_domain_certificate_timeout": 5}},
        "caa-error": {"domain": d("caa"), "fault": "caa"},
        "cname-already-exists": {"domain": d("cname"), "fault": "cname"},
        "manual-timeout": {"domain": d("manual"), "vars": {
            "link_domain_dns_provider": "manual", "link_domain_manual_timeout": 3}},
        "alias-needs-route53": {"domain": d("aliasrfc"), "vars": {
            "link_domain_dns_provider": "rfc2136", "link_domain_dns_record_type": "alias"}},
        "bad-domain": {"domain": d("baddomain"), "vars": {"link_domain_name": "links..example.com"}},
        "aws-throttled": {"domain": d("throttled"), "fault": "throttled"},
    }


@pytest.fixture(scope="module")
def failures(sandbox_env, tmp_path_factory):
    """{scenario: failure message} from one run of the setup playbook."""
    if not os.path.exists(SETUP):
        pytest.skip("playbooks/setup_link_domain.yml is not there yet")
    work = tmp_path_factory.mktemp("troubleshooting")
    proxy = FaultProxy(sandbox_env["SANDBOX_AWS_ENDPOINT"])
    throttled = throttling_proxy(sandbox_env["SANDBOX_AWS_ENDPOINT"])
    tag = "%x" % (os.getpid() & 0xfffff)
    scenarios = _scenarios(tag, sandbox_env)
    with open(SANDBOX_VARS) as f:
        group_vars = yaml.safe_load(f)
    group_vars.update({"link_domain_aws_endpoint_url": proxy.url, "link_domain_certificate_timeout": 20,
                       "link_domain_deploy_timeout": 20, "link_domain_dns_timeout": 10,
                       "link_domain_tls_wait_timeout": 10, "link_domain_iterable_wait_timeout": 10})
    os.makedirs(str(work / "group_vars"))
    (work / "group_vars" / "tracking_domains.yml").write_text(yaml.safe_dump(group_vars))
    hosts = {}
    for name, sc in scenarios.items():
        hosts[sc["domain"]] = dict(sc.get("vars", {}), link_domain_troubleshooting_case=name)
        if sc.get("fault") == "pending":
            proxy.pending_domains.add(sc["domain"])
        elif sc.get("fault") == "caa":
            proxy.failed_domains[sc["domain"]] = "CAA_ERROR"
        elif sc.get("fault") == "cname":
            proxy.taken_aliases.add(sc["domain"])
        elif sc.get("fault") == "throttled":
            hosts[sc["domain"]]["link_domain_aws_endpoint_url"] = throttled.url
    (work / "hosts.yml").write_text(yaml.safe_dump({"tracking_domains": {"hosts": hosts}}))
    env = base_env(SANDBOX_ENV_FILE=os.environ["SANDBOX_ENV_FILE"], ANSIBLE_STDOUT_CALLBACK="json",
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"))
    try:
        proc = run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", str(work), SETUP, "--forks", "20"],
                   env=env, check=False, timeout=600)
    finally:
        proxy.stop()
        throttled.stop()
    out = json.loads(proc.stdout)
    messages = {}
    for play in out["plays"]:
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                if res.get("failed") and not res.get("ignore_errors") and host not in messages:
                    msg = res.get("msg") or ""
                    for item in res.get("results") or []:
                        if item.get("failed"):
                            msg = item.get("msg") or msg
                            break
                    messages[host] = msg
    result = {}
    for name, sc in scenarios.items():
        result[name] = messages.get(sc["domain"])
    # the guide's own look at what happened, for whoever edits it
    (work / "messages.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result


def test_every_scenario_fails(failures):
    assert [name for name, msg in failures.items() if not msg] == []


def test_guide_quotes_every_scenario():
    quoted = set(guide_messages())
    wanted = set(_scenarios("x", {}))
    assert sorted(wanted - quoted) == [], "docs/troubleshooting.md lacks these messages"
    assert sorted(quoted - wanted) == [], "docs/troubleshooting.md quotes messages no test provokes"


@pytest.mark.parametrize("name", sorted(_scenarios("x", {})))
def test_guide_quotes_the_real_message(failures, name):
    pattern = guide_messages().get(name)
    assert pattern, "docs/troubleshooting.md has no <!-- message: %s --> block" % name
    message = failures[name]
    assert message, "the %s run did not fail" % name
    assert re.search(pattern, message, re.S), "docs/troubleshooting.md (%s) no longer matches:\n%s" % (name, message)
