# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: our setup playbook against the anchor (standard modules), interleaved.

usage: bench.py [--n N ...] [--rounds R] [--anchor-dir DIR] [--skip-anchor] [--module-process]

For every N (default 1 10 50) and round it runs, in this order, the anchor's
`run.sh N` (../shared/anchor-benchmark: community.aws/amazon.aws modules plus
awscli against a plain moto_server) and our `playbooks/setup_link_domain.yml`
for the same N domains against our sandbox: a fresh run, then a re-run. The
machines are noisy, so the two are interleaved (anchor, ours, anchor, ours) and
medians are compared. It prints, for each side: wall seconds of the fresh run
and of the re-run, the AWS API requests the emulator received during each, and
the `changed` task results of the re-run; then the ratios ours/anchor and the
per-domain request cost. Our figures include steps 4 and 6 (TLS check and the
end-to-end check), which the anchor skips.

Our playbook gets the sandbox's settings as extra vars. By default the bench
evaluates playbooks/vars/sandbox.yml once (with Ansible, after the sandbox is
up) and passes the values it gives as literals, as an inventory would; with
--lookup-vars it passes playbooks/vars/sandbox.yml itself, whose values read
and parse the sandbox's env file each time a task uses one (about 15 % slower
at N=10; the anchor gets literal values too).

With --module-process a third side runs in each round, after ours: the same
playbook with LINKTRACK_HTTPS_IN_PROCESS=false, so that the collection's
modules run as module processes instead of inside Ansible's worker processes
(the figures before the action plugins, measured in the same conditions).
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
VENV = os.path.join(ROOT, ".venv")
ANCHOR_VENV = os.path.join(ROOT, ".tmp", "anchor-venv")
SANDBOX_DIR = os.path.join(ROOT, ".tmp", "bench-sandbox")
SANDBOX_ENV = os.path.join(SANDBOX_DIR, "sandbox.env")
SANDBOX_VARS = os.path.join(ROOT, "playbooks", "vars", "sandbox.yml")
LITERAL_VARS = os.path.join(SANDBOX_DIR, "sandbox-vars.yml")

sys.path.insert(0, os.path.join(ROOT, "tests", "sandbox"))
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
SANDBOX_PORT_BASE = os.environ.get("BENCH_SANDBOX_PORT_BASE", "18000")
ANCHOR_PORT = os.environ.get("BENCH_ANCHOR_PORT", "5555")


def log(msg):
    print("[bench] %s" % msg, file=sys.stderr, flush=True)


def sandbox(action):
    env = dict(os.environ, SANDBOX_PORT_BASE=SANDBOX_PORT_BASE, SANDBOX_STATE_DIR=SANDBOX_DIR, SANDBOX_ENV_FILE=SANDBOX_ENV)
    subprocess.check_call([os.path.join(VENV, "bin", "python"), os.path.join(ROOT, "tests", "sandbox", "sandbox.py"), action],
                          env=env, stdout=sys.stderr)


def http_json(url, method="GET"):
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as response:  # nosec - loopback sandbox only
        body = response.read()
    return json.loads(body) if body else {}


def ensure_anchor_venv():
    if os.path.exists(os.path.join(ANCHOR_VENV, "bin", "aws")):
        return
    log("creating the anchor's virtual environment in %s (once)" % ANCHOR_VENV)
    subprocess.check_call([sys.executable, "-m", "venv", ANCHOR_VENV])
    subprocess.check_call([os.path.join(ANCHOR_VENV, "bin", "pip"), "install", "-q",
                           "ansible", "boto3", "moto[server]", "awscli", "dnspython"], stdout=sys.stderr)


def count_changed(output):
    """Changed task results in default-callback output (the anchor's count_changed.awk, in Python)."""
    return sum(1 for line in output.splitlines() if line.startswith("changed: ["))


def run_anchor(anchor_dir, n):
    out = tempfile.mkdtemp(prefix="anchor-run.")
    load = load_average()
    env = dict(os.environ, ANCHOR_VENV=ANCHOR_VENV, ANCHOR_PORT=ANCHOR_PORT, ANCHOR_OUT=out)
    text = subprocess.check_output(["sh", os.path.join(anchor_dir, "run.sh"), str(n)], env=env, stderr=subprocess.STDOUT,
                                   universal_newlines=True)
    figures = dict(re.findall(r"(\w+)=([0-9.]+)", text))
    return {
        "load_before": load,
        "fresh_wall_s": float(figures["fresh_wall_s"]),
        "rerun_wall_s": float(figures["rerun_wall_s"]),
        "fresh_requests": int(figures["fresh_requests"]),
        "rerun_requests": int(figures["rerun_requests"]),
        "rerun_changed": int(figures["rerun_changed_results"]),
    }


def playbook_env(extra_env=None):
    run_env = dict(os.environ, SANDBOX_ENV_FILE=SANDBOX_ENV, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"),
                   PATH=os.path.join(VENV, "bin") + os.pathsep + os.environ.get("PATH", ""))
    run_env.update(extra_env or {})
    return run_env


def render_literal_vars():
    """playbooks/vars/sandbox.yml, evaluated once for the running sandbox, as literal values."""
    playbook = os.path.join(SANDBOX_DIR, "render-vars.yml")
    with open(playbook, "w") as handle:
        handle.write(RENDER_PLAYBOOK % {"vars": json.dumps(SANDBOX_VARS), "dest": json.dumps(LITERAL_VARS)})
    proc = subprocess.run([os.path.join(VENV, "bin", "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=" + os.path.join(VENV, "bin", "python"), playbook],
                          env=playbook_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit("could not evaluate %s" % SANDBOX_VARS)
    return LITERAL_VARS


def write_inventory(path, n, env):
    lines = ["[tracking_domains]"]
    lines += ["links%d.%s" % (i, env["SANDBOX_ZONE"]) for i in range(1, n + 1)]
    lines += ["", "[tracking_domains:vars]", "ansible_connection=local",
              "ansible_python_interpreter=%s" % os.path.join(VENV, "bin", "python")]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def load_average():
    return round(os.getloadavg()[0], 2)


def run_ours_once(inventory, n, env, label, outdir, vars_file, extra_env=None):
    stats_url = env["SANDBOX_AWS_STATS_URL"]
    before = http_json(stats_url)
    cmd = [os.path.join(VENV, "bin", "ansible-playbook"), "-i", inventory, "-f", str(min(n, 20)),
           "-e", "@" + vars_file, os.path.join(ROOT, "playbooks", "setup_link_domain.yml")]
    run_env = playbook_env(extra_env)
    start = time.monotonic()
    proc = subprocess.run(cmd, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    wall = time.monotonic() - start
    with open(os.path.join(outdir, label + ".log"), "w") as handle:
        handle.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit("our playbook failed (%s, rc=%d); see %s" % (label, proc.returncode, outdir))
    after = http_json(stats_url)
    return wall, after["total"] - before["total"], count_changed(proc.stdout)


def run_ours(n, vars_file, extra_env=None):
    env = read_env_file(SANDBOX_ENV)
    http_json(env["SANDBOX_AWS_ENDPOINT"] + "/_sandbox/reset", method="POST")
    outdir = tempfile.mkdtemp(prefix="ours-run.")
    inventory = os.path.join(outdir, "inventory.ini")
    write_inventory(inventory, n, env)
    load_fresh = load_average()
    fresh_wall, fresh_requests, fresh_changed = run_ours_once(inventory, n, env, "fresh", outdir, vars_file, extra_env)
    load_rerun = load_average()
    rerun_wall, rerun_requests, rerun_changed = run_ours_once(inventory, n, env, "rerun", outdir, vars_file, extra_env)
    return {
        "load_before_fresh": load_fresh,
        "load_before_rerun": load_rerun,
        "fresh_wall_s": fresh_wall,
        "rerun_wall_s": rerun_wall,
        "fresh_changed": fresh_changed,
        "fresh_requests": fresh_requests,
        "rerun_requests": rerun_requests,
        "rerun_changed": rerun_changed,
    }


def median(rows, key):
    return statistics.median(row[key] for row in rows)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--anchor-dir", default=os.path.join(os.path.dirname(ROOT), "shared", "anchor-benchmark"))
    parser.add_argument("--skip-anchor", action="store_true", help="measure ours only")
    parser.add_argument("--lookup-vars", action="store_true",
                        help="pass playbooks/vars/sandbox.yml (env-file lookups) instead of its values as literals")
    parser.add_argument("--module-process", action="store_true",
                        help="also run ours with LINKTRACK_HTTPS_IN_PROCESS=false (modules as processes), interleaved")
    args = parser.parse_args(argv)
    print("command: %s %s" % (os.path.relpath(__file__, ROOT), " ".join(argv)))
    print("load average before: %s (%d CPUs)" % (" ".join("%.2f" % x for x in os.getloadavg()), os.cpu_count() or 0))
    if not args.skip_anchor:
        if not os.path.exists(os.path.join(args.anchor_dir, "run.sh")):
            raise SystemExit("anchor not found in %s (use --anchor-dir or --skip-anchor)" % args.anchor_dir)
        ensure_anchor_venv()
    sandbox("up")
    results = {}
    try:
        vars_file = SANDBOX_VARS if args.lookup_vars else render_literal_vars()
        print("our extra vars: %s" % os.path.relpath(vars_file, ROOT))
        for n in args.n:
            anchor_rows, our_rows, module_rows = [], [], []
            for rnd in range(1, args.rounds + 1):
                if not args.skip_anchor:
                    log("N=%d round %d: anchor (load %.2f)" % (n, rnd, load_average()))
                    anchor_rows.append(run_anchor(args.anchor_dir, n))
                log("N=%d round %d: ours (load %.2f)" % (n, rnd, load_average()))
                our_rows.append(run_ours(n, vars_file))
                if args.module_process:
                    log("N=%d round %d: ours, modules as processes (load %.2f)" % (n, rnd, load_average()))
                    module_rows.append(run_ours(n, vars_file, {"LINKTRACK_HTTPS_IN_PROCESS": "false"}))
            results[n] = (anchor_rows, our_rows, module_rows)
    finally:
        sandbox("down")

    print("\nmedians over %d round(s), interleaved; requests = HTTP requests the emulator received" % args.rounds)
    print("sides: anchor = standard modules; ours = our role (modules in the worker process);"
          " ours-mp = our role with LINKTRACK_HTTPS_IN_PROCESS=false")
    header = "%-4s %-7s %9s %9s %9s %9s %10s %12s" % ("N", "side", "fresh_s", "rerun_s", "fresh_req", "rerun_req", "req/domain", "rerun_chg")
    print(header)
    for n, (anchor_rows, our_rows, module_rows) in results.items():
        for side, rows in (("anchor", anchor_rows), ("ours", our_rows), ("ours-mp", module_rows)):
            if not rows:
                continue
            print("%-4d %-7s %9.2f %9.2f %9d %9d %10.1f %12d" % (
                n, side, median(rows, "fresh_wall_s"), median(rows, "rerun_wall_s"), median(rows, "fresh_requests"),
                median(rows, "rerun_requests"), median(rows, "rerun_requests") / float(n), max(r["rerun_changed"] for r in rows)))
        if anchor_rows and our_rows:
            print("%-4d ratios  fresh ours/anchor %.2f (target <= 0.6)  rerun ours/anchor %.2f (target <= 0.4)" % (
                n, median(our_rows, "fresh_wall_s") / median(anchor_rows, "fresh_wall_s"),
                median(our_rows, "rerun_wall_s") / median(anchor_rows, "rerun_wall_s")))
        if anchor_rows and module_rows:
            print("%-4d ratios  fresh ours-mp/anchor %.2f  rerun ours-mp/anchor %.2f" % (
                n, median(module_rows, "fresh_wall_s") / median(anchor_rows, "fresh_wall_s"),
                median(module_rows, "rerun_wall_s") / median(anchor_rows, "rerun_wall_s")))
    print("load average after: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    print("raw: %s" % json.dumps({str(k): {"anchor": v[0], "ours": v[1], "ours-mp": v[2]} for k, v in results.items()},
                                 sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
