# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The origin stand-in: plays links.iterable.com (usdc) and links.eu.iterable.com (edc).

Every answer says which region it came from (X-Iterable-Region, X-Iterable-Origin)
and which Host it received (X-Received-Host). A Host that is neither the origin's
own name nor inside the sandbox zone or a Route 53 hosted zone gets a 404.

Test hook: <state dir>/origin-overrides.json maps a host (or "*") to settings:
  {"bad.example.com": {"deep_links": "missing"}}
deep_links: "missing" (404), "html" (200 text/html), "invalid_json" (200 application/json, not JSON),
"error" (503).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import http.server
import json
import logging
import os
import re
import threading
from urllib.parse import parse_qs, urlsplit

from .edge import ThreadingServer

_LOG = logging.getLogger("sandbox.origin")
AASA = "/.well-known/apple-app-site-association"
ASSETLINKS = "/.well-known/assetlinks.json"
DEFAULT_DESTINATION = "https://www.example.com/"
DEEP_LINK_MODES = ("missing", "html", "invalid_json", "error")


class Overrides:
    """Reads origin-overrides.json again whenever it changes."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._stamp = None
        self._data = {}

    def for_host(self, host):
        try:
            stat = os.stat(self.path)
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            return {}
        with self._lock:
            if stamp != self._stamp:
                try:
                    with open(self.path, "r", encoding="utf-8") as handle:
                        data = json.load(handle)
                    self._data = data if isinstance(data, dict) else {}
                except (OSError, ValueError) as exc:
                    _LOG.warning("ignoring %s: %s", self.path, exc)
                    self._data = {}
                self._stamp = stamp
            merged = dict(self._data.get("*") or {})
            merged.update(self._data.get(host) or {})
            return merged


def deep_link_documents(host):
    """The apple-app-site-association and assetlinks.json documents for ``host`` (deterministic)."""
    digest = hashlib.sha256(host.encode("utf-8")).hexdigest().upper()
    team = digest[:10]
    fingerprint = ":".join(digest[i:i + 2] for i in range(0, 64, 2))
    aasa = {
        "applinks": {
            "apps": [],
            "details": [{"appID": "%s.com.example.linktrack" % team, "paths": ["/a/*", "/u/*"]}],
        }
    }
    assetlinks = [{
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {"namespace": "android_app", "package_name": "com.example.linktrack", "sha256_cert_fingerprints": [fingerprint]},
    }]
    return aasa, assetlinks


class OriginServer(ThreadingServer):
    """One origin listener (one region)."""

    def __init__(self, address, region, own_name, knows_host, overrides):
        self.region = region
        self.own_name = own_name
        self.knows_host = knows_host
        self.overrides = overrides
        super().__init__(address, OriginHandler)


class OriginHandler(http.server.BaseHTTPRequestHandler):
    """Answers like Iterable's link host, in the small."""

    protocol_version = "HTTP/1.1"
    timeout = 30

    def version_string(self):
        return "linktrack-sandbox-origin"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        _LOG.info("%s %s", self.server.region, format % args)

    def do_GET(self):  # pylint: disable=invalid-name
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _send(self, status, content_type, body, extra=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Iterable-Region", self.server.region)
        self.send_header("X-Iterable-Origin", self.server.own_name)
        self.send_header("X-Received-Host", self._host())
        self.send_header("X-Received-User-Agent", self.headers.get("User-Agent", ""))
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _host(self):
        return re.sub(r":\d+$", "", self.headers.get("Host", "")).strip().lower().rstrip(".")

    def _known(self, host):
        if not host:
            return False
        if host == self.server.own_name:
            return True
        try:
            return self.server.knows_host(host)
        except Exception as exc:  # pylint: disable=broad-except
            _LOG.warning("host look-up failed: %s", exc)
            return False

    def _handle(self):  # pylint: disable=too-many-return-statements
        host = self._host()
        if not self._known(host):
            return self._send(404, "text/plain; charset=utf-8",
                              "404 unknown tracking domain %r: %s (%s) serves only its own name and domains "
                              "set up for this project\n" % (host, self.server.own_name, self.server.region))
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        if url.path in (AASA, ASSETLINKS):
            return self._deep_link(host, url.path)
        if url.path == "/a/click" or url.path.startswith("/u/"):
            destination = (params.get("_u") or [""])[0]
            if url.path == "/a/click" and not destination:
                return self._send(400, "text/plain; charset=utf-8", "400 the click link has no _u destination\n")
            destination = destination or DEFAULT_DESTINATION
            if urlsplit(destination).scheme not in ("http", "https"):
                return self._send(400, "text/plain; charset=utf-8", "400 the destination %r is not an http(s) URL\n" % destination)
            return self._send(302, "text/html; charset=utf-8", '<a href="%s">Moved</a>\n' % destination,
                              {"Location": destination, "Set-Cookie": "iterableEmailCampaignId=0; Path=/; Secure"})
        if url.path == "/":
            return self._send(200, "text/plain; charset=utf-8",
                              "%s (%s) sandbox link host, serving %s\n" % (self.server.own_name, self.server.region, host))
        return self._send(404, "text/plain; charset=utf-8", "404 not found: %s\n" % url.path)

    def _deep_link(self, host, path):
        mode = self.server.overrides.for_host(host).get("deep_links")
        if mode == "missing":
            return self._send(404, "text/plain; charset=utf-8", "404 no deep-link file for %s\n" % host)
        if mode == "html":
            return self._send(200, "text/html; charset=utf-8", "<html><body>not a deep-link file</body></html>\n")
        if mode == "invalid_json":
            return self._send(200, "application/json", "{not json\n")
        if mode == "error":
            return self._send(503, "text/plain; charset=utf-8", "503 service unavailable\n")
        aasa, assetlinks = deep_link_documents(host)
        return self._send(200, "application/json", json.dumps(aasa if path == AASA else assetlinks, indent=1) + "\n")


def build(config, catalog, overrides_path):
    """The two origin listeners."""
    from .settings import ORIGIN_EDC, ORIGIN_USDC  # pylint: disable=import-outside-toplevel
    overrides = Overrides(overrides_path)
    host = config["host"]
    ports = config["ports"]
    return [
        OriginServer((host, ports["origin_usdc"]), "usdc", ORIGIN_USDC, catalog.knows_host, overrides),
        OriginServer((host, ports["origin_edc"]), "edc", ORIGIN_EDC, catalog.knows_host, overrides),
    ]
