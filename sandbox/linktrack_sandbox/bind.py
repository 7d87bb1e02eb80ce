# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""BIND 9 for the sandbox: configuration, zone file and TSIG key.

named serves the sandbox zone on 127.0.0.1 only, accepts RFC 2136 updates signed
with the sandbox TSIG key (unsigned ones are REFUSED) and does no recursion.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shutil
import subprocess

from .settings import TSIG_ALGORITHM, TSIG_KEY_NAME

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
_SECRET = re.compile(r'secret\s+"([^"]+)"')


class BindError(Exception):
    """BIND cannot be set up (a program is missing or failed)."""


def find_program(name, package):
    """The path of a BIND program, or a BindError saying which Debian package provides it."""
    path = shutil.which(name, path=SEARCH_PATH)
    if not path:
        raise BindError(
            "%s is not installed. Install the Debian package %s (sudo apt-get install -y bind9 bind9-utils bind9-dnsutils) "
            "or run: bash tests/bin/bootstrap.sh" % (name, package))
    return path


def ensure_tsig_key(key_path):
    """Make the TSIG key once per state directory (tsig-keygen); returns its base64 secret."""
    if not os.path.exists(key_path):
        keygen = find_program("tsig-keygen", "bind9-utils")
        proc = subprocess.run([keygen, "-a", TSIG_ALGORITHM, TSIG_KEY_NAME], capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not _SECRET.search(proc.stdout):
            raise BindError("tsig-keygen failed (exit %d): %s" % (proc.returncode, proc.stderr.strip() or proc.stdout.strip()))
        os.makedirs(os.path.dirname(key_path), exist_ok=True)
        fd = os.open(key_path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(proc.stdout)
        os.replace(key_path + ".tmp", key_path)
    with open(key_path, "r", encoding="ascii") as handle:
        match = _SECRET.search(handle.read())
    if not match:
        raise BindError("%s holds no TSIG secret; delete it and start the sandbox again" % key_path)
    return match.group(1)


def zone_file_text(zone):
    """A fresh zone: SOA, NS and the name server's address; nothing else."""
    return (
        "$ORIGIN {zone}.\n"
        "$TTL 300\n"
        "@\tIN\tSOA\tns1.{zone}. hostmaster.{zone}. 1 3600 600 86400 60\n"
        "@\tIN\tNS\tns1.{zone}.\n"
        "ns1\tIN\tA\t127.0.0.1\n"
    ).format(zone=zone)


def named_conf_text(bind_dir, key_path, zone, port):
    return """// linktrack.https sandbox: written by sandbox/sandbox.py up
options {{
    directory "{dir}";
    pid-file "{dir}/named.pid";
    session-keyfile "{dir}/session.key";
    managed-keys-directory "{dir}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    allow-recursion {{ none; }};
    allow-query {{ any; }};
    allow-transfer {{ key "{key}"; }};
    dnssec-validation no;
    notify no;
}};
controls {{ }};
include "{key_path}";
zone "{zone}" {{
    type primary;
    file "{dir}/{zone}.zone";
    update-policy {{ grant {key} zonesub ANY; }};
}};
""".format(dir=bind_dir, port=port, key=TSIG_KEY_NAME, key_path=key_path, zone=zone)


def prepare(bind_dir, key_path, conf_path, zone, port):
    """Write named.conf and a fresh zone file (any earlier updates and journal are dropped)."""
    os.makedirs(bind_dir, exist_ok=True)
    zone_path = os.path.join(bind_dir, zone + ".zone")
    for stale in (zone_path + ".jnl", os.path.join(bind_dir, "named.pid")):
        if os.path.exists(stale):
            os.unlink(stale)
    with open(zone_path, "w", encoding="ascii") as handle:
        handle.write(zone_file_text(zone))
    with open(conf_path, "w", encoding="ascii") as handle:
        handle.write(named_conf_text(bind_dir, key_path, zone, port))


def named_command(conf_path):
    """The command line of the foreground named process."""
    return [find_program("named", "bind9"), "-g", "-4", "-n", "1", "-c", conf_path]
