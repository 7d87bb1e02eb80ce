# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plays the person of the manual DNS provider in the molecule scenario "manual".

usage: person.py ENV_FILE RECORDS_FILE STOP_FILE [DEADLINE_SECONDS]

Watches RECORDS_FILE, the file the role writes when it asks a person for DNS
records (link_domain_manual_records_file, zone-file lines such as
"name. 300 IN CNAME target."). Each time its content changes, the person makes
the zone say exactly that (content present when the person starts was not
asked for by this run and is ignored): one TSIG-signed RFC 2136 update to the sandbox's BIND
(from the sandbox's ENV_FILE) that replaces each named record set. The person
acts only on what the role asked for, and only after it asked. Stops when
STOP_FILE exists or after DEADLINE_SECONDS (default 900).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import time

import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

# the checkout this scenario runs from: roles/link_domain/molecule/shared/ -> ../../../..
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "sandbox"))
from linktrack_sandbox.envfile import read_env_file  # noqa: E402  pylint: disable=wrong-import-position


def apply(env, lines):
    zone = env["SANDBOX_ZONE"]
    keyring = dns.tsigkeyring.from_text({env["SANDBOX_TSIG_KEY_NAME"]: env["SANDBOX_TSIG_SECRET"]})
    update = dns.update.Update(zone, keyring=keyring, keyalgorithm=env["SANDBOX_TSIG_ALGORITHM"])
    for line in lines:
        name, ttl, _klass, rtype, value = line.split(None, 4)
        update.replace(name, int(ttl), rtype, value)
    answer = dns.query.tcp(update, env["SANDBOX_DNS_SERVER"], port=int(env["SANDBOX_DNS_PORT"]), timeout=10)
    return dns.rcode.to_text(answer.rcode())


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except IOError:
        return None


def main(argv):
    env_file, records_file, stop_file = argv[1:4]
    deadline = time.time() + (float(argv[4]) if len(argv) > 4 else 900.0)
    env = read_env_file(env_file)
    seen = read(records_file)  # what was there before: not asked for by this run
    while time.time() < deadline and not os.path.exists(stop_file):
        content = read(records_file)
        if content and content != seen:
            lines = [line for line in content.splitlines() if line.strip() and not line.startswith(";")]
            time.sleep(1.0)  # a person takes a moment to type
            print("person: %s for %d record(s)" % (apply(env, lines), len(lines)))
            sys.stdout.flush()
            seen = content
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
