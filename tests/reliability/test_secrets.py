# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets never show: the whole setup at -vvv with --diff, a known TSIG secret and AWS secret key.

Two runs over two fresh domains (one through RFC 2136 with the TSIG key, one
through Route 53): a fresh setup with the default callback, and a re-run with
the json callback (every result of every task). Then a third run, for another
domain, with a well-formed TSIG secret BIND does not know, which fails at the
DNS update (error paths print more). Each writes a log file too
(ANSIBLE_LOG_PATH). The test fails if the TSIG secret or the AWS secret key
(or the TSIG secret without its base64 padding, or as hex) appears in any of
it. The AWS credentials are not in the environment: the role must pass its
own variables, so the secret key really travels through the modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import os
import uuid

import pytest
import yaml

import faultproxy
import relhelpers

pytestmark = pytest.mark.usefixtures("fresh_emulator")

# a well-formed TSIG secret that BIND does not know: the failing run must not show it either
WRONG_TSIG_SECRET = "V3JvbmdUc2lnU2VjcmV0LWxpbmt0cmFjay1yZWxpYWJpbGl0eS0yMDI2IQ=="
AWS_ACCESS_KEY = "AKIALINKTRACKSECRETS"
AWS_SECRET_KEY = "lInKtRaCk/SeCrEt+KeY/9fQ2xW7rT4pL8mN3vB6cZ0aS5dF"


def _needles(sandbox):
    tsig = sandbox["SANDBOX_TSIG_SECRET"]
    needles = {
        "TSIG secret": tsig,
        "TSIG secret without padding": tsig.rstrip("="),
        "TSIG secret as hex": binascii.hexlify(base64.b64decode(tsig)).decode(),
        "AWS secret key": AWS_SECRET_KEY,
        "wrong TSIG secret": WRONG_TSIG_SECRET,
        "wrong TSIG secret without padding": WRONG_TSIG_SECRET.rstrip("="),
    }
    assert len(tsig.rstrip("=")) >= 20, "the sandbox's TSIG secret is too short to search for"
    return needles


@pytest.fixture(scope="module")
def secret_runs(sandbox, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secrets")
    run = uuid.uuid4().hex[:6]
    domains = {
        "sec-rfc-%s.example.com" % run: {"link_domain_dns_provider": "rfc2136", "link_domain_dns_record_type": "cname",
                                         "link_domain_iterable_region": "edc"},
        "sec-r53-%s.example.com" % run: {"link_domain_dns_provider": "route53", "link_domain_dns_record_type": "alias"},
    }
    inventory = tmp / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"tracking_domains": {"hosts": domains}}))
    proxy = faultproxy.FaultProxy(sandbox.aws, rate=0.0).start()
    extra = tmp / "secrets.yml"
    extra.write_text(yaml.safe_dump({"link_domain_aws_access_key": AWS_ACCESS_KEY,
                                     "link_domain_aws_secret_key": AWS_SECRET_KEY,
                                     "link_domain_aws_endpoint_url": proxy.url}))
    env = relhelpers.ansible_env({"SANDBOX_ENV_FILE": sandbox.env_file})
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        env.pop(key, None)
    env["AWS_SHARED_CREDENTIALS_FILE"] = env["AWS_CONFIG_FILE"] = os.devnull
    base = ([os.path.join(relhelpers.VENV_BIN, "ansible-playbook"), "-i", str(inventory)] + relhelpers.sandbox_var_args()
            + ["-e", "@" + str(extra), "-vvv", "--diff", relhelpers.PLAYBOOK])
    runs = []
    for name, callback in (("fresh", "ansible.builtin.default"), ("rerun", "ansible.posix.json")):
        log = tmp / ("%s.log" % name)
        run_env = dict(env, ANSIBLE_STDOUT_CALLBACK=callback, ANSIBLE_LOG_PATH=str(log))
        proc = relhelpers.run(base, env=run_env, timeout=900)
        runs.append({"name": name, "rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
                     "log": log.read_text() if log.exists() else "", "aws": proxy.stats()})
        proxy.reset()
    # a run that fails at the DNS update because BIND refuses the key (the error path prints more)
    failing = "sec-bad-%s.example.com" % run
    bad_inventory = tmp / "bad.yml"
    bad_inventory.write_text(yaml.safe_dump({"tracking_domains": {"hosts": {failing: dict(
        domains["sec-rfc-%s.example.com" % run])}}}))
    bad_extra = tmp / "bad-secret.yml"
    bad_extra.write_text(yaml.safe_dump({"link_domain_rfc2136_key_secret": WRONG_TSIG_SECRET}))
    log = tmp / "failing.log"
    cmd = [a if a != str(inventory) else str(bad_inventory) for a in base]
    cmd = cmd[:-1] + ["-e", "@" + str(bad_extra), cmd[-1]]
    proc = relhelpers.run(cmd, env=dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOG_PATH=str(log)),
                          timeout=900)
    runs.append({"name": "failing", "rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
                 "log": log.read_text() if log.exists() else "", "aws": proxy.stats()})
    proxy.stop()
    for run_ in runs:
        run_["domains"] = sorted(domains)
    return runs


def test_setup_ran_and_used_the_given_key(secret_runs, sandbox):
    failing = secret_runs[-1]
    assert failing["name"] == "failing" and failing["rc"] != 0
    assert "PeerBadSignature" in failing["stdout"] or "BADSIG" in failing["stdout"], failing["stdout"][-3000:]
    secret_runs = secret_runs[:-1]
    for run in secret_runs:
        assert run["rc"] == 0, "%s run failed:\n%s\n%s" % (run["name"], run["stdout"][-4000:], run["stderr"][-2000:])
    # every AWS request of both runs was signed with the given key pair (the role passed its variables)
    for run in secret_runs:
        assert run["aws"]["requests"] > 0
        assert run["aws"]["access_keys"] == {AWS_ACCESS_KEY: run["aws"]["requests"]}, run["aws"]["access_keys"]
    assert secret_runs[0]["aws"]["writes"] >= 3  # certificate, distribution, Route 53 records were made
    # the TSIG key was used: the rfc2136 domain's CNAME to its distribution is in BIND
    rfc = [d for d in secret_runs[0]["domains"] if d.startswith("sec-rfc-")][0]
    answer = sandbox.bind_query(rfc, "CNAME")
    assert len(answer) == 1 and answer[0].endswith(".cloudfront.net."), answer


@pytest.mark.parametrize("where", ["stdout", "stderr", "log"])
def test_no_secret_in_output(secret_runs, sandbox, where):
    leaks = []
    for run in secret_runs:
        text = run[where]
        assert run["name"] != "fresh" or where == "stderr" or len(text) > 10000, "suspiciously little %s" % where
        for label, needle in _needles(sandbox).items():
            index = text.find(needle)
            if index >= 0:
                leaks.append("%s in the %s of the %s run: ...%s..." % (
                    label, where, run["name"], text[max(0, index - 300):index].replace(needle, "<SECRET>")))
    assert not leaks, "\n".join(leaks)
