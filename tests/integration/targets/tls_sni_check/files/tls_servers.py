#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Throwaway TLS servers on loopback for the tls_sni_check integration target.

Usage: tls_servers.py STATE_DIR [LIFETIME_SECONDS]

Makes a throwaway CA (root and intermediate) and the servers with the
collection's one helper, tests/support/throwaway_tls.py, found by looking
upwards from this file (ansible-test runs a copy of the target inside
tests/output/ of the collection). Starts one thread per server on 127.0.0.1 (and
::1 when the machine has it), writes STATE_DIR/state.json once every server
listens, and serves until it gets SIGTERM or LIFETIME_SECONDS (default 900)
pass, so nothing outlives a broken run.

state.json: pid, ca_path, good_pem, good_fingerprint, good_serial (ACM spelling:
lower-case, colons), ports {good, bad, tls12, notls, closed, late, good_v6}.
- good:   SNI links.example.test -> a valid leaf from the CA (any other SNI: *.edge.example.test)
- bad:    a leaf from an unknown CA, for wrong.example.test, expired 2 days ago, TLS 1.2 at most
- tls12:  the good leaf, TLS 1.2 at most
- notls:  a plain TCP port that answers like an HTTP server
- closed: a port nothing listens on
- late:   the good leaf, listening only 3 seconds after STATE_DIR/start-late appears
- good_v6: the good server on ::1, or null
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import importlib.util
import json
import os
import signal
import ssl
import sys
import threading
import time

NAME = "links.example.test"
LATE_DELAY = 3.0
HELPER = os.path.join("tests", "support", "throwaway_tls.py")


def load_helper():
    """tests/support/throwaway_tls.py of the nearest directory above this file that has one."""
    here = os.path.dirname(os.path.abspath(__file__))
    while True:
        path = os.path.join(here, HELPER)
        if os.path.isfile(path):
            break
        parent = os.path.dirname(here)
        if parent == here:
            sys.exit("tls_servers.py: no %s in any directory above %s" % (HELPER, os.path.abspath(__file__)))
        here = parent
    spec = importlib.util.spec_from_file_location("linktrack_throwaway_tls", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_pki(tls, state_dir):
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    ca = tls.ThrowawayCA("integration root", intermediate="integration intermediate")
    good = ca.issue([NAME], not_before=now - day, not_after=now + 90 * day, serial=0x0A3F519C2E771BD4)
    edge = ca.issue(["*.edge.example.test"], not_before=now - day, not_after=now + 90 * day, serial=0x77)
    stranger = tls.ThrowawayCA("stranger root", intermediate=False)
    bad = stranger.issue(["wrong.example.test"], not_before=now - 60 * day, not_after=now - 2 * day, serial=0x99)
    return {
        "ca_path": ca.bundle_path(state_dir, "ca.pem"),
        "good": good,
        "edge": edge,
        "bad": bad,
        "good_pem": good.cert_pem,
        "good_fingerprint": hashlib.sha256(good.der).hexdigest(),
        "good_serial": ":".join("%02x" % b for b in good.serial.to_bytes(8, "big")),
    }


def main():
    state_dir = sys.argv[1]
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 900.0
    os.makedirs(state_dir, exist_ok=True)
    tls = load_helper()
    pki = make_pki(tls, state_dir)
    good_certs = {None: pki["edge"], NAME: pki["good"]}
    servers = {
        "good": tls.TlsServer(good_certs),
        "bad": tls.TlsServer(pki["bad"], max_version=ssl.TLSVersion.TLSv1_2),
        "tls12": tls.TlsServer(pki["good"], max_version=ssl.TLSVersion.TLSv1_2),
        "notls": tls.PlainTcpServer(),
        "late": tls.TlsServer(good_certs, start_when=os.path.join(state_dir, "start-late"), start_delay=LATE_DELAY),
    }
    if tls.has_ipv6_loopback():
        servers["good_v6"] = tls.TlsServer(good_certs, host="::1")
    for server in servers.values():
        server.start()
    ports = dict((label, server.port) for label, server in servers.items())
    ports.setdefault("good_v6", None)
    ports["closed"] = tls.free_port()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    state = dict(pid=os.getpid(), ports=ports, started=time.time(), late_delay=LATE_DELAY,
                 **dict((k, pki[k]) for k in ("ca_path", "good_pem", "good_fingerprint", "good_serial")))
    tmp = os.path.join(state_dir, "state.json.tmp")
    with open(tmp, "w") as handle:
        json.dump(state, handle, indent=1)
    os.rename(tmp, os.path.join(state_dir, "state.json"))
    stop.wait(lifetime)
    for server in servers.values():
        server.stop()


if __name__ == "__main__":
    main()
