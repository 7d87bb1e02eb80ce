# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared record model: types, TXT, values, serials, ports, seconds, regions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.linktrack.https.plugins.module_utils import _dns, _records, _route53, _tls
from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.module_utils._records import (
    ITERABLE_REGIONS,
    RECORD_TYPES,
    answer_value,
    format_serial,
    normalize_value,
    origin_for_region,
    parse_serial,
    txt_encode,
    txt_from_input,
    txt_join,
    txt_strings,
    validate_port,
    validate_region,
    validate_seconds,
    validate_type,
)


def test_one_definition_shared_by_every_user():
    # the modules read these names through _dns and _route53; they are the same objects, not copies
    assert _route53.RECORD_TYPES is RECORD_TYPES
    assert _dns.validate_port is validate_port and _tls.validate_port is validate_port
    assert _tls.format_serial is format_serial and _tls.parse_serial is parse_serial
    assert RECORD_TYPES == ("CNAME", "A", "AAAA", "TXT")


@pytest.mark.parametrize("text, strings", [
    ('"a" "b"', ("a", "b")),
    ('"v=spf1 include:x" "-all"', ("v=spf1 include:x", "-all")),
    (r'"say \"hi\"" "back\\slash"', ('say "hi"', "back\\slash")),
    ('  plain text  ', ("plain text",)),
    ('""', ("",)),
])
def test_txt_strings_and_encode_round_trip(text, strings):
    assert txt_strings(text) == strings
    assert txt_strings(txt_encode(strings)) == strings


def test_txt_join_joins_quoted_and_keeps_unquoted():
    assert txt_join('"ab" "cd"') == "abcd"
    assert txt_join("unquoted value") == "unquoted value"


def test_txt_from_input_cuts_long_values_into_255_character_strings():
    value = "x" * 600
    strings = txt_from_input(value)
    assert [len(s) for s in strings] == [255, 255, 90]
    assert "".join(strings) == value
    assert txt_from_input("") == ("",)
    assert txt_from_input('"a" "b"') == ("a", "b")


@pytest.mark.parametrize("value, expected", [("cname", "CNAME"), (" txt ", "TXT"), ("AAAA", "AAAA")])
def test_validate_type_accepts_any_case(value, expected):
    assert validate_type(value) == expected


@pytest.mark.parametrize("value", ["MX", "", None, 5])
def test_validate_type_rejects_naming_the_field(value):
    with pytest.raises(LinktrackError) as err:
        validate_type(value, "records[0].type")
    assert err.value.field == "records[0].type"
    assert "not a supported record type" in err.value.message
    assert "CNAME, A, AAAA, TXT" in err.value.message


@pytest.mark.parametrize("rtype, value, expected", [
    ("CNAME", "D111.CloudFront.NET.", "d111.cloudfront.net"),
    ("CNAME", "_x1.acm-validations.aws.", "_x1.acm-validations.aws"),
    ("A", " 192.0.2.1 ", "192.0.2.1"),
    ("AAAA", "2001:DB8::0:1", "2001:db8::1"),
    ("TXT", '"a" "b"', ("a", "b")),
    ("TXT", "", ("",)),
])
def test_normalize_value(rtype, value, expected):
    assert normalize_value(rtype, value, "value") == expected


def test_normalize_value_joined_txt_is_the_logical_value():
    assert normalize_value("TXT", '"a" "b"', "values[0]", joined=True) == "ab"
    assert normalize_value("TXT", "x" * 300, "values[0]", joined=True) == "x" * 300


@pytest.mark.parametrize("rtype, value, fragment", [
    ("A", "2001:db8::1", "not an IPv4 address"),
    ("AAAA", "192.0.2.1", "not an IPv6 address"),
    ("CNAME", "", "non-empty string"),
    ("A", None, "non-empty string"),
    ("CNAME", "bad name.example.com", "values[1]"),
])
def test_normalize_value_rejects_naming_the_field(rtype, value, fragment):
    with pytest.raises(LinktrackError) as err:
        normalize_value(rtype, value, "values[1]")
    assert err.value.field == "values[1]"
    assert fragment in err.value.message


@pytest.mark.parametrize("rtype, value, expected, joined", [
    ("CNAME", "Target.Example.COM.", "target.example.com", None),
    ("A", "192.0.2.1", "192.0.2.1", None),
    ("AAAA", "2001:DB8:0::1", "2001:db8::1", None),
    ("AAAA", "NOT-AN-ADDRESS", "not-an-address", None),
    ("TXT", '"a" "b"', ("a", "b"), "ab"),
])
def test_answer_value_matches_normalize_value_and_never_raises(rtype, value, expected, joined):
    assert answer_value(rtype, value) == expected
    if joined is not None:
        assert answer_value(rtype, value, joined=True) == joined


@pytest.mark.parametrize("value, expected", [
    ("0C:9A:53:18", "0c:9a:53:18"),
    ("143987065952829878956818701037730727638919515791", "19:38:9a:74:8c:2d:7d:b0:6e:f4:e5:ae:58:d0:b1:3c:a0:ef:8e:8f"),
    ("255", "ff"),
    ("abc", "0a:bc"),
    (0x0A3F51, "0a:3f:51"),
    (1, "01"),
    (None, None),
    ("", None),
])
def test_format_serial_is_acm_lower_case_form_for_every_input(value, expected):
    assert format_serial(value) == expected


def test_format_serial_and_parse_serial_agree():
    for number in (1, 0x80, 0x0A3F519C2E771BD4, 2 ** 159 + 7):
        assert parse_serial(format_serial(number)) == number
        assert parse_serial(format_serial(number).upper()) == number


@pytest.mark.parametrize("value", ["", "zz", None, "12-34"])
def test_parse_serial_rejects_naming_the_field(value):
    with pytest.raises(LinktrackError) as err:
        parse_serial(value)
    assert err.value.field == "expected_serial"


@pytest.mark.parametrize("value", [1, 53, 443, 65535])
def test_validate_port_accepts(value):
    assert validate_port(value, "https_port") == value


@pytest.mark.parametrize("value", [0, 65536, -1, True, "443", 443.0, None])
def test_validate_port_rejects_naming_the_field(value):
    with pytest.raises(LinktrackError) as err:
        validate_port(value, "https_port")
    assert err.value.field == "https_port"
    assert err.value.message.startswith("https_port ")
    assert "from 1 to 65535, got %r" % (value,) in err.value.message


@pytest.mark.parametrize("value, allow_zero", [(1, False), (0.5, False), (0, True), (2400, True)])
def test_validate_seconds_accepts(value, allow_zero):
    assert validate_seconds(value, "wait_timeout", allow_zero=allow_zero) == value


@pytest.mark.parametrize("value, allow_zero", [
    (0, False), (-1, False), (-1, True), (None, False), (True, False), ("5", False),
    (float("nan"), True), (float("inf"), False),
])
def test_validate_seconds_rejects_naming_the_field(value, allow_zero):
    with pytest.raises(LinktrackError) as err:
        validate_seconds(value, "wait_timeout", allow_zero=allow_zero)
    assert err.value.field == "wait_timeout"
    assert ("of 0 or more" if allow_zero else "above 0") in err.value.message


def test_one_region_table():
    assert origin_for_region("usdc") == "links.iterable.com"
    assert origin_for_region("edc") == "links.eu.iterable.com"
    assert ITERABLE_REGIONS["edc"]["app_url"] == "https://app.eu.iterable.com"
    assert validate_region("edc") == "edc"


@pytest.mark.parametrize("value", ["us", "EDC", "", None, "apac"])
def test_validate_region_rejects_listing_the_table(value):
    with pytest.raises(LinktrackError) as err:
        validate_region(value, "link_domain_iterable_region")
    assert err.value.field == "link_domain_iterable_region"
    for key, region in ITERABLE_REGIONS.items():
        assert key in err.value.message and region["origin"] in err.value.message


def test_no_private_copies_left():
    # the old per-file copies are gone; the only definitions are in _records
    gone = ((_dns, ("_txt_join",)),
            (_route53, ("_txt_strings", "_txt_encode", "_current_value", "TXT_CHUNK", "emulator_order", "_past")))
    for module, names in gone:
        for name in names:
            assert not hasattr(module, name), "%s.%s" % (module.__name__, name)
    assert _records.TXT_CHUNK == 255
