# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The DNS step of the role, whatever the provider (``dns_records``).

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

One call takes the records, the provider's settings and the state, then:

1. reads the current records (``Provider.read``),
2. plans with ``plan()``, the one planner of every provider (it is
   ``Route53Records.plan``: DELETEs and UPSERTs of ``RecordSet`` objects,
   the replace types, the CNAME-beside-other-data rule),
3. writes (``Provider.write``: a Route 53 change batch, one RFC 2136 update
   message, or instructions for a person),
4. confirms through the zone's authoritative name servers
   (``DnsChecker.wait``), and
5. returns the outcome (one entry per record with its old and new value) and
   the report lines the role prints.

Adding a provider is one subclass of ``Provider`` in ``PROVIDERS``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.linktrack.https.plugins.module_utils._aws import new_caller
from ansible_collections.linktrack.https.plugins.module_utils._common import (
    Clock,
    Differences,
    LinktrackError,
    Progress,
    format_duration,
    normalize_domain,
    result_from_exception,
)
from ansible_collections.linktrack.https.plugins.module_utils._dns import (
    dns,
    TSIG_ALGORITHMS,
    DnsChecker,
    evaluate,
    parse_servers,
    tsig_secret_bytes,
    wait_progress,
)
from ansible_collections.linktrack.https.plugins.module_utils._records import txt_encode, validate_port
from ansible_collections.linktrack.https.plugins.module_utils._route53 import (
    RecordSet,
    Request,
    Route53Records,
)

PROVIDER_NAMES = ("route53", "rfc2136", "manual")
STATES = ("present", "absent")
BAR = "=" * 78
# dnspython's name of hmac-md5 is the long form of RFC 2845
_TSIG_ALGORITHM_NAMES = {"hmac-md5": "hmac-md5.sig-alg.reg.int"}


def plan(request, current):
    """``(deletes, upserts)`` for ``request`` against the ``current`` record sets, for every provider.

    The planner of ``Route53Records`` uses no Route 53 state: it compares
    ``RecordSet`` objects. Every provider calls it through here, so there is
    one set of rules (what changes, what gives way, what DNS forbids).
    """
    return Route53Records.plan(None, request, current)


# --------------------------------------------------------------------------
# Texts: one record as the reports show it
# --------------------------------------------------------------------------


def record_text(rec):
    """``CNAME d1.cloudfront.net``, ``A alias d1.cloudfront.net`` or ``TXT "a" "b"``; ``None`` for no record."""
    if rec is None:
        return None
    if rec.alias is not None:
        return "%s alias %s" % (rec.type, rec.alias[0])
    if rec.values is None:
        return rec.type
    return "%s %s" % (rec.type, ", ".join(value_text(rec.type, v) for v in rec.values))


def value_text(rtype, value):
    return txt_encode(value) if rtype == "TXT" else value


def expected_answers(rec):
    """The values the authoritative servers must answer for ``rec`` (any value for an alias)."""
    if rec.alias is not None or rec.values is None:
        return []
    if rec.type == "TXT":
        return ["".join(v) for v in rec.values]
    return list(rec.values)


def zone_line(rec, state):
    """One line of a zone file: what a person creates (or deletes)."""
    if state == "absent":
        return "; delete: %s. IN %s" % (rec.name, rec.type)
    lines = []
    for value in rec.values or ():
        text = value_text(rec.type, value)
        if rec.type == "CNAME":
            text = text.rstrip(".") + "."
        lines.append("%s. %s IN %s %s" % (rec.name, rec.ttl, rec.type, text))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------


class Provider:
    """One DNS provider: ``read`` the current records, ``write`` the plan.

    ``converge`` is the same for every provider: read, ``plan()``, write unless
    in check mode. A subclass sets ``name`` and implements ``read`` and
    ``write``; ``confirm`` (ask the authoritative servers after a write) is on
    unless the provider's ``write`` waits itself.
    """

    name = None
    confirm = True

    def __init__(self, params, check_mode=False, client_factory=None, progress=None, checker=None):
        self.params = params
        self.check_mode = check_mode
        self.client_factory = client_factory
        self.progress = progress
        self.checker = checker
        self.notes = {}

    def validate(self):
        """Raise ``LinktrackError`` (naming the option) for settings this provider cannot use."""

    def request(self):
        p = self.params
        return Request(p["records"], state=p["state"],
                       replace_types=p["replace_types"] if p["state"] == "present" else None)

    def read(self, request):
        raise NotImplementedError

    def write(self, request, deletes, upserts):
        raise NotImplementedError

    def converge(self, request):
        current = self.read(request)
        deletes, upserts = plan(request, current)
        return deletes, upserts

    def apply(self, request, deletes, upserts):
        if (deletes or upserts) and not self.check_mode:
            self.write(request, deletes, upserts)


class Route53Provider(Provider):
    """Amazon Route 53 through ``Route53Records``: one listing (or the snapshot), one change batch, GetChange.

    ``Route53Records.run`` reads (or reuses the snapshot of an earlier call when
    it covers every name and shows no change), plans with the same ``plan()``
    and sends one ``ChangeResourceRecordSets`` with every DELETE and UPSERT, so
    a CNAME becomes alias A/AAAA atomically.
    """

    name = "route53"

    def request(self):
        p = self.params
        r = p.get("route53") or {}
        return Request(p["records"], state=p["state"], zone=r.get("zone") or None,
                       hosted_zone_id=r.get("hosted_zone_id") or None,
                       replace_types=p["replace_types"] if p["state"] == "present" else None,
                       read_names=r.get("read_names") or [], snapshot=r.get("snapshot") or None,
                       wait=True, wait_timeout=p["timeout"], allow_private_zone=bool(r.get("allow_private_zone")))

    def converge(self, request):
        self.caller = new_caller()
        manager = Route53Records(self.client_factory("route53"), self.caller,
                                 progress=Progress(report=self.progress, subject=request.subject, quiet_start=True))
        result = manager.run(request, check_mode=self.check_mode)
        self.notes = {"snapshot": result.snapshot, "hosted_zone_id": result.hosted_zone_id, "zone": result.zone,
                      "change_id": result.change_id, "route53_status": result.status,
                      "read_from": result.read_from}
        by_key = dict((r.key, r) for r in request.records)
        deletes, upserts = [], []
        for change in result.changes:
            key = (change["name"], change["type"])
            before = _from_view(change["name"], change["type"], change["before"])
            if change["action"] == "DELETE":
                deletes.append((before, None))
            else:
                upserts.append((before, by_key.get(key) or _from_view(change["name"], change["type"], change["after"])))
        return deletes, upserts

    def apply(self, request, deletes, upserts):
        """``Route53Records.run`` has written already (not in check mode) and waited for INSYNC."""


def _from_view(name, rtype, view):
    if view is None:
        return None
    if "alias" in view:
        a = view["alias"]
        return RecordSet(name, rtype, alias=(a["dns_name"], a["hosted_zone_id"], a["evaluate_target_health"]))
    if "raw" in view:
        return RecordSet.from_api(view["raw"])
    return RecordSet.from_api({"Name": name, "Type": rtype, "TTL": view.get("ttl"),
                               "ResourceRecords": [{"Value": v} for v in view.get("values") or []]})


class Rfc2136Provider(Provider):
    """RFC 2136 dynamic updates signed with TSIG (RFC 8945), with dnspython.

    The current records are read from the primary server (``server``, the one
    that takes the updates), unsigned, one question per name and type. Every
    DELETE and UPSERT goes in ONE update message (RFC 2136 section 3.4: the
    updates of one message are applied together, or none is), sent over TCP.
    """

    name = "rfc2136"

    def __init__(self, params, transport=None, **kwargs):
        super(Rfc2136Provider, self).__init__(params, **kwargs)
        self.transport = transport or dns.query

    def validate(self):
        s = self.params.get("rfc2136") or {}
        address = (s.get("server") or "").strip()
        servers = parse_servers([address], 53, "rfc2136.server") if address else []
        if not servers or servers[0].addresses != [servers[0].host]:
            raise LinktrackError("rfc2136.server: %r must be an IPv4 or IPv6 address." % (s.get("server"),),
                                 field="rfc2136.server")
        self.address = servers[0].host
        self.port = validate_port(s.get("port", 53), "rfc2136.port")
        if not (s.get("key_name") or "").strip():
            raise LinktrackError("rfc2136.key_name: the name of the TSIG key is required (unsigned updates are "
                                 "refused).", field="rfc2136.key_name")
        algorithm = s.get("key_algorithm") or "hmac-sha256"
        if algorithm not in TSIG_ALGORITHMS:
            raise LinktrackError("rfc2136.key_algorithm: %r is not one of %s." % (algorithm, ", ".join(TSIG_ALGORITHMS)),
                                 field="rfc2136.key_algorithm")
        secret = tsig_secret_bytes(s.get("key_secret"), "rfc2136.key_secret")
        self.key_name = s["key_name"].strip().rstrip(".")
        self.keyring = {dns.name.from_text(self.key_name): secret}
        self.algorithm = _TSIG_ALGORITHM_NAMES.get(algorithm, algorithm)
        self.zone = normalize_domain(s["zone"], "rfc2136.zone") if s.get("zone") else None
        self.timeout = 10.0

    def _ask(self, name, rtype):
        question = dns.message.make_query(dns.name.from_text(name), rtype)
        question.flags &= ~dns.flags.RD
        response = self.transport.udp(question, self.address, port=self.port, timeout=self.timeout)
        if response.flags & dns.flags.TC:
            response = self.transport.tcp(question, self.address, port=self.port, timeout=self.timeout)
        return response

    def read(self, request):
        types = set(r.type for r in request.records) | set(request.replace_types)
        current = []
        for name in request.names:
            for rtype in sorted(types):
                try:
                    response = self._ask(name, rtype)
                except (OSError, dns.exception.DNSException) as exc:
                    raise LinktrackError("rfc2136.server: reading %s %s from %s port %d failed: %s"
                                         % (name, rtype, self.address, self.port, exc), field="rfc2136.server")
                if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    raise LinktrackError("rfc2136.server: %s port %d answered %s to %s %s."
                                         % (self.address, self.port, dns.rcode.to_text(response.rcode()), name, rtype),
                                         field="rfc2136.server")
                rec = rrset_record(name, rtype, response)
                if rec is not None:
                    current.append(rec)
        return current

    def _zone(self, name):
        if self.zone:
            return self.zone
        response = self._ask(name, "SOA")
        for rrset in list(response.answer) + list(response.authority):
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset.name.to_text(omit_final_dot=True).lower()
        raise LinktrackError("rfc2136.zone: %s port %d gave no SOA record for %s; give the zone."
                             % (self.address, self.port, name), field="rfc2136.zone")

    def write(self, request, deletes, upserts):
        names = [b.name for b, _a in deletes] + [a.name for _b, a in upserts]
        zone = self._zone(names[0])
        update = dns.update.Update(zone + ".", keyring=self.keyring, keyname=dns.name.from_text(self.key_name),
                                   keyalgorithm=self.algorithm)
        for before, _after in deletes:
            update.delete(before.name + ".", before.type)
        for _before, after in upserts:
            texts = [value_text(after.type, v) for v in after.values]
            if after.type == "CNAME":
                texts = [t.rstrip(".") + "." for t in texts]
            update.replace(after.name + ".", after.ttl, after.type, *texts)
        try:
            response = self.transport.tcp(update, self.address, port=self.port, timeout=self.timeout)
        except (OSError, dns.exception.DNSException) as exc:
            raise LinktrackError("rfc2136.server: the update to %s port %d failed: %s (%s)"
                                 % (self.address, self.port, exc, type(exc).__name__), field="rfc2136.server")
        rcode = response.rcode()
        if rcode != dns.rcode.NOERROR:
            raise LinktrackError("rfc2136.key_name: %s port %d answered %s to the update of zone %s; nothing was "
                                 "changed." % (self.address, self.port, dns.rcode.to_text(rcode), zone),
                                 field="rfc2136.key_name")


def rrset_record(name, rtype, response):
    """The ``RecordSet`` of ``name``/``rtype`` in a response (owner ``name`` itself, not through a CNAME)."""
    qname = dns.name.from_text(name)
    wanted = dns.rdatatype.from_text(rtype)
    for rrset in response.answer:
        if rrset.name != qname or rrset.rdtype != wanted:
            continue
        values = []
        for rdata in rrset:
            if rtype == "CNAME":
                values.append(rdata.target.to_text(omit_final_dot=True).lower())
            elif rtype == "TXT":
                values.append(tuple(s.decode("utf-8", "replace") for s in rdata.strings))
            else:
                values.append(rdata.to_text().lower())
        return RecordSet(name, rtype, ttl=rrset.ttl, values=values)
    return None


class ManualProvider(Provider):
    """A person changes the zone: the instructions are shown, written to ``manual.records_file``, then waited for.

    The current records are what the zone's authoritative name servers answer
    (all of them); a record counts as in place when every server answers its
    values (the TTL is not compared: a person's zone is judged by its answers).
    ``write`` shows the instructions at once (progress line), writes the file
    and waits up to ``manual.timeout`` seconds; in check mode only the report
    carries the instructions.
    """

    name = "manual"
    confirm = False

    def read(self, request):
        servers = self.params["servers"] or None
        current = []
        self.seen = {}
        for rec in request.records:
            responses = self.checker.query_authoritative(rec.name, rec.type, servers)
            matched, _failing = evaluate(responses, expected_answers(rec), "all", request.state)
            seen = sorted(set(v for r in responses.values() for v in r["values"]))
            self.seen[rec.key] = dict((label, list(r["values"])) for label, r in responses.items())
            if request.state == "present" and matched:
                current.append(rec)
            elif request.state == "absent" and matched:
                continue
            elif seen:
                values = [tuple([v]) if rec.type == "TXT" else v for v in seen]
                current.append(RecordSet(rec.name, rec.type, ttl=None, values=values))
            elif request.state == "present":
                continue
            else:
                current.append(RecordSet(rec.name, rec.type, ttl=None, values=[]))
        return current

    def instructions(self, request, pending):
        p = self.params
        lines = [BAR, "ACTION NEEDED IN DNS for %s (%s)." % (p.get("subject") or request.subject, p["purpose"])]
        lines.append("Create (or change) these records in the zone, exactly as written:" if request.state == "present"
                     else "Delete these records from the zone:")
        for rec in pending:
            for line in zone_line(rec, request.state).splitlines():
                lines.append("    " + line)
        for rec in pending:
            lines.append("  now %s %s: %s" % (rec.name, rec.type, _json(self.seen.get(rec.key, {}))))
        manual = p.get("manual") or {}
        lines.append("Waiting up to %s s until the authoritative name servers answer with them%s"
                     % (manual.get("timeout", 3600), " (check mode: not waiting)." if self.check_mode else "."))
        lines.append(BAR)
        return lines

    def write(self, request, deletes, upserts):
        manual = self.params.get("manual") or {}
        pending = [a for _b, a in upserts] if request.state == "present" else [b for b, _a in deletes]
        pending = [r for r in request.records if r.key in set(x.key for x in pending)]
        if self.progress:
            for line in self.instructions(request, pending):
                self.progress(line)
        path = manual.get("records_file")
        if path:
            with open(os.path.expanduser(path), "w") as handle:
                handle.write("\n".join(zone_line(r, request.state) for r in pending) + "\n")
            os.chmod(os.path.expanduser(path), 0o644)
        for rec in pending:
            self.checker.wait(rec.name, rec.type, expected_answers(rec), servers=self.params["servers"] or None,
                              timeout=manual.get("timeout", 3600), state=request.state,
                              progress=wait_progress(self.progress, manual.get("timeout", 3600), rec.name))


def _json(value):
    return json.dumps(value, sort_keys=True)


PROVIDERS = dict((cls.name, cls) for cls in (Route53Provider, Rfc2136Provider, ManualProvider))


# --------------------------------------------------------------------------
# The step
# --------------------------------------------------------------------------


def outcome_records(request, deletes, upserts):
    """``[{name, type, changed, before, after}]``: the changes, then the records already in place."""
    out = []
    for before, _after in deletes:
        out.append({"name": before.name, "type": before.type, "changed": True, "before": record_text(before),
                    "after": None})
    changed = set(a.key for _b, a in upserts) | set(b.key for b, _a in deletes)
    for before, after in upserts:
        out.append({"name": after.name, "type": after.type, "changed": True, "before": record_text(before),
                    "after": record_text(after)})
    for rec in request.records:
        if rec.key in changed:
            continue
        text = None if request.state == "absent" else record_text(rec)
        out.append({"name": rec.name, "type": rec.type, "changed": False, "before": text, "after": text})
    return out


def report_lines(records, check_mode):
    lines = []
    for r in records:
        if r["changed"]:
            lines.append("%s: %s  ->  %s%s" % (r["name"], r["before"] or "(no record)", r["after"] or "(no record)",
                                               " (check mode: not changed)" if check_mode else ""))
        else:
            lines.append("%s: %s (already in place)" % (r["name"], r["after"] or "(no record)"))
    return lines


def validate(params):
    """Every option the providers share; raises ``LinktrackError`` naming it."""
    if params["provider"] not in PROVIDERS:
        raise LinktrackError("provider: %r is not one of %s." % (params["provider"], ", ".join(sorted(PROVIDERS))),
                             field="provider")
    if params["state"] not in STATES:
        raise LinktrackError("state: %r is not present or absent." % (params["state"],), field="state")
    parse_servers(params["servers"] or [], 53, "servers")
    if params["provider"] != "route53" and any(r.get("alias") for r in params["records"]):
        raise LinktrackError("records: alias records are Route 53 only (provider %s); use a CNAME."
                             % params["provider"], field="records")


def records_diff(records, subject):
    """Ansible's ``--diff`` of the changed records only: one field per ``NAME TYPE``, its text before and after."""
    differences = Differences()
    for rec in records:
        if rec["changed"]:
            differences.add("%s %s" % (rec["name"], rec["type"]), rec["before"], rec["after"])
    return differences.as_diff(before_header="%s (DNS now)" % subject, after_header="%s (DNS wanted)" % subject)


def run(params, check_mode=False, client_factory=None, progress=None, checker=None, transport=None, clock=None,
        diff=False):
    """The result dict of one DNS step; raises ``LinktrackError`` (or an AWS error) on failure."""
    validate(params)
    drain_seconds = params.get("drain_seconds") or 0
    if drain_seconds < 0:
        raise LinktrackError("drain_seconds: %r must be 0 or more." % (drain_seconds,), field="drain_seconds")
    kwargs = dict(check_mode=check_mode, client_factory=client_factory, progress=progress,
                  checker=checker or DnsChecker(timeout=3.0))
    if params["provider"] == "rfc2136" and transport is not None:
        kwargs["transport"] = transport
    provider = PROVIDERS[params["provider"]](params, **kwargs)
    provider.validate()
    request = provider.request()
    deletes, upserts = provider.converge(request)
    records = outcome_records(request, deletes, upserts)
    changed = bool(deletes or upserts)
    result = {"changed": changed, "provider": provider.name, "purpose": params["purpose"], "state": request.state,
              "records": records, "confirmed": [], "blocked": False}
    if diff and changed:
        result["diff"] = records_diff(records, params.get("subject") or request.subject)
    if changed and not params["allow_changes"]:
        subject = params.get("subject") or request.subject
        reason = params["blocked_reason"] or "the changes are not allowed."
        if not check_mode:
            raise LinktrackError("The DNS record of %s was not changed: %s" % (subject, reason),
                                 field="allow_changes", details={"records": records, "changed": False})
        result.update(changed=False, blocked=True, report=["check mode: %s is not changed; %s" % (subject, reason)])
        return result
    if isinstance(provider, ManualProvider) and changed:
        pending = set((x["name"], x["type"]) for x in records if x["changed"])
        result["instructions"] = provider.instructions(request, [r for r in request.records if r.key in pending])
    provider.apply(request, deletes, upserts)
    if changed and not check_mode and provider.confirm:
        result["confirmed"] = confirm(provider, request, deletes, upserts, params, progress)
    result.update(provider.notes)
    result["report"] = report_lines(records, check_mode)
    result["drained_seconds"] = 0
    if changed and drain_seconds:
        subject = params.get("subject") or request.subject
        why = "%s (drain_seconds) for resolvers to drop the old answer of %s." % (format_duration(drain_seconds), subject)
        if check_mode:
            result["report"].append("check mode: would wait " + why)
        else:
            result["drained_seconds"] = drain(drain_seconds, subject, progress, clock)
            result["report"].append("Waited " + why)
    return result


def drain(seconds, subject, progress=None, clock=None, step=10.0):
    """Wait ``seconds`` after a change, one progress line about every ``step`` seconds; the seconds waited.

    Resolvers that cached the old answer keep using it for up to its TTL
    (RFC 1035 section 3.2.1, RFC 2181 section 8): a caller that is about to
    take away what the old answer pointed at (the teardown disabling the
    distribution) waits that long first.
    """
    clock = clock or Clock()
    tracker = Progress(report=progress, subject=subject)
    start = clock.now()
    while True:
        elapsed = clock.now() - start
        done = elapsed >= seconds
        tracker.poll("draining resolver caches of the old answer", "done" if done else "waiting", elapsed, seconds,
                     done=done)
        if done:
            return round(elapsed, 3)
        clock.sleep(min(step, seconds - elapsed))


def confirm(provider, request, deletes, upserts, params, progress):
    """Ask the authoritative servers until each written record is answered as written (or is gone)."""
    checker = provider.checker
    servers = params["servers"] or None
    done = []
    if request.state == "present":
        keys = set(a.key for _b, a in upserts)
        todo = [(r, "present") for r in request.records if r.key in keys]
    else:
        todo = [(b, "absent") for b, _a in deletes]
    for rec, state in todo:
        answer = checker.wait(rec.name, rec.type, expected_answers(rec) if state == "present" else [],
                              servers=servers, timeout=params["timeout"], state=state,
                              progress=wait_progress(progress, params["timeout"], rec.name))
        done.append({"name": rec.name, "type": rec.type, "waited_seconds": answer.get("waited_seconds", 0)})
    return done


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``dns_records`` does with its validated ``params`` (its ``main()`` and its action plugin call this)."""
    try:
        return run(params, check_mode=check_mode, client_factory=client_factory, progress=progress, diff=diff)
    except Exception as exc:  # noqa: BLE001 - one failed result for every error
        return result_from_exception(exc, {"changed": False, "provider": params.get("provider")})
