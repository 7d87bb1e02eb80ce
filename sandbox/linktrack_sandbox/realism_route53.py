# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""route53: AWS's behaviour in the emulator (see realism.py).

``install`` replaces how moto applies ``ChangeResourceRecordSets`` and answers
``GetChange`` (sandbox/README.md, "AWS's behaviour", lists each rule with
its source):

* a change batch is checked change by change, in order, against the zone as the
  earlier changes of the batch left it, and applied only if every change is
  valid (all or nothing); every refusal is ``InvalidChangeBatch`` (400), with
  Route 53's messages:

  - ``CREATE`` of a set that exists (same name, type and SetIdentifier);
  - ``DELETE`` of a set that does not exist, or whose TTL, values or alias
    target differ from the current ones;
  - a CNAME beside any other set of the same name, whichever comes first, by
    ``CREATE`` or ``UPSERT``; a CNAME at the zone apex;
  - an alias to a CloudFront distribution (``HostedZoneId Z2FDTNDATAQYW2``) with
    ``EvaluateTargetHealth: true``, or in a private hosted zone;

* ``ChangeResourceRecordSets`` answers a new change id, ``PENDING``;
  ``GetChange`` says ``PENDING`` for ``windows.route53_pending``, then
  ``INSYNC``; an id it never gave is ``NoSuchChange`` (404).

moto alone accepted a CREATE of an existing set (a second copy), any CNAME
beside other data, and refused a valid CREATE again after a CREATE and DELETE of
the same set (its journal check), which a teardown and setup cycle does.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import logging
import re
import string
import threading
import time

_LOG = logging.getLogger("sandbox.realism.route53")
_LOCK = threading.RLock()
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
# The change ids moto's own responses use (CreateHostedZone and friends): INSYNC, as moto says.
MOTO_CHANGE_IDS = ("C1PA6795UKMFR9", "C2682N5HXP0BZ4", "a1b2c3d4")
NAME_VALUED = ("CNAME", "NS", "PTR")


def _invalid(messages):
    from moto.route53.exceptions import Route53ClientError  # pylint: disable=import-outside-toplevel
    error = Route53ClientError("InvalidChangeBatch", "[%s]" % ", ".join(messages))
    error.messages = list(messages)
    return error


def _name(text):
    """A record or zone name for comparison: lower case, no trailing dot, Route 53's octal escapes decoded."""
    text = re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), str(text or ""))
    return text.rstrip(".").lower()


def _shown(text):
    return str(text).rstrip(".") + "."


def _key(record):
    return (_name(record.get("Name")), str(record.get("Type") or "").upper(), record.get("SetIdentifier") or None)


def _values(record_type, values):
    out = []
    for value in values or []:
        value = value.get("Value") if isinstance(value, dict) else value
        value = str(value)
        out.append(_name(value) if record_type in NAME_VALUED else value)
    return sorted(out)


def _truthy(value):
    return value is True or str(value).lower() == "true"


def _alias(target):
    if not target:
        return None
    return (str(target.get("HostedZoneId") or ""), _name(target.get("DNSName")), _truthy(target.get("EvaluateTargetHealth")))


def _from_moto(rrset):
    """A moto RecordSet as a change's ResourceRecordSet dict (the form the checks compare)."""
    record = {"Name": rrset.name, "Type": rrset.type}
    if rrset.set_identifier:
        record["SetIdentifier"] = rrset.set_identifier
    if rrset.alias_target:
        record["AliasTarget"] = rrset.alias_target
    else:
        record["TTL"] = rrset.ttl
        record["ResourceRecords"] = list(rrset.records or [])
    return record


def _same(current, wanted):
    record_type = str(current.get("Type")).upper()
    if _alias(current.get("AliasTarget")) or _alias(wanted.get("AliasTarget")):
        return _alias(current.get("AliasTarget")) == _alias(wanted.get("AliasTarget"))
    try:
        ttl_same = int(current.get("TTL")) == int(wanted.get("TTL"))
    except (TypeError, ValueError):
        ttl_same = False
    return ttl_same and _values(record_type, current.get("ResourceRecords")) == _values(record_type, wanted.get("ResourceRecords"))


def check_batch(zone_name, private, current, changes):
    """The Route 53 error messages for a change batch (empty when it is valid) and the records it leaves.

    ``current``: the zone's ResourceRecordSet dicts; ``changes``: the batch's
    Change dicts, in order. Each change is checked against the zone as the
    changes before it left it.
    """
    records = dict((_key(record), record) for record in current)
    apex = _name(zone_name)
    zone_shown = _shown(zone_name)
    errors = []
    for change in changes:
        action = str(change.get("Action") or "").upper()
        record = change.get("ResourceRecordSet") or {}
        key = _key(record)
        name, rtype = key[0], key[1]
        shown = _shown(record.get("Name", ""))
        if action == "DELETE":
            found = records.get(key)
            if found is None:
                errors.append("Tried to delete resource record set [name='%s', type='%s'] but it was not found" % (shown, rtype))
            elif not _same(found, record):
                errors.append("Tried to delete resource record set [name='%s', type='%s'] but the values provided do not match the "
                              "current values" % (shown, rtype))
            else:
                del records[key]
            continue
        if action not in ("CREATE", "UPSERT"):
            continue  # moto's own check names the valid actions
        problem = None
        target = record.get("AliasTarget") or {}
        others = [k for k in records if k[0] == name and k != key]
        if action == "CREATE" and key in records:
            problem = "Tried to create resource record set [name='%s', type='%s'] but it already exists" % (shown, rtype)
        elif rtype == "CNAME" and name == apex:
            problem = "RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s" % (shown, zone_shown)
        elif rtype == "CNAME" and any(k[1] != "CNAME" for k in others):
            problem = "RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in " \
                      "zone %s" % (shown, zone_shown)
        elif rtype != "CNAME" and any(k[1] == "CNAME" for k in others):
            problem = "RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name " \
                      "already exists in zone %s" % (rtype, shown, zone_shown)
        elif target and str(target.get("HostedZoneId")) == CLOUDFRONT_ZONE_ID and _truthy(target.get("EvaluateTargetHealth")):
            problem = "Tried to create an alias that targets %s, type %s in zone %s, with EvaluateTargetHealth true: you can't set " \
                      "EvaluateTargetHealth to true when the alias target is a CloudFront distribution" % (
                          _shown(target.get("DNSName", "")), rtype, CLOUDFRONT_ZONE_ID)
        elif target and str(target.get("HostedZoneId")) == CLOUDFRONT_ZONE_ID and private:
            problem = "Tried to create an alias that targets %s, type %s in private zone %s: alias records can't route traffic to " \
                      "CloudFront distributions in a private hosted zone" % (_shown(target.get("DNSName", "")), rtype, zone_shown)
        if problem:
            errors.append(problem)
        else:
            records[key] = record
    return errors, list(records.values())


def _normalized(record):
    """A change's ResourceRecordSet as moto stores it (name with its dot, values as a plain list)."""
    record = copy.deepcopy(record)
    if not str(record.get("Name", "")).endswith("."):
        record["Name"] = str(record.get("Name", "")) + "."
    if "ResourceRecords" in record:
        record["ResourceRecords"] = [item.get("Value") if isinstance(item, dict) else item for item in record["ResourceRecords"] or []]
    return record


def _patched_change():
    def change_resource_record_sets(self, zoneid, change_list):
        # pylint: disable=import-outside-toplevel
        from moto.route53.exceptions import DnsNameInvalidForZone, InvalidActionValue
        from moto.route53.utils import validate_domain_name
        with _LOCK:
            zone = self.get_hosted_zone(zoneid)
            for change in change_list:
                validate_domain_name(change["ResourceRecordSet"]["Name"], code="InvalidChangeBatch")
                if change["Action"] not in ("CREATE", "UPSERT", "DELETE"):
                    raise InvalidActionValue(change["Action"])
                name = _name(change["ResourceRecordSet"]["Name"])
                if not (name == _name(zone.name) or name.endswith("." + _name(zone.name))):
                    raise DnsNameInvalidForZone(name=change["ResourceRecordSet"]["Name"], zone_name=zone.name)
            errors, _after = check_batch(zone.name, bool(zone.private_zone), [_from_moto(r) for r in zone.rrsets], change_list)
            if errors:
                raise _invalid(errors)
            for change in change_list:
                record = change["ResourceRecordSet"]
                key = _key(record)
                zone.rrsets = [r for r in zone.rrsets if _key(_from_moto(r)) != key]
                if change["Action"] in ("CREATE", "UPSERT"):
                    zone.add_rrset(_normalized(record))
                zone.rr_changes.append(copy.deepcopy(change))
    return change_resource_record_sets


def _changes(backend):
    state = backend.__dict__.get("sandbox_changes")
    if state is None:
        state = backend.__dict__.setdefault("sandbox_changes", {})
    return state


def _change_id():
    from moto.moto_api._internal import mock_random as random  # pylint: disable=import-outside-toplevel
    return "C" + "".join(random.choice(string.ascii_uppercase + string.digits) for dummy in range(20))


def _patched_change_response(original, windows):
    def change_resource_record_sets(self):
        from moto.core.responses import ActionResult  # pylint: disable=import-outside-toplevel
        original(self)
        change_id = _change_id()
        submitted = datetime.datetime.now(datetime.timezone.utc)
        with _LOCK:
            _changes(self.backend)[change_id] = (submitted, time.monotonic() + windows.route53_pending)
        return ActionResult({"ChangeInfo": {"Id": "/change/" + change_id, "Status": "PENDING", "SubmittedAt": submitted}})
    return change_resource_record_sets


def _patched_get_change(original):
    def get_change(self):
        # pylint: disable=import-outside-toplevel
        from moto.core.responses import ActionResult
        from moto.route53.exceptions import Route53ClientError
        change_id = str(self._get_param("Id") or "").rsplit("/", maxsplit=1)[-1]
        if change_id in MOTO_CHANGE_IDS:
            return original(self)
        with _LOCK:
            found = _changes(self.backend).get(change_id)
        if found is None:
            raise Route53ClientError("NoSuchChange", "A change with the specified change ID does not exist.")
        submitted, until = found
        status = "PENDING" if time.monotonic() < until else "INSYNC"
        return ActionResult({"ChangeInfo": {"Id": "/change/" + change_id, "Status": status, "SubmittedAt": submitted}})
    return get_change


def install(windows, context):
    """Patch moto's route53 backend with AWS's behaviour (see realism.py)."""
    del context
    # pylint: disable=import-outside-toplevel
    from moto.route53.models import Route53Backend
    from moto.route53.responses import Route53
    if getattr(Route53Backend.change_resource_record_sets, "sandbox_realism", False):
        return
    Route53Backend.change_resource_record_sets = _patched_change()
    Route53Backend.change_resource_record_sets.sandbox_realism = True
    Route53.change_resource_record_sets = _patched_change_response(Route53.change_resource_record_sets, windows)
    Route53.get_change = _patched_get_change(Route53.get_change)
    _LOG.info("Route 53: InvalidChangeBatch rules, GetChange PENDING %.2f s", windows.route53_pending)
