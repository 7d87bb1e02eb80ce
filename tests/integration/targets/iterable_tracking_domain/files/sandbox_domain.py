#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sets up a tracking domain in the sandbox with plain boto3, so this target needs no other module.

Usage: sandbox_domain.py COMMAND [ARGS]. The emulator's endpoint and keys come
from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY). Prints one JSON document.

  cert NAME                                   request an ACM certificate for NAME, publish its validation CNAME in
                                              Route 53, wait until ISSUED, print its ARN
  distribution ALIAS|none CERT_ARN|none ORIGIN VIEWER_POLICY HOST_FORWARDED
                                              create a distribution (CERT none: CloudFront's default certificate;
                                              VIEWER_POLICY allow-all|redirect-to-https; HOST_FORWARDED yes|no),
                                              print its id and domain name
  record ZONE_ID NAME cname|alias TARGET      UPSERT a CNAME, or alias A + AAAA, at NAME
  override STATE_DIR HOST MODE                set the origin stand-in's deep-link mode for HOST (MODE none clears it)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import time
import uuid

import boto3
import botocore.exceptions

CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"


def client(service):
    return boto3.client(service, region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def items(values):
    return {"Quantity": len(values), "Items": list(values)} if values else {"Quantity": 0}


def _until(read, done, what, timeout=180.0):
    """``read()`` again until ``done(value)``; ``ResourceNotFoundException`` counts as not yet (ACM's first seconds)."""
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        try:
            value = read()
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("ResourceNotFoundException",):
                raise
            value = None
        if value is not None and done(value):
            return value
        time.sleep(0.5)
    raise SystemExit("%s: not done after %.0f s (last seen: %s)" % (what, timeout, value))


def _public_zone(name):
    """The id of the public hosted zone that holds ``name`` (a private zone of the same name may exist beside it)."""
    fqdn = name.rstrip(".") + "."
    zones = [z for z in client("route53").list_hosted_zones()["HostedZones"]
             if not z.get("Config", {}).get("PrivateZone") and (fqdn == z["Name"] or fqdn.endswith("." + z["Name"]))]
    if not zones:
        raise SystemExit("no public hosted zone holds %s" % name)
    return max(zones, key=lambda z: len(z["Name"]))["Id"].split("/")[-1]


def cert(name):
    """Request a certificate, publish its validation CNAME in Route 53 as ACM needs, wait until ISSUED.

    ACM (and the sandbox) does not know a new certificate for a few seconds,
    shows the validation record a little later, and issues only once that
    record answers from the zone's name servers.
    """
    acm = client("acm")
    arn = acm.request_certificate(DomainName=name, ValidationMethod="DNS",
                                  IdempotencyToken=uuid.uuid4().hex[:32])["CertificateArn"]

    def describe():
        return acm.describe_certificate(CertificateArn=arn)["Certificate"]

    current = _until(describe, lambda c: c["Status"] != "PENDING_VALIDATION" or all(
        o.get("ResourceRecord") for o in c.get("DomainValidationOptions", [])), "validation record of %s" % arn)
    for option in current.get("DomainValidationOptions", []):
        record = option.get("ResourceRecord")
        if record and current["Status"] == "PENDING_VALIDATION":
            client("route53").change_resource_record_sets(HostedZoneId=_public_zone(name), ChangeBatch={"Changes": [{
                "Action": "UPSERT", "ResourceRecordSet": {"Name": record["Name"], "Type": record["Type"], "TTL": 60,
                                                          "ResourceRecords": [{"Value": record["Value"]}]}}]})
    current = _until(describe, lambda c: c["Status"] != "PENDING_VALIDATION", "certificate %s to be issued" % arn)
    if current["Status"] != "ISSUED":
        raise SystemExit("certificate %s for %s is %s" % (arn, name, current["Status"]))
    return {"arn": arn, "status": current["Status"]}


def distribution(alias, cert_arn, origin, viewer_policy, host_forwarded):
    if cert_arn == "none":
        viewer_certificate = {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"}
    else:
        viewer_certificate = {"ACMCertificateArn": cert_arn, "SSLSupportMethod": "sni-only",
                              "MinimumProtocolVersion": "TLSv1.2_2021"}
    headers = ["*"] if host_forwarded == "yes" else ["User-Agent"]
    config = {
        "CallerReference": "iterable-it-%s" % uuid.uuid4(),
        "Aliases": items([alias] if alias != "none" else []),
        "Origins": items([{
            "Id": origin,
            "DomainName": origin,
            "OriginPath": "",
            "CustomHeaders": {"Quantity": 0},
            "CustomOriginConfig": {
                "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                "OriginSslProtocols": items(["TLSv1.2"]),
                "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5,
            },
        }]),
        "DefaultCacheBehavior": {
            "TargetOriginId": origin,
            "ViewerProtocolPolicy": viewer_policy,
            "AllowedMethods": dict(items(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]),
                                   CachedMethods=items(["GET", "HEAD"])),
            "Compress": True,
            "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "all"}, "Headers": items(headers)},
            "MinTTL": 0,
        },
        "Comment": "iterable_tracking_domain integration test",
        "Enabled": True,
        "ViewerCertificate": viewer_certificate,
        "HttpVersion": "http2",
        "IsIPV6Enabled": True,
    }
    cloudfront = client("cloudfront")
    dist = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    # CloudFront serves a new distribution once it is Deployed (minutes on AWS, seconds in the sandbox)
    _until(lambda: cloudfront.get_distribution(Id=dist["Id"])["Distribution"], lambda d: d["Status"] == "Deployed",
           "distribution %s to deploy" % dist["Id"])
    return {"id": dist["Id"], "domain_name": dist["DomainName"]}


def record(zone_id, name, kind, target):
    if kind == "cname":
        changes = [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": name, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": target}]}}]
    elif kind == "alias":
        changes = [
            {"Action": "UPSERT", "ResourceRecordSet": {
                "Name": name, "Type": rtype,
                "AliasTarget": {"HostedZoneId": CLOUDFRONT_ZONE_ID, "DNSName": target, "EvaluateTargetHealth": False}}}
            for rtype in ("A", "AAAA")
        ]
    else:
        raise SystemExit("record kind must be cname or alias, got %r" % kind)
    change = client("route53").change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return {"change": change["ChangeInfo"]["Id"], "status": change["ChangeInfo"]["Status"]}


def override(state_dir, host, mode):
    path = os.path.join(state_dir, "origin-overrides.json")
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        data = {}
    if mode == "none":
        data.pop(host, None)
    else:
        data[host] = {"deep_links": mode}
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle)
    os.rename(tmp, path)
    return {"overrides": data}


def main(argv):
    command, args = argv[1], argv[2:]
    commands = {"cert": cert, "distribution": distribution, "record": record, "override": override}
    if command not in commands:
        raise SystemExit("unknown command %r; use one of %s" % (command, ", ".join(sorted(commands))))
    return commands[command](*args)


if __name__ == "__main__":
    json.dump(main(sys.argv), sys.stdout)
    sys.stdout.write("\n")
