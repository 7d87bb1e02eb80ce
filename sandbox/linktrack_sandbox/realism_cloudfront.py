# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cloudfront: AWS's behaviour in the emulator (see realism.py).

``install`` patches moto's in-process CloudFront backend, in the daemon, so that
(sandbox/README.md, "AWS's behaviour", lists each rule with its source):

* every create and update gives a new ETag; UpdateDistribution and
  DeleteDistribution need ``IfMatch`` to be the current one (``PreconditionFailed``,
  412) and refuse a missing one (``InvalidIfMatchVersion``);
* a distribution is ``InProgress`` for ``windows.cloudfront_in_progress`` after
  every create and update, then ``Deployed``;
* DeleteDistribution needs it disabled and ``Deployed`` (``DistributionNotDisabled``, 409);
* an alias held by another distribution, in any account of the emulator or in
  the "foreign" list (``POST /_sandbox/cloudfront/foreign-aliases``: aliases of
  distributions the caller cannot see), gives ``CNAMEAlreadyExists`` (409);
* a viewer certificate that does not exist, is not ISSUED, is outside us-east-1,
  belongs to another account or does not cover every alias gives
  ``InvalidViewerCertificate`` (400), and so do aliases with CloudFront's default
  certificate;
* a CallerReference once used is refused ever after, the distribution deleted or
  not (``DistributionAlreadyExists``), until the emulator is reset; changing it in
  UpdateDistribution is ``IllegalUpdate``;
* the config round-trips: moto's own rewrites of what this collection depends on
  (function and Lambda@Edge associations dropped, ``CloudFrontDefaultCertificate``
  true beside an ACM certificate) are undone.

The state lives on moto's backend objects, so ``/_sandbox/reset`` (moto's reset)
clears it; only the foreign aliases are module state, cleared by ``reset()``.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import logging
import threading
import time

_LOG = logging.getLogger("sandbox.realism.cloudfront")
_LOCK = threading.RLock()
_FOREIGN = {"aliases": []}
_INSTALLED = {"windows": None}
ACM_REGION = "us-east-1"


def _exception(code, message):
    from moto.cloudfront.exceptions import CloudFrontException  # pylint: disable=import-outside-toplevel
    return CloudFrontException(code, message)


def _now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _new_etag():
    from moto.cloudfront.models import random_id  # pylint: disable=import-outside-toplevel
    return random_id(length=14)


# --- the sandbox hook: aliases held in accounts the caller cannot see -----------------------

def set_foreign_aliases(aliases):
    """Replace the list of aliases held by distributions of other accounts. Returns the list kept."""
    if not isinstance(aliases, list) or not all(isinstance(alias, str) and alias.strip() for alias in aliases):
        raise ValueError("give a JSON list of alias names, e.g. [\"links.example.com\", \"*.example.org\"]")
    with _LOCK:
        _FOREIGN["aliases"] = sorted(set(alias.strip().lower() for alias in aliases))
        return list(_FOREIGN["aliases"])


def foreign_aliases():
    with _LOCK:
        return list(_FOREIGN["aliases"])


def reset():
    """Forget the foreign aliases (the rest of the state lives on moto's backends, which moto resets)."""
    with _LOCK:
        _FOREIGN["aliases"] = []


def enforced():
    """True once ``install`` ran (SANDBOX_AWS_BEHAVIOUR=aws)."""
    return _INSTALLED["windows"] is not None


# --- reads for the other stand-ins (edge, catalog) -----------------------------------------------

def _backends():
    from moto.cloudfront.models import cloudfront_backends  # pylint: disable=import-outside-toplevel
    for account in list(cloudfront_backends.keys()):
        yield account, cloudfront_backends[account]["aws"]


def _state(backend):
    """The sandbox's own bookkeeping on one account's backend (moto's reset drops it with the backend)."""
    state = backend.__dict__.get("sandbox_state")
    if state is None:
        state = backend.__dict__.setdefault("sandbox_state", {"references": {}})
    return state


def served(account_id, distribution_id):
    """False while a new distribution has not yet turned Deployed for the first time (the edge does not serve it)."""
    from moto.cloudfront.models import cloudfront_backends  # pylint: disable=import-outside-toplevel
    if account_id not in cloudfront_backends:
        return True
    dist = cloudfront_backends[account_id]["aws"].distributions.get(distribution_id)
    if dist is None:
        return True
    since = dist.__dict__.get("sandbox_served_from")
    return since is None or time.monotonic() >= since


# --- the rules -----------------------------------------------------------------------------------

def _aliases(config):
    items = ((config or {}).get("Aliases") or {}).get("Items") or []
    if isinstance(items, dict):  # one <CNAME> element may parse as a dict
        items = list(items.values())
    return [str(item) for item in items]


def _overlaps(mine, theirs):
    """Whether one alias is the other, or a wildcard covers the other (used for aliases of other accounts)."""
    if mine == theirs:
        return True
    for wild, name in ((mine, theirs), (theirs, mine)):
        if wild.startswith("*.") and name.endswith(wild[1:]) and "." not in name[:-len(wild) + 1]:
            return True
    return False


def _check_aliases(backend, aliases, own_id=None):
    """CNAMEAlreadyExists when another distribution (any account) or a foreign one holds one of ``aliases``."""
    wanted = [alias.lower() for alias in aliases]
    for _account, other in _backends():
        for dist in list(other.distributions.values()):
            if other is backend and dist.distribution_id == own_id:
                continue
            held = set(alias.lower() for alias in _aliases(_config_dict(dist)))
            clash = sorted(held.intersection(wanted))
            if clash:
                raise _exception("CNAMEAlreadyExists", "One or more of the CNAMEs you provided are already associated with a different "
                                 "resource. (%s)" % ", ".join(clash))
    for alias in wanted:
        for foreign in foreign_aliases():
            if _overlaps(alias, foreign):
                raise _exception("CNAMEAlreadyExists", "One or more of the CNAMEs you provided are already associated with a different "
                                 "resource. (%s)" % alias)


def _config_dict(dist):
    config = dist.distribution_config
    return {"Aliases": getattr(config, "Aliases", None) or {}}


def _truthy(value):
    return value is True or str(value).lower() == "true"


def covers(names, alias):
    """True when one of the certificate's ``names`` covers ``alias`` as ACM and CloudFront count it.

    A wildcard name covers exactly one label (``*.example.com`` covers
    ``a.example.com``, neither ``example.com`` nor ``a.b.example.com``); a
    wildcard alias is covered only by the same wildcard. Comparison ignores
    case; an alias with a trailing dot matches nothing (CloudFront compares the
    names as written: widdix/aws-cf-templates#443).
    """
    alias = alias.lower()
    for name in (name.lower() for name in names):
        if name == alias:
            return True
        if name.startswith("*.") and not alias.startswith("*.") and alias.endswith(name[1:]):
            label = alias[:len(alias) - len(name) + 1]
            if label and "." not in label:
                return True
    return False


def _certificate(arn):
    """(status, [names]) of an ACM certificate from moto's backend, or None when it does not exist.

    The status is read the way the ACM backend itself reads it (``check()``,
    then ``status``), so the ACM behaviour of the sandbox decides it.
    """
    from moto.acm.models import acm_backends  # pylint: disable=import-outside-toplevel
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "acm":
        return None
    region, account = parts[3], parts[4]
    if account not in acm_backends or region not in acm_backends[account]:
        return None
    backend = acm_backends[account][region]
    bundle = backend.__dict__.get("_certificates", {}).get(arn)
    if bundle is None:
        return None
    check = getattr(bundle, "check", None)
    if callable(check):
        check()
    names = list(getattr(bundle, "sans", []) or [])
    if getattr(bundle, "common_name", None):
        names.append(bundle.common_name)
    return bundle.status, names


def _check_viewer_certificate(backend, config):
    """InvalidViewerCertificate unless the viewer certificate may serve every alias."""
    viewer = (config or {}).get("ViewerCertificate") or {}
    aliases = _aliases(config)
    arn = viewer.get("ACMCertificateArn") or ""
    if viewer.get("IAMCertificateId"):
        raise _exception("InvalidViewerCertificate", "The sandbox has no IAM server certificates: use an ACM certificate in us-east-1.")
    if not arn:
        if aliases:
            raise _exception("InvalidViewerCertificate", "To add an alternate domain name (CNAME) to a CloudFront distribution, you must "
                             "attach a trusted certificate that validates your authorization to use the domain name.")
        return
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "acm" or parts[3] != ACM_REGION or parts[4] != backend.account_id:
        raise _exception("InvalidViewerCertificate", "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, "
                         "or doesn't include a valid certificate chain. (%s)" % arn)
    found = _certificate(arn)
    if found is None or found[0] != "ISSUED":
        raise _exception("InvalidViewerCertificate", "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, "
                         "or doesn't include a valid certificate chain. (%s: %s)" % (arn, found[0] if found else "not found"))
    missing = [alias for alias in aliases if not covers(found[1], alias)]
    if missing:
        raise _exception("InvalidViewerCertificate", "The certificate that is attached to your distribution doesn't cover the alternate "
                         "domain name (CNAME) that you're trying to add. (%s)" % ", ".join(missing))


def _start_deployment(dist, windows, first=False):
    until = time.monotonic() + windows.cloudfront_in_progress
    dist.__dict__["sandbox_in_progress_until"] = until
    if first:
        dist.__dict__["sandbox_served_from"] = until
    dist.etag = _new_etag()
    dist.last_modified_time = _now_text()


def _status(original):
    def status(self):
        until = self.__dict__.get("sandbox_in_progress_until")
        if until is None:
            return original.fget(self)
        return "InProgress" if time.monotonic() < until else "Deployed"
    return property(status, original.fset)


def _patched_create(original, windows):
    def create_distribution_with_tags(self, distribution_config, tags):
        with _LOCK:
            reference = (distribution_config or {}).get("CallerReference")
            used = _state(self)["references"]
            if reference in used:
                from moto.cloudfront.exceptions import DistributionAlreadyExists  # pylint: disable=import-outside-toplevel
                raise DistributionAlreadyExists(used[reference])
            _check_aliases(self, _aliases(distribution_config))
            _check_viewer_certificate(self, distribution_config)
            dist, location, _etag = original(self, distribution_config, tags)
            used[reference] = dist.distribution_id
            _start_deployment(dist, windows, first=True)
            return dist, location, dist.etag
    return create_distribution_with_tags


def _current(backend, distribution_id, if_match):
    from moto.cloudfront.exceptions import InvalidIfMatchVersion, NoSuchDistribution  # pylint: disable=import-outside-toplevel
    dist = backend.distributions.get(distribution_id) if distribution_id else None
    if dist is None:
        raise NoSuchDistribution
    if not if_match:
        raise InvalidIfMatchVersion
    if if_match != dist.etag:
        raise _exception("PreconditionFailed", "The precondition given in one or more of the request-header fields evaluated to false. "
                         "(If-Match %s; the current ETag is another: get the distribution again)" % if_match)
    return dist


def _patched_update(original, windows):
    def update_distribution(self, dist_config, _id, if_match):
        with _LOCK:
            dist = _current(self, _id, if_match)
            if dist_config and dist_config.get("CallerReference") != dist.distribution_config.caller_reference:
                raise _exception("IllegalUpdate", "The update contains modifications that are not allowed: CallerReference cannot change.")
            _check_aliases(self, _aliases(dist_config), own_id=_id)
            _check_viewer_certificate(self, dist_config)
            dist, location, _etag = original(self, dist_config, _id, if_match)
            _start_deployment(dist, windows)
            return dist, location, dist.etag
    return update_distribution


def _patched_delete(original):
    def delete_distribution(self, distribution_id, if_match):
        with _LOCK:
            dist = _current(self, distribution_id, if_match)
            enabled = _truthy(getattr(dist.distribution_config, "Enabled", False))
            if enabled or dist.status != "Deployed":
                raise _exception("DistributionNotDisabled", "The distribution you are trying to delete has not been disabled. (%s: %s, %s)" % (
                    distribution_id, "enabled" if enabled else "disabled", dist.status))
            original(self, distribution_id, if_match)
    return delete_distribution


def _patched_behaviour_init(original):
    """moto drops FunctionAssociations and LambdaFunctionAssociations; CloudFront keeps them."""
    def __init__(self, config):  # pylint: disable=invalid-name
        original(self, config)
        for key, attr in (("FunctionAssociations", "function_associations"), ("LambdaFunctionAssociations", "lambda_function_associations")):
            value = config.get(key)
            if isinstance(value, dict) and value.get("Items"):
                items = value["Items"]
                setattr(self, attr, {"Quantity": len(items), "Items": items})
    return __init__


def _patched_viewer_init(original):
    """moto says CloudFrontDefaultCertificate true beside an ACM certificate; CloudFront says false."""
    def __init__(self, config):  # pylint: disable=invalid-name
        original(self, config)
        if config.get("ACMCertificateArn") and "CloudFrontDefaultCertificate" not in config:
            self.cloud_front_default_certificate = False
        if config.get("ACMCertificateArn"):
            self.certificate_source = "acm"
            self.certificate = config["ACMCertificateArn"]
    return __init__


def install(windows, context):
    """Patch moto's cloudfront backend with AWS's behaviour (see realism.py)."""
    del context
    # pylint: disable=import-outside-toplevel
    from moto.cloudfront import models
    if _INSTALLED["windows"] is not None:
        _INSTALLED["windows"] = windows
        return
    backend = models.CloudFrontBackend
    backend.create_distribution_with_tags = _patched_create(backend.create_distribution_with_tags, windows)
    backend.update_distribution = _patched_update(backend.update_distribution, windows)
    backend.delete_distribution = _patched_delete(backend.delete_distribution)
    models.Distribution.status = _status(models.Distribution.status)
    models.DefaultCacheBehaviour.__init__ = _patched_behaviour_init(models.DefaultCacheBehaviour.__init__)
    models.ViewerCertificate.__init__ = _patched_viewer_init(models.ViewerCertificate.__init__)
    _INSTALLED["windows"] = windows
    _LOG.info("CloudFront: ETags, If-Match, InProgress %.2f s, delete rules, CNAMEAlreadyExists, InvalidViewerCertificate, "
              "CallerReference once", windows.cloudfront_in_progress)
