# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision logic of module_utils/_tls.py, without a network.

Name matching, serial and fingerprint parsing, the checks on given handshake
facts, and the retry loop with a fake prober and a fake clock.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._tls import (
    TlsSniCheck,
    describe_certificate,
    empty_result,
    evaluate_handshake,
    format_serial,
    name_matches,
    openssl_command,
    parse_expected_certificate,
    parse_serial,
    summarize_failures,
    validate_connect_host,
    validate_min_days_valid,
    validate_min_tls_version,
)
from ansible_collections.linktrack.https.tests.support.throwaway_tls import ThrowawayCA
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
NAME = "links.example.com"


# ---------------------------------------------------------------------------
# Name matching (RFC 6125 section 6.4, as browsers apply it)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "names, expected",
    [
        (["links.example.com"], "links.example.com"),
        (["LINKS.EXAMPLE.COM"], "LINKS.EXAMPLE.COM"),  # case-insensitive
        (["links.example.com."], "links.example.com."),  # absolute form
        (["other.example.com", "*.example.com"], "*.example.com"),
        (["*.links.example.com"], None),  # the wildcard needs one more label
        (["*.com"], None),  # too few labels after the wildcard
        (["example.com"], None),  # the parent is not the name
        (["*.*.com"], None),
        (["l*.example.com"], None),  # partial wildcards are not honoured
        (["*links.example.com"], None),
        (["links.example.co"], None),
        ([], None),
        (["127.0.0.1"], None),
    ],
)
def test_name_matches(names, expected):
    assert name_matches(NAME, names) == expected


def test_wildcard_matches_exactly_one_label():
    assert name_matches("a.example.com", ["*.example.com"]) == "*.example.com"
    assert name_matches("a.b.example.com", ["*.example.com"]) is None
    assert name_matches("example.com", ["*.example.com"]) is None


def test_wildcard_matches_a_punycode_label():
    assert name_matches("xn--bcher-kva.example.com", ["*.example.com"]) == "*.example.com"


# ---------------------------------------------------------------------------
# Serial numbers and fingerprints
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, number",
    [
        ("0a:3f:51", 0x0A3F51),
        ("0A3F51", 0x0A3F51),
        ("a3f51", 0x0A3F51),
        ("0x0a3f51", 0x0A3F51),
        (" 0a 3f 51 ", 0x0A3F51),
        ("00:80", 0x80),
    ],
)
def test_parse_serial(text, number):
    assert parse_serial(text) == number


@pytest.mark.parametrize("text", ["", "   ", "0g:12", "serial", "12-34"])
def test_parse_serial_rejects(text):
    with pytest.raises(LinktrackError) as info:
        parse_serial(text)
    assert info.value.field == "expected_serial"
    assert "expected_serial" in info.value.message


@pytest.mark.parametrize(
    "number, text",
    [(1, "01"), (0x80, "80"), (0x0A3F51, "0a:3f:51"), (0x1234567890ABCDEF, "12:34:56:78:90:ab:cd:ef")],
)
def test_format_serial(number, text):
    assert format_serial(number) == text
    assert parse_serial(text) == number


@pytest.fixture(scope="module")
def leaf():
    return ThrowawayCA("checks root").issue([NAME])


def test_expected_certificate_as_pem_chain_and_fingerprint(leaf):
    assert parse_expected_certificate(leaf.cert_pem) == leaf.sha256
    assert parse_expected_certificate(leaf.fullchain_pem) == leaf.sha256  # the leaf, not the intermediate
    colons = ":".join(leaf.sha256[i:i + 2] for i in range(0, 64, 2)).lower()
    assert parse_expected_certificate(colons) == leaf.sha256
    assert parse_expected_certificate("  %s\n" % leaf.sha256.lower()) == leaf.sha256


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("", "expected_certificate is empty"),
        ("AB" * 31, "(62 hex digits found, 64 needed)"),
        ("AB" * 33, "(66 hex digits found, 64 needed)"),
        ("ZZ" * 32, "is not a SHA-256 fingerprint"),
        ("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", "could not be parsed"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "holds no PEM certificate block"),
    ],
)
def test_expected_certificate_rejects(value, fragment):
    with pytest.raises(LinktrackError) as info:
        parse_expected_certificate(value)
    assert info.value.field == "expected_certificate"
    assert fragment in info.value.message


def test_describe_certificate(leaf):
    facts = describe_certificate(leaf.der, now=leaf.cert.not_valid_before_utc + datetime.timedelta(days=10))
    assert facts["subject"] == "CN=links.example.com"
    assert facts["issuer"] == "CN=checks root intermediate"
    assert facts["subject_alt_names"] == [NAME]
    assert facts["days_left"] == 80
    assert facts["sha256_fingerprint"].replace(":", "") == leaf.sha256
    assert parse_serial(facts["serial"]) == leaf.serial


# ---------------------------------------------------------------------------
# Other input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("D111.CloudFront.net", "d111.cloudfront.net"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[2001:db8::10]", "2001:db8::10"),
        ("localhost", "localhost"),
    ],
)
def test_connect_host_accepts(value, expected):
    assert validate_connect_host(value) == expected


@pytest.mark.parametrize("value", ["", "a b", "999.0.0.1", "1.2.3", "2001:db8:::1", "https://x.example", "x_y.example"])
def test_connect_host_rejects(value):
    with pytest.raises(LinktrackError) as info:
        validate_connect_host(value)
    assert info.value.field == "connect_host"
    assert info.value.message.startswith("connect_host")


def test_min_tls_version_and_days():
    assert validate_min_tls_version("TLSv1.3") == "TLSv1.3"
    with pytest.raises(LinktrackError) as info:
        validate_min_tls_version("TLSv1.1")
    assert info.value.message == "min_tls_version must be one of TLSv1.2, TLSv1.3, got 'TLSv1.1'."
    with pytest.raises(LinktrackError) as info:
        validate_min_days_valid(-1)
    assert info.value.field == "min_days_valid"


def test_openssl_command():
    assert openssl_command(NAME, "d111.cloudfront.net", 443) == (
        "openssl s_client -servername links.example.com -connect d111.cloudfront.net:443 </dev/null"
    )
    assert openssl_command(NAME, "::1", 8443, "/tmp/ca.pem") == (
        "openssl s_client -servername links.example.com -connect [::1]:8443 -CAfile /tmp/ca.pem </dev/null"
    )


# ---------------------------------------------------------------------------
# evaluate_handshake on given facts
# ---------------------------------------------------------------------------


def facts(**overrides):
    result = empty_result(NAME, "d111.cloudfront.net", 443)
    result.update(
        address="192.0.2.10",
        protocol="TLSv1.3",
        cipher="TLS_AES_128_GCM_SHA256",
        subject="CN=links.example.com",
        issuer="CN=Amazon RSA 2048 M02,O=Amazon,C=US",
        subject_alt_names=[NAME],
        not_before="2025-05-01T00:00:00Z",
        not_after="2025-07-01T00:00:00Z",
        days_left=29,
        serial="0A:3F",
        sha256_fingerprint=":".join(["AB"] * 32),
        chain_verified=True,
    )
    result.update(overrides)
    return result


def by_name(checks):
    return dict((c["name"], c) for c in checks)


def test_all_pass_and_order():
    checks = evaluate_handshake(facts(), NAME, "TLSv1.2", 14, expected_certificate="ab" * 32, expected_serial="a3f", now=NOW)
    assert [c["name"] for c in checks] == [
        "handshake", "name_matches", "chain_trusted", "protocol_minimum", "validity",
        "expected_certificate", "expected_serial",
    ]
    assert all(c["passed"] for c in checks)
    assert checks[0]["reason"] == "TLSv1.3 with TLS_AES_128_GCM_SHA256 from d111.cloudfront.net:443 (SNI links.example.com)"
    assert checks[4]["reason"] == "valid until 2025-07-01T00:00:00Z, 29 days left (at least 14 required)"


def test_optional_checks_only_when_asked():
    names = [c["name"] for c in evaluate_handshake(facts(), NAME, "TLSv1.2", 14, now=NOW)]
    assert names == ["handshake", "name_matches", "chain_trusted", "protocol_minimum", "validity"]


@pytest.mark.parametrize(
    "not_after, min_days, passed",
    [
        ("2025-06-15T12:00:00Z", 14, True),  # exactly 14 days left
        ("2025-06-15T11:59:59Z", 14, False),  # one second short: 13 whole days
        ("2025-06-01T12:00:01Z", 0, True),
        ("2025-06-01T12:00:00Z", 0, False),  # expires this very second
    ],
)
def test_validity_boundaries(not_after, min_days, passed):
    checks = by_name(evaluate_handshake(facts(not_after=not_after), NAME, "TLSv1.2", min_days, now=NOW))
    assert checks["validity"]["passed"] is passed


def test_validity_reasons():
    early = by_name(evaluate_handshake(facts(not_before="2025-06-01T15:00:00Z"), NAME, "TLSv1.2", 14, now=NOW))
    assert early["validity"]["reason"] == "not valid yet: valid from 2025-06-01T15:00:00Z (in 3 hours)"
    late = by_name(evaluate_handshake(facts(not_after="2025-05-31T12:00:00Z"), NAME, "TLSv1.2", 14, now=NOW))
    assert late["validity"]["reason"] == "expired on 2025-05-31T12:00:00Z (24 hours ago)"


@pytest.mark.parametrize(
    "protocol, minimum, passed",
    [
        ("TLSv1.3", "TLSv1.3", True),
        ("TLSv1.2", "TLSv1.2", True),
        ("TLSv1.2", "TLSv1.3", False),
        ("TLSv1.1", "TLSv1.2", False),
        ("TLSv1", "TLSv1.2", False),
        ("SSLv3", "TLSv1.2", False),
        ("something new", "TLSv1.2", False),
    ],
)
def test_protocol_minimum(protocol, minimum, passed):
    checks = by_name(evaluate_handshake(facts(protocol=protocol), NAME, minimum, 14, now=NOW))
    assert checks["protocol_minimum"]["passed"] is passed


def test_no_dns_names_in_the_certificate():
    checks = by_name(evaluate_handshake(facts(subject_alt_names=[]), NAME, "TLSv1.2", 14, now=NOW))
    assert checks["name_matches"]["passed"] is False
    assert checks["name_matches"]["reason"] == (
        "the certificate has no subjectAltName DNS names (subject CN=links.example.com); the CN is not used"
    )


def test_failed_handshake_is_the_only_check():
    result = empty_result(NAME, "d111.cloudfront.net", 443)
    result.update(error="connection to 192.0.2.10:443 refused (nothing listens on that port)", error_kind="refused")
    checks = evaluate_handshake(result, NAME, "TLSv1.2", 14, expected_certificate="ab" * 32, now=NOW)
    assert checks == [{"name": "handshake", "passed": False, "reason": result["error"]}]


def test_evaluate_rejects_bad_options_even_without_a_certificate():
    result = empty_result(NAME, "h.example", 443)
    result["error"] = "x"
    for kwargs, field in [
        (dict(min_tls_version="SSLv3"), "min_tls_version"),
        (dict(min_days_valid=-3), "min_days_valid"),
        (dict(expected_certificate="abc"), "expected_certificate"),
        (dict(expected_serial="xyz"), "expected_serial"),
        (dict(server_name="1.2.3.4"), "server_name"),
    ]:
        args = dict(min_tls_version="TLSv1.2", min_days_valid=14, server_name=NAME)
        args.update(kwargs)
        with pytest.raises(LinktrackError) as info:
            evaluate_handshake(result, **args)
        assert info.value.field == field


def test_summarize_failures_lists_every_failing_check():
    checks = evaluate_handshake(
        facts(subject_alt_names=["x.example.org"], chain_verified=False, chain_error="self-signed certificate",
              protocol="TLSv1.2"),
        NAME, "TLSv1.3", 14, now=NOW,
    )
    text = summarize_failures(checks)
    assert text == (
        "name_matches: links.example.com is not among the certificate's names: x.example.org; "
        "chain_trusted: self-signed certificate; issuer CN=Amazon RSA 2048 M02,O=Amazon,C=US; "
        "protocol_minimum: negotiated TLSv1.2, the newest version the server accepted; at least TLSv1.3 is required"
    )


# ---------------------------------------------------------------------------
# TlsSniCheck: retrying with a fake prober and clock
# ---------------------------------------------------------------------------


class FakeProber:
    """Answers from a script of results; each probe costs 0.5 s of fake time."""

    def __init__(self, clock, script):
        self.clock = clock
        self.script = list(script)
        self.calls = []

    def now(self):
        return NOW

    def probe(self, server_name, connect_host, port, ca_path=None, timeout=10):
        self.calls.append((server_name, connect_host, port, ca_path, timeout))
        self.clock.t += 0.5
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


def refused():
    result = empty_result(NAME, "d111.cloudfront.net", 443)
    result.update(error="connection to 192.0.2.10:443 refused (nothing listens on that port)", error_kind="refused")
    return result


def test_retries_until_every_check_passes():
    clock = FakeClock(100.0)
    old_cert = facts(sha256_fingerprint=":".join(["CD"] * 32))
    prober = FakeProber(clock, [refused(), old_cert, facts()])
    check = TlsSniCheck(NAME, "d111.cloudfront.net", expected_certificate="AB" * 32, wait_timeout=60,
                        prober=prober, clock=clock)
    out = check.run()
    assert out["passed"] is True
    assert out["attempts"] == 3
    assert clock.sleeps == [1.0, 1.6]  # poll_until's growing pauses
    assert out["waited_seconds"] == 4.1  # 3 probes of 0.5 s + 2.6 s of pauses
    assert prober.calls[0] == (NAME, "d111.cloudfront.net", 443, None, 10)


def test_gives_up_at_the_deadline_with_the_last_result():
    clock = FakeClock(100.0)
    prober = FakeProber(clock, [refused()])
    check = TlsSniCheck(NAME, "d111.cloudfront.net", wait_timeout=10, prober=prober, clock=clock)
    out = check.run()
    assert out["passed"] is False
    assert out["attempts"] == len(prober.calls) == 5
    assert sum(clock.sleeps) <= 10
    assert out["waited_seconds"] == pytest.approx(clock.t - 100.0)
    assert out["error_kind"] == "refused"
    assert check.failure_message(out) == (
        "TLS check of links.example.com at d111.cloudfront.net:443 failed 1 of 1 checks after 5 attempts: "
        "handshake: connection to 192.0.2.10:443 refused (nothing listens on that port)"
    )


def test_one_attempt_without_wait_timeout():
    clock = FakeClock(100.0)
    prober = FakeProber(clock, [refused(), facts()])
    out = TlsSniCheck(NAME, prober=prober, clock=clock).run()
    assert out["attempts"] == 1 and clock.sleeps == []
    assert out["passed"] is False
    assert prober.calls[0][1] == NAME  # connect_host defaults to the server name
    assert out["openssl_command"] == "openssl s_client -servername links.example.com -connect links.example.com:443 </dev/null"


def test_bad_input_is_refused_before_any_probe():
    clock = FakeClock(100.0)
    prober = FakeProber(clock, [facts()])
    for kwargs, field in [
        (dict(port=70000), "port"),
        (dict(min_tls_version="TLSv1"), "min_tls_version"),
        (dict(expected_certificate="12:34"), "expected_certificate"),
        (dict(expected_serial="nope"), "expected_serial"),
        (dict(wait_timeout=-1), "wait_timeout"),
        (dict(timeout=0), "timeout"),
        (dict(connect_host="bad host"), "connect_host"),
    ]:
        with pytest.raises(LinktrackError) as info:
            TlsSniCheck(NAME, prober=prober, clock=clock, **kwargs)
        assert info.value.field == field
    assert prober.calls == []
