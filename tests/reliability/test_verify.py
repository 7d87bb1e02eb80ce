# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/verify_link_domain.yml against the sandbox: renewal trouble, drift, read only.

Renewal exercised (issue 16, part 3): the sandbox's renewal hook
(``<state>/acm-renewal.json``, sandbox/README.md) makes the certificate expire in
20 days, and the validation CNAME is deleted as in a DNS clean-up. Verify must
report it with the right reasons; a setup re-run publishes the CNAME again; ACM's
managed renewal (as the sandbox emulates it) then succeeds and verify passes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import xml.etree.ElementTree as ET  # nosec - parses files this test wrote

import relhelpers

VERIFY = os.path.join(relhelpers.ROOT, "playbooks", "verify_link_domain.yml")
WRITE_PREFIXES = ("Create", "Update", "Delete", "Request", "Change", "Put", "Add", "Remove", "Associate", "Import",
                  "Tag", "Untag", "Renew", "Resend")


def _inventory(tmp_path, domain, provider="route53"):
    path = tmp_path / ("%s.yml" % domain)
    path.write_text("tracking_domains:\n  hosts:\n    %s:\n      link_domain_dns_provider: %s\n"
                    "      link_domain_dns_record_type: cname\n" % (domain, provider))
    return str(path)


def _playbook(playbook, inventory, tmp_path, extra=()):
    cmd = ([os.path.join(relhelpers.VENV_BIN, "ansible-playbook"), "-i", inventory] + relhelpers.sandbox_var_args()
           + ["-e", "link_domain_verify_report_dir=%s" % tmp_path, "-e",
              "link_domain_verify_prometheus_path=%s" % (tmp_path / "verify.prom")] + list(extra) + [playbook])
    env = relhelpers.ansible_env({"SANDBOX_ENV_FILE": relhelpers.sandbox_env_file()})
    return relhelpers.run(cmd, env=env, timeout=900)


def _verify(inventory, tmp_path, extra=()):
    for name in ("verify-report.json", "verify-junit.xml", "verify.prom"):
        if (tmp_path / name).exists():
            (tmp_path / name).unlink()
    proc = _playbook(VERIFY, inventory, tmp_path, extra)
    assert (tmp_path / "verify-report.json").exists(), proc.stdout[-3000:] + proc.stderr[-2000:]
    report = json.loads((tmp_path / "verify-report.json").read_text())
    checks = dict((c["name"], c) for c in report["domains"][0]["checks"])
    return proc, report, checks


def _validation_record(sandbox, domain):
    acm = sandbox.client("acm")
    for summary in acm.list_certificates(Includes={"keyTypes": ["RSA_2048"]})["CertificateSummaryList"]:
        if summary["DomainName"] == domain:
            cert = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
            return cert["DomainValidationOptions"][0]["ResourceRecord"]
    raise AssertionError("no certificate for %s" % domain)


def _delete_route53_cname(sandbox, record):
    route53 = sandbox.client("route53")
    zone = sandbox["SANDBOX_R53_ZONE_ID"]
    sets = route53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=record["Name"], StartRecordType="CNAME")
    found = [s for s in sets["ResourceRecordSets"] if s["Name"].rstrip(".") == record["Name"].rstrip(".") and s["Type"] == "CNAME"]
    assert found, "the validation CNAME %s is not in the zone" % record["Name"]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": found[0]}]})


def _renewal_hook(sandbox, entries):
    path = os.path.join(sandbox["SANDBOX_STATE_DIR"], "acm-renewal.json")
    with open(path, "w") as stream:
        json.dump(entries, stream)
    return path


def _write_actions(before, after):
    """The write operations the emulator counted between two stats."""
    grown = {}
    for action, count in (after.get("actions") or {}).items():
        if count > (before.get("actions") or {}).get(action, 0) and action.split(":", 1)[-1].startswith(WRITE_PREFIXES):
            grown[action] = count - (before.get("actions") or {}).get(action, 0)
    return grown


def test_renewal_trouble_is_reported_and_a_setup_rerun_repairs_it(sandbox, tmp_path):
    domain = "links-renew16.%s" % sandbox.zone
    inventory = _inventory(tmp_path, domain)
    proc = _playbook(relhelpers.PLAYBOOK, inventory, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]

    proc, report, checks = _verify(inventory, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert report["passed"] and report["domains"][0]["status"] == "passed", checks
    assert checks["certificate_renewal"]["reason"].startswith("ELIGIBLE")
    assert report["domains"][0]["aws_requests"] <= 4

    # the certificate approaches expiry and someone deletes the validation CNAME in a DNS clean-up
    record = _validation_record(sandbox, domain)
    hook = _renewal_hook(sandbox, {domain: {"not_after_days": 20}})
    try:
        _delete_route53_cname(sandbox, record)
        assert sandbox.r53_query(record["Name"], "CNAME") == []

        before = sandbox.stats()
        # --limit: the report play must still run and fail the run (a play on localhost was skipped)
        proc, report, checks = _verify(inventory, tmp_path, ["--check", "--limit", domain])
        after = sandbox.stats()
        assert _write_actions(before, after) == {}
        assert proc.returncode != 0, "verify must fail the run"
        assert "failed verification: %s" % domain in proc.stdout
        assert checks["certificate_expiry"]["status"] == "warning"
        assert checks["certificate_expiry"]["reason"].startswith(("19 days left", "20 days left")), checks["certificate_expiry"]
        assert checks["certificate_renewal"]["status"] == "failed"
        assert "PENDING_VALIDATION" in checks["certificate_renewal"]["reason"]
        assert domain in checks["certificate_renewal"]["reason"]
        assert checks["validation_record"]["status"] == "failed"
        assert record["Name"].rstrip(".").lower() in checks["validation_record"]["reason"]
        assert checks["certificate"]["status"] == "passed"
        assert checks["end_to_end"]["status"] == "passed"
        junit = ET.parse(str(tmp_path / "verify-junit.xml")).getroot()
        failed = sorted(c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None)
        assert failed == ["certificate_renewal", "validation_record"]
        prom = (tmp_path / "verify.prom").read_text()
        assert 'linktrack_check_passed{domain="%s",check="validation_record"} 0' % domain in prom
        assert 'linktrack_certificate_days_left{domain="%s"} ' % domain in prom

        # a setup re-run publishes the validation CNAME again; ACM's managed renewal then succeeds
        proc = _playbook(relhelpers.PLAYBOOK, inventory, tmp_path)
        assert proc.returncode == 0, proc.stdout[-4000:]
        expected = record["Value"].rstrip(".").lower() + "."
        assert sandbox.r53_query(record["Name"], "CNAME") == [expected]

        proc, report, checks = _verify(inventory, tmp_path)
        assert proc.returncode == 0, proc.stdout[-4000:]
        assert checks["certificate_renewal"]["status"] == "passed"
        assert "SUCCESS" in checks["certificate_renewal"]["reason"]
        assert checks["certificate_expiry"]["details"]["days_left"] >= 390
        assert checks["validation_record"]["status"] == "passed"
    finally:
        os.unlink(hook)


def test_drift_is_listed_field_by_field_and_verify_writes_nothing(sandbox, tmp_path):
    domain = "links-drift16.%s" % sandbox.zone
    inventory = _inventory(tmp_path, domain)
    proc = _playbook(relhelpers.PLAYBOOK, inventory, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]

    # someone edits the distribution in the console: viewer policy and default TTL
    cloudfront = sandbox.client("cloudfront")
    dist_id = [d["Id"] for d in cloudfront.list_distributions()["DistributionList"]["Items"]
               if domain in (d["Aliases"].get("Items") or [])][0]
    got = cloudfront.get_distribution_config(Id=dist_id)
    config = got["DistributionConfig"]
    config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "https-only"
    cloudfront.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=config)

    before = sandbox.stats()
    proc, report, checks = _verify(inventory, tmp_path)
    after = sandbox.stats()
    assert _write_actions(before, after) == {}
    assert proc.returncode != 0
    drift = checks["distribution_drift"]
    assert drift["status"] == "failed"
    fields = [d["field"] for d in drift["details"]["differences"]]
    assert any(f.endswith("ViewerProtocolPolicy") for f in fields), fields
    assert "https-only" in drift["reason"] and "allow-all" in drift["reason"]
    assert report["domains"][0]["aws_requests"] <= 4
    # https-only: the edge refuses plain HTTP, so links in old http:// emails break (step 6 sees it too)
    assert [n for n, c in checks.items() if c["status"] == "failed"] == ["distribution_drift", "end_to_end"]
    assert checks["end_to_end"]["reason"].startswith("http: ") or " | http: " in checks["end_to_end"]["reason"]

    # a setup re-run repairs it, and verify passes
    proc = _playbook(relhelpers.PLAYBOOK, inventory, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    proc, report, checks = _verify(inventory, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert checks["distribution_drift"]["status"] == "passed"
