# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWS emulator: moto's server app behind a WSGI layer that counts requests.

Extra endpoints on the AWS port:
  GET  /_sandbox/stats          request counts as JSON
  POST /_sandbox/stats/reset    zero the counts
  POST /_sandbox/reset          moto reset + the sandbox hosted zones again + zero the counts + forget foreign aliases
  POST /moto-api/reset          the same as /_sandbox/reset (so the zones always exist)
  GET  /_sandbox/cloudfront/foreign-aliases   the aliases held by distributions of "other accounts"
  POST /_sandbox/cloudfront/foreign-aliases   replace them: a JSON list of names (wildcards allowed);
                                CreateDistribution/UpdateDistribution with an alias that is or
                                overlaps one of them answer CNAMEAlreadyExists (SANDBOX_AWS_BEHAVIOUR=aws)
Requests carrying the header X-Sandbox-Internal (the sandbox's own look-ups)
are counted apart, as "internal", never in the totals.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import io
import json
import logging
import re
import threading
from urllib.parse import parse_qs

INTERNAL_HEADER = "X-Sandbox-Internal"
_READ_PREFIXES = ("Describe", "List", "Get")
_REST_READ_PREFIXES = ("Describe", "List", "Get", "Test")
_WRITE_METHODS = ("POST", "PUT", "DELETE", "PATCH")
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_PATH_SERVICES = (("/2020-05-31/", "cloudfront"), ("/2013-04-01/", "route53"))
_LOG = logging.getLogger("sandbox.aws")


class Generation:
    """A counter bumped after every change to the emulator, so caches know to refresh."""

    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    def bump(self):
        with self._lock:
            self._value += 1

    @property
    def value(self):
        return self._value


class RestRoutes:
    """Names REST API calls (method + path) after botocore's operation names."""

    def __init__(self):
        self._routes = {}
        self._lock = threading.Lock()

    def _load(self, service):
        import botocore.session  # pylint: disable=import-outside-toplevel
        routes = []
        try:
            model = botocore.session.get_session().get_service_model(service)
        except Exception:  # pylint: disable=broad-except
            return routes
        for name in model.operation_names:
            http = model.operation_model(name).http
            uri = http.get("requestUri", "/")
            path, _sep, query = uri.partition("?")
            pattern = ""
            literal = 0
            for part in re.split(r"(\{[^}]+\})", path.rstrip("/") or "/"):
                if part.startswith("{"):
                    pattern += ".+" if part.endswith("+}") else "[^/]+"
                else:
                    pattern += re.escape(part)
                    literal += len(part)
            required = []
            for item in query.split("&") if query else []:
                key, _eq, value = item.partition("=")
                required.append((key, value))
            routes.append((http.get("method", "GET"), re.compile("^" + pattern + "/?$"), required, literal, name))
        return routes

    def operation(self, service, method, path, query):
        with self._lock:
            if service not in self._routes:
                self._routes[service] = self._load(service)
            routes = self._routes[service]
        params = parse_qs(query, keep_blank_values=True)
        best = None
        for route_method, regex, required, literal, name in routes:
            if route_method != method or not regex.match(path):
                continue
            if any(key not in params or (value and value not in params[key]) for key, value in required):
                continue
            rank = (len(required), literal)
            if best is None or rank > best[0]:
                best = (rank, name)
        return best[1] if best else None


_REST = RestRoutes()


def classify(environ, body=b""):
    """(service, action, is_write) for one AWS request."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "/") or "/"
    query = environ.get("QUERY_STRING", "")
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else ""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _dot, action = target.rpartition(".")
        if not service:
            service = "acm" if prefix.startswith("CertificateManager") else prefix.lower() or "unknown"
        return service, action, not action.startswith(_READ_PREFIXES)
    if not service:
        service = next((name for start, name in _PATH_SERVICES if path.startswith(start)), "unknown")
    if method == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        if action:
            return service, action, not action.startswith(_READ_PREFIXES)
    action = _REST.operation(service, method, path, query) or "%s %s" % (method, path)
    return service, action, method in _WRITE_METHODS and not action.startswith(_REST_READ_PREFIXES)


class Stats:
    """Thread-safe request counters."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._data = {
                "total": 0, "writes": 0, "reads": 0, "errors": 0, "internal": 0,
                "actions": {}, "write_actions": {},
                "since": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            }

    def count(self, service, action, is_write, status):
        key = "%s:%s" % (service, action)
        with self._lock:
            data = self._data
            data["total"] += 1
            data["writes" if is_write else "reads"] += 1
            if status >= 400:
                data["errors"] += 1
            data["actions"][key] = data["actions"].get(key, 0) + 1
            if is_write:
                data["write_actions"][key] = data["write_actions"].get(key, 0) + 1

    def count_internal(self):
        with self._lock:
            self._data["internal"] += 1

    def snapshot(self):
        with self._lock:
            return json.loads(json.dumps(self._data))


class SandboxAwsApp:
    """WSGI middleware around moto's app: counting, stats and reset endpoints."""

    def __init__(self, moto_app, reset_callback, generation=None):
        self.moto_app = moto_app
        self.reset_callback = reset_callback
        self.generation = generation or Generation()
        self.stats = Stats()
        self._reset_lock = threading.Lock()

    @staticmethod
    def _json(start_response, status, payload):
        body = (json.dumps(payload, indent=1, sort_keys=True) + "\n").encode("utf-8")
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _sandbox_endpoint(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "").rstrip("/")
        if path == "/_sandbox/stats" and method == "GET":
            return self._json(start_response, "200 OK", self.stats.snapshot())
        if path == "/_sandbox/stats/reset" and method == "POST":
            self.stats.reset()
            return self._json(start_response, "200 OK", {"reset": "stats"})
        if path == "/_sandbox/cloudfront/foreign-aliases":
            return self._foreign_aliases(environ, start_response, method)
        if path in ("/_sandbox/reset", "/moto-api/reset") and method == "POST":
            with self._reset_lock:
                self.reset_callback()
                self.stats.reset()
                self.generation.bump()
            return self._json(start_response, "200 OK", {"reset": "aws"})
        return self._json(start_response, "404 Not Found", {"error": "unknown sandbox endpoint %s %s" % (method, path)})

    def _foreign_aliases(self, environ, start_response, method):
        from . import realism_cloudfront  # pylint: disable=import-outside-toplevel
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            try:
                realism_cloudfront.set_foreign_aliases(json.loads(raw.decode("utf-8") or "null"))
            except ValueError as exc:
                return self._json(start_response, "400 Bad Request", {"error": "foreign aliases: %s" % exc})
            self.generation.bump()
        elif method != "GET":
            return self._json(start_response, "405 Method Not Allowed", {"error": "GET or POST a JSON list of aliases"})
        return self._json(start_response, "200 OK", {"foreign_aliases": realism_cloudfront.foreign_aliases(),
                                                     "enforced": realism_cloudfront.enforced()})

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox/") or path.rstrip("/") == "/moto-api/reset":
            return self._sandbox_endpoint(environ, start_response)
        if path.startswith("/moto-api"):
            return self.moto_app(environ, start_response)
        body = b""
        if environ.get("REQUEST_METHOD", "GET").upper() == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        status_holder = []

        def _start_response(status, headers, exc_info=None):
            status_holder.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        internal = bool(environ.get("HTTP_" + INTERNAL_HEADER.upper().replace("-", "_")))
        service, action, is_write = classify(environ, body)
        result = self.moto_app(environ, _start_response)
        status = status_holder[0] if status_holder else 500
        if is_write:
            self.generation.bump()
        if internal:
            self.stats.count_internal()
        else:
            self.stats.count(service, action, is_write, status)
            _LOG.debug("counted %s:%s write=%s status=%s", service, action, is_write, status)
        return result


def serialize_token_creates():
    """Make moto's create-once-per-token calls atomic, as AWS documents them.

    ACM issues one certificate per ``IdempotencyToken``, CloudFront one
    distribution per ``CallerReference``. moto checks the token, then creates
    the resource, then records it, in whichever server thread took the request:
    ACM's certificate generation (a key and a signature) takes milliseconds, so
    two requests at once with one token made two certificates (8 threads at
    once gave 8 ARNs). Each of the two calls now runs under a lock of its own.
    """
    # pylint: disable=import-outside-toplevel
    from moto.acm.models import AWSCertificateManagerBackend
    from moto.cloudfront.models import CloudFrontBackend
    for cls, name in ((AWSCertificateManagerBackend, "request_certificate"),
                      (CloudFrontBackend, "create_distribution_with_tags")):
        method = getattr(cls, name)
        if not getattr(method, "sandbox_locked", False):
            setattr(cls, name, _locked(method))


def route53_listing_order():
    """Make moto list record sets in Route 53's order: reversed labels *with* the trailing dot.

    Route 53 API Reference, ListResourceRecordSets, "Sort order": results are
    sorted "by DNS name with the labels reversed, for example: com.example.www.
    Note the trailing dot, which can change the sort order when the record name
    contains characters that appear before . (decimal 46)", such as ``-``.
    moto 5.2 sorts and starts pages (StartRecordName) on the reversed name
    without the dot, so ``links-a.example.com`` came before
    ``links.example.com``; the collection pages in Route 53's order only. moto
    already sorts hosted zones with the dot (ListHostedZonesByName).
    """
    # pylint: disable=import-outside-toplevel
    from moto.route53 import models
    if getattr(models.reverse_domain_name, "sandbox_route53_order", False):
        return

    def reverse_domain_name(domain_name):
        return ".".join(reversed(domain_name.rstrip(".").split("."))) + "."
    reverse_domain_name.sandbox_route53_order = True
    models.reverse_domain_name = reverse_domain_name


def _locked(method):
    lock = threading.Lock()

    def call(self, *args, **kwargs):
        with lock:
            return method(self, *args, **kwargs)
    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    call.sandbox_locked = True
    return call


PRIVATE_ZONE_VPC = ("vpc-0sandbox00000001", "us-east-1")


def private_zone_id_for(zone):
    """The fixed id of the private hosted zone that shares the sandbox zone's name (SANDBOX_R53_PRIVATE_ZONE_ID)."""
    from .settings import zone_id_for  # pylint: disable=import-outside-toplevel
    return zone_id_for(zone + "/private")


def create_zone(zone, zone_id, account_id):
    """Create the sandbox's public hosted zone in moto, with a fixed id, and the private zone of the same name.

    Route 53 lets a private and a public hosted zone share a name (split-view
    DNS, "Working with private hosted zones" in the Route 53 Developer Guide), so
    code that picks a zone by name alone may pick the private one. The private
    zone ``private_zone_id_for(zone)`` exists beside the public one at start and
    after every reset; the Route 53 DNS stand-in never serves it.
    """
    # pylint: disable=import-outside-toplevel
    from moto.route53.models import HostedZoneIdentifier, route53_backends
    from moto.utilities.id_generator import moto_id_manager
    name = zone.rstrip(".") + "."
    moto_id_manager.set_custom_id(HostedZoneIdentifier(account_id, name, None), zone_id)
    backend = route53_backends[account_id]["aws"]
    if zone_id not in backend.zones:
        backend.create_hosted_zone(name, private_zone=False, caller_reference="linktrack-sandbox-" + zone,
                                   comment="linktrack.https sandbox zone")
    private_id = private_zone_id_for(zone)
    if private_id not in backend.zones:
        private = backend.create_hosted_zone(name, private_zone=True, caller_reference="linktrack-sandbox-private-" + zone,
                                             vpcid=PRIVATE_ZONE_VPC[0], vpcregion=PRIVATE_ZONE_VPC[1],
                                             comment="linktrack.https sandbox: a private zone with the public zone's name")
        backend.zones.pop(private.resource_id, None)
        private.resource_id = private_id
        backend.zones[private_id] = private
    return zone_id


def build(config, generation):
    """The counted moto WSGI app; the hosted zone is created as a side effect."""
    # pylint: disable=import-outside-toplevel
    from moto.moto_api._internal.models import moto_api_backend
    from moto.server import DomainDispatcherApplication, create_backend_app

    serialize_token_creates()
    route53_listing_order()
    moto_app = DomainDispatcherApplication(create_backend_app)

    def reset():
        from . import realism_cloudfront
        moto_api_backend.reset()
        realism_cloudfront.reset()
        create_zone(config["zone"], config["zone_id"], config["account_id"])
        _LOG.info("moto reset; zone %s (%s, private twin %s) created again", config["zone"], config["zone_id"],
                  private_zone_id_for(config["zone"]))

    create_zone(config["zone"], config["zone_id"], config["account_id"])
    return SandboxAwsApp(moto_app, reset, generation)
