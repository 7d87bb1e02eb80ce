# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fault-injecting HTTP proxy for the AWS emulator, on loopback only.

usage: faultproxy.py --upstream http://127.0.0.1:15000 [--port 0] [--rate 0.1]
                     [--kinds all|KIND,KIND...] [--match REGEX] [--limit N] [--per-action-limit N]
                     [--slow-seconds 2]
                     [--seed N] [--port-file FILE]

Point boto3 (``endpoint_url``) at the proxy instead of the emulator. Each AWS
request is, with probability ``--rate``, answered by a fault of one of the
chosen kinds instead of being passed through:

  throttling          HTTP 400 Throttling (ACM, JSON 1.1: ThrottlingException)
  request_limit       HTTP 400 RequestLimitExceeded
  http500             HTTP 500 InternalError (ACM: InternalFailure)
  http503             HTTP 503 ServiceUnavailable
  drop                the connection is closed before the request reaches AWS
  drop_after_forward  the request reaches AWS, the answer is lost (connection closed)
  slow                the answer comes ``--slow-seconds`` late (and is passed through)
  precondition        HTTP 412 PreconditionFailed (stale ETag); only for CloudFront
                      UpdateDistribution (PUT /2020-05-31/distribution/ID/config)

Errors come in the shape the service's protocol uses, so botocore parses the
code: ACM is JSON 1.1 (``X-Amz-Target: CertificateManager.*``, ``__type``),
CloudFront and Route 53 are REST XML (``<ErrorResponse><Error><Code>``).

``--match`` limits faults to requests whose ``service:Action`` matches the
regular expression (for example ``^cloudfront:`` or ``Create|Update|Change``).
``--limit N`` stops injecting after N faults (with ``--rate 1`` the first N
matching requests fail, the rest pass: a deterministic sequence);
``--per-action-limit N`` does the same for each ``service:Action``. The
sandbox's own endpoints (``/_sandbox/...``, ``/moto-api/...``) are passed
through and never faulted.

Control endpoints on the proxy itself:

  GET  /_faultproxy/stats   JSON counts: requests, passed, injected per kind, per action,
                            and the access key ids the requests were signed with
  POST /_faultproxy/reset   zero the counters
  GET  /_faultproxy/config  the current settings
  POST /_faultproxy/config  change settings: JSON {"rate", "kinds", "match", "limit", "per_action_limit",
                            "slow_seconds", "seed"}

It can also be used from Python: ``FaultProxy(upstream, rate=..., kinds=...)``,
``.start()``, ``.url``, ``.stats()``, ``.configure(...)``, ``.stop()``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import uuid
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

KINDS = (
    "throttling",
    "request_limit",
    "http500",
    "http503",
    "drop",
    "drop_after_forward",
    "slow",
    "precondition",
)

LOOPBACK = ("127.0.0.1", "::1", "localhost")

HOP_BY_HOP = frozenset(
    ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
     "transfer-encoding", "upgrade", "content-length", "server", "date"]
)

CLOUDFRONT_PREFIX = "/2020-05-31/"
ROUTE53_PREFIX = "/2013-04-01/"
CONTROL_PREFIXES = ("/_sandbox/", "/_sandbox", "/moto-api/")

_CREDENTIAL_RE = re.compile(r"Credential=([A-Za-z0-9]+)/")
_CF_UPDATE_RE = re.compile(r"^/2020-05-31/distribution/[^/]+/config$")


def parse_kinds(value):
    """``all`` or a comma-separated list of kinds -> tuple of kinds (ValueError when unknown)."""
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    else:
        items = [v.strip() for v in str(value).split(",")]
    items = [v for v in items if v]
    if not items or items == ["all"]:
        return KINDS
    unknown = [v for v in items if v not in KINDS]
    if unknown:
        raise ValueError("unknown fault kind(s) %s; choose from all, %s" % (", ".join(unknown), ", ".join(KINDS)))
    return tuple(dict.fromkeys(items))


def _check_loopback(host, what):
    if host not in LOOPBACK:
        raise ValueError("%s must be a loopback address (127.0.0.1, ::1, localhost), got %r" % (what, host))


# --------------------------------------------------------------------------
# What a request is
# --------------------------------------------------------------------------


def _rest_action(service, method, path, query):
    """botocore-style operation name of a CloudFront / Route 53 REST request (best effort)."""
    parts = [p for p in path.split("/") if p][1:]  # drop the API version
    if service == "cloudfront":
        if parts[:1] == ["distribution"]:
            if len(parts) == 1:
                if method == "GET":
                    return "ListDistributions"
                return "CreateDistributionWithTags" if "WithTags" in query else "CreateDistribution"
            if len(parts) == 2:
                return {"GET": "GetDistribution", "DELETE": "DeleteDistribution"}.get(method, method + "Distribution")
            if parts[2] == "config":
                return "GetDistributionConfig" if method == "GET" else "UpdateDistribution"
            if parts[2] == "invalidation":
                return "ListInvalidations" if method == "GET" else "CreateInvalidation"
        if parts[:1] == ["tagging"]:
            if method == "GET":
                return "ListTagsForResource"
            return "UntagResource" if "Untag" in query else "TagResource"
        if parts[:1] == ["conflicting-alias"]:
            return "ListConflictingAliases"
    if service == "route53":
        if parts[:1] == ["hostedzone"]:
            if len(parts) == 1:
                return "ListHostedZones" if method == "GET" else "CreateHostedZone"
            if len(parts) == 2:
                return {"GET": "GetHostedZone", "DELETE": "DeleteHostedZone"}.get(method, "UpdateHostedZoneComment")
            if parts[2] == "rrset":
                return "ListResourceRecordSets" if method == "GET" else "ChangeResourceRecordSets"
        if parts[:1] == ["hostedzonesbyname"]:
            return "ListHostedZonesByName"
        if parts[:1] == ["change"]:
            return "GetChange"
        if parts[:1] == ["tags"]:
            if method == "GET" or len(parts) == 2:
                return "ListTagsForResources" if method == "POST" else "ListTagsForResource"
            return "ChangeTagsForResource"
    return "%s %s" % (method, "/" + "/".join(parts[:1]))


def classify(method, path, query, headers):
    """Return ``(service, action, protocol, is_write)`` of one request.

    ``protocol`` is ``json`` (X-Amz-Target) or ``xml`` (REST); ``service`` is
    ``control`` for the sandbox's own endpoints.
    """
    if path.startswith(CONTROL_PREFIXES) or path == "/_sandbox":
        return "control", path, "none", False
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if target:
        prefix, _dot, action = target.partition(".")
        service = "acm" if prefix.startswith("CertificateManager") else prefix.lower()
        return service, action, "json", not action.startswith(("Describe", "List", "Get"))
    if path.startswith(CLOUDFRONT_PREFIX):
        service = "cloudfront"
    elif path.startswith(ROUTE53_PREFIX):
        service = "route53"
    else:
        auth = headers.get("Authorization") or ""
        match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
        service = match.group(1) if match else "unknown"
    action = _rest_action(service, method, path, query)
    is_write = method in ("POST", "PUT", "DELETE", "PATCH") and not action.startswith(("List", "Get", "Test"))
    return service, action, "xml", is_write


# --------------------------------------------------------------------------
# Faults in the shape of each protocol
# --------------------------------------------------------------------------

_XML_NS = {
    "cloudfront": "http://cloudfront.amazonaws.com/doc/2020-05-31/",
    "route53": "https://route53.amazonaws.com/doc/2013-04-01/",
}

_ERRORS = {
    # kind: (status, json code, xml code, message)
    "throttling": (400, "ThrottlingException", "Throttling", "Rate exceeded"),
    "request_limit": (400, "RequestLimitExceeded", "RequestLimitExceeded", "Request limit exceeded."),
    "http500": (500, "InternalFailure", "InternalError", "We encountered an internal error. Please try again."),
    "http503": (503, "ServiceUnavailable", "ServiceUnavailable", "Service is unavailable. Please try again."),
    "precondition": (412, "PreconditionFailed", "PreconditionFailed",
                     "The precondition given in one or more of the request-header fields evaluated to false."),
}


def error_response(kind, service, protocol):
    """``(status, headers, body)`` of an injected AWS error."""
    status, json_code, xml_code, message = _ERRORS[kind]
    request_id = str(uuid.uuid4())
    if protocol == "json":
        body = json.dumps({"__type": json_code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)]
        return status, headers, body
    namespace = _XML_NS.get(service, "http://%s.amazonaws.com/doc/" % service)
    sender = "Receiver" if status >= 500 else "Sender"
    body = (
        '<?xml version="1.0"?>\n<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
        "<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
        % (namespace, sender, xml_code, message, request_id)
    ).encode()
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    return status, headers, body


def applicable_kinds(kinds, service, method, path):
    """The kinds that make sense for this request (precondition: CloudFront updates only)."""
    out = []
    for kind in kinds:
        if kind == "precondition":
            if service == "cloudfront" and method == "PUT" and _CF_UPDATE_RE.match(path):
                out.append(kind)
            continue
        out.append(kind)
    return out


# --------------------------------------------------------------------------
# The proxy
# --------------------------------------------------------------------------


class _Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.passed = 0
        self.writes = 0
        self.control = 0
        self.upstream_errors = 0
        self.injected = dict((k, 0) for k in KINDS)
        self.by_action = {}
        self.access_keys = {}
        self.events = []
        self.since = time.time()

    def record(self, key, is_write, kind, access_key=None):
        with self.lock:
            self.requests += 1
            if access_key:
                self.access_keys[access_key] = self.access_keys.get(access_key, 0) + 1
            if is_write:
                self.writes += 1
            entry = self.by_action.setdefault(key, {"requests": 0, "injected": 0, "passed": 0})
            entry["requests"] += 1
            if kind is None:
                self.passed += 1
                entry["passed"] += 1
                return
            self.injected[kind] += 1
            entry["injected"] += 1
            if kind == "slow":
                # a slow answer is still an answer: it counts as passed too
                self.passed += 1
                entry["passed"] += 1
            if len(self.events) < 2000:
                self.events.append({"t": round(time.time(), 3), "action": key, "kind": kind})

    def snapshot(self):
        with self.lock:
            return {
                "requests": self.requests,
                "passed": self.passed,
                "writes": self.writes,
                "control": self.control,
                "upstream_errors": self.upstream_errors,
                "injected": dict(self.injected),
                "injected_total": sum(self.injected.values()),
                "by_action": json.loads(json.dumps(self.by_action)),
                "access_keys": dict(self.access_keys),
                "events": list(self.events),
                "since": self.since,
            }


class FaultProxy:
    """The proxy server; ``start()`` runs it on a background thread."""

    def __init__(self, upstream, host="127.0.0.1", port=0, rate=0.0, kinds="all", match=None,
                 slow_seconds=2.0, seed=None, limit=0, per_action_limit=0):
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError("upstream must be an http:// URL of the emulator, got %r" % upstream)
        _check_loopback(parts.hostname, "upstream host")
        _check_loopback(host, "listen host")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.lock = threading.Lock()
        self.stats_ = _Stats()
        self.rate = 0.0
        self.kinds = KINDS
        self.match = None
        self.limit = 0
        self.per_action_limit = 0
        self._chosen = 0  # faults chosen since the last reset (for limit)
        self._chosen_by_action = {}
        self.slow_seconds = 2.0
        self.rng = random.Random(seed)
        self.configure(rate=rate, kinds=kinds, match=match, slow_seconds=slow_seconds, limit=limit,
                       per_action_limit=per_action_limit)
        handler = type("FaultProxyHandler", (_Handler,), {"proxy": self})
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("FaultProxyServer", (ThreadingHTTPServer,), {"address_family": family})
        self.server = server_class((host, port), handler)
        self.server.daemon_threads = True
        self.thread = None

    # ---- settings --------------------------------------------------------

    def configure(self, rate=None, kinds=None, match=None, slow_seconds=None, seed=None, limit=None,
                  per_action_limit=None):
        with self.lock:
            if per_action_limit is not None:
                per_action_limit = int(per_action_limit)
                if per_action_limit < 0:
                    raise ValueError("per_action_limit must be 0 (no limit) or more, got %r" % per_action_limit)
                self.per_action_limit = per_action_limit
            if limit is not None:
                limit = int(limit)
                if limit < 0:
                    raise ValueError("limit must be 0 (no limit) or more, got %r" % limit)
                self.limit = limit
            if rate is not None:
                rate = float(rate)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError("rate must be between 0 and 1, got %r" % rate)
                self.rate = rate
            if kinds is not None:
                self.kinds = parse_kinds(kinds)
            if match is not None:
                self.match = re.compile(match) if match else None
            if slow_seconds is not None:
                slow_seconds = float(slow_seconds)
                if slow_seconds < 0:
                    raise ValueError("slow_seconds must not be negative")
                self.slow_seconds = slow_seconds
            if seed is not None:
                self.rng.seed(seed)
            return self.config()

    def config(self):
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "match": self.match.pattern if self.match else "",
            "limit": self.limit,
            "per_action_limit": self.per_action_limit,
            "slow_seconds": self.slow_seconds,
            "upstream": "http://%s:%d" % (self.upstream_host, self.upstream_port),
        }

    def choose(self, service, action, method, path):
        """The fault for this request, or None to pass it through."""
        with self.lock:
            if self.rate <= 0.0:
                return None
            if self.match is not None and not self.match.search("%s:%s" % (service, action)):
                return None
            candidates = applicable_kinds(self.kinds, service, method, path)
            if not candidates:
                return None
            key = "%s:%s" % (service, action)
            if self.limit and self._chosen >= self.limit:
                return None
            if self.per_action_limit and self._chosen_by_action.get(key, 0) >= self.per_action_limit:
                return None
            if self.rng.random() >= self.rate:
                return None
            self._chosen += 1
            self._chosen_by_action[key] = self._chosen_by_action.get(key, 0) + 1
            return self.rng.choice(candidates)

    # ---- life cycle ------------------------------------------------------

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        host = self.server.server_address[0]
        return "http://%s:%d" % ("[%s]" % host if ":" in host else host, self.port)

    def stats(self):
        return self.stats_.snapshot()

    def reset(self):
        with self.lock:
            self._chosen = 0
            self._chosen_by_action = {}
        with self.stats_.lock:
            self.stats_.reset()

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="faultproxy", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self):
        self.server.serve_forever(poll_interval=0.1)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(5)

    # ---- hooks for subclasses: answers the emulator cannot give ------------

    def intercept(self, method, path, headers, body):
        """An answer ``(status, headers, body)`` to send instead of forwarding, or None; ``path`` has the query."""
        return None

    def rewrite(self, headers, body):
        """The emulator's answer body as the client gets it; unchanged here."""
        return body

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy = None  # set per FaultProxy by a subclass
    server_version = "linktrack-faultproxy"

    def log_message(self, fmt, *args):  # quiet
        return

    # every method goes through the same path
    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, headers, body):
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status, data):
        self._send(status, [("Content-Type", "application/json")], json.dumps(data, indent=1, sort_keys=True).encode())

    def _drop(self):
        """Close the connection without an answer (reset, so the client sees it at once)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _control(self, path, body):
        proxy = self.proxy
        if path == "/_faultproxy/stats" and self.command == "GET":
            return self._send_json(200, dict(proxy.stats(), config=proxy.config()))
        if path in ("/_faultproxy/reset", "/_faultproxy/stats/reset") and self.command == "POST":
            proxy.reset()
            return self._send_json(200, {"reset": True})
        if path == "/_faultproxy/config":
            if self.command == "GET":
                return self._send_json(200, proxy.config())
            if self.command == "POST":
                try:
                    settings = json.loads(body or b"{}")
                    allowed = ("rate", "kinds", "match", "limit", "per_action_limit", "slow_seconds", "seed")
                    unknown = sorted(set(settings) - set(allowed))
                    if unknown:
                        raise ValueError("unknown setting(s) %s; allowed: %s" % (", ".join(unknown), ", ".join(allowed)))
                    return self._send_json(200, proxy.configure(**settings))
                except (ValueError, TypeError, re.error) as exc:
                    return self._send_json(400, {"error": str(exc)})
        return self._send_json(404, {"error": "unknown faultproxy endpoint %s %s" % (self.command, path)})

    def _forward(self, body):
        proxy = self.proxy
        conn = HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
        try:
            headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP)
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, out, data
        finally:
            conn.close()

    def _handle(self):
        proxy = self.proxy
        body = self._read_body()
        path, _q, query = self.path.partition("?")
        if path.startswith("/_faultproxy/"):
            return self._control(path, body)
        service, action, protocol, is_write = classify(self.command, path, query, self.headers)
        key = "%s:%s" % (service, action)
        if service == "control":
            with proxy.stats_.lock:
                proxy.stats_.control += 1
            kind = None
        else:
            kind = proxy.choose(service, action, self.command, path)
            match = _CREDENTIAL_RE.search(self.headers.get("Authorization") or "")
            proxy.stats_.record(key, is_write, kind, match.group(1) if match else None)
        if kind == "drop":
            return self._drop()
        if kind in _ERRORS:
            return self._send(*error_response(kind, service, protocol))
        if kind == "slow":
            time.sleep(proxy.slow_seconds)
        answer = proxy.intercept(self.command, self.path, self.headers, body)
        if answer is not None:
            return self._send(*answer)
        try:
            status, headers, data = self._forward(body)
            data = proxy.rewrite(self.headers, data)
        except (OSError, ValueError) as exc:
            with proxy.stats_.lock:
                proxy.stats_.upstream_errors += 1
            return self._send(502, [("Content-Type", "text/plain")], ("faultproxy: upstream failed: %s" % exc).encode())
        if kind == "drop_after_forward":
            return self._drop()
        return self._send(status, headers, data)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True, help="the emulator's URL, e.g. http://127.0.0.1:15000")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (loopback only)")
    parser.add_argument("--port", type=int, default=0, help="listen port (0: any free port)")
    parser.add_argument("--rate", type=float, default=0.1, help="share of AWS requests that get a fault, 0..1")
    parser.add_argument("--kinds", default="all", help="all, or a comma-separated list of: " + ", ".join(KINDS))
    parser.add_argument("--match", default="", help="fault only requests whose service:Action matches this regex")
    parser.add_argument("--limit", type=int, default=0, help="inject at most this many faults (0: no limit)")
    parser.add_argument("--per-action-limit", type=int, default=0,
                        help="inject at most this many faults per service:Action (0: no limit)")
    parser.add_argument("--slow-seconds", type=float, default=2.0, help="delay of a slow answer")
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible fault sequence)")
    parser.add_argument("--port-file", help="write the listening port to this file once ready")
    args = parser.parse_args(argv)
    try:
        proxy = FaultProxy(args.upstream, host=args.host, port=args.port, rate=args.rate, kinds=args.kinds,
                           match=args.match, slow_seconds=args.slow_seconds, seed=args.seed, limit=args.limit,
                           per_action_limit=args.per_action_limit)
    except (ValueError, re.error, OSError) as exc:
        parser.error(str(exc))
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as handle:
            handle.write("%d\n" % proxy.port)
        os.replace(args.port_file + ".tmp", args.port_file)
    print("faultproxy: %s -> %s rate=%s kinds=%s" % (proxy.url, proxy.config()["upstream"], proxy.rate,
                                                     ",".join(proxy.kinds)), flush=True)

    def _stop(_signum, _frame):
        threading.Thread(target=proxy.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        proxy.serve_forever()
    finally:
        proxy.server.server_close()
        print("faultproxy: stopped; %s" % json.dumps({k: v for k, v in proxy.stats().items()
                                                      if k in ("requests", "passed", "injected_total")}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
