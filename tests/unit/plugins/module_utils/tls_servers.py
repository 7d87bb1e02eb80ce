# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Throwaway certificate authorities and loopback servers for the unit tests.

Not a test module itself (its name does not start with ``test_``); test modules
import it. Everything runs in threads of the test process, on 127.0.0.1 or ::1,
on ports the kernel picks.

    ca = ThrowawayCA("Test Root")
    leaf = ca.issue(["links.example.com"])                 # a Leaf
    with TlsServer(leaf) as server:                          # or TlsServer({"a.example": leaf_a, ...})
        server.port, server.host
    with TlsServer(leaf, max_version=ssl.TLSVersion.TLSv1_2): ...
    with TlsServer(leaf, start_delay=2.0): ...                # binds its port only after 2 s
    with PlainTcpServer(b"HTTP/1.1 400 Bad Request\\r\\n\\r\\n"): ...  # speaks no TLS
    with SilentServer(): ...                                   # accepts, never answers
    free_port()                                                # a port nothing listens on
    ca.bundle_path(tmp_path)                                   # writes ca.pem, returns the path
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = datetime.timezone.utc


def _now():
    return datetime.datetime.now(UTC)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class Leaf:
    """An issued certificate with its key, chain and derived facts."""

    def __init__(self, cert, key, chain):
        self.cert = cert
        self.key = key
        self.chain = chain  # certificates after the leaf (intermediates), leaf-first order
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        self.fullchain_pem = self.cert_pem + "".join(
            c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain
        )
        self.sha256 = hashlib.sha256(self.der).hexdigest().upper()
        self.serial = cert.serial_number

    def write(self, directory):
        """Write fullchain and key PEM files; return ``(cert_path, key_path)``."""
        base = os.path.join(directory, "leaf-%x" % self.serial)
        with open(base + ".crt", "w") as handle:
            handle.write(self.fullchain_pem)
        with open(base + ".key", "w") as handle:
            handle.write(self.key_pem)
        return base + ".crt", base + ".key"


class ThrowawayCA:
    """A self-signed root (and optionally one intermediate) that issues leaf certificates."""

    def __init__(self, common_name="linktrack test root", intermediate=True):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.issuer_key = self.key
        self.issuer_cert = self.cert
        self.chain = []
        if intermediate:
            ikey = ec.generate_private_key(ec.SECP256R1())
            icert = (
                x509.CertificateBuilder()
                .subject_name(_name(common_name + " intermediate"))
                .issuer_name(self.cert.subject)
                .public_key(ikey.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=30))
                .not_valid_after(now + datetime.timedelta(days=1825))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
                )
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(ikey.public_key()), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
                )
                .sign(self.key, hashes.SHA256())
            )
            self.issuer_key = ikey
            self.issuer_cert = icert
            self.chain = [icert]

    def issue(self, names, not_before=None, not_after=None, serial=None, days=90, common_name=None):
        """A leaf for the DNS ``names`` (first one is the CN), valid from ``not_before`` for ``days``."""
        key = ec.generate_private_key(ec.SECP256R1())
        not_before = not_before or (_now() - datetime.timedelta(hours=1))
        not_after = not_after or (not_before + datetime.timedelta(days=days))
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name or names[0]))
            .issuer_name(self.issuer_cert.subject)
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuer_key.public_key()), critical=False
            )
            .sign(self.issuer_key, hashes.SHA256())
        )
        return Leaf(cert, key, list(self.chain))

    def bundle_path(self, directory):
        """Write the root as a PEM bundle in ``directory``; return its path."""
        path = os.path.join(str(directory), "ca-%x.pem" % self.cert.serial_number)
        with open(path, "w") as handle:
            handle.write(self.cert_pem)
        return path


def free_port(host="127.0.0.1"):
    """A TCP port on ``host`` that nothing listens on (bound once, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


def has_ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        sock.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        sock.close()


class _Server:
    """A listening socket served by a thread until ``stop()``."""

    def __init__(self, host="127.0.0.1", port=0, start_delay=0.0):
        self.host = host
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.port = port or (free_port(host) if start_delay else 0)
        self.start_delay = start_delay
        self.connections = 0
        self.errors = []
        self._sock = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = None

    def _listen(self):
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(16)
        sock.settimeout(0.1)
        self.port = sock.getsockname()[1]
        self._sock = sock

    def start(self):
        if not self.start_delay:
            self._listen()
        self._thread = threading.Thread(target=self._run, name="test-server-%s" % type(self).__name__)
        self._thread.daemon = True
        self._thread.start()
        return self

    def _run(self):
        if self.start_delay:
            if self._stop.wait(self.start_delay):
                return
            self._listen()
        while not self._stop.is_set():
            try:
                conn, _peer = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            worker = threading.Thread(target=self._serve_safely, args=(conn,))
            worker.daemon = True
            worker.start()

    def _serve_safely(self, conn):
        try:
            conn.settimeout(5)
            self.serve(conn)
        except Exception as exc:  # noqa: BLE001 - the client side is what the tests judge
            self.errors.append(exc)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def serve(self, conn):  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class TlsServer(_Server):
    """A TLS server presenting ``certs`` (a Leaf, or a dict SNI name -> Leaf; key ``None`` = default).

    ``min_version``/``max_version`` limit the protocol (``ssl.TLSVersion``);
    ``legacy=True`` lowers OpenSSL's security level so TLS 1.0/1.1 can work.
    """

    def __init__(self, certs, host="127.0.0.1", port=0, min_version=None, max_version=None, legacy=False,
                 start_delay=0.0):
        super(TlsServer, self).__init__(host=host, port=port, start_delay=start_delay)
        if not isinstance(certs, dict):
            certs = {None: certs}
        self._tmp = tempfile.mkdtemp(prefix="linktrack-tls-")
        self.sni_seen = []
        self._contexts = {}
        for name, leaf in certs.items():
            self._contexts[name] = self._context(leaf, min_version, max_version, legacy)
        default = self._contexts.get(None) or list(self._contexts.values())[0]
        self.context = default
        default.sni_callback = self._pick

    def _context(self, leaf, min_version, max_version, legacy):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert_path, key_path = leaf.write(self._tmp)
        ctx.load_cert_chain(cert_path, key_path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if legacy:
                ctx.set_ciphers("ALL:@SECLEVEL=0")
                ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            if min_version is not None:
                ctx.minimum_version = min_version
            if max_version is not None:
                ctx.maximum_version = max_version
        return ctx

    def stop(self):
        super(TlsServer, self).stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _pick(self, sslobj, server_name, _ctx):
        self.sni_seen.append(server_name)
        chosen = self._contexts.get(server_name)
        if chosen is not None:
            sslobj.context = chosen
        return None

    def serve(self, conn):
        tls = self.context.wrap_socket(conn, server_side=True)
        try:
            tls.settimeout(1)
            try:
                tls.recv(1)  # wait for the client to close
            except (OSError, ssl.SSLError):
                pass
        finally:
            tls.close()


class PlainTcpServer(_Server):
    """Reads what the client sends, answers ``reply`` (not TLS), closes."""

    def __init__(self, reply=b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", host="127.0.0.1"):
        super(PlainTcpServer, self).__init__(host=host)
        self.reply = reply

    def serve(self, conn):
        try:
            conn.recv(4096)
        except OSError:
            pass
        conn.sendall(self.reply)
        time.sleep(0.1)


class SilentServer(_Server):
    """Accepts connections and never says anything until stopped."""

    def serve(self, conn):
        while not self._stop.wait(0.05):
            pass
