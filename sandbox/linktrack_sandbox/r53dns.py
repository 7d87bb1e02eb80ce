# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Route 53 DNS stand-in: an authoritative name server for the emulator's public hosted zones.

It answers (UDP and TCP, AA set) from the records of every public hosted zone in
the emulator, resolves alias A/AAAA records to the target's addresses, and serves
the zone cloudfront.net with A 127.0.0.1 / AAAA ::1 for every distribution
domain (NXDOMAIN for other names). Names outside all zones are REFUSED.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import logging
import re
import socketserver
import struct
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

_LOG = logging.getLogger("sandbox.r53dns")
CLOUDFRONT = dns.name.from_text("cloudfront.net.")
MAX_CHAIN = 8
A = dns.rdatatype.A
AAAA = dns.rdatatype.AAAA
CNAME = dns.rdatatype.CNAME
NS = dns.rdatatype.NS
SOA = dns.rdatatype.SOA
ANY = dns.rdatatype.ANY


def route53_name(text):
    """A dns.name.Name from a Route 53 record name (Route 53 writes special characters as octal escapes, \\052 for *)."""
    text = re.sub(r"\\([0-7]{3})", lambda match: "\\%03d" % int(match.group(1), 8), text)
    return dns.name.from_text(text if text.endswith(".") else text + ".")


def _rdata(rdtype, text):
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, text, origin=dns.name.root, relativize=False)


class Zone:
    """One zone's data: {name: {rdtype: ("records", ttl, [rdata]) or ("alias", target name)}}."""

    def __init__(self, origin, zone_id=""):
        self.origin = origin
        self.zone_id = zone_id
        self.nodes = {}
        self.names = set()
        self.soa = None

    def add(self, name, rdtype, entry):
        node = self.nodes.setdefault(name, {})
        old = node.get(rdtype)
        if old is None:
            node[rdtype] = entry
        elif old[0] == "records" and entry[0] == "records":
            # Several sets of one name and type (weighted, failover...): answer with all their values.
            node[rdtype] = ("records", old[1], list(old[2]) + [r for r in entry[2] if r not in old[2]])
        while len(name) > len(self.origin):
            self.names.add(name)
            name = name.parent()

    def finish(self, default_soa_mname="ns.sandbox.invalid."):
        apex = self.nodes.get(self.origin, {})
        if SOA in apex and apex[SOA][0] == "records":
            self.soa = (apex[SOA][1], apex[SOA][2][0])
        else:
            mname = default_soa_mname
            if NS in apex and apex[NS][0] == "records" and apex[NS][2]:
                mname = apex[NS][2][0].target.to_text()
            soa = _rdata(SOA, "%s awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400" % mname)
            self.soa = (900, soa)
            apex[SOA] = ("records", 900, [soa])
            self.nodes[self.origin] = apex

    def negative_ttl(self):
        ttl, soa = self.soa
        return min(ttl, soa.minimum)


def zone_from_route53(zone):
    """A Zone from one hosted zone as the catalog returns it."""
    origin = dns.name.from_text(zone["name"] + ".")
    result = Zone(origin, zone["id"])
    for record in zone["records"]:
        try:
            name = route53_name(record["Name"])
            rdtype = dns.rdatatype.from_text(record["Type"])
            if "AliasTarget" in record:
                target = record["AliasTarget"]["DNSName"]
                result.add(name, rdtype, ("alias", dns.name.from_text(target if target.endswith(".") else target + ".")))
                continue
            rdatas = []
            for item in record.get("ResourceRecords", []):
                value = item["Value"]
                if rdtype == SOA and value.startswith("{"):
                    value = ast.literal_eval(value)["Value"]  # moto stores the SOA value as a dict's repr
                rdatas.append(_rdata(rdtype, value))
            result.add(name, rdtype, ("records", int(record.get("TTL", 300)), rdatas))
        except Exception as exc:  # pylint: disable=broad-except
            _LOG.warning("zone %s: skipping record %r: %s", zone["name"], record, exc)
    result.finish()
    return result


def cloudfront_zone(distribution_domains):
    """The synthetic zone cloudfront.net: each distribution domain has A 127.0.0.1 and AAAA ::1."""
    zone = Zone(CLOUDFRONT, "cloudfront")
    zone.add(CLOUDFRONT, NS, ("records", 172800, [_rdata(NS, "ns-sandbox.cloudfront.net.")]))
    zone.add(CLOUDFRONT, SOA, ("records", 900, [_rdata(SOA, "ns-sandbox.cloudfront.net. hostmaster.cloudfront.net. 1 7200 900 1209600 60")]))
    for domain in distribution_domains:
        name = dns.name.from_text(domain.rstrip(".") + ".")
        if name.is_subdomain(CLOUDFRONT):
            zone.add(name, A, ("records", 60, [_rdata(A, "127.0.0.1")]))
            zone.add(name, AAAA, ("records", 60, [_rdata(AAAA, "::1")]))
    zone.finish()
    return zone


class ZoneSet:
    """All zones served, and the answering logic."""

    def __init__(self, zones, preferred_ids=()):
        self.zones = {}
        for zone in zones:
            if zone.origin not in self.zones or zone.zone_id in preferred_ids:
                self.zones[zone.origin] = zone

    def find_zone(self, qname):
        best = None
        for origin, zone in self.zones.items():
            if qname.is_subdomain(origin) and (best is None or len(origin) > len(best.origin)):
                best = zone
        return best

    def _lookup(self, zone, qname):
        """(owner node, exists) with wildcard synthesis; exists is False for NXDOMAIN."""
        node = zone.nodes.get(qname)
        if node is not None:
            return node, True
        if qname in zone.names:
            return {}, True
        name = qname
        while len(name) > len(zone.origin):
            name = name.parent()
            wildcard = dns.name.Name((b"*",) + name.labels)
            if wildcard in zone.nodes:
                return zone.nodes[wildcard], True
            if name in zone.nodes or name in zone.names:
                break
        return None, False

    def _delegation(self, zone, qname):
        name = qname
        cut = None
        while len(name) > len(zone.origin):
            node = zone.nodes.get(name)
            if node and NS in node:
                cut = name
            name = name.parent()
        return cut

    def _rrset(self, owner, rdtype, entry, depth):
        if entry[0] == "records":
            rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
            rrset.update_ttl(entry[1])
            for rdata in entry[2]:
                rrset.add(rdata)
            return rrset
        if depth >= MAX_CHAIN:
            return None
        target_zone = self.find_zone(entry[1])
        if target_zone is None:
            return None
        node, _exists = self._lookup(target_zone, entry[1])
        if not node or rdtype not in node:
            return None
        target = self._rrset(entry[1], rdtype, node[rdtype], depth + 1)
        if target is None:
            return None
        rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
        rrset.update_ttl(target.ttl)
        for rdata in target:
            rrset.add(rdata)
        return rrset

    def respond(self, query):
        """The response message to one query message."""
        response = dns.message.make_response(query)
        response.flags &= ~dns.flags.RA
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        self._answer(response, question.name, question.rdtype, 0)
        return response

    def _answer(self, response, qname, qtype, depth):  # pylint: disable=too-many-branches,too-many-return-statements
        zone = self.find_zone(qname)
        if zone is None:
            if depth == 0:
                response.set_rcode(dns.rcode.REFUSED)
            return
        cut = self._delegation(zone, qname)
        if cut is not None:
            if depth == 0:
                ns_entry = zone.nodes[cut][NS]
                response.authority.append(self._rrset(cut, NS, ns_entry, depth))
            return
        response.flags |= dns.flags.AA
        node, exists = self._lookup(zone, qname)
        if not exists:
            response.set_rcode(dns.rcode.NXDOMAIN)
            self._add_soa(response, zone)
            return
        if qtype == ANY and node:
            for rdtype, entry in node.items():
                rrset = self._rrset(qname, rdtype, entry, depth)
                if rrset is not None:
                    response.answer.append(rrset)
            return
        if qtype in node:
            rrset = self._rrset(qname, qtype, node[qtype], depth)
            if rrset is not None:
                response.answer.append(rrset)
                return
        if CNAME in node and qtype != CNAME:
            rrset = self._rrset(qname, CNAME, node[CNAME], depth)
            if rrset is not None:
                response.answer.append(rrset)
                if depth < MAX_CHAIN:
                    self._answer(response, rrset[0].target, qtype, depth + 1)
                return
        self._add_soa(response, zone)

    @staticmethod
    def _add_soa(response, zone):
        if any(rrset.rdtype == SOA for rrset in response.authority):
            return
        rrset = dns.rrset.RRset(zone.origin, dns.rdataclass.IN, SOA)
        rrset.update_ttl(zone.negative_ttl())
        rrset.add(zone.soa[1])
        response.authority.append(rrset)


class ZoneSource:
    """Builds the ZoneSet from the catalog, again only when the catalog's data changed."""

    def __init__(self, catalog, preferred_zone_id):
        self.catalog = catalog
        self.preferred = (preferred_zone_id,)
        self._lock = threading.Lock()
        self._key = None
        self._zoneset = None

    def get(self):
        zones = self.catalog.zones()
        dists = self.catalog.distributions()
        with self._lock:
            if self._key is None or self._key[0] is not zones or self._key[1] is not dists:
                built = [zone_from_route53(zone) for zone in zones if not zone["private"]]
                built.append(cloudfront_zone([dist.get("DomainName", "") for dist in dists]))
                self._zoneset = ZoneSet(built, self.preferred)
                self._key = (zones, dists)
            return self._zoneset


def handle_wire(source, wire, max_size):
    """Wire-format answer to a wire-format query, or None to stay silent."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException as exc:
        _LOG.debug("malformed query: %s", exc)
        return None
    try:
        response = source.get().respond(query)
    except Exception as exc:  # pylint: disable=broad-except
        _LOG.warning("could not answer %s: %s", query.question, exc)
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.SERVFAIL)
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        response.answer = []
        response.authority = []
        response.additional = []
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=max_size)


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        wire, sock = self.request
        payload = 512
        try:
            query = dns.message.from_wire(wire)
            if query.edns >= 0:
                payload = max(512, min(query.payload, 4096))
        except dns.exception.DNSException:
            pass
        answer = handle_wire(self.server.source, wire, payload)
        if answer:
            sock.sendto(answer, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(10)
        while True:
            header = self._read(2)
            if not header:
                return
            wire = self._read(struct.unpack("!H", header)[0])
            if wire is None:
                return
            answer = handle_wire(self.server.source, wire, 65535)
            if answer:
                self.request.sendall(struct.pack("!H", len(answer)) + answer)

    def _read(self, size):
        data = b""
        while len(data) < size:
            try:
                chunk = self.request.recv(size - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data


class UDPServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, address, source):
        self.source = source
        super().__init__(address, _UDPHandler)


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, address, source):
        self.source = source
        super().__init__(address, _TCPHandler)


def build(config, catalog):
    """The UDP and TCP listeners of the Route 53 DNS stand-in."""
    source = ZoneSource(catalog, config["zone_id"])
    address = (config["host"], config["ports"]["r53dns"])
    return [UDPServer(address, source), TCPServer(address, source)]
