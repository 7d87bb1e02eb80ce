# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/dns-rfc2136.md recommends a narrow BIND ``update-policy``. Run a real
``named`` with the grant line taken from the guide and prove it allows what the
role writes (CNAMEs at and below the tracking domain) and refuses the rest."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from ecohelpers import ROOT

dns = pytest.importorskip("dns")
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.update  # noqa: E402

GUIDE = os.path.join(ROOT, "docs", "dns-rfc2136.md")
NAMED = shutil.which("named") or "/usr/sbin/named"
SECRET = "c2FuZGJveC1rZXktZm9yLXRoZS1kb2NzLXRlc3QtMDE="


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _grant_lines():
    text = open(GUIDE).read()
    block = re.search(r"update-policy \{(.*?)\};", text, re.S)
    assert block, "docs/dns-rfc2136.md no longer shows an update-policy block"
    lines = [line.strip() for line in block.group(1).strip().splitlines() if line.strip()]
    assert lines and all(line.startswith("grant linktrack ") for line in lines), lines
    return lines


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    if not os.path.exists(NAMED):
        pytest.skip("BIND named is not installed (tests/bin/bootstrap.sh installs bind9)")
    d = tmp_path_factory.mktemp("bind")
    port = _free_port()
    (d / "example.com.zone").write_text(
        "$TTL 300\n@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300\n"
        "@ IN NS ns1.example.com.\nns1 IN A 127.0.0.1\n"
    )
    (d / "named.conf").write_text(
        'key "linktrack" { algorithm hmac-sha256; secret "%s"; };\n'
        'options { directory "%s"; pid-file "%s/named.pid"; listen-on port %d { 127.0.0.1; };\n'
        '  listen-on-v6 { none; }; recursion no; dnssec-validation no; };\n'
        "controls { };\n"
        'zone "example.com" { type primary; file "%s/example.com.zone";\n'
        "  update-policy {\n    %s\n  };\n};\n"
        % (SECRET, d, d, port, d, "\n    ".join(_grant_lines()))
    )
    check = subprocess.run([shutil.which("named-checkconf") or "/usr/bin/named-checkconf", str(d / "named.conf")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert check.returncode == 0, check.stdout
    proc = subprocess.Popen([NAMED, "-g", "-c", str(d / "named.conf"), "-u", "root"] if os.geteuid() == 0 else
                            [NAMED, "-g", "-c", str(d / "named.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            q = dns.message.make_query("example.com", "SOA")
            dns.query.udp(q, "127.0.0.1", port=port, timeout=0.5)
            break
        except Exception:  # noqa: BLE001 - not up yet
            if proc.poll() is not None:
                pytest.fail("named exited: %s" % proc.stdout.read().decode())
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(10)


def _update(port, name, rtype, value, secret=SECRET):
    keyring = dns.tsigkeyring.from_text({"linktrack": secret})
    upd = dns.update.UpdateMessage("example.com", keyring=keyring, keyname="linktrack",
                                   keyalgorithm="hmac-sha256")
    upd.replace(name, 60, rtype, value)
    return dns.rcode.to_text(dns.query.tcp(upd, "127.0.0.1", port=port, timeout=5).rcode())


@pytest.mark.parametrize("name", ["links", "_3639ac514e785e898d2646601fa951d5.links"])
def test_policy_allows_what_the_role_writes(named, name):
    assert _update(named, name, "CNAME", "d111111abcdef8.cloudfront.net.") == "NOERROR"


@pytest.mark.parametrize("name, rtype, value", [
    ("www", "CNAME", "d111111abcdef8.cloudfront.net."),   # another name of the zone
    ("links", "TXT", '"v=spf1 -all"'),                   # another type at the tracking domain
    ("www", "A", "192.0.2.10"),
])
def test_policy_refuses_the_rest(named, name, rtype, value):
    assert _update(named, name, rtype, value) == "REFUSED"
