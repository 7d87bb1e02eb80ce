# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A proxy in front of the sandbox's AWS emulator that answers some requests the
way real AWS does where the emulator cannot: an alias held by another account
(CloudFront's CNAMEAlreadyExists), a certificate that stays in
PENDING_VALIDATION, a certificate that failed validation. Everything else goes
to the emulator unchanged. Used to capture the real error messages the
modules give in those cases (tests/contract/test_troubleshooting.py), and to
count the AWS requests of one run (``requests``), which the sandbox's own
counters cannot tell apart when tests run in parallel.

It is the reliability suite's fault proxy (tests/reliability/faultproxy.py)
with its fault rate at 0 and these answers in its ``intercept`` and
``rewrite`` hooks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reliability"))
import faultproxy  # noqa: E402  pylint: disable=wrong-import-position

CNAME_ALREADY_EXISTS = (
    b'<?xml version="1.0"?>\n<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
    b"<Error><Type>Sender</Type><Code>CNAMEAlreadyExists</Code><Message>One or more of the CNAMEs you provided "
    b"are already associated with a different resource.</Message></Error>"
    b"<RequestId>5f1b5c1e-0000-4000-8000-linktracktest</RequestId></ErrorResponse>"
)


def throttling_proxy(backend_url):
    """A started proxy in front of ``backend_url`` that answers every request with AWS's throttling error."""
    return faultproxy.FaultProxy(backend_url, rate=1.0, kinds="throttling").start()


class FaultProxy(faultproxy.FaultProxy):
    """Forwards to ``backend_url`` (started at once); ``taken_aliases``, ``pending_domains``
    and ``failed_domains`` pick what is answered like AWS."""

    def __init__(self, backend_url):
        super(FaultProxy, self).__init__(backend_url, rate=0.0)
        self.taken_aliases = set()
        self.pending_domains = set()
        self.failed_domains = {}  # domain -> FailureReason
        self.faults = []
        self.start()

    @property
    def requests(self):
        """AWS requests that reached the proxy."""
        return self.stats()["requests"]

    def _note(self, what):
        with self.lock:
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
