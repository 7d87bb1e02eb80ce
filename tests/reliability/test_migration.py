# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Zero broken clicks: a live HTTP tracking domain migrated to HTTPS with the click prober watching.

Every scenario starts from what most users have: the tracking domain is a CNAME
to links.iterable.com, plain HTTP. The click prober (sandbox/linktrack_sandbox/prober.py)
clicks an http:// and an https:// tracking link every 100 ms from before the
first run until after the last, while the real playbooks run against the sandbox.

The bar, for every scenario:
- 0 failed http:// clicks from start to end;
- 0 failed https:// clicks from the cutover on (the prober's first DNS answer that
  points at the edge), up to a revert back to plain HTTP if the scenario has one;
- every redirect lands on the link's own target (a failed click otherwise).

The figures of every scenario are written to $MIGRATION_FIGURES
(default tests/output/migration-figures.md); docs/migration.md holds a copy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import kill_trials  # noqa: E402  pylint: disable=wrong-import-position
import relhelpers  # noqa: E402  pylint: disable=wrong-import-position
from linktrack_sandbox import prober as click_prober  # noqa: E402  pylint: disable=wrong-import-position

TEARDOWN = os.path.join(relhelpers.ROOT, "playbooks", "teardown_link_domain.yml")
PREPARE = os.path.join(relhelpers.ROOT, "playbooks", "prepare_link_domain_ttl.yml")
FIGURES_FILE = os.environ.get("MIGRATION_FIGURES") or os.path.join(relhelpers.ROOT, "tests", "output", "migration-figures.md")
RUN_ID = uuid.uuid4().hex[:5]
RESULTS = []
PROVIDERS = {
    "route53-cname": {"link_domain_dns_provider": "route53", "link_domain_dns_record_type": "cname"},
    "route53-alias": {"link_domain_dns_provider": "route53", "link_domain_dns_record_type": "alias"},
    "rfc2136": {"link_domain_dns_provider": "rfc2136", "link_domain_dns_record_type": "cname"},
}
# The prober's bounds: longer than any scenario here takes, so it only stops on its own if a run hangs.
PROBER_MAX_SECONDS = 600
PROBER_MAX_CLICKS = 6000


def http_cname(sandbox, domain, provider, origin="links.iterable.com", ttl=300):
    """Make ``domain`` what it is before the migration: a CNAME to Iterable's origin (plain HTTP)."""
    if provider == "route53":
        sandbox.client("route53").change_resource_record_sets(
            HostedZoneId=sandbox["SANDBOX_R53_ZONE_ID"],
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                "Name": domain, "Type": "CNAME", "TTL": ttl, "ResourceRecords": [{"Value": origin}]}}]})
        deadline = time.time() + 30
        while sandbox.r53_query(domain, "CNAME") != [origin + "."]:
            assert time.time() < deadline, "the Route 53 stand-in does not answer the CNAME of %s" % domain
            time.sleep(0.1)
        return
    import dns.query
    import dns.tsigkeyring
    import dns.update

    keyring = dns.tsigkeyring.from_text({sandbox["SANDBOX_TSIG_KEY_NAME"]: sandbox["SANDBOX_TSIG_SECRET"]})
    update = dns.update.Update(sandbox.zone, keyring=keyring, keyname=sandbox["SANDBOX_TSIG_KEY_NAME"],
                               keyalgorithm=sandbox["SANDBOX_TSIG_ALGORITHM"])
    update.replace(domain + ".", ttl, "CNAME", origin + ".")
    response = dns.query.tcp(update, sandbox["SANDBOX_DNS_SERVER"], port=int(sandbox["SANDBOX_DNS_PORT"]), timeout=10)
    assert response.rcode() == 0, response
    assert sandbox.bind_query(domain, "CNAME") == [origin + "."]


def run_playbook(sandbox, workdir, tag, inventory, playbook=relhelpers.PLAYBOOK, extra=(), kill_when=None, timeout=600):
    """ansible-playbook with the step-event callback; SIGKILL of its process group once ``kill_when(events)`` is true."""
    events_file = os.path.join(workdir, tag + ".events")
    log_file = os.path.join(workdir, tag + ".log")
    env = relhelpers.ansible_env({
        "SANDBOX_ENV_FILE": sandbox.env_file,
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "linktrack_events",
        "LINKTRACK_EVENTS_FILE": events_file,
    })
    cmd = [os.path.join(relhelpers.VENV_BIN, "ansible-playbook"), "-i", inventory] + relhelpers.sandbox_var_args() + list(extra) + [playbook]
    started = time.time()
    killed_at = None
    with open(log_file, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=relhelpers.ROOT, start_new_session=True)
        while proc.poll() is None:
            if time.time() - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise AssertionError("%s ran longer than %d s; see %s" % (tag, timeout, log_file))
            if kill_when is not None and kill_when(kill_trials.annotate(kill_trials.read_events(events_file))):
                os.killpg(proc.pid, signal.SIGKILL)
                killed_at = time.time()
                proc.wait()
                break
            time.sleep(0.01)
    events = kill_trials.annotate(kill_trials.read_events(events_file))
    return {"tag": tag, "rc": proc.returncode, "killed_at": killed_at, "events": events, "log": log_file,
            "seconds": round(time.time() - started, 1)}


def _tail(path, lines=40):
    with open(path) as handle:
        return "".join(handle.readlines()[-lines:])


def figures_line(name, summary, runs):
    http, https = summary["http"], summary["https"]
    described = []
    for run in runs:
        outcome = "killed" if run["killed_at"] else "rc=%s" % run["rc"]
        note = " (%s)" % run["note"] if run.get("note") else ""
        described.append("%s %s %.0f s%s" % (run["tag"].split("-")[0], outcome, run["seconds"], note))
    return "| %s | %d | %d | %s | %d | %d | %d | %s | %s | %s |" % (
        name, http["clicks"], http["failed"], http["longest_gap_s"], https["clicks"], https["counted"], https["failed"],
        https["longest_gap_s"], http["wrong_target"] + https["wrong_target"], "; ".join(described))


def write_figures():
    os.makedirs(os.path.dirname(FIGURES_FILE), exist_ok=True)
    header = [
        "| scenario | http clicks | http failed | http longest gap (s) | https clicks | https counted (cutover on) "
        "| https failed | https longest gap (s) | wrong targets | runs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    with open(FIGURES_FILE, "w") as handle:
        handle.write("\n".join(header + [line for _name, line, _s in RESULTS]) + "\n")
    # every scenario's whole summary (marks, failures with their reasons) beside it
    with open(FIGURES_FILE + ".json", "w") as handle:
        json.dump({name: summary for name, _line, summary in RESULTS}, handle, indent=1, default=str)


def check_bar(name, probe, runs, expect_revert=False):
    """Fail on any broken click (the bar); record the figures either way."""
    summary = probe.summary()
    RESULTS.append((name, figures_line(name, summary, runs), summary))
    write_figures()
    details = json.dumps({k: summary[k] for k in ("cutover_at", "revert_at", "marks")}, default=str)
    assert summary["cutover_at"] is not None, "%s: the prober never saw the name point at the edge: %s" % (name, details)
    if expect_revert:
        assert summary["revert_at"] is not None, "%s: the prober never saw the name point back at the origin: %s" % (name, details)
    assert summary["http"]["clicks"] >= 20 and summary["https"]["counted"] >= 5, summary
    assert summary["http"]["failed"] == 0, "%s: failed http:// clicks: %s" % (name, json.dumps(summary["http"]["failures"], default=str))
    assert summary["https"]["failed"] == 0, "%s: failed https:// clicks from the cutover on: %s" % (
        name, json.dumps(summary["https"]["failures"], default=str))
    assert summary["http"]["wrong_target"] == summary["https"]["wrong_target"] == 0
    # every click of the window landed on its own target; the https ones at the edge carried the ACM certificate
    assert len(summary["https"]["certificates"]) >= 1
    return summary


def scenario(sandbox, tmp_path, name, provider_key, kill=None, teardown=False, ttl=None, teardown_extra=(), keep=None,
             before=None):
    """The migration with the prober on; ``ttl``: every record of the domain has that TTL and the prober caches
    answers for it (a caching resolver), else the prober asks the authoritative server each time. ``keep`` (a dict)
    gets the prober and the runs. ``before(workdir, domain, inventory)`` runs before the prober starts."""
    provider = dict(PROVIDERS[provider_key], link_domain_iterable_region="usdc")
    if ttl is not None:
        provider["link_domain_dns_ttl"] = ttl
    domain = "mig-%s-%s.example.com" % (RUN_ID, name)
    workdir = str(tmp_path)
    http_cname(sandbox, domain, provider["link_domain_dns_provider"], ttl=ttl or 300)
    inventory = kill_trials.write_inventory(workdir, domain, provider)
    if before is not None:
        before(workdir, domain, inventory)
    probe = click_prober.from_env(sandbox.env, domain, provider["link_domain_dns_provider"],
                                  max_seconds=PROBER_MAX_SECONDS, max_clicks=PROBER_MAX_CLICKS, cache=ttl is not None)
    runs = []
    with probe:
        time.sleep(1.0)  # clicks on the plain HTTP setup first
        if kill:
            run = run_playbook(sandbox, workdir, "killed-" + name, inventory, kill_when=kill(probe))
            assert run["killed_at"] is not None, "%s: the run ended (rc=%s) before the kill point; see %s" % (
                name, run["rc"], run["log"])
            probe.mark("run killed", run["killed_at"])
            run["note"] = "killed in %s" % (run["events"][-1]["step"] if run["events"] else "start")
            runs.append(run)
            time.sleep(1.0)  # clicks while nothing runs
        run = run_playbook(sandbox, workdir, "setup-" + name, inventory)
        runs.append(run)
        assert run["rc"] == 0, "%s: setup failed:\n%s" % (name, _tail(run["log"]))
        tls = kill_trials.tls_passed_at([e for r in runs for e in r["events"]])
        if tls is not None:
            probe.mark("TLS check passed", tls)
        time.sleep(1.0)  # clicks on the HTTPS setup
        if teardown:
            run = run_playbook(sandbox, workdir, "teardown-" + name, inventory, playbook=TEARDOWN,
                               extra=["-e", "link_domain_teardown_confirm=" + domain, "-e", "link_domain_teardown_dns=revert"]
                               + list(teardown_extra))
            runs.append(run)
            assert run["rc"] == 0, "%s: teardown failed:\n%s" % (name, _tail(run["log"]))
            time.sleep(1.0)  # clicks on the plain HTTP setup again
    summary = check_bar(name, probe, runs, expect_revert=teardown)
    tls = kill_trials.tls_passed_at([e for r in runs for e in r["events"]])
    assert tls is not None and summary["cutover_at"] >= tls, "%s: the name pointed at the edge before the TLS check passed" % name
    if keep is not None:
        keep.update(probe=probe, runs=runs)
    return summary


def kill_before_cutover(_probe):
    """Kill as soon as step 5 (the DNS cutover) starts: the TLS check passed, the record is not changed yet."""
    return lambda events: any(e["ev"] == "start" and e["step"] == "dns" for e in events)


def kill_after_cutover(probe):
    """Kill the moment the prober first sees the name point at the distribution."""
    return lambda _events: probe.cutover_at is not None


@pytest.fixture(scope="module")
def migration_sandbox(fresh_emulator):
    return fresh_emulator


def test_prober_reports_broken_clicks(migration_sandbox):
    """The prober can fail: a CNAME to a distribution name nobody has, and https:// on plain HTTP, are failed clicks."""
    sandbox = migration_sandbox
    domain = "mig-%s-broken.example.com" % RUN_ID
    http_cname(sandbox, domain, "route53", origin="d1nothere00000.cloudfront.net")
    with click_prober.from_env(sandbox.env, domain, "route53", max_seconds=1.0) as probe:
        time.sleep(1.5)
    summary = probe.summary(https_from=0)
    assert summary["http"]["clicks"] >= 5 and summary["http"]["failed"] == summary["http"]["clicks"]
    assert "NXDOMAIN" in summary["http"]["failures"][0]["error"]
    assert not probe.running(), "the prober did not stop by itself after max_seconds"

    http_cname(sandbox, domain, "route53")
    with click_prober.from_env(sandbox.env, domain, "route53", max_clicks=3) as probe:
        time.sleep(1.0)
    summary = probe.summary(https_from=0)
    assert summary["http"]["clicks"] == 3 and summary["http"]["failed"] == 0 and summary["http"]["to_origin"] == 3
    assert summary["https"]["failed"] == 3 and "no certificate" in summary["https"]["failures"][0]["error"]
    assert summary["cutover_at"] is None


@pytest.mark.parametrize("provider_key", ["route53-cname", "route53-alias", "rfc2136"])
def test_migration_keeps_every_click(migration_sandbox, tmp_path, provider_key):
    scenario(migration_sandbox, tmp_path, provider_key, provider_key)


@pytest.mark.parametrize("when", ["before", "after"])
def test_run_killed_at_the_cutover_and_rerun_keeps_every_click(migration_sandbox, tmp_path, when):
    kill = kill_before_cutover if when == "before" else kill_after_cutover
    scenario(migration_sandbox, tmp_path, "kill-%s-cutover" % when, "route53-alias", kill=kill)


# The teardown scenarios' TTL: short, so that the caching prober sees the setup's cutover soon and the drain is short.
DRAIN_TTL = 3
# The run without the drain: long enough that the prober's cached answer outlives the teardown's way to the disable.
NO_DRAIN_TTL = 60
DISABLE_TASK = "Teardown | Disable, wait for and delete the CloudFront distribution"
DNS_TASK = "Teardown | Point the tracking domain back"


def test_teardown_revert_keeps_every_http_click(migration_sandbox, tmp_path):
    """The revert with a caching resolver: clicks keep reaching the distribution for the TTL, and the drain keeps it.

    The prober caches each answer for its TTL (DRAIN_TTL); the teardown's drain
    (link_domain_teardown_drain_seconds unset: the old record's TTL) waits that
    long after the revert before it disables the distribution, so the clicks that
    the cache still sends there are answered.
    """
    kept = {}
    summary = scenario(migration_sandbox, tmp_path, "revert", "route53-cname", teardown=True, ttl=DRAIN_TTL,
                       teardown_extra=["-e", json.dumps({"link_domain_teardown_drain_seconds": None})], keep=kept)
    # after the revert the name is plain HTTP again: https:// clicks fail there, as they did before the migration
    assert summary["revert_at"] > summary["cutover_at"]
    events = kept["runs"][-1]["events"]
    dns_start = _first(events, lambda e: e["ev"] == "start" and e["task"].startswith(DNS_TASK))
    disable_start = _first(events, lambda e: e["ev"] == "start" and e["task"] == DISABLE_TASK)
    assert dns_start is not None and disable_start is not None
    # the drain: the distribution was touched no sooner than the TTL after the DNS task started
    assert disable_start - dns_start >= DRAIN_TTL, (dns_start, disable_start)
    # the cache mattered: clicks during the teardown's DNS change still went to the distribution from the cache
    clicks, _marks = kept["probe"].snapshot()
    cached_edge = [c for c in clicks if c["t"] >= dns_start and c["dns"]["kind"] == "edge" and c["dns"]["cached"]]
    assert cached_edge, "no click reached the distribution from the cache after the revert started"


def test_teardown_without_the_drain_breaks_the_cached_clicks(migration_sandbox, tmp_path):
    """The same teardown with link_domain_teardown_drain_seconds: 0 and a caching prober: the clicks that the cache
    still sends to the distribution once it is disabled fail (the drain of the test above is what keeps them)."""
    sandbox = migration_sandbox
    domain = "mig-%s-nodrain.example.com" % RUN_ID
    provider = dict(PROVIDERS["route53-cname"], link_domain_iterable_region="usdc", link_domain_dns_ttl=NO_DRAIN_TTL)
    http_cname(sandbox, domain, "route53", ttl=NO_DRAIN_TTL)
    inventory = kill_trials.write_inventory(str(tmp_path), domain, provider)
    run = run_playbook(sandbox, str(tmp_path), "setup-nodrain", inventory)
    assert run["rc"] == 0, _tail(run["log"])
    probe = click_prober.from_env(sandbox.env, domain, "route53", max_seconds=PROBER_MAX_SECONDS,
                                  max_clicks=PROBER_MAX_CLICKS, cache=True)
    with probe:
        time.sleep(0.5)  # the first answer (the distribution) is now in the prober's cache for NO_DRAIN_TTL
        teardown = run_playbook(sandbox, str(tmp_path), "teardown-nodrain", inventory, playbook=TEARDOWN,
                                extra=["-e", "link_domain_teardown_confirm=" + domain,
                                       "-e", "link_domain_teardown_drain_seconds=0"])
    assert teardown["rc"] == 0, _tail(teardown["log"])
    assert sandbox.r53_query(domain, "CNAME") == ["links.iterable.com."]
    clicks, _marks = probe.snapshot()
    disable_start = _first(teardown["events"], lambda e: e["ev"] == "start" and e["task"] == DISABLE_TASK)
    started = clicks[0]["t"]
    assert disable_start is not None and disable_start - started < NO_DRAIN_TTL, "the cache expired before the disable"
    broken = [c for c in clicks if c["scheme"] == "http" and not c["ok"]]
    assert broken, "no http:// click failed although the distribution was disabled while the cache pointed at it"
    # every broken click went to the distribution from the cache, after the disable started
    assert all(c["dns"]["kind"] == "edge" and c["dns"]["cached"] and c["t"] >= disable_start - 1 for c in broken), \
        json.dumps(broken[:3], default=str)
    summary = probe.summary(https_from=0)
    RESULTS.append(("revert, no drain (cached, TTL %d s)" % NO_DRAIN_TTL,
                    figures_line("revert, no drain (cached, TTL %d s)" % NO_DRAIN_TTL, summary, [run, teardown]), summary))
    write_figures()


def _first(events, pred):
    times = [e["t"] for e in events if pred(e)]
    return min(times) if times else None


def test_rehearsal_sets_up_the_sibling_first_and_the_real_name_waits(migration_sandbox, tmp_path):
    """link_domain_rehearsal_name: the sibling is set up and checked end to end before the real name is touched."""
    sandbox = migration_sandbox
    domain = "mig-%s-real.example.com" % RUN_ID
    sibling = "mig-%s-real-test.example.com" % RUN_ID
    http_cname(sandbox, domain, "route53")
    inventory = kill_trials.write_inventory(str(tmp_path), domain, dict(PROVIDERS["route53-alias"], link_domain_rehearsal_name=sibling))
    probe = click_prober.from_env(sandbox.env, domain, "route53", max_seconds=PROBER_MAX_SECONDS, max_clicks=PROBER_MAX_CLICKS)
    sibling_probe = click_prober.from_env(sandbox.env, sibling, "route53", max_seconds=PROBER_MAX_SECONDS,
                                          max_clicks=PROBER_MAX_CLICKS, interval=0.2)
    with probe, sibling_probe:
        run = run_playbook(sandbox, str(tmp_path), "setup-rehearsal", inventory)
    assert run["rc"] == 0, _tail(run["log"])
    events = run["events"]
    sibling_checked = _first(events, lambda e: e["ev"] == "ok" and e["task"].startswith("Iterable | Verify") and sibling in e["task"])
    rehearsal_passed = _first(events, lambda e: e["ev"] == "ok" and e["task"].startswith("Rehearsal | The sibling passed"))
    real_started = _first(events, lambda e: e["ev"] == "start" and e["task"].startswith("Preflight") and domain in e["task"]
                          and sibling not in e["task"])
    assert sibling_checked is not None and rehearsal_passed is not None, "no end-to-end check of the sibling in %s" % run["log"]
    assert sibling_probe.cutover_at is not None and probe.cutover_at is not None
    # the sibling was cut over and passed before the real name's cutover; the real name's own steps came after
    assert sibling_probe.cutover_at < sibling_checked <= rehearsal_passed < probe.cutover_at
    if real_started is not None:
        assert rehearsal_passed < real_started
    summary = check_bar("rehearsal (route53-alias)", probe, [run])
    assert summary["http"]["failed"] == 0


def test_rehearsal_that_fails_leaves_the_real_name_alone(migration_sandbox, tmp_path):
    """A sibling that fails its end-to-end check stops the run: the real name keeps its HTTP CNAME, no distribution for it."""
    sandbox = migration_sandbox
    domain = "mig-%s-waits.example.com" % RUN_ID
    sibling = "mig-%s-waits-test.example.com" % RUN_ID
    overrides = os.path.join(sandbox["SANDBOX_STATE_DIR"], "origin-overrides.json")
    http_cname(sandbox, domain, "route53")
    with open(overrides, "w") as handle:
        json.dump({sibling: {"deep_links": "error"}}, handle)
    try:
        inventory = kill_trials.write_inventory(str(tmp_path), domain, dict(PROVIDERS["route53-cname"], link_domain_rehearsal_name=sibling))
        run = run_playbook(sandbox, str(tmp_path), "setup-rehearsal-fails", inventory,
                           extra=["-e", "link_domain_iterable_wait_timeout=3"])
    finally:
        os.unlink(overrides)
    assert run["rc"] != 0, "the setup went on although the rehearsal failed; see %s" % run["log"]
    assert sandbox.r53_query(domain, "CNAME") == ["links.iterable.com."]
    state = kill_trials.inspect_domain(sandbox, domain, {"link_domain_dns_provider": "route53"})
    assert state["distributions"] == [] and state["certificates"] == []
    assert kill_trials.inspect_domain(sandbox, sibling, {"link_domain_dns_provider": "route53"})["distributions"]


# --------------------------------------------------------------------------
# link_domain_prepare_ttl: lower the TTL in a run of its own, before the cutover
# --------------------------------------------------------------------------

PREPARED_TTL = 30


def recap_changed(log_file, domain):
    """The changed= count of the domain in the run's PLAY RECAP."""
    with open(log_file) as handle:
        text = handle.read()
    found = re.findall(r"(?m)^%s\s*:.*?changed=(\d+)" % re.escape(domain), text)
    assert found, "no PLAY RECAP for %s in %s" % (domain, log_file)
    return int(found[-1]), text


def cname_and_ttl(sandbox, domain, provider):
    """(target, TTL) of the domain's CNAME as its authoritative server answers it."""
    import dns.message
    import dns.query
    import dns.rdatatype

    if provider == "route53":
        server = (sandbox["SANDBOX_R53_DNS_SERVER"], int(sandbox["SANDBOX_R53_DNS_PORT"]))
    else:
        server = (sandbox["SANDBOX_DNS_SERVER"], int(sandbox["SANDBOX_DNS_PORT"]))
    answer = dns.query.udp(dns.message.make_query(domain, "CNAME"), server[0], port=server[1], timeout=5)
    for rrset in answer.answer:
        if rrset.rdtype == dns.rdatatype.CNAME:
            return rrset[0].target.to_text().rstrip("."), rrset.ttl
    return None, None


def prepare_runs(sandbox, provider, workdir, domain, inventory, figures):
    """Check mode first (nothing written), the prepare run (TTL 300 -> PREPARED_TTL), a second run and one more in
    check mode (changed=0 both)."""
    extra = ["-e", "link_domain_prepare_ttl=%d" % PREPARED_TTL]
    dry = run_playbook(sandbox, workdir, "prepare0-" + domain.split(".")[0], inventory, playbook=PREPARE,
                       extra=extra + ["--check", "--diff"])
    assert dry["rc"] == 0, _tail(dry["log"])
    assert "would be lowered from 300 s to %d s" % PREPARED_TTL in recap_changed(dry["log"], domain)[1]
    assert cname_and_ttl(sandbox, domain, provider) == ("links.iterable.com", 300)
    before = time.time()
    first = run_playbook(sandbox, workdir, "prepare-" + domain.split(".")[0], inventory, playbook=PREPARE, extra=extra)
    after = time.time()
    assert first["rc"] == 0, _tail(first["log"])
    changed, text = recap_changed(first["log"], domain)
    assert changed == 1, _tail(first["log"])
    assert cname_and_ttl(sandbox, domain, provider) == ("links.iterable.com", PREPARED_TTL)
    # "start the cutover run ... at <now + the old TTL> or later", in UTC
    at = re.search(r"at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC or later", text)
    assert at, _tail(first["log"])
    epoch = calendar.timegm(time.strptime(at.group(1), "%Y-%m-%d %H:%M:%S"))
    assert before + 300 - 1 <= epoch <= after + 300, (before, at.group(1), after)
    second = run_playbook(sandbox, workdir, "prepare2-" + domain.split(".")[0], inventory, playbook=PREPARE, extra=extra)
    assert second["rc"] == 0 and recap_changed(second["log"], domain)[0] == 0, _tail(second["log"])
    assert "is already %d s" % PREPARED_TTL in recap_changed(second["log"], domain)[1]
    check = run_playbook(sandbox, workdir, "prepare3-" + domain.split(".")[0], inventory, playbook=PREPARE,
                         extra=extra + ["--check", "--diff"])
    assert check["rc"] == 0 and recap_changed(check["log"], domain)[0] == 0, _tail(check["log"])
    # nothing but the TTL: no certificate, no distribution
    state = kill_trials.inspect_domain(sandbox, domain, {"link_domain_dns_provider": provider})
    assert state["distributions"] == [] and state["certificates"] == [], state
    figures.extend([dry, first, second, check])


@pytest.mark.parametrize("provider_key", ["route53-cname", "rfc2136"])
def test_prepare_ttl_then_the_cutover_keeps_every_click(migration_sandbox, tmp_path, provider_key):
    """link_domain_prepare_ttl: TTL 300 -> 30 in a run of its own (a second run and check mode change nothing), then
    the normal setup migrates with the prober on at 0 broken clicks."""
    provider = PROVIDERS[provider_key]["link_domain_dns_provider"]
    runs = []
    scenario(migration_sandbox, tmp_path, "prepared-" + provider_key, provider_key,
             before=lambda workdir, domain, inventory: prepare_runs(migration_sandbox, provider, workdir, domain,
                                                                    inventory, runs))
    assert len(runs) == 4


def test_prepare_ttl_refuses_a_domain_without_a_record(migration_sandbox, tmp_path):
    domain = "mig-%s-norecord.example.com" % RUN_ID
    inventory = kill_trials.write_inventory(str(tmp_path), domain, dict(PROVIDERS["route53-cname"]))
    run = run_playbook(migration_sandbox, str(tmp_path), "prepare-norecord", inventory, playbook=PREPARE)
    assert run["rc"] != 0
    with open(run["log"]) as handle:
        text = handle.read()
    assert "link_domain_name: %s has no record yet" % domain in text, _tail(run["log"])
    assert cname_and_ttl(migration_sandbox, domain, "route53") == (None, None)
