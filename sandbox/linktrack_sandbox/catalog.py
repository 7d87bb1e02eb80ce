# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the stand-ins know about the emulator's state: distributions, hosted zones, certificates.

Distributions and zones are read through the emulator's own API (boto3 against
the AWS port, marked internal so they are not counted) and cached for at most
one second, or until the next write, whichever comes first. Certificates and
their private keys come from moto's in-process ACM backend: the API never
hands out the private key of an ACM certificate, and the edge needs it.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import logging
import threading
import time

from .aws import INTERNAL_HEADER

MAX_AGE = 1.0
_LOG = logging.getLogger("sandbox.catalog")


class _Cached:
    def __init__(self, loader, generation, max_age=MAX_AGE, clock=time.monotonic):
        self._loader = loader
        self._generation = generation
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._value = None
        self._stamp = (None, 0.0)

    def get(self):
        with self._lock:
            gen, when = self._stamp
            now = self._clock()
            current = self._generation.value if self._generation else None
            if self._value is None or gen != current or now - when > self._max_age:
                try:
                    self._value = self._loader()
                except Exception as exc:  # pylint: disable=broad-except
                    _LOG.warning("could not read the emulator: %s", exc)
                    if self._value is None:
                        raise
                self._stamp = (current, now)
            return self._value


def _internal_header(request, **_kwargs):
    request.headers[INTERNAL_HEADER] = "1"


def make_client(config, service):
    """A boto3 client for the sandbox's own AWS port whose calls are not counted."""
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.config import Config  # pylint: disable=import-outside-toplevel
    client = boto3.session.Session().client(
        service,
        endpoint_url="http://%s:%d" % (config["host"], config["ports"]["aws"]),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=config["region"],
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )
    client.meta.events.register("before-sign.*.*", _internal_header)
    return client


class Catalog:
    """Cached views of the emulator for the edge, origin and DNS stand-ins."""

    def __init__(self, config, generation, cloudfront=None, route53=None):
        self.config = config
        self._cloudfront = cloudfront or make_client(config, "cloudfront")
        self._route53 = route53 or make_client(config, "route53")
        self._distributions = _Cached(self._load_distributions, generation)
        self._zones = _Cached(self._load_zones, generation)

    def _load_distributions(self):
        items = []
        for page in self._cloudfront.get_paginator("list_distributions").paginate():
            items.extend(page.get("DistributionList", {}).get("Items", []) or [])
        return items

    def _load_zones(self):
        zones = []
        for page in self._route53.get_paginator("list_hosted_zones").paginate():
            for zone in page.get("HostedZones", []):
                records = []
                for rpage in self._route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone["Id"]):
                    records.extend(rpage.get("ResourceRecordSets", []))
                zones.append({
                    "id": zone["Id"].split("/")[-1],
                    "name": zone["Name"].rstrip(".").lower(),
                    "private": bool(zone.get("Config", {}).get("PrivateZone")),
                    "records": records,
                })
        return zones

    def distributions(self):
        """CloudFront DistributionSummary dicts, as ListDistributions returns them."""
        return self._distributions.get()

    def zones(self):
        """Hosted zones: dicts with id, name (no trailing dot), private, records (ResourceRecordSets)."""
        return self._zones.get()

    def served(self, dist):
        """False while a new distribution has not turned Deployed for the first time (SANDBOX_AWS_BEHAVIOUR=aws).

        CloudFront propagates a new distribution to its edge locations while it
        is InProgress; some may serve it earlier, but nothing promises that. The
        sandbox is stricter and simple: no edge serves it (its certificate is not
        presented for its aliases, no Host is routed to it) before its first
        Deployed. Later updates do not stop it being served.
        """
        from .realism_cloudfront import served  # pylint: disable=import-outside-toplevel
        return served(self.config.get("account_id", ""), dist.get("Id", ""))

    def distribution_for_host(self, host, aliases_only=False):
        """The enabled, served distribution that answers for ``host``: an alias, a wildcard alias or (unless aliases_only) its own domain."""
        host = host.lower().rstrip(".")
        wildcard = None
        for dist in self.distributions():
            if not dist.get("Enabled") or not self.served(dist):
                continue
            if not aliases_only and dist.get("DomainName", "").lower() == host:
                return dist
            for alias in dist.get("Aliases", {}).get("Items", []) or []:
                alias = alias.lower().rstrip(".")
                if alias == host:
                    return dist
                if alias.startswith("*.") and host.endswith(alias[1:]):
                    label = host[:len(host) - len(alias) + 1]
                    if label and "." not in label:
                        wildcard = wildcard or dist
        return wildcard

    def knows_host(self, host):
        """True when ``host`` lies inside the sandbox zone or any Route 53 hosted zone."""
        host = host.lower().rstrip(".")
        names = [self.config["zone"]] + [zone["name"] for zone in self.zones()]
        return any(host == name or host.endswith("." + name) for name in names)

    @staticmethod
    def certificate(arn):
        """(status, certificate PEM, private key PEM, chain PEM) of an ACM certificate, or None."""
        # pylint: disable=import-outside-toplevel
        from moto.acm.models import acm_backends
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "acm":
            return None
        region, account = parts[3], parts[4]
        try:
            bundle = acm_backends[account][region].get_certificate(arn)
        except Exception:  # pylint: disable=broad-except
            return None
        return bundle.status, bundle.cert, bundle.key, bundle.chain
