# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the reliability suite: sandbox settings, counters, DNS, running Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
COLLECTIONS = os.path.join(ROOT, ".tmp", "collections")
PLAYBOOK = os.path.join(ROOT, "playbooks", "setup_link_domain.yml")
SANDBOX_VARS = os.path.join(ROOT, "playbooks", "vars", "sandbox.yml")
# longer deadlines for the suite's runs (see the file)
PATIENT_VARS = os.path.join(ROOT, "tests", "reliability", "vars", "patient.yml")

sys.path.insert(0, os.path.join(ROOT, "sandbox"))
from linktrack_sandbox.envfile import read_env_file  # noqa: E402  pylint: disable=wrong-import-position


def sandbox_var_args():
    """``-e`` arguments that point the setup playbook at the sandbox, with the suite's longer deadlines."""
    return ["-e", "@" + SANDBOX_VARS, "-e", "@" + PATIENT_VARS]


def collection_import(name):
    """Import ``plugins/module_utils/<name>`` of the checkout (through the collections path)."""
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    return importlib.import_module("ansible_collections.linktrack.https.plugins.module_utils.%s" % name)


def sandbox_env_file():
    return os.environ.get("SANDBOX_ENV_FILE") or os.path.join(ROOT, "sandbox", "sandbox.env")


def http_json(url, method="GET", data=None, timeout=30):
    if isinstance(data, (dict, list)):
        data = json.dumps(data).encode()
    request = urllib.request.Request(url, method=method, data=data if data is not None else (b"" if method == "POST" else None))
    with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec - loopback only
        body = response.read()
    return json.loads(body) if body else {}


class Sandbox:
    """The running sandbox, read from its env file."""

    def __init__(self, env_file=None):
        self.env_file = env_file or sandbox_env_file()
        self.env = read_env_file(self.env_file)
        self.aws = self.env["SANDBOX_AWS_ENDPOINT"]
        self.stats_url = self.env["SANDBOX_AWS_STATS_URL"]
        self.zone = self.env.get("SANDBOX_ZONE", "example.com")

    def __getitem__(self, key):
        return self.env[key]

    def stats(self):
        return http_json(self.stats_url)

    def reset(self):
        """Empty the emulator (zone re-created, counters zeroed)."""
        return http_json(self.aws + "/_sandbox/reset", "POST")

    def client(self, service, endpoint=None):
        import boto3
        from botocore.config import Config

        return boto3.client(
            service, endpoint_url=endpoint or self.aws, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )

    # ---- BIND ------------------------------------------------------------

    def bind_query(self, name, rdtype="SOA"):
        """BIND's records of type ``rdtype`` at ``name``, as sorted strings (empty when none)."""
        import dns.message
        import dns.query
        import dns.rcode

        query = dns.message.make_query(name, rdtype)
        answer = dns.query.tcp(query, self.env["SANDBOX_DNS_SERVER"], port=int(self.env["SANDBOX_DNS_PORT"]), timeout=5)
        return _answers(answer, name, rdtype)

    def bind_axfr(self):
        """The whole BIND zone (TSIG-signed AXFR) as sorted text lines."""
        import dns.query
        import dns.tsig
        import dns.tsigkeyring
        import dns.zone

        keyring = dns.tsigkeyring.from_text({self.env["SANDBOX_TSIG_KEY_NAME"]: self.env["SANDBOX_TSIG_SECRET"]})
        algorithm = dns.name.from_text(self.env["SANDBOX_TSIG_ALGORITHM"])
        zone = dns.zone.from_xfr(dns.query.xfr(
            self.env["SANDBOX_DNS_SERVER"], self.zone, port=int(self.env["SANDBOX_DNS_PORT"]),
            keyring=keyring, keyname=self.env["SANDBOX_TSIG_KEY_NAME"], keyalgorithm=algorithm, timeout=10,
        ))
        return sorted(zone.to_text().splitlines())

    def r53_query(self, name, rdtype):
        import dns.message
        import dns.query

        query = dns.message.make_query(name, rdtype)
        answer = dns.query.udp(query, self.env["SANDBOX_R53_DNS_SERVER"], port=int(self.env["SANDBOX_R53_DNS_PORT"]),
                               timeout=2)
        return _answers(answer, name, rdtype)


def _answers(message, name, rdtype):
    """The records of type ``rdtype`` owned by ``name`` in a DNS answer, as sorted text (a CNAME to follow is not one)."""
    import dns.name
    import dns.rdatatype

    wanted_type = dns.rdatatype.from_text(rdtype)
    owner = dns.name.from_text(name)
    out = []
    for rrset in message.answer:
        if rrset.rdtype == wanted_type and rrset.name == owner:
            out.extend(r.to_text() for r in rrset)
    return sorted(out)


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        "PATH": VENV_BIN + os.pathsep + env.get("PATH", ""),
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": os.path.join(VENV_BIN, "python"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update(extra or {})
    return env


def run(cmd, env=None, timeout=600, cwd=ROOT):
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def write_temp(text, suffix=".yml", directory=None):
    handle = tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, dir=directory)
    with handle:
        handle.write(text)
    return handle.name
