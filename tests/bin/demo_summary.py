# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print what a run left in the sandbox, as observed now (used by `make demo`).

Everything printed is read back from the sandbox at this moment: the
emulator's ACM certificates, CloudFront distributions and Route 53 records,
the answers of the sandbox's authoritative DNS servers, a TLS handshake with
the edge stand-in and an HTTPS request through it. Nothing is taken from the
playbook's own output. Exits non-zero when a domain is not fully served.

usage: demo_summary.py ENV_FILE DOMAIN [DOMAIN ...]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import http.client
import os
import socket
import ssl
import sys

import boto3
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
from cryptography import x509

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "sandbox"))
from linktrack_sandbox.envfile import read_env_file  # noqa: E402  pylint: disable=wrong-import-position


def ask(server, port, name, rdtype):
    query = dns.message.make_query(name, rdtype)
    try:
        answer = dns.query.udp(query, server, port=int(port), timeout=3)
    except Exception as exc:  # pylint: disable=broad-except
        return ["(no answer: %s)" % exc]
    values = []
    for rrset in answer.answer:
        for rdata in rrset:
            values.append("%s %s" % (dns.rdatatype.to_text(rrset.rdtype), rdata.to_text()))
    return values or ["(%s)" % dns.rcode.to_text(answer.rcode()) if answer.rcode() else "(no data)"]


def handshake(env, domain):
    context = ssl.create_default_context(cafile=env["SANDBOX_CA_BUNDLE"])
    with socket.create_connection((env["SANDBOX_EDGE_HOST"], int(env["SANDBOX_EDGE_HTTPS_PORT"])), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname=domain) as tls:
            der = tls.getpeercert(binary_form=True)
            return tls.version(), x509.load_der_x509_certificate(der), hashlib.sha256(der).hexdigest()


def https_get(env, domain, path):
    context = ssl.create_default_context(cafile=env["SANDBOX_CA_BUNDLE"])
    conn = http.client.HTTPSConnection(env["SANDBOX_EDGE_HOST"], int(env["SANDBOX_EDGE_HTTPS_PORT"]), timeout=5, context=context)
    # SNI and Host must be the tracking domain while the TCP connection goes to the edge stand-in.
    conn.sock = context.wrap_socket(
        socket.create_connection((env["SANDBOX_EDGE_HOST"], int(env["SANDBOX_EDGE_HTTPS_PORT"])), timeout=5),
        server_hostname=domain,
    )
    conn.request("GET", path, headers={"Host": domain})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("X-Iterable-Origin"), response.getheader("Location")


def serial_hex(number):
    text = "%x" % number
    text = ("0" + text) if len(text) % 2 else text
    return ":".join(text[i:i + 2] for i in range(0, len(text), 2))


def acm_serial_number(text):
    """ACM writes serials as colon-separated hex; the emulator writes a decimal number."""
    if text is None:
        return None
    if ":" in text or not text.isdigit():
        return int(text.replace(":", ""), 16)
    return int(text)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    env = read_env_file(argv[1])
    domains = [d.lower().rstrip(".") for d in argv[2:]]
    kw = dict(endpoint_url=env["SANDBOX_AWS_ENDPOINT"], region_name="us-east-1",
              aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    acm = boto3.client("acm", **kw)
    cloudfront = boto3.client("cloudfront", **kw)
    certs = {}
    for page in acm.get_paginator("list_certificates").paginate():
        for summary in page["CertificateSummaryList"]:
            certs.setdefault(summary["DomainName"], []).append(summary["CertificateArn"])
    dists = {}
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for item in page.get("DistributionList", {}).get("Items", []) or []:
            for alias in item.get("Aliases", {}).get("Items", []) or []:
                dists.setdefault(alias.lower(), []).append(item)

    served = 0
    for domain in domains:
        ok = True
        print("\n%s" % domain)
        arns = certs.get(domain, [])
        print("  ACM certificates for the name: %d" % len(arns))
        acm_serial = None
        for arn in arns:
            cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            acm_serial = cert.get("Serial")
            number = acm_serial_number(acm_serial)
            print("    %s  %s  serial %s" % (arn, cert["Status"], serial_hex(number) if number is not None else None))
        found = dists.get(domain, [])
        print("  CloudFront distributions with the alias: %d" % len(found))
        for item in found:
            origin = item["Origins"]["Items"][0]["DomainName"]
            print("    %s  %s  %s  origin %s  viewer %s" % (
                item["Id"], item["DomainName"], item["Status"], origin,
                item["DefaultCacheBehavior"]["ViewerProtocolPolicy"]))
        for label, server, port in (("Route 53", env.get("SANDBOX_R53_DNS_SERVER"), env.get("SANDBOX_R53_DNS_PORT")),
                                    ("BIND", env.get("SANDBOX_DNS_SERVER"), env.get("SANDBOX_DNS_PORT"))):
            if server:
                answers = ask(server, port, domain, "CNAME") + ask(server, port, domain, "A") + ask(server, port, domain, "AAAA")
                print("  DNS answers from the %s server: %s" % (label, "; ".join(sorted(set(answers)))))
        try:
            version, cert, fingerprint = handshake(env, domain)
            served_serial = serial_hex(cert.serial_number)
            same = acm_serial is not None and cert.serial_number == acm_serial_number(acm_serial)
            print("  TLS via the edge: %s, verified with the sandbox CA, serial %s (%s the ACM certificate), sha256 %s..." % (
                version, served_serial, "matches" if same else "DOES NOT match", fingerprint[:16]))
            status, origin, location = https_get(env, domain, "/a/click?_u=https%3A%2F%2Fexample.org%2F")
            print("  HTTPS click through the edge: %s from %s, redirect to %s" % (status, origin, location))
            ok = ok and same and status == 302
        except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
            print("  TLS/HTTPS via the edge FAILED: %s" % exc)
            ok = False
        ok = ok and len(arns) == 1 and len(found) == 1
        served += 1 if ok else 0
    print("\n%d of %d domain(s) have exactly one certificate and one distribution and are served over HTTPS "
          "with the ACM certificate in the sandbox." % (served, len(domains)))
    return 0 if served == len(domains) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
