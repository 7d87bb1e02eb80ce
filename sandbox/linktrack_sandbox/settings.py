# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sandbox settings: ports, paths and the values written to the env file.

Everything is computed from the environment once, by the controller, and handed
to the daemon as a JSON file, so the two always agree.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import re

from . import realism

HOST = "127.0.0.1"
SANDBOX_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PORT_BASE = 15000
DEFAULT_ZONE = "example.com"
TSIG_KEY_NAME = "linktrack-sandbox"
TSIG_ALGORITHM = "hmac-sha256"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

ORIGIN_USDC = "links.iterable.com"
ORIGIN_EDC = "links.eu.iterable.com"

# (component key, environment variable, offset from SANDBOX_PORT_BASE, what listens there)
PORTS = (
    ("aws", "SANDBOX_AWS_PORT", 0, "AWS emulator (moto)"),
    ("edge_http", "SANDBOX_EDGE_HTTP_PORT", 80, "CloudFront edge stand-in, HTTP"),
    ("origin_usdc", "SANDBOX_ORIGIN_USDC_PORT", 81, "origin stand-in links.iterable.com"),
    ("origin_edc", "SANDBOX_ORIGIN_EDC_PORT", 82, "origin stand-in links.eu.iterable.com"),
    ("bind", "SANDBOX_DNS_PORT", 353, "BIND 9 named (TCP and UDP)"),
    ("r53dns", "SANDBOX_R53_DNS_PORT", 354, "Route 53 DNS stand-in (TCP and UDP)"),
    ("parent_dns", "SANDBOX_PARENT_DNS_PORT", 355, "parent zone stand-in delegating to BIND (TCP and UDP)"),
    ("r53_parent_dns", "SANDBOX_R53_PARENT_DNS_PORT", 356, "parent zone stand-in delegating to Route 53 (TCP and UDP)"),
    ("edge_https", "SANDBOX_EDGE_HTTPS_PORT", 443, "CloudFront edge stand-in, HTTPS"),
)
UDP_PORTS = ("bind", "r53dns", "parent_dns", "r53_parent_dns")

# The env file's variables, in the order they are written.
ENV_NAMES = (
    "AWS_ENDPOINT_URL", "SANDBOX_AWS_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EC2_METADATA_DISABLED",
    "SANDBOX_ZONE", "SANDBOX_R53_ZONE_ID", "SANDBOX_R53_PRIVATE_ZONE_ID",
    "SANDBOX_DNS_SERVER", "SANDBOX_DNS_PORT",
    "SANDBOX_TSIG_KEY_NAME", "SANDBOX_TSIG_ALGORITHM", "SANDBOX_TSIG_SECRET",
    "SANDBOX_R53_DNS_SERVER", "SANDBOX_R53_DNS_PORT",
    "SANDBOX_EDGE_HOST", "SANDBOX_EDGE_HTTPS_PORT", "SANDBOX_EDGE_HTTP_PORT",
    "SANDBOX_ORIGIN_USDC_URL", "SANDBOX_ORIGIN_EDC_URL",
    "SANDBOX_CA_BUNDLE", "SANDBOX_AWS_STATS_URL", "SANDBOX_STATE_DIR",
    "SANDBOX_PARENT_DNS_SERVER", "SANDBOX_PARENT_DNS_PORT", "SANDBOX_R53_PARENT_DNS_SERVER", "SANDBOX_R53_PARENT_DNS_PORT",
)

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class SettingsError(Exception):
    """A sandbox setting in the environment is not valid."""


def _int_port(name, raw):
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError("%s=%r is not a number; give a TCP port between 1024 and 65535" % (name, raw)) from None
    if not 1024 <= port <= 65535:
        raise SettingsError("%s=%s is out of range; give a TCP port between 1024 and 65535" % (name, raw))
    return port


def zone_id_for(zone):
    """A stable Route 53 hosted zone id for the sandbox zone (the same after every start and reset)."""
    digest = hashlib.sha256(zone.encode("ascii")).hexdigest().upper()
    return "Z0SBX" + digest[:16]


def normalize_zone(raw):
    zone = raw.strip().lower().rstrip(".")
    labels = zone.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise SettingsError("SANDBOX_ZONE=%r is not a DNS zone name; give something like example.com" % raw)
    return zone


def from_environment(environ=None):
    """Compute the sandbox settings (a plain dict) from environment variables."""
    env = os.environ if environ is None else environ
    base_raw = env.get("SANDBOX_PORT_BASE", "") or str(DEFAULT_PORT_BASE)
    base = _int_port("SANDBOX_PORT_BASE", base_raw)
    if base + 443 > 65535:
        raise SettingsError("SANDBOX_PORT_BASE=%s is too high: the sandbox uses ports up to SANDBOX_PORT_BASE+443" % base_raw)
    ports = {}
    for key, var, offset, _what in PORTS:
        raw = env.get(var, "")
        ports[key] = _int_port(var, raw) if raw else base + offset
    seen = {}
    for key, var, _offset, _what in PORTS:
        if ports[key] in seen:
            raise SettingsError("%s and %s both name port %d; give each component its own port" % (seen[ports[key]], var, ports[key]))
        seen[ports[key]] = var
    state_dir = os.path.abspath(env.get("SANDBOX_STATE_DIR", "") or os.path.join(SANDBOX_DIR, ".state"))
    env_file = os.path.abspath(env.get("SANDBOX_ENV_FILE", "") or os.path.join(SANDBOX_DIR, "sandbox.env"))
    zone = normalize_zone(env.get("SANDBOX_ZONE", "") or DEFAULT_ZONE)
    try:
        behaviour = realism.from_environment(env)
    except realism.SettingsError as exc:
        raise SettingsError(str(exc)) from None
    return {
        "host": HOST,
        "ports": ports,
        "port_base": base,
        "state_dir": state_dir,
        "env_file": env_file,
        "zone": zone,
        "zone_id": zone_id_for(zone),
        "account_id": ACCOUNT_ID,
        "region": REGION,
        **behaviour,
    }


def paths(state_dir):
    """File locations inside the state directory."""
    bind_dir = os.path.join(state_dir, "bind")
    return {
        "state": os.path.join(state_dir, "state.json"),
        "config": os.path.join(state_dir, "config.json"),
        "lock": os.path.join(state_dir, "lock"),
        "ready": os.path.join(state_dir, "sandboxd.ready"),
        "daemon_log": os.path.join(state_dir, "sandboxd.log"),
        "named_log": os.path.join(state_dir, "named.log"),
        "ca_cert": os.path.join(state_dir, "ca", "sandbox-ca.pem"),
        "ca_key": os.path.join(state_dir, "ca", "sandbox-ca.key"),
        "bind_dir": bind_dir,
        "named_conf": os.path.join(bind_dir, "named.conf"),
        "tsig_key": os.path.join(bind_dir, "tsig.key"),
        "overrides": os.path.join(state_dir, "origin-overrides.json"),
        "delegations": os.path.join(state_dir, "parent-delegations.json"),
    }


def env_values(config, tsig_secret):
    """The values of the env file, keyed by variable name (see ENV_NAMES)."""
    host = config["host"]
    ports = config["ports"]
    aws = "http://%s:%d" % (host, ports["aws"])
    values = {
        "AWS_ENDPOINT_URL": aws,
        "SANDBOX_AWS_ENDPOINT": aws,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": config["region"],
        "AWS_REGION": config["region"],
        "AWS_EC2_METADATA_DISABLED": "true",
        "SANDBOX_ZONE": config["zone"],
        "SANDBOX_R53_ZONE_ID": config["zone_id"],
        "SANDBOX_R53_PRIVATE_ZONE_ID": zone_id_for(config["zone"] + "/private"),  # aws.private_zone_id_for
        "SANDBOX_DNS_SERVER": host,
        "SANDBOX_DNS_PORT": str(ports["bind"]),
        "SANDBOX_TSIG_KEY_NAME": TSIG_KEY_NAME,
        "SANDBOX_TSIG_ALGORITHM": TSIG_ALGORITHM,
        "SANDBOX_TSIG_SECRET": tsig_secret,
        "SANDBOX_R53_DNS_SERVER": host,
        "SANDBOX_R53_DNS_PORT": str(ports["r53dns"]),
        "SANDBOX_EDGE_HOST": host,
        "SANDBOX_EDGE_HTTPS_PORT": str(ports["edge_https"]),
        "SANDBOX_EDGE_HTTP_PORT": str(ports["edge_http"]),
        "SANDBOX_ORIGIN_USDC_URL": "http://%s:%d" % (host, ports["origin_usdc"]),
        "SANDBOX_ORIGIN_EDC_URL": "http://%s:%d" % (host, ports["origin_edc"]),
        "SANDBOX_CA_BUNDLE": paths(config["state_dir"])["ca_cert"],
        "SANDBOX_AWS_STATS_URL": aws + "/_sandbox/stats",
        "SANDBOX_STATE_DIR": config["state_dir"],
        # the zone's parent (parentdns.py): delegating to BIND, and to the Route 53 hosted zone
        "SANDBOX_PARENT_DNS_SERVER": host,
        "SANDBOX_PARENT_DNS_PORT": str(ports["parent_dns"]),
        "SANDBOX_R53_PARENT_DNS_SERVER": host,
        "SANDBOX_R53_PARENT_DNS_PORT": str(ports["r53_parent_dns"]),
    }
    return dict((name, values[name]) for name in ENV_NAMES)
