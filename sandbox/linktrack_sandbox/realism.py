# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AWS's own behaviour in the emulator: the switch, the time windows, and where each service's part lives.

moto answers at once and checks little. Real ACM, CloudFront and Route 53 keep
new resources invisible for seconds, deploy for minutes, refuse stale ETags and
conflicting names. Each service's behaviour is a module of its own
(``realism_acm``, ``realism_cloudfront``, ``realism_route53``) with an
``install(windows, context)`` that patches moto's backends in the daemon
process. sandbox/README.md lists every behaviour with its source.

Settings (environment of ``sandbox.py up``, carried to the daemon in config.json):

* ``SANDBOX_AWS_BEHAVIOUR``: ``aws`` (the default: AWS's behaviour) or
  ``instant`` (moto as it is: for speed experiments only).
* ``SANDBOX_AWS_TIME_SCALE``: a number > 0 (default 1) that multiplies every
  window below. Windows are seconds, scaled down from AWS's minutes so the
  suite stays fast, but never zero: the ordering (PENDING before ISSUED,
  InProgress before Deployed) always holds.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib
import logging

BEHAVIOURS = ("aws", "instant")
DEFAULT_BEHAVIOUR = "aws"

# name -> (seconds at scale 1, what AWS does and where it says so)
WINDOWS = {
    "acm_unknown": (1.0, "a new certificate is unknown to DescribeCertificate/ListCertificates (minutes on AWS: seconds)"),
    "acm_records": (2.0, "DomainValidationOptions[].ResourceRecord appears this long after the request (after acm_unknown)"),
    "acm_issue_after_dns": (1.0, "ISSUED this long after the validation CNAME answers from the authoritative servers"),
    # long enough that a loaded 2-core machine never reaches it by accident in a normal run
    "acm_validation_timeout": (600.0, "VALIDATION_TIMED_OUT when no validation CNAME answered by then (72 h on AWS)"),
    "acm_in_use_linger": (3.0, "a deleted distribution stays in InUseBy this long (10 to 20 min reported)"),
    "cloudfront_in_progress": (2.0, "a distribution is InProgress this long after each create or update (minutes on AWS)"),
    "route53_pending": (0.5, "GetChange answers PENDING this long before INSYNC"),
}


class SettingsError(ValueError):
    """SANDBOX_AWS_BEHAVIOUR or SANDBOX_AWS_TIME_SCALE is not valid."""


def from_environment(env):
    """The ``aws_behaviour`` and ``aws_time_scale`` settings (for settings.from_environment)."""
    behaviour = (env.get("SANDBOX_AWS_BEHAVIOUR", "") or DEFAULT_BEHAVIOUR).strip().lower()
    if behaviour not in BEHAVIOURS:
        raise SettingsError("SANDBOX_AWS_BEHAVIOUR=%r: give aws (AWS's behaviour, the default) or instant (moto as it is)"
                            % env.get("SANDBOX_AWS_BEHAVIOUR"))
    raw = env.get("SANDBOX_AWS_TIME_SCALE", "") or "1"
    try:
        scale = float(raw)
    except ValueError:
        scale = -1.0
    if not 0.01 <= scale <= 1000:
        raise SettingsError("SANDBOX_AWS_TIME_SCALE=%r: give a number from 0.01 to 1000 (1 is the default; "
                            "windows are scaled, never zero)" % raw)
    return {"aws_behaviour": behaviour, "aws_time_scale": scale}


class Windows:
    """The time windows in seconds, scaled: ``windows.cloudfront_in_progress`` and so on."""

    def __init__(self, scale=1.0):
        self.scale = float(scale)
        for name, (seconds, _what) in WINDOWS.items():
            setattr(self, name, seconds * self.scale)

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in WINDOWS)


SERVICES = ("realism_acm", "realism_cloudfront", "realism_route53")
_LOG = logging.getLogger("sandbox.realism")


def install(config, context):
    """Patch moto with AWS's behaviour, unless the config says ``instant``.

    ``context`` is a dict of what the services may need from the daemon
    (``config``, ``ca``, the DNS resolver for validation...). Returns the
    ``Windows`` in force, or ``None`` for ``instant``.
    """
    if config.get("aws_behaviour", DEFAULT_BEHAVIOUR) == "instant":
        _LOG.info("AWS behaviour: instant (moto as it is)")
        return None
    windows = Windows(config.get("aws_time_scale", 1.0))
    for name in SERVICES:
        module = importlib.import_module("." + name, __package__)
        module.install(windows, context)
    _LOG.info("AWS behaviour: aws, windows %s", windows.as_dict())
    return windows
