# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real TLS handshakes on loopback against module_utils/_tls.py.

Every server here is made by the test with a throwaway CA (tests/support/throwaway_tls.py)
and listens on 127.0.0.1 or ::1 on a port the kernel picks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import socket
import ssl
import time
import warnings

import pytest

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._tls import (
    TlsProber,
    TlsSniCheck,
    evaluate_handshake,
    probe_handshake,
)
from ansible_collections.linktrack.https.tests.support.throwaway_tls import (
    PlainTcpServer,
    SilentServer,
    ThrowawayCA,
    TlsServer,
    free_port,
    has_ipv6_loopback,
)

NAME = "links.example.com"
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def ca():
    return ThrowawayCA("linktrack unit root")


@pytest.fixture(scope="module")
def other_ca():
    return ThrowawayCA("somebody else's root", intermediate=False)


@pytest.fixture(scope="module")
def bundle(ca, tmp_path_factory):
    return ca.bundle_path(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def good(ca):
    return ca.issue([NAME, "www.example.com"], days=90)


def by_name(checks):
    return dict((c["name"], c) for c in checks)


def failing(checks):
    return sorted(c["name"] for c in checks if not c["passed"])


def can_serve(version):
    """Whether this Python/OpenSSL can still make a handshake at ``version`` (checked by doing one)."""
    ca = ThrowawayCA("probe root", intermediate=False)
    leaf = ca.issue(["old.example.com"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            server = TlsServer(leaf, legacy=True, min_version=version, max_version=version).start()
        except (ValueError, ssl.SSLError):
            return False
    try:
        result = probe_handshake("old.example.com", "127.0.0.1", server.port, timeout=5)
    finally:
        server.stop()
    return result["error"] is None and result["protocol"] is not None


# ---------------------------------------------------------------------------
# The good case, and what the probe reports
# ---------------------------------------------------------------------------


def test_good_certificate_passes_every_check(good, bundle):
    with TlsServer(good) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
        checks = evaluate_handshake(result, NAME, "TLSv1.2", 14, expected_certificate=good.cert_pem,
                                    expected_serial="%x" % good.serial)
    assert result["error"] is None
    assert result["protocol"] == "TLSv1.3"
    assert result["cipher"].startswith("TLS_")
    assert result["chain_verified"] is True and result["chain_error"] is None
    assert result["subject"] == "CN=%s" % NAME
    assert result["issuer"] == "CN=linktrack unit root intermediate"
    assert result["subject_alt_names"] == [NAME, "www.example.com"]
    assert result["sha256_fingerprint"].replace(":", "") == good.sha256
    assert result["serial"].replace(":", "") == ("%x" % good.serial).rjust(len(result["serial"].replace(":", "")), "0")
    assert result["not_after"] == good.cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["not_before"] == good.cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["days_left"] == 89  # issued an hour ago for 90 days
    assert result["address"] == "127.0.0.1"
    assert result["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert [c["name"] for c in checks] == [
        "handshake", "name_matches", "chain_trusted", "protocol_minimum", "validity",
        "expected_certificate", "expected_serial",
    ]
    assert failing(checks) == []
    assert server.sni_seen == [NAME, NAME]  # both handshakes sent the server name


def test_sni_selects_the_certificate(ca, good, bundle):
    default = ca.issue(["*.cloudfront.example"])
    with TlsServer({None: default, NAME: good}) as server:
        for_alias = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
        for_other = probe_handshake("d111.cloudfront.example", "127.0.0.1", server.port, ca_path=bundle)
    assert for_alias["sha256_fingerprint"].replace(":", "") == good.sha256
    assert for_other["sha256_fingerprint"].replace(":", "") == default.sha256
    assert failing(evaluate_handshake(for_other, "d111.cloudfront.example", "TLSv1.2", 14)) == []


def test_system_trust_store_does_not_trust_the_throwaway_ca(good):
    with TlsServer(good) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port)
    checks = by_name(evaluate_handshake(result, NAME, "TLSv1.2", 14))
    assert result["chain_verified"] is False
    assert "unable to get local issuer certificate" in result["chain_error"]
    assert "system trust store" in result["chain_error"]
    assert checks["chain_trusted"]["passed"] is False
    assert checks["name_matches"]["passed"] is True


# ---------------------------------------------------------------------------
# Certificates that must fail
# ---------------------------------------------------------------------------


def test_wrong_name(good, bundle):
    with TlsServer(good) as server:
        result = probe_handshake("links.example.org", "127.0.0.1", server.port, ca_path=bundle)
    checks = evaluate_handshake(result, "links.example.org", "TLSv1.2", 14)
    assert failing(checks) == ["name_matches"]
    reason = by_name(checks)["name_matches"]["reason"]
    assert "links.example.org is not among the certificate's names: links.example.com, www.example.com" == reason


def test_wildcard_certificate_covers_one_label(ca, bundle):
    leaf = ca.issue(["*.example.com"])
    with TlsServer(leaf) as server:
        one = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
        two = probe_handshake("a.links.example.com", "127.0.0.1", server.port, ca_path=bundle)
    assert failing(evaluate_handshake(one, NAME, "TLSv1.2", 14)) == []
    assert failing(evaluate_handshake(two, "a.links.example.com", "TLSv1.2", 14)) == ["name_matches"]


def test_expired(ca, bundle):
    now = datetime.datetime.now(UTC)
    leaf = ca.issue([NAME], not_before=now - datetime.timedelta(days=100), not_after=now - datetime.timedelta(days=3))
    with TlsServer(leaf) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    checks = by_name(evaluate_handshake(result, NAME, "TLSv1.2", 14))
    assert result["days_left"] == -4  # 3 days and a few milliseconds ago, rounded down
    assert checks["validity"]["passed"] is False
    assert checks["validity"]["reason"] == "expired on %s (3 days ago)" % result["not_after"]
    # OpenSSL refuses an expired chain too, and says why
    assert checks["chain_trusted"]["passed"] is False
    assert "certificate has expired" in result["chain_error"]
    assert checks["name_matches"]["passed"] is True


def test_not_yet_valid(ca, bundle):
    now = datetime.datetime.now(UTC)
    leaf = ca.issue([NAME], not_before=now + datetime.timedelta(days=10), days=90)
    with TlsServer(leaf) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    checks = by_name(evaluate_handshake(result, NAME, "TLSv1.2", 14))
    assert checks["validity"]["passed"] is False
    assert checks["validity"]["reason"] == "not valid yet: valid from %s (in 9 days)" % result["not_before"]
    assert "not yet valid" in result["chain_error"]


def test_fewer_days_left_than_required(ca, bundle):
    leaf = ca.issue([NAME], days=10)
    with TlsServer(leaf) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    checks = by_name(evaluate_handshake(result, NAME, "TLSv1.2", 14))
    assert failing(list(checks.values())) == ["validity"]
    assert "in 9 days; at least 14 days are required" in checks["validity"]["reason"]
    assert failing(evaluate_handshake(result, NAME, "TLSv1.2", 9)) == []


def test_untrusted_issuer(other_ca, bundle):
    leaf = other_ca.issue([NAME])
    with TlsServer(leaf) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    checks = evaluate_handshake(result, NAME, "TLSv1.2", 14)
    assert failing(checks) == ["chain_trusted"]
    assert result["chain_verified"] is False
    assert result["chain_error"] == "unable to get local issuer certificate (checked against %s)" % bundle
    assert "issuer CN=somebody else's root" in by_name(checks)["chain_trusted"]["reason"]


def test_self_signed_leaf_is_not_trusted(bundle):
    lone = ThrowawayCA("links.example.com", intermediate=False)
    # a CA certificate used as the server's own certificate: self-signed
    from ansible_collections.linktrack.https.tests.support.throwaway_tls import Leaf
    leaf = Leaf(lone.cert, lone.key, [])
    with TlsServer(leaf) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    assert result["chain_verified"] is False
    assert "self-signed certificate" in result["chain_error"] or "self signed certificate" in result["chain_error"]


def test_expected_certificate_mismatch(ca, good, bundle):
    newer = ca.issue([NAME])
    with TlsServer(good) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    by_pem = by_name(evaluate_handshake(result, NAME, "TLSv1.2", 14, expected_certificate=newer.fullchain_pem))
    by_fp = by_name(evaluate_handshake(result, NAME, "TLSv1.2", 14, expected_certificate=newer.sha256.lower()))
    for checks in (by_pem, by_fp):
        assert failing(list(checks.values())) == ["expected_certificate"]
        reason = checks["expected_certificate"]["reason"]
        assert result["sha256_fingerprint"] in reason
        assert ":".join(newer.sha256[i:i + 2] for i in range(0, 64, 2)) in reason
    same = evaluate_handshake(result, NAME, "TLSv1.2", 14, expected_certificate=result["sha256_fingerprint"].lower())
    assert failing(same) == []


def test_expected_serial_mismatch(ca, bundle):
    leaf = ca.issue([NAME], serial=0x0A3F519C2E771BD480116E5A2C9304B7)
    with TlsServer(leaf) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    assert result["serial"] == "0a:3f:51:9c:2e:77:1b:d4:80:11:6e:5a:2c:93:04:b7"
    wrong = by_name(evaluate_handshake(result, NAME, "TLSv1.2", 14, expected_serial="0a:3f:51:9c:2e:77:1b:d4:80:11:6e:5a:2c:93:04:b8"))
    assert wrong["expected_serial"]["passed"] is False
    assert wrong["expected_serial"]["reason"] == (
        "the served certificate has serial 0a:3f:51:9c:2e:77:1b:d4:80:11:6e:5a:2c:93:04:b7, "
        "expected 0a:3f:51:9c:2e:77:1b:d4:80:11:6e:5a:2c:93:04:b8"
    )
    # the ACM spelling (lower case, colons) and a bare one both match
    for spelling in ("0a:3f:51:9c:2e:77:1b:d4:80:11:6e:5a:2c:93:04:b7", "A3F519C2E771BD480116E5A2C9304B7"):
        assert failing(evaluate_handshake(result, NAME, "TLSv1.2", 14, expected_serial=spelling)) == []


def test_every_failing_check_is_listed(other_ca, bundle):
    now = datetime.datetime.now(UTC)
    leaf = other_ca.issue(["wrong.example.net"], not_before=now - datetime.timedelta(days=40), days=35)
    with TlsServer(leaf, max_version=ssl.TLSVersion.TLSv1_2) as server:
        check = TlsSniCheck(NAME, "127.0.0.1", server.port, ca_path=bundle, min_tls_version="TLSv1.3",
                            expected_certificate="AB" * 32, expected_serial="01")
        out = check.run()
    assert out["passed"] is False
    assert failing(out["checks"]) == sorted([
        "name_matches", "chain_trusted", "protocol_minimum", "validity", "expected_certificate", "expected_serial",
    ])
    message = check.failure_message(out)
    assert message.startswith("TLS check of links.example.com at 127.0.0.1:%d failed 6 of 7 checks after 1 attempt: " % server.port)
    for name in failing(out["checks"]):
        assert "%s: " % name in message


# ---------------------------------------------------------------------------
# Protocol versions
# ---------------------------------------------------------------------------


def test_tls12_only_server_fails_a_tls13_minimum(good, bundle):
    with TlsServer(good, max_version=ssl.TLSVersion.TLSv1_2) as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    assert result["protocol"] == "TLSv1.2"
    assert failing(evaluate_handshake(result, NAME, "TLSv1.2", 14)) == []
    checks = by_name(evaluate_handshake(result, NAME, "TLSv1.3", 14))
    assert checks["protocol_minimum"]["passed"] is False
    assert checks["protocol_minimum"]["reason"] == (
        "negotiated TLSv1.2, the newest version the server accepted; at least TLSv1.3 is required"
    )
    assert result["chain_verified"] is True


@pytest.mark.parametrize("version, name", [("TLSv1", "TLSv1"), ("TLSv1_1", "TLSv1.1")])
def test_old_protocol_server_is_reported_as_old(good, bundle, version, name):
    tls_version = getattr(ssl.TLSVersion, version)
    if not can_serve(tls_version):
        pytest.skip("the local OpenSSL (%s) cannot make a %s handshake any more" % (ssl.OPENSSL_VERSION, name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        server = TlsServer(good, legacy=True, min_version=tls_version, max_version=tls_version).start()
    try:
        result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    finally:
        server.stop()
    assert result["error"] is None
    assert result["protocol"] == name
    checks = by_name(evaluate_handshake(result, NAME, "TLSv1.2", 14))
    assert checks["protocol_minimum"]["passed"] is False
    assert checks["protocol_minimum"]["reason"].startswith("negotiated %s," % name)
    # the certificate is still read and judged
    assert checks["name_matches"]["passed"] is True
    assert checks["validity"]["passed"] is True
    # a verifying handshake at default security refuses the old protocol: not verified, and why
    assert result["chain_verified"] is False
    assert result["chain_error"].startswith("not verified: a verifying handshake with default security settings")


# ---------------------------------------------------------------------------
# Connections that never get to a certificate
# ---------------------------------------------------------------------------


def test_plain_tcp_port_that_speaks_no_tls():
    with PlainTcpServer() as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, timeout=5)
    assert result["error_kind"] == "not_tls"
    assert result["error"] == (
        "127.0.0.1:%d does not speak TLS: its answer is not a TLS record (OpenSSL: WRONG_VERSION_NUMBER)" % server.port
    )
    checks = evaluate_handshake(result, NAME, "TLSv1.2", 14)
    assert checks == [{"name": "handshake", "passed": False, "reason": result["error"]}]
    assert result["sha256_fingerprint"] is None and result["chain_verified"] is None


def test_peer_that_closes_without_answering():
    with PlainTcpServer(reply=b"") as server:
        result = probe_handshake(NAME, "127.0.0.1", server.port, timeout=5)
    assert result["error_kind"] == "closed"
    assert "closed the connection during the TLS handshake" in result["error"]


def test_closed_port():
    port = free_port()
    result = probe_handshake(NAME, "127.0.0.1", port, timeout=5)
    assert result["error_kind"] == "refused"
    assert result["error"] == "connection to 127.0.0.1:%d refused (nothing listens on that port)" % port


def test_silent_server_times_out():
    with SilentServer() as server:
        start = time.monotonic()
        result = probe_handshake(NAME, "127.0.0.1", server.port, timeout=0.5)
        elapsed = time.monotonic() - start
    assert result["error_kind"] == "timeout"
    assert result["error"].startswith("timed out after 0.5 s waiting for the TLS handshake with 127.0.0.1:%d" % server.port)
    assert elapsed < 3


def test_name_that_does_not_resolve_real_resolver():
    result = probe_handshake(NAME, "no-such-host.invalid", 443, timeout=5)
    assert result["error_kind"] == "dns"
    assert result["error"].startswith("the name no-such-host.invalid does not resolve")


def test_name_that_does_not_resolve_fake_resolver():
    def resolve(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result = TlsProber(resolve=resolve).probe(NAME, "d111.cloudfront.net", 443, timeout=1)
    assert result["error_kind"] == "dns"
    assert result["error"] == "the name d111.cloudfront.net does not resolve (Name or service not known)"


def test_dead_address_is_skipped_for_the_next_one(good, bundle):
    dead = free_port()
    with TlsServer(good) as server:
        def resolve(host, port):
            return [(socket.AF_INET, ("127.0.0.1", dead)), (socket.AF_INET, ("127.0.0.1", server.port))]

        result = TlsProber(resolve=resolve).probe(NAME, "edge.example", server.port, ca_path=bundle, timeout=5)
    assert result["error"] is None
    assert result["chain_verified"] is True


def test_certificate_changing_between_the_two_connections(ca, good, bundle):
    other = ca.issue([NAME])

    class Flipping(TlsServer):
        """Presents ``good`` on the first connection and ``other`` afterwards."""

        def serve(self, conn):
            if self.connections > 1:
                self.context = self._second
            super(Flipping, self).serve(conn)

    server = Flipping(good)
    holder = TlsServer(other)  # never started: only its context is used
    server._second = holder.context
    try:
        with server:
            result = probe_handshake(NAME, "127.0.0.1", server.port, ca_path=bundle)
    finally:
        holder.stop()
    assert result["sha256_fingerprint"].replace(":", "") == good.sha256
    assert result["chain_verified"] is False
    assert "different certificate on the verifying connection" in result["chain_error"]
    assert hashlib.sha256(other.der).hexdigest().upper()[:2] in result["chain_error"]


@pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no ::1")
@pytest.mark.parametrize("connect_host", ["::1", "[::1]"])
def test_ipv6_connect_host(good, bundle, connect_host):
    with TlsServer(good, host="::1") as server:
        result = probe_handshake(NAME, connect_host, server.port, ca_path=bundle)
    assert result["connect_host"] == "::1"
    assert result["address"] == "::1"
    assert result["error"] is None
    assert failing(evaluate_handshake(result, NAME, "TLSv1.2", 14)) == []


@pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no ::1")
def test_ipv6_closed_port_message_brackets_the_address():
    port = free_port("::1")
    result = probe_handshake(NAME, "::1", port)
    assert result["error"] == "connection to [::1]:%d refused (nothing listens on that port)" % port


# ---------------------------------------------------------------------------
# Waiting for a server that comes late
# ---------------------------------------------------------------------------


def test_wait_timeout_outlasts_a_server_that_starts_late(good, bundle):
    with TlsServer(good, start_delay=1.5) as server:
        check = TlsSniCheck(NAME, "127.0.0.1", server.port, ca_path=bundle, timeout=2, wait_timeout=20)
        out = check.run()
    assert out["passed"] is True, out["checks"]
    assert out["attempts"] >= 2
    assert 1.0 <= out["waited_seconds"] < 10
    assert out["error"] is None


def test_without_wait_timeout_a_late_server_fails_once(good, bundle):
    with TlsServer(good, start_delay=3) as server:
        out = TlsSniCheck(NAME, "127.0.0.1", server.port, ca_path=bundle, timeout=2).run()
    assert out["passed"] is False
    assert out["attempts"] == 1
    assert out["error_kind"] == "refused"
    assert failing(out["checks"]) == ["handshake"]


def test_wait_timeout_gives_up_with_the_last_result():
    port = free_port()
    start = time.monotonic()
    out = TlsSniCheck(NAME, "127.0.0.1", port, timeout=1, wait_timeout=2.5).run()
    assert time.monotonic() - start < 6
    assert out["passed"] is False
    assert out["attempts"] >= 2
    assert out["waited_seconds"] >= 2.5
    assert out["error"] == "connection to 127.0.0.1:%d refused (nothing listens on that port)" % port


# ---------------------------------------------------------------------------
# Bad input is refused before any connection
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, field, fragment",
    [
        (dict(server_name=""), "server_name", "server_name is empty"),
        (dict(server_name="127.0.0.1"), "server_name", "looks like an IP address"),
        (dict(server_name="*.example.com"), "server_name", "is a wildcard"),
        (dict(server_name="https://links.example.com"), "server_name", "without a scheme"),
        (dict(connect_host="not a host"), "connect_host", "white space"),
        (dict(connect_host="300.1.1.1"), "connect_host", "not a valid IPv4 address"),
        (dict(connect_host="fe80:::1"), "connect_host", "not a valid IPv6 address"),
        (dict(port=0), "port", "from 1 to 65535, got 0"),
        (dict(port=65536), "port", "from 1 to 65535, got 65536"),
        (dict(ca_path="/nonexistent/ca.pem"), "ca_path", "does not exist"),
        (dict(timeout=0), "timeout", "above 0"),
    ],
)
def test_probe_rejects_bad_input(kwargs, field, fragment):
    args = dict(server_name=NAME, connect_host="127.0.0.1", port=443)
    args.update(kwargs)
    with pytest.raises(LinktrackError) as info:
        probe_handshake(**args)
    assert info.value.field == field
    assert fragment in info.value.message


def test_ca_path_without_certificates(tmp_path):
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificates here\n")
    with pytest.raises(LinktrackError) as info:
        probe_handshake(NAME, "127.0.0.1", 443, ca_path=str(empty))
    assert info.value.field == "ca_path"
    assert info.value.message.startswith("ca_path: %s could not be read as a PEM CA bundle" % empty)


def test_unreadable_ca_path(tmp_path, monkeypatch, bundle):
    # root reads a mode-0 file anyway, so the permission answer is faked
    from ansible_collections.linktrack.https.plugins.module_utils import _tls

    monkeypatch.setattr(_tls.os, "access", lambda path, mode: False)
    with pytest.raises(LinktrackError) as info:
        probe_handshake(NAME, "127.0.0.1", 443, ca_path=bundle)
    assert info.value.field == "ca_path"
    assert info.value.message == "ca_path: %s is not readable by this user." % bundle


# ---------------------------------------------------------------------------
# wait_history: one entry per attempt, live lines only while waiting
# ---------------------------------------------------------------------------


def test_wait_history_has_one_entry_per_attempt(good, bundle):
    lines = []
    with TlsServer(good, start_delay=1.5) as server:
        out = TlsSniCheck(NAME, "127.0.0.1", server.port, ca_path=bundle, timeout=2, wait_timeout=20,
                          progress=lines.append).run()
    history = out["wait_history"]
    assert out["passed"] is True
    assert len(history) == out["attempts"] >= 2
    assert history[-1]["state"] == "passed" and history[-1]["done"] is True
    assert all(h["done"] is False and h["state"].endswith("checks failing") for h in history[:-1])
    assert all(h["what"] == "TLS check of %s:" % NAME and h["timeout"] == 20 for h in history)
    assert history[0]["elapsed"] == 0.0 and history[-1]["elapsed"] >= 1.0
    assert len(lines) == len(history)


def test_single_try_has_one_history_entry_and_no_live_line():
    port = free_port()
    lines = []
    out = TlsSniCheck(NAME, "127.0.0.1", port, timeout=1, progress=lines.append).run()
    assert out["passed"] is False
    assert [(h["done"], h["timeout"]) for h in out["wait_history"]] == [(False, 0)]
    assert lines == []
