#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Throwaway TLS servers on loopback for the tls_sni_check integration target.

Usage: tls_servers.py STATE_DIR [LIFETIME_SECONDS]

Makes a throwaway CA (root and intermediate) with the cryptography library,
starts one thread per server on 127.0.0.1 (and ::1 when the machine has it),
writes STATE_DIR/state.json once every server listens, and serves until it gets
SIGTERM or LIFETIME_SECONDS (default 900) pass, so nothing outlives a broken run.

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
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NAME = "links.example.test"
LATE_DELAY = 3.0
STOP = threading.Event()


def _name(text):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _cert(subject, issuer, key, signer, serial, not_before, not_after, ca, names=None, path_length=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _write_pair(state_dir, label, chain, key):
    cert_path = os.path.join(state_dir, label + ".crt")
    key_path = os.path.join(state_dir, label + ".key")
    with open(cert_path, "w") as handle:
        handle.write("".join(_pem(c) for c in chain))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


def make_pki(state_dir):
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("integration root", "integration root", root_key, root_key, 1, now - 30 * day, now + 3650 * day, True)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = _cert("integration intermediate", "integration root", inter_key, root_key, 2,
                  now - 30 * day, now + 1825 * day, True, path_length=0)
    good_key = ec.generate_private_key(ec.SECP256R1())
    good = _cert(NAME, "integration intermediate", good_key, inter_key, 0x0A3F519C2E771BD4,
                 now - day, now + 90 * day, False, names=[NAME])
    edge_key = ec.generate_private_key(ec.SECP256R1())
    edge = _cert("*.edge.example.test", "integration intermediate", edge_key, inter_key, 0x77,
                 now - day, now + 90 * day, False, names=["*.edge.example.test"])
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = _cert("stranger root", "stranger root", stranger_key, stranger_key, 3,
                     now - 30 * day, now + 3650 * day, True)
    bad_key = ec.generate_private_key(ec.SECP256R1())
    bad = _cert("wrong.example.test", "stranger root", bad_key, stranger_key, 0x99,
                now - 60 * day, now - 2 * day, False, names=["wrong.example.test"])
    ca_path = os.path.join(state_dir, "ca.pem")
    with open(ca_path, "w") as handle:
        handle.write(_pem(root))
    return {
        "ca_path": ca_path,
        "good": _write_pair(state_dir, "good", [good, inter], good_key),
        "edge": _write_pair(state_dir, "edge", [edge, inter], edge_key),
        "bad": _write_pair(state_dir, "bad", [bad], bad_key),
        "good_pem": _pem(good),
        "good_fingerprint": hashlib.sha256(good.public_bytes(serialization.Encoding.DER)).hexdigest(),
        "good_serial": ":".join("%02x" % b for b in good.serial_number.to_bytes(8, "big")),
    }


def tls_context(pair, max_version=None, sni=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*pair)
    if max_version is not None:
        ctx.maximum_version = max_version
    if sni:
        def pick(sslobj, server_name, _ctx):
            if server_name in sni:
                sslobj.context = sni[server_name]
        ctx.sni_callback = pick
    return ctx


def listen(host, port=0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(16)
    sock.settimeout(0.2)
    return sock


def free_port(host="127.0.0.1"):
    sock = listen(host)
    port = sock.getsockname()[1]
    sock.close()
    return port


def handle_tls(ctx, conn):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.settimeout(2)
        try:
            tls.recv(1)
        except (OSError, ssl.SSLError):
            pass
        tls.close()
    except (OSError, ssl.SSLError):
        pass


def handle_plain(conn):
    try:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass


def serve(sock, handler, trigger=None, host=None, port=None):
    if trigger:
        while not os.path.exists(trigger):
            if STOP.wait(0.1):
                return
        if STOP.wait(LATE_DELAY):
            return
        sock = listen(host, port)
    while not STOP.is_set():
        try:
            conn, _peer = sock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        conn.settimeout(5)
        worker = threading.Thread(target=lambda c=conn: (handler(c), c.close()))
        worker.daemon = True
        worker.start()
    sock.close()


def has_ipv6():
    try:
        listen("::1").close()
        return True
    except OSError:
        return False


def main():
    state_dir = sys.argv[1]
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 900.0
    os.makedirs(state_dir, exist_ok=True)
    pki = make_pki(state_dir)
    good_ctx = tls_context(pki["edge"], sni={NAME: tls_context(pki["good"])})
    tls12_ctx = tls_context(pki["good"], max_version=ssl.TLSVersion.TLSv1_2)
    bad_ctx = tls_context(pki["bad"], max_version=ssl.TLSVersion.TLSv1_2)

    servers = {
        "good": (listen("127.0.0.1"), lambda c: handle_tls(good_ctx, c)),
        "bad": (listen("127.0.0.1"), lambda c: handle_tls(bad_ctx, c)),
        "tls12": (listen("127.0.0.1"), lambda c: handle_tls(tls12_ctx, c)),
        "notls": (listen("127.0.0.1"), handle_plain),
    }
    if has_ipv6():
        servers["good_v6"] = (listen("::1"), lambda c: handle_tls(good_ctx, c))
    ports = dict((label, sock.getsockname()[1]) for label, (sock, _h) in servers.items())
    ports.setdefault("good_v6", None)
    ports["closed"] = free_port()
    ports["late"] = free_port()

    threads = [threading.Thread(target=serve, args=(sock, handler)) for sock, handler in servers.values()]
    threads.append(threading.Thread(
        target=serve, args=(None, lambda c: handle_tls(good_ctx, c)),
        kwargs=dict(trigger=os.path.join(state_dir, "start-late"), host="127.0.0.1", port=ports["late"]),
    ))
    for thread in threads:
        thread.daemon = True
        thread.start()

    signal.signal(signal.SIGTERM, lambda *_a: STOP.set())
    signal.signal(signal.SIGINT, lambda *_a: STOP.set())
    state = dict(pid=os.getpid(), ports=ports, started=time.time(), late_delay=LATE_DELAY,
                 **dict((k, pki[k]) for k in ("ca_path", "good_pem", "good_fingerprint", "good_serial")))
    tmp = os.path.join(state_dir, "state.json.tmp")
    with open(tmp, "w") as handle:
        json.dump(state, handle, indent=1)
    os.rename(tmp, os.path.join(state_dir, "state.json"))
    STOP.wait(lifetime)
    STOP.set()
    for thread in threads:
        thread.join(2)


if __name__ == "__main__":
    main()
