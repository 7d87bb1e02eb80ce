# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/iam-policy.json is enough, and not wider than needed.

- Enough: the role's setup and teardown playbooks run in the sandbox as an IAM
  user that holds only this policy, with moto enforcing IAM (see iam_gate.py).
- Not wider: for every statement, a user holding the policy without that one
  statement fails, and the failure is an IAM refusal.
- Scoped: every action that supports resource-level permissions names its
  resource type; the conditions of the policy hold for the requests the role
  really sends (they are recorded at the gate).
- Exact: the actions are the API calls of the modules, no more, no fewer.

The setup of every variant runs in ONE ansible-playbook run (one inventory
host per variant, each with its own user), so the whole test costs two or
three playbook runs, not one per statement.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest
import yaml

from ecohelpers import ROOT, VENV_BIN, base_env, run
from iam_gate import (COMPOSITE_OPERATIONS, RRSET_PATH, IamGate, MotoIam, granted_actions, statement_actions,
                      without_statement)

POLICY_FILE = os.path.join(ROOT, "docs", "iam-policy.json")
SETUP = os.path.join(ROOT, "playbooks", "setup_link_domain.yml")
TEARDOWN = os.path.join(ROOT, "playbooks", "teardown_link_domain.yml")
SANDBOX_VARS = os.path.join(ROOT, "playbooks", "vars", "sandbox.yml")
TEARDOWN_TASKS = os.path.join(ROOT, "roles", "link_domain", "tasks", "teardown.yml")

# Actions that support no resource-level permissions (Service Authorization
# Reference: no resource type), so "*" is the narrowest Resource possible.
RESOURCE_STAR_ONLY = {"acm:ListCertificates", "acm:RequestCertificate", "cloudfront:ListDistributions",
                      "route53:ListHostedZonesByName"}
# The resource type of every other action, as an ARN pattern.
RESOURCE_ARNS = {
    "acm": "arn:aws:acm:us-east-1:*:certificate/*",
    "cloudfront": "arn:aws:cloudfront::*:distribution/*",
    "route53:GetChange": "arn:aws:route53:::change/*",
    "route53": "arn:aws:route53:::hostedzone/*",
}


def load_policy():
    with open(POLICY_FILE) as f:
        return json.load(f)


def _camel(snake):
    return "".join(part.capitalize() for part in snake.split("_"))


def module_api_calls():
    """IAM actions of every AWS API call in the AWS module_utils (read from the code)."""
    services = {"_acm.py": "acm", "_cloudfront.py": "cloudfront", "_route53.py": "route53"}
    actions = set()
    for fname, service in services.items():
        with open(os.path.join(ROOT, "plugins", "module_utils", fname)) as f:
            code = f.read()
        ops = set(re.findall(r"client\.([a-z][a-z0-9_]+)\b", code))
        ops |= set(re.findall(r"_call\(\s*\"([a-z][a-z0-9_]+)\"", code))
        ops -= {"meta", "exceptions", "get_paginator", "can_paginate"}
        for op in ops:
            name = "%s:%s" % (service, _camel(op))
            actions.update(COMPOSITE_OPERATIONS.get(name, (name,)))
    return actions


# ---- static checks ---------------------------------------------------------------

def test_policy_is_well_formed():
    policy = load_policy()
    assert policy["Version"] == "2012-10-17"
    sids = [st.get("Sid") for st in policy["Statement"]]
    assert all(sids) and len(set(sids)) == len(sids), sids
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow", st
        assert "NotAction" not in st and "NotResource" not in st, st
        for action in statement_actions(st):
            assert "*" not in action, "%s: wildcard action %s" % (st["Sid"], action)


def test_actions_are_exactly_the_modules_api_calls():
    granted = granted_actions(load_policy())
    needed = module_api_calls()
    assert needed, "no AWS API calls found in plugins/module_utils"
    assert sorted(needed - granted) == [], "the modules call actions the policy lacks"
    assert sorted(granted - needed) == [], "the policy grants actions no module calls"


def test_resources_are_scoped_where_aws_allows():
    for st in load_policy()["Statement"]:
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for action in statement_actions(st):
            if action in RESOURCE_STAR_ONLY:
                assert resources == ["*"], st["Sid"]
                continue
            want = RESOURCE_ARNS.get(action) or RESOURCE_ARNS[action.split(":")[0]]
            assert resources == [want], "%s: %s should be limited to %s, is %s" % (st["Sid"], action, want, resources)


def test_request_certificate_is_limited_to_dns_validation_in_us_east_1():
    st = [s for s in load_policy()["Statement"] if "acm:RequestCertificate" in statement_actions(s)][0]
    assert st["Condition"]["StringEquals"] == {"aws:RequestedRegion": "us-east-1", "acm:ValidationMethod": "DNS"}


# ---- the role as a user holding only the policy -------------------------------------

def _variants(policy):
    out = {"full": policy}
    for st in policy["Statement"]:
        out["no-" + st["Sid"].lower()] = without_statement(policy, st["Sid"])
    return out


def _write_inventory(directory, hosts, gate_url=None, users=None):
    os.makedirs(os.path.join(directory, "group_vars"))
    with open(SANDBOX_VARS) as f:
        group_vars = yaml.safe_load(f)
    # tighter deadlines: a refused call must not be waited on for long
    group_vars.update({"link_domain_certificate_timeout": 30, "link_domain_deploy_timeout": 30,
                       "link_domain_dns_timeout": 20, "link_domain_tls_wait_timeout": 15,
                       "link_domain_iterable_wait_timeout": 15})
    with open(os.path.join(directory, "group_vars", "tracking_domains.yml"), "w") as f:
        yaml.safe_dump(group_vars, f)
    inv_hosts = {}
    for variant, domain in hosts.items():
        hv = {"link_domain_dns_provider": "route53", "link_domain_dns_record_type": "alias",
              "link_domain_iterable_region": "usdc", "link_domain_teardown_confirm": domain,
              "link_domain_iam_variant": variant}
        if gate_url:
            key, secret = users[variant]
            hv.update({"link_domain_aws_endpoint_url": gate_url, "link_domain_aws_access_key": key,
                       "link_domain_aws_secret_key": secret})
        inv_hosts[domain] = hv
    with open(os.path.join(directory, "hosts.yml"), "w") as f:
        yaml.safe_dump({"tracking_domains": {"hosts": inv_hosts}}, f)
    return directory


def _play(playbook, inventory, env, limit=None):
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, playbook, "--forks", "20"]
    if limit:
        cmd += ["--limit", ",".join(sorted(limit))]
    proc = run(cmd, env=env, timeout=900, check=False)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook gave no JSON (rc=%s):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:],
                                                                                 proc.stderr[-3000:]))
    failed = {h for h, s in out["stats"].items() if s.get("failures") or s.get("unreachable")}
    messages = {}
    for play in out["plays"]:
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                if res.get("failed") and not res.get("ignore_errors") and host not in messages:
                    messages[host] = "%s: %s" % (task["task"]["name"], res.get("msg"))
    return set(out["stats"]), failed, messages


@pytest.fixture(scope="module")
def iam_runs(sandbox_env, tmp_path_factory):
    """Setup (every variant) and teardown (the variants whose setup passed), through the gate."""
    if not os.path.exists(SETUP):
        pytest.skip("playbooks/setup_link_domain.yml is not there yet")
    work = tmp_path_factory.mktemp("iam")
    policy = load_policy()
    variants = _variants(policy)
    moto = MotoIam()
    gate = None
    tag = "%x" % (os.getpid() & 0xfffff)
    hosts = dict((v, "iam-%s-%s.example.com" % (v, tag)) for v in variants)
    env = base_env(SANDBOX_ENV_FILE=os.environ["SANDBOX_ENV_FILE"], ANSIBLE_STDOUT_CALLBACK="json",
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"),
                   ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    try:
        users = dict((v, moto.add_user("linktrack-%s" % v, p)) for v, p in variants.items())
        moto.enforce()
        gate = IamGate(moto.url, sandbox_env["SANDBOX_AWS_ENDPOINT"])
        inv = _write_inventory(str(work / "inventory"), hosts, gate.url, users)
        ran, setup_failed, setup_msgs = _play(SETUP, inv, env)
        assert ran == set(hosts.values()), ran
        teardown_failed, teardown_msgs = set(), {}
        torn = set(hosts.values()) - setup_failed
        if os.path.exists(TEARDOWN_TASKS) and torn:
            _ran, teardown_failed, teardown_msgs = _play(TEARDOWN, inv, env, limit=torn)
        yield {"variants": variants, "hosts": hosts, "users": users, "gate": gate,
               "setup_failed": setup_failed, "setup_msgs": setup_msgs,
               "teardown_ran": os.path.exists(TEARDOWN_TASKS), "teardown_failed": teardown_failed,
               "teardown_msgs": teardown_msgs}
    finally:
        if gate is not None:
            gate.stop()
        moto.stop()
        # leave the sandbox as found: tear down every variant with the sandbox's own credentials
        if os.path.exists(TEARDOWN_TASKS):
            clean = _write_inventory(str(work / "cleanup"), hosts)
            _play(TEARDOWN, clean, env)


def test_full_policy_runs_setup_and_teardown(iam_runs):
    host = iam_runs["hosts"]["full"]
    key = iam_runs["users"]["full"][0]
    assert host not in iam_runs["setup_failed"], iam_runs["setup_msgs"].get(host)
    assert iam_runs["gate"].refusals(key) == []
    allowed = [d for d in iam_runs["gate"].decisions if d["key"] == key and d["allowed"]]
    assert len(allowed) >= 10, "the run made suspiciously few AWS requests through the gate: %s" % allowed
    if not iam_runs["teardown_ran"]:
        pytest.skip("roles/link_domain/tasks/teardown.yml is not there yet: teardown not run")
    assert host not in iam_runs["teardown_failed"], iam_runs["teardown_msgs"].get(host)
    assert iam_runs["gate"].refusals(key) == []


def test_every_statement_is_needed(iam_runs):
    """Remove any one statement: setup or teardown fails, refused by IAM."""
    not_failing = []
    for variant, host in sorted(iam_runs["hosts"].items()):
        if variant == "full":
            continue
        key = iam_runs["users"][variant][0]
        failed = host in iam_runs["setup_failed"] or host in iam_runs["teardown_failed"]
        if not failed:
            not_failing.append(variant)
            continue
        refusals = iam_runs["gate"].refusals(key)
        assert refusals, "%s failed, but not because IAM refused a request: %s" % (
            variant, iam_runs["setup_msgs"].get(host) or iam_runs["teardown_msgs"].get(host))
        print("%-50s %s; first refusal: %s" % (variant, "setup failed" if host in iam_runs["setup_failed"]
                                               else "teardown failed", refusals[0]["refusal"][:200]))
    if not_failing and not iam_runs["teardown_ran"]:
        teardown_only = [v for v in not_failing if "teardown" in v]
        assert sorted(set(not_failing) - set(teardown_only)) == [], "setup passed without: %s" % not_failing
        pytest.skip("teardown not there yet; statements only teardown needs: %s" % teardown_only)
    assert not_failing == [], "these statements can be removed and the runs still pass: %s" % not_failing


def test_requests_meet_the_policy_conditions(iam_runs):
    """The conditions moto cannot evaluate hold for what the role really sent."""
    key = iam_runs["users"]["full"][0]
    sent = [d for d in iam_runs["gate"].decisions if d["key"] == key]
    requests = [json.loads(d["body"]) for d in sent if d["target"] == "CertificateManager.RequestCertificate"]
    assert requests, "the run requested no certificate"
    for req in requests:
        assert req.get("ValidationMethod") == "DNS", req
    regions = set(d["scope"].split("/")[0] for d in sent if d["scope"].endswith("/acm"))
    assert regions == {"us-east-1"}, regions
    changes = [d["body"] for d in sent if d["method"] == "POST" and RRSET_PATH.match(d["path"])]
    assert changes, "the run changed no Route 53 record"
    types = set()
    for body in changes:
        types.update(re.findall(r"<Type>([A-Z]+)</Type>", body))
    assert types and types <= {"CNAME", "A", "AAAA"}, types
    # and the waits for INSYNC really ran (Route 53 answers PENDING first, see iam_gate.like_aws)
    assert iam_runs["gate"].pending_rewrites > 0
    assert any(d["path"].startswith("/2013-04-01/change/") for d in sent)
