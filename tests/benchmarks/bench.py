# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: our setup playbook against the anchor (standard modules), interleaved, on either Ansible line.

usage: bench.py [--leg oldest|newest ...] [--n N ...] [--rounds R] [--time-scale S]
                [--anchor-dir DIR] [--skip-anchor] [--module-process] [--lookup-vars]

Legs (tests/bin/legs.sh): ``oldest`` runs everything with .venv (ansible 12:
ansible-core 2.19, amazon.aws 10, Python 3.11), ``newest`` with
.tmp/venv-newest (ansible 14: ansible-core 2.21, amazon.aws 11, Python 3.12).
Within a leg both sides use that leg's virtual environment: its
ansible-playbook, its Python for the modules, its moto for the emulator (the
anchor's plain moto_server and our sandbox alike). The anchor's one awscli call
per domain (ACM RequestCertificate, fresh runs only) comes from a small venv of
its own (.tmp/bench/awscli), because awscli 1.x pins docutils < 0.20, which the
docs tools of .venv cannot live with; the anchor is given a venv directory
whose python, lib and scripts are the leg's and whose ``aws`` is that one.

For every N (default 1 10 50) and round it runs, leg after leg within the
round, the anchor's `run.sh N` (../shared/anchor-benchmark: community.aws and
amazon.aws modules plus awscli against a plain moto_server) and our
`playbooks/setup_link_domain.yml` for the same N domains against our sandbox:
a fresh run, then a re-run. The machines are noisy, so the sides and the legs
are interleaved (anchor, ours, anchor, ours...) and medians are compared. It
prints, for each leg and side: wall seconds of the fresh run and of the
re-run, the AWS API requests the emulator received during each, and the
`changed` task results of the re-run; then the ratios ours/anchor and the
per-domain request cost, against the targets of issue 13 (fresh <= 0.5x,
re-run <= 0.25x, <= 4 AWS requests per domain on a re-run with changed=0). Our
figures include steps 4 and 6 (TLS check and the end-to-end check), which the
anchor skips.

Our sandbox always behaves like AWS (SANDBOX_AWS_BEHAVIOUR=aws: certificates
unknown, then PENDING_VALIDATION, then ISSUED; distributions InProgress before
Deployed; Route 53 changes PENDING before INSYNC), with its time windows
multiplied by --time-scale (default 0.1, the sandbox's SANDBOX_AWS_TIME_SCALE);
the order of events stays AWS's. The anchor's plain moto has only its own
1-second ACM wait (MOTO_ACM_VALIDATION_WAIT=1).

Our playbook gets the sandbox's settings as extra vars. By default the bench
evaluates playbooks/vars/sandbox.yml once (with Ansible, after the sandbox is
up) and passes the values it gives as literals, as an inventory would; with
--lookup-vars it passes playbooks/vars/sandbox.yml itself, whose values read
and parse the sandbox's env file each time a task uses one (the anchor gets
literal values too).

With --module-process a third side runs in each round, after ours: the same
playbook with LINKTRACK_HTTPS_IN_PROCESS=false, so that the collection's
modules run as module processes instead of inside Ansible's worker processes.
The 1-minute load average is printed before every run, because other work on
the machine moves the figures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH_DIR = os.path.join(ROOT, ".tmp", "bench")
AWSCLI_VENV = os.path.join(BENCH_DIR, "awscli")
SANDBOX_VARS = os.path.join(ROOT, "playbooks", "vars", "sandbox.yml")
LEG_VENVS = {"oldest": os.path.join(ROOT, ".venv"), "newest": os.path.join(ROOT, ".tmp", "venv-newest")}
# issue 13's targets, per leg, at N=10
TARGET_FRESH, TARGET_RERUN, TARGET_REQUESTS = 0.5, 0.25, 4

sys.path.insert(0, os.path.join(ROOT, "sandbox"))
from linktrack_sandbox.envfile import read_env_file  # noqa: E402  pylint: disable=wrong-import-position


# Evaluates playbooks/vars/sandbox.yml once and writes the values as literals.
RENDER_PLAYBOOK = """
- name: The sandbox's settings as literal variables
  hosts: localhost
  gather_facts: false
  vars_files: [%(vars)s]
  tasks:
    - name: Write them
      ansible.builtin.copy:
        dest: %(dest)s
        mode: "0600"
        content: "{{ dict(names | zip(names | map('extract', vars))) | to_nice_yaml }}"
      vars:
        names: "{{ vars.keys() | select('match', 'link_domain_') | reject('in', ['link_domain_sandbox', 'link_domain_sandbox_env_file']) | list }}"
"""
SANDBOX_PORT_BASE = int(os.environ.get("BENCH_SANDBOX_PORT_BASE", "18000"))
ANCHOR_PORT = os.environ.get("BENCH_ANCHOR_PORT", "5555")


def log(msg):
    print("[bench] %s" % msg, file=sys.stderr, flush=True)


class Leg:
    """One Ansible line: its venv, its own sandbox (state dir, ports) and the anchor's venv view of it."""

    def __init__(self, name, index, time_scale):
        self.name = name
        self.venv = LEG_VENVS[name]
        self.bin = os.path.join(self.venv, "bin")
        self.python = os.path.join(self.bin, "python")
        self.sandbox_dir = os.path.join(BENCH_DIR, "sandbox-" + name)
        self.sandbox_env = os.path.join(self.sandbox_dir, "sandbox.env")
        self.literal_vars = os.path.join(self.sandbox_dir, "sandbox-vars.yml")
        self.port_base = SANDBOX_PORT_BASE + 500 * index
        self.time_scale = time_scale
        self.anchor_venv = os.path.join(BENCH_DIR, "anchor-venv-" + name)
        self.up = False
        if not os.path.exists(os.path.join(self.bin, "ansible-playbook")):
            raise SystemExit("the %s leg's venv %s is missing: run 'bash tests/bin/bootstrap.sh %s'" % (name, self.venv, name))

    def versions(self):
        code = "import ansible.release, boto3, moto, platform; print('ansible-core %s, Python %s, boto3 %s, moto %s' % " \
               "(ansible.release.__version__, platform.python_version(), boto3.__version__, moto.__version__))"
        text = subprocess.check_output([self.python, "-c", code], universal_newlines=True).strip()
        return text + ", " + ", ".join(collection_versions(self.python))

    def sandbox(self, action):
        env = dict(os.environ, SANDBOX_PORT_BASE=str(self.port_base), SANDBOX_STATE_DIR=self.sandbox_dir,
                   SANDBOX_ENV_FILE=self.sandbox_env, SANDBOX_AWS_BEHAVIOUR="aws",
                   SANDBOX_AWS_TIME_SCALE=str(self.time_scale))
        subprocess.check_call([self.python, os.path.join(ROOT, "sandbox", "sandbox.py"), action], env=env, stdout=sys.stderr)
        self.up = action == "up"

    def make_anchor_venv(self):
        """A venv directory for run.sh: the leg's python, lib and scripts, and awscli's `aws`."""
        ensure_awscli()
        root = self.anchor_venv
        if os.path.isdir(root):
            subprocess.check_call(["rm", "-rf", root])
        os.makedirs(os.path.join(root, "bin"))
        # pyvenv.cfg beside bin/ makes the linked interpreter this venv's, with lib/ as its site-packages
        with open(os.path.join(self.venv, "pyvenv.cfg")) as src, open(os.path.join(root, "pyvenv.cfg"), "w") as dst:
            dst.write(src.read())
        os.symlink(os.path.join(self.venv, "lib"), os.path.join(root, "lib"))
        python = os.path.join(root, "bin", "python")
        os.symlink(self.python, python)
        # the scripts run with this view's python, so that the anchor's `ansible_playbook_python | dirname`
        # (where its playbook looks for `aws`) is this bin/
        for name in ("ansible-playbook", "moto_server"):
            with open(os.path.join(self.bin, name)) as src:
                lines = src.read().split("\n", 1)
            if not lines[0].startswith("#!"):
                raise SystemExit("%s/%s is not a script" % (self.bin, name))
            target = os.path.join(root, "bin", name)
            with open(target, "w") as dst:
                dst.write("#!%s\n%s" % (python, lines[1]))
            os.chmod(target, 0o755)
        os.symlink(os.path.join(AWSCLI_VENV, "bin", "aws"), os.path.join(root, "bin", "aws"))
        probe = subprocess.check_output([os.path.join(root, "bin", "python"), "-c", "import ansible, moto, sys; print(sys.prefix)"],
                                        universal_newlines=True).strip()
        if os.path.realpath(probe) != os.path.realpath(root):
            raise SystemExit("the anchor venv view %s does not work (sys.prefix %s)" % (root, probe))


def collection_versions(python):
    code = ("import json, os, ansible_collections as ac\n"
            "base = list(ac.__path__)[0]\n"
            "for name in ('amazon/aws', 'community/aws', 'community/general'):\n"
            "    with open(os.path.join(base, name, 'MANIFEST.json')) as f:\n"
            "        print('%s %s' % (name.replace('/', '.'), json.load(f)['collection_info']['version']))\n")
    return subprocess.check_output([python, "-c", code], universal_newlines=True).split("\n")[:-1]


def ensure_awscli():
    if os.path.exists(os.path.join(AWSCLI_VENV, "bin", "aws")):
        return
    log("creating awscli's own virtual environment in %s (once)" % AWSCLI_VENV)
    subprocess.check_call([sys.executable, "-m", "venv", AWSCLI_VENV])
    proc = subprocess.run([os.path.join(AWSCLI_VENV, "bin", "pip"), "install", "-q", "awscli"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    sys.stderr.write("".join(line + "\n" for line in proc.stdout.splitlines() if not line.startswith("WARNING: Location")))
    if proc.returncode != 0:
        raise SystemExit("pip install awscli failed in %s" % AWSCLI_VENV)


def http_json(url, method="GET"):
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as response:  # nosec - loopback sandbox only
        body = response.read()
    return json.loads(body) if body else {}


def count_changed(output):
    """Changed task results in default-callback output (the anchor's count_changed.awk, in Python)."""
    return sum(1 for line in output.splitlines() if line.startswith("changed: ["))


def run_anchor(leg, anchor_dir, n):
    out = tempfile.mkdtemp(prefix="anchor-run.")
    load = load_average()
    env = dict(os.environ, ANCHOR_VENV=leg.anchor_venv, ANCHOR_PORT=ANCHOR_PORT, ANCHOR_OUT=out)
    proc = subprocess.run(["sh", os.path.join(anchor_dir, "run.sh"), str(n)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    text = proc.stdout
    if proc.returncode != 0:
        sys.stderr.write(text[-4000:])
        raise SystemExit("the anchor failed (%s leg, N=%d, rc=%d); logs in %s" % (leg.name, n, proc.returncode, out))
    figures = dict(re.findall(r"(\w+)=([0-9.]+)", text))
    return {
        "load_before": load,
        "logs": out,
        "fresh_wall_s": float(figures["fresh_wall_s"]),
        "rerun_wall_s": float(figures["rerun_wall_s"]),
        "fresh_requests": int(figures["fresh_requests"]),
        "rerun_requests": int(figures["rerun_requests"]),
        "rerun_changed": int(figures["rerun_changed_results"]),
    }


def playbook_env(leg, extra_env=None):
    run_env = dict(os.environ, SANDBOX_ENV_FILE=leg.sandbox_env, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"),
                   PATH=leg.bin + os.pathsep + os.environ.get("PATH", ""))
    run_env.update(extra_env or {})
    return run_env


def render_literal_vars(leg):
    """playbooks/vars/sandbox.yml, evaluated once for the leg's running sandbox, as literal values."""
    playbook = os.path.join(leg.sandbox_dir, "render-vars.yml")
    with open(playbook, "w") as handle:
        handle.write(RENDER_PLAYBOOK % {"vars": json.dumps(SANDBOX_VARS), "dest": json.dumps(leg.literal_vars)})
    proc = subprocess.run([os.path.join(leg.bin, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=" + leg.python, playbook],
                          env=playbook_env(leg), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit("could not evaluate %s" % SANDBOX_VARS)
    return leg.literal_vars


def write_inventory(leg, path, n, env):
    lines = ["[tracking_domains]"]
    lines += ["links%d.%s" % (i, env["SANDBOX_ZONE"]) for i in range(1, n + 1)]
    lines += ["", "[tracking_domains:vars]", "ansible_connection=local",
              "ansible_python_interpreter=%s" % leg.python]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def load_average():
    return round(os.getloadavg()[0], 2)


def requests_per_domain(by_service, n):
    return {service: round(count / float(n), 2) for service, count in sorted(by_service.items())}


def stats_delta(before, after):
    """Requests the emulator received between two /_sandbox/stats answers: total, per service, per service:action."""
    old = before.get("actions") or {}
    actions = {k: v - old.get(k, 0) for k, v in (after.get("actions") or {}).items() if v - old.get(k, 0)}
    services = {}
    for key, count in actions.items():
        service = key.split(":", 1)[0]
        services[service] = services.get(service, 0) + count
    return {"total": after["total"] - before["total"], "services": services, "actions": actions}


def run_ours_once(leg, inventory, n, env, label, outdir, vars_file, extra_env=None):
    stats_url = env["SANDBOX_AWS_STATS_URL"]
    before = http_json(stats_url)
    cmd = [os.path.join(leg.bin, "ansible-playbook"), "-i", inventory, "-f", str(min(n, 20)),
           "-e", "@" + vars_file, os.path.join(ROOT, "playbooks", "setup_link_domain.yml")]
    run_env = playbook_env(leg, extra_env)
    start = time.monotonic()
    proc = subprocess.run(cmd, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    wall = time.monotonic() - start
    with open(os.path.join(outdir, label + ".log"), "w") as handle:
        handle.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit("our playbook failed (%s leg, %s, rc=%d); see %s" % (leg.name, label, proc.returncode, outdir))
    after = http_json(stats_url)
    return wall, stats_delta(before, after), count_changed(proc.stdout)


def run_ours(leg, n, vars_file, extra_env=None):
    env = read_env_file(leg.sandbox_env)
    http_json(env["SANDBOX_AWS_ENDPOINT"] + "/_sandbox/reset", method="POST")
    outdir = tempfile.mkdtemp(prefix="ours-run.")
    inventory = os.path.join(outdir, "inventory.ini")
    write_inventory(leg, inventory, n, env)
    load_fresh = load_average()
    fresh_wall, fresh_stats, fresh_changed = run_ours_once(leg, inventory, n, env, "fresh", outdir, vars_file, extra_env)
    load_rerun = load_average()
    rerun_wall, rerun_stats, rerun_changed = run_ours_once(leg, inventory, n, env, "rerun", outdir, vars_file, extra_env)
    return {
        "logs": outdir,
        "load_before_fresh": load_fresh,
        "load_before_rerun": load_rerun,
        "fresh_wall_s": fresh_wall,
        "rerun_wall_s": rerun_wall,
        "fresh_changed": fresh_changed,
        "fresh_requests": fresh_stats["total"],
        "rerun_requests": rerun_stats["total"],
        "rerun_requests_detail": {k: v for k, v in rerun_stats.items() if k != "total"},
        "rerun_changed": rerun_changed,
    }


def median(rows, key):
    return statistics.median(row[key] for row in rows)


def verdict(ok):
    return "met" if ok else "NOT met"


def report(leg, n, anchor_rows, our_rows, module_rows):
    for side, rows in (("anchor", anchor_rows), ("ours", our_rows), ("ours-mp", module_rows)):
        if not rows:
            continue
        print("%-6s %-4d %-7s %9.2f %9.2f %9d %9d %10.1f %12d" % (
            leg.name, n, side, median(rows, "fresh_wall_s"), median(rows, "rerun_wall_s"), median(rows, "fresh_requests"),
            median(rows, "rerun_requests"), median(rows, "rerun_requests") / float(n), max(r["rerun_changed"] for r in rows)))
    lines = []
    if our_rows:
        per_domain = max(r["rerun_requests"] for r in our_rows) / float(n)
        changed = max(r["rerun_changed"] for r in our_rows)
        lines.append("%-6s %-4d ours re-run: at most %.1f AWS requests per domain (target <= %d: %s), changed=%d (target 0: %s)" % (
            leg.name, n, per_domain, TARGET_REQUESTS, verdict(per_domain <= TARGET_REQUESTS), changed, verdict(changed == 0)))
    if anchor_rows and our_rows:
        fresh = median(our_rows, "fresh_wall_s") / median(anchor_rows, "fresh_wall_s")
        rerun = median(our_rows, "rerun_wall_s") / median(anchor_rows, "rerun_wall_s")
        lines.append("%-6s %-4d ratios  fresh ours/anchor %.2f (target <= %.2f: %s)  re-run ours/anchor %.2f (target <= %.2f: %s)" % (
            leg.name, n, fresh, TARGET_FRESH, verdict(fresh <= TARGET_FRESH), rerun, TARGET_RERUN, verdict(rerun <= TARGET_RERUN)))
    if anchor_rows and module_rows:
        lines.append("%-6s %-4d ratios  fresh ours-mp/anchor %.2f  re-run ours-mp/anchor %.2f" % (
            leg.name, n, median(module_rows, "fresh_wall_s") / median(anchor_rows, "fresh_wall_s"),
            median(module_rows, "rerun_wall_s") / median(anchor_rows, "rerun_wall_s")))
    return lines


def scaling(leg, results, base=10):
    """Issue 13: at every N above ``base`` ours costs no more per domain than at ``base`` (requests and seconds)."""
    lines = []
    if base not in results or not results[base][leg.name][1]:
        return lines
    ref = results[base][leg.name][1]
    for n in sorted(results):
        rows = results[n][leg.name][1]
        if n <= base or not rows:
            continue
        parts, ok = [], True
        for key, what in (("fresh_requests", "fresh req"), ("rerun_requests", "re-run req"),
                          ("fresh_wall_s", "fresh s"), ("rerun_wall_s", "re-run s")):
            at_n, at_base = median(rows, key) / float(n), median(ref, key) / float(base)
            ok = ok and at_n <= at_base
            parts.append("%s %.2f (N=%d: %.2f)" % (what, at_n, base, at_base))
        lines.append("%-6s %-4d ours per domain: %s (target: none higher than at N=%d: %s)" % (
            leg.name, n, ", ".join(parts), base, verdict(ok)))
    return lines


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--leg", nargs="+", choices=sorted(LEG_VENVS), default=["oldest"],
                        help="the Ansible line(s) to run on (tests/bin/legs.sh); several are interleaved within each round")
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--time-scale", type=float, default=0.1,
                        help="SANDBOX_AWS_TIME_SCALE of our sandbox (AWS's ordering always holds; default 0.1)")
    parser.add_argument("--anchor-dir", default=os.path.join(os.path.dirname(ROOT), "shared", "anchor-benchmark"))
    parser.add_argument("--skip-anchor", action="store_true", help="measure ours only")
    parser.add_argument("--lookup-vars", action="store_true",
                        help="pass playbooks/vars/sandbox.yml (env-file lookups) instead of its values as literals")
    parser.add_argument("--module-process", action="store_true",
                        help="also run ours with LINKTRACK_HTTPS_IN_PROCESS=false (modules as processes), interleaved")
    args = parser.parse_args(argv)
    legs = [Leg(name, i, args.time_scale) for i, name in enumerate(dict.fromkeys(args.leg))]
    print("command: %s %s" % (os.path.relpath(__file__, ROOT), " ".join(argv)))
    print("load average before: %s (%d CPUs)" % (" ".join("%.2f" % x for x in os.getloadavg()), os.cpu_count() or 0))
    print("our sandbox: SANDBOX_AWS_BEHAVIOUR=aws SANDBOX_AWS_TIME_SCALE=%s" % args.time_scale)
    for leg in legs:
        print("leg %s: %s (%s)" % (leg.name, leg.versions(), leg.venv))
    if not args.skip_anchor:
        if not os.path.exists(os.path.join(args.anchor_dir, "run.sh")):
            raise SystemExit("anchor not found in %s (use --anchor-dir or --skip-anchor)" % args.anchor_dir)
        for leg in legs:
            leg.make_anchor_venv()
        print("anchor: %s, awscli from %s" % (args.anchor_dir, AWSCLI_VENV))
    results = {}
    vars_files = {}
    try:
        for leg in legs:
            leg.sandbox("up")
            vars_files[leg.name] = SANDBOX_VARS if args.lookup_vars else render_literal_vars(leg)
        for n in args.n:
            rows = {leg.name: ([], [], []) for leg in legs}
            for rnd in range(1, args.rounds + 1):
                for leg in legs:
                    anchor_rows, our_rows, module_rows = rows[leg.name]
                    if not args.skip_anchor:
                        log("%s N=%d round %d: anchor (load %.2f)" % (leg.name, n, rnd, load_average()))
                        anchor_rows.append(run_anchor(leg, args.anchor_dir, n))
                    log("%s N=%d round %d: ours (load %.2f)" % (leg.name, n, rnd, load_average()))
                    our_rows.append(run_ours(leg, n, vars_files[leg.name]))
                    if args.module_process:
                        log("%s N=%d round %d: ours, modules as processes (load %.2f)" % (leg.name, n, rnd, load_average()))
                        module_rows.append(run_ours(leg, n, vars_files[leg.name], {"LINKTRACK_HTTPS_IN_PROCESS": "false"}))
            results[n] = rows
    finally:
        for leg in legs:
            if leg.up:
                leg.sandbox("down")

    print("\nmedians over %d round(s), interleaved; requests = HTTP requests the emulator received" % args.rounds)
    print("sides: anchor = standard modules; ours = our role (modules in the worker process);"
          " ours-mp = our role with LINKTRACK_HTTPS_IN_PROCESS=false")
    columns = ("leg", "N", "side", "fresh_s", "rerun_s", "fresh_req", "rerun_req", "req/domain", "rerun_chg")
    print("%-6s %-4s %-7s %9s %9s %9s %9s %10s %12s" % columns)
    verdicts = []
    for n, rows in results.items():
        for leg in legs:
            verdicts += report(leg, n, *rows[leg.name])
    for leg in legs:
        verdicts += scaling(leg, results)
    print("\n".join(verdicts))
    for n, rows in results.items():
        for leg in legs:
            for row in rows[leg.name][1]:
                print("%-6s %-4d ours re-run requests per domain by service: %s" % (
                    leg.name, n, json.dumps({k: requests_per_domain(v, n) for k, v in row["rerun_requests_detail"].items()},
                                            sort_keys=True)))
    print("load average after: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    print("raw: %s" % json.dumps({str(n): {leg: {"anchor": v[0], "ours": v[1], "ours-mp": v[2]} for leg, v in rows.items()}
                                  for n, rows in results.items()}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
