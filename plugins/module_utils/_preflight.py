# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The DNS preflight: read-only checks that refuse what would break clicks.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

Before the role writes anything, ``dns_preflight`` asks DNS four questions
(it makes no AWS request: the domain's distribution, when there is one, is
read by the role beforehand and given as ``distribution_domain``):

``caa``
    The relevant CAA record set of the domain (RFC 8659 section 3: the
    closest one found climbing from the domain towards the root, the CNAME
    target's when the domain is a CNAME) must allow Amazon to issue
    (``amazon.com``, ``amazontrust.com``, ``awstrust.com`` or ``amazonaws.com``),
    or the ACM certificate fails with ``CAA_ERROR``. Source: ACM User Guide,
    "(Optional) Configure a CAA record"
    (https://docs.aws.amazon.com/acm/latest/userguide/setup-caa.html: ACM
    cannot issue unless a CAA record names one of the four Amazon CAs; no CAA
    record means no CAA restriction), and the CertificateDetail API reference
    (``FailureReason`` ``CAA_ERROR``).
``delegation``
    The parent zone's NS records for the zone (the referral its servers give)
    must be the zone's own NS records (those of the zone the DNS provider
    writes to). A Route 53 hosted zone that the registrar does not delegate
    to is never seen by ACM's validation: the certificate stays
    ``PENDING_VALIDATION`` until it times out. Source: Route 53 Developer
    Guide, "Getting the name servers for a public hosted zone"
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/GetInfoAboutHostedZone.html)
    and "Making Amazon Route 53 the DNS service for an existing domain" (the
    registrar must name the hosted zone's four name servers), and the
    UpdateDomainNameservers API reference ("specify the four name servers in
    the delegation set for the hosted zone").
``record``
    What the tracking domain answers today: ``none``, ``origin`` (Iterable's
    origin of the configured region), ``other_region`` (the other region's
    origin), ``ours`` (this domain's CloudFront distribution: the
    ``distribution_domain`` that cloudfront_link_distribution found carrying the
    domain as an alias) or ``other`` (anything else; refused unless ``takeover``).
``ttl``
    How long resolvers may keep sending clicks to the old target after the
    cutover: the old record's TTL (RFC 1035 section 3.2.1; resolvers cache an
    answer for at most its TTL).

``Preflight(dns, params)`` holds the logic and takes a ``dns`` object
with ``ask(name, rdtype, servers)``, ``find_servers(name)`` and
``resolve(name, rdtype)`` (see ``WireDns``), so unit tests use fakes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.linktrack.https.plugins.module_utils._common import (
    LinktrackError,
    format_duration,
    normalize_domain,
)
from ansible_collections.linktrack.https.plugins.module_utils._dns import (
    HAS_DNSPYTHON,
    dns,
    EDNS_PAYLOAD,
    DnsChecker,
    parse_servers,
)

ORIGINS = OrderedDict([("usdc", "links.iterable.com"), ("edc", "links.eu.iterable.com")])
# ACM User Guide, "(Optional) Configure a CAA record": any of these lets ACM issue.
AMAZON_CAA_DOMAINS = ("amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com")
CHECKS = ("caa", "delegation", "record")
CLOUDFRONT_SUFFIX = ".cloudfront.net"
# Route 53's hosted zone id of every CloudFront alias target (AliasTarget API reference)
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
KINDS = ("none", "origin", "other_region", "ours", "other")
ANSWERED = ("answer", "nodata", "nxdomain", "cname")


def _norm(value):
    return str(value).strip().rstrip(".").lower()


def parents(name):
    """``links.example.com`` -> ``[links.example.com, example.com, com]``."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def caa_issuer_domain(value):
    """The issuer domain of an ``issue``/``issuewild`` value (RFC 8659 section 4.2: parameters after ';')."""
    return _norm(str(value).strip().strip('"').split(";", 1)[0]) if value is not None else ""


def caa_allows_amazon(records, wildcard=False):
    """Whether a relevant CAA set (``[(flags, tag, value)]``) lets Amazon issue.

    RFC 8659 section 4.2/4.3: ``issuewild`` governs wildcards when present,
    else ``issue``; a set with neither (only ``iodef``) restricts nothing; an
    empty issuer (``;``) allows no CA. Property tags are case-insensitive.
    """
    tags = [(_norm(tag), value) for _flags, tag, value in records]
    wanted = "issue"
    if wildcard and any(tag == "issuewild" for tag, _v in tags):
        wanted = "issuewild"
    issuers = [caa_issuer_domain(value) for tag, value in tags if tag == wanted]
    if not issuers:
        return True
    return any(issuer in AMAZON_CAA_DOMAINS for issuer in issuers)


# --------------------------------------------------------------------------
# DNS on the wire
# --------------------------------------------------------------------------


def _answer(status, values=None, ttl=None, authority_ns=None, zone=None, reason=""):
    return {"status": status, "values": list(values or []), "ttl": ttl, "authority_ns": list(authority_ns or []),
            "zone": zone, "reason": reason}


class WireDns:
    """Direct questions (recursion off) to given servers, and the system resolver for the rest.

    ``ask(name, rdtype, servers)`` returns the first answer that one of the
    servers gives with authority (``answer``, ``nodata``, ``nxdomain``,
    ``cname``) or a referral (``referral`` with ``authority_ns``); ``zone`` is
    the owner of the SOA (or NS) in the authority section, the zone apex the
    server answered from. ``resolve(name, rdtype)`` asks the system resolver
    (recursive, following CNAMEs, as a CA's resolver does).
    """

    def __init__(self, timeout=3.0, transport=None, resolver=None):
        if not HAS_DNSPYTHON:
            raise LinktrackError("dnspython is required for the DNS preflight (pip install dnspython).")
        self.checker = DnsChecker(timeout=timeout, transport=transport, resolver=resolver)
        self.timeout = timeout
        self.transport = transport or dns.query
        self.questions = 0

    def find_servers(self, name, port=53):
        return self.checker.find_authoritative_servers(name, port)

    def ask(self, name, rdtype, servers):
        last = _answer("error", reason="no server to ask")
        for server in servers:
            for address in self.checker.addresses(server) or []:
                self.questions += 1
                qname = dns.name.from_text(name)
                question = dns.message.make_query(qname, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
                question.flags &= ~dns.flags.RD
                try:
                    response = self._exchange(question, address, server.port)
                except (OSError, dns.exception.DNSException) as exc:
                    last = _answer("error", reason="%s: %s" % (server.label, exc or type(exc).__name__))
                    continue
                result = self._interpret(qname, rdtype, response, server.label)
                if result["status"] in ANSWERED + ("referral",):
                    result["server"] = server.label
                    return result
                last = result
        return last

    def _exchange(self, question, address, port):
        """One question: UDP, UDP again after a timeout (as a stub resolver retries), TCP when truncated."""
        for attempt in (1, 2):
            try:
                response = self.transport.udp(question, address, timeout=self.timeout, port=port)
                break
            except dns.exception.Timeout:
                if attempt == 2:
                    raise
        if response.flags & dns.flags.TC:
            response = self.transport.tcp(question, address, timeout=self.timeout, port=port)
        return response

    @staticmethod
    def _interpret(qname, rdtype, response, label):
        rcode = response.rcode()
        aa = bool(response.flags & dns.flags.AA)
        zone = None
        authority_ns = []
        for rrset in response.authority:
            if rrset.rdtype == dns.rdatatype.SOA:
                zone = rrset.name.to_text(omit_final_dot=True).lower()
            elif rrset.rdtype == dns.rdatatype.NS:
                zone = zone or rrset.name.to_text(omit_final_dot=True).lower()
                if rrset.name == qname or not aa:
                    authority_ns = sorted(_norm(r.target.to_text()) for r in rrset)
        if rcode == dns.rcode.NXDOMAIN and aa:
            return _answer("nxdomain", zone=zone, reason="NXDOMAIN")
        if rcode != dns.rcode.NOERROR:
            return _answer("error", reason="%s: %s" % (label, dns.rcode.to_text(rcode)))
        wanted = dns.rdatatype.from_text(rdtype)
        values, ttl, cname = [], None, None
        for rrset in response.answer:
            if rrset.name != qname:
                continue
            if rrset.rdtype == wanted:
                ttl = rrset.ttl
                values.extend(r.to_text() for r in rrset)
            elif rrset.rdtype == dns.rdatatype.CNAME:
                cname = (_norm(list(rrset)[0].target.to_text()), rrset.ttl)
        if not aa:
            if authority_ns and not values:
                return _answer("referral", authority_ns=authority_ns, zone=zone)
            return _answer("error", reason="%s: an answer without the AA flag (not authoritative)" % label)
        if values:
            return _answer("answer", values, ttl, authority_ns, zone)
        if cname is not None:
            return _answer("cname", [cname[0]], cname[1], authority_ns, zone)
        return _answer("nodata", authority_ns=authority_ns, zone=zone)

    def resolve(self, name, rdtype):
        try:
            answer = self.checker.resolver.resolve(name, rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return _answer("nxdomain")
        except (dns.exception.DNSException, LinktrackError) as exc:
            return _answer("error", reason=str(exc) or type(exc).__name__)
        if answer.rrset is None:
            return _answer("nodata")
        return _answer("answer", [r.to_text() for r in answer.rrset], answer.rrset.ttl)


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------


def parse_caa(text):
    """``0 issue "amazon.com"`` -> ``(0, "issue", "amazon.com")``."""
    parts = str(text).split(None, 2)
    if len(parts) < 3:
        return (0, parts[-1] if parts else "", "")
    value = parts[2].strip()
    if value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return (int(parts[0]) if parts[0].isdigit() else 0, parts[1], value)


class Preflight:
    """The four checks; ``run()`` returns the result, ``problems`` lists what to fix."""

    def __init__(self, dns_client, params):
        self.dns = dns_client
        self.p = params
        self.problems = []
        self.notes = []

    # ---- inputs -------------------------------------------------------------

    def _servers(self, field):
        return parse_servers(self.p.get(field) or [], self.p.get("port") or 53, field)

    def zone_servers(self, name):
        servers = self._servers("servers")
        return servers or self.dns.find_servers(name, self.p.get("port") or 53)

    # ---- zone -----------------------------------------------------------------

    def find_zone(self, name, servers):
        """The zone apex: given, or the SOA owner in the servers' answer for the name."""
        if self.p.get("zone"):
            zone = normalize_domain(self.p["zone"], "zone", allow_underscore=True)
            if name != zone and not name.endswith("." + zone):
                raise LinktrackError("zone: %s is not inside the zone %s." % (name, zone), field="zone")
            return zone
        answer = None
        for candidate in parents(name)[:-1]:
            # a CNAME at the name answers without the SOA: climb until a server names the zone
            answer = self.dns.ask(candidate, "SOA", servers)
            if answer["status"] == "answer":
                return candidate
            if answer.get("zone"):
                return answer["zone"]
            if answer["status"] not in ("cname", "nodata"):
                break
        raise LinktrackError(
            "zone: the servers %s did not say which zone holds %s (%s). Give zone."
            % (", ".join(s.label for s in servers), name, answer.get("reason") or answer["status"]), field="zone")

    # ---- CAA ----------------------------------------------------------------

    def check_caa(self, name, zone, servers, parent_servers, record):
        """RFC 8659 section 3: the closest non-empty CAA set, climbing from the domain towards the root.

        A CAA question for a name that is a CNAME is answered (through the
        resolution of the alias) with the CNAME target's CAA set; RFC 8659 then
        climbs the parents of the domain, not of the target.
        """
        checked = []
        relevant = None
        where = None
        parent_zone = parents(zone)[1] if "." in zone else None
        for candidate in parents(name):
            inside = candidate == zone or candidate.endswith("." + zone)
            if candidate == name and record.get("type") == "CNAME" and record.get("values"):
                target = record["values"][0]
                answer = self.dns.resolve(target, "CAA")
                how = "the CNAME target %s, system resolver" % target
            elif inside:
                answer = self.dns.ask(candidate, "CAA", servers)
                how = "zone servers"
            elif candidate == parent_zone and parent_servers:
                answer = self.dns.ask(candidate, "CAA", parent_servers)
                how = "parent servers"
            else:
                answer = self.dns.resolve(candidate, "CAA")
                how = "system resolver"
            checked.append("%s (%s)" % (candidate, how))
            if answer["status"] == "error":
                if inside and how == "zone servers":
                    raise LinktrackError("servers: could not read the CAA records of %s: %s."
                                         % (candidate, answer["reason"]), field="servers")
                self.notes.append("CAA at %s (%s) could not be read: %s; it was taken as no CAA record."
                                  % (candidate, how, answer["reason"]))
                continue
            if answer["status"] == "answer" and answer["values"]:
                relevant, where = [parse_caa(v) for v in answer["values"]], candidate
                break
        result = {"checked": checked, "relevant_name": where,
                  "records": ["%d %s \"%s\"" % r for r in (relevant or [])], "allows_amazon": True}
        if relevant is not None and not caa_allows_amazon(relevant):
            result["allows_amazon"] = False
            self.problems.append(
                "CAA: the CAA records at %s (%s) do not allow Amazon to issue a certificate for %s, so ACM would "
                "leave it FAILED (CAA_ERROR). Add a CAA record at %s such as: %s CAA 0 issue \"amazon.com\" "
                "(amazontrust.com, awstrust.com or amazonaws.com do as well)."
                % (where, "; ".join(result["records"]), name, where, where))
        return result

    # ---- delegation -----------------------------------------------------------

    def check_delegation(self, zone, servers):
        result = {"zone": zone, "zone_name_servers": [], "parent": None, "parent_servers": [],
                  "parent_name_servers": [], "matched": None}
        labels = zone.split(".")
        if len(labels) < 2:
            self.notes.append("Delegation: %s is a top-level zone; not checked." % zone)
            return result, None
        parent = ".".join(labels[1:])
        result["parent"] = parent
        given = [_norm(n) for n in (self.p.get("zone_name_servers") or [])]
        if given:
            own = sorted(set(given))
        else:
            answer = self.dns.ask(zone, "NS", servers)
            if answer["status"] != "answer":
                raise LinktrackError("servers: the zone's servers did not answer the NS records of %s (%s)."
                                     % (zone, answer.get("reason") or answer["status"]), field="servers")
            own = sorted(set(_norm(v) for v in answer["values"]))
        result["zone_name_servers"] = own
        parent_servers = self._servers("parent_servers")
        if not parent_servers:
            try:
                parent_servers = self.dns.find_servers(parent, self.p.get("port") or 53)
            except LinktrackError as exc:
                # no resolver that knows the parent (an offline test machine): say so, do not guess
                self.notes.append("Delegation of %s not checked: the name servers of the parent zone %s were not "
                                  "found (%s). Give parent_servers (link_domain_preflight_parent_servers)."
                                  % (zone, parent, exc.message))
                return result, None
        result["parent_servers"] = [s.label for s in parent_servers]
        answer = self.dns.ask(zone, "NS", parent_servers)
        if answer["status"] == "referral" or (answer["status"] == "answer"):
            seen = answer["authority_ns"] if answer["status"] == "referral" else answer["values"]
            delegated = sorted(set(_norm(v) for v in seen))
        elif answer["status"] in ("nxdomain", "nodata"):
            delegated = []
        else:
            raise LinktrackError("parent_servers: the servers of the parent zone %s (%s) did not answer for %s: %s."
                                 % (parent, ", ".join(result["parent_servers"]), zone, answer.get("reason")),
                                 field="parent_servers")
        result["parent_name_servers"] = delegated
        result["matched"] = delegated == own
        if not delegated:
            self.problems.append(
                "Delegation: the parent zone %s (asked at %s) does not delegate %s at all, so nobody (ACM "
                "included) sees the zone the DNS provider writes to. Set the name servers of %s at the registrar "
                "to %s." % (parent, ", ".join(result["parent_servers"]), zone, zone, ", ".join(own)))
        elif delegated != own:
            self.problems.append(
                "Delegation: the parent zone %s (asked at %s) delegates %s to %s, but the zone the DNS provider "
                "writes to has the name servers %s. Records written there would not be seen (ACM validation would "
                "stay pending). Set the name servers at the registrar to %s, or point the role at the zone that is "
                "delegated (link_domain_route53_zone_id, link_domain_rfc2136_server)."
                % (parent, ", ".join(result["parent_servers"]), zone, ", ".join(delegated), ", ".join(own),
                   ", ".join(own)))
        return result, parent_servers

    # ---- the existing record ----------------------------------------------------

    def read_record(self, name, servers):
        """``{type, values, ttl, alias}`` of what the name answers today (``type`` None: nothing)."""
        given = self.p.get("current_records")
        if given is not None:
            return self._record_from_sets(name, given)
        answer = self.dns.ask(name, "CNAME", servers)
        if answer["status"] == "answer":
            return {"type": "CNAME", "values": [_norm(v) for v in answer["values"]], "ttl": answer["ttl"],
                    "alias": False}
        if answer["status"] == "error":
            raise LinktrackError("servers: could not read the record at %s: %s." % (name, answer["reason"]),
                                 field="servers")
        for rdtype in ("A", "AAAA"):
            answer = self.dns.ask(name, rdtype, servers)
            if answer["status"] == "answer":
                return {"type": rdtype, "values": sorted(answer["values"]), "ttl": answer["ttl"], "alias": False}
        return {"type": None, "values": [], "ttl": None, "alias": False}

    @staticmethod
    def _record_from_sets(name, record_sets):
        found = {}
        for rrset in record_sets or []:
            if not isinstance(rrset, dict) or _norm(rrset.get("Name", "")) != name:
                continue
            found[str(rrset.get("Type", "")).upper()] = rrset
        for rdtype in ("CNAME", "A", "AAAA"):
            rrset = found.get(rdtype)
            if rrset is None:
                continue
            alias = rrset.get("AliasTarget")
            if alias:
                return {"type": rdtype, "values": [_norm(alias.get("DNSName", ""))], "ttl": None, "alias": True,
                        "alias_zone": alias.get("HostedZoneId")}
            values = [_norm(v.get("Value", "")) if rdtype == "CNAME" else str(v.get("Value", ""))
                      for v in rrset.get("ResourceRecords") or []]
            return {"type": rdtype, "values": sorted(values), "ttl": rrset.get("TTL"), "alias": False}
        return {"type": None, "values": [], "ttl": None, "alias": False}

    def is_ours(self, name, target):
        """Whether ``target`` (dXXXX.cloudfront.net) is this domain's distribution, ``distribution_domain``.

        That is the domain name of the distribution cloudfront_link_distribution
        found for ``name``, which carries ``name`` as an alias: CloudFront lets
        one distribution only have an alternate domain name (CNAMEAlreadyExists,
        CloudFront Developer Guide, "Move an alternate domain name").
        """
        mine = _norm(self.p.get("distribution_domain") or "")
        return bool(mine) and mine == target

    def classify(self, name, record):
        region = self.p.get("iterable_region") or "usdc"
        origin = ORIGINS[region]
        rtype, values = record["type"], record["values"]
        shown = "%s %s" % ("alias %s" % rtype if record.get("alias") else rtype, ", ".join(values)) if rtype else ""
        if rtype is None:
            return "none", "nothing (no CNAME, A or AAAA record)", None
        target = values[0] if values and (rtype == "CNAME" or record.get("alias")) else None
        if target == origin and rtype == "CNAME":
            return "origin", "%s: Iterable's origin for %s" % (shown, region), None
        others = [r for r, o in ORIGINS.items() if o == target and r != region]
        if others and rtype == "CNAME":
            return "other_region", "%s: Iterable's origin for %s, not %s" % (shown, others[0], region), others[0]
        if target and target.endswith(CLOUDFRONT_SUFFIX):
            if self.is_ours(name, target):
                return "ours", "%s: this domain's CloudFront distribution" % shown, None
            return "other", "%s: a CloudFront distribution that is not this domain's (not the one that " \
                            "carries the domain as an alias)" % shown, None
        return "other", "%s: neither Iterable's origin nor this domain's distribution" % shown, None

    def check_record(self, name, record):
        kind, what, extra = self.classify(name, record)
        takeover = bool(self.p.get("takeover"))
        region = self.p.get("iterable_region") or "usdc"
        result = {"kind": kind, "description": what, "type": record["type"], "values": record["values"],
                  "ttl": record["ttl"], "alias": record.get("alias", False)}
        old = "%s %s" % (record["type"], ", ".join(record["values"])) if record["type"] else "nothing"
        if kind == "none":
            result["cutover"] = "%s: nothing today; the cutover creates the record to the distribution" % name
        elif kind == "ours":
            result["cutover"] = "%s: already points at this domain's distribution; the cutover changes nothing " \
                                "unless the record type changes" % name
        else:
            result["cutover"] = "%s: %s -> the distribution (step 5, after the TLS check passed)" % (name, old)
        if kind == "other_region" and not takeover:
            self.problems.append(
                "link_domain_iterable_region: %s points at %s, Iterable's origin for %s, but the region is %s. "
                "The distribution would send clicks to the wrong Iterable project. Set link_domain_iterable_region: "
                "%s (or, to move the domain to the %s project on purpose, link_domain_takeover: true)."
                % (name, record["values"][0], extra, region, extra, region))
        elif kind == "other" and not takeover:
            self.problems.append(
                "link_domain_takeover: %s answers %s today (%s). The cutover would replace it and break whatever "
                "it serves. Remove or change that record, or set link_domain_takeover: true to replace it."
                % (name, old, what))
        return result

    def ttl(self, name, record):
        ttl = record.get("ttl")
        if record["type"] is None:
            return {"seconds": 0, "message": "%s has no record yet: no resolver holds an old answer." % name}
        if ttl is None:
            # a Route 53 alias has no TTL of its own: the target's TTL applies (60 s for CloudFront targets;
            # Route 53 Developer Guide, "Choosing between alias and non-alias records")
            ttl = 60
        return {"seconds": ttl, "message": "after the cutover, resolvers may keep sending clicks to %s for up to %s "
                "(the old record's TTL, %d s)." % (", ".join(record["values"]), format_duration(ttl), ttl)}

    # ---- all of it --------------------------------------------------------------

    def run(self):
        name = normalize_domain(self.p["name"], "name")
        checks = list(self.p.get("checks") or CHECKS)
        servers = self.zone_servers(name)
        zone = self.find_zone(name, servers)
        record = self.read_record(name, servers)
        result = OrderedDict(name=name, zone=zone, servers=[s.label for s in servers], checks=checks)
        parent_servers = None
        if "delegation" in checks:
            result["delegation"], parent_servers = self.check_delegation(zone, servers)
        if "caa" in checks:
            result["caa"] = self.check_caa(name, zone, servers, parent_servers, record)
        result["record"] = self.check_record(name, record) if "record" in checks else None
        result["ttl"] = self.ttl(name, record)
        lines = []
        if result["record"]:
            lines.append("%s today: %s." % (name, result["record"]["description"]))
            lines.append("Cutover: %s." % result["record"]["cutover"])
        if record["type"] is not None and (not result["record"] or result["record"]["kind"] != "ours"):
            lines.append("TTL: %s" % result["ttl"]["message"])
        if "caa" in result:
            caa = result["caa"]
            if caa["relevant_name"] is None:
                lines.append("CAA: no CAA records restrict issuance.")
            else:
                verdict = "allows" if caa["allows_amazon"] else "does not allow"
                lines.append("CAA: %s at %s %s Amazon." % ("; ".join(caa["records"]), caa["relevant_name"], verdict))
        if result.get("delegation") and result["delegation"]["matched"] is not None:
            deleg = result["delegation"]
            lines.append("Delegation: %s delegates %s to %s%s." % (
                deleg["parent"], zone, ", ".join(deleg["parent_name_servers"]) or "nobody",
                " (the zone's own name servers)" if deleg["matched"] else ""))
        result["messages"] = lines + self.notes
        result["problems"] = list(self.problems)
        result["passed"] = not self.problems
        return result


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``dns_preflight`` does with its validated ``params``: read, never write.

    Check mode and ``--diff`` change nothing (there is nothing to write). A
    failed check is a failed result whose ``msg`` lists every problem, each
    naming what to fix; the checks' data stays in the result.
    """
    result = {"changed": False}
    try:
        for field in ("checks",):
            for value in params.get(field) or []:
                if value not in CHECKS:
                    raise LinktrackError("%s: %r is not one of %s." % (field, value, ", ".join(CHECKS)), field=field)
        if (params.get("iterable_region") or "usdc") not in ORIGINS:
            raise LinktrackError("iterable_region: %r is not one of %s."
                                 % (params.get("iterable_region"), ", ".join(ORIGINS)), field="iterable_region")
        wire = WireDns(timeout=params.get("query_timeout") or 3.0)
        result.update(Preflight(wire, params).run())
        result["dns_questions"] = wire.questions
    except LinktrackError as exc:
        return exc.as_result()
    if progress is not None:
        for line in result["messages"]:
            progress("%s: %s" % (result["name"], line))
    if result["problems"]:
        result["failed"] = True
        result["msg"] = "DNS preflight for %s refused, nothing was changed: %s" % (
            result["name"], " ".join(result["problems"]))
    return result
