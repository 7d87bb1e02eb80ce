# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A proxy in front of the sandbox's AWS emulator that answers some requests the
way real AWS does where the emulator cannot: an alias held by another account
(CloudFront's CNAMEAlreadyExists), a certificate that stays in
PENDING_VALIDATION, a certificate that failed validation. Everything else goes
to the emulator unchanged. Used to capture the real error messages the
modules give in those cases (tests/ecosystem/test_troubleshooting.py), and to
count the AWS requests of one run (``requests``), which the sandbox's own
counters cannot tell apart when tests run in parallel.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}

CNAME_ALREADY_EXISTS = (
    b'<?xml version="1.0"?>\n<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
    b"<Error><Type>Sender</Type><Code>CNAMEAlreadyExists</Code><Message>One or more of the CNAMEs you provided "
    b"are already associated with a different resource.</Message></Error>"
    b"<RequestId>5f1b5c1e-0000-4000-8000-linktracktest</RequestId></ErrorResponse>"
)


class FaultProxy:
    """Forwards to ``backend``; ``taken_aliases``, ``pending_domains`` and
    ``failed_domains`` (sets of domain names) pick what is answered like AWS."""

    def __init__(self, backend_url):
        self.backend = urlparse(backend_url)
        self.taken_aliases = set()
        self.pending_domains = set()
        self.failed_domains = {}  # domain -> FailureReason
        self.faults = []
        self.requests = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _relay(self):
                with proxy._lock:
                    proxy.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_HEADERS]
                answer = proxy.intercept(self.command, self.path, self.headers, body)
                if answer is None:
                    status, rheaders, rbody = proxy.forward(self.command, self.path, headers, body)
                    rbody = proxy.rewrite(self.headers, rbody)
                else:
                    status, rheaders, rbody = answer
                self.send_response(status)
                for k, v in rheaders:
                    if k.lower() not in HOP_HEADERS and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(rbody)))
                self.end_headers()
                self.wfile.write(rbody)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _note(self, what):
        with self._lock:
            self.faults.append(what)

    def intercept(self, method, path, headers, body):
        if method == "POST" and path.startswith("/2020-05-31/distribution") and "WithTags" in path:
            for alias in self.taken_aliases:
                if ("<CNAME>%s</CNAME>" % alias).encode() in body:
                    self._note("CNAMEAlreadyExists %s" % alias)
                    return 409, [("Content-Type", "text/xml")], CNAME_ALREADY_EXISTS
        return None

    def rewrite(self, headers, body):
        if headers.get("X-Amz-Target") != "CertificateManager.DescribeCertificate":
            return body
        try:
            data = json.loads(body.decode())
        except ValueError:
            return body
        cert = data.get("Certificate") or {}
        domain = (cert.get("DomainName") or "").lower()
        if domain in self.pending_domains and cert.get("Status") == "ISSUED":
            cert["Status"] = "PENDING_VALIDATION"
            for option in cert.get("DomainValidationOptions") or []:
                option["ValidationStatus"] = "PENDING_VALIDATION"
            self._note("PENDING_VALIDATION %s" % domain)
        elif domain in self.failed_domains and cert.get("Status") == "ISSUED":
            # validation fails later, as on AWS: the request itself is accepted
            cert["Status"] = "FAILED"
            cert["FailureReason"] = self.failed_domains[domain]
            for option in cert.get("DomainValidationOptions") or []:
                option["ValidationStatus"] = "FAILED"
            self._note("FAILED %s" % domain)
        else:
            return body
        return json.dumps(data).encode()

    def forward(self, method, path, headers, body):
        conn = http.client.HTTPConnection(self.backend.hostname, self.backend.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
