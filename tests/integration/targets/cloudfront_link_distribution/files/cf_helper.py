#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes and reads CloudFront/ACM behind the module's back, with plain boto3.

Usage: cf_helper.py COMMAND [ARGS]; the endpoint and keys come from the
environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
Prints one JSON document.

  request-cert DOMAIN            request an ACM certificate (us-east-1), print its ARN
  find ALIAS                     ids of the distributions carrying ALIAS
  config ID                      the distribution's config, status and tags
  drift ID                       change Compress, OriginSslProtocols and HttpVersion by hand
  hand-made ALIAS [ALIAS...]     create an untagged distribution with these aliases, print its id
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import uuid

import boto3


def client(service):
    return boto3.client(service, region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def all_summaries(cf):
    marker = None
    while True:
        page = cf.list_distributions(**({"Marker": marker} if marker else {}))["DistributionList"]
        yield from page.get("Items") or []
        marker = page.get("NextMarker")
        if not page.get("IsTruncated") or not marker:
            return


def main(argv):
    command, args = argv[1], argv[2:]
    cf = client("cloudfront")
    if command == "request-cert":
        arn = client("acm").request_certificate(DomainName=args[0], ValidationMethod="DNS")["CertificateArn"]
        return {"arn": arn}
    if command == "find":
        alias = args[0].lower()
        return {"ids": [s["Id"] for s in all_summaries(cf)
                        if alias in [a.lower() for a in (s.get("Aliases") or {}).get("Items") or []]]}
    if command == "config":
        dist = cf.get_distribution(Id=args[0])["Distribution"]
        tags = cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"].get("Items") or []
        return {"status": dist["Status"], "config": dist["DistributionConfig"],
                "tags": dict((t["Key"], t["Value"]) for t in tags)}
    if command == "drift":
        response = cf.get_distribution_config(Id=args[0])
        config = response["DistributionConfig"]
        config["DefaultCacheBehavior"]["Compress"] = False
        origin = config["Origins"]["Items"][0]
        origin["CustomOriginConfig"]["OriginSslProtocols"] = {"Quantity": 2, "Items": ["TLSv1", "TLSv1.2"]}
        config["HttpVersion"] = "http1.1"
        cf.update_distribution(Id=args[0], IfMatch=response["ETag"], DistributionConfig=config)
        return {"drifted": args[0]}
    if command == "hand-made":
        origin = "links.iterable.com"
        config = {
            "CallerReference": "hand-made-%s" % uuid.uuid4(),
            "Aliases": {"Quantity": len(args), "Items": args},
            "Origins": {"Quantity": 1, "Items": [{
                "Id": origin, "DomainName": origin,
                "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "match-viewer"},
            }]},
            "DefaultCacheBehavior": {"TargetOriginId": origin, "ViewerProtocolPolicy": "allow-all",
                                     "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                     "MinTTL": 0},
            "Comment": "made by hand",
            "Enabled": True,
        }
        return {"id": cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]}
    raise SystemExit("unknown command %r" % command)


if __name__ == "__main__":
    json.dump(main(sys.argv), sys.stdout, default=str)
    sys.stdout.write("\n")
