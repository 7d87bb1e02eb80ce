# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's one record model: every rule about records, values and inputs shared by modules.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

``RECORD_TYPES``
    the record types the collection writes and checks.
``txt_strings(text)`` / ``txt_join(text)`` / ``txt_encode(strings)`` / ``txt_from_input(value)``
    TXT values: the quoted zone-file form (``"a" "b"``, as Route 53 and
    dnspython show it) <-> its character-strings, and a value as a person
    writes it (unquoted: one logical string, cut into 255-character strings).
``validate_type(rtype, field)``
    one of ``RECORD_TYPES`` (any case) -> upper case, or ``LinktrackError``.
``normalize_value(rtype, value, field, joined=False)``
    a value given as input, validated for its type -> the form used for
    comparing (CNAME: lower-case name without trailing dot; A/AAAA: canonical
    address; TXT: tuple of strings, or one string when ``joined``).
``answer_value(rtype, value, joined=False)``
    a value as a server or an API returns it -> the same form, never raising.
``format_serial(value)`` / ``parse_serial(value, field)``
    a certificate serial number in ACM's form (lower-case hex pairs joined by
    colons) from an integer, a decimal string or hex; and back to an integer.
``validate_port(value, field)`` / ``validate_seconds(value, field, allow_zero=False)``
    the one port and the one seconds validator.
``ITERABLE_REGIONS`` / ``validate_region(value, field)`` / ``origin_for_region(region)``
    the one table of Iterable regions (origin host, app URL, label).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math
import re

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError, normalize_domain

# The record types the collection writes (route53_records, the role's DNS step) and checks (dns_record_wait).
# The IAM policy's route53:ChangeResourceRecordSetsRecordTypes condition lists the same (tests/contract).
RECORD_TYPES = ("CNAME", "A", "AAAA", "TXT")

# A TXT character-string holds at most 255 octets (RFC 1035 section 3.3); Route 53 says the same
# ("Each string can be up to 255 characters", Route 53 Developer Guide, Supported DNS record types, TXT).
TXT_CHUNK = 255

# Iterable's data centers: the origin a tracking domain's CloudFront distribution forwards to and the app in
# which the person makes the remaining settings. Adding an origin is one entry here.
ITERABLE_REGIONS = {
    "usdc": {"label": "USDC", "origin": "links.iterable.com", "app_url": "https://app.iterable.com"},
    "edc": {"label": "EDC", "origin": "links.eu.iterable.com", "app_url": "https://app.eu.iterable.com"},
}

_HEX_RE = re.compile(r"^[0-9a-f]+$")


# --------------------------------------------------------------------------
# TXT
# --------------------------------------------------------------------------


def txt_strings(text):
    """``"a" "b"`` (quoted character-strings, backslash escapes) -> ``("a", "b")``.

    Text that does not start with a quote is one string (stripped).
    """
    text = text.strip()
    if not text.startswith('"'):
        return (text,)
    strings = []
    i = 0
    while i < len(text):
        if text[i] != '"':
            i += 1
            continue
        i += 1
        current = []
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 2
                continue
            current.append(text[i])
            i += 1
        i += 1
        strings.append("".join(current))
    return tuple(strings)


def txt_join(text):
    """The logical value of a TXT record: its character-strings joined (``"a" "b"`` -> ``ab``)."""
    return "".join(txt_strings(text)) if text.strip().startswith('"') else text


def txt_encode(strings):
    """``("a", "b")`` -> ``"a" "b"``, quotes and backslashes escaped (Route 53's form)."""
    return " ".join('"%s"' % s.replace("\\", "\\\\").replace('"', '\\"') for s in strings)


def txt_from_input(value):
    """A TXT value as a person writes it -> its tuple of strings.

    A value already in quotes (``"v=spf1" "-all"``) is taken as the quoted
    form; anything else is one logical string, cut into 255-character strings.
    """
    if value.strip().startswith('"'):
        return txt_strings(value)
    return tuple(value[i:i + TXT_CHUNK] for i in range(0, len(value), TXT_CHUNK)) or ("",)


# --------------------------------------------------------------------------
# Types and values
# --------------------------------------------------------------------------


def validate_type(rtype, field="type"):
    """One of ``RECORD_TYPES`` in any case -> upper case."""
    if not isinstance(rtype, str) or rtype.strip().upper() not in RECORD_TYPES:
        raise LinktrackError(
            "%s: %r is not a supported record type; use one of %s." % (field, rtype, ", ".join(RECORD_TYPES)),
            field=field,
        )
    return rtype.strip().upper()


def normalize_value(rtype, value, field, joined=False):
    """One input value of a record of type ``rtype`` in the form used for comparing, or ``LinktrackError``.

    TXT gives a tuple of strings (``txt_from_input``), or the joined logical
    value when ``joined`` (a resolver's view, where the split does not count).
    """
    if not isinstance(value, str) or (not value.strip() and rtype != "TXT"):
        raise LinktrackError("%s: %r is not a value; give a non-empty string." % (field, value), field=field)
    if rtype == "CNAME":
        return normalize_domain(value, field, allow_underscore=True)
    if rtype == "A":
        try:
            return str(ipaddress.IPv4Address(value.strip()))
        except ValueError:
            raise LinktrackError("%s: %r is not an IPv4 address, which an A record needs." % (field, value), field=field)
    if rtype == "AAAA":
        try:
            return str(ipaddress.IPv6Address(value.strip()))
        except ValueError:
            raise LinktrackError("%s: %r is not an IPv6 address, which an AAAA record needs." % (field, value), field=field)
    if rtype == "TXT":
        return "".join(txt_from_input(value)) if joined else txt_from_input(value)
    return value


def answer_value(rtype, value, joined=False):
    """A value as a name server or the Route 53 API returns it -> the form ``normalize_value`` gives.

    Never raises: a value that does not parse is kept (lower case for names
    and addresses), so that it shows in messages as it is.
    """
    if rtype == "TXT":
        return txt_join(value) if joined else txt_strings(value)
    text = value.strip()
    if rtype == "CNAME":
        return text.rstrip(".").lower()
    if rtype in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return text.lower()
    return text


# --------------------------------------------------------------------------
# Certificate serial numbers
# --------------------------------------------------------------------------


def format_serial(value):
    """A serial number in ACM's form: lower-case hex pairs joined by colons (``0a:3f:51``).

    ``value`` is an integer (a parsed certificate), ACM's colon-separated hex,
    a decimal integer string, or bare hex; ``None`` or ``""`` give ``None``.
    ACM API Reference, CertificateDetail.Serial ("The serial number of the certificate"); its form is
    the one of the AWS CLI's example output (aws/aws-cli, awscli/examples/acm/describe-certificate.rst).
    """
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:  # pragma: no cover - RFC 5280 serials are positive
            return "-" + format_serial(-value)
        hexa = "%x" % value
    else:
        text = str(value).strip().lower()
        if ":" in text:
            return ":".join(part.zfill(2) for part in text.split(":"))
        hexa = "%x" % int(text) if text.isdigit() else text
    if len(hexa) % 2:
        hexa = "0" + hexa
    return ":".join(hexa[i:i + 2] for i in range(0, len(hexa), 2))


def parse_serial(value, field="expected_serial"):
    """The integer of a hex serial as ACM shows it; colons, spaces, case and 0x do not matter."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    hint = "Give the serial in hex as ACM shows it, e.g. 0a:1b:2c:3d (colons optional, any case)."
    if value is None or not isinstance(value, str) or not value.strip():
        raise LinktrackError("%s is empty. %s" % (field, hint), field=field)
    text = re.sub(r"[\s:]", "", value.strip().lower())
    if text.startswith("0x"):
        text = text[2:]
    if not text or not _HEX_RE.match(text):
        raise LinktrackError("%s: %r is not a hexadecimal serial number. %s" % (field, value, hint), field=field)
    return int(text, 16)


# --------------------------------------------------------------------------
# Ports and seconds
# --------------------------------------------------------------------------


def validate_port(value, field="port"):
    """A TCP/UDP port: a whole number (not a bool, not a string) from 1 to 65535."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise LinktrackError("%s is not a port: give a whole number from 1 to 65535, got %r." % (field, value), field=field)
    return value


def validate_seconds(value, field, allow_zero=False):
    """A finite number of seconds (not a bool, not a string), above 0, or 0 or more with ``allow_zero``."""
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or value < 0 or (value == 0 and not allow_zero)):
        raise LinktrackError(
            "%s must be a number of seconds %s, got %r." % (field, "of 0 or more" if allow_zero else "above 0", value),
            field=field,
        )
    return value


# --------------------------------------------------------------------------
# Iterable regions
# --------------------------------------------------------------------------


def validate_region(value, field="iterable_region"):
    """One of ``ITERABLE_REGIONS`` (exactly as written) -> itself."""
    if not isinstance(value, str) or value not in ITERABLE_REGIONS:
        choices = ", ".join("%s (origin %s)" % (k, v["origin"]) for k, v in ITERABLE_REGIONS.items())
        raise LinktrackError("%s: %r is not an Iterable region; use %s." % (field, value, choices), field=field)
    return value


def origin_for_region(region):
    """The origin host of an Iterable region (``usdc`` -> ``links.iterable.com``)."""
    return ITERABLE_REGIONS[validate_region(region)]["origin"]
