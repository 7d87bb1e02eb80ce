# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CloudFront edge stand-in.

HTTPS: by SNI, the ACM certificate (from moto's in-process ACM backend, signed
by the sandbox CA) of the enabled distribution that has the name as an alias;
for any other name, or no SNI, a sandbox-CA certificate for *.cloudfront.net.
HTTP and HTTPS: requests are routed by Host header to a distribution and
forwarded to the origin stand-in that plays the distribution's origin domain.
With AWS's behaviour a new distribution counts only from its first Deployed on
(``Catalog.served``): before that neither its certificate nor its routing exists.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import fnmatch
import hashlib
import http.client
import http.server
import logging
import os
import re
import socketserver
import ssl
import sys
import threading

from cryptography import x509

_LOG = logging.getLogger("sandbox.edge")
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "proxy-connection",
))
POP = "SBX50-C1"


def _request_id():
    return base64.urlsafe_b64encode(os.urandom(42)).decode("ascii")


def _intermediates(chain_pem):
    """The certificates of an ACM chain worth sending: all but self-signed roots."""
    out = []
    for block in _PEM.findall(chain_pem or b""):
        try:
            cert = x509.load_pem_x509_certificate(block)
        except ValueError:
            continue
        if cert.subject != cert.issuer:
            out.append(block + b"\n")
    return b"".join(out)


class CertStore:
    """Picks the server certificate for an SNI name."""

    def __init__(self, catalog, sandbox_ca, tmp_dir):
        from .ca import pem_pair  # pylint: disable=import-outside-toplevel
        self.catalog = catalog
        self.tmp_dir = tmp_dir
        os.makedirs(tmp_dir, exist_ok=True)
        cert, key = sandbox_ca.issue(["*.cloudfront.net", "cloudfront.net"])
        cert_pem, key_pem = pem_pair(cert, key)
        self.default_cert_pem = cert_pem
        self._contexts = {}
        self._lock = threading.Lock()
        self.default_context = self._make_context(cert_pem, key_pem, b"")
        self.default_context.sni_callback = self._on_sni

    def _make_context(self, cert_pem, key_pem, chain_pem):
        from .ca import tls  # pylint: disable=import-outside-toplevel
        return tls.server_context_from_pem(
            cert_pem.rstrip(b"\n") + b"\n" + _intermediates(chain_pem) + key_pem, directory=self.tmp_dir,
            min_version=ssl.TLSVersion.TLSv1_2, alpn=["http/1.1"])

    def context_for(self, server_name):
        """The SSLContext for ``server_name``, or None for the default *.cloudfront.net certificate."""
        dist = self.catalog.distribution_for_host(server_name, aliases_only=True)
        if dist is None:
            return None
        arn = (dist.get("ViewerCertificate") or {}).get("ACMCertificateArn") or ""
        if not arn:
            return None
        found = self.catalog.certificate(arn)
        if found is None:
            _LOG.warning("SNI %s: distribution %s names ACM certificate %s, which does not exist", server_name, dist["Id"], arn)
            return None
        status, cert_pem, key_pem, chain_pem = found
        if status != "ISSUED":
            _LOG.warning("SNI %s: ACM certificate %s is %s, not ISSUED; presenting the default certificate", server_name, arn, status)
            return None
        digest = hashlib.sha256(cert_pem + key_pem).hexdigest()
        with self._lock:
            ctx = self._contexts.get(digest)
            if ctx is None:
                ctx = self._contexts[digest] = self._make_context(cert_pem, key_pem, chain_pem)
        return ctx

    def _on_sni(self, ssl_socket, server_name, _context):
        if not server_name:
            return None
        try:
            ctx = self.context_for(server_name)
        except Exception as exc:  # pylint: disable=broad-except
            _LOG.warning("SNI %s: lookup failed (%s); presenting the default certificate", server_name, exc)
            ctx = None
        if ctx is not None:
            ssl_socket.context = ctx
        return None


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A threaded HTTP server on loopback that logs client errors quietly."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 64

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        _LOG.debug("%s: connection from %s ended: %s", self.__class__.__name__, client_address, exc)


class EdgeServer(ThreadingServer):
    """One edge listener: HTTPS (tls_context given) or HTTP."""

    def __init__(self, address, edge, tls_context=None):
        self.edge = edge
        self.tls_context = tls_context
        self.scheme = "https" if tls_context else "http"
        super().__init__(address, EdgeHandler)


def _behavior_for(dist, path):
    only_path = path.split("?", 1)[0]
    for behavior in (dist.get("CacheBehaviors") or {}).get("Items") or []:
        pattern = behavior.get("PathPattern", "")
        if fnmatch.fnmatchcase(only_path, pattern if pattern.startswith("/") else "/" + pattern):
            return behavior
    return dist.get("DefaultCacheBehavior") or {}


def forwarding(behavior):
    """What CloudFront passes to the origin under this cache behavior (legacy settings or policies)."""
    if behavior.get("OriginRequestPolicyId") or behavior.get("CachePolicyId"):
        # Policies are not looked up: the sandbox assumes they forward everything.
        return {"host": True, "user_agent": True, "query": True, "cookies": "all", "cookie_names": []}
    values = behavior.get("ForwardedValues") or {}
    headers = [h.lower() for h in (values.get("Headers") or {}).get("Items") or []]
    cookies = values.get("Cookies") or {}
    return {
        "host": "*" in headers or "host" in headers,
        "user_agent": "*" in headers or "user-agent" in headers,
        "query": bool(values.get("QueryString")),
        "cookies": cookies.get("Forward", "none"),
        "cookie_names": (cookies.get("WhitelistedNames") or {}).get("Items") or [],
    }


class EdgeHandler(http.server.BaseHTTPRequestHandler):
    """Routes one request the way CloudFront would, in the small."""

    protocol_version = "HTTP/1.1"
    timeout = 30

    def setup(self):
        if self.server.tls_context is not None:
            self.request.settimeout(10)
            self.request = self.server.tls_context.wrap_socket(self.request, server_side=True)
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            if isinstance(self.request, ssl.SSLSocket):
                self.request.close()

    def version_string(self):
        return "CloudFront"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        _LOG.info("%s %s", self.server.scheme, format % args)

    def do_GET(self):  # pylint: disable=invalid-name
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _error(self, status, message, request_id):
        body = (
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n'
            '<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">\n'
            "<TITLE>ERROR: The request could not be satisfied</TITLE>\n</HEAD><BODY>\n"
            "<H1>%d ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n<HR noshade size=\"1px\">\n%s\n"
            "<BR clear=\"all\">\n<HR noshade size=\"1px\">\n<PRE>\nGenerated by cloudfront (CloudFront) [linktrack.https sandbox]\n"
            "Request ID: %s\n</PRE>\n</BODY></HTML>\n" % (status, message, request_id)
        ).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Cache", "Error from cloudfront")
        self.send_header("X-Amz-Cf-Pop", POP)
        self.send_header("X-Amz-Cf-Id", request_id)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _redirect_https(self, host, request_id):
        port = self.server.edge.https_port
        location = "https://%s%s%s" % (host, "" if port == 443 else ":%d" % port, self.path)
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "0")
        self.send_header("X-Cache", "Redirect from cloudfront")
        self.send_header("X-Amz-Cf-Pop", POP)
        self.send_header("X-Amz-Cf-Id", request_id)
        self.end_headers()

    def _handle(self):  # pylint: disable=too-many-locals,too-many-return-statements,too-many-branches
        edge = self.server.edge
        request_id = _request_id()
        body = self._read_body()
        host = re.sub(r":\d+$", "", self.headers.get("Host", "")).strip().lower().rstrip(".")
        try:
            dist = edge.catalog.distribution_for_host(host) if host else None
        except Exception as exc:  # pylint: disable=broad-except
            _LOG.warning("distribution look-up failed: %s", exc)
            return self._error(502, "The sandbox could not read the CloudFront emulator: %s" % exc, request_id)
        if dist is None:
            return self._error(403, "Bad request. No enabled distribution has the alternate domain name %r." % host, request_id)
        behavior = _behavior_for(dist, self.path)
        if self.server.scheme == "http":
            policy = behavior.get("ViewerProtocolPolicy", "allow-all")
            if policy == "redirect-to-https":
                return self._redirect_https(host, request_id)
            if policy == "https-only":
                return self._error(403, "This distribution accepts HTTPS only (ViewerProtocolPolicy https-only).", request_id)
        allowed = (behavior.get("AllowedMethods") or {}).get("Items") or ["GET", "HEAD"]
        if self.command not in allowed:
            return self._error(403, "This distribution is not configured to allow the HTTP request method %s. "
                                    "Allowed: %s." % (self.command, ", ".join(allowed)), request_id)
        origin = next((o for o in (dist.get("Origins") or {}).get("Items") or [] if o.get("Id") == behavior.get("TargetOriginId")), None)
        if origin is None:
            return self._error(502, "The cache behavior targets origin %r, which the distribution does not have." % behavior.get("TargetOriginId"), request_id)
        origin_domain = origin.get("DomainName", "").lower().rstrip(".")
        origin_port = edge.origin_ports.get(origin_domain)
        if origin_port is None:
            return self._error(502, "Bad gateway. The sandbox plays only the origins %s; this distribution's origin is %r." % (
                " and ".join(sorted(edge.origin_ports)), origin_domain), request_id)
        return self._forward(dist, origin, origin_domain, origin_port, forwarding(behavior), host, body, request_id)

    def _forward(self, dist, origin, origin_domain, origin_port, rules, host, body, request_id):  # pylint: disable=too-many-arguments,too-many-locals
        path, _sep, query = self.path.partition("?")
        target = (origin.get("OriginPath") or "") + path + ("?" + query if query and rules["query"] else "")
        headers = {}
        for name, value in self.headers.items():
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in ("host", "content-length", "expect"):
                continue
            if lower == "user-agent" and not rules["user_agent"]:
                continue
            if lower == "cookie":
                value = self._cookies(value, rules)
                if not value:
                    continue
            headers[name] = value
        headers["Host"] = host if rules["host"] else origin_domain
        if not rules["user_agent"]:
            headers["User-Agent"] = "Amazon CloudFront"
        via = "1.1 %s.cloudfront.net (CloudFront)" % hashlib.sha256(dist["Id"].encode("ascii")).hexdigest()[:32]
        headers["Via"] = (self.headers.get("Via") + ", " + via) if self.headers.get("Via") else via
        headers["X-Forwarded-For"] = ", ".join(filter(None, [self.headers.get("X-Forwarded-For"), self.client_address[0]]))
        headers["X-Amz-Cf-Id"] = request_id
        headers["CloudFront-Forwarded-Proto"] = self.server.scheme
        for custom in (origin.get("CustomHeaders") or {}).get("Items") or []:
            headers[custom["HeaderName"]] = custom["HeaderValue"]
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection("127.0.0.1", origin_port, timeout=30)
        try:
            conn.request(self.command, target, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as exc:
            return self._error(502, "Bad gateway. The origin %s did not answer: %s" % (origin_domain, exc), request_id)
        finally:
            conn.close()
        self.send_response(resp.status, resp.reason)
        for name, value in resp.getheaders():
            if name.lower() in HOP_BY_HOP or name.lower() in ("server", "date", "content-length"):
                continue
            self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
        else:
            self.send_header("Content-Length", str(len(data)))
        self.send_header("Via", via)
        self.send_header("X-Cache", "Miss from cloudfront")
        self.send_header("X-Amz-Cf-Pop", POP)
        self.send_header("X-Amz-Cf-Id", request_id)
        self.send_header("X-Sandbox-Distribution", dist["Id"])
        self.send_header("X-Sandbox-Host-Forwarded", "yes" if rules["host"] else "no")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return None

    @staticmethod
    def _cookies(value, rules):
        if rules["cookies"] == "all":
            return value
        if rules["cookies"] == "whitelist":
            keep = [part.strip() for part in value.split(";") if part.strip().split("=", 1)[0] in rules["cookie_names"]]
            return "; ".join(keep)
        return ""


class Edge:
    """Both edge listeners and their shared state."""

    def __init__(self, config, catalog, sandbox_ca, tmp_dir):
        from .settings import ORIGIN_EDC, ORIGIN_USDC  # pylint: disable=import-outside-toplevel
        ports = config["ports"]
        self.catalog = catalog
        self.https_port = ports["edge_https"]
        self.origin_ports = {ORIGIN_USDC: ports["origin_usdc"], ORIGIN_EDC: ports["origin_edc"]}
        self.certs = CertStore(catalog, sandbox_ca, tmp_dir)
        self.servers = [
            EdgeServer((config["host"], ports["edge_https"]), self, self.certs.default_context),
            EdgeServer((config["host"], ports["edge_http"]), self),
        ]
