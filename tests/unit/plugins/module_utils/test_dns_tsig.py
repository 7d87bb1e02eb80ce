# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the TSIG key check in module_utils/_dns.py (rfc2136_key_check).

The fake server verifies the signed question with dnspython the way a name
server does (its own keyring: name, algorithm and secret) and signs its answer,
so the client's real TSIG code runs on both ends; BIND itself answers in the
reliability matrix (tests/reliability/test_bad_input.py, tsig-* cases).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import pytest

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._dns import (
    TsigKeyChecker,
    run_key_check_module,
    tsig_secret_bytes,
)

SECRET = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode("ascii")
OTHER = base64.b64encode(b"not-the-key-of-the-server-000000").decode("ascii")
SOA = "ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300"


class FakeServer:
    """Answers SOA for example.com like an authoritative server that knows one key."""

    def __init__(self, name="linktrack", algorithm="hmac-sha256", secret=SECRET, rcode=dns.rcode.NOERROR,
                 sign=True, error=None):
        self.key = dns.tsig.Key(name, secret, algorithm)
        self.rcode = rcode
        self.sign = sign
        self.error = error
        self.asked = []

    def udp(self, query, where, port=53, timeout=None):
        self.asked.append((where, port, timeout, query.question[0].name.to_text(), query.had_tsig))
        if self.error is not None:
            raise self.error
        wire = query.to_wire()
        try:
            request = dns.message.from_wire(wire, keyring={self.key.name: self.key})
        except dns.message.UnknownTSIGKey:
            raise dns.tsig.PeerBadKey
        except dns.tsig.BadAlgorithm:
            raise dns.tsig.PeerBadKey
        except dns.tsig.BadSignature:
            raise dns.tsig.PeerBadSignature
        response = dns.message.make_response(request)
        if not self.sign:
            response = dns.message.Message(id=request.id)
            response.flags = dns.flags.QR | dns.flags.AA
            response.question = list(request.question)
        response.set_rcode(self.rcode)
        qname = request.question[0].name
        zone = dns.name.from_text("example.com.")
        if self.rcode == dns.rcode.NOERROR and qname == zone:
            response.answer.append(dns.rrset.from_text(zone, 300, "IN", "SOA", SOA))
        elif self.rcode == dns.rcode.NXDOMAIN:
            response.authority.append(dns.rrset.from_text(zone, 300, "IN", "SOA", SOA))
        answer = response.to_wire()
        return dns.message.from_wire(answer, keyring=query.keyring, request_mac=query.mac)


def check(fake, **kwargs):
    args = dict(server="127.0.0.1", zone="example.com", key_name="linktrack", key_algorithm="hmac-sha256",
                key_secret=SECRET, port=5353)
    args.update(kwargs)
    return TsigKeyChecker(timeout=2.0, transport=fake).check(**args)


def test_the_right_key_is_proven_with_one_signed_soa_question():
    server = FakeServer()
    result = check(server)
    assert result == {"server": "127.0.0.1:5353", "zone": "example.com", "rcode": "NOERROR",
                      "key_name": "linktrack", "key_algorithm": "hmac-sha256", "verified": True}
    assert server.asked == [("127.0.0.1", 5353, 2.0, "example.com.", True)]


def test_a_name_inside_the_zone_finds_the_zone_in_the_authority_section():
    result = check(FakeServer(rcode=dns.rcode.NXDOMAIN), zone="links.example.com.")
    assert (result["rcode"], result["zone"]) == ("NXDOMAIN", "example.com")


def test_hmac_md5_uses_the_long_algorithm_name():
    result = check(FakeServer(algorithm=dns.tsig.HMAC_MD5), key_algorithm="hmac-md5")
    assert result["verified"] is True


def test_a_wrong_secret_names_key_secret_and_never_the_secret():
    with pytest.raises(LinktrackError) as err:
        check(FakeServer(), key_secret=OTHER)
    assert err.value.field == "key_secret"
    assert err.value.details == {"fields": ["key_secret"], "reason": "badsig"}
    assert "BADSIG" in err.value.message
    assert OTHER not in err.value.message and SECRET not in err.value.message


@pytest.mark.parametrize("kwargs", [{"key_name": "no-such-key"}, {"key_algorithm": "hmac-sha512"}])
def test_an_unknown_key_or_another_algorithm_names_key_name_and_key_algorithm(kwargs):
    with pytest.raises(LinktrackError) as err:
        check(FakeServer(), **kwargs)
    assert err.value.details == {"fields": ["key_name", "key_algorithm"], "reason": "badkey"}
    assert err.value.message.startswith("key_name / key_algorithm: 127.0.0.1:5353 answered BADKEY")


@pytest.mark.parametrize("secret", ["not base64 !!", "abc", "YWJj=", "====", " "])
def test_a_secret_that_is_not_base64_fails_before_anything_is_sent(secret):
    server = FakeServer()
    with pytest.raises(LinktrackError) as err:
        check(server, key_secret=secret)
    assert err.value.field == "key_secret"
    assert server.asked == []
    assert secret.strip() == "" or secret not in err.value.message


def test_whitespace_in_the_secret_is_ignored():
    assert tsig_secret_bytes(SECRET[:10] + "\n " + SECRET[10:]) == b"0123456789abcdef0123456789abcdef"


def test_an_unsigned_answer_does_not_prove_the_key():
    with pytest.raises(LinktrackError) as err:
        check(FakeServer(sign=False))
    assert err.value.details == {"fields": ["key_name", "key_algorithm", "key_secret"], "reason": "unsigned"}


@pytest.mark.parametrize("rcode,reason,fields", [
    (dns.rcode.NOTAUTH, "notauth", ["key_name", "key_algorithm", "key_secret"]),
    (dns.rcode.REFUSED, "refused", ["zone"]),
])
def test_signed_refusals_name_what_to_fix(rcode, reason, fields):
    with pytest.raises(LinktrackError) as err:
        check(FakeServer(rcode=rcode))
    assert (err.value.details["reason"], err.value.details["fields"]) == (reason, fields)


@pytest.mark.parametrize("error,reason", [
    (dns.exception.Timeout(), "timeout"),
    (ConnectionRefusedError(111, "Connection refused"), "error"),
    (dns.tsig.PeerBadTime(), "badtime"),
])
def test_transport_failures_name_the_server(error, reason):
    with pytest.raises(LinktrackError) as err:
        check(FakeServer(error=error))
    assert err.value.details["reason"] == reason
    assert err.value.field == "server"


@pytest.mark.parametrize("kwargs,field", [
    ({"server": "ns1.example.com"}, "server"),
    ({"port": 0}, "port"),
    ({"port": 70000}, "port"),
    ({"zone": "exa mple.com"}, "zone"),
    ({"key_name": ""}, "key_name"),
    ({"key_algorithm": "sha256"}, "key_algorithm"),
])
def test_bad_options_are_refused_before_anything_is_sent(kwargs, field):
    server = FakeServer()
    with pytest.raises(LinktrackError) as err:
        check(server, **kwargs)
    assert err.value.field == field
    assert server.asked == []


def test_run_key_check_module_returns_a_failure_result_without_the_secret():
    params = dict(server="127.0.0.1", port=5353, zone="example.com", key_name="linktrack",
                  key_algorithm="hmac-sha256", key_secret="not base64 !!", timeout=1.0)
    result = run_key_check_module(params, check_mode=True)
    assert result["failed"] is True and result["changed"] is False
    assert result["field"] == "key_secret" and result["reason"] == "not_base64"
    assert "not base64 !!" not in repr(result)


def test_run_key_check_module_refuses_a_zero_timeout():
    params = dict(server="127.0.0.1", port=5353, zone="example.com", key_name="linktrack",
                  key_algorithm="hmac-sha256", key_secret=SECRET, timeout=0)
    result = run_key_check_module(params)
    assert result["failed"] is True and result["field"] == "timeout"
