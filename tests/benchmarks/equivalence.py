# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run integration targets twice, in the worker process and as module processes, and compare.

usage: equivalence.py --tree DIR [--python 3.11] [--keep DIR] TARGET [TARGET ...]

DIR is an ansible-test tree of the collection (tests/bin/sync-test-tree.sh)
whose tests/integration/integration_config.yml points at a sandbox. Each target
runs with ``ansible-test integration --local -vvvv`` twice: once as it is (the
collection's action plugins run the modules inside the worker process), once
with ``linktrack_https_in_process: false`` added to the integration config (the
action plugins run the modules as processes, as before). Both runs must pass.

Then the task results printed by the default callback are compared, task by
task and loop item by loop item: the status (ok, changed, failed, skipped) and
the ``changed``, ``failed`` and ``skipped`` flags of every task; for the tasks of
the collection's modules also every key path of the result with the type of its
value, and ``msg`` with numbers and the target's random names masked. The one
key left out is ``invocation``: AnsibleModule adds it to a module's result
(ansible-core 2.19), the action plugins return the result that ``run_module``
built and add nothing. The -vvvv lines of the action plugins prove which path
each run took. It prints one line per target and exits 1 on any difference.

Run it with each leg's virtual environment first on PATH (its ansible-test) and
the tree that ``tests/bin/sync-test-tree.sh LEG`` made for that leg:
``--python 3.11`` for the oldest leg, ``--python 3.12`` for the newest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

RESULT_RE = re.compile(r"^(ok|changed|skipping|failed|fatal): \[([^\]]+)\](?:: FAILED!)?(?: =>)? ?(?:\(item=(.*?)\))? => (.*)$")
TASK_RE = re.compile(r"^TASK \[(.*)\] \**$")
IN_PROCESS_RE = re.compile(r"^linktrack\.https: (\S+) runs inside the worker process")
MODULE_PROCESS_RE = re.compile(r"^linktrack\.https: (\S+) runs as a module process: (.*)$")
RANDOM_FACT_RE = re.compile(r"[a-z0-9]{8,}")
NUMBERISH_RE = re.compile(r"[A-Za-z0-9_.:/+=-]*[0-9][A-Za-z0-9_.:/+=-]*")


def parse_output(text):
    """Task results from default-callback output: a list of dicts (task, host, item, status, result)."""
    results = []
    task = None
    ours = False  # an action plugin of the collection said which way it runs since the last result
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        match = TASK_RE.match(line)
        if match:
            task = match.group(1)
            ours = False
            continue
        if IN_PROCESS_RE.match(line) or MODULE_PROCESS_RE.match(line):
            ours = True
            continue
        match = RESULT_RE.match(line)
        if not match or task is None:
            continue
        status, host, item, rest = match.groups()
        buffer = rest
        result = None
        while True:
            try:
                result = json.loads(buffer)
                break
            except ValueError:
                if index >= len(lines) or len(buffer) > 5000000:
                    break
                buffer += "\n" + lines[index]
                index += 1
        if status == "fatal":
            status = "failed"
        results.append(dict(task=task, host=host, item=item, status=status, result=result, ours=ours))
        ours = False
    return results


def paths(value, tokens, prefix=""):
    """Every key path of ``value`` with the type of what it holds (random names in keys masked)."""
    out = set()
    if isinstance(value, dict):
        out.add((prefix or ".", "dict"))
        for key, sub in value.items():
            out |= paths(sub, tokens, "%s.%s" % (prefix, mask(key, tokens)))
    elif isinstance(value, list):
        out.add((prefix, "list"))
        for sub in value:
            out |= paths(sub, tokens, prefix + "[]")
    else:
        out.add((prefix, type(value).__name__))
    return out


def random_tokens(first, second):
    """The target's random names: tokens that differ between the runs' first set_fact results."""
    mapping = ({}, {})
    for a, b in zip(first, second):
        facts_a = (a["result"] or {}).get("ansible_facts") or {}
        facts_b = (b["result"] or {}).get("ansible_facts") or {}
        for key in set(facts_a) & set(facts_b):
            tokens_a = RANDOM_FACT_RE.findall(str(facts_a[key]))
            tokens_b = RANDOM_FACT_RE.findall(str(facts_b[key]))
            for ta, tb in zip(tokens_a, tokens_b):
                if ta != tb:
                    mapping[0][ta] = mapping[1][tb] = True
    return mapping


def mask(text, tokens):
    """``text`` with the run's random names and every word that holds a digit masked.

    A random name becomes a word with a digit first, so that the word around it
    is masked whole on both sides, whether or not the name itself has digits.
    """
    text = str(text)
    for token in tokens:
        text = re.sub(re.escape(token), "0random0", text, flags=re.IGNORECASE)
    return NUMBERISH_RE.sub("#", text)


def normalized(value, tokens):
    """``value`` with strings masked and numbers reduced to their type, for comparing two runs."""
    if isinstance(value, dict):
        return dict((mask(k, tokens), normalized(v, tokens)) for k, v in value.items())
    if isinstance(value, list):
        return [normalized(v, tokens) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return "<%s>" % type(value).__name__
    return mask(value, tokens)


# what AnsibleModule adds to a module's result and an action plugin does not build
MODULE_ONLY_KEYS = ("invocation",)


def without_module_keys(result):
    """``result`` without ``MODULE_ONLY_KEYS`` (``None`` stays ``None``)."""
    if not isinstance(result, dict):
        return result
    return dict((k, v) for k, v in result.items() if k not in MODULE_ONLY_KEYS)


def compare(first, second):
    """Differences between two parsed runs, as readable lines."""
    problems = []
    compared = [0]
    if len(first) != len(second):
        problems.append("%d task results in process, %d as module processes" % (len(first), len(second)))
    tokens = random_tokens(first, second)
    for a, b in zip(first, second):
        where = "%s [%s]%s" % (a["task"], a["host"], " (item=%s)" % mask(a["item"], tokens[0]) if a["item"] else "")
        if (a["task"], a["host"]) != (b["task"], b["host"]):
            problems.append("task order differs: %r vs %r" % (a["task"], b["task"]))
            break
        if a["status"] != b["status"]:
            problems.append("%s: status %s in process, %s as a module" % (where, a["status"], b["status"]))
        ra, rb = without_module_keys(a["result"]), without_module_keys(b["result"])
        if (ra is None) != (rb is None):
            problems.append("%s: a result on one side only" % where)
            continue
        if ra is None:
            continue
        for flag in ("changed", "failed", "skipped"):
            if ra.get(flag) != rb.get(flag):
                problems.append("%s: %s %r in process, %r as a module" % (where, flag, ra.get(flag), rb.get(flag)))
        if a["ours"] != b["ours"]:
            problems.append("%s: a task of the collection on one side only" % where)
        if not a["ours"]:
            continue  # another module (uri, assert...): its values depend on the emulator's history
        compared[0] += 1
        pa, pb = paths(ra, tokens[0]), paths(rb, tokens[1])
        if pa != pb:
            problems.append("%s: result keys differ: only in process %s; only as a module %s"
                            % (where, sorted(pa - pb), sorted(pb - pa)))
        if "msg" in ra and "msg" in rb and mask(ra["msg"], tokens[0]) != mask(rb["msg"], tokens[1]):
            problems.append("%s: msg differs:\n    in process: %s\n    as a module: %s" % (where, ra["msg"], rb["msg"]))
        elif pa == pb and normalized(ra, tokens[0]) != normalized(rb, tokens[1]):
            na, nb = normalized(ra, tokens[0]), normalized(rb, tokens[1])
            keys = sorted(k for k in set(na) | set(nb) if na.get(k) != nb.get(k))
            problems.append("%s: values differ (numbers and words with digits masked) under %s" % (where, keys))
    return problems, compared[0]


def run_target(tree, target, python, in_process, keep):
    config = os.path.join(tree, "tests", "integration", "integration_config.yml")
    with open(config) as handle:
        original = handle.read()
    try:
        if not in_process:
            with open(config, "w") as handle:
                handle.write(original.rstrip("\n") + "\nlinktrack_https_in_process: false\n")
        proc = subprocess.run(["ansible-test", "integration", "--local", "--python", python, target, "-vvvv"],
                              cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    finally:
        with open(config, "w") as handle:
            handle.write(original)
    label = "%s.%s.log" % (target, "in-process" if in_process else "module")
    with open(os.path.join(keep, label), "w") as handle:
        handle.write(proc.stdout)
    lines = proc.stdout.splitlines()
    inside = sum(1 for line in lines if IN_PROCESS_RE.match(line))
    outside = sum(1 for line in lines if MODULE_PROCESS_RE.match(line))
    return proc.returncode, parse_output(proc.stdout), inside, outside


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--tree", required=True)
    parser.add_argument("--python", default="3.11")
    parser.add_argument("--keep", help="directory for the logs (default: a new temporary one)")
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args(argv)
    keep = args.keep or tempfile.mkdtemp(prefix="equivalence.")
    os.makedirs(keep, exist_ok=True)
    if not shutil.which("ansible-test"):
        raise SystemExit("ansible-test is not on PATH (put the virtual environment's bin/ first)")
    failed = False
    for target in args.targets:
        rc_a, first, inside_a, outside_a = run_target(args.tree, target, args.python, True, keep)
        rc_b, second, inside_b, outside_b = run_target(args.tree, target, args.python, False, keep)
        problems, ours = compare(first, second)
        if rc_a != 0 or rc_b != 0:
            problems.insert(0, "ansible-test exit codes: %d in process, %d as module processes" % (rc_a, rc_b))
        if inside_a == 0 or outside_a != 0:
            problems.append("the default run did not run every task in the worker process (%d inside, %d outside)" % (inside_a, outside_a))
        if inside_b != 0 or outside_b == 0:
            problems.append("the module run did not run every task as a process (%d inside, %d outside)" % (inside_b, outside_b))
        print("%-30s %s: %d task results compared, %d of them of the collection's modules in full; "
              "collection tasks %d in process / %d as module processes"
              % (target, "SAME" if not problems else "DIFFERENT", min(len(first), len(second)), ours, inside_a, outside_b))
        for problem in problems:
            print("    " + problem)
        failed = failed or bool(problems)
    print("logs: %s" % keep)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
