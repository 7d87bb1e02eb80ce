# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One ACM and one Route 53 listing for a whole play (``aws_shared_listing``).

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

Neither ACM nor Route 53 looks a certificate or a hosted zone up by a domain
name, so each domain's read starts with a listing (``ListCertificates``,
``ListHostedZonesByName``) whose answer is the same for every domain of an
account. Made once per play (``run_once``) and handed to every host, the two
listings save each domain one request of each. The hosts take them as a hint
only (``acm_dns_certificate`` ``known_certificates``, ``route53_records``
``known_zones``): a pick is confirmed with the host's own credentials by the
read the domain makes anyway, and a miss or a foreign resource falls back to
the host's own listing (see ``AcmCertificateManager._find_known`` and
``Route53Records._from_known_zones``).

What the listings cover, from the API references:

* ACM ``ListCertificates``: without ``Includes.keyTypes`` it returns "only
  RSA_1024 and RSA_2048 certificates" (ACM API Reference, Filters), so it asks
  for every key algorithm the collection requests (``KEY_ALGORITHMS``) and
  the statuses the per-domain lookup reuses (``REUSABLE_STATUSES``), every
  page (``NextToken``).
* Route 53 ``ListHostedZones``: "the public and private hosted zones that are
  associated with the current AWS account", at most 100 a page, more after
  ``NextMarker`` while ``IsTruncated`` (Route 53 API Reference,
  ListHostedZones).

The summaries keep only what the selection reads (names, status, type, key
algorithm, times as epoch seconds); nothing secret is in a listing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.linktrack.https.plugins.module_utils._acm import (
    KEY_ALGORITHMS,
    REUSABLE_STATUSES,
    AcmCertificateManager,
)
from ansible_collections.linktrack.https.plugins.module_utils._aws import check_region, new_caller
from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError, error_code
from ansible_collections.linktrack.https.plugins.module_utils._common import result_from_exception
from ansible_collections.linktrack.https.plugins.module_utils._route53 import api_name, clean_zone_id

# The fields of a CertificateSummary the selection (AcmCertificateManager._choose) reads.
SUMMARY_FIELDS = ("CertificateArn", "DomainName", "SubjectAlternativeNameSummaries",
                  "HasAdditionalSubjectAlternativeNames", "Status", "Type", "KeyAlgorithm", "ManagedBy")
TIME_FIELDS = ("CreatedAt", "NotAfter", "RevokedAt")
ZONE_PAGE = "100"


def _epoch(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return None


def certificate_summary(summary):
    """The compact form of one CertificateSummary: the selection's fields, times as epoch seconds."""
    found = dict((key, summary[key]) for key in SUMMARY_FIELDS if summary.get(key) is not None)
    for key in TIME_FIELDS:
        stamp = _epoch(summary.get(key))
        if stamp is not None:
            found[key] = stamp
    return found


def list_certificates(client, caller):
    """Every reusable certificate of the account, one paginated ListCertificates, compact."""
    manager = AcmCertificateManager(client, caller)
    return [certificate_summary(s) for s in manager.list_summaries(REUSABLE_STATUSES, KEY_ALGORITHMS)]


def list_zones(client, caller):
    """Every hosted zone of the account, one paginated ListHostedZones: ``[{id, name, private}]``."""
    zones = []
    kwargs = {"MaxItems": ZONE_PAGE}
    while True:
        page = caller(client.list_hosted_zones, **kwargs)
        for zone in page.get("HostedZones") or []:
            zones.append({"id": clean_zone_id(zone.get("Id", ""), "HostedZones.Id"), "name": api_name(zone.get("Name")),
                          "private": bool((zone.get("Config") or {}).get("PrivateZone"))})
        if not page.get("IsTruncated") or not page.get("NextMarker"):
            return zones
        kwargs = {"MaxItems": ZONE_PAGE, "Marker": page["NextMarker"]}


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``aws_shared_listing`` does with its validated ``params``: two reads, the same in check mode.

    A listing that fails (no permission, for example) leaves its key ``None``
    and says why in ``errors``: the hosts then list on their own, as without
    the hint, so a failed hint never fails the play.
    """
    caller = new_caller()
    result = {"changed": False, "certificates": None, "zones": None, "errors": [], "scope": params.get("scope") or ""}
    try:
        check_region(params, "aws_shared_listing")
        for key, wanted, service, lister in (("certificates", params.get("list_certificates", True), "acm", list_certificates),
                                             ("zones", params.get("list_zones", True), "route53", list_zones)):
            if not wanted:
                continue
            try:
                result[key] = lister(client_factory(service), caller)
            except LinktrackError:
                raise
            except Exception as exc:  # noqa: BLE001 - a hint that cannot be made is left out, never fatal
                message = "%s: the %s listing failed (%s); each host lists on its own." % (
                    key, service, error_code(exc) or type(exc).__name__)
                result["errors"].append(message)
                if warn is not None:
                    warn(message)
    except Exception as exc:  # noqa: BLE001 - one failed result for every error (result_from_exception)
        return result_from_exception(exc, {"retries": caller.retries, "aws_requests": caller.calls}, caller)
    result["aws_requests"] = caller.calls
    result["retries"] = caller.retries
    return result
