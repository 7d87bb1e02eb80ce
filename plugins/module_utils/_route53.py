# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Route 53 record sets with a fixed, small number of requests.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

``Route53Records`` converges a handful of simple record sets (CNAME, A, AAAA,
TXT, alias A/AAAA) of one hosted zone with at most:

* one zone lookup (``ListHostedZonesByName`` from the shortest possible zone
  name on, or ``GetHostedZone`` for a given id; paged only in accounts with
  many zones under the same domain),
* one ``ListResourceRecordSets`` covering every record name (paged only when
  many other records sort between them),
* one ``ChangeResourceRecordSets`` holding every DELETE and UPSERT,
* ``GetChange`` until the change is INSYNC.

A ``snapshot`` returned by one call can be handed to the next call of the
same run: when it already shows the desired state, that call makes no request
at all; when it does not, the call reads afresh before writing, so a write
never relies on old data.

All input is validated before the first write; only the zone lookup and the
record read may run before an error about the records themselves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.linktrack.https.plugins.module_utils._aws import new_caller
from ansible_collections.linktrack.https.plugins.module_utils._common import Clock, Differences, LinktrackError, Progress, error_code
from ansible_collections.linktrack.https.plugins.module_utils._common import normalize_domain, poll_until, result_from_exception
from ansible_collections.linktrack.https.plugins.module_utils._records import RECORD_TYPES, answer_value, normalize_value, txt_encode
from ansible_collections.linktrack.https.plugins.module_utils._records import validate_seconds, validate_type

ALIAS_TYPES = ("A", "AAAA")
# The hosted zone id of every CloudFront distribution's domain name.
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"
DEFAULT_TTL = 300
TTL_MAX = 2147483647
CHANGE_COMMENT = "linktrack.https route53_records"
# What ListResourceRecordSets answers for a hosted zone id these credentials do not own: NoSuchHostedZone
# (Route 53 API Reference, ListResourceRecordSets, Errors) or an IAM denial (AccessDenied).
FOREIGN_ZONE_ERRORS = ("NoSuchHostedZone", "AccessDenied", "AccessDeniedException")

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


# --------------------------------------------------------------------------
# Names and ordering
# --------------------------------------------------------------------------


def api_name(name):
    """A name as Route 53 returns it (trailing dot, ``\\052`` escapes) -> plain lower case."""
    name = _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name or "")
    return name.rstrip(".").lower()


def is_within(name, zone):
    """True when ``name`` is ``zone`` or a name below it."""
    return name == zone or name.endswith("." + zone)


def route53_order(name):
    """Sort key of ListHostedZonesByName / ListResourceRecordSets on Route 53.

    Route 53 compares the labels reversed, as a string with a trailing dot
    (``com.example.links.``): Route 53 API Reference, ListResourceRecordSets,
    "Sort order" ("Note the trailing dot, which can change the sort order when
    the record name contains characters that appear before ."); ListHostedZonesByName
    sorts zone names the same way (its API Reference page, com.example.www.).
    """
    return ".".join(reversed(name.split("."))) + "."


def common_ancestor(names):
    """The longest name every one of ``names`` is within (may be a TLD)."""
    split = [list(reversed(n.split("."))) for n in names]
    common = []
    for labels in zip(*split):
        if all(label == labels[0] for label in labels):
            common.append(labels[0])
        else:
            break
    return ".".join(reversed(common))


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def _display(rtype, value):
    if rtype == "TXT":
        return txt_encode(value)
    return value


# --------------------------------------------------------------------------
# Record sets
# --------------------------------------------------------------------------


class RecordSet:
    """One simple record set, normalised for comparing.

    ``values`` is a sorted tuple (``None`` when not given, for ``state=absent``)
    and ``alias`` a ``(dns_name, hosted_zone_id, evaluate_target_health)``
    tuple or ``None``. ``raw`` keeps the set as Route 53 returned it, which is
    what a DELETE must send.
    """

    def __init__(self, name, rtype, ttl=None, values=None, alias=None, raw=None, field=None):
        self.name = name
        self.type = rtype
        self.ttl = ttl
        self.values = tuple(sorted(values)) if values is not None else None
        self.alias = alias
        self.raw = raw
        self.field = field

    @property
    def key(self):
        return (self.name, self.type)

    @property
    def label(self):
        return "%s %s" % (self.name, self.type)

    def specified(self):
        """True when it carries a value (values or alias) to compare with."""
        return self.values is not None or self.alias is not None

    def same_as(self, other):
        if other is None:
            return False
        if self.alias is not None or other.alias is not None:
            return self.alias == other.alias
        return self.ttl == other.ttl and self.values == other.values

    def view(self):
        """The record as shown in results and diffs."""
        if self.alias is not None:
            return {
                "alias": {
                    "dns_name": self.alias[0],
                    "hosted_zone_id": self.alias[1],
                    "evaluate_target_health": self.alias[2],
                }
            }
        if self.raw is not None and self.values is None:
            return {"raw": self.raw}
        return {"ttl": self.ttl, "values": [_display(self.type, v) for v in (self.values or ())]}

    def to_api(self):
        """The ResourceRecordSet to UPSERT."""
        rrset = {"Name": self.name, "Type": self.type}
        if self.alias is not None:
            rrset["AliasTarget"] = {
                "DNSName": self.alias[0],
                "HostedZoneId": self.alias[1],
                "EvaluateTargetHealth": self.alias[2],
            }
        else:
            rrset["TTL"] = self.ttl
            rrset["ResourceRecords"] = [{"Value": _display(self.type, v)} for v in self.values]
        return rrset

    @classmethod
    def from_api(cls, rrset):
        name = api_name(rrset.get("Name"))
        rtype = rrset.get("Type")
        alias = None
        values = None
        target = rrset.get("AliasTarget")
        if target:
            alias = (
                api_name(target.get("DNSName")),
                (target.get("HostedZoneId") or "").upper(),
                bool(target.get("EvaluateTargetHealth")),
            )
        elif rtype in RECORD_TYPES:
            values = [answer_value(rtype, r.get("Value", "")) for r in rrset.get("ResourceRecords") or []]
        return cls(name, rtype, ttl=rrset.get("TTL"), values=values, alias=alias, raw=rrset)


def _field(index, key=None):
    return "records[%d]%s" % (index, "." + key if key else "")


def _parse_alias(alias, rtype, index):
    field = _field(index, "alias")
    if not isinstance(alias, dict):
        raise LinktrackError("%s must be a dictionary with dns_name (and optionally hosted_zone_id, "
                             "evaluate_target_health), got %r." % (field, alias), field=field)
    if rtype not in ALIAS_TYPES:
        raise LinktrackError(
            "%s: an alias record must have type A or AAAA, but %s has type %s. Use type A and AAAA for "
            "an alias to CloudFront, or give value instead of alias for a %s record."
            % (field, _field(index), rtype, rtype),
            field=field,
        )
    dns_name = normalize_domain(alias.get("dns_name"), field + ".dns_name", allow_underscore=True)
    zone_id = alias.get("hosted_zone_id") or CLOUDFRONT_HOSTED_ZONE_ID
    if not isinstance(zone_id, str) or not re.match(r"^[A-Za-z0-9]{1,32}$", zone_id):
        raise LinktrackError(
            "%s.hosted_zone_id: %r is not a hosted zone id (letters and digits, such as %s for CloudFront)."
            % (field, zone_id, CLOUDFRONT_HOSTED_ZONE_ID),
            field=field + ".hosted_zone_id",
        )
    evaluate = alias.get("evaluate_target_health")
    if evaluate is None:
        evaluate = False
    if not isinstance(evaluate, bool):
        raise LinktrackError("%s.evaluate_target_health must be true or false, got %r." % (field, evaluate),
                             field=field + ".evaluate_target_health")
    if evaluate and is_cloudfront_target(dns_name, zone_id):
        # AliasTarget (Route 53 API reference), EvaluateTargetHealth: "You can't set
        # EvaluateTargetHealth to true when the alias target is a CloudFront distribution."
        raise LinktrackError(
            "%s.evaluate_target_health: %s is a CloudFront distribution, and Route 53 does not evaluate the "
            "health of CloudFront alias targets (EvaluateTargetHealth cannot be true for them); set it to false "
            "or leave it out." % (field, dns_name),
            field=field + ".evaluate_target_health",
        )
    return (dns_name, zone_id.upper(), evaluate)


def is_cloudfront_target(dns_name, zone_id):
    """True for an alias to a CloudFront distribution (its hosted zone id, or a *.cloudfront.net name)."""
    return (zone_id or "").upper() == CLOUDFRONT_HOSTED_ZONE_ID or is_within(dns_name, "cloudfront.net")


def parse_record(record, index, state="present"):
    """One entry of the ``records`` option -> ``RecordSet``, or ``LinktrackError`` naming the field."""
    if not isinstance(record, dict):
        raise LinktrackError("%s must be a dictionary with name, type and value, values or alias, got %r."
                             % (_field(index), record), field=_field(index))
    name = normalize_domain(record.get("name"), _field(index, "name"), allow_wildcard=True, allow_underscore=True)
    rtype = validate_type(record.get("type"), _field(index, "type"))
    value = record.get("value")
    values = record.get("values")
    alias = record.get("alias")
    given = [k for k, v in (("value", value), ("values", values), ("alias", alias)) if v is not None]
    if len(given) > 1:
        raise LinktrackError(
            "%s: give only one of value, values and alias in %s, not %s."
            % (_field(index, given[1]), _field(index), " and ".join(given)),
            field=_field(index, given[1]),
        )
    ttl = record.get("ttl")
    if alias is not None:
        if ttl is not None:
            raise LinktrackError(
                "%s: an alias record has no TTL of its own (Route 53 uses the target's); remove ttl."
                % _field(index, "ttl"),
                field=_field(index, "ttl"),
            )
        return RecordSet(name, rtype, alias=_parse_alias(alias, rtype, index), field=_field(index))
    if ttl is None:
        ttl = DEFAULT_TTL
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0 or ttl > TTL_MAX:
        raise LinktrackError(
            "%s: %r is out of range; a TTL is a whole number of seconds from 0 to %d (default %d)."
            % (_field(index, "ttl"), ttl, TTL_MAX, DEFAULT_TTL),
            field=_field(index, "ttl"),
        )
    if value is not None:
        values = [value]
    if values is None:
        if state == "absent":
            return RecordSet(name, rtype, ttl=None, values=None, field=_field(index))
        raise LinktrackError(
            "%s: %s (type %s) needs a value: give value, values%s."
            % (_field(index, "value"), _field(index), rtype, ", or alias" if rtype in ALIAS_TYPES else ""),
            field=_field(index, "value"),
        )
    if not isinstance(values, list) or not values:
        raise LinktrackError("%s must be a non-empty list of strings, got %r." % (_field(index, "values"), values),
                             field=_field(index, "values"))
    vfield = _field(index, "value" if value is not None else "values")
    normalised = []
    for i, item in enumerate(values):
        norm = normalize_value(rtype, item, vfield if value is not None else "%s[%d]" % (vfield, i))
        if norm not in normalised:
            normalised.append(norm)
    if rtype == "CNAME" and len(normalised) != 1:
        raise LinktrackError(
            "%s: a CNAME record has exactly one target, got %d." % (vfield, len(normalised)), field=vfield
        )
    return RecordSet(name, rtype, ttl=ttl, values=normalised, field=_field(index))


def parse_records(records, state="present"):
    """The ``records`` option -> list of ``RecordSet``; checks the set as a whole too."""
    if not isinstance(records, list) or not records:
        raise LinktrackError("records must list at least one record (name, type and value, values or alias).",
                             field="records")
    parsed = [parse_record(record, i, state) for i, record in enumerate(records)]
    seen = {}
    for rec in parsed:
        if rec.key in seen:
            raise LinktrackError(
                "%s: %s is listed twice (also as %s); give each name and type once, with all its values."
                % (rec.field, rec.label, seen[rec.key].field),
                field=rec.field,
            )
        seen[rec.key] = rec
    if state == "present":
        for rec in parsed:
            if rec.type != "CNAME":
                continue
            others = [o for o in parsed if o.name == rec.name and o is not rec]
            if others:
                raise LinktrackError(
                    "%s: %s cannot be a CNAME and also have %s (%s): a CNAME must be the only record at its "
                    "name. Use alias A/AAAA instead of the CNAME, or drop the other records."
                    % (rec.field + ".type", rec.name, others[0].type, others[0].field),
                    field=rec.field + ".type",
                )
    return parsed


def parse_types(values, field):
    result = []
    for value in values or []:
        rtype = validate_type(value, field)
        if rtype not in result:
            result.append(rtype)
    return result


# --------------------------------------------------------------------------
# The request
# --------------------------------------------------------------------------


class Request:
    """The validated options of one call; building it makes no AWS request."""

    def __init__(self, records, state="present", zone=None, hosted_zone_id=None, replace_types=None,
                 read_names=None, snapshot=None, wait=True, wait_timeout=300, allow_private_zone=False,
                 known_zones=None):
        if state not in ("present", "absent"):
            raise LinktrackError("state must be present or absent, got %r." % (state,), field="state")
        self.state = state
        self.records = parse_records(records, state)
        self.zone = normalize_domain(zone, "zone") if zone else None
        self.hosted_zone_id = None
        if hosted_zone_id:
            self.hosted_zone_id = clean_zone_id(hosted_zone_id, "hosted_zone_id")
        self.replace_types = parse_types(replace_types, "replace_types")
        if self.replace_types and state != "present":
            raise LinktrackError("replace_types only applies to state=present; remove it for state=absent.",
                                 field="replace_types")
        self.read_names = [
            normalize_domain(n, "read_names[%d]" % i, allow_wildcard=True, allow_underscore=True)
            for i, n in enumerate(read_names or [])
        ]
        self.snapshot = parse_snapshot(snapshot) if snapshot else None
        if self.snapshot:
            for option, mine, theirs in (("zone", self.zone, self.snapshot["zone"]),
                                         ("hosted_zone_id", self.hosted_zone_id, self.snapshot["hosted_zone_id"])):
                if mine and mine != theirs:
                    raise LinktrackError(
                        "%s: %r differs from the snapshot's %r; give a snapshot of the same zone or leave %s out."
                        % (option, mine, theirs, option),
                        field=option,
                    )
        self.wait = bool(wait)
        self.wait_timeout = validate_seconds(wait_timeout, "wait_timeout") if self.wait else wait_timeout
        self.allow_private_zone = bool(allow_private_zone)
        self.known_zones = parse_known_zones(known_zones)

    @property
    def subject(self):
        """Who the progress lines are about: the shortest record name that is a host name (not ``_x...``)."""
        hosts = [n for n in [r.name for r in self.records] + self.read_names if not n.startswith(("_", "*"))]
        return min(hosts, key=len) if hosts else self.records[0].name

    @property
    def names(self):
        names = []
        for name in [r.name for r in self.records] + self.read_names:
            if name not in names:
                names.append(name)
        return names


def clean_zone_id(value, field):
    if not isinstance(value, str):
        raise LinktrackError("%s must be a hosted zone id such as Z0123456789ABC, got %r." % (field, value), field=field)
    zone_id = value.strip().split("/")[-1]
    if not re.match(r"^[A-Za-z0-9]{1,32}$", zone_id):
        raise LinktrackError(
            "%s: %r is not a hosted zone id (letters and digits, such as Z0123456789ABC; "
            "a /hostedzone/ prefix is accepted)." % (field, value),
            field=field,
        )
    return zone_id.upper()


def parse_known_zones(zones):
    """The ``known_zones`` option (aws_shared_listing's ``zones``): ``None``, or the public zones as ``(name, id)``."""
    if zones is None:
        return None
    if not isinstance(zones, list):
        raise LinktrackError("known_zones: must be the zones list of linktrack.https.aws_shared_listing, or left out.",
                             field="known_zones")
    found = []
    for index, zone in enumerate(zones):
        if not isinstance(zone, dict) or not zone.get("id") or not zone.get("name"):
            raise LinktrackError("known_zones[%d]: must be a dictionary with id and name (aws_shared_listing's zones)."
                                 % index, field="known_zones")
        if not zone.get("private"):
            found.append((api_name(zone["name"]), clean_zone_id(zone["id"], "known_zones[%d].id" % index)))
    return found


def parse_snapshot(snapshot):
    field = "snapshot"
    if not isinstance(snapshot, dict) or not snapshot.get("hosted_zone_id") or not snapshot.get("zone") \
            or not isinstance(snapshot.get("names"), list) or not isinstance(snapshot.get("record_sets"), list):
        raise LinktrackError(
            "snapshot must be the snapshot returned by an earlier route53_records call (a dictionary with "
            "hosted_zone_id, zone, names and record_sets).",
            field=field,
        )
    return {
        "hosted_zone_id": clean_zone_id(snapshot["hosted_zone_id"], "snapshot.hosted_zone_id"),
        "zone": normalize_domain(snapshot["zone"], "snapshot.zone"),
        "private_zone": bool(snapshot.get("private_zone", False)),
        "names": [api_name(n) for n in snapshot["names"]],
        "record_sets": list(snapshot["record_sets"]),
    }


# --------------------------------------------------------------------------
# The manager
# --------------------------------------------------------------------------


class Result:
    def __init__(self, zone_id, zone, private_zone=False):
        self.hosted_zone_id = zone_id
        self.zone = zone
        self.private_zone = private_zone
        self.changes = []
        self.differences = Differences()
        self.change_id = None
        self.status = None
        self.waited_seconds = 0
        self.snapshot = None
        self.read_from = None

    @property
    def changed(self):
        return bool(self.differences)

    def as_dict(self, diff=False):
        result = {
            "changed": self.changed,
            "hosted_zone_id": self.hosted_zone_id,
            "zone": self.zone,
            "private_zone": self.private_zone,
            "changes": self.changes,
            "differences": self.differences.as_list(),
            "change_id": self.change_id,
            "status": self.status,
            "waited_seconds": self.waited_seconds,
            "snapshot": self.snapshot,
            "read_from": self.read_from,
        }
        if diff:
            result["diff"] = self.differences.as_diff(
                before_header="Route 53 zone %s (%s)" % (self.zone, self.hosted_zone_id),
                after_header="Route 53 zone %s (%s)" % (self.zone, self.hosted_zone_id),
            )
        return result


class Route53Records:
    """Converge record sets of one hosted zone; ``client`` is a boto3 route53 client.

    ``caller`` is the module's ``AwsCaller``: every request goes through it, so
    throttling and ``PriorRequestNotComplete`` are retried in one place.
    """

    ZONE_PAGE = "100"
    RECORD_PAGE = "300"

    def __init__(self, client, caller, clock=None, progress=None):
        self.client = client
        self.caller = caller
        self.clock = clock or Clock()
        self.progress = progress

    # ---- zone ------------------------------------------------------------

    def _zones_by_name(self, start, stop_key=None, exact=False):
        """Public zones from ``ListHostedZonesByName`` starting at ``start``.

        Without ``exact``, pages on until the zones sort after ``stop_key``.
        Returns a list of ``(name, id)``.
        """
        zones = []
        kwargs = {"DNSName": start, "MaxItems": self.ZONE_PAGE}
        while True:
            page = self.caller(self.client.list_hosted_zones_by_name, **kwargs)
            past = False
            for zone in page.get("HostedZones") or []:
                name = api_name(zone.get("Name"))
                if exact and name != start:
                    past = True
                    break
                if not exact and route53_order(name) > stop_key:
                    past = True
                    break
                if (zone.get("Config") or {}).get("PrivateZone"):
                    continue
                zones.append((name, clean_zone_id(zone.get("Id", ""), "HostedZones.Id")))
            if past or not page.get("IsTruncated") or not page.get("NextDNSName"):
                return zones
            kwargs = {"DNSName": page["NextDNSName"], "MaxItems": self.ZONE_PAGE}
            if page.get("NextHostedZoneId"):
                kwargs["HostedZoneId"] = page["NextHostedZoneId"]

    def find_zone(self, request):
        """``(hosted_zone_id, zone_name, private)`` for the request; one read at most.

        By name only public zones are considered (a private zone of the same
        name, as a VPC's split-horizon DNS has, is never picked). A zone given
        by id (or by a snapshot of one) that is private is refused unless
        ``allow_private_zone``: records there are not what the internet sees,
        so ACM could never validate through them and no click would follow them.
        """
        if request.snapshot:
            found = request.snapshot["hosted_zone_id"], request.snapshot["zone"], request.snapshot["private_zone"]
        elif request.hosted_zone_id:
            found = self._zone_by_id(request)
        elif request.zone:
            found = self._zone_by_name(request) + (False,)
        else:
            found = self._longest_match(request) + (False,)
        if found[2]:
            self._check_private(request, found[0], found[1])
        return found

    def _check_private(self, request, zone_id, zone):
        option = "snapshot" if request.snapshot else "hosted_zone_id"
        if not request.allow_private_zone:
            raise LinktrackError(
                "%s: the hosted zone %s (%s) is a private hosted zone, visible only inside its VPCs; ACM "
                "validation records and the tracking domain's record must be in the public zone that the internet "
                "resolves. Give the public zone's id (or leave hosted_zone_id out to find it by name), or set "
                "allow_private_zone: true if the private zone is really meant." % (option, zone, zone_id),
                field=option,
            )
        for rec in request.records:
            if rec.alias is not None and is_cloudfront_target(rec.alias[0], rec.alias[1]) and request.state == "present":
                # AliasTarget (Route 53 API reference): "Resource record sets can't be created for
                # CloudFront distributions in a private hosted zone."
                raise LinktrackError(
                    "%s: %s is an alias to CloudFront, which Route 53 does not accept in the private hosted zone %s "
                    "(%s). Use the public zone, or a CNAME record." % (rec.field + ".alias", rec.label, zone, zone_id),
                    field=rec.field + ".alias",
                )

    def _zone_by_id(self, request):
        try:
            answer = self.caller(self.client.get_hosted_zone, Id=request.hosted_zone_id)
        except Exception as exc:  # noqa: BLE001 - only NoSuchHostedZone is turned into a message
            if error_code(exc) in ("NoSuchHostedZone", "InvalidInput"):
                raise LinktrackError(
                    "hosted_zone_id: no hosted zone %s exists in this account (%s)." % (request.hosted_zone_id, error_code(exc)),
                    field="hosted_zone_id",
                )
            raise
        zone = answer.get("HostedZone") or {}
        name = api_name(zone.get("Name"))
        if request.zone and request.zone != name:
            raise LinktrackError(
                "zone: %r does not match hosted_zone_id %s, which is the zone %r. Give one of them, or both of "
                "the same zone." % (request.zone, request.hosted_zone_id, name),
                field="zone",
            )
        return request.hosted_zone_id, name, bool((zone.get("Config") or {}).get("PrivateZone"))

    def _zone_by_name(self, request):
        zones = self._zones_by_name(request.zone, exact=True)
        if not zones:
            raise LinktrackError(
                "zone: no public hosted zone named %r exists in this account. Check the name, or give "
                "hosted_zone_id." % request.zone,
                field="zone",
            )
        if len(zones) > 1:
            raise LinktrackError(
                "zone: %d public hosted zones are named %r (%s); give hosted_zone_id to pick one."
                % (len(zones), request.zone, ", ".join(z[1] for z in zones)),
                field="zone",
            )
        return zones[0][1], zones[0][0]

    def _longest_match(self, request, zones=None):
        names = [r.name.lstrip("*.") if r.name.startswith("*.") else r.name for r in request.records]
        first = request.records[0]
        base = ".".join(names[0].split(".")[-2:])
        for rec, name in zip(request.records, names):
            if not is_within(name, base):
                raise LinktrackError(
                    "%s: %s and %s (%s) cannot be in the same hosted zone; make one call per zone, or give zone."
                    % (rec.field + ".name", rec.name, first.name, first.field + ".name"),
                    field=rec.field + ".name",
                )
        if zones is None:
            zones = self._zones_by_name(base, max(route53_order(n) for n in names))
        chosen = None
        for rec, name in zip(request.records, names):
            matching = [z for z in zones if is_within(name, z[0])]
            if not matching:
                raise LinktrackError(
                    "%s: no public hosted zone in this account contains %s. Create the zone, or give zone or "
                    "hosted_zone_id." % (rec.field + ".name", rec.name),
                    field=rec.field + ".name",
                )
            longest = max(len(z[0]) for z in matching)
            best = [z for z in matching if len(z[0]) == longest]
            if len(best) > 1:
                raise LinktrackError(
                    "%s: %d public hosted zones are named %r (%s); give hosted_zone_id to pick one."
                    % (rec.field + ".name", len(best), best[0][0], ", ".join(z[1] for z in best)),
                    field="hosted_zone_id",
                )
            if chosen is None:
                chosen = (best[0], rec)
            elif best[0] != chosen[0]:
                raise LinktrackError(
                    "%s: %s belongs to the hosted zone %s (%s) but %s to %s (%s); make one call per zone."
                    % (rec.field + ".name", rec.name, best[0][0], best[0][1], chosen[1].name, chosen[0][0], chosen[0][1]),
                    field=rec.field + ".name",
                )
        return chosen[0][1], chosen[0][0]

    # ---- records ---------------------------------------------------------

    def read(self, zone_id, zone, names):
        """Every record set at ``names`` (list of ``RecordSet``), in one listing where possible."""
        wanted = set(names)
        start = common_ancestor(names)
        if not is_within(start, zone):
            start = zone
        stop_key = max(route53_order(n) for n in names)
        found = []
        kwargs = {"HostedZoneId": zone_id, "StartRecordName": start, "MaxItems": self.RECORD_PAGE}
        while True:
            page = self.caller(self.client.list_resource_record_sets, **kwargs)
            past = False
            for rrset in page.get("ResourceRecordSets") or []:
                name = api_name(rrset.get("Name"))
                if route53_order(name) > stop_key:
                    past = True
                    break
                if name in wanted:
                    found.append(RecordSet.from_api(rrset))
            if past or not page.get("IsTruncated"):
                return found
            kwargs = {"HostedZoneId": zone_id, "StartRecordName": page["NextRecordName"], "MaxItems": self.RECORD_PAGE}
            if page.get("NextRecordType"):
                kwargs["StartRecordType"] = page["NextRecordType"]
            if page.get("NextRecordIdentifier"):
                kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]

    # ---- planning --------------------------------------------------------

    def check_zone(self, request, zone):
        for rec in request.records:
            if not is_within(rec.name, zone):
                raise LinktrackError(
                    "%s: %s is outside the hosted zone %s; give a name that ends in .%s, or the right zone."
                    % (rec.field + ".name", rec.name, zone, zone),
                    field=rec.field + ".name",
                )
            if rec.name == zone and rec.type == "CNAME" and request.state == "present":
                raise LinktrackError(
                    "%s: %s is the zone apex, where a CNAME is not allowed (the apex holds SOA and NS). Use an "
                    "alias A and AAAA record instead." % (rec.field + ".type", rec.name),
                    field=rec.field + ".type",
                )
        for i, name in enumerate(request.read_names):
            if not is_within(name, zone):
                raise LinktrackError("read_names[%d]: %s is outside the hosted zone %s." % (i, name, zone),
                                     field="read_names[%d]" % i)

    def plan(self, request, current):
        """``(deletes, upserts)``: lists of ``(record_before, record_after)``; raises on conflicts."""
        by_key = {}
        for rec in current:
            if rec.raw is not None and rec.raw.get("SetIdentifier"):
                owner = [r for r in request.records if r.name == rec.name]
                if owner:
                    raise LinktrackError(
                        "%s: %s has %s record sets with a routing policy (SetIdentifier %r); this module manages "
                        "simple record sets only. Remove them first or manage %s elsewhere."
                        % (owner[0].field, rec.name, rec.type, rec.raw.get("SetIdentifier"), rec.name),
                        field=owner[0].field,
                    )
                continue
            by_key[rec.key] = rec
        deletes = []
        upserts = []
        if request.state == "absent":
            for rec in request.records:
                cur = by_key.get(rec.key)
                if cur is None:
                    continue
                if rec.specified() and not rec.same_as(cur):
                    raise LinktrackError(
                        "%s: %s is %s, not %s as given; not deleting it. Leave out value/values/alias to delete "
                        "whatever is there." % (rec.field, rec.label, cur.view(), rec.view()),
                        field=rec.field,
                    )
                deletes.append((cur, None))
            return deletes, upserts
        desired_types = {}
        for rec in request.records:
            desired_types.setdefault(rec.name, set()).add(rec.type)
        for name in desired_types:
            for rtype in request.replace_types:
                if rtype in desired_types[name]:
                    continue
                cur = by_key.get((name, rtype))
                if cur is not None:
                    deletes.append((cur, None))
        for rec in request.records:
            cur = by_key.get(rec.key)
            if not rec.same_as(cur):
                upserts.append((cur, rec))
        deleted = set(c.key for c, _n in deletes)
        for rec in request.records:
            remaining = set(t for (n, t) in by_key if n == rec.name and (n, t) not in deleted)
            remaining |= desired_types[rec.name]
            if "CNAME" in remaining and len(remaining) > 1:
                others = sorted(remaining - set(["CNAME"]))
                if rec.type == "CNAME":
                    hint = "add %s to replace_types to remove %s in the same change" % (
                        " and ".join(others), "them" if len(others) > 1 else "it")
                else:
                    hint = "add CNAME to replace_types to replace the CNAME in the same change"
                raise LinktrackError(
                    "%s: %s would hold a CNAME beside %s, which DNS forbids; %s."
                    % ("replace_types", rec.name, ", ".join(others), hint),
                    field="replace_types",
                )
        return deletes, upserts

    # ---- running ---------------------------------------------------------

    def _from_known_zones(self, request):
        """``(zone_id, zone, records)`` from the play's shared zone listing, or ``None`` to look on our own.

        ``request.known_zones`` come from one ListHostedZones made for the whole
        play (aws_shared_listing), which lists the zones "associated with the
        current AWS account" (Route 53 API Reference, ListHostedZones) of the
        credentials that made it. The same longest-match code as the host's own
        ListHostedZonesByName picks the zone, and the ListResourceRecordSets the
        domain needs anyway confirms it with this host's credentials: a zone of
        another account answers NoSuchHostedZone ("No hosted zone exists with
        the ID that you specified", ListResourceRecordSets) or AccessDenied.
        Then, or when no known zone fits, the host finds its zone as without the
        hint. A given ``zone`` / ``hosted_zone_id`` / ``snapshot`` wins over it.
        """
        if request.known_zones is None or request.snapshot or request.hosted_zone_id or request.zone:
            return None
        try:
            zone_id, zone = self._longest_match(request, zones=request.known_zones)
            self.check_zone(request, zone)
        except LinktrackError:
            return None  # no known zone fits: the host's own listing decides, and words any error
        try:
            return zone_id, zone, self.read(zone_id, zone, request.names)
        except Exception as exc:  # noqa: BLE001 - only "not this account's zone" falls back
            if error_code(exc) in FOREIGN_ZONE_ERRORS:
                return None
            raise

    def run(self, request, check_mode=False):
        known = self._from_known_zones(request)
        if known is not None:
            zone_id, zone, current = known
            private = False
        else:
            zone_id, zone, private = self.find_zone(request)
            current = None
        self.check_zone(request, zone)
        result = Result(zone_id, zone, private)
        names = request.names
        if current is not None:
            result.read_from = "route53"
            deletes, upserts = self.plan(request, current)
        elif request.snapshot and all(n in request.snapshot["names"] for n in names):
            current = [RecordSet.from_api(r) for r in request.snapshot["record_sets"]
                       if api_name(r.get("Name")) in names]
            deletes, upserts = self.plan(request, current)
            if deletes or upserts:
                current = None  # about to write: read afresh, never trust the snapshot for a write
            else:
                result.read_from = "snapshot"
        if current is None:
            current = self.read(zone_id, zone, names)
            result.read_from = "route53"
            deletes, upserts = self.plan(request, current)
        self._record(result, deletes, upserts)
        if (deletes or upserts) and not check_mode:
            self._apply(request, result, zone_id, zone, names, deletes, upserts)
        result.snapshot = self._snapshot(zone_id, zone, names, current, deletes, upserts)
        result.snapshot["private_zone"] = private
        return result

    def _record(self, result, deletes, upserts):
        result.changes = []
        result.differences = Differences()
        for before, _after in deletes:
            result.changes.append({"action": "DELETE", "name": before.name, "type": before.type,
                                   "before": before.view(), "after": None})
            result.differences.add(before.label, before.view(), None)
        for before, after in upserts:
            result.changes.append({"action": "UPSERT", "name": after.name, "type": after.type,
                                   "before": before.view() if before else None, "after": after.view()})
            result.differences.add(after.label, before.view() if before else None, after.view())

    @staticmethod
    def _batch(deletes, upserts):
        changes = [{"Action": "DELETE", "ResourceRecordSet": before.raw} for before, _a in deletes]
        changes += [{"Action": "UPSERT", "ResourceRecordSet": after.to_api()} for _b, after in upserts]
        return {"Comment": CHANGE_COMMENT, "Changes": changes}

    def _apply(self, request, result, zone_id, zone, names, deletes, upserts):
        retries_before = self.caller.retries
        try:
            answer = self.caller(self.client.change_resource_record_sets, HostedZoneId=zone_id,
                                 ChangeBatch=self._batch(deletes, upserts))
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is a retried batch that already went through
            if error_code(exc) != "InvalidChangeBatch" or self.caller.retries == retries_before:
                raise
            # A retry after a dropped connection can find its own first attempt
            # applied (a DELETE then fails). Read again: done, or one more try.
            current = self.read(zone_id, zone, names)
            again_deletes, again_upserts = self.plan(request, current)
            if not again_deletes and not again_upserts:
                result.status = "INSYNC"
                return
            answer = self.caller(self.client.change_resource_record_sets, HostedZoneId=zone_id,
                                 ChangeBatch=self._batch(again_deletes, again_upserts))
        info = answer.get("ChangeInfo") or {}
        result.change_id = (info.get("Id") or "").split("/")[-1] or None
        result.status = info.get("Status")
        # GetChange answers PENDING until every Route 53 name server has the change (GetChange API
        # reference), only then INSYNC; the role asks the name servers only after that.
        if request.wait and result.status != "INSYNC" and result.change_id:
            def check():
                status = (self.caller(self.client.get_change, Id=result.change_id).get("ChangeInfo") or {}).get("Status")
                return status == "INSYNC", status
            result.status, result.waited_seconds = poll_until(
                check, request.wait_timeout, "Route 53 change %s to reach INSYNC" % result.change_id,
                clock=self.clock, first_delay=2.0, max_delay=15.0,
                progress=self.progress, label="Route 53 change %s" % result.change_id,
            )

    @staticmethod
    def _snapshot(zone_id, zone, names, current, deletes, upserts):
        state = dict((rec.key, rec.raw) for rec in current if rec.raw is not None)
        for before, _a in deletes:
            state.pop(before.key, None)
        for _b, after in upserts:
            state[after.key] = after.to_api()
        record_sets = [state[k] for k in sorted(state, key=lambda k: (route53_order(k[0]), k[1]))]
        return {"hosted_zone_id": zone_id, "zone": zone, "names": list(names), "record_sets": record_sets}


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``route53_records`` does with its validated ``params``.

    The module's ``main()`` and the action plugin that runs it inside the worker
    process both call this, so the module's behaviour exists once.
    ``client_factory(service)`` returns a boto3 client. ``progress``, when
    given, is called with one line per GetChange poll; the result's
    ``wait_history`` holds every poll either way. Returns the result dict; a
    failure is a dict with ``failed: true`` and ``msg``.
    """
    caller = new_caller()
    tracker = Progress(report=progress, quiet_start=True)
    try:
        request = Request(
            params["records"], state=params["state"], zone=params["zone"], hosted_zone_id=params["hosted_zone_id"],
            replace_types=params["replace_types"], read_names=params["read_names"], snapshot=params["snapshot"],
            wait=params["wait"], wait_timeout=params["wait_timeout"],
            allow_private_zone=params.get("allow_private_zone", False), known_zones=params.get("known_zones"),
        )
        tracker.subject = request.subject
        manager = Route53Records(client_factory("route53"), caller, progress=tracker)
        result = manager.run(request, check_mode=check_mode).as_dict(diff=diff)
    except Exception as exc:  # noqa: BLE001 - one failed result for every error (result_from_exception)
        return result_from_exception(exc, {"retries": caller.retries, "wait_history": tracker.history}, caller)
    return dict(retries=caller.retries, wait_history=tracker.history, **result)
