# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The parent zone stand-in: what a TLD's servers answer for the sandbox zone.

A real parent zone (``com`` for ``example.com``) holds the delegation: NS records
for the child, given as a referral (NOERROR, no AA flag, the NS set in the
authority section, glue in the additional section). The sandbox has two copies
of its zone, one in BIND (rfc2136 and manual DNS) and one in Route 53, which no
single parent could both delegate to; so there are two parents, one per port:

- ``SANDBOX_PARENT_DNS_PORT`` (world ``bind``): the zone delegated to BIND's
  ``ns1.<zone>`` (glue 127.0.0.1);
- ``SANDBOX_R53_PARENT_DNS_PORT`` (world ``route53``): the zone delegated to the
  hosted zone's name servers (moto's fixed delegation set).

``<state>/parent-delegations.json`` changes them, read again whenever it
changes: ``{"bind": {"example.com": ["ns9.elsewhere.net"]}, "route53":
{"example.com": []}}``; a zone with an empty list is not delegated (NXDOMAIN), a
new zone name adds a delegation. ``reset`` and ``up`` remove the file.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import logging
import os
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from . import r53dns

_LOG = logging.getLogger("sandbox.parentdns")

# moto's delegation set of every hosted zone (moto/route53/models.py, FakeDelegationSet)
ROUTE53_NAME_SERVERS = ("ns-2048.awsdns-64.com", "ns-2049.awsdns-65.net", "ns-2050.awsdns-66.org",
                        "ns-2051.awsdns-67.co.uk")
WORLDS = ("bind", "route53")
TTL = 172800  # what TLD servers give a delegation (two days)


def default_delegations(zone):
    return {
        "bind": {zone: ["ns1." + zone]},
        "route53": {zone: list(ROUTE53_NAME_SERVERS)},
    }


def _name(text):
    return dns.name.from_text(text.rstrip(".") + ".")


class Delegations:
    """The delegations of one world: the defaults, then the file's changes (read again when it changes)."""

    def __init__(self, zone, world, path):
        self.zone = zone
        self.world = world
        self.path = path
        self._lock = threading.Lock()
        self._stamp = None
        self._data = None

    def get(self):
        try:
            stat = os.stat(self.path)
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if self._data is None or stamp != self._stamp:
                data = dict(default_delegations(self.zone)[self.world])
                if stamp is not None:
                    try:
                        with open(self.path, "r", encoding="utf-8") as handle:
                            data.update((json.load(handle) or {}).get(self.world) or {})
                    except (OSError, ValueError) as exc:
                        _LOG.warning("%s: %s; using the default delegations", self.path, exc)
                self._data = dict((_name(z), [_name(n) for n in (ns or [])]) for z, ns in data.items())
                self._stamp = stamp
            return self._data


def respond(delegations, glue, query):
    """The parent's answer: a referral inside a delegated zone, the parent's own apex, or NXDOMAIN."""
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.AA
    if not query.question:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    question = query.question[0]
    qname, qtype = question.name, question.rdtype
    parents = set(z.parent() for z in delegations)
    parent = next((p for p in sorted(parents, key=len, reverse=True) if qname.is_subdomain(p)), None)
    if parent is None or question.rdclass != dns.rdataclass.IN:
        response.set_rcode(dns.rcode.REFUSED)
        return response
    soa = dns.rrset.from_text(parent, 900, "IN", "SOA",
                              "a.parent-servers.invalid. hostmaster.%s 1 7200 900 1209600 86400" % parent.to_text())
    for zone, servers in sorted(delegations.items(), key=lambda item: len(item[0]), reverse=True):
        if servers and qname.is_subdomain(zone):
            response.authority.append(dns.rrset.from_text_list(zone, TTL, "IN", "NS", [s.to_text() for s in servers]))
            for server in servers:
                address = glue.get(server)
                if address and server.is_subdomain(zone):
                    response.additional.append(dns.rrset.from_text(server, TTL, "IN", "A", address))
            return response
    response.flags |= dns.flags.AA
    if qname == parent and qtype == dns.rdatatype.SOA:
        response.answer.append(soa)
    elif qname == parent and qtype == dns.rdatatype.NS:
        response.answer.append(dns.rrset.from_text(parent, TTL, "IN", "NS", "a.parent-servers.invalid."))
    elif qname == parent:
        response.authority.append(soa)
    else:
        response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(soa)
    return response


class Source:
    """What ``r53dns.handle_wire`` asks: ``get()`` returns an object with ``respond(query)``."""

    def __init__(self, delegations, glue):
        self.delegations = delegations
        self.glue = glue

    def get(self):
        return self

    def respond(self, query):
        return respond(self.delegations.get(), self.glue, query)


def build(config, path):
    """UDP and TCP listeners of both parents: ``[(name, server), ...]``."""
    zone = config["zone"]
    glue = {_name("ns1." + zone): "127.0.0.1"}
    servers = []
    for world, key in (("bind", "parent_dns"), ("route53", "r53_parent_dns")):
        source = Source(Delegations(zone, world, path), glue)
        address = (config["host"], config["ports"][key])
        servers.append(("%s-udp" % key, r53dns.UDPServer(address, source)))
        servers.append(("%s-tcp" % key, r53dns.TCPServer(address, source)))
    return servers
