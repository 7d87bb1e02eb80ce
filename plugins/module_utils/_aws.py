# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AWS glue shared by the collection's AWS modules.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

The modules build an ``AnsibleAWSModule`` (amazon.aws), so they take the
standard AWS connection options and belong to ``group/linktrack.https.aws``.
Everything here is the thin layer between that module object and the plain
logic classes, which take a boto3 client and an ``AwsCaller``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linktrack.https.plugins.module_utils._common import AwsCaller, LinktrackError

# CloudFront only takes ACM certificates from us-east-1; its own API is global
# and is signed for us-east-1 too.
CLOUDFRONT_REGION = "us-east-1"

# The tag every resource created by this collection carries.
MANAGED_TAG_KEY = "linktrack.https:managed"
MANAGED_TAG_VALUE = "true"


def clean_tags(tags, what):
    """Validate the ``tags`` option; returns ``{str: str}`` (``None`` when not given).

    ``what`` names the resources the module creates, for the message about the
    reserved ``MANAGED_TAG_KEY``. Limits are the ones ACM and CloudFront share:
    keys of 1 to 128 characters not starting with ``aws:``, values of at most
    256 characters.
    """
    if tags is None:
        return None
    if not isinstance(tags, dict):
        raise LinktrackError("tags: must be a dictionary of tag names to values.", field="tags")
    clean = {}
    for key, value in tags.items():
        key = str(key)
        if not key or len(key) > 128 or key.lower().startswith("aws:"):
            raise LinktrackError(
                "tags: %r is not a usable tag key (1 to 128 characters, not starting with aws:)." % (key,),
                field="tags",
            )
        if key == MANAGED_TAG_KEY:
            raise LinktrackError(
                "tags: %s is reserved; the collection sets it on every %s it creates. "
                "Leave it out of tags." % (MANAGED_TAG_KEY, what),
                field="tags",
            )
        value = "" if value is None else str(value)
        if len(value) > 256:
            raise LinktrackError("tags: the value of %r is longer than 256 characters." % (key,), field="tags")
        clean[key] = value
    return clean


def check_region(params, what):
    """Fail before any call when ``params`` ask for a region other than us-east-1.

    Returns the region to use. An unset region means us-east-1.
    """
    region = params.get("region")
    if region and region != CLOUDFRONT_REGION:
        raise LinktrackError(
            "region: %s must run in %s because CloudFront only accepts ACM certificates "
            "from that region, but region is %r. Set region: %s (or leave it unset)."
            % (what, CLOUDFRONT_REGION, region, CLOUDFRONT_REGION),
            field="region",
        )
    return CLOUDFRONT_REGION


def client_config():
    """The botocore ``Config`` of every client the collection builds.

    botocore's own retries are turned off (``total_max_attempts`` 1 is one
    attempt; ``max_attempts`` would count retries, not attempts): retries live
    in one place, the collection's ``AwsCaller``, so they can be counted and
    bounded.
    """
    from botocore.config import Config  # imported late: the module checks for botocore first

    return Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60)


def aws_client(module, service):
    """A boto3 client for ``service`` in us-east-1, built by ``module.client``.

    ``module`` is the ``AnsibleAWSModule`` (or, in the worker process, the
    action plugin's stand-in for it); the connection options (profile, keys,
    endpoint, CA bundle...) are its parameters.
    """
    return module.client(service, region=CLOUDFRONT_REGION, config=client_config())


def new_caller(module=None):
    """The ``AwsCaller`` a module uses for every call."""
    return AwsCaller()
