# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrency: the same domain set up twice at once, and twenty domains with forks=20.

- Same domain: two ansible-playbook processes for the same fresh domain,
  started together, once for a Route 53 domain and once for an RFC 2136 domain
  (four processes at once). Afterwards there is exactly one certificate and
  one distribution per domain and DNS points at that distribution.
- Twenty domains, one run, ``--forks 20``: ten through Route 53 (alias), ten
  through RFC 2136 (CNAME), regions alternating. Every host succeeds, and
  nothing crossed over: each domain has its own certificate (named for it), its
  own distribution (only its alias, its own certificate, the origin of its own
  region), DNS pointing at its own distribution, and its TLS check saw its
  own certificate's serial.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import time
import uuid

import pytest
import yaml

import kill_trials
import relhelpers

pytestmark = pytest.mark.usefixtures("fresh_emulator")

ORIGINS = {"usdc": "links.iterable.com", "edc": "links.eu.iterable.com"}


def _env(sandbox, callback="ansible.posix.json"):
    env = relhelpers.ansible_env({"SANDBOX_ENV_FILE": sandbox.env_file, "ANSIBLE_STDOUT_CALLBACK": callback})
    env.update({k: v for k, v in sandbox.env.items() if k.startswith("AWS_")})
    return env


def _command(inventory, forks=5):
    return ([os.path.join(relhelpers.VENV_BIN, "ansible-playbook"), "-i", inventory, "--forks", str(forks)]
            + relhelpers.sandbox_var_args() + [relhelpers.PLAYBOOK])


def _inventory(tmp, name, hosts):
    path = tmp / ("%s.yml" % name)
    path.write_text(yaml.safe_dump({"tracking_domains": {"hosts": hosts}}))
    return str(path)


def _report(stdout):
    return json.loads(stdout[stdout.index("{"):])


def serial_number(value):
    """A certificate serial as an integer: colon-separated or plain hex (ACM, the TLS check) or decimal (moto)."""
    text = str(value or "").strip().lower()
    if not text:
        return None
    if ":" in text or any(c in "abcdef" for c in text):
        return int(text.replace(":", ""), 16)
    # moto's DescribeCertificate gives the serial in decimal; the TLS check and ACM give hex with letters
    # in all but a vanishing share of 160-bit serials
    return int(text)


def _host_results(report, host):
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            result = task.get("hosts", {}).get(host)
            if result is not None:
                yield task["task"]["name"], result


def test_same_domain_twice_at_once(sandbox, tmp_path, figures):
    run = uuid.uuid4().hex[:6]
    r53, rfc = kill_trials.PROVIDERS
    domains = {"twice-r53-%s.example.com" % run: r53, "twice-rfc-%s.example.com" % run: rfc}
    env = _env(sandbox, callback="ansible.builtin.default")
    procs = []
    for domain, provider in sorted(domains.items()):
        inventory = _inventory(tmp_path, domain, {domain: provider})
        for copy in (1, 2):
            log = open(tmp_path / ("%s-%d.log" % (domain, copy)), "w")
            proc = subprocess.Popen(_command(inventory), env=env, cwd=relhelpers.ROOT, stdout=log,
                                    stderr=subprocess.STDOUT)
            procs.append((domain, copy, log, proc))
    outcomes = {}
    for domain, copy, log, proc in procs:
        outcomes.setdefault(domain, []).append(proc.wait(timeout=900))
        log.close()
    for domain, provider in sorted(domains.items()):
        rcs = outcomes[domain]
        state = kill_trials.inspect_domain(sandbox, domain, provider)
        figures.append("concurrency: %s (%s) twice at once: exit codes %s; %d certificate(s), %d distribution(s)" % (
            domain, provider["link_domain_dns_provider"], rcs, len(state["certificates"]), len(state["distributions"])))
        logs = "\n".join((tmp_path / ("%s-%d.log" % (domain, c))).read_text()[-2500:] for c in (1, 2))
        assert len(state["certificates"]) == 1, "%s: certificates %s\n%s" % (domain, state["certificates"], logs)
        assert len(state["distributions"]) == 1, "%s: distributions %s\n%s" % (domain, state["distributions"], logs)
        assert rcs == [0, 0], "%s: a run failed\n%s" % (domain, logs)
        assert state["dns_ok"], state


@pytest.fixture(scope="module")
def twenty(sandbox, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("twenty")
    run = uuid.uuid4().hex[:5]
    hosts = {}
    for i in range(20):
        provider = dict(kill_trials.PROVIDERS[i % 2])
        provider["link_domain_iterable_region"] = "usdc" if (i // 2) % 2 == 0 else "edc"
        hosts["m%02d-%s.example.com" % (i, run)] = provider
    started = time.time()
    proc = relhelpers.run(_command(_inventory(tmp, "twenty", hosts), forks=20), env=_env(sandbox), timeout=1800)
    (tmp / "twenty.json").write_text(proc.stdout)
    return {"hosts": hosts, "rc": proc.returncode, "report": _report(proc.stdout), "stderr": proc.stderr,
            "seconds": round(time.time() - started, 1)}


def test_twenty_domains_with_forks_20_all_succeed(twenty, figures):
    stats = twenty["report"]["stats"]
    figures.append("concurrency: 20 domains, forks=20: exit code %d in %.0f s; hosts failed: %d" % (
        twenty["rc"], twenty["seconds"], sum(1 for s in stats.values() if s["failures"] or s["unreachable"])))
    assert sorted(stats) == sorted(twenty["hosts"])
    bad = dict((h, s) for h, s in stats.items() if s["failures"] or s["unreachable"])
    assert not bad, bad
    assert twenty["rc"] == 0


def test_twenty_domains_no_cross_talk(twenty, sandbox):
    acm = sandbox.client("acm")
    cf = sandbox.client("cloudfront")
    seen_certs, seen_dists, problems = set(), set(), []
    for domain, provider in sorted(twenty["hosts"].items()):
        state = kill_trials.inspect_domain(sandbox, domain, provider)
        if len(state["certificates"]) != 1 or len(state["distributions"]) != 1 or not state["dns_ok"]:
            problems.append("%s: %s" % (domain, state))
            continue
        cert_arn, dist = state["certificates"][0], state["distributions"][0]
        cert = acm.describe_certificate(CertificateArn=cert_arn)["Certificate"]
        config = cf.get_distribution_config(Id=dist["id"])["DistributionConfig"]
        if cert["DomainName"] != domain or sorted(cert.get("SubjectAlternativeNames", [domain])) != [domain]:
            problems.append("%s: its certificate names %s" % (domain, cert.get("SubjectAlternativeNames")))
        if config["Aliases"].get("Items") != [domain]:
            problems.append("%s: its distribution has the aliases %s" % (domain, config["Aliases"].get("Items")))
        if config["ViewerCertificate"].get("ACMCertificateArn") != cert_arn:
            problems.append("%s: its distribution serves %s, not its own certificate %s" % (
                domain, config["ViewerCertificate"].get("ACMCertificateArn"), cert_arn))
        origins = [o["DomainName"] for o in config["Origins"]["Items"]]
        if origins != [ORIGINS[provider["link_domain_iterable_region"]]]:
            problems.append("%s (%s): origins %s" % (domain, provider["link_domain_iterable_region"], origins))
        tls = [r for name, r in _host_results(twenty["report"], domain) if "TLS | Check" in name]
        served = [int(str(r.get("serial", "0")).replace(":", ""), 16) for r in tls if r.get("serial")]
        own = serial_number(cert.get("Serial"))
        if not served or served[-1] != own or not tls[-1].get("passed"):
            problems.append("%s: the TLS check saw serial %s (passed %s), its certificate has %s" % (
                domain, served, tls[-1].get("passed") if tls else None, own))
        if cert_arn in seen_certs or dist["id"] in seen_dists:
            problems.append("%s: certificate or distribution shared with another domain" % domain)
        seen_certs.add(cert_arn)
        seen_dists.add(dist["id"])
    assert not problems, "\n".join(problems)
    assert len(seen_certs) == len(seen_dists) == 20
