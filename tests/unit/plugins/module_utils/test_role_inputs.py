# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of module_utils/_role_inputs.py (the role's preflight) and of the iterable_report filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.linktrack.https.plugins.filter.iterable_report import iterable_report
from ansible_collections.linktrack.https.plugins.module_utils._role_inputs import check, run_module

SECRET = "c2VjcmV0LXRoYXQtaXMtb25seS1mb3ItdGVzdHMtMDEyMzQ1Njc4OTAxMjM0NQ=="


def good(**kw):
    p = dict(name="Links.Example.com.", iterable_region="usdc", aws_region="us-east-1", aws_endpoint_url="",
             dns_provider="route53", dns_record_type="cname", dns_servers=[], dns_ttl=300, route53_zone="",
             rfc2136_server="", rfc2136_port=53, rfc2136_zone="", rfc2136_key_name="", rfc2136_key_secret="",
             ca_path="", certificate_timeout=3600, validation_timeout=300, deploy_timeout=2400, dns_timeout=600,
             manual_timeout=3600, tls_wait_timeout=300, iterable_wait_timeout=120, tls_min_days_valid=14,
             edge_https_port=443, edge_http_port=80, teardown_confirm=None)
    p.update(kw)
    return p


def test_good_inputs_give_the_domain_and_the_origin_from_the_one_table():
    facts, errors = check(good(iterable_region="edc"))
    assert errors == []
    assert facts["domain"] == "links.example.com" and facts["origin"] == "links.eu.iterable.com"


@pytest.mark.parametrize("kw, variable", [
    (dict(name="https://links.example.com"), "link_domain_name"),
    (dict(name="*.example.com"), "link_domain_name"),
    (dict(name="links"), "link_domain_name"),
    (dict(name="links_x.example.com"), "link_domain_name"),
    (dict(name="192.0.2.10"), "link_domain_name"),
    (dict(name="l" * 55 + ".example.com"), "link_domain_name"),
    (dict(aws_region="eu-west-1"), "link_domain_aws_region"),
    (dict(dns_provider="manual", dns_record_type="alias"), "link_domain_dns_record_type"),
    (dict(dns_provider="rfc2136", rfc2136_server="ns1.example.com", rfc2136_key_name="k", rfc2136_key_secret=SECRET),
     "link_domain_rfc2136_server"),
    (dict(dns_provider="rfc2136", rfc2136_server="127.0.0.1", rfc2136_key_name="k"), "link_domain_rfc2136_key_secret"),
    (dict(dns_provider="rfc2136", rfc2136_server="127.0.0.1", rfc2136_key_name="k", rfc2136_key_secret="no base64!"),
     "link_domain_rfc2136_key_secret"),
    (dict(dns_provider="rfc2136", rfc2136_server="127.0.0.1", rfc2136_key_secret=SECRET), "link_domain_rfc2136_key_name"),
    (dict(dns_provider="rfc2136", rfc2136_server="127.0.0.1", rfc2136_key_name="k", rfc2136_key_secret=SECRET,
          rfc2136_zone="example.org"), "link_domain_rfc2136_zone"),
    (dict(route53_zone="example.org"), "link_domain_route53_zone"),
    (dict(dns_servers=["127.0.0.1:70000"]), "link_domain_dns_servers"),
    (dict(dns_servers=["a b"]), "link_domain_dns_servers"),
    (dict(aws_endpoint_url="ftp://x"), "link_domain_aws_endpoint_url"),
    (dict(ca_path="/no/such/file.pem"), "link_domain_ca_path"),
    (dict(dns_ttl=-1), "link_domain_dns_ttl"),
    (dict(edge_https_port=0), "link_domain_edge_https_port"),
    (dict(rfc2136_port=70000), "link_domain_rfc2136_port"),
    (dict(dns_timeout=0), "link_domain_dns_timeout"),
    (dict(teardown_confirm="other.example.com"), "link_domain_teardown_confirm"),
])
def test_each_problem_names_its_variable(kw, variable):
    _facts, errors = check(good(**kw))
    assert len(errors) == 1, errors
    assert errors[0].startswith(variable + ":")


def test_every_problem_at_once_and_the_secret_is_never_shown():
    result = run_module(good(aws_region="eu-west-1", dns_provider="rfc2136", rfc2136_key_secret="secret!!",
                             rfc2136_server=""))
    assert result["failed"] is True and len(result["errors"]) == 4
    assert "secret!!" not in result["msg"]
    assert "link_domain_aws_region" in result["msg"] and "link_domain_rfc2136_server" in result["msg"]


def test_teardown_confirm_matches_the_normalised_domain():
    assert check(good(teardown_confirm="LINKS.example.com."))[1] == []


def test_iterable_report_without_a_result_and_with_checks():
    assert iterable_report({}, "links.example.com")[1].startswith("STEP 6 NOT VERIFIED for links.example.com")
    result = {"passed": False, "iterable_app_url": "https://app.iterable.com",
              "iterable_steps": [{"what": "Add the domain", "ready": True}, {"what": "Enable HTTPS", "ready": False}],
              "checks": {"tls": {"status": "passed", "reason": "ok"}}}
    lines = iterable_report(result, "links.example.com")
    assert lines[1] == "ACTION NEEDED IN ITERABLE for links.example.com (https://app.iterable.com)"
    assert "  2. Enable HTTPS  [NOT YET: the checks below must pass first]" in lines
    assert "  check tls: passed - ok" in lines
    result["passed"] = True
    assert "verified end to end" in iterable_report(result, "links.example.com", True)[1]
