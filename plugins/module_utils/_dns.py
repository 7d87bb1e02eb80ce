# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Questions to authoritative name servers, straight, without a caching resolver.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

The collection confirms every DNS record it publishes (and every record a
person was asked to create) by asking the zone's authoritative name servers
directly with dnspython: recursion off, one question per server, the answer
taken only when the server says it is authoritative (AA flag). Caches and
split-horizon resolvers therefore never decide. Servers can be given as
``host`` or ``host:port`` (``[v6]:port`` for IPv6 literals with a port);
without them, the zone's NS records are looked up by walking up from the name
with the system resolver.

Functions for reuse (the role's manual provider, ``iterable_tracking_domain``):

``parse_servers(specs, port=53, field="servers")``
    ``["127.0.0.1:5353", "ns1.example.com"]`` -> ``[Server, ...]``; bad input
    raises ``LinktrackError`` naming ``field``.
``find_authoritative_servers(name, port=53, timeout=3.0)``
    the zone's name servers as ``[Server, ...]``.
``query_authoritative(name, rdtype, servers=None, timeout=3.0, port=53)``
    ``{label: {"server", "status", "values", "reason", "authoritative"}}``,
    one entry per server, in the given order. ``status`` is ``answer``,
    ``nxdomain``, ``nodata``, ``cname`` (another type asked, a CNAME found),
    ``not_authoritative``, ``refused``, ``servfail``, ``error`` or
    ``timeout``; ``values`` are normalised (see ``_records.answer_value``).
``expected_values(rdtype, values, field="values")``
    the values to expect, normalised the same way.
``evaluate(responses, expected, mode="all", state="present", match="exact")``
    ``(matched, [labels of servers that do not match yet])``.
``wait_for_records(name, rdtype, expected, servers=None, ...)``
    ``DnsChecker.wait`` with a default checker: the deadline loop.
``TsigKeyChecker(timeout, transport).check(server, zone, key_name, key_algorithm, key_secret, port=53)``
    proves a TSIG key with one signed SOA question (``rfc2136_key_check``);
    a key the server does not know, a wrong secret or a secret that is not
    base64 raises ``LinktrackError`` naming the option(s), never the secret.

Each of them takes injectable ``transport`` (``dns.query``-like), ``resolver``
(``dns.resolver.Resolver``-like) and ``getaddrinfo`` objects through
``DnsChecker``, so unit tests need no network.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import ipaddress
import re
import socket
import traceback
from collections import OrderedDict

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdatatype
    import dns.resolver
    import dns.tsig
    import dns.update

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - the module reports missing_required_lib
    dns = None  # the other module_utils import the package from here: ``from ._dns import dns``
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()
# what a module passes to module_main(requirements=...)
DNSPYTHON_REQUIREMENT = ("dnspython", HAS_DNSPYTHON, DNSPYTHON_IMPORT_ERROR)

from ansible_collections.linktrack.https.plugins.module_utils._common import Clock, LinktrackError, Progress, normalize_domain, poll_until
from ansible_collections.linktrack.https.plugins.module_utils._common import result_from_exception
from ansible_collections.linktrack.https.plugins.module_utils._records import answer_value, normalize_value, validate_port
from ansible_collections.linktrack.https.plugins.module_utils._records import validate_seconds, validate_type

MODES = ("all", "any")
STATES = ("present", "absent")
MATCHES = ("exact", "contains")
EDNS_PAYLOAD = 1232
ABSENT_STATUSES = ("nxdomain", "nodata")


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------


class Server:
    """One name server to ask: ``host`` (IP literal or name) and ``port``.

    ``addresses`` is filled when known (IP literals, discovered NS records);
    otherwise the host name is resolved when asked.
    """

    def __init__(self, host, port=53, addresses=None):
        self.host = host
        self.port = port
        self.addresses = list(addresses) if addresses else None

    @property
    def label(self):
        if self.port == 53:
            return self.host
        if ":" in self.host:
            return "[%s]:%d" % (self.host, self.port)
        return "%s:%d" % (self.host, self.port)

    def __repr__(self):
        return "Server(%r)" % self.label

    def __eq__(self, other):
        return isinstance(other, Server) and (self.host, self.port) == (other.host, other.port)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.host, self.port))


def _ip(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def parse_server(spec, port=53, field="servers"):
    """``host``, ``host:port``, ``v6-literal`` or ``[v6-literal]:port`` -> ``Server``."""
    hint = 'Give "host" or "host:port", such as "127.0.0.1:5353", "ns1.example.com" or "[::1]:5353".'
    if not isinstance(spec, str) or not spec.strip():
        raise LinktrackError("%s: %r is not a server. %s" % (field, spec, hint), field=field)
    text = spec.strip()
    host, port_text = text, None
    if "/" in text or " " in text:
        raise LinktrackError("%s: %r is not a host name or an IP address. %s" % (field, spec, hint), field=field)
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (end + 1 < len(text) and text[end + 1] != ":"):
            raise LinktrackError("%s: %r has an unclosed or misplaced ']'. %s" % (field, spec, hint), field=field)
        host, rest = text[1:end], text[end + 1:]
        port_text = rest[1:] if rest else None
        if _ip(host) is None or ":" not in host:
            raise LinktrackError("%s: %r: only IPv6 addresses go in brackets. %s" % (field, spec, hint), field=field)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if port_text is not None:
        if not port_text.isdigit():
            raise LinktrackError("%s: %r has the port %r, which is not a number. %s" % (field, spec, port_text, hint),
                                 field=field)
        port = int(port_text)
    validate_port(port, field)
    address = _ip(host)
    if address is not None:
        return Server(address, port, [address])
    if "/" in host or ":" in host:
        raise LinktrackError("%s: %r is not a host name or an IP address. %s" % (field, spec, hint), field=field)
    return Server(normalize_domain(host, field, allow_underscore=True), port)


def _each_once(items, field, kind, convert):
    """``convert(item, "FIELD[i]")`` of each item of the list ``items`` in order, duplicates dropped (``None``: none).

    Anything but a list is an error naming ``field`` and saying what it must be a list of (``kind``).
    """
    if items is None:
        return []
    if not isinstance(items, (list, tuple)):
        raise LinktrackError("%s must be a list of %s, got %r." % (field, kind, items), field=field)
    result = []
    for i, item in enumerate(items):
        converted = convert(item, "%s[%d]" % (field, i))
        if converted not in result:
            result.append(converted)
    return result


def parse_servers(specs, port=53, field="servers"):
    """A list of server strings -> list of ``Server`` (duplicates dropped)."""
    validate_port(port, "port")
    return _each_once(specs, field, '"host" or "host:port" strings', lambda spec, where: parse_server(spec, port, where))


def expected_values(rdtype, values, field="values"):
    """The expected values, validated for ``rdtype`` and normalised; sorted, without duplicates."""
    rdtype = validate_type(rdtype)
    result = _each_once(values, field, "strings", lambda value, where: normalize_value(rdtype, value, where, joined=True))
    if rdtype == "CNAME" and len(result) > 1:
        raise LinktrackError("%s: a CNAME has one target; %d were given." % (field, len(result)), field=field)
    return sorted(result)


def validate_choice(value, choices, field):
    if value not in choices:
        raise LinktrackError("%s: %r is not valid; use one of %s." % (field, value, ", ".join(choices)), field=field)
    return value


# --------------------------------------------------------------------------
# Asking
# --------------------------------------------------------------------------


def _response(label, status, values=None, reason="", authoritative=None):
    return {"server": label, "status": status, "values": list(values or []), "reason": reason,
            "authoritative": authoritative}


def describe(response):
    """One server's response in a few words, for messages."""
    status = response["status"]
    if status == "answer":
        return ", ".join(response["values"])
    return response["reason"] or status


class DnsChecker:
    """Authoritative DNS questions and the wait for expected answers.

    ``transport`` has ``udp(q, where, timeout=, port=)`` and ``tcp(...)``
    (default: ``dns.query``); ``resolver`` is a ``dns.resolver.Resolver``
    (only for finding the NS records when no servers are given);
    ``getaddrinfo`` resolves server host names (default: ``socket``'s, which
    honours /etc/hosts).
    """

    def __init__(self, timeout=3.0, transport=None, resolver=None, getaddrinfo=None, clock=None):
        if not HAS_DNSPYTHON:
            raise LinktrackError("dnspython is required to ask name servers (pip install dnspython).")
        self.timeout = validate_seconds(timeout, "query_timeout")
        self.transport = transport or dns.query
        self._resolver = resolver
        self.getaddrinfo = getaddrinfo or socket.getaddrinfo
        self.clock = clock or Clock()
        self.rounds = 0

    @property
    def resolver(self):
        if self._resolver is None:
            try:
                self._resolver = dns.resolver.Resolver()
            except Exception as exc:  # noqa: BLE001 - no resolv.conf and the like
                raise LinktrackError(
                    "servers: this machine has no usable DNS resolver to find the name servers with (%s). "
                    "Give servers." % exc,
                    field="servers",
                )
            self._resolver.lifetime = self.timeout
        return self._resolver

    # ---- servers -----------------------------------------------------------

    def addresses(self, server):
        if server.addresses:
            return server.addresses
        found = []
        try:
            for family, _t, _p, _c, sockaddr in self.getaddrinfo(server.host, server.port, 0, socket.SOCK_DGRAM):
                if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in found:
                    found.append(sockaddr[0])
        except (OSError, UnicodeError):
            return []
        return found

    def find_authoritative_servers(self, name, port=53):
        """The NS of the zone holding ``name``: walk up from ``name`` with the system resolver."""
        name = normalize_domain(name, "name", allow_wildcard=True, allow_underscore=True)
        labels = name.split(".")
        tried = []
        for i in range(len(labels) - 1):
            candidate = ".".join(labels[i:])
            tried.append(candidate)
            try:
                answer = self.resolver.resolve(candidate, "NS", raise_on_no_answer=False)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except dns.exception.DNSException as exc:
                raise LinktrackError(
                    "servers: could not look up the NS records of %s with this machine's resolver (%s). Give "
                    "servers (\"host\" or \"host:port\" of the authoritative name servers)." % (candidate, exc),
                    field="servers",
                )
            rrset = answer.rrset
            if rrset is None or rrset.name != dns.name.from_text(candidate):
                continue  # no NS here, or only through a CNAME to another zone
            targets = sorted(set(r.target.to_text(omit_final_dot=True).lower() for r in rrset))
            return [Server(target, port) for target in targets]
        raise LinktrackError(
            "servers: found no NS records for %s or its parents (%s) with this machine's resolver. Give servers."
            % (name, ", ".join(tried)),
            field="servers",
        )

    # ---- questions ---------------------------------------------------------

    def _ask(self, question, address, port):
        response = self.transport.udp(question, address, timeout=self.timeout, port=port)
        if response.flags & dns.flags.TC:
            response = self.transport.tcp(question, address, timeout=self.timeout, port=port)
        return response

    def query_one(self, name, rdtype, server):
        """Ask one server (each of its addresses until one answers)."""
        label = server.label
        addresses = self.addresses(server)
        if not addresses:
            return _response(label, "error", reason="cannot resolve the server name %s" % server.host)
        qname = dns.name.from_text(name)
        question = dns.message.make_query(qname, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
        question.flags &= ~dns.flags.RD
        last = None
        for address in addresses:
            try:
                response = self._ask(question, address, server.port)
            except dns.exception.Timeout:
                last = _response(label, "timeout", reason="no answer within %s seconds" % self.timeout)
                continue
            except (OSError, dns.exception.DNSException) as exc:
                last = _response(label, "error", reason="%s: %s" % (type(exc).__name__, exc))
                continue
            return self._interpret(label, qname, rdtype, response)
        return last

    @staticmethod
    def _interpret(label, qname, rdtype, response):
        rcode = response.rcode()
        authoritative = bool(response.flags & dns.flags.AA)
        if rcode == dns.rcode.NXDOMAIN:
            if not authoritative:
                return _response(label, "not_authoritative", reason="NXDOMAIN without the AA flag: not authoritative",
                                 authoritative=False)
            return _response(label, "nxdomain", reason="NXDOMAIN (the name does not exist)", authoritative=True)
        if rcode == dns.rcode.REFUSED:
            return _response(label, "refused", reason="REFUSED (the server does not serve this zone)",
                             authoritative=authoritative)
        if rcode != dns.rcode.NOERROR:
            text = dns.rcode.to_text(rcode)
            return _response(label, "servfail" if text == "SERVFAIL" else "error", reason=text,
                             authoritative=authoritative)
        wanted = dns.rdatatype.from_text(rdtype)
        values = []
        cname = None
        for rrset in response.answer:
            if rrset.name != qname:
                continue
            if rrset.rdtype == wanted:
                values.extend(_rdata_text(rdtype, rdata) for rdata in rrset)
            elif rrset.rdtype == dns.rdatatype.CNAME:
                cname = _rdata_text("CNAME", list(rrset)[0])
        values = sorted(set(values))
        if not authoritative:
            referral = [rr.name.to_text(omit_final_dot=True) for rr in response.authority if rr.rdtype == dns.rdatatype.NS]
            reason = "answer without the AA flag: not authoritative for %s" % qname.to_text(omit_final_dot=True)
            if referral and not values:
                reason = "referral to %s: not authoritative for %s" % (referral[0], qname.to_text(omit_final_dot=True))
            return _response(label, "not_authoritative", values, reason=reason, authoritative=False)
        if values:
            return _response(label, "answer", values, authoritative=True)
        if cname is not None:
            return _response(label, "cname", reason="CNAME %s (no %s record at the name)" % (cname, rdtype),
                             authoritative=True)
        return _response(label, "nodata", reason="NODATA (the name exists, without a %s record)" % rdtype,
                         authoritative=True)

    def query_authoritative(self, name, rdtype, servers=None, port=53):
        """Ask every server; ``servers`` are ``Server`` objects or strings, ``None`` finds the zone's NS."""
        name = normalize_domain(name, "name", allow_wildcard=True, allow_underscore=True)
        rdtype = validate_type(rdtype)
        servers = self._servers(name, servers, port)
        responses = OrderedDict()
        for server in servers:
            responses[server.label] = self.query_one(name, rdtype, server)
        return responses

    def _servers(self, name, servers, port):
        if not servers:
            return self.find_authoritative_servers(name, port)
        if all(isinstance(s, Server) for s in servers):
            return list(servers)
        return parse_servers(servers, port)

    # ---- waiting -----------------------------------------------------------

    def wait(self, name, rdtype, expected, servers=None, port=53, timeout=600, mode="all", state="present",
             match="exact", progress=None):
        """Ask until the servers answer as expected or ``timeout`` passes; returns a result dictionary.

        On timeout raises ``LinktrackError`` whose message and ``details`` give
        what each server answered instead.
        """
        name = normalize_domain(name, "name", allow_wildcard=True, allow_underscore=True)
        rdtype = validate_type(rdtype)
        expected = expected_values(rdtype, expected)
        validate_choice(mode, MODES, "mode")
        validate_choice(state, STATES, "state")
        validate_choice(match, MATCHES, "match")
        validate_seconds(timeout, "timeout", allow_zero=True)
        if state == "absent" and expected:
            raise LinktrackError("values: leave values empty with state=absent (it waits until no %s record "
                                 "is left at %s)." % (rdtype, name), field="values")
        servers = self._servers(name, servers, port)
        last = {}

        def check():
            self.rounds += 1
            responses = OrderedDict((s.label, self.query_one(name, rdtype, s)) for s in servers)
            last["responses"] = responses
            matched, _failing = evaluate(responses, expected, mode, state, match)
            return matched, responses

        want = _wanted(name, rdtype, expected, state, match)
        try:
            responses, waited = poll_until(check, timeout, want, clock=self.clock, first_delay=1.0, max_delay=10.0,
                                           progress=progress, label="%s %s" % (rdtype, name))
        except LinktrackError as exc:
            responses = last.get("responses") or OrderedDict()
            _matched, failing = evaluate(responses, expected, mode, state, match)
            seen = "; ".join("%s: %s" % (label, describe(responses[label])) for label in failing)
            waited = exc.details.get("waited_seconds", timeout)
            when = "Timed out after %.0f seconds waiting for" % waited if timeout else "Asked once (timeout 0) for"
            raise LinktrackError(
                "%s %s at %s of %d server(s) (%s). Seen instead: %s."
                % (when, want, mode, len(servers), ", ".join(s.label for s in servers), seen),
                field="timeout",
                details=_result(name, rdtype, expected, responses, False, waited, self.rounds),
            )
        return _result(name, rdtype, expected, responses, True, waited, self.rounds)


def _rdata_text(rdtype, rdata):
    if rdtype == "CNAME":
        return rdata.target.to_text(omit_final_dot=True).lower()
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")
    return answer_value(rdtype, rdata.to_text(), joined=True)


def _wanted(name, rdtype, expected, state, match):
    if state == "absent":
        return "no %s record at %s" % (rdtype, name)
    if not expected:
        return "any %s record at %s" % (rdtype, name)
    return "%s %s %s %s" % (name, rdtype, "=" if match == "exact" else "including", ", ".join(expected))


def _result(name, rdtype, expected, responses, matched, waited, rounds):
    return {
        "name": name,
        "type": rdtype,
        "expected_values": list(expected),
        "answers": OrderedDict((label, list(r["values"])) for label, r in responses.items()),
        "responses": responses,
        "matched": matched,
        "waited_seconds": waited,
        "attempts": rounds,
    }


def server_matches(response, expected, state="present", match="exact"):
    """Whether one server's response is what is expected."""
    if state == "absent":
        return response["status"] in ABSENT_STATUSES
    if response["status"] != "answer":
        return False
    seen = set(response["values"])
    if not expected:
        return bool(seen)
    if match == "contains":
        return set(expected) <= seen
    return set(expected) == seen


def evaluate(responses, expected, mode="all", state="present", match="exact"):
    """``(matched, failing_labels)`` for the responses of ``query_authoritative``."""
    failing = [label for label, r in responses.items() if not server_matches(r, expected, state, match)]
    if not responses:
        return False, []
    if mode == "any":
        return len(failing) < len(responses), failing
    return not failing, failing


# --------------------------------------------------------------------------
# Functions with a default checker
# --------------------------------------------------------------------------


def find_authoritative_servers(name, port=53, timeout=3.0):
    return DnsChecker(timeout=timeout).find_authoritative_servers(name, port)


def query_authoritative(name, rdtype, servers=None, timeout=3.0, port=53):
    return DnsChecker(timeout=timeout).query_authoritative(name, rdtype, servers, port)


def wait_for_records(name, rdtype, expected, servers=None, port=53, timeout=600, query_timeout=3.0, mode="all",
                     state="present", match="exact", clock=None):
    checker = DnsChecker(timeout=query_timeout, clock=clock)
    return checker.wait(name, rdtype, expected, servers, port, timeout, mode, state, match)


def wait_progress(report, timeout, subject=""):
    """The ``Progress`` of a wait of the collection's checks, or ``None``.

    ``report`` is the ``progress`` callable that ``run_module`` got (the action
    plugin's live line, which names the host), ``None`` in a module process.
    Nothing is shown for a single ask (``timeout`` 0) or for a first poll that
    is already done.
    """
    if report is None or not timeout:
        return None
    return Progress(report=report, subject=subject, quiet_start=True)


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``dns_record_wait`` does with its validated ``params``.

    The module's ``main()`` and the action plugin that runs it inside the worker
    process both call this, so the module's behaviour exists once. Returns the
    result dict; a failure is a dict with ``failed: true`` and ``msg``. It only
    asks questions, so check mode and ``--diff`` make no difference.
    ``progress`` takes one line per poll while it waits (see ``wait_progress``).
    """
    p = params
    # every poll goes into the result's wait_history; only the action plugin's live line is shown
    tracker = wait_progress(progress, p["timeout"]) or Progress(quiet_start=True)
    try:
        servers = parse_servers(p["servers"], p["port"])
        checker = DnsChecker(timeout=p["query_timeout"])
        result = checker.wait(p["name"], p["type"], p["values"], servers=servers, port=p["port"], timeout=p["timeout"],
                              mode=p["mode"], state=p["state"], match=p["match"], progress=tracker)
    except Exception as exc:  # noqa: BLE001 - one failed result for every error (result_from_exception)
        return result_from_exception(exc, {"wait_history": list(tracker.history)})
    result = dict(result)
    result["changed"] = False
    result["wait_history"] = list(tracker.history)
    return result


# --------------------------------------------------------------------------
# TSIG key check (rfc2136_key_check)
# --------------------------------------------------------------------------

TSIG_ALGORITHMS = ("hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512")
# dnspython's name of hmac-md5 is the long form of RFC 2845
_TSIG_ALGORITHM_NAMES = {"hmac-md5": "hmac-md5.sig-alg.reg.int"}
_BASE64_RE = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def tsig_secret_bytes(secret, field="key_secret"):
    """The TSIG secret decoded from base64; the error never repeats the secret."""
    if not isinstance(secret, str) or not secret.strip():
        raise LinktrackError("%s: the TSIG secret is empty; give the base64 secret of the key." % field, field=field,
                             details={"fields": [field], "reason": "empty"})
    text = "".join(secret.split())
    try:
        if not _BASE64_RE.match(text):
            raise ValueError("not base64")
        value = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeError):
        raise LinktrackError("%s: the TSIG secret is not valid base64 (the letters A-Z, a-z, digits, + and /, padded "
                             "with = to a multiple of 4 characters), as tsig-keygen prints it in the key's secret "
                             "line. The secret itself is not shown." % field, field=field,
                             details={"fields": [field], "reason": "not_base64"})
    if not value:
        raise LinktrackError("%s: the TSIG secret decodes to no bytes." % field, field=field,
                             details={"fields": [field], "reason": "empty"})
    return value


def _key_error(message, fields, reason):
    return LinktrackError("%s: %s" % (" / ".join(fields), message), field=fields[0],
                          details={"fields": list(fields), "reason": reason})


class TsigKeyChecker:
    """Proves a TSIG key with one signed SOA question to the server that takes the updates.

    ``transport`` is ``dns.query``-like (its ``udp(query, where, port=, timeout=)``
    is used), so unit tests need no network. Only reads: nothing is updated.
    """

    def __init__(self, timeout=5.0, transport=None):
        self.timeout = timeout
        self.transport = transport if transport is not None else dns.query

    def check(self, server, zone, key_name, key_algorithm, key_secret, port=53):
        address = _ip(server.strip()) if isinstance(server, str) else None
        if address is None:
            raise _key_error("%r is not an IPv4 or IPv6 address." % (server,), ["server"], "server")
        validate_port(port, "port")
        zone = normalize_domain(zone, "zone", allow_underscore=True)
        if not isinstance(key_name, str) or not key_name.strip():
            raise _key_error("the TSIG key name is empty.", ["key_name"], "key_name")
        key_name = key_name.strip().rstrip(".")
        try:
            key_label = dns.name.from_text(key_name)
        except dns.exception.DNSException:
            raise _key_error("%r is not a valid TSIG key name." % (key_name,), ["key_name"], "key_name")
        if key_algorithm not in TSIG_ALGORITHMS:
            raise _key_error("%r is not a TSIG algorithm; use one of %s." % (key_algorithm, ", ".join(TSIG_ALGORITHMS)),
                             ["key_algorithm"], "key_algorithm")
        secret = tsig_secret_bytes(key_secret, "key_secret")
        key = dns.tsig.Key(key_label, secret, _TSIG_ALGORITHM_NAMES.get(key_algorithm, key_algorithm))
        query = dns.message.make_query(zone + ".", dns.rdatatype.SOA)
        query.flags &= ~dns.flags.RD
        query.use_tsig(key)
        label = Server(address, port).label
        what = "the TSIG key %r (%s)" % (key_name, key_algorithm)
        try:
            response = self.transport.udp(query, address, port=port, timeout=self.timeout)
        except dns.tsig.PeerBadKey:
            raise _key_error("%s answered BADKEY: it has no key named %r with the algorithm %s. Give the name and the "
                             "algorithm of a key in the server's configuration." % (label, key_name, key_algorithm),
                             ["key_name", "key_algorithm"], "badkey")
        except dns.tsig.PeerBadSignature:
            raise _key_error("%s answered BADSIG: it knows %s, but the signature made with the secret given does not "
                             "verify, so the secret is not the key's secret. The secret itself is not shown."
                             % (label, what), ["key_secret"], "badsig")
        except dns.tsig.PeerBadTime:
            raise _key_error("%s answered BADTIME for %s: the clocks of the controller and the server differ by more "
                             "than the allowed fudge (300 s)." % (label, what), ["server"], "badtime")
        except (dns.tsig.PeerError, dns.tsig.BadSignature, dns.message.BadTSIG, dns.message.UnknownTSIGKey) as exc:
            raise _key_error("%s did not accept or return a valid signature for %s (%s). Check the key's name, "
                             "algorithm and secret." % (label, what, type(exc).__name__),
                             ["key_name", "key_algorithm", "key_secret"], "tsig_error")
        except dns.exception.FormError as exc:
            raise _key_error("%s answered without a valid TSIG signature for %s (%s); the key was not proven."
                             % (label, what, exc), ["key_name", "key_algorithm", "key_secret"], "unsigned")
        except dns.exception.Timeout:
            raise _key_error("no answer from %s within %s s; is the name server running and reachable?"
                             % (label, self.timeout), ["server", "port"], "timeout")
        except (OSError, dns.exception.DNSException) as exc:
            raise _key_error("the signed question to %s failed: %s" % (label, exc), ["server", "port"], "error")
        rcode = response.rcode()
        if not response.had_tsig:
            raise _key_error("%s answered %s without a TSIG signature; the key was not proven."
                             % (label, dns.rcode.to_text(rcode)), ["key_name", "key_algorithm", "key_secret"],
                             "unsigned")
        if rcode == dns.rcode.NOTAUTH:
            raise _key_error("%s answered NOTAUTH to the question signed with %s. Check the key's name, algorithm "
                             "and secret." % (label, what), ["key_name", "key_algorithm", "key_secret"], "notauth")
        if rcode == dns.rcode.REFUSED:
            raise _key_error("%s refused the signed SOA question for %s: it does not serve that zone."
                             % (label, zone), ["zone"], "refused")
        soa = [r for r in list(response.answer) + list(response.authority) if r.rdtype == dns.rdatatype.SOA]
        return {
            "server": label,
            "zone": soa[0].name.to_text(omit_final_dot=True).lower() if soa else None,
            "rcode": dns.rcode.to_text(rcode),
            "key_name": key_name,
            "key_algorithm": key_algorithm,
            "verified": True,
        }


def run_key_check_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``rfc2136_key_check`` does with its validated ``params``.

    Its ``main()`` and its action plugin both call this. Only reads, so check
    mode and ``--diff`` make no difference. One query, nothing to wait for:
    ``progress`` is accepted like every ``run_module``'s and not used.
    """
    p = params
    try:
        timeout = validate_seconds(p["timeout"], "timeout")
        checker = TsigKeyChecker(timeout=timeout)
        result = checker.check(p["server"], p["zone"], p["key_name"], p["key_algorithm"], p["key_secret"],
                               port=p["port"])
    except Exception as exc:  # noqa: BLE001 - one failed result for every error (result_from_exception)
        return result_from_exception(exc)
    result = dict(result)
    result["changed"] = False
    return result
