#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes and reads CloudFront/ACM behind the module's back, with plain boto3.

Usage: cf_helper.py COMMAND [ARGS]; the endpoint and keys come from the
environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; the
sandbox's public zone id in SANDBOX_R53_ZONE_ID). Prints one JSON document.

  request-cert DOMAIN            request an ACM certificate (us-east-1) and leave it PENDING_VALIDATION, print its ARN
  issue-certs DOMAIN [...]       request one certificate per domain, publish their validation CNAMEs in the
                                 sandbox's Route 53 zone and wait until every one is ISSUED (the sandbox issues
                                 only then, as ACM does); print {domain: ARN}
  find ALIAS                     ids of the distributions carrying ALIAS
  config ID                      the distribution's config, status and tags
  drift ID                       change Compress, OriginSslProtocols and HttpVersion by hand
  hand-made CERT ALIAS [...]     create an untagged distribution with these aliases, print its id
  console-made CERT ALIAS        create an untagged distribution as a person would in the console: the guide's origin,
                                 but an AWS WAF web ACL, standard logging and a second (S3) origin; print its id
  foreign-aliases [ALIAS...]     the aliases the sandbox holds in "another account" (none: clear them)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import time
import uuid

try:
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover - Python 2 is not supported by the sandbox
    Request = urlopen = None

import boto3
from botocore.exceptions import ClientError

WAF_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/links-by-hand/3f1c0a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"


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


def validation_record(acm, arn, deadline):
    """The certificate's validation CNAME, once ACM knows the certificate and shows the record."""
    while True:
        try:
            options = acm.describe_certificate(CertificateArn=arn)["Certificate"].get("DomainValidationOptions") or []
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            options = []  # a new certificate is unknown for a few seconds
        records = [o["ResourceRecord"] for o in options if o.get("ResourceRecord")]
        if records:
            return records[0]
        if time.time() > deadline:
            raise SystemExit("%s: no validation record after the deadline" % arn)
        time.sleep(0.5)


def issue_certs(domains, timeout=180):
    acm = client("acm")
    deadline = time.time() + timeout
    arns = dict((d, acm.request_certificate(DomainName=d, ValidationMethod="DNS")["CertificateArn"]) for d in domains)
    changes = []
    for arn in arns.values():
        record = validation_record(acm, arn, deadline)
        changes.append({"Action": "UPSERT", "ResourceRecordSet": {
            "Name": record["Name"], "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": record["Value"]}]}})
    client("route53").change_resource_record_sets(HostedZoneId=os.environ["SANDBOX_R53_ZONE_ID"],
                                                  ChangeBatch={"Changes": changes})
    for domain, arn in arns.items():
        while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
            if time.time() > deadline:
                raise SystemExit("%s (%s) was not ISSUED in %d s" % (arn, domain, timeout))
            time.sleep(0.5)
    return arns


def console_made(cert, alias):
    origin = "links.iterable.com"
    config = {
        "CallerReference": "console-made-%s" % uuid.uuid4(),
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 2, "Items": [
            {"Id": origin, "DomainName": origin,
             "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                                    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}},
            {"Id": "assets-s3", "DomainName": "assets.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}},
        ]},
        "DefaultCacheBehavior": {"TargetOriginId": origin, "ViewerProtocolPolicy": "allow-all", "Compress": False,
                                 "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "all"},
                                                     "Headers": {"Quantity": 1, "Items": ["*"]}},
                                 "MinTTL": 0},
        "Comment": "made in the console",
        "Logging": {"Enabled": True, "IncludeCookies": False, "Bucket": "click-logs.s3.amazonaws.com", "Prefix": "cf/"},
        "WebACLId": WAF_ACL,
        "ViewerCertificate": {"ACMCertificateArn": cert, "SSLSupportMethod": "sni-only",
                              "MinimumProtocolVersion": "TLSv1.2_2021"},
        "Enabled": True,
    }
    return cf_client().create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def cf_client():
    return client("cloudfront")


def foreign_aliases(aliases):
    url = os.environ["AWS_ENDPOINT_URL"].rstrip("/") + "/_sandbox/cloudfront/foreign-aliases"
    request = Request(url, data=json.dumps(aliases).encode("utf-8"), headers={"Content-Type": "application/json"})
    with urlopen(request, timeout=10) as answer:  # nosec - loopback sandbox only
        return json.loads(answer.read().decode("utf-8") or "null")


def main(argv):
    command, args = argv[1], argv[2:]
    cf = cf_client()
    if command == "request-cert":
        arn = client("acm").request_certificate(DomainName=args[0], ValidationMethod="DNS")["CertificateArn"]
        return {"arn": arn}
    if command == "issue-certs":
        return {"arns": issue_certs(args)}
    if command == "console-made":
        return {"id": console_made(args[0], args[1]), "web_acl_id": WAF_ACL}
    if command == "foreign-aliases":
        return {"foreign": foreign_aliases(args)}
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
        cert, aliases = args[0], args[1:]
        config = {
            "CallerReference": "hand-made-%s" % uuid.uuid4(),
            "Aliases": {"Quantity": len(aliases), "Items": aliases},
            "ViewerCertificate": {"ACMCertificateArn": cert, "SSLSupportMethod": "sni-only",
                                  "MinimumProtocolVersion": "TLSv1.2_2021"},
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
        try:
            return {"id": cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]}
        except ClientError as exc:
            return {"id": None, "error_code": exc.response["Error"]["Code"]}
    raise SystemExit("unknown command %r" % command)


if __name__ == "__main__":
    json.dump(main(sys.argv), sys.stdout, default=str)
    sys.stdout.write("\n")
