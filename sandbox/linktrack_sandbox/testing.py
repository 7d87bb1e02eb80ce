# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for tests that run a private sandbox (used by tests/unit/sandbox)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.client
import os
import socket
import ssl
import subprocess
import sys
import time

from .envfile import read_env_file
from .settings import SANDBOX_DIR

SANDBOX_PY = os.path.join(SANDBOX_DIR, "sandbox.py")
OFFSETS = (0, 80, 81, 82, 353, 354, 443)


def ports_free(base, offsets=OFFSETS, udp_offsets=(353, 354)):
    """True if every sandbox port of ``base`` is free on 127.0.0.1 (TCP, and UDP for the DNS ports)."""
    for offset in offsets:
        kinds = (socket.SOCK_STREAM, socket.SOCK_DGRAM) if offset in udp_offsets else (socket.SOCK_STREAM,)
        for kind in kinds:
            with socket.socket(socket.AF_INET, kind) as sock:
                if kind == socket.SOCK_STREAM:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", base + offset))
                except OSError:
                    return False
    return True


def port_base(offset=0):
    """A free port base near SANDBOX_TEST_PORT_BASE (default 21000) + 500 per pytest-xdist worker + ``offset``.

    Other programs (or other workers' sandboxes) may hold some ports: the first base
    from there, in steps of 11, whose ports are all free is used.
    """
    base = int(os.environ.get("SANDBOX_TEST_PORT_BASE", "21000"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    preferred = base + 500 * index + offset
    for attempt in range(60):
        candidate = preferred + 11 * attempt
        if ports_free(candidate):
            return candidate
    raise RuntimeError("no free sandbox port base found from %d on" % preferred)


def clean_env(base, state_dir):
    """The caller's environment without any sandbox or AWS settings, pointed at a private sandbox."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_", "MOTO_")))
    env.update({
        "SANDBOX_PORT_BASE": str(base),
        "SANDBOX_STATE_DIR": str(state_dir),
        "SANDBOX_ENV_FILE": os.path.join(str(state_dir), "sandbox.env"),
    })
    return env


def run_sandbox(env, *args, timeout=90):
    """Run sandbox.py with ``args``; returns the CompletedProcess (text output)."""
    return subprocess.run([sys.executable, SANDBOX_PY] + list(args), env=env, capture_output=True, text=True, timeout=timeout, check=False)


class SandboxStartError(RuntimeError):
    """``sandbox.py up`` failed; the message carries its output."""


def start_sandbox(state_dir, offset=0, **settings):
    """Start a private sandbox (port base from ``port_base(offset)``, extra environment ``settings``).

    Returns the env file's values, plus ``"env"`` (the process environment, for
    ``stop_sandbox``). A failed start is stopped again and raises ``SandboxStartError``.
    """
    env = clean_env(port_base(offset), state_dir)
    env.update(settings)
    result = run_sandbox(env, "up")
    if result.returncode != 0:
        run_sandbox(env, "down")
        raise SandboxStartError("sandbox up failed:\n%s\n%s" % (result.stdout, result.stderr))
    values = read_env_file(env["SANDBOX_ENV_FILE"])
    values["env"] = env
    return values


def stop_sandbox(values):
    """Stop a sandbox that ``start_sandbox`` started; returns ``sandbox.py down``'s completed process."""
    return run_sandbox(values["env"], "down")


def listening(port, host="127.0.0.1"):
    """True if something accepts TCP connections on ``port``."""
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def processes_mentioning(text):
    """Pids of live (non-zombie) processes whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/stat" % entry, "r", encoding="ascii", errors="replace") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if text in cmdline and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def tls_peer_certificate(values, server_name=None):
    """(DER certificate the edge presents for ``server_name``, TLS version); no verification."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((values["SANDBOX_EDGE_HOST"], int(values["SANDBOX_EDGE_HTTPS_PORT"])), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.getpeercert(binary_form=True), tls.version()


def edge_request(values, host, path, method="GET", https=True, headers=None, verify=True):
    """One request to the edge with SNI and Host ``host``; returns (status, headers dict (lower-case), body)."""
    port = int(values["SANDBOX_EDGE_HTTPS_PORT" if https else "SANDBOX_EDGE_HTTP_PORT"])
    raw = socket.create_connection((values["SANDBOX_EDGE_HOST"], port), timeout=10)
    sock = raw
    if https:
        ctx = ssl.create_default_context(cafile=values["SANDBOX_CA_BUNDLE"])
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(raw, server_hostname=host)
    try:
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % host, "Connection: close"]
        lines += ["%s: %s" % item for item in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        body = resp.read()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), body
    finally:
        sock.close()


def origin_request(url, host, path):
    """One request straight to an origin stand-in; returns (status, headers dict (lower-case), body)."""
    from urllib.parse import urlsplit  # pylint: disable=import-outside-toplevel
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), body
    finally:
        conn.close()


def distribution_config(reference, alias, origin, certificate_arn, viewer_policy="allow-all", forward_all=True):
    """A CloudFront DistributionConfig shaped like the Iterable guide's tables."""
    headers = {"Quantity": 1, "Items": ["*"]} if forward_all else {"Quantity": 0}
    return {
        "CallerReference": reference,
        "Comment": "linktrack sandbox test",
        "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": origin, "DomainName": origin,
            "CustomOriginConfig": {
                "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            },
        }]},
        "DefaultCacheBehavior": {
            "TargetOriginId": origin,
            "ViewerProtocolPolicy": viewer_policy,
            "AllowedMethods": {
                "Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
            },
            "ForwardedValues": {"QueryString": forward_all, "Cookies": {"Forward": "all" if forward_all else "none"}, "Headers": headers},
            "MinTTL": 0,
        },
        "ViewerCertificate": {"ACMCertificateArn": certificate_arn, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
    }


def publish_bind(values, name, rdtype, *rdata, ttl=60):
    """Replace ``name``'s ``rdtype`` set in the BIND zone with ``rdata`` (TSIG-signed RFC 2136 update); returns the rcode text."""
    # pylint: disable=import-outside-toplevel
    import dns.query
    import dns.rcode
    import dns.tsigkeyring
    import dns.update
    keyring = dns.tsigkeyring.from_text({values["SANDBOX_TSIG_KEY_NAME"]: (values["SANDBOX_TSIG_ALGORITHM"], values["SANDBOX_TSIG_SECRET"])})
    update = dns.update.UpdateMessage(values["SANDBOX_ZONE"] + ".", keyring=keyring, keyalgorithm=values["SANDBOX_TSIG_ALGORITHM"])
    update.replace(name if name.endswith(".") else name + ".", ttl, rdtype, *rdata)
    response = dns.query.tcp(update, values["SANDBOX_DNS_SERVER"], port=int(values["SANDBOX_DNS_PORT"]), timeout=5)
    return dns.rcode.to_text(response.rcode())


def wait_for(read, done, timeout, interval=0.2):
    """Call ``read()`` until ``done(value)`` or ``timeout`` seconds passed; returns the last value.

    ``read`` may raise a botocore ClientError with code ResourceNotFoundException
    (a certificate ACM does not know yet): that counts as not done, value None.
    """
    from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            value = None
        if (value is not None and done(value)) or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def publish_route53(route53, name, rdtype, *values, ttl=60):
    """UPSERT ``name``'s ``rdtype`` set with ``values`` in the Route 53 hosted zone that holds the name (the emulator's API)."""
    name = name.rstrip(".").lower()
    zones = [zone for zone in route53.list_hosted_zones()["HostedZones"] if not zone.get("Config", {}).get("PrivateZone")
             and (name + ".").endswith("." + zone["Name"].lower())]
    zone = max(zones, key=lambda zone: len(zone["Name"]))
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": name + ".", "Type": rdtype, "TTL": ttl, "ResourceRecords": [{"Value": value} for value in values]}}]})
    return zone["Id"]


def issue_certificate(acm, domain, sans=None, timeout=20.0, **kwargs):
    """Request a DNS-validated certificate and publish its validation records in Route 53, as ACM needs; returns (arn, status).

    With the sandbox's AWS behaviour the certificate is ISSUED only once its
    validation CNAMEs answer; with ``instant`` it is ISSUED after a second anyway.
    """
    import uuid  # pylint: disable=import-outside-toplevel
    import boto3  # pylint: disable=import-outside-toplevel
    route53 = boto3.session.Session().client(
        "route53", endpoint_url=acm.meta.endpoint_url, region_name=acm.meta.region_name,
        aws_access_key_id="testing", aws_secret_access_key="testing")
    request = {"DomainName": domain, "ValidationMethod": "DNS", "IdempotencyToken": uuid.uuid4().hex[:32]}
    if sans:
        request["SubjectAlternativeNames"] = list(sans)
    request.update(kwargs)
    arn = acm.request_certificate(**request)["CertificateArn"]

    def describe():
        return acm.describe_certificate(CertificateArn=arn)["Certificate"]

    cert = wait_for(describe, lambda cert: cert["Status"] != "PENDING_VALIDATION" or all(
        option.get("ResourceRecord") for option in cert.get("DomainValidationOptions", [])), timeout)
    if cert is None:
        return arn, None
    published = set()
    for option in cert.get("DomainValidationOptions", []):
        record = option.get("ResourceRecord")
        if record and cert["Status"] == "PENDING_VALIDATION" and record["Name"] not in published:
            publish_route53(route53, record["Name"], record["Type"], record["Value"])
            published.add(record["Name"])
    cert = wait_for(describe, lambda cert: cert["Status"] != "PENDING_VALIDATION", timeout)
    return arn, cert["Status"] if cert else None
