# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Show that forked workers inherit what the collection's action plugins import.

usage: inherit_probe.py [--hosts N]

Writes a throwaway playbook and a probe action plugin to a temporary directory
and runs it on N local hosts (default 3). The probe runs inside a worker
process and reports which of boto3, botocore, dnspython and cryptography were
already imported there, and how long importing them and building a boto3 ACM
client (no request is sent) took in that worker. The play is:

1. the probe, before any task of the collection has been loaded;
2. three tasks of the collection that need no sandbox (tls_sni_check against
   a closed loopback port with fail_on_error false; acm_dns_certificate with a
   region and dns_record_wait with a server they refuse before any request),
   which make the strategy load their action plugins in the main process;
3. the probe again.

Each worker is a new fork of the main process, so if the libraries show as
already imported in step 3 (and cost nothing to import), they came from the
main process, not from the worker of step 2. It prints one line per host and
step, then the medians.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, ".venv")

PROBE = '''
import sys
import time

from ansible.plugins.action import ActionBase

LIBRARIES = ("boto3", "botocore.session", "dns.resolver", "cryptography.x509")


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        present = dict((name, name in sys.modules) for name in LIBRARIES)
        start = time.monotonic()
        import boto3
        import botocore.session
        import cryptography.x509
        import dns.resolver
        imported = time.monotonic() - start
        from ansible_collections.linktrack.https.plugins.plugin_utils._inprocess import build_client
        start = time.monotonic()
        build_client("acm", "us-east-1", "http://127.0.0.1:9", dict(aws_access_key_id="a", aws_secret_access_key="b"))
        client = time.monotonic() - start
        return dict(changed=False, already_imported=present, import_seconds=round(imported, 4),
                    acm_client_seconds=round(client, 4))
'''

PLAYBOOK = '''
- name: Do forked workers inherit the collection's imports?
  hosts: all
  gather_facts: false
  tasks:
    - name: Probe before any task of the collection was loaded
      linktrack_probe:
      register: before

    - name: A task of the collection (its action plugin is loaded in the main process)
      linktrack.https.tls_sni_check:
        server_name: links.example.com
        connect_host: 127.0.0.1
        port: %(port)d
        timeout: 1
        fail_on_error: false

    - name: An AWS task of the collection (refused before any request; its action plugin loads ACM's data)
      linktrack.https.acm_dns_certificate:
        domain_name: links.example.com
        region: eu-west-1
      ignore_errors: true

    - name: A DNS task of the collection (refused before any question)
      linktrack.https.dns_record_wait:
        name: links.example.com
        type: CNAME
        servers: ["not a server:99999"]
      ignore_errors: true

    - name: Probe again
      linktrack_probe:
      register: after

    - name: Report
      ansible.builtin.debug:
        msg: "PROBE {{ {'host': inventory_hostname, 'before': before, 'after': after} | to_json }}"
'''


def closed_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=3)
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="inherit-probe.")
    os.makedirs(os.path.join(work, "action_plugins"))
    with open(os.path.join(work, "action_plugins", "linktrack_probe.py"), "w") as handle:
        handle.write(PROBE)
    with open(os.path.join(work, "playbook.yml"), "w") as handle:
        handle.write(PLAYBOOK % {"port": closed_port()})
    with open(os.path.join(work, "inventory.ini"), "w") as handle:
        handle.write("\n".join("probe%d ansible_connection=local ansible_python_interpreter=%s" % (i, os.path.join(VENV, "bin", "python"))
                               for i in range(1, args.hosts + 1)) + "\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"), ANSIBLE_NOCOLOR="1",
               PATH=os.path.join(VENV, "bin") + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([os.path.join(VENV, "bin", "ansible-playbook"), "-i", "inventory.ini", "-f", str(args.hosts), "playbook.yml"],
                          cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        return proc.returncode
    rows = [json.loads(match) for match in re.findall(r'"msg": "PROBE (.*)"', proc.stdout.replace('\\"', '"'))]
    columns = {"before": {"import": [], "client": []}, "after": {"import": [], "client": []}}
    for row in rows:
        for step in ("before", "after"):
            probe = row[step]
            columns[step]["import"].append(probe["import_seconds"])
            columns[step]["client"].append(probe["acm_client_seconds"])
            print("%-8s %-6s already imported: %s; import %.3f s; ACM client %.3f s" % (
                row["host"], step, ", ".join("%s=%s" % item for item in sorted(probe["already_imported"].items())),
                probe["import_seconds"], probe["acm_client_seconds"]))
    for step in ("before", "after"):
        print("median %-6s import %.3f s, ACM client %.3f s (load %.2f)" % (
            step, statistics.median(columns[step]["import"]), statistics.median(columns[step]["client"]), os.getloadavg()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
