# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Setup, re-run and teardown of one domain, six times in a row, against AWS's own behaviour.

The sandbox's emulator behaves as AWS documents it (sandbox/README.md,
"AWS's behaviour"): a new certificate is unknown for a while after the request,
a CallerReference is never accepted twice, a deleted distribution lingers in
the certificate's InUseBy, a distribution is InProgress after every write.
Each cycle must:

- request exactly one certificate during the setup (counted at the emulator:
  ``acm:RequestCertificate``), and create exactly one distribution;
- change nothing on the re-run (``changed=0``) and write nothing to AWS;
- leave nothing behind after the teardown: no certificate, no distribution, no
  record of the domain or of its validation CNAME (for ``delete``) in Route 53.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import uuid

import pytest
import yaml

import kill_trials
import relhelpers

pytestmark = pytest.mark.usefixtures("fresh_emulator")

CYCLES = 6
TEARDOWN = os.path.join(relhelpers.ROOT, "playbooks", "teardown_link_domain.yml")
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def _env(sandbox):
    env = relhelpers.ansible_env({"SANDBOX_ENV_FILE": sandbox.env_file, "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"})
    env.update({k: v for k, v in sandbox.env.items() if k.startswith("AWS_")})
    return env


def _playbook(sandbox, inventory, playbook, extra=()):
    cmd = ([os.path.join(relhelpers.VENV_BIN, "ansible-playbook"), "-i", inventory]
           + relhelpers.sandbox_var_args() + list(extra) + [playbook])
    proc = relhelpers.run(cmd, env=_env(sandbox), timeout=900)
    recap = dict((m.group(1), dict(changed=int(m.group(3)), failed=int(m.group(5)))) for m in RECAP.finditer(proc.stdout))
    return proc, recap


def _writes(stats):
    return dict((k, v) for k, v in stats.get("write_actions", {}).items())


def _record_sets(sandbox, names):
    r53 = sandbox.client("route53")
    zone = sandbox["SANDBOX_R53_ZONE_ID"]
    found = []
    paginator = r53.get_paginator("list_resource_record_sets")
    for page in paginator.paginate(HostedZoneId=zone):
        for rrset in page["ResourceRecordSets"]:
            if rrset["Name"].rstrip(".").lower() in names:
                found.append((rrset["Name"], rrset["Type"]))
    return found


def test_six_setup_and_teardown_cycles_of_one_domain(sandbox, tmp_path, figures):
    domain = "cycles-%s.example.com" % uuid.uuid4().hex[:6]
    provider = kill_trials.PROVIDERS[0]  # Route 53, alias A + AAAA: the most AWS state of the providers
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"tracking_domains": {"hosts": {domain: dict(provider)}}}))
    inventory = str(inventory)
    teardown_vars = ["-e", "link_domain_teardown_confirm=%s" % domain, "-e", "link_domain_teardown_dns=delete"]
    acm = sandbox.client("acm")
    seen_arns, seen_dists = [], []
    for cycle in range(1, CYCLES + 1):
        relhelpers.http_json(sandbox.aws + "/_sandbox/stats/reset", "POST")
        proc, recap = _playbook(sandbox, inventory, relhelpers.PLAYBOOK)
        assert proc.returncode == 0, "cycle %d: setup failed\n%s" % (cycle, proc.stdout[-4000:])
        writes = _writes(sandbox.stats())
        state = kill_trials.inspect_domain(sandbox, domain, provider)
        assert writes.get("acm:RequestCertificate") == 1, "cycle %d: requests %s" % (cycle, writes)
        assert len(state["certificates"]) == 1 and len(state["distributions"]) == 1, (cycle, state)
        assert state["dns_ok"], (cycle, state)
        cert = acm.describe_certificate(CertificateArn=state["certificates"][0])["Certificate"]
        validation = set(o["ResourceRecord"]["Name"].rstrip(".").lower()
                         for o in cert["DomainValidationOptions"] if o.get("ResourceRecord"))
        assert validation, cert
        seen_arns.append(state["certificates"][0])
        seen_dists.append(state["distributions"][0]["id"])

        relhelpers.http_json(sandbox.aws + "/_sandbox/stats/reset", "POST")
        proc, recap = _playbook(sandbox, inventory, relhelpers.PLAYBOOK)
        assert proc.returncode == 0, "cycle %d: re-run failed\n%s" % (cycle, proc.stdout[-4000:])
        assert recap[domain]["changed"] == 0, "cycle %d: the re-run changed something\n%s" % (cycle, proc.stdout[-4000:])
        assert _writes(sandbox.stats()) == {}, "cycle %d: the re-run wrote to AWS" % cycle

        proc, recap = _playbook(sandbox, inventory, TEARDOWN, teardown_vars)
        assert proc.returncode == 0, "cycle %d: teardown failed\n%s" % (cycle, proc.stdout[-4000:])
        after = kill_trials.inspect_domain(sandbox, domain, provider)
        assert after["certificates"] == [] and after["distributions"] == [], (cycle, after)
        left = _record_sets(sandbox, {domain} | validation)
        assert left == [], "cycle %d: records left behind: %s" % (cycle, left)
    figures.append("cycles: %d setup/re-run/teardown cycles of %s: one certificate requested per setup, "
                   "re-runs changed=0 with no AWS write, nothing left after each teardown" % (CYCLES, domain))
    assert len(set(seen_arns)) == CYCLES and len(set(seen_dists)) == CYCLES
