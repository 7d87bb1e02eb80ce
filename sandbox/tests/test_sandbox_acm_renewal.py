# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ACM renewal hook of realism_acm.py (``<state>/acm-renewal.json``), without a daemon.

The end-to-end exercise (verify reports it, a setup re-run repairs it) is
tests/reliability/test_verify.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from linktrack_sandbox import realism_acm

DOMAIN = "links.example.com"
RECORD = ("_abc.links.example.com.", "_def.xyz.acm-validations.aws.")
NOW = 1_800_000_000.0
DAY = 86400.0


def described(not_after=NOW + 300 * DAY):
    return {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x", "DomainName": DOMAIN,
            "NotAfter": not_after, "DomainValidationOptions": [{
                "DomainName": DOMAIN, "ValidationMethod": "DNS", "ValidationStatus": "SUCCESS",
                "ResourceRecord": {"Name": RECORD[0], "Type": "CNAME", "Value": RECORD[1]}}]}


def hook(tmp_path, entries):
    path = tmp_path / realism_acm.RENEWAL_FILE
    path.write_text(json.dumps(entries))
    return realism_acm.RenewalHook(str(path), clock=lambda: NOW)


def answers(value):
    return lambda name, want: value


def test_without_an_entry_nothing_changes(tmp_path):
    cert = described()
    hook(tmp_path, {"other.example.com": {"not_after_days": 20}}).apply(cert, realism_acm.CertState(0), True, answers(True))
    assert cert == described()
    missing = realism_acm.RenewalHook(str(tmp_path / "none.json"), clock=lambda: NOW)
    missing.apply(cert, realism_acm.CertState(0), True, answers(True))
    assert cert == described()


def test_a_missing_cname_leaves_the_renewal_pending_validation(tmp_path):
    cert = described()
    hook(tmp_path, {DOMAIN: {"not_after_days": 20}}).apply(cert, realism_acm.CertState(0), True, answers(False))
    assert cert["NotAfter"] == NOW + 20 * DAY
    assert cert["RenewalSummary"]["RenewalStatus"] == "PENDING_VALIDATION"
    assert cert["RenewalSummary"]["DomainValidationOptions"][0]["ValidationStatus"] == "PENDING_VALIDATION"


def test_in_use_and_the_cname_answering_renews_for_good(tmp_path):
    state = realism_acm.CertState(0)
    the_hook = hook(tmp_path, {DOMAIN: {"not_after_days": 20}})
    cert = described()
    the_hook.apply(cert, state, True, answers(True))
    assert cert["RenewalSummary"]["RenewalStatus"] == "SUCCESS"
    assert cert["NotAfter"] == NOW + realism_acm.RENEWED_VALIDITY_DAYS * DAY
    # renewed stays renewed, even when the CNAME goes later
    again = described()
    the_hook.apply(again, state, True, answers(False))
    assert again["RenewalSummary"]["RenewalStatus"] == "SUCCESS" and again["NotAfter"] == cert["NotAfter"]


def test_not_in_use_is_not_renewed(tmp_path):
    cert = described()
    hook(tmp_path, {DOMAIN: {"not_after_days": 20}}).apply(cert, realism_acm.CertState(0), False, answers(True))
    assert cert["NotAfter"] == NOW + 20 * DAY and "RenewalSummary" not in cert


def test_outside_the_renewal_window_only_notafter_moves(tmp_path):
    cert = described()
    hook(tmp_path, {DOMAIN: {"not_after_days": 90}}).apply(cert, realism_acm.CertState(0), True, answers(True))
    assert cert["NotAfter"] == NOW + 90 * DAY and "RenewalSummary" not in cert


def test_an_explicit_status_is_reported_as_given(tmp_path):
    cert = described()
    hook(tmp_path, {DOMAIN: {"not_after_days": 10, "renewal_status": "FAILED", "renewal_status_reason": "CAA_ERROR"}}
         ).apply(cert, realism_acm.CertState(0), True, answers(True))
    assert cert["RenewalSummary"]["RenewalStatus"] == "FAILED"
    assert cert["RenewalSummary"]["RenewalStatusReason"] == "CAA_ERROR"
    assert cert["NotAfter"] == NOW + 10 * DAY


def test_the_file_is_read_again_when_it_changes(tmp_path):
    the_hook = hook(tmp_path, {DOMAIN: {"not_after_days": 20}})
    assert DOMAIN in the_hook.entries()
    path = tmp_path / realism_acm.RENEWAL_FILE
    path.write_text(json.dumps({"b.example.com": {"not_after_days": 5}, "bad": 1}))
    os.utime(str(path), ns=(1, 1))
    assert list(the_hook.entries()) == ["b.example.com"]
    path.write_text("not json")
    os.utime(str(path), ns=(2, 2))
    assert the_hook.entries() == {}
