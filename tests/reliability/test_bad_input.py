# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bad-input matrix: invalid inputs to the role and to the modules.

For every case: the run fails (the host fails, so ansible-playbook exits
non-zero), the message names the variable or option, the AWS emulator
receives ZERO write requests, and BIND's zone does not change.

To keep it fast the cases run in two ansible-playbook runs (one for the role,
one for the modules), each case as its own inventory host. Every case talks
to AWS through its own pass-through proxy (``faultproxy`` at rate 0), which
counts that case's requests, so the write count is exact per case. The
emulator's own counters, read before and after each batch, must agree with
the sum. BIND is compared by a TSIG-signed zone transfer before and after.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import uuid

import pytest
import yaml

import faultproxy
import relhelpers

A = "arn:aws:acm:%s:123456789012:certificate/0b3e2d4c-1111-2222-3333-444455556666"
WRONG_SECRET = "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1zYW5kYm94LWtleS0wMTIzNDU2Nzg5MDE="

# (case id, host variables, strings the failure message must contain)
# Unless the case says otherwise the host uses Route 53 and a domain of its own.
ROLE_CASES = [
    # --- domain forms ------------------------------------------------------
    ("name-scheme", {"link_domain_name": "https://links.example.com"}, ["link_domain_name"]),
    ("name-path", {"link_domain_name": "links.example.com/click"}, ["link_domain_name"]),
    ("name-space", {"link_domain_name": "links example.com"}, ["link_domain_name"]),
    ("name-port", {"link_domain_name": "links.example.com:443"}, ["link_domain_name"]),
    ("name-wildcard", {"link_domain_name": "*.example.com"}, ["link_domain_name"]),
    ("name-single-label", {"link_domain_name": "links"}, ["link_domain_name"]),
    ("name-empty-label", {"link_domain_name": "links..example.com"}, ["link_domain_name"]),
    ("name-leading-hyphen", {"link_domain_name": "-links.example.com"}, ["link_domain_name"]),
    ("name-underscore", {"link_domain_name": "links_1.example.com"}, ["link_domain_name"]),
    ("name-label-64", {"link_domain_name": "a" * 64 + ".example.com"}, ["link_domain_name"]),
    ("name-over-64-for-acm", {"link_domain_name": "l" * 55 + ".example.com"}, ["link_domain_name", "64"]),
    ("name-ip-address", {"link_domain_name": "192.0.2.10"}, ["link_domain_name"]),
    ("name-empty", {"link_domain_name": ""}, ["link_domain_name"]),
    ("name-zone-apex-cname", {"link_domain_name": "example.com", "link_domain_dns_record_type": "cname"},
     ["link_domain_dns_record_type"]),
    ("name-no-hosted-zone", {"link_domain_name": "links.no-such-zone.test"}, ["link_domain_name"]),
    # --- regions -------------------------------------------------------------
    ("region-iterable-unknown", {"link_domain_iterable_region": "apac"}, ["link_domain_iterable_region"]),
    ("region-iterable-case", {"link_domain_iterable_region": "USDC"}, ["link_domain_iterable_region"]),
    ("region-aws-not-us-east-1", {"link_domain_aws_region": "eu-west-1"}, ["link_domain_aws_region"]),
    # --- providers and record types -------------------------------------------
    ("provider-unknown", {"link_domain_dns_provider": "cloudflare"}, ["link_domain_dns_provider"]),
    ("record-type-unknown", {"link_domain_dns_record_type": "mx"}, ["link_domain_dns_record_type"]),
    ("alias-with-rfc2136", {"link_domain_dns_provider": "rfc2136", "link_domain_dns_record_type": "alias"},
     ["link_domain_dns_record_type"]),
    ("alias-with-manual", {"link_domain_dns_provider": "manual", "link_domain_dns_record_type": "alias"},
     ["link_domain_dns_record_type"]),
    ("route53-zone-elsewhere", {"link_domain_route53_zone": "example.org"}, ["link_domain_route53_zone"]),
    ("route53-zone-id-unknown", {"link_domain_route53_zone_id": "Z0000000000NOTTHERE"}, ["link_domain_route53_zone_id"]),
    # --- RFC 2136: server, port, zone, TSIG -----------------------------------
    ("rfc2136-no-server", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_server": ""},
     ["link_domain_rfc2136_server"]),
    ("rfc2136-server-not-ip", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_server": "ns1.example.com"},
     ["link_domain_rfc2136_server"]),
    ("rfc2136-port-0", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_port": 0}, ["link_domain_rfc2136_port"]),
    ("rfc2136-port-70000", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_port": 70000},
     ["link_domain_rfc2136_port"]),
    ("rfc2136-port-word", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_port": "domain"},
     ["link_domain_rfc2136_port"]),
    ("rfc2136-zone-elsewhere", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_zone": "example.org"},
     ["link_domain_rfc2136_zone"]),
    ("tsig-no-key-name", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_name": ""},
     ["link_domain_rfc2136_key_name"]),
    ("tsig-no-secret", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_secret": ""},
     ["link_domain_rfc2136_key_secret"]),
    ("tsig-algorithm-unknown", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_algorithm": "hmac-sha3"},
     ["link_domain_rfc2136_key_algorithm"]),
    ("tsig-algorithm-bare", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_algorithm": "sha256"},
     ["link_domain_rfc2136_key_algorithm"]),
    ("tsig-secret-not-base64", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_secret": "not base64 !!"},
     ["link_domain_rfc2136_key_secret"]),
    ("tsig-secret-wrong", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_secret": WRONG_SECRET},
     ["link_domain_rfc2136_key"]),
    ("tsig-key-name-unknown", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_name": "no-such-key"},
     ["link_domain_rfc2136_key"]),
    ("tsig-algorithm-mismatch", {"link_domain_dns_provider": "rfc2136", "link_domain_rfc2136_key_algorithm": "hmac-sha512"},
     ["link_domain_rfc2136_key"]),
    # --- ports, timeouts, other values ---------------------------------------
    ("edge-https-port-0", {"link_domain_edge_https_port": 0}, ["link_domain_edge_https_port"]),
    ("edge-http-port-65536", {"link_domain_edge_http_port": 65536}, ["link_domain_edge_http_port"]),
    ("dns-servers-bad-form", {"link_domain_dns_servers": ["udp://127.0.0.1/53"]}, ["link_domain_dns_servers"]),
    ("dns-servers-port-99999", {"link_domain_dns_servers": ["127.0.0.1:99999"]}, ["link_domain_dns_servers"]),
    ("dns-ttl-negative", {"link_domain_dns_ttl": -1}, ["link_domain_dns_ttl"]),
    ("certificate-timeout-0", {"link_domain_certificate_timeout": 0}, ["link_domain_certificate_timeout"]),
    ("validation-timeout-0", {"link_domain_validation_timeout": 0}, ["link_domain_validation_timeout"]),
    ("deploy-timeout-negative", {"link_domain_deploy_timeout": -5}, ["link_domain_deploy_timeout"]),
    ("dns-timeout-0", {"link_domain_dns_timeout": 0}, ["link_domain_dns_timeout"]),
    ("manual-timeout-0", {"link_domain_dns_provider": "manual", "link_domain_manual_timeout": 0},
     ["link_domain_manual_timeout"]),
    ("tls-wait-negative", {"link_domain_tls_wait_timeout": -1}, ["link_domain_tls_wait_timeout"]),
    ("iterable-wait-word", {"link_domain_iterable_wait_timeout": "soon"}, ["link_domain_iterable_wait_timeout"]),
    ("tls-min-days-negative", {"link_domain_tls_min_days_valid": -1}, ["link_domain_tls_min_days_valid"]),
    ("ca-path-missing", {"link_domain_ca_path": "/nonexistent/linktrack/ca.pem"}, ["link_domain_ca_path"]),
    ("key-algorithm-rsa1024", {"link_domain_certificate_key_algorithm": "RSA_1024"},
     ["link_domain_certificate_key_algorithm"]),
    ("tags-not-a-dict", {"link_domain_tags": ["team", "email"]}, ["link_domain_tags"]),
    ("endpoint-not-a-url", {"link_domain_aws_endpoint_url": "not a url"}, ["link_domain_aws_endpoint_url"]),
]

# (case id, module, arguments, strings the failure message must contain)
MODULE_CASES = [
    ("acm-domain-scheme", "acm_dns_certificate", {"domain_name": "https://m1.example.com"}, ["domain_name"]),
    ("acm-domain-wildcard", "acm_dns_certificate", {"domain_name": "*.example.com"}, ["domain_name"]),
    ("acm-no-name-no-arn", "acm_dns_certificate", {"state": "present"}, ["domain_name", "certificate_arn"]),
    ("acm-key-algorithm", "acm_dns_certificate", {"domain_name": "m2.example.com", "key_algorithm": "RSA_1024"},
     ["key_algorithm"]),
    ("acm-region", "acm_dns_certificate", {"domain_name": "m3.example.com", "region": "eu-west-1"}, ["region"]),
    ("acm-arn-other-region", "acm_dns_certificate", {"certificate_arn": A % "eu-west-1", "wait": True}, ["certificate_arn"]),
    ("acm-arn-malformed", "acm_dns_certificate", {"certificate_arn": "certificate/0b3e2d4c"}, ["certificate_arn"]),
    ("acm-wait-timeout-negative", "acm_dns_certificate", {"domain_name": "m4.example.com", "wait": True,
                                                          "wait_timeout": -1}, ["wait_timeout"]),
    ("acm-validation-timeout-0", "acm_dns_certificate", {"domain_name": "m5.example.com", "validation_timeout": 0},
     ["validation_timeout"]),
    ("acm-san-bad", "acm_dns_certificate", {"domain_name": "m6.example.com",
                                            "subject_alternative_names": ["bad name.example.com"]},
     ["subject_alternative_names"]),
    ("cf-no-certificate", "cloudfront_link_distribution", {"domain_name": "m7.example.com"}, ["certificate_arn"]),
    ("cf-arn-other-region", "cloudfront_link_distribution", {"domain_name": "m8.example.com",
                                                             "certificate_arn": A % "eu-west-1"}, ["certificate_arn"]),
    ("cf-iterable-region", "cloudfront_link_distribution", {"domain_name": "m9.example.com",
                                                            "certificate_arn": A % "us-east-1",
                                                            "iterable_region": "apac"}, ["iterable_region"]),
    ("cf-distribution-id-unknown", "cloudfront_link_distribution", {"domain_name": "m10.example.com",
                                                                    "certificate_arn": A % "us-east-1",
                                                                    "distribution_id": "E000000NOTTHERE"},
     ["distribution_id", "E000000NOTTHERE"]),
    ("cf-origin-scheme", "cloudfront_link_distribution", {"domain_name": "m11.example.com",
                                                          "certificate_arn": A % "us-east-1",
                                                          "origin_domain": "https://links.iterable.com"}, ["origin_domain"]),
    ("cf-domain-port", "cloudfront_link_distribution", {"domain_name": "m12.example.com:443",
                                                        "certificate_arn": A % "us-east-1"}, ["domain_name"]),
    ("cf-wait-timeout-0", "cloudfront_link_distribution", {"domain_name": "m13.example.com",
                                                           "certificate_arn": A % "us-east-1", "wait": True,
                                                           "wait_timeout": 0}, ["wait_timeout"]),
    ("cf-price-class", "cloudfront_link_distribution", {"domain_name": "m14.example.com",
                                                        "certificate_arn": A % "us-east-1",
                                                        "price_class": "PriceClass_999"}, ["price_class"]),
    ("cf-region", "cloudfront_link_distribution", {"domain_name": "m15.example.com", "certificate_arn": A % "us-east-1",
                                                   "region": "ap-south-1"}, ["region"]),
    ("r53-type-mx", "route53_records", {"zone": "example.com",
                                        "records": [{"name": "m16.example.com", "type": "MX", "value": "10 mx.example.com"}]},
     ["type"]),
    ("r53-name-bad", "route53_records", {"zone": "example.com",
                                         "records": [{"name": "m17 .example.com", "type": "CNAME", "value": "x.example.net"}]},
     ["name"]),
    ("r53-ttl-negative", "route53_records", {"zone": "example.com",
                                             "records": [{"name": "m18.example.com", "type": "CNAME",
                                                          "value": "x.example.net", "ttl": -1}]}, ["ttl"]),
    ("r53-zone-id-unknown", "route53_records", {"hosted_zone_id": "Z0000000000NOTTHERE",
                                                "records": [{"name": "m19.example.com", "type": "CNAME",
                                                             "value": "x.example.net"}]}, ["hosted_zone_id"]),
    ("r53-cname-two-values", "route53_records", {"zone": "example.com",
                                                 "records": [{"name": "m20.example.com", "type": "CNAME",
                                                              "values": ["a.example.net", "b.example.net"]}]},
     ["CNAME"]),
    ("r53-alias-and-value", "route53_records", {"zone": "example.com",
                                                "records": [{"name": "m21.example.com", "type": "A", "value": "192.0.2.1",
                                                             "alias": {"dns_name": "d111111abcdef8.cloudfront.net"}}]},
     ["alias"]),
    ("r53-name-outside-zone", "route53_records", {"zone": "example.com",
                                                  "records": [{"name": "links.example.org", "type": "CNAME",
                                                               "value": "x.example.net"}]}, ["zone"]),
    ("r53-no-value", "route53_records", {"zone": "example.com",
                                         "records": [{"name": "m22.example.com", "type": "CNAME"}]}, ["value"]),
    ("wait-type-mx", "dns_record_wait", {"name": "m23.example.com", "type": "MX", "values": ["x"]}, ["type"]),
    ("wait-port-0", "dns_record_wait", {"name": "m24.example.com", "type": "CNAME", "values": ["x.example.net"],
                                        "servers": ["127.0.0.1"], "port": 0}, ["port"]),
    ("wait-timeout-0", "dns_record_wait", {"name": "m25.example.com", "type": "CNAME", "values": ["x.example.net"],
                                           "servers": ["127.0.0.1"], "timeout": 0}, ["timeout"]),
    ("wait-server-bad", "dns_record_wait", {"name": "m26.example.com", "type": "CNAME", "values": ["x.example.net"],
                                            "servers": ["udp://127.0.0.1/53"]}, ["servers"]),
    ("wait-name-bad", "dns_record_wait", {"name": "m27..example.com", "type": "CNAME", "values": ["x.example.net"],
                                          "servers": ["127.0.0.1"]}, ["name"]),
    ("tls-port-70000", "tls_sni_check", {"server_name": "m28.example.com", "connect_host": "127.0.0.1", "port": 70000},
     ["port"]),
    ("tls-min-version", "tls_sni_check", {"server_name": "m29.example.com", "connect_host": "127.0.0.1",
                                          "min_tls_version": "TLSv1.0"}, ["min_tls_version"]),
    ("tls-server-scheme", "tls_sni_check", {"server_name": "https://m30.example.com"}, ["server_name"]),
    ("tls-timeout-0", "tls_sni_check", {"server_name": "m31.example.com", "connect_host": "127.0.0.1", "timeout": 0},
     ["timeout"]),
    ("tls-ca-missing", "tls_sni_check", {"server_name": "m32.example.com", "connect_host": "127.0.0.1",
                                         "ca_path": "/nonexistent/ca.pem"}, ["ca_path"]),
    ("itd-region", "iterable_tracking_domain", {"domain_name": "m33.example.com", "iterable_region": "apac"},
     ["iterable_region"]),
    ("itd-https-port-0", "iterable_tracking_domain", {"domain_name": "m34.example.com", "https_port": 0},
     ["https_port"]),
    ("itd-domain-bad", "iterable_tracking_domain", {"domain_name": "m35 example.com"}, ["domain_name"]),
    ("itd-dns-servers-bad", "iterable_tracking_domain", {"domain_name": "m36.example.com",
                                                         "dns_servers": ["udp://127.0.0.1/53"]}, ["dns_servers"]),
]

# Each run uses fresh domain names, so what an earlier run left behind (a case
# that wrongly got as far as requesting a certificate) cannot change the path
# this run takes.
RUN = uuid.uuid4().hex[:6]

MODULE_PLAYBOOK = """
- name: Bad input to the modules, one case per host
  hosts: all
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/linktrack.https.aws:
      endpoint_url: "{{ case_endpoint }}"
  tasks:
%s
"""

MODULE_TASK = """    - name: "%(module)s"
      when: case_module == '%(module)s'
      linktrack.https.%(module)s: "{{ case_args }}"
"""


def _host_id(case_id):
    return "case-" + case_id


def _failures(report):
    """host -> list of failed task results (from the json callback)."""
    out = {}
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                if result.get("failed") or result.get("unreachable"):
                    out.setdefault(host, []).append(dict(result, _task=task["task"]["name"]))
    return out


def _message(result):
    parts = [str(result.get("msg", ""))]
    parts.extend(str(e) for e in result.get("argument_errors", []) or [])
    parts.extend(str(r.get("msg", "")) for r in result.get("results", []) or [] if isinstance(r, dict))
    return " | ".join(p for p in parts if p)


class Batch:
    """One ansible-playbook run over many cases, each with its own counting proxy."""

    def __init__(self, sandbox, case_ids):
        self.sandbox = sandbox
        self.proxies = dict((cid, faultproxy.FaultProxy(sandbox.aws, rate=0.0).start()) for cid in case_ids)

    def stop(self):
        for proxy in self.proxies.values():
            proxy.stop()

    def run(self, inventory, playbook, tmp_path, extra_args=()):
        inv = tmp_path / "inventory.yml"
        inv.write_text(yaml.safe_dump(inventory, sort_keys=False))
        before_stats = self.sandbox.stats()
        before_zone = self.sandbox.bind_axfr()
        env = relhelpers.ansible_env({
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            "SANDBOX_ENV_FILE": self.sandbox.env_file,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        })
        env.pop("AWS_ENDPOINT_URL", None)
        cmd = [os.path.join(relhelpers.VENV_BIN, "ansible-playbook"), "-i", str(inv), "--forks", "12"]
        cmd += list(extra_args) + [playbook]
        proc = relhelpers.run(cmd, env=env, timeout=900)
        after_stats = self.sandbox.stats()
        after_zone = self.sandbox.bind_axfr()
        (tmp_path / "ansible-stdout.json").write_text(proc.stdout)
        (tmp_path / "ansible-stderr.txt").write_text(proc.stderr)
        try:
            report = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            raise AssertionError("no JSON report from ansible-playbook (rc=%s):\n%s\n%s"
                                 % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        return {
            "rc": proc.returncode,
            "stderr": proc.stderr,
            "report": report,
            "failures": _failures(report),
            "stats": report.get("stats", {}),
            "writes_emulator": after_stats["writes"] - before_stats["writes"],
            "write_actions": dict((k, after_stats["write_actions"].get(k, 0) - before_stats["write_actions"].get(k, 0))
                                  for k in after_stats["write_actions"]
                                  if after_stats["write_actions"].get(k, 0) != before_stats["write_actions"].get(k, 0)),
            "proxy": dict((cid, p.stats()) for cid, p in self.proxies.items()),
            "zone_before": before_zone,
            "zone_after": after_zone,
        }


@pytest.fixture(scope="module")
def role_batch(fresh_emulator, sandbox, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bad-role")
    with open(relhelpers.SANDBOX_VARS) as handle:
        sandbox_vars = yaml.safe_load(handle)
    batch = Batch(sandbox, [c[0] for c in ROLE_CASES])
    hosts = {}
    for cid, host_vars, _names in ROLE_CASES:
        values = {"link_domain_name": "bad-%s-%s.example.com" % (cid, RUN),
                  "link_domain_aws_endpoint_url": batch.proxies[cid].url}
        values.update(host_vars)
        if values.get("link_domain_dns_provider") in ("rfc2136", "manual"):
            values.setdefault("link_domain_dns_record_type", "cname")
        hosts[_host_id(cid)] = values
    # the sandbox settings as group variables, so that each host's own value wins
    inventory = {"tracking_domains": {"hosts": hosts, "vars": sandbox_vars}}
    try:
        yield batch.run(inventory, relhelpers.PLAYBOOK, tmp_path)
    finally:
        batch.stop()


@pytest.fixture(scope="module")
def module_batch(fresh_emulator, sandbox, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bad-modules")
    batch = Batch(sandbox, [c[0] for c in MODULE_CASES])
    hosts = {}
    for cid, module, args, _names in MODULE_CASES:
        hosts[_host_id(cid)] = {"case_module": module, "case_args": args, "case_endpoint": batch.proxies[cid].url}
    modules = sorted(set(c[1] for c in MODULE_CASES))
    playbook = tmp_path / "modules.yml"
    playbook.write_text(MODULE_PLAYBOOK % "".join(MODULE_TASK % {"module": m} for m in modules))
    try:
        yield batch.run({"all": {"hosts": hosts}}, str(playbook), tmp_path)
    finally:
        batch.stop()


def _check_case(batch, cid, names):
    host = _host_id(cid)
    failures = batch["failures"].get(host)
    problems = []
    if not failures:
        problems.append("the run did not fail for this input (host stats %s)" % batch["stats"].get(host))
    else:
        # the last failure is the one the run ended with (an earlier one may have been rescued)
        text = _message(failures[-1])
        missing = [n for n in names if n not in text]
        if missing:
            problems.append("the message does not name %s: %r (task %r)" % (missing, text[:600], failures[-1]["_task"]))
    proxy = batch["proxy"][cid]
    if proxy["writes"]:
        writes = sorted(k for k, v in proxy["by_action"].items() if v["requests"] and not k.split(":")[1].startswith(
            ("List", "Get", "Describe")))
        problems.append("%d AWS write request(s) reached the emulator: %s" % (proxy["writes"], writes))
    return problems


def _check_batch(batch):
    assert batch["rc"] != 0, "ansible-playbook exited 0 although every case is invalid"
    proxied_writes = sum(p["writes"] for p in batch["proxy"].values())
    assert batch["writes_emulator"] == proxied_writes, (
        "the emulator counted %d writes during the batch, the per-case proxies %d: something bypassed the proxies (%s)"
        % (batch["writes_emulator"], proxied_writes, batch["write_actions"]))
    assert batch["writes_emulator"] == 0, "write requests during the bad-input batch: %s" % batch["write_actions"]
    assert batch["zone_after"] == batch["zone_before"], "BIND's zone changed: %s" % sorted(
        set(batch["zone_after"]) ^ set(batch["zone_before"]))


def test_matrix_is_large_enough():
    assert len(ROLE_CASES) + len(MODULE_CASES) >= 40
    ids = [c[0] for c in ROLE_CASES + MODULE_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("cid,host_vars,names", ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
def test_role_rejects(role_batch, cid, host_vars, names):
    problems = _check_case(role_batch, cid, names)
    assert not problems, "%s %r: %s" % (cid, host_vars, "; ".join(problems))


def test_role_batch_wrote_nothing(role_batch):
    _check_batch(role_batch)


@pytest.mark.parametrize("cid,module,args,names", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_module_rejects(module_batch, cid, module, args, names):
    problems = _check_case(module_batch, cid, names)
    assert not problems, "%s %s %r: %s" % (cid, module, args, "; ".join(problems))


def test_module_batch_wrote_nothing(module_batch):
    _check_batch(module_batch)
