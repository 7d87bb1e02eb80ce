# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS handshake probe and certificate checks of linktrack.https.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

It reads what ``openssl s_client -servername NAME -connect HOST:PORT`` shows a
person, and decides:

* ``probe_handshake()`` connects, sends ``server_name`` as SNI and returns the
  facts of the handshake as a plain dict (protocol, cipher, the served
  certificate, whether its chain verified). Only bad input raises
  ``LinktrackError``; a refused connection, a name that does not resolve, a
  peer that does not speak TLS or a timeout are reported in the dict's
  ``error`` and ``error_kind``.
* ``evaluate_handshake()`` turns those facts into a list of checks, each
  ``{name, passed, reason}``.
* ``TlsSniCheck`` runs both, retrying until every check passes or a deadline
  ends; the ``tls_sni_check`` module is a thin wrapper around it.

How the certificate is read and how the chain is verified
---------------------------------------------------------
Each probe makes two TLS connections to the same address:

1. An *inspection* handshake with verification off, which offers every
   protocol version and cipher the local OpenSSL still has. It yields the
   negotiated protocol and cipher and the served certificate (DER), even when
   that certificate is expired, self-signed or for another name, which is
   exactly when a person needs to see it.
2. A *verifying* handshake with OpenSSL's default security level, the CA
   bundle (``ca_path``, else the system trust store) and ``CERT_REQUIRED``. It
   builds the chain with the intermediates the server sends (Python 3.8 to
   3.12 cannot hand those to us from the first handshake) and yields
   ``chain_verified`` and, when it fails, OpenSSL's reason. The host name is
   not checked by OpenSSL here: ``evaluate_handshake`` does that itself, so
   that a wrong name and an untrusted chain are reported as two checks.

The second handshake goes to the IP address the first one used, and the
certificate it sees must be the same one, so both halves describe one server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import datetime
import hashlib
import ipaddress
import math
import os
import re
import shlex
import socket
import ssl

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtensionOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - the module reports missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc
# what a module passes to module_main(requirements=...)
CRYPTOGRAPHY_REQUIREMENT = ("cryptography", HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_IMPORT_ERROR)

from ansible_collections.linktrack.https.plugins.module_utils._common import Clock, LinktrackError, Progress, normalize_domain, poll_until
from ansible_collections.linktrack.https.plugins.module_utils._common import result_from_exception
from ansible_collections.linktrack.https.plugins.module_utils._records import format_serial, parse_serial, validate_port, validate_seconds

# Accepted values of min_tls_version, lowest first.
MIN_TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")

# Names Python's SSLSocket.version() gives, in order of strength.
_PROTOCOL_RANK = {
    "SSLv2": 0,
    "SSLv3": 1,
    "TLSv1": 2,
    "TLSv1.1": 3,
    "TLSv1.2": 4,
    "TLSv1.3": 5,
}

# OpenSSL reasons meaning "what came back is not a TLS record".
_NOT_TLS_REASONS = frozenset(
    [
        "WRONG_VERSION_NUMBER",
        "HTTP_REQUEST",
        "HTTPS_PROXY_REQUEST",
        "UNKNOWN_PROTOCOL",
        "PACKET_LENGTH_TOO_LONG",
        "RECORD_LENGTH_MISMATCH",
        "WRONG_SSL_VERSION",
        "RECORD_TOO_LARGE",
    ]
)

CHECK_NAMES = (
    "handshake",
    "name_matches",
    "chain_trusted",
    "protocol_minimum",
    "validity",
    "expected_certificate",
    "expected_serial",
)

_HEX_RE = re.compile(r"^[0-9a-f]+$")
_PEM_CERT_RE = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*.+?\s*-----END CERTIFICATE-----", re.DOTALL
)

# Probe result keys that describe the served certificate.
CERTIFICATE_KEYS = (
    "subject",
    "issuer",
    "subject_alt_names",
    "not_before",
    "not_after",
    "days_left",
    "serial",
    "sha256_fingerprint",
    "certificate_pem",
)


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise LinktrackError(
            "The Python library cryptography (3.1 or later) is needed to read certificates (%s)." % CRYPTOGRAPHY_IMPORT_ERROR
        )


# --------------------------------------------------------------------------
# Input validation (each error names the option and says what is valid)
# --------------------------------------------------------------------------


def validate_server_name(value, field="server_name"):
    """The SNI name: a host name (not an IP address, not a wildcard), punycoded."""
    return normalize_domain(value, field=field)


def validate_connect_host(value, field="connect_host"):
    """A host name, an IPv4 address or an IPv6 address (brackets allowed).

    Returns the host as ``getaddrinfo`` wants it: IPv6 without brackets,
    host names lower-case and punycoded.
    """
    hint = "Give a host name (d111111abcdef8.cloudfront.net), an IPv4 address (192.0.2.10) or an IPv6 address (2001:db8::1)."
    if value is None or not isinstance(value, str) or not value.strip():
        raise LinktrackError("%s is empty. %s" % (field, hint), field=field)
    host = value.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.lower() == "localhost":
        return "localhost"
    if ":" in host and re.match(r"^[0-9A-Fa-f:.%]+$", host):
        raise LinktrackError("%s: %r is not a valid IPv6 address. %s" % (field, value, hint), field=field)
    if re.match(r"^[0-9.]+$", host):
        raise LinktrackError("%s: %r is not a valid IPv4 address. %s" % (field, value, hint), field=field)
    try:
        return normalize_domain(host, field=field)
    except LinktrackError as exc:
        raise LinktrackError(exc.message + " An IPv4 or IPv6 address is fine too.", field=field)


def validate_ca_path(value, field="ca_path"):
    """A readable PEM bundle file, or an OpenSSL hashed certificate directory."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise LinktrackError("%s is empty. Give the path of a PEM CA bundle, or leave it unset for the system trust store." % field, field=field)
    path = os.path.expanduser(value)
    if not os.path.exists(path):
        raise LinktrackError("%s: %s does not exist. Give the path of a PEM CA bundle." % (field, value), field=field)
    if not os.access(path, os.R_OK):
        raise LinktrackError("%s: %s is not readable by this user." % (field, value), field=field)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        if os.path.isdir(path):
            ctx.load_verify_locations(capath=path)
        else:
            with open(path, "rb") as handle:
                handle.read(1)
            ctx.load_verify_locations(cafile=path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise LinktrackError(
            "%s: %s could not be read as a PEM CA bundle (%s)." % (field, value, exc), field=field
        )
    if not os.path.isdir(path) and not ctx.get_ca_certs():
        raise LinktrackError("%s: %s holds no CA certificate." % (field, value), field=field)
    return path


def validate_min_tls_version(value, field="min_tls_version"):
    if value not in MIN_TLS_VERSIONS:
        raise LinktrackError(
            "%s must be one of %s, got %r." % (field, ", ".join(MIN_TLS_VERSIONS), value), field=field
        )
    return value


def validate_min_days_valid(value, field="min_days_valid"):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LinktrackError("%s must be a whole number of days, 0 or more, got %r." % (field, value), field=field)
    return value


def format_hex(data):
    """Bytes as colon-separated upper-case hex pairs: ``0A:1B:...``."""
    return ":".join("%02X" % b for b in bytearray(data))


def parse_expected_certificate(value, field="expected_certificate"):
    """The SHA-256 fingerprint (64 upper-case hex digits, no colons) of a PEM certificate or a fingerprint.

    A PEM with several certificates (a full chain) means its first one, the leaf.
    """
    hint = (
        "Give the PEM of the certificate (-----BEGIN CERTIFICATE-----...) or its SHA-256 fingerprint "
        "as 64 hex digits, colons allowed."
    )
    if value is None or not isinstance(value, str) or not value.strip():
        raise LinktrackError("%s is empty. %s" % (field, hint), field=field)
    text = value.strip()
    if "-----BEGIN" in text:
        match = _PEM_CERT_RE.search(text)
        if not match:
            raise LinktrackError("%s holds no PEM certificate block. %s" % (field, hint), field=field)
        _require_cryptography()
        try:
            cert = x509.load_pem_x509_certificate(match.group(0).encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise LinktrackError("%s: the PEM certificate could not be parsed (%s). %s" % (field, exc, hint), field=field)
        return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    digits = re.sub(r"[\s:]", "", text)
    if len(digits) != 64 or not _HEX_RE.match(digits.lower()):
        raise LinktrackError(
            "%s: %r is not a SHA-256 fingerprint (%d hex digits found, 64 needed). %s"
            % (field, value if len(value) < 120 else value[:117] + "...", len(re.sub(r"[^0-9a-fA-F]", "", digits)), hint),
            field=field,
        )
    return digits.upper()


def openssl_command(server_name, connect_host, port, ca_path=None):
    """The ``openssl s_client`` line a person runs to see the same handshake by hand."""
    host = connect_host
    if ":" in host:
        host = "[%s]" % host
    line = "openssl s_client -servername %s -connect %s:%d" % (server_name, host, port)
    if ca_path:
        line += " %s %s" % ("-CApath" if os.path.isdir(ca_path) else "-CAfile", shlex.quote(ca_path))
    return line + " </dev/null"


# --------------------------------------------------------------------------
# Certificate facts
# --------------------------------------------------------------------------


def _iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_before(cert):
    value = getattr(cert, "not_valid_before_utc", None)
    if value is None:  # cryptography < 42: naive UTC
        value = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value


def _not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:  # cryptography < 42: naive UTC
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def _days_between(now, then):
    """Whole days from ``now`` to ``then``, rounded down (negative once past)."""
    return int(math.floor((then - now).total_seconds() / 86400.0))


def _parse_iso(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def describe_certificate(der, now=None):
    """The facts of a DER certificate the module returns, as a dict."""
    _require_cryptography()
    now = now or _utcnow()
    cert = x509.load_der_x509_certificate(der)
    try:
        san_ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        names = [str(n).lower() for n in san_ext.value.get_values_for_type(x509.DNSName)]
        names += [str(a) for a in san_ext.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    not_after = _not_after(cert)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "subject_alt_names": names,
        "not_before": _iso(_not_before(cert)),
        "not_after": _iso(not_after),
        "days_left": _days_between(now, not_after),
        "serial": format_serial(cert.serial_number),
        "sha256_fingerprint": format_hex(hashlib.sha256(der).digest()),
        "certificate_pem": ssl.DER_cert_to_PEM_cert(der),
    }


def name_matches(server_name, names):
    """The entry of ``names`` (SAN dNSNames) that covers ``server_name``, or ``None``.

    RFC 6125 section 6.4 as browsers apply it: case-insensitive comparison of
    A-labels, trailing dots ignored; a wildcard only as the whole left-most
    label (``*.example.com``), matching exactly one non-empty label and never
    the parent name itself, and only with at least two labels after it. The
    subject CN is not consulted (RFC 6125 6.4.4; CA/Browser Forum certificates
    always carry the name in subjectAltName).
    """
    wanted = server_name.lower().rstrip(".").split(".")
    for name in names:
        presented = name.lower().rstrip(".").split(".")
        if len(presented) != len(wanted) or not all(presented):
            continue
        if presented == wanted:
            return name
        wildcard = presented[0] == "*" and len(presented) >= 3 and "*" not in "".join(presented[1:])
        if wildcard and presented[1:] == wanted[1:]:
            return name
    return None


# --------------------------------------------------------------------------
# The handshake
# --------------------------------------------------------------------------


def _inspection_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    except (AttributeError, ValueError):  # pragma: no cover - libraries without the setter
        pass
    try:
        # Offer old ciphers too, so an old server is reported as old rather
        # than as a failed handshake. Only facts are read on this connection.
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:  # pragma: no cover - libraries without security levels
        pass
    return ctx


def _verifying_context(ca_path):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # the name is checked by evaluate_handshake, as its own check
    ctx.verify_mode = ssl.CERT_REQUIRED
    if ca_path:
        if os.path.isdir(ca_path):
            ctx.load_verify_locations(capath=ca_path)
        else:
            ctx.load_verify_locations(cafile=ca_path)
    else:
        ctx.load_default_certs()
    return ctx


def _format_address(sockaddr, port):
    host = sockaddr[0]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def _resolve(host, port):
    return [
        (family, sockaddr)
        for family, _type, _proto, _name, sockaddr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    ]


def _tcp_connect(family, sockaddr, timeout):
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


class HandshakeFailure(Exception):
    """A connection or handshake problem, with a kind and a one-line reason."""

    def __init__(self, kind, reason, stage="handshake"):
        super(HandshakeFailure, self).__init__(reason)
        self.kind = kind
        self.reason = reason
        self.stage = stage


def _ssl_reason(exc):
    reason = getattr(exc, "reason", None)
    if reason:
        return reason
    text = str(exc)
    match = re.search(r"\[SSL: ([A-Z0-9_]+)\]", text)
    return match.group(1) if match else None


def classify_error(exc, stage, where, timeout):
    """Turn a socket or ssl exception into a ``HandshakeFailure`` a person can read."""
    if isinstance(exc, HandshakeFailure):
        return exc
    if isinstance(exc, socket.gaierror):
        return HandshakeFailure("dns", "the name %s does not resolve (%s)" % (where, exc.strerror or exc))
    if isinstance(exc, socket.timeout) or (isinstance(exc, OSError) and "timed out" in str(exc)):
        if stage == "connect":
            return HandshakeFailure("timeout", "timed out after %g s connecting to %s" % (timeout, where), stage)
        return HandshakeFailure(
            "timeout",
            "timed out after %g s waiting for the TLS handshake with %s (the port accepted the connection "
            "but did not answer the ClientHello)" % (timeout, where),
        )
    if isinstance(exc, ConnectionRefusedError):
        return HandshakeFailure("refused", "connection to %s refused (nothing listens on that port)" % where, stage)
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError)):
        return HandshakeFailure(
            "closed",
            "%s closed the connection during the TLS handshake (it does not speak TLS, or refused this "
            "server name)" % where,
        )
    if isinstance(exc, ssl.SSLError):
        reason = _ssl_reason(exc)
        if reason in _NOT_TLS_REASONS:
            return HandshakeFailure(
                "not_tls", "%s does not speak TLS: its answer is not a TLS record (OpenSSL: %s)" % (where, reason)
            )
        return HandshakeFailure(
            "tls", "the TLS handshake with %s failed: %s" % (where, (reason or str(exc)).replace("_", " ").lower())
        )
    if isinstance(exc, OSError):
        return HandshakeFailure("connect", "cannot connect to %s: %s" % (where, exc.strerror or exc), stage)
    raise exc  # pragma: no cover - programming errors surface as they are


class TlsProber:
    """Makes the two handshakes of one probe.

    ``resolve(host, port)`` returns a list of ``(family, sockaddr)``;
    ``connect(family, sockaddr, timeout)`` returns a connected socket;
    ``now()`` returns an aware UTC datetime. Tests replace them.
    """

    def __init__(self, resolve=None, connect=None, now=None):
        self.resolve = resolve or _resolve
        self.connect = connect or _tcp_connect
        self.now = now or _utcnow

    def _handshake(self, ctx, server_name, family, sockaddr, where, timeout):
        try:
            sock = self.connect(family, sockaddr, timeout)
        except (OSError, ssl.SSLError) as exc:
            raise classify_error(exc, "connect", where, timeout)
        try:
            sock.settimeout(timeout)
            tls = ctx.wrap_socket(sock, server_hostname=server_name)
        except ssl.SSLCertVerificationError:
            sock.close()
            raise
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise classify_error(exc, "handshake", where, timeout)
        try:
            return tls.version(), (tls.cipher() or (None,))[0], tls.getpeercert(binary_form=True)
        finally:
            try:
                tls.close()
            except OSError:  # pragma: no cover
                pass

    def probe(self, server_name, connect_host, port, ca_path=None, timeout=10):
        result = empty_result(server_name, connect_host, port)
        try:
            addresses = self.resolve(connect_host, port)
        except (OSError, UnicodeError) as exc:
            failure = classify_error(exc, "resolve", connect_host, timeout)
            result.update(error=failure.reason, error_kind=failure.kind)
            return result
        if not addresses:
            result.update(error="the name %s resolves to no address" % connect_host, error_kind="dns")
            return result

        ctx = _inspection_context()
        found = None
        failure = None
        for family, sockaddr in addresses:
            where = _format_address(sockaddr, port)
            result["address"] = sockaddr[0]
            try:
                found = self._handshake(ctx, server_name, family, sockaddr, where, timeout)
                break
            except HandshakeFailure as exc:
                failure = exc
                if exc.stage != "connect":
                    break  # the port answered: that is the server's answer, not a dead address
        if found is None:
            result.update(error=failure.reason, error_kind=failure.kind)
            return result

        protocol, cipher, der = found
        result.update(protocol=protocol, cipher=cipher)
        if not der:
            result.update(error="%s sent no certificate" % where, error_kind="tls")
            return result
        try:
            result.update(describe_certificate(der, now=self.now()))
        except ValueError as exc:
            result.update(error="%s sent a certificate that cannot be parsed (%s)" % (where, exc), error_kind="tls")
            return result
        result["chain_verified"], result["chain_error"] = self._verify(
            server_name, family, sockaddr, where, ca_path, timeout, der
        )
        return result

    def _verify(self, server_name, family, sockaddr, where, ca_path, timeout, der):
        trust = ca_path or "the system trust store"
        try:
            _protocol, _cipher, seen = self._handshake(
                _verifying_context(ca_path), server_name, family, sockaddr, where, timeout
            )
        except ssl.SSLCertVerificationError as exc:
            message = getattr(exc, "verify_message", None) or _ssl_reason(exc) or str(exc)
            return False, "%s (checked against %s)" % (message, trust)
        except HandshakeFailure as exc:
            return False, "not verified: a verifying handshake with default security settings (TLS 1.2 or newer) failed: %s" % exc.reason
        if seen != der:
            return False, (
                "not verified: the server presented a different certificate on the verifying connection "
                "(SHA-256 %s)" % format_hex(hashlib.sha256(seen or b"").digest())
            )
        return True, None


def empty_result(server_name, connect_host, port):
    result = {
        "server_name": server_name,
        "connect_host": connect_host,
        "port": port,
        "address": None,
        "error": None,
        "error_kind": None,
        "protocol": None,
        "cipher": None,
        "chain_verified": None,
        "chain_error": None,
    }
    for key in CERTIFICATE_KEYS:
        result[key] = None
    result["subject_alt_names"] = []
    return result


def probe_handshake(server_name, connect_host=None, port=443, ca_path=None, timeout=10, prober=None):
    """Connect to ``connect_host:port`` with SNI ``server_name`` and return the handshake facts.

    Raises ``LinktrackError`` only for bad input. Connection problems come
    back in the result: ``error`` (a one-line reason) and ``error_kind``
    (``dns``, ``refused``, ``timeout``, ``not_tls``, ``closed``, ``tls``,
    ``connect``). The result is a dict with the keys of ``empty_result()``:
    server_name, connect_host, port, address, error, error_kind, protocol,
    cipher, subject, issuer, subject_alt_names, not_before, not_after,
    days_left, serial, sha256_fingerprint, certificate_pem, chain_verified,
    chain_error.
    """
    server_name = validate_server_name(server_name)
    connect_host = validate_connect_host(connect_host if connect_host is not None else server_name)
    port = validate_port(port)
    ca_path = validate_ca_path(ca_path)
    timeout = validate_seconds(timeout, "timeout")
    _require_cryptography()
    return (prober or TlsProber()).probe(server_name, connect_host, port, ca_path=ca_path, timeout=timeout)


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------


def _check(name, passed, reason):
    return {"name": name, "passed": bool(passed), "reason": reason}


def evaluate_handshake(result, server_name, min_tls_version="TLSv1.2", min_days_valid=14,
                       expected_certificate=None, expected_serial=None, now=None):
    """The list of checks ``{name, passed, reason}`` for a ``probe_handshake`` result.

    The first check is always ``handshake``. When the handshake failed it is
    the only one (there is no certificate to judge). Otherwise follow
    ``name_matches``, ``chain_trusted``, ``protocol_minimum``, ``validity`` and,
    when given, ``expected_certificate`` and ``expected_serial``.
    Raises ``LinktrackError`` for bad input only.
    """
    server_name = validate_server_name(server_name)
    validate_min_tls_version(min_tls_version)
    validate_min_days_valid(min_days_valid)
    want_fingerprint = parse_expected_certificate(expected_certificate) if expected_certificate is not None else None
    want_serial = parse_serial(expected_serial) if expected_serial is not None else None
    now = now or _utcnow()

    where = "%s:%s" % (result.get("connect_host"), result.get("port"))
    if result.get("error"):
        return [_check("handshake", False, result["error"])]
    checks = [
        _check(
            "handshake",
            True,
            "%s with %s from %s (SNI %s)" % (result.get("protocol"), result.get("cipher"), where, server_name),
        )
    ]

    names = result.get("subject_alt_names") or []
    match = name_matches(server_name, names)
    if match:
        reason = "%s is covered by the certificate name %s" % (server_name, match)
    elif names:
        reason = "%s is not among the certificate's names: %s" % (server_name, ", ".join(names))
    else:
        reason = "the certificate has no subjectAltName DNS names (subject %s); the CN is not used" % result.get("subject")
    checks.append(_check("name_matches", match is not None, reason))

    if result.get("chain_verified"):
        checks.append(_check("chain_trusted", True, "the chain verifies up to a trusted root (issuer %s)" % result.get("issuer")))
    else:
        checks.append(_check("chain_trusted", False, "%s; issuer %s" % (result.get("chain_error") or "not verified", result.get("issuer"))))

    protocol = result.get("protocol")
    rank = _PROTOCOL_RANK.get(protocol, -1)
    if rank >= _PROTOCOL_RANK[min_tls_version]:
        checks.append(_check("protocol_minimum", True, "negotiated %s, at least %s" % (protocol, min_tls_version)))
    elif min_tls_version == "TLSv1.3" and not getattr(ssl, "HAS_TLSv1_3", False):
        checks.append(_check(
            "protocol_minimum", False,
            "negotiated %s; the local OpenSSL (%s) cannot offer TLSv1.3, so the minimum TLSv1.3 cannot be checked here"
            % (protocol, ssl.OPENSSL_VERSION),
        ))
    else:
        checks.append(_check(
            "protocol_minimum", False,
            "negotiated %s, the newest version the server accepted; at least %s is required" % (protocol, min_tls_version),
        ))

    checks.append(_validity_check(result, min_days_valid, now))

    served = (result.get("sha256_fingerprint") or "").replace(":", "").upper()
    if want_fingerprint is not None:
        if served == want_fingerprint:
            checks.append(_check("expected_certificate", True, "the served certificate is the expected one (SHA-256 %s)" % result.get("sha256_fingerprint")))
        else:
            checks.append(_check(
                "expected_certificate", False,
                "the served certificate (SHA-256 %s, serial %s) is not the expected one (SHA-256 %s)"
                % (result.get("sha256_fingerprint"), result.get("serial"), format_hex(binascii.unhexlify(want_fingerprint))),
            ))
    if want_serial is not None:
        served_serial = parse_serial(result["serial"]) if result.get("serial") else None
        if served_serial == want_serial:
            checks.append(_check("expected_serial", True, "the served certificate has the expected serial %s" % result.get("serial")))
        else:
            checks.append(_check(
                "expected_serial", False,
                "the served certificate has serial %s, expected %s" % (result.get("serial"), format_serial(want_serial)),
            ))
    return checks


def _validity_check(result, min_days_valid, now):
    not_before = _parse_iso(result["not_before"])
    not_after = _parse_iso(result["not_after"])
    if now < not_before:
        return _check(
            "validity", False,
            "not valid yet: valid from %s (in %s)" % (result["not_before"], _span(not_before - now)),
        )
    if now >= not_after:
        return _check(
            "validity", False,
            "expired on %s (%s ago)" % (result["not_after"], _span(now - not_after)),
        )
    days_left = _days_between(now, not_after)
    if days_left < min_days_valid:
        return _check(
            "validity", False,
            "expires on %s, in %d days; at least %d days are required (min_days_valid)" % (result["not_after"], days_left, min_days_valid),
        )
    return _check(
        "validity", True,
        "valid until %s, %d days left (at least %d required)" % (result["not_after"], days_left, min_days_valid),
    )


def _span(delta):
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return "%d days" % (seconds // 86400)
    if seconds >= 2 * 3600:
        return "%d hours" % (seconds // 3600)
    if seconds >= 120:
        return "%d minutes" % (seconds // 60)
    return "%d seconds" % seconds


def failed_checks(checks):
    return [c for c in checks if not c["passed"]]


def summarize_failures(checks):
    """``name: reason; name: reason`` of every failing check."""
    return "; ".join("%s: %s" % (c["name"], c["reason"]) for c in failed_checks(checks))


# --------------------------------------------------------------------------
# The module's logic: probe, judge, retry
# --------------------------------------------------------------------------


class TlsSniCheck:
    """Probe and judge until every check passes or ``wait_timeout`` ends.

    ``prober`` is a ``TlsProber`` (fakes in tests); ``clock`` a ``Clock``.
    ``run()`` returns the module's result dict (without ``changed``).
    """

    def __init__(self, server_name, connect_host=None, port=443, ca_path=None, min_tls_version="TLSv1.2",
                 min_days_valid=14, expected_certificate=None, expected_serial=None, timeout=10,
                 wait_timeout=0, prober=None, clock=None, progress=None):
        self.server_name = validate_server_name(server_name)
        self.connect_host = validate_connect_host(connect_host if connect_host else self.server_name)
        self.port = validate_port(port)
        self.ca_path = validate_ca_path(ca_path)
        self.min_tls_version = validate_min_tls_version(min_tls_version)
        self.min_days_valid = validate_min_days_valid(min_days_valid)
        self.expected_certificate = expected_certificate
        if expected_certificate is not None:
            parse_expected_certificate(expected_certificate)
        self.expected_serial = expected_serial
        if expected_serial is not None:
            parse_serial(expected_serial)
        self.timeout = validate_seconds(timeout, "timeout")
        self.wait_timeout = validate_seconds(wait_timeout, "wait_timeout", allow_zero=True)
        _require_cryptography()
        self.prober = prober or TlsProber()
        self.clock = clock or Clock()
        # every attempt goes into the result's wait_history; a live line per attempt only while it waits (the
        # action plugin's), not for a single try
        self.progress = Progress(report=progress if self.wait_timeout else None, quiet_start=True)

    def attempt(self):
        result = self.prober.probe(self.server_name, self.connect_host, self.port, ca_path=self.ca_path, timeout=self.timeout)
        checks = evaluate_handshake(
            result, self.server_name, self.min_tls_version, self.min_days_valid,
            expected_certificate=self.expected_certificate, expected_serial=self.expected_serial,
            now=self.prober.now(),
        )
        return result, checks

    def run(self):
        tries = []  # (result, checks) of every attempt, last one last

        def check():
            result, checks = self.attempt()
            tries.append((result, checks))
            failing = failed_checks(checks)
            return not failing, "%d of %d checks failing" % (len(failing), len(checks)) if failing else "passed"

        start = self.clock.now()
        try:
            _state, waited = poll_until(
                check, self.wait_timeout, "every TLS check of %s to pass" % self.server_name, clock=self.clock,
                progress=self.progress, label="TLS check of %s:" % self.server_name,
            )
        except LinktrackError:  # the deadline passed: report the last attempt
            waited = round(self.clock.now() - start, 3)
        result, checks = tries[-1]
        out = dict((k, v) for k, v in result.items() if k not in ("error_kind",))
        out.update(
            checks=checks,
            passed=not failed_checks(checks),
            attempts=len(tries),
            waited_seconds=waited,
            wait_history=list(self.progress.history),
            openssl_command=openssl_command(self.server_name, self.connect_host, self.port, self.ca_path),
        )
        out["error_kind"] = result.get("error_kind")
        return out

    def failure_message(self, out):
        where = "%s:%d" % (self.connect_host, self.port)
        if ":" in self.connect_host:
            where = "[%s]:%d" % (self.connect_host, self.port)
        failing = failed_checks(out["checks"])
        return "TLS check of %s at %s failed %d of %d checks after %d attempt%s: %s" % (
            self.server_name, where, len(failing), len(out["checks"]), out["attempts"],
            "" if out["attempts"] == 1 else "s", summarize_failures(out["checks"]),
        )


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``tls_sni_check`` does with its validated ``params``.

    The module's ``main()`` and the action plugin that runs it inside the worker
    process both call this, so the module's behaviour exists once. Returns the
    result dict; a failure is a dict with ``failed: true`` and ``msg``. The
    check changes nothing, so check mode and ``--diff`` make no difference.
    ``progress`` takes one line per attempt while ``wait_timeout`` lets it retry.
    """
    params = dict(params)
    fail_on_error = params.pop("fail_on_error")
    try:
        check = TlsSniCheck(progress=progress, **params)
        result = check.run()
    except Exception as exc:  # noqa: BLE001 - one failed result for every error (result_from_exception)
        return result_from_exception(exc)
    if not result["passed"] and fail_on_error:
        result.update(failed=True, msg=check.failure_message(result), changed=False)
        return result
    if not result["passed"]:
        result["msg"] = check.failure_message(result)
    result["changed"] = False
    return result
