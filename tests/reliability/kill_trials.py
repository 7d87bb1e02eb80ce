# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interrupted runs converge: kill the setup at random moments, rerun it, check what is left.

usage: SANDBOX_ENV_FILE=... kill_trials.py --trials N [--seed S] [--kills K] [--workdir DIR] [--json FILE]

Each trial sets up a fresh tracking domain in the sandbox (even trials through
Route 53 with alias records, odd trials through RFC 2136 with a CNAME). The
first run of ansible-playbook is killed with SIGKILL, whole process group, at a
chosen moment: inside one of the steps (preflight and the six steps of the
guide) or between two of them. With ``--kills K`` the next K-1 runs are killed
too. Then the playbook is run again to the end.

Kill moments come from step markers: a callback plugin
(``callback_plugins/linktrack_events.py``) writes a timestamped line per task
event. "Inside step S" kills at the first task of S plus a random share of the
time S took in a calibration run (one uninterrupted setup at the start);
"between S and the next step" kills as soon as the next step's first task
starts. The kill points are drawn round-robin in a shuffled order, so N trials
cover every point about N/13 times.

During each trial a DNS poller asks the authoritative server of the domain
(BIND for RFC 2136, the Route 53 stand-in for Route 53) every 50 ms and notes
the first moment the name points at a distribution. After the trial it checks:

- exactly one ACM certificate and one CloudFront distribution for the domain;
- DNS as intended: the CNAME (BIND) or alias A + AAAA (Route 53) to the
  distribution, and the ACM validation record;
- the name never pointed at the distribution before the TLS check (step 4)
  had passed: the first "pointed" poll is later than the TLS check's result.

It prints ``trials, converged, duplicates, unsafe cutovers`` and exits 0 only
if every trial converged with no duplicate and no unsafe cutover.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import relhelpers  # noqa: E402  pylint: disable=wrong-import-position

STEPS = ["preflight", "certificate", "distribution", "deployed", "tls", "dns", "iterable"]
_PREFIXES = {
    "Preflight": "preflight",
    "Certificate": "certificate",
    "Distribution": "distribution",
    "Deployed": "deployed",
    "TLS": "tls",
    "DNS": "dns",
    "Iterable": "iterable",
}
# inside every step, and between each step and the next
KILL_POINTS = [("inside", s) for s in STEPS] + [("after", s) for s in STEPS[:-1]]
# Seconds each task of each step took in an uninterrupted setup on the
# development machine, per DNS provider (printed by a calibration run of
# kill_trials.py; ansible-core 2.19, the modules in process); used with
# --no-calibrate instead of calibration runs. A step that goes faster than
# this is killed at its end at the latest.
DEFAULT_TIMELINES = {
    "route53": {"preflight": [0.08, 0.29, 0.12, 0.10, 0.10, 0.06],
                "certificate": [0.17, 0.05, 0.13, 0.03, 0.06, 0.05, 2.10], "distribution": [0.07, 0.12],
                "deployed": [0.12], "tls": [0.12], "dns": [0.08, 0.08, 0.16, 0.03, 0.10, 0.07, 0.13],
                "iterable": [0.10, 0.02, 0.04]},
    "rfc2136": {"preflight": [0.09, 0.31, 0.16, 0.11, 0.02, 0.07],
                "certificate": [0.16, 0.06, 0.05, 0.02, 0.49, 0.06, 0.05, 2.10], "distribution": [0.07, 0.11],
                "deployed": [0.12], "tls": [0.13], "dns": [0.08, 0.08, 0.08, 0.05, 0.38, 0.10, 0.10, 0.12],
                "iterable": [0.13, 0.02, 0.04]},
}

PROVIDERS = [
    {"link_domain_dns_provider": "route53", "link_domain_dns_record_type": "alias", "link_domain_iterable_region": "usdc"},
    {"link_domain_dns_provider": "rfc2136", "link_domain_dns_record_type": "cname", "link_domain_iterable_region": "edc"},
]


def log(msg):
    print("[kill_trials] %s" % msg, file=sys.stderr, flush=True)


def step_of(task_name, current):
    """The step a task belongs to: by its prefix, else (DNS provider tasks) the step that included it."""
    if task_name.startswith("Validating arguments"):
        return "preflight"
    head = task_name.split(" | ", 1)[0].strip()
    return _PREFIXES.get(head, current)


def read_events(path):
    events = []
    if not os.path.exists(path):
        return events
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line.endswith("}"):
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass
    return events


def annotate(events):
    """Add the step to every event (task results take the step of their task)."""
    current = "preflight"
    for event in events:
        if event["ev"] == "start":
            current = step_of(event["task"], current)
        event["step"] = current
    return events


def step_spans(events):
    """step -> seconds from its first task's start to the next step's first task (or the end)."""
    starts = {}
    order = []
    end = None
    for event in annotate(events):
        if event["ev"] == "start" and event["step"] not in starts:
            starts[event["step"]] = event["t"]
            order.append(event["step"])
        if event["ev"] == "end":
            end = event["t"]
    spans = {}
    for i, step in enumerate(order):
        nxt = starts[order[i + 1]] if i + 1 < len(order) else (end or events[-1]["t"])
        spans[step] = round(nxt - starts[step], 3)
    return spans


def timeline(events):
    """step -> list of seconds each task of the step took (start to the next task's start), in order."""
    starts = [e for e in annotate(events) if e["ev"] == "start"]
    end = [e["t"] for e in events if e["ev"] == "end"]
    out = {}
    for i, event in enumerate(starts):
        nxt = starts[i + 1]["t"] if i + 1 < len(starts) else (end[0] if end else event["t"])
        out.setdefault(event["step"], []).append(round(nxt - event["t"], 3))
    return out


def choose_moment(durations, rng):
    """A uniformly random moment inside a step: ``(task ordinal from 1, seconds into that task)``."""
    total = sum(durations)
    if total <= 0:
        return 1, 0.0
    moment = rng.uniform(0.0, total)
    for ordinal, duration in enumerate(durations, 1):
        if moment <= duration:
            return ordinal, moment
        moment -= duration
    return len(durations), durations[-1]


def tls_passed_at(events):
    """Time of the first result of the TLS check that passed, or None."""
    times = [e["t"] for e in events if e["ev"] == "ok" and e["task"].startswith("TLS | Check") and e.get("passed")]
    return min(times) if times else None


# --------------------------------------------------------------------------
# DNS poller
# --------------------------------------------------------------------------


class DnsPoller(threading.Thread):
    """Asks ``server:port`` for ``name`` A every ``interval`` seconds; notes when it first points at CloudFront."""

    def __init__(self, name, server, port, interval=0.05):
        super(DnsPoller, self).__init__(daemon=True)
        self.name_ = name
        self.server = server
        self.port = port
        self.interval = interval
        self.first_pointed = None
        self.first_answer = None
        self.polls = 0
        self.errors = 0
        self._stop_event = threading.Event()

    def pointed(self):
        import dns.message
        import dns.query
        import dns.rdatatype

        query = dns.message.make_query(self.name_, "A")
        answer = dns.query.udp(query, self.server, port=self.port, timeout=0.5)
        for rrset in answer.answer:
            if rrset.rdtype == dns.rdatatype.A and rrset.name.to_text().rstrip(".") == self.name_:
                return [r.to_text() for r in rrset]
            if rrset.rdtype == dns.rdatatype.CNAME:
                targets = [r.target.to_text() for r in rrset]
                if any(t.rstrip(".").endswith(".cloudfront.net") for t in targets):
                    return targets
        return None

    def run(self):
        while not self._stop_event.is_set():
            started = time.time()
            try:
                seen = self.pointed()
                self.polls += 1
                if seen and self.first_pointed is None:
                    self.first_pointed = started
                    self.first_answer = seen
            except Exception:  # noqa: BLE001 - a lost UDP answer is no finding; count it
                self.errors += 1
            self._stop_event.wait(max(0.0, self.interval - (time.time() - started)))

    def stop(self):
        self._stop_event.set()
        self.join(5)


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------


class Runner:
    def __init__(self, sandbox, workdir, timeout=900):
        self.sandbox = sandbox
        self.workdir = workdir
        self.timeout = timeout
        self.count = 0

    def env(self, events_file):
        env = relhelpers.ansible_env({
            "SANDBOX_ENV_FILE": self.sandbox.env_file,
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "linktrack_events",
            "LINKTRACK_EVENTS_FILE": events_file,
        })
        for key, value in self.sandbox.env.items():
            if key.startswith("AWS_"):
                env[key] = value
        return env

    def playbook(self, inventory, kill=None, durations=None, rng=None, extra_args=()):
        """Run the setup; with ``kill=(kind, step)`` SIGKILL its process group at that point.

        ``durations`` is the step's task durations from a calibration run:
        "inside" kills at a uniformly random moment of the step as it went
        then (task ordinal and seconds into it); "after" kills as soon as a
        later step starts. Returns a dict: rc, killed, killed_at, killed_in
        (step and task of the last event before the kill), events, log.
        """
        self.count += 1
        tag = "run%03d" % self.count
        events_file = os.path.join(self.workdir, tag + ".events")
        log_file = os.path.join(self.workdir, tag + ".log")
        cmd = ([os.path.join(relhelpers.VENV_BIN, "ansible-playbook"), "-i", inventory] + relhelpers.sandbox_var_args()
               + list(extra_args) + [relhelpers.PLAYBOOK])
        ordinal, offset = (choose_moment(durations or [1.0], rng or random.Random())
                           if kill and kill[0] == "inside" else (1, 0.0))
        started = time.time()
        with open(log_file, "w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env(events_file),
                                    cwd=relhelpers.ROOT, start_new_session=True)
            killed_at = None
            group_left = False
            deadline = None
            seen = 0
            current = "preflight"
            in_step = 0
            last_task = None
            while proc.poll() is None:
                now = time.time()
                if now - started > self.timeout:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    raise RuntimeError("ansible-playbook ran longer than %d s; see %s" % (self.timeout, log_file))
                if kill and killed_at is None:
                    events = read_events(events_file)
                    for event in events[seen:]:
                        if event["ev"] != "start":
                            continue
                        current = step_of(event["task"], current)
                        last_task = event["task"]
                        kind, step = kill
                        if deadline is not None:
                            if kind == "inside" and STEPS.index(current) > STEPS.index(step):
                                # the step went faster than the timeline said: kill at its end at the latest
                                deadline = min(deadline, event["t"])
                            continue
                        if kind == "inside" and current == step:
                            in_step += 1
                            if in_step == ordinal:
                                deadline = event["t"] + offset
                        elif kind == "inside" and STEPS.index(current) > STEPS.index(step):
                            deadline = event["t"]  # the step had fewer tasks this time: kill at its end
                        elif kind == "after" and STEPS.index(current) > STEPS.index(step):
                            deadline = event["t"]
                    seen = len(events)
                    if deadline is not None and time.time() >= deadline:
                        os.killpg(proc.pid, signal.SIGKILL)
                        killed_at = time.time()
                        proc.wait()
                        group_left = _group_alive(proc.pid)
                        break
                time.sleep(0.01)
        events = annotate(read_events(events_file))
        killed_in = None
        if killed_at is not None:
            before = [e for e in events if e["t"] <= killed_at]
            if before:
                last = before[-1]
                killed_in = "%s (%s %s)" % (last["step"], "during" if last["ev"] == "start" else "after", last["task"])
        return {
            "tag": tag,
            "rc": proc.returncode,
            "killed": killed_at is not None,
            "killed_at": killed_at,
            "killed_in": killed_in,
            "last_task_started": last_task,
            "group_left": group_left,
            "events": events,
            "log": log_file,
            "seconds": round(time.time() - started, 2),
        }


def _group_members(pgid):
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def _group_alive(pgid, wait=2.0):
    """Whether any process of the killed process group is still running after ``wait`` seconds."""
    deadline = time.time() + wait
    while time.time() < deadline:
        if not _group_members(pgid):
            return False
        time.sleep(0.05)
    return bool(_group_members(pgid))


# --------------------------------------------------------------------------
# What is left after a trial
# --------------------------------------------------------------------------


def inspect_domain(sandbox, domain, provider):
    """Certificates, distributions and DNS of ``domain``, and whether DNS is as intended."""
    acm = sandbox.client("acm")
    cf = sandbox.client("cloudfront")
    certs = []
    kwargs = {"CertificateStatuses": ["PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT",
                                      "REVOKED", "FAILED"],
              "Includes": {"keyTypes": ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1",
                                        "EC_secp384r1", "EC_secp521r1"]}}
    while True:
        page = acm.list_certificates(**kwargs)
        certs.extend(c for c in page.get("CertificateSummaryList", []) if c["DomainName"] == domain)
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    dists = []
    marker = None
    while True:
        page = cf.list_distributions(**({"Marker": marker} if marker else {}))["DistributionList"]
        for item in page.get("Items", []) or []:
            if domain in ((item.get("Aliases") or {}).get("Items") or []):
                dists.append({"id": item["Id"], "domain_name": item["DomainName"], "status": item["Status"]})
        if not page.get("IsTruncated"):
            break
        marker = page.get("NextMarker")
    out = {"certificates": [c["CertificateArn"] for c in certs], "distributions": dists, "dns_ok": False, "dns": {}}
    if len(dists) != 1 or len(certs) != 1:
        return out
    dist_domain = dists[0]["domain_name"].rstrip(".")
    cert = acm.describe_certificate(CertificateArn=certs[0]["CertificateArn"])["Certificate"]
    out["certificate_status"] = cert["Status"]
    validation = [o["ResourceRecord"] for o in cert.get("DomainValidationOptions", []) if o.get("ResourceRecord")]
    if provider["link_domain_dns_provider"] == "rfc2136":
        answer = sandbox.bind_query(domain, "CNAME")
        out["dns"]["cname"] = answer
        ok = answer == [dist_domain + "."]
        for record in validation:
            seen = sandbox.bind_query(record["Name"].rstrip("."), "CNAME")
            out["dns"][record["Name"]] = seen
            ok = ok and [v.rstrip(".") for v in seen] == [record["Value"].rstrip(".")]
        for other in ("A", "AAAA"):
            if sandbox.bind_query(domain, other):
                ok = False
    else:
        r53 = sandbox.client("route53")
        zone = sandbox["SANDBOX_R53_ZONE_ID"]
        sets = r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=domain, MaxItems="20")["ResourceRecordSets"]
        mine = [s for s in sets if s["Name"].rstrip(".") == domain]
        out["dns"]["record_sets"] = [(s["Type"], (s.get("AliasTarget") or {}).get("DNSName"),
                                      [r["Value"] for r in s.get("ResourceRecords", [])]) for s in mine]
        types = sorted(s["Type"] for s in mine)
        ok = types == ["A", "AAAA"] and all(
            (s.get("AliasTarget") or {}).get("DNSName", "").rstrip(".") == dist_domain for s in mine)
        for record in validation:
            name = record["Name"].rstrip(".")
            vsets = r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name, StartRecordType="CNAME",
                                                  MaxItems="1")["ResourceRecordSets"]
            vmatch = [s for s in vsets if s["Name"].rstrip(".") == name and s["Type"] == "CNAME"]
            ok = ok and len(vmatch) == 1 and [r["Value"].rstrip(".") for r in vmatch[0]["ResourceRecords"]] == [
                record["Value"].rstrip(".")]
        out["dns"]["answer"] = sandbox.r53_query(domain, "A")
        ok = ok and bool(out["dns"]["answer"])
    out["dns_ok"] = bool(ok)
    return out


def write_inventory(workdir, domain, provider_vars):
    import yaml

    path = os.path.join(workdir, "inventory-%s.yml" % domain)
    with open(path, "w") as handle:
        yaml.safe_dump({"tracking_domains": {"hosts": {domain: dict(provider_vars)}}}, handle)
    return path


def poller_for(sandbox, domain, provider_vars):
    if provider_vars["link_domain_dns_provider"] == "rfc2136":
        return DnsPoller(domain, sandbox["SANDBOX_DNS_SERVER"], int(sandbox["SANDBOX_DNS_PORT"]))
    return DnsPoller(domain, sandbox["SANDBOX_R53_DNS_SERVER"], int(sandbox["SANDBOX_R53_DNS_PORT"]))


def trial(runner, sandbox, domain, provider_vars, kills, steps_timeline, rng):
    inventory = write_inventory(runner.workdir, domain, provider_vars)
    poller = poller_for(sandbox, domain, provider_vars)
    poller.start()
    runs = []
    try:
        for point in kills:
            runs.append(dict(runner.playbook(inventory, kill=point, durations=steps_timeline.get(point[1]), rng=rng),
                             point="%s %s" % point))
        runs.append(dict(runner.playbook(inventory), point="final"))
    finally:
        poller.stop()
    final = runs[-1]
    state = inspect_domain(sandbox, domain, provider_vars)
    events = [e for r in runs for e in r["events"]]
    tls_at = tls_passed_at(events)
    unsafe = poller.first_pointed is not None and (tls_at is None or poller.first_pointed < tls_at)
    duplicates = len(state["certificates"]) > 1 or len(state["distributions"]) > 1
    converged = (final["rc"] == 0 and len(state["certificates"]) == 1 and len(state["distributions"]) == 1
                 and state.get("certificate_status") == "ISSUED" and state["dns_ok"]
                 and not any(r["group_left"] for r in runs))
    return {
        "domain": domain,
        "provider": provider_vars["link_domain_dns_provider"],
        "runs": [{k: r[k] for k in ("tag", "point", "rc", "killed", "killed_in", "group_left", "seconds", "log")}
                 for r in runs],
        "state": state,
        "tls_passed_at": tls_at,
        "dns_first_pointed_at": poller.first_pointed,
        "dns_first_answer": poller.first_answer,
        "dns_polls": poller.polls,
        "dns_poll_errors": poller.errors,
        "cutover_after_tls_seconds": (round(poller.first_pointed - tls_at, 3)
                                      if poller.first_pointed and tls_at else None),
        "converged": converged,
        "duplicates": duplicates,
        "unsafe_cutover": unsafe,
    }


def calibrate(runner, sandbox, run_id):
    """One uninterrupted setup per DNS provider: the task durations of each step, and the run's seconds."""
    timelines, seconds, unsafe = {}, {}, False
    for provider in PROVIDERS:
        name = provider["link_domain_dns_provider"]
        domain = "kt-%s-cal-%s.example.com" % (run_id, name)
        inventory = write_inventory(runner.workdir, domain, provider)
        poller = poller_for(sandbox, domain, provider)
        poller.start()
        try:
            result = runner.playbook(inventory)
        finally:
            poller.stop()
        if result["rc"] != 0:
            raise RuntimeError("the calibration run (an uninterrupted setup of %s) failed; see %s"
                               % (domain, result["log"]))
        timelines[name] = timeline(result["events"])
        seconds[name] = result["seconds"]
        tls_at = tls_passed_at(result["events"])
        unsafe = unsafe or (poller.first_pointed is not None and (tls_at is None or poller.first_pointed < tls_at))
    return timelines, seconds, unsafe


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--kills", type=int, default=1, help="killed runs per trial before the final run")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--env-file", default=None, help="sandbox env file (default: $SANDBOX_ENV_FILE)")
    parser.add_argument("--workdir", default=None, help="where run logs and event files go (default: a temp dir)")
    parser.add_argument("--json", dest="json_out", default=None, help="write every trial's details to this file")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one ansible-playbook run may take")
    parser.add_argument("--no-calibrate", action="store_true",
                        help="skip the calibration run; use the step durations measured on the development machine")
    parser.add_argument("--points", default="",
                        help="kill points to use in this order instead of random ones, e.g. 'inside dns,after tls' "
                             "(steps: %s)" % ", ".join(STEPS))
    args = parser.parse_args(argv)
    if args.trials < 1 or args.kills < 1:
        parser.error("--trials and --kills must be at least 1")
    fixed_points = []
    for item in [p.strip() for p in args.points.split(",") if p.strip()]:
        kind, _sep, step = item.partition(" ")
        if (kind, step) not in KILL_POINTS:
            parser.error("--points: %r is not a kill point; use 'inside STEP' or 'after STEP' with a step of %s"
                         % (item, ", ".join(STEPS)))
        fixed_points.append((kind, step))

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    sandbox = relhelpers.Sandbox(args.env_file)
    workdir = args.workdir or tempfile.mkdtemp(prefix="kill-trials-")
    os.makedirs(workdir, exist_ok=True)
    run_id = uuid.uuid4().hex[:6]
    runner = Runner(sandbox, workdir, timeout=args.timeout)
    log("seed %d, workdir %s" % (seed, workdir))

    start = time.time()
    if args.no_calibrate:
        timelines, full_seconds, cal_unsafe = dict(DEFAULT_TIMELINES), None, False
    else:
        timelines, full_seconds, cal_unsafe = calibrate(runner, sandbox, run_id)
        for name, steps in sorted(timelines.items()):
            log("calibration %s: a full setup took %.1f s; steps: %s" % (name, full_seconds[name], ", ".join(
                "%s %.1fs/%d tasks" % (s, sum(steps[s]), len(steps[s])) for s in STEPS if s in steps)))
        log("timelines: %s" % json.dumps(timelines, sort_keys=True))

    points = []
    results = []
    for i in range(args.trials):
        kills = []
        for _k in range(args.kills):
            if fixed_points:
                kills.append(fixed_points[(i * args.kills + _k) % len(fixed_points)])
                continue
            if not points:
                points = list(KILL_POINTS)
                rng.shuffle(points)
            kills.append(points.pop())
        provider = PROVIDERS[i % len(PROVIDERS)]
        domain = "kt-%s-%02d.example.com" % (run_id, i)
        result = trial(runner, sandbox, domain, provider, kills, timelines[provider["link_domain_dns_provider"]], rng)
        results.append(result)
        killed = "; ".join("%s -> %s" % (r["point"], r["killed_in"] if r["killed"] else "not killed (run ended rc=%s)" % r["rc"])
                           for r in result["runs"][:-1])
        log("trial %d/%d %s (%s): %s; final rc=%s; certs=%d dists=%d dns_ok=%s; tls passed->dns pointed %s s; %s" % (
            i + 1, args.trials, domain, result["provider"], killed, result["runs"][-1]["rc"],
            len(result["state"]["certificates"]), len(result["state"]["distributions"]), result["state"]["dns_ok"],
            result["cutover_after_tls_seconds"],
            "CONVERGED" if result["converged"] else "NOT CONVERGED"))

    summary = {
        "trials": len(results),
        "converged": sum(1 for r in results if r["converged"]),
        "duplicates": sum(1 for r in results if r["duplicates"]),
        "unsafe_cutovers": sum(1 for r in results if r["unsafe_cutover"]),
        "killed_runs": sum(1 for r in results for run in r["runs"] if run["killed"]),
        "kill_points": {},
        "seed": seed,
        "calibration_seconds": full_seconds,
        "timelines": timelines,
        "calibration_unsafe_cutover": cal_unsafe,
        "seconds": round(time.time() - start, 1),
        "workdir": workdir,
    }
    for r in results:
        for run in r["runs"][:-1]:
            key = run["point"] if run["killed"] else run["point"] + " (missed)"
            summary["kill_points"][key] = summary["kill_points"].get(key, 0) + 1
    if args.json_out:
        with open(args.json_out, "w") as handle:
            json.dump({"summary": summary, "trials": results}, handle, indent=1, default=str)
    print("trials, converged, duplicates, unsafe cutovers")
    print("%d, %d, %d, %d" % (summary["trials"], summary["converged"], summary["duplicates"], summary["unsafe_cutovers"]))
    print("killed runs %d; kill points: %s" % (summary["killed_runs"], ", ".join(
        "%s x%d" % (k, v) for k, v in sorted(summary["kill_points"].items()))))
    print("seed %d; %.0f s; logs in %s" % (seed, summary["seconds"], workdir))
    ok = (summary["converged"] == summary["trials"] and not summary["duplicates"] and not summary["unsafe_cutovers"]
          and not cal_unsafe)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
