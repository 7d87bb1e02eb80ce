# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Throwaway certificate authorities and loopback TLS servers: the one helper of every test.

Who imports it, and how:
- the unit tests (``ansible-test units``) as
  ``ansible_collections.linktrack.https.tests.support.throwaway_tls``;
- the tls_sni_check integration target's ``files/tls_servers.py`` by path: it
  looks upwards from itself for ``tests/support/throwaway_tls.py``, since
  ansible-test copies the target into ``tests/output/.tmp/integration/...``
  inside the collection;
- the sandbox (``sandbox/linktrack_sandbox/ca.py``, its own process with
  ``sandbox/`` on ``sys.path``) by path, ``../tests/support`` from ``sandbox/``.
It needs nothing but the standard library and ``cryptography``.

    ca = ThrowawayCA("Test Root")                            # EC P-256 root and one intermediate
    leaf = ca.issue(["links.example.com"])                 # a Leaf
    with TlsServer(leaf) as server:                          # or TlsServer({"a.example": leaf_a, None: default})
        server.port, server.host
    with TlsServer(leaf, max_version=ssl.TLSVersion.TLSv1_2): ...
    with TlsServer(leaf, start_delay=2.0): ...                # binds its port only after 2 s
    with TlsServer(leaf, start_when=path, start_delay=3.0):   # binds 3 s after the file ``path`` appears
    with PlainTcpServer(b"HTTP/1.1 400 Bad Request\\r\\n\\r\\n"): ...  # speaks no TLS
    with SilentServer(): ...                                   # accepts, never answers
    free_port()                                                # a port nothing listens on
    ca.bundle_path(tmp_path)                                   # writes the root as PEM, returns the path
    self_signed_leaf(["a.example"])                            # a self-signed server certificate
    ThrowawayCA.load(cert, key)                                # a CA from a certificate and key kept elsewhere
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import ipaddress
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
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = datetime.timezone.utc
# Key makers by ACM's KeyAlgorithm names (RequestCertificate: RSA_2048, EC_prime256v1, EC_secp384r1).
KEY_ALGORITHMS = {
    "RSA_2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "EC_prime256v1": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EC_secp384r1": lambda: ec.generate_private_key(ec.SECP384R1()),
}


def _now():
    return datetime.datetime.now(UTC)


def new_key(algorithm="EC_prime256v1"):
    """A new private key; ``algorithm`` is one of KEY_ALGORITHMS."""
    return KEY_ALGORITHMS[algorithm]()


def x509_name(common_name, organization=None):
    """The x509.Name ``[O=organization,] CN=common_name``."""
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def cert_to_pem(cert):
    """The certificate as PEM bytes."""
    return cert.public_bytes(serialization.Encoding.PEM)


def key_to_pem(key, traditional=False):
    """The unencrypted private key as PEM bytes: PKCS#8, or OpenSSL's traditional format when ``traditional``."""
    key_format = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, key_format, serialization.NoEncryption())


def pem_pair(cert, key, traditional=False):
    """(certificate PEM, unencrypted private key PEM) as bytes."""
    return cert_to_pem(cert), key_to_pem(key, traditional=traditional)


def _general_name(name):
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key_usage(digital_signature=False, key_encipherment=False, cert_sign=False):
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False, key_encipherment=key_encipherment,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
        encipher_only=False, decipher_only=False)


def _leaf_certificate(names, key, issuer_name, issuer_key, not_before, not_after, serial, common_name, client_auth):
    """A server certificate for ``names`` (DNS names, or IP addresses), signed by ``issuer_key``."""
    unique = []
    for name in names:
        if name not in unique:
            unique.append(name)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else [])
    return (
        x509.CertificateBuilder()
        .subject_name(x509_name(common_name or unique[0]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([_general_name(name) for name in unique]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_encipherment=isinstance(key, rsa.RSAPrivateKey)),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def _ca_certificate(name, key, issuer_name, issuer_key, not_before, days, path_length):
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(digital_signature=True, cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_key is not key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def server_context(cert_path, key_path=None, min_version=None, max_version=None, legacy=False, alpn=None):
    """An ssl.SSLContext for a server presenting the PEM file(s) ``cert_path`` (and ``key_path``).

    ``min_version``/``max_version`` limit the protocol (``ssl.TLSVersion``);
    ``legacy=True`` lowers OpenSSL's security level so TLS 1.0/1.1 can work;
    ``alpn`` is the list of ALPN protocols to offer.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
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
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def server_context_from_pem(pem, directory=None, **kwargs):
    """server_context() for certificates and key given as one PEM text (bytes), through a file removed at once."""
    fd, path = tempfile.mkstemp(dir=directory, suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return server_context(path, **kwargs)
    finally:
        os.unlink(path)


class Leaf:
    """An issued certificate with its key, chain and derived facts."""

    def __init__(self, cert, key, chain):
        self.cert = cert
        self.key = key
        self.chain = chain  # certificates after the leaf (intermediates), leaf-first order
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.cert_pem = cert_to_pem(cert).decode("ascii")
        self.key_pem = key_to_pem(key).decode("ascii")
        self.fullchain_pem = self.cert_pem + "".join(cert_to_pem(c).decode("ascii") for c in chain)
        self.sha256 = hashlib.sha256(self.der).hexdigest().upper()
        self.serial = cert.serial_number

    def write(self, directory, label=None):
        """Write fullchain and key PEM files (``label`` or ``leaf-SERIAL``); return ``(cert_path, key_path)``."""
        base = os.path.join(str(directory), label or "leaf-%x" % self.serial)
        with open(base + ".crt", "w") as handle:
            handle.write(self.fullchain_pem)
        with open(base + ".key", "w") as handle:
            handle.write(self.key_pem)
        return base + ".crt", base + ".key"

    def server_context(self, **kwargs):
        """server_context() presenting this leaf and its chain (see server_context for the options)."""
        return server_context_from_pem((self.fullchain_pem + self.key_pem).encode("ascii"), **kwargs)


def self_signed_leaf(names, key=None, not_before=None, days=30):
    """A self-signed server certificate (not a CA) for ``names``, as a Leaf."""
    key = key or new_key()
    not_before = not_before or (_now() - datetime.timedelta(minutes=5))
    cert = _leaf_certificate(names, key, x509_name(names[0]), key, not_before,
                             not_before + datetime.timedelta(days=days), None, None, False)
    return Leaf(cert, key, [])


class ThrowawayCA:
    """A self-signed root (and optionally one intermediate) that issues leaf certificates.

    ``intermediate`` is True (an intermediate named "<common_name> intermediate"),
    a common name of its own, or False (the root signs the leaves).
    ``key_algorithm`` names the CA keys (KEY_ALGORITHMS); ``path_length`` is the
    root's BasicConstraints path length (None: unlimited).
    """

    def __init__(self, common_name="linktrack test root", intermediate=True, key_algorithm="EC_prime256v1",
                 organization=None, path_length=None, not_before=None, days=3650):
        not_before = not_before or (_now() - datetime.timedelta(days=30))
        key = new_key(key_algorithm)
        name = x509_name(common_name, organization)
        cert = _ca_certificate(name, key, name, key, not_before, days, path_length)
        chain = []
        issuer_key, issuer_cert = key, cert
        if intermediate:
            issuer_key = new_key(key_algorithm)
            inter_name = intermediate if isinstance(intermediate, str) else common_name + " intermediate"
            issuer_cert = _ca_certificate(x509_name(inter_name), issuer_key, name, key, not_before, days // 2, 0)
            chain = [issuer_cert]
        self._adopt(cert, key, chain, issuer_cert, issuer_key)

    def _adopt(self, cert, key, chain, issuer_cert, issuer_key):
        self.cert = cert
        self.key = key
        self.cert_pem = cert_to_pem(cert).decode("ascii")
        self.chain = chain
        self.issuer_cert = issuer_cert
        self.issuer_key = issuer_key

    @classmethod
    def load(cls, cert, key):
        """A CA that is the root ``cert`` with its ``key`` (x509 objects), made elsewhere; it signs the leaves."""
        self = cls.__new__(cls)
        self._adopt(cert, key, [], cert, key)
        return self

    def issue(self, names, not_before=None, not_after=None, serial=None, days=90, common_name=None, key=None,
              client_auth=False):
        """A Leaf for ``names`` (DNS names or IP addresses; the first is the CN unless ``common_name``).

        Valid from ``not_before`` (default an hour ago) to ``not_after`` (default
        ``days`` later); a new EC P-256 key unless ``key`` is given; extended key
        usage serverAuth, and clientAuth too when ``client_auth``.
        """
        key = key or new_key()
        not_before = not_before or (_now() - datetime.timedelta(hours=1))
        not_after = not_after or (not_before + datetime.timedelta(days=days))
        cert = _leaf_certificate(names, key, self.issuer_cert.subject, self.issuer_key, not_before, not_after,
                                 serial, common_name, client_auth)
        return Leaf(cert, key, list(self.chain))

    def bundle_path(self, directory, filename=None):
        """Write the root as a PEM bundle in ``directory`` (as ``filename``, or ``ca-SERIAL.pem``); return its path."""
        path = os.path.join(str(directory), filename or "ca-%x.pem" % self.cert.serial_number)
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
    """Whether this machine can listen on ::1."""
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
    """A listening socket served by a thread until ``stop()``.

    With ``start_delay`` (seconds) and/or ``start_when`` (a file path), the port
    is picked at once but bound only once ``start_when`` exists and
    ``start_delay`` has passed after that.
    """

    def __init__(self, host="127.0.0.1", port=0, start_delay=0.0, start_when=None):
        self.host = host
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.start_delay = start_delay
        self.start_when = start_when
        self.port = port or (free_port(host) if self._deferred else 0)
        self.connections = 0
        self.errors = []
        self._sock = None
        self._stop = threading.Event()
        self._thread = None

    @property
    def _deferred(self):
        return bool(self.start_delay or self.start_when)

    def _listen(self):
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(16)
        sock.settimeout(0.1)
        self.port = sock.getsockname()[1]
        self._sock = sock

    def start(self):
        if not self._deferred:
            self._listen()
        self._thread = threading.Thread(target=self._run, name="test-server-%s" % type(self).__name__)
        self._thread.daemon = True
        self._thread.start()
        return self

    def _run(self):
        if self.start_when:
            while not os.path.exists(self.start_when):
                if self._stop.wait(0.1):
                    return
        if self._deferred:
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

    ``min_version``/``max_version``/``legacy`` as in server_context(); it
    records the SNI names clients sent in ``sni_seen``.
    """

    def __init__(self, certs, host="127.0.0.1", port=0, min_version=None, max_version=None, legacy=False,
                 start_delay=0.0, start_when=None):
        super(TlsServer, self).__init__(host=host, port=port, start_delay=start_delay, start_when=start_when)
        if not isinstance(certs, dict):
            certs = {None: certs}
        self._tmp = tempfile.mkdtemp(prefix="linktrack-tls-")
        self.sni_seen = []
        self._contexts = {}
        try:
            for name, leaf in certs.items():
                self._contexts[name] = leaf.server_context(
                    directory=self._tmp, min_version=min_version, max_version=max_version, legacy=legacy)
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
        default = self._contexts.get(None) or list(self._contexts.values())[0]
        self.context = default
        default.sni_callback = self._pick

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
