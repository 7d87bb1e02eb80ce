# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Races between two runs for the same domain, made deterministic.

test_concurrency.py starts two runs at once and sometimes (not always) sees
this interleaving; here it is forced against the real emulator: two matching
certificates exist (two runs raced past the idempotency token), and the
other run deletes the one it lost exactly between our ListCertificates and
our ListTagsForCertificate. The ACM module must take the certificate that is
left, not fail.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid

import pytest

import relhelpers


class _OtherRunDeletesFirst:
    """The real boto3 ACM client, except that the other run deletes ``victim`` before our first tag read."""

    def __init__(self, client, victim):
        self._client = client
        self._victim = victim
        self.deleted = False

    def __getattr__(self, name):
        return getattr(self._client, name)

    def list_tags_for_certificate(self, **kwargs):
        if not self.deleted:
            self._client.delete_certificate(CertificateArn=self._victim)
            self.deleted = True
        return self._client.list_tags_for_certificate(**kwargs)


def _until_listed(acm, arns, timeout=30.0):
    """ACM leaves a new certificate out of ListCertificates for a while (the sandbox does the same): wait until it shows."""
    deadline = time.monotonic() + timeout
    while True:
        listed = set(c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"])
        if set(arns) <= listed:
            return
        assert time.monotonic() < deadline, "ACM did not list %s within %.0f s" % (sorted(set(arns) - listed), timeout)
        time.sleep(0.2)


def test_acm_certificate_deleted_by_the_other_run_between_list_and_tags(sandbox):
    acm_mod = relhelpers.collection_import("_acm")
    common = relhelpers.collection_import("_common")
    acm = sandbox.client("acm")
    domain = "race-%s.example.com" % uuid.uuid4().hex[:6]
    arns = [acm.request_certificate(DomainName=domain, ValidationMethod="DNS", IdempotencyToken="race%d" % i)[
        "CertificateArn"] for i in (1, 2)]
    assert arns[0] != arns[1]
    # the older one wins the deterministic order, so the other run deletes the newer one: ours must survive it
    # whichever of the two the tag read meets first
    for victim in (arns[1], arns[0]):
        _until_listed(acm, arns)
        client = _OtherRunDeletesFirst(acm, victim)
        spec = acm_mod.build_spec({"domain_name": domain, "state": "present", "key_algorithm": "RSA_2048",
                                   "subject_alternative_names": [], "wait": False, "wait_timeout": 60,
                                   "validation_timeout": 60, "force": False, "tags": None, "certificate_arn": None})
        manager = acm_mod.AcmCertificateManager(client, common.AwsCaller(base_delay=0.01), check_mode=True)
        try:
            result = manager.run(spec)
        except Exception as exc:  # noqa: BLE001 - the failure is the finding
            pytest.fail("a certificate deleted by a concurrent run between ListCertificates and "
                        "ListTagsForCertificate made the module fail: %s" % exc)
        assert client.deleted
        left = [a for a in arns if a != victim]
        assert result["arn"] in left, (result["arn"], left)
        # put the deleted one back for the next round
        arns = left + [acm.request_certificate(DomainName=domain, ValidationMethod="DNS",
                                               IdempotencyToken="race-again")["CertificateArn"]]
