# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AWS faults end to end: the setup through the fault-injecting proxy.

Each inventory host talks to AWS through its own proxy (``faultproxy``):

- 10%: two fresh domains (one through Route 53 with alias records, one
  through RFC 2136 with a CNAME) through a proxy that faults one AWS request in
  ten with any kind (throttling, RequestLimitExceeded, 500, 503, dropped before
  or after the emulator saw the request, slow answers, stale ETag). The setup
  completes; a re-run, still at 10%, reports changed=0; one certificate and
  one distribution per domain, DNS as intended.
- Lost answers: a third domain, in the same runs, where the first request of
  each kind of AWS write (RequestCertificate, CreateDistributionWithTags,
  ChangeResourceRecordSets) reaches the emulator but its answer is lost (the
  connection drops). The retried writes must not make a second certificate or
  distribution.
- Stale ETags: one distribution is changed behind the collection's back; the
  re-run that repairs it gets PreconditionFailed on UpdateDistribution, always
  (it must give up with a clear message and write nothing) or twice (it must
  fetch the config again and succeed).
- 100%: a fresh domain through a proxy that rejects every AWS request
  (throttling, RequestLimitExceeded, 500, 503, dropped before the emulator).
  The run fails within the collection's retry deadline with a message that
  says what AWS answered, and nothing reached the emulator: no certificate, no
  distribution, no record. It mostly sleeps in backoff, so it runs in the
  background beside the others.

The retries each run made (the sum of the modules' ``retries``) are printed in
the "reliability figures" section.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import threading
import time
import uuid

import pytest
import yaml

import faultproxy
import kill_trials
import relhelpers

pytestmark = pytest.mark.usefixtures("fresh_emulator")

REJECTING = "throttling,request_limit,http500,http503,drop"
# AwsCaller gives up after 10 attempts or 300 s; its sleeps add up to 91.5 s at most.
DEADLINE = 300


def _json_report(stdout):
    return json.loads(stdout[stdout.index("{"):])


def _results(report):
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                yield task["task"]["name"], host, result


def retries_of(report, hosts=None):
    """Sum of the ``retries`` the modules returned (loop items included), for ``hosts`` or all."""
    total = 0
    for _task, host, result in _results(report):
        if hosts is not None and host not in hosts:
            continue
        items = result.get("results") if isinstance(result.get("results"), list) else [result]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("retries"), int):
                total += item["retries"]
    return total


def _command(inventory):
    return [os.path.join(relhelpers.VENV_BIN, "ansible-playbook"), "-i", inventory, relhelpers.PLAYBOOK]


def _inventory(tmp, name, hosts, endpoints):
    """The sandbox settings as group variables, so each host's own AWS endpoint (its proxy) wins."""
    with open(relhelpers.SANDBOX_VARS) as handle:
        group_vars = yaml.safe_load(handle)
    with open(relhelpers.PATIENT_VARS) as handle:
        group_vars.update(yaml.safe_load(handle))
    hosts = dict((h, dict(v, link_domain_aws_endpoint_url=endpoints[h])) for h, v in hosts.items())
    path = tmp / ("%s.yml" % name)
    path.write_text(yaml.safe_dump({"tracking_domains": {"hosts": hosts, "vars": group_vars}}))
    return str(path)


class _Background(threading.Thread):
    """ansible-playbook in the background; notes when it really ended."""

    def __init__(self, cmd, env):
        super(_Background, self).__init__(daemon=True)
        self.started = time.time()
        self.proc = subprocess.Popen(cmd, env=env, cwd=relhelpers.ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.ended = None
        self.out = ("", "")
        self.start()

    def run(self):
        self.out = self.proc.communicate()
        self.ended = time.time()


WRITES = r":(RequestCertificate|CreateDistribution|CreateDistributionWithTags|UpdateDistribution|ChangeResourceRecordSets)$"


def _drift(sandbox, dist_id, price_class):
    """Change the distribution behind the collection's back (straight at the emulator)."""
    cf = sandbox.client("cloudfront")
    answer = cf.get_distribution_config(Id=dist_id)
    config = answer["DistributionConfig"]
    config["PriceClass"] = price_class
    cf.update_distribution(Id=dist_id, IfMatch=answer["ETag"], DistributionConfig=config)


def _price_class(sandbox, dist_id):
    return sandbox.client("cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]["PriceClass"]


@pytest.fixture(scope="module")
def fault_runs(sandbox, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    run = uuid.uuid4().hex[:6]
    env = relhelpers.ansible_env({"SANDBOX_ENV_FILE": sandbox.env_file, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"})
    env.update({k: v for k, v in sandbox.env.items() if k.startswith("AWS_")})
    r53, rfc = kill_trials.PROVIDERS
    ten = dict(("flt10-%s-%s.example.com" % (p["link_domain_dns_provider"][:3], run), p) for p in (r53, rfc))
    hundred = {"flt100-%s.example.com" % run: r53}
    lost = {"fltlost-%s.example.com" % run: r53}
    # seed 1: about one request in ten faulted over the ~35 requests of the two runs, of several kinds
    proxy10 = faultproxy.FaultProxy(sandbox.aws, rate=0.1, kinds="all", slow_seconds=1.0, seed=1).start()
    proxy100 = faultproxy.FaultProxy(sandbox.aws, rate=1.0, kinds=REJECTING, seed=100).start()
    # the answer to the first request of each kind of write is lost after the emulator acted on it
    proxy_lost = faultproxy.FaultProxy(sandbox.aws, rate=1.0, kinds="drop_after_forward", match=WRITES,
                                       per_action_limit=1).start()
    proxy_stale = faultproxy.FaultProxy(sandbox.aws, rate=1.0, kinds="precondition").start()
    endpoints = dict([(h, proxy10.url) for h in ten] + [(h, proxy100.url) for h in hundred]
                     + [(h, proxy_lost.url) for h in lost])
    out = {"domains": {"ten": ten, "hundred": hundred, "lost": lost}}

    def playbook(name, inventory, hosts, *proxies):
        for proxy in proxies:
            proxy.reset()
        t0 = time.time()
        proc = relhelpers.run(_command(inventory), env=env, timeout=1200)
        (tmp / ("%s.json" % name)).write_text(proc.stdout)
        report = _json_report(proc.stdout)
        out[name] = {"name": name, "rc": proc.returncode, "report": report, "stderr": proc.stderr,
                     "seconds": round(time.time() - t0, 1), "proxy": proxies[0].stats(),
                     "proxies": [p.stats() for p in proxies], "retries": retries_of(report, hosts),
                     "retries_all": retries_of(report)}
        return out[name]

    try:
        background = _Background(_command(_inventory(tmp, "hundred", hundred, endpoints)), env)
        # 10% of every kind for two fresh domains, and the lost answers for a third; then a re-run
        inventory = _inventory(tmp, "ten", dict(ten, **lost), endpoints)
        playbook("ten_fresh", inventory, ten, proxy10, proxy_lost)
        out["lost"] = dict(out["ten_fresh"], proxy=out["ten_fresh"]["proxies"][1],
                           retries=retries_of(out["ten_fresh"]["report"], lost))
        playbook("ten_rerun", inventory, ten, proxy10, proxy_lost)
        # stale ETags: drift one distribution, then repair it while UpdateDistribution is refused
        domain = sorted(ten)[0]
        state = kill_trials.inspect_domain(sandbox, domain, ten[domain])
        if len(state["distributions"]) == 1:
            dist_id = state["distributions"][0]["id"]
            out["drift"] = {"domain": domain, "id": dist_id}
            single = _inventory(tmp, "drift", {domain: ten[domain]}, {domain: proxy_stale.url})
            _drift(sandbox, dist_id, "PriceClass_100")
            playbook("stale_always", single, None, proxy_stale)
            out["drift"]["after_always"] = _price_class(sandbox, dist_id)
            proxy_stale.configure(limit=2)
            playbook("stale_twice", single, None, proxy_stale)
            out["drift"]["after_twice"] = _price_class(sandbox, dist_id)
        background.join(DEADLINE + 300)
        stdout, stderr = background.out
        (tmp / "hundred.json").write_text(stdout)
        report = _json_report(stdout)
        out["hundred"] = {"rc": background.proc.returncode, "report": report, "stderr": stderr,
                          "seconds": round((background.ended or time.time()) - background.started, 1),
                          "proxy": proxy100.stats(), "retries": retries_of(report)}
    finally:
        for proxy in (proxy10, proxy100, proxy_lost, proxy_stale):
            proxy.stop()
    return out


def _figure(run, label):
    return "faults %s: rc=%d in %.0f s, %d AWS requests, %d faults injected %s, retries %d" % (
        label, run["rc"], run["seconds"], run["proxy"]["requests"], run["proxy"]["injected_total"],
        json.dumps({k: v for k, v in run["proxy"]["injected"].items() if v}), run["retries"])


def _changed_tasks(run, host=None):
    return [t for t, h, r in _results(run["report"]) if r.get("changed") and (host is None or h == host)]


def test_ten_percent_faults_setup_completes_and_rerun_changes_nothing(fault_runs, sandbox, figures):
    fresh, rerun = fault_runs["ten_fresh"], fault_runs["ten_rerun"]
    figures.append(_figure(fresh, "10%, fresh setup of 2 domains"))
    figures.append(_figure(rerun, "10%, re-run"))
    assert fresh["rc"] == 0, json.dumps(fresh["report"]["stats"]) + fresh["stderr"][-3000:]
    assert rerun["rc"] == 0, json.dumps(rerun["report"]["stats"]) + rerun["stderr"][-3000:]
    for host, stats in rerun["report"]["stats"].items():
        assert stats["changed"] == 0, "re-run at 10%% faults changed %s: %s" % (host, _changed_tasks(rerun, host))
    injected = fresh["proxy"]["injected_total"] + rerun["proxy"]["injected_total"]
    assert injected >= 1, "no fault was injected: the test proved nothing"
    # every one of these makes AwsCaller try again, except a 5xx to RequestCertificate, which the ACM module
    # answers with its next idempotency token instead
    retried = sum(1 for run in (fresh, rerun) for e in run["proxy"]["events"]
                  if e["kind"] in ("throttling", "request_limit", "http500", "http503", "drop", "drop_after_forward")
                  and not (e["action"] == "acm:RequestCertificate" and e["kind"] in ("http500", "http503")))
    assert retried == 0 or fresh["retries"] + rerun["retries"] >= 1, (
        "%d retryable faults were injected, but the modules report no retry: the retries happened where AwsCaller "
        "cannot count them (botocore's own retry, see test_faultproxy.py::"
        "test_collection_aws_client_leaves_every_retry_to_aws_caller)" % retried)
    for domain, provider in fault_runs["domains"]["ten"].items():
        state = kill_trials.inspect_domain(sandbox, domain, provider)
        assert len(state["certificates"]) == 1 and len(state["distributions"]) == 1, state
        assert state["dns_ok"], state


def test_lost_answers_to_writes_are_retried_without_duplicates(fault_runs, sandbox, figures):
    run = fault_runs["lost"]
    figures.append("faults first answer to each kind of write lost: %d AWS requests, retries %d, %s" % (
        run["proxy"]["requests"], run["retries"],
        json.dumps({k: v for k, v in run["proxy"]["by_action"].items() if v["injected"]})))
    lost = sorted(k for k, v in run["proxy"]["by_action"].items() if v["injected"])
    assert lost == ["acm:RequestCertificate", "cloudfront:CreateDistributionWithTags",
                    "route53:ChangeResourceRecordSets"], lost
    assert run["rc"] == 0, json.dumps(run["report"]["stats"]) + run["stderr"][-3000:]
    for domain, provider in fault_runs["domains"]["lost"].items():
        state = kill_trials.inspect_domain(sandbox, domain, provider)
        assert len(state["certificates"]) == 1, "duplicate certificates after a retried RequestCertificate: %s" % state
        assert len(state["distributions"]) == 1, "duplicate distributions after a retried create: %s" % state
        assert state["dns_ok"], state


def test_stale_etag_is_fetched_again_and_gives_up_clearly(fault_runs, sandbox, figures):
    drift = fault_runs["drift"]
    always, twice = fault_runs["stale_always"], fault_runs["stale_twice"]
    figures.append(_figure(always, "every UpdateDistribution PreconditionFailed"))
    figures.append(_figure(twice, "first 2 UpdateDistribution PreconditionFailed"))
    # always refused: the run fails with a message about the concurrent change, and nothing was written
    assert always["rc"] != 0
    failed = [r for _t, _h, r in _results(always["report"]) if r.get("failed")]
    message = str(failed[-1].get("msg", "")) if failed else ""
    figures.append("faults stale ETag: %s" % message[:300])
    assert drift["id"] in message and "ETag" in message, message
    assert drift["after_always"] == "PriceClass_100"
    assert always["proxy"]["by_action"].get("cloudfront:UpdateDistribution", {}).get("passed", 0) == 0
    # refused twice, then accepted: the drift is repaired in the same run
    assert twice["rc"] == 0, json.dumps(twice["report"]["stats"]) + twice["stderr"][-3000:]
    assert twice["proxy"]["injected"]["precondition"] == 2
    assert drift["after_twice"] == "PriceClass_All"
    assert any("Distribution" in t for t in _changed_tasks(twice)), _changed_tasks(twice)


def test_hundred_percent_faults_fail_in_time_clearly_and_harmlessly(fault_runs, sandbox, figures):
    run = fault_runs["hundred"]
    figures.append(_figure(run, "100%"))
    assert run["rc"] != 0
    assert run["seconds"] < DEADLINE, "the run took %.0f s" % run["seconds"]
    failed = [(t, r) for t, h, r in _results(run["report"]) if r.get("failed")]
    assert failed, "no task failed"
    task, result = failed[-1]
    message = str(result.get("msg", ""))
    figures.append("faults 100%%: failed at %r: %s" % (task, message[:300]))
    known = ["Throttling", "RequestLimitExceeded", "InternalFailure", "InternalError", "ServiceUnavailable",
             "Connection was closed", "retries", "retried"]
    assert any(k in message for k in known), "the message does not say what AWS answered: %r" % message
    assert result.get("retries", 0) >= 1, "the failed module made no retry: %r" % result
    # botocore's part of the message says "reached max retries: 0" (its own retries are off); the collection's count follows
    assert "; the collection tried it %d times in " % (result["retries"] + 1) in message, message
    # no partial damage: nothing reached the emulator, nothing exists for the domain
    assert run["proxy"]["passed"] == 0 and run["proxy"]["injected_total"] == run["proxy"]["requests"]
    for domain, provider in fault_runs["domains"]["hundred"].items():
        state = kill_trials.inspect_domain(sandbox, domain, provider)
        assert state["certificates"] == [] and state["distributions"] == [], state
        assert sandbox.r53_query(domain, "A") == [] and sandbox.r53_query(domain, "CNAME") == []
