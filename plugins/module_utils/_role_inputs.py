# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight of the link_domain role: every problem with its inputs, each naming its variable.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

``check(params)`` returns ``(facts, errors)``. It uses the rules the modules
use (``normalize_domain``, ``parse_server``, ``tsig_secret_bytes``, the
region table of ``_records``), so a rule exists once; only the words differ,
because a message names the role's variable (``link_domain_<option>``), not a
module's option. ``meta/argument_specs.yml`` already checked types and choices.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import re

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError, normalize_domain
from ansible_collections.linktrack.https.plugins.module_utils._dns import parse_server, tsig_secret_bytes
from ansible_collections.linktrack.https.plugins.module_utils._records import ITERABLE_REGIONS

PREFIX = "link_domain_"
# ACM puts the domain in the certificate's common name, which has at most 64 characters (RequestCertificate,
# DomainName: "Length Constraints: Minimum length of 1. Maximum length of 253", and "The first domain name you
# enter cannot exceed 64 octets, including periods", ACM API reference).
CN_MAX = 64
TTL_MAX = 2147483647
_URL_RE = re.compile(r"^https?://([A-Za-z0-9._~%-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/\S*)?$")
_PORT_SUFFIX_RE = re.compile(r"^(\[[^\]]*\]|[^:\[\]]*):([0-9]+)$")


def _j(value):
    return json.dumps(value)


def domain_of(value):
    """The tracking domain in the form every module uses, or ``None`` when it is not a host name."""
    try:
        name = normalize_domain(value if isinstance(value, str) else str(value or ""), PREFIX + "name")
    except LinktrackError:
        return None
    labels = name.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return None  # a single label or an IPv4 address is no tracking domain
    return name


def _inside(domain, zone):
    zone = zone.strip().lower().rstrip(".")
    return domain == zone or domain.endswith("." + zone)


def check(p):
    """``(facts, errors)`` for the role's variables in ``p`` (keys without the ``link_domain_`` prefix)."""
    errors = []
    domain = domain_of(p.get("name"))
    provider = p.get("dns_provider")
    if domain is None:
        errors.append(
            "link_domain_name: %s is not a valid host name (letters, digits and inner hyphens in labels of at most 63 "
            "characters, at least two labels, no scheme, path, port, wildcard or underscore). Give a fully qualified "
            "host name such as links.example.com." % _j(str(p.get("name") or "")))
    elif len(domain) > CN_MAX:
        errors.append("link_domain_name: %s has %d characters; ACM puts it in the certificate common name, which has "
                      "at most 64. Pick a shorter tracking domain." % (domain, len(domain)))
    if p.get("aws_region") != "us-east-1":
        errors.append("link_domain_aws_region: CloudFront only takes ACM certificates from us-east-1, but it is %s. "
                      "Set link_domain_aws_region: us-east-1." % _j(p.get("aws_region")))
    if p.get("dns_record_type") == "alias" and provider != "route53":
        errors.append("link_domain_dns_record_type: alias (Route 53 alias A and AAAA records) needs "
                      "link_domain_dns_provider: route53, but the provider is %s. Use link_domain_dns_record_type: "
                      "cname." % provider)
    if provider == "rfc2136":
        errors.extend(_rfc2136_errors(p, domain))
    if provider == "route53" and p.get("route53_zone") and domain and not _inside(domain, p["route53_zone"]):
        errors.append("link_domain_route53_zone: %s is not inside the zone %s." % (domain, p["route53_zone"]))
    errors.extend(_server_errors(p.get("dns_servers") or []))
    url = p.get("aws_endpoint_url")
    if url and not _URL_RE.match(str(url)):
        errors.append("link_domain_aws_endpoint_url: %s is not an http or https URL. Give one such as "
                      "https://acm.us-east-1.amazonaws.com or http://127.0.0.1:5000, or leave it empty for AWS."
                      % _j(str(url)))
    if p.get("ca_path") and not os.path.exists(p["ca_path"]):
        errors.append("link_domain_ca_path: %s does not exist on the controller." % p["ca_path"])
    errors.extend(_number_errors(p))
    confirm = p.get("teardown_confirm")
    if confirm is not None and (domain is None or str(confirm).strip().lower().rstrip(".") != domain):
        errors.append("link_domain_teardown_confirm: set it to %s to take down the HTTPS setup of %s (it is %s). "
                      "Nothing was changed." % (_j(domain or ""), domain or p.get("name"), _j(confirm)))
    region = ITERABLE_REGIONS.get(p.get("iterable_region")) or {}
    facts = {"domain": domain or "", "origin": region.get("origin", ""), "iterable_app_url": region.get("app_url", "")}
    return facts, errors


def _rfc2136_errors(p, domain):
    errors = []
    server = p.get("rfc2136_server")
    if not server:
        errors.append("link_domain_rfc2136_server: the address of the name server that takes the updates is required "
                      "with link_domain_dns_provider: rfc2136.")
    else:
        try:
            ipaddress.ip_address(str(server).strip())
        except ValueError:
            errors.append("link_domain_rfc2136_server: %s must be an IPv4 or IPv6 address." % _j(server))
    if not p.get("rfc2136_key_name"):
        errors.append("link_domain_rfc2136_key_name: the name of the TSIG key is required with "
                      "link_domain_dns_provider: rfc2136 (unsigned updates are refused).")
    secret = p.get("rfc2136_key_secret")
    if not secret:
        errors.append("link_domain_rfc2136_key_secret: the TSIG secret is missing; it is required with "
                      "link_domain_dns_provider: rfc2136. Put it in a vault or pass it with -e.")
    else:
        try:
            tsig_secret_bytes(secret, PREFIX + "rfc2136_key_secret")
        except LinktrackError as exc:
            errors.append(exc.message)  # the message never repeats the secret
    zone = p.get("rfc2136_zone")
    if zone and domain and not _inside(domain, zone):
        errors.append("link_domain_rfc2136_zone: %s is not inside the zone %s." % (domain, zone))
    return errors


def _server_errors(servers):
    bad_form, bad_port = [], []
    for i, spec in enumerate(servers):
        try:
            parse_server(spec, 53, "%sdns_servers[%d]" % (PREFIX, i))
        except LinktrackError:
            m = _PORT_SUFFIX_RE.match(str(spec).strip())
            (bad_port if m and not 1 <= int(m.group(2)) <= 65535 else bad_form).append(spec)
    errors = []
    if bad_form:
        errors.append('link_domain_dns_servers: %s are not "host" or "host:port" (IPv6 with a port as "[::1]:53").'
                      % _j(bad_form))
    if bad_port:
        errors.append("link_domain_dns_servers: %s have a port outside 1 to 65535." % _j(bad_port))
    return errors


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _number_errors(p):
    rules = [
        ("certificate_timeout", 1, None, "must be above 0 seconds."),
        ("validation_timeout", 1, None, "must be above 0 seconds."),
        ("deploy_timeout", 1, None, "must be above 0 seconds."),
        ("dns_timeout", 1, None, "must be above 0 seconds."),
        ("manual_timeout", 1, None, "must be above 0 seconds."),
        ("tls_wait_timeout", 0, None, "must be 0 or more seconds."),
        ("iterable_wait_timeout", 0, None, "must be 0 or more seconds."),
        ("dns_ttl", 0, TTL_MAX, "must be 0 to 2147483647 seconds."),
        ("tls_min_days_valid", 0, None, "must be 0 or more days."),
        ("edge_https_port", 1, 65535, "must be a port, 1 to 65535."),
        ("edge_http_port", 1, 65535, "must be a port, 1 to 65535."),
        ("rfc2136_port", 1, 65535, "must be a port, 1 to 65535."),
    ]
    errors = []
    for key, low, high, words in rules:
        if key not in p or p[key] is None:
            continue
        value = _int(p[key])
        if value is None or value < low or (high is not None and value > high):
            errors.append("%s%s: %s" % (PREFIX, key, words))
    return errors


def run_module(params, check_mode=False, diff=False, client_factory=None, warn=None, progress=None):
    """What ``link_domain_preflight`` does (its ``main()`` and its action plugin call this); only checks."""
    facts, errors = check(params)
    result = dict(facts, changed=False, errors=errors)
    if errors:
        result.update(failed=True, msg=" ".join(errors))
    return result
