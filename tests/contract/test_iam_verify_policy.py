# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/iam-verify-policy.json: the read-only policy of playbooks/verify_link_domain.yml.

It holds exactly the read calls of module_utils/_verify.py; through the IAM gate
(iam_gate.py, moto enforcing IAM in front of the sandbox) the verify playbook
passes with a user holding only this policy, fails with AccessDenied in the
check's reason when a statement is missing, and every write is refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest
import yaml

from ecohelpers import ROOT, VENV_BIN, base_env, run
from iam_gate import IamGate, MotoIam, statement_actions, without_statement

POLICY_FILE = os.path.join(ROOT, "docs", "iam-verify-policy.json")
VERIFY_CODE = os.path.join(ROOT, "plugins", "module_utils", "_verify.py")
SETUP = os.path.join(ROOT, "playbooks", "setup_link_domain.yml")
VERIFY = os.path.join(ROOT, "playbooks", "verify_link_domain.yml")
SANDBOX_VARS = os.path.join(ROOT, "playbooks", "vars", "sandbox.yml")
READ_PREFIXES = ("List", "Describe", "Get")


def load_policy():
    with open(POLICY_FILE) as f:
        return json.load(f)


def _camel(snake):
    return "".join(part.capitalize() for part in snake.split("_"))


def test_actions_are_exactly_the_read_calls_of_verify():
    with open(VERIFY_CODE) as f:
        code = f.read()
    called = set("%s:%s" % (service, _camel(method))
                 for service, method in re.findall(
                     # every request goes through _call, directly or through _read_or_none(NOT_FOUND_CODE, ...)
                     r'self\.(?:_call\(|_read_or_none\("[A-Za-z]+", )"(acm|cloudfront)", "([a-z_]+)"', code))
    granted = set(a for st in load_policy()["Statement"] for a in statement_actions(st))
    assert called and granted == called, (sorted(granted), sorted(called))
    assert all(a.split(":", 1)[1].startswith(READ_PREFIXES) for a in granted), sorted(granted)
    assert all(st["Effect"] == "Allow" and "*" not in json.dumps(st.get("Action")) for st in load_policy()["Statement"])


def _inventory(directory, domain, gate_url=None, key=None):
    os.makedirs(directory)
    with open(SANDBOX_VARS) as f:
        group_vars = yaml.safe_load(f)
    host = {"link_domain_dns_provider": "route53", "link_domain_dns_record_type": "cname"}
    if gate_url:
        host.update({"link_domain_aws_endpoint_url": gate_url, "link_domain_aws_access_key": key[0],
                     "link_domain_aws_secret_key": key[1]})
    os.makedirs(os.path.join(directory, "group_vars"))
    with open(os.path.join(directory, "group_vars", "tracking_domains.yml"), "w") as f:
        yaml.safe_dump(group_vars, f)
    with open(os.path.join(directory, "hosts.yml"), "w") as f:
        yaml.safe_dump({"tracking_domains": {"hosts": {domain: host}}}, f)
    return directory


@pytest.fixture(scope="module")
def verify_gate(sandbox_env, tmp_path_factory):
    work = tmp_path_factory.mktemp("iam-verify")
    domain = "iam-verify-%x.%s" % (os.getpid() & 0xfffff, sandbox_env.get("SANDBOX_ZONE", "example.com"))
    env = base_env(SANDBOX_ENV_FILE=os.environ["SANDBOX_ENV_FILE"],
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"))
    proc = run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", _inventory(str(work / "setup"), domain), SETUP],
               env=env, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    policy = load_policy()
    variants = {"full": policy}
    for st in policy["Statement"]:
        variants["no-" + st["Sid"].lower()] = without_statement(policy, st["Sid"])
    moto = MotoIam()
    gate = None
    try:
        users = dict((v, moto.add_user("verify-%s" % v, p)) for v, p in variants.items())
        moto.enforce()
        gate = IamGate(moto.url, sandbox_env["SANDBOX_AWS_ENDPOINT"],
                       policies=dict((users[v][0], p) for v, p in variants.items()))
        yield {"work": work, "domain": domain, "env": env, "gate": gate, "users": users, "variants": variants}
    finally:
        if gate is not None:
            gate.stop()
        moto.stop()


def _verify(ctx, variant):
    directory = ctx["work"] / variant
    inventory = _inventory(str(directory / "inventory"), ctx["domain"], ctx["gate"].url, ctx["users"][variant])
    proc = run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, "--check",
                "-e", "link_domain_verify_report_dir=%s" % directory, VERIFY], env=ctx["env"], timeout=600, check=False)
    with open(os.path.join(str(directory), "verify-report.json")) as f:
        report = json.load(f)
    return proc, dict((c["name"], c) for c in report["domains"][0]["checks"])


def test_the_verify_policy_suffices(verify_gate):
    proc, checks = _verify(verify_gate, "full")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert all(c["status"] == "passed" for c in checks.values()), checks
    key = verify_gate["users"]["full"][0]
    assert verify_gate["gate"].refusals(key) == []
    allowed = [d for d in verify_gate["gate"].decisions if d["key"] == key and d["allowed"]]
    assert 1 <= len(allowed) <= 4, allowed


def test_every_statement_is_needed(verify_gate):
    for variant in verify_gate["variants"]:
        if variant == "full":
            continue
        proc, checks = _verify(verify_gate, variant)
        assert proc.returncode != 0, variant
        reasons = " ".join(c["reason"] for c in checks.values() if c["status"] == "failed")
        # the refusal is the check's reason (moto's CloudFront refusal carries no error code botocore can read)
        assert "could not be read" in reasons, (variant, checks)
        refused = verify_gate["gate"].refusals(verify_gate["users"][variant][0])
        assert refused and all(d["allowed"] is False for d in refused), variant


def test_a_write_is_denied(verify_gate):
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

    key, secret = verify_gate["users"]["full"]
    kwargs = dict(endpoint_url=verify_gate["gate"].url, region_name="us-east-1", aws_access_key_id=key,
                  aws_secret_access_key=secret)
    writes = [
        lambda: boto3.client("acm", **kwargs).request_certificate(DomainName=verify_gate["domain"], ValidationMethod="DNS"),
        lambda: boto3.client("cloudfront", **kwargs).delete_distribution(Id="E123456789ABCD", IfMatch="E1"),
        lambda: boto3.client("route53", **kwargs).change_resource_record_sets(
            HostedZoneId="Z0000000000000", ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": {
                "Name": verify_gate["domain"], "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]}),
    ]
    for write in writes:
        with pytest.raises(ClientError) as err:
            write()
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, err.value.response
