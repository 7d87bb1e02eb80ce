# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The click prober: clicks a tracking domain's links while a migration runs, the way a mail reader would.

Every ``interval`` seconds (0.1 by default) it clicks one ``http://`` and one
``https://`` tracking link, ``/a/click?_u=<target>`` with a target of its own per
click, in two threads (one per scheme, so a slow click of one does not delay the
other). Each click:

1. resolves the tracking domain as a client would, but without a cache: it asks
   the zone's authoritative server in the sandbox (BIND for the RFC 2136 zone,
   the Route 53 stand-in for Route 53) for the name's A record, and follows a
   CNAME to ``*.cloudfront.net`` through the Route 53 stand-in, which serves the
   zone ``cloudfront.net`` (A 127.0.0.1 for every distribution's name);
2. connects where the answer points: a CNAME to ``links.iterable.com`` or
   ``links.eu.iterable.com`` goes to that origin stand-in (which speaks plain HTTP
   only: Iterable's link host holds no certificate for a customer's domain, so an
   ``https://`` click there fails, as it does on the internet); a CNAME to a
   ``dXXXX.cloudfront.net`` name or an address the Route 53 stand-in gives to
   distributions goes to the edge stand-in (HTTP or HTTPS with the domain as SNI,
   the certificate verified against the sandbox CA and the name);
3. follows redirects that stay on the tracking domain (the edge's 301 from
   ``http://`` to ``https://`` with ``redirect-to-https``), resolving again, and
   records the last answer: it is good only if it is a redirect to the click's own
   target.

With ``cache=True`` the prober resolves like a mail reader behind a caching
resolver instead: the tracking domain's own answer (its CNAME, or its A record
for an alias) is kept for that answer's TTL (RFC 1035 section 3.2.1, RFC 2181
section 8) and used by both schemes' clicks until it expires, so after a record
changes the clicks keep going where the old answer pointed for up to its TTL.
Answers that point nowhere (NXDOMAIN, errors) are not kept. Each click records
whether its first answer came from the cache (``dns.cached``).

A click waits as a mail reader's browser would, only shorter: the DNS look-up
retries like a stub resolver (UDP, UDP again, TCP; ``timeout`` seconds in all,
5 by default) and each connection waits up to ``timeout`` seconds.

Each click is recorded with its start time, duration, the DNS answer, where it
connected, every hop's status, the final redirect target, the certificate served
(serial and names) and, on failure, the reason.

The cutover is marked from the prober's own answers: the first DNS answer that
points at the edge (``cutover_at``), and after that the first that points back at
an origin (``revert_at``, a teardown with ``revert``). Callers may add marks of
their own (``mark``), for example the playbook's TLS check result.

It is bounded: it stops by itself after ``max_seconds`` or ``max_clicks`` clicks
per scheme, whichever comes first, and on ``stop()``.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.client
import socket
import ssl
import threading
import time
from urllib.parse import quote, urlsplit

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

CLOUDFRONT_SUFFIX = ".cloudfront.net"
# What the Route 53 stand-in answers for every distribution's dXXXX.cloudfront.net name (r53dns.cloudfront_zone).
EDGE_ADDRESSES = frozenset(("127.0.0.1", "::1"))
REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 4


class Resolution:
    """Where one DNS look-up of the tracking domain points."""

    def __init__(self, kind, answer, target=None, error=None, ttl=None):
        self.kind = kind  # "origin", "edge", "none" (NXDOMAIN, NODATA, no answer)
        self.answer = answer  # short text of what the server answered
        self.target = target  # origin name or distribution name (None for an alias answer)
        self.error = error
        self.ttl = ttl  # the TTL of the domain's own answer (CNAME, or A for an alias)
        self.cached = False

    def as_dict(self):
        return {"kind": self.kind, "answer": self.answer, "target": self.target, "error": self.error,
                "ttl": self.ttl, "cached": self.cached}


class Prober:
    """Clicks http:// and https:// tracking links on ``domain`` until stopped or a bound is reached.

    ``dns_server``/``dns_port``: the authoritative server of the domain's zone.
    ``cloudfront_dns``: (server, port) that answers for ``*.cloudfront.net`` (the Route 53 stand-in).
    ``origins``: {"links.iterable.com": port, "links.eu.iterable.com": port} of the origin stand-ins.
    ``edge``: (host, http port, https port) of the edge stand-in. ``ca_bundle``: the sandbox CA.
    """

    def __init__(self, domain, dns_server, dns_port, cloudfront_dns, origins, edge, ca_bundle,
                 interval=0.1, max_seconds=300.0, max_clicks=3000, timeout=5.0,
                 target="https://www.example.com/landing", cache=False):
        self.domain = domain.rstrip(".").lower()
        self.dns = (dns_server, int(dns_port))
        self.cloudfront_dns = (cloudfront_dns[0], int(cloudfront_dns[1]))
        self.origins = {name.lower(): int(port) for name, port in origins.items()}
        self.edge_host, self.edge_http_port, self.edge_https_port = edge[0], int(edge[1]), int(edge[2])
        self.ca_bundle = ca_bundle
        self.interval = float(interval)
        self.max_seconds = float(max_seconds)
        self.max_clicks = int(max_clicks)
        self.timeout = float(timeout)
        self.target = target
        self.cache = bool(cache)
        self._cached = None  # (expires at, Resolution) of the caching resolver
        self.clicks = []
        self.marks = []
        self.cutover_at = None
        self.revert_at = None
        self.started_at = None
        self.stopped_at = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._verify = ssl.create_default_context(cafile=ca_bundle)

    # ---- life cycle ------------------------------------------------------

    def start(self):
        self.started_at = time.time()
        self.mark("prober started", self.started_at)
        for scheme in ("http", "https"):
            thread = threading.Thread(target=self._loop, args=(scheme,), name="prober-%s" % scheme, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout * (MAX_HOPS + 2) + 5)
        if self.stopped_at is None:
            self.stopped_at = time.time()
            self.mark("prober stopped", self.stopped_at)
        return self

    def running(self):
        return any(thread.is_alive() for thread in self._threads)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def mark(self, label, when=None):
        with self._lock:
            self.marks.append({"t": time.time() if when is None else when, "label": label})

    def _loop(self, scheme):
        base = time.time()
        count = 0
        while not self._stop.is_set() and count < self.max_clicks and time.time() - self.started_at < self.max_seconds:
            count += 1
            record = self.click(scheme, count)
            with self._lock:
                self.clicks.append(record)
            # the next slot on the 100 ms grid; a click that took longer moves to the next free slot
            base += self.interval
            now = time.time()
            if base < now:
                base = now
            self._stop.wait(base - now)

    # ---- DNS -------------------------------------------------------------

    def _query(self, server, name, rdtype="A"):
        """Ask like a stub resolver: UDP, again after a lost answer with a longer wait, then TCP (5 s in all by default)."""
        query = dns.message.make_query(name, rdtype)
        for wait in (self.timeout * 0.2, self.timeout * 0.4):
            try:
                answer = dns.query.udp(query, server[0], port=server[1], timeout=wait)
            except dns.exception.Timeout:
                continue
            if not answer.flags & dns.flags.TC:
                return answer
            break
        return dns.query.tcp(query, server[0], port=server[1], timeout=self.timeout * 0.4)

    def resolve(self):
        """Where the tracking domain points now: asked of its zone's authoritative server, or (``cache``) kept for its TTL."""
        if not self.cache:
            return self._resolve()
        now = time.time()
        with self._lock:
            cached = self._cached
        if cached is not None and now < cached[0]:
            where = Resolution(cached[1].kind, cached[1].answer, cached[1].target, cached[1].error, cached[1].ttl)
            where.cached = True
            return where
        where = self._resolve()
        if where.kind != "none" and where.ttl:
            with self._lock:
                self._cached = (now + where.ttl, where)
        return where

    def _resolve(self):
        try:
            answer = self._query(self.dns, self.domain)
        except (OSError, dns.exception.DNSException) as exc:
            return Resolution("none", "no answer", error="DNS query to %s:%d failed: %s" % (self.dns[0], self.dns[1], exc))
        if answer.rcode() != dns.rcode.NOERROR:
            return Resolution("none", dns.rcode.to_text(answer.rcode()),
                              error="%s answered %s" % (self.domain, dns.rcode.to_text(answer.rcode())))
        name = self.domain
        addresses = []
        ttl = None
        for rrset in answer.answer:
            owner = rrset.name.to_text().rstrip(".").lower()
            if owner != name:
                continue
            if owner == self.domain:
                ttl = rrset.ttl
            if rrset.rdtype == dns.rdatatype.CNAME:
                name = rrset[0].target.to_text().rstrip(".").lower()
            elif rrset.rdtype == dns.rdatatype.A:
                addresses = sorted(r.to_text() for r in rrset)
        if name in self.origins:
            return Resolution("origin", "CNAME %s" % name, target=name, ttl=ttl)
        if name.endswith(CLOUDFRONT_SUFFIX):
            if not addresses:
                # BIND answers the CNAME only: ask the server of cloudfront.net for the distribution's name
                try:
                    follow = self._query(self.cloudfront_dns, name)
                except (OSError, dns.exception.DNSException) as exc:
                    return Resolution("none", "CNAME %s" % name, target=name, error="%s: no answer (%s)" % (name, exc))
                addresses = sorted(r.to_text() for rrset in follow.answer if rrset.rdtype == dns.rdatatype.A for r in rrset)
                if follow.rcode() != dns.rcode.NOERROR or not addresses:
                    return Resolution("none", "CNAME %s -> %s" % (name, dns.rcode.to_text(follow.rcode())), target=name,
                                      error="%s has no address (%s)" % (name, dns.rcode.to_text(follow.rcode())))
            return Resolution("edge", "CNAME %s" % name, target=name, ttl=ttl)
        if name == self.domain and addresses:
            if set(addresses) <= EDGE_ADDRESSES:
                return Resolution("edge", "A %s" % ",".join(addresses), ttl=ttl)
            return Resolution("none", "A %s" % ",".join(addresses),
                              error="%s points at %s, which is neither an origin nor the edge" % (self.domain, addresses))
        if name != self.domain:
            return Resolution("none", "CNAME %s" % name, target=name,
                              error="%s is a CNAME to %s, which is neither an origin nor a distribution" % (self.domain, name))
        return Resolution("none", "NODATA", error="%s has no A record and no CNAME" % self.domain)

    # ---- clicks ----------------------------------------------------------

    def click(self, scheme, number):
        """One click on ``scheme://domain/a/click?_u=<own target>``; returns its record."""
        target = "%s?click=%s-%d" % (self.target, scheme, number)
        record = {
            "scheme": scheme, "n": number, "t": time.time(), "target": target, "ok": False,
            "hops": [], "location": None, "certificate": None, "error": None, "dns": None,
        }
        path = "/a/click?_u=" + quote(target, safe="")
        current_scheme = scheme
        try:
            for _hop in range(MAX_HOPS):
                where = self.resolve()
                if record["dns"] is None:
                    record["dns"] = where.as_dict()
                self._note_resolution(where, record["t"])
                if where.kind == "none":
                    record["error"] = where.error
                    break
                status, location, cert = self._request(current_scheme, where, path)
                record["hops"].append({"scheme": current_scheme, "to": where.kind, "status": status, "location": location})
                if cert is not None:
                    record["certificate"] = cert
                if status not in REDIRECTS or not location:
                    record["error"] = "%s://%s answered %s, not a redirect" % (current_scheme, self.domain, status)
                    break
                parts = urlsplit(location)
                if (parts.hostname or "").lower() == self.domain:
                    current_scheme = parts.scheme
                    path = parts.path + ("?" + parts.query if parts.query else "")
                    continue
                record["location"] = location
                if location == target:
                    record["ok"] = True
                else:
                    record["error"] = "redirect to %r, not the link's own target %r" % (location, target)
                break
            else:
                record["error"] = "more than %d redirects on %s" % (MAX_HOPS, self.domain)
        except ClickError as exc:
            record["error"] = str(exc)
            if exc.certificate is not None:
                record["certificate"] = exc.certificate
        record["seconds"] = round(time.time() - record["t"], 4)
        return record

    def _note_resolution(self, where, when):
        with self._lock:
            if where.kind == "edge" and self.cutover_at is None:
                self.cutover_at = when
                self.marks.append({"t": when, "label": "cutover: first answer pointing at the edge (%s)" % where.answer})
            elif where.kind == "origin" and self.cutover_at is not None and self.revert_at is None and when > self.cutover_at:
                self.revert_at = when
                self.marks.append({"t": when, "label": "revert: first answer pointing back at the origin (%s)" % where.answer})

    def _request(self, scheme, where, path):
        """(status, Location, certificate or None) of one request where the DNS answer points."""
        if where.kind == "origin":
            if scheme == "https":
                raise ClickError("https://%s points at %s, which serves HTTPS only for its own name: no certificate "
                                 "for %s" % (self.domain, where.target, self.domain))
            host, port = "127.0.0.1", self.origins[where.target]
        else:
            host, port = self.edge_host, (self.edge_https_port if scheme == "https" else self.edge_http_port)
        cert = None
        try:
            if scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=_SniContext(self._verify, self.domain))
                conn.connect()
                cert = _describe(conn.sock.getpeercert(binary_form=True))
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            try:
                conn.request("GET", path, headers={"Host": self.domain, "User-Agent": "linktrack-prober/1",
                                                   "Connection": "close"})
                resp = conn.getresponse()
                resp.read()
                return resp.status, resp.getheader("Location"), cert
            finally:
                conn.close()
        except ssl.SSLCertVerificationError as exc:
            raise ClickError("https://%s at %s:%d: certificate not valid for the name: %s" % (
                self.domain, host, port, exc.verify_message or exc), certificate=self._unverified_cert(host, port))
        except (OSError, http.client.HTTPException) as exc:
            raise ClickError("%s://%s at %s:%d (%s): %s" % (scheme, self.domain, host, port, where.kind, exc))

    def _unverified_cert(self, host, port):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection((host, port), timeout=self.timeout) as raw:
                with ctx.wrap_socket(raw, server_hostname=self.domain) as tls:
                    return _describe(tls.getpeercert(binary_form=True))
        except OSError:
            return None

    # ---- results ---------------------------------------------------------

    def snapshot(self):
        with self._lock:
            return sorted(self.clicks, key=lambda c: c["t"]), list(self.marks)

    def summary(self, https_from=None, https_until=None):  # pylint: disable=too-many-locals
        """Figures per scheme; https failures count only in [https_from, https_until) (default: cutover to revert)."""
        clicks, marks = self.snapshot()
        # From the click records, not from the threads' live marks: a click's time is its start, so the cutover is
        # the start of the first click whose DNS answer pointed at the edge, the revert that of the first later click
        # whose answer pointed at an origin (two threads may note them in either order).
        edge_times = [c["t"] for c in clicks if c["dns"] and c["dns"]["kind"] == "edge"]
        self.cutover_at = min(edge_times) if edge_times else None
        back = [c["t"] for c in clicks if self.cutover_at is not None and c["t"] > self.cutover_at
                and c["dns"] and c["dns"]["kind"] == "origin"]
        self.revert_at = min(back) if back else None
        https_from = self.cutover_at if https_from is None else https_from
        https_until = self.revert_at if https_until is None else https_until
        end = self.stopped_at or time.time()
        out = {"domain": self.domain, "started_at": self.started_at, "stopped_at": self.stopped_at,
               "cutover_at": self.cutover_at, "revert_at": self.revert_at, "marks": marks,
               "seconds": round(end - (self.started_at or end), 2)}
        for scheme in ("http", "https"):
            mine = [c for c in clicks if c["scheme"] == scheme]
            if scheme == "https":
                lo = https_from if https_from is not None else float("inf")
                hi = https_until if https_until is not None else float("inf")
                window = [c for c in mine if lo <= c["t"] < hi]
                start = lo
            else:
                window = mine
                start = self.started_at
            failed = [c for c in window if not c["ok"]]
            wrong = [c for c in window if c["location"] and c["location"] != c["target"]]
            # the longest stretch without a good click: from the window's start (or the first click), between good
            # clicks, and up to the window's last click
            gaps = []
            if window:
                good_times = [max(start, window[0]["t"] - self.interval) if start is not None else window[0]["t"]]
                good_times += [c["t"] for c in window if c["ok"]] + [window[-1]["t"]]
                gaps = [b - a for a, b in zip(good_times, good_times[1:])]
            starts = [c["t"] for c in mine]
            out[scheme] = {
                "clicks": len(mine),
                "ok": sum(1 for c in mine if c["ok"]),
                "counted": len(window),
                "failed": len(failed),
                "wrong_target": len(wrong),
                "longest_gap_s": round(max(gaps), 3) if gaps else None,
                "longest_interval_s": round(max(b - a for a, b in zip(starts, starts[1:])), 3) if len(starts) > 1 else None,
                "failures": [{k: c[k] for k in ("n", "t", "error", "dns", "hops")} for c in failed[:10]],
                "to_edge": sum(1 for c in mine if c["dns"] and c["dns"]["kind"] == "edge"),
                "to_origin": sum(1 for c in mine if c["dns"] and c["dns"]["kind"] == "origin"),
                "cached": sum(1 for c in mine if c["dns"] and c["dns"].get("cached")),
                "certificates": sorted({c["certificate"]["serial"] for c in mine if c["certificate"]}),
            }
        return out


class ClickError(Exception):
    """A click that could not be made (connection, TLS, HTTP)."""

    def __init__(self, message, certificate=None):
        super().__init__(message)
        self.certificate = certificate


class _SniContext:
    """Wraps an SSLContext so that http.client sends the tracking domain as SNI while connecting to the edge's address."""

    def __init__(self, context, server_name):
        self._context = context
        self._server_name = server_name

    def wrap_socket(self, sock, server_hostname=None, **kwargs):  # pylint: disable=unused-argument
        return self._context.wrap_socket(sock, server_hostname=self._server_name, **kwargs)

    def __getattr__(self, name):
        return getattr(self._context, name)


def _describe(der):
    """Serial (hex, as ACM writes it without colons) and names of a DER certificate."""
    if not der:
        return None
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    cert = x509.load_der_x509_certificate(der)
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    return {"serial": "%x" % cert.serial_number, "names": sorted(names), "issuer": cert.issuer.rfc4514_string()}


def from_env(env, domain, provider, **kwargs):
    """A Prober for ``domain`` from a sandbox env file's settings; ``provider`` is "route53" or "rfc2136"."""
    if provider == "route53":
        dns_server = (env["SANDBOX_R53_DNS_SERVER"], env["SANDBOX_R53_DNS_PORT"])
    else:
        dns_server = (env["SANDBOX_DNS_SERVER"], env["SANDBOX_DNS_PORT"])
    origins = {
        "links.iterable.com": urlsplit(env["SANDBOX_ORIGIN_USDC_URL"]).port,
        "links.eu.iterable.com": urlsplit(env["SANDBOX_ORIGIN_EDC_URL"]).port,
    }
    return Prober(domain, dns_server[0], dns_server[1], (env["SANDBOX_R53_DNS_SERVER"], env["SANDBOX_R53_DNS_PORT"]),
                  origins, (env["SANDBOX_EDGE_HOST"], env["SANDBOX_EDGE_HTTP_PORT"], env["SANDBOX_EDGE_HTTPS_PORT"]),
                  env["SANDBOX_CA_BUNDLE"], **kwargs)
