# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sandbox.py up / down / status / reset with real processes: one copy only, nothing left behind."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import socket
import stat
import urllib.request

import pytest

from linktrack_sandbox import testing

pytestmark = pytest.mark.usefixtures("sandbox_python")


def _ports(base):
    return [base + offset for offset in testing.OFFSETS]


def _recorded_pids(state_dir):
    with open(os.path.join(state_dir, "state.json"), "r", encoding="utf-8") as handle:
        return sorted(proc["pid"] for proc in json.load(handle)["procs"].values())


def _clients(values):
    import boto3  # pylint: disable=import-outside-toplevel
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return session.client("cloudfront", endpoint_url=values["AWS_ENDPOINT_URL"]), session.client("route53", endpoint_url=values["AWS_ENDPOINT_URL"])


def _fill(values):
    """Something in CloudFront, in the Route 53 zone, in BIND and in the origin overrides."""
    import dns.query  # pylint: disable=import-outside-toplevel
    import dns.rcode  # pylint: disable=import-outside-toplevel
    import dns.tsigkeyring  # pylint: disable=import-outside-toplevel
    import dns.update  # pylint: disable=import-outside-toplevel
    cloudfront, route53 = _clients(values)
    # No alias, CloudFront's default certificate: CloudFront refuses an alias without a certificate that covers it.
    config = testing.distribution_config("reset-test", "reset.example.com", "links.iterable.com", "")
    config.update(Aliases={"Quantity": 0}, ViewerCertificate={"CloudFrontDefaultCertificate": True})
    cloudfront.create_distribution(DistributionConfig=config)
    route53.change_resource_record_sets(HostedZoneId=values["SANDBOX_R53_ZONE_ID"], ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": "reset.example.com", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": '"x"'}]}}]})
    keyring = dns.tsigkeyring.from_text({values["SANDBOX_TSIG_KEY_NAME"]: values["SANDBOX_TSIG_SECRET"]})
    update = dns.update.UpdateMessage(values["SANDBOX_ZONE"], keyring=keyring, keyalgorithm=values["SANDBOX_TSIG_ALGORITHM"])
    update.replace("reset", 60, "TXT", '"x"')
    assert dns.query.tcp(update, "127.0.0.1", port=int(values["SANDBOX_DNS_PORT"]), timeout=5).rcode() == dns.rcode.NOERROR
    with open(os.path.join(values["SANDBOX_STATE_DIR"], "origin-overrides.json"), "w", encoding="utf-8") as handle:
        json.dump({"*": {"deep_links": "missing"}}, handle)


def _assert_empty(values):
    import dns.message  # pylint: disable=import-outside-toplevel
    import dns.query  # pylint: disable=import-outside-toplevel
    import dns.rcode  # pylint: disable=import-outside-toplevel
    with urllib.request.urlopen(values["SANDBOX_AWS_STATS_URL"], timeout=5) as resp:
        assert json.load(resp)["total"] == 0
    cloudfront, route53 = _clients(values)
    assert cloudfront.list_distributions()["DistributionList"].get("Items", []) == []
    records = route53.list_resource_record_sets(HostedZoneId=values["SANDBOX_R53_ZONE_ID"])["ResourceRecordSets"]
    assert sorted(record["Type"] for record in records) == ["NS", "SOA"]
    answer = dns.query.udp(dns.message.make_query("reset." + values["SANDBOX_ZONE"], "TXT"), "127.0.0.1", port=int(values["SANDBOX_DNS_PORT"]), timeout=5)
    assert answer.rcode() == dns.rcode.NXDOMAIN
    assert not os.path.exists(os.path.join(values["SANDBOX_STATE_DIR"], "origin-overrides.json"))


def test_up_twice_is_one_copy_and_down_leaves_nothing(tmp_path):
    base = testing.port_base(200)
    state_dir = str(tmp_path / "state")
    env = testing.clean_env(base, state_dir)
    try:
        first = testing.run_sandbox(env, "up")
        assert first.returncode == 0, first.stdout + first.stderr
        pids = _recorded_pids(state_dir)
        assert len(pids) == 2
        assert sorted(testing.processes_mentioning(state_dir)) == pids
        assert all(testing.listening(port) for port in _ports(base))
        values = testing.read_env_file(env["SANDBOX_ENV_FILE"])
        assert values["AWS_ENDPOINT_URL"] == "http://127.0.0.1:%d" % base
        assert values["SANDBOX_EDGE_HTTPS_PORT"] == str(base + 443)
        assert stat.S_IMODE(os.stat(env["SANDBOX_ENV_FILE"]).st_mode) == 0o600

        second = testing.run_sandbox(env, "up")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already up" in second.stdout
        assert _recorded_pids(state_dir) == pids
        assert sorted(testing.processes_mentioning(state_dir)) == pids

        status = testing.run_sandbox(env, "status")
        assert status.returncode == 0, status.stdout

        yaml_env = testing.run_sandbox(env, "env", "--format", "yaml")
        assert yaml_env.returncode == 0
        assert "sandbox_edge_https_port: %d\n" % (base + 443) in yaml_env.stdout
        assert 'aws_endpoint_url: "http://127.0.0.1:%d"\n' % base in yaml_env.stdout

        _fill(values)
        reset = testing.run_sandbox(env, "reset")
        assert reset.returncode == 0, reset.stdout + reset.stderr
        assert testing.run_sandbox(env, "status").returncode == 0
        _assert_empty(values)

        down = testing.run_sandbox(env, "down")
        assert down.returncode == 0, down.stdout + down.stderr
        assert testing.processes_mentioning(state_dir) == []
        assert [port for port in _ports(base) if testing.listening(port)] == []
        assert not os.path.exists(env["SANDBOX_ENV_FILE"])

        again = testing.run_sandbox(env, "down")
        assert again.returncode == 0
        assert "not running" in again.stdout
        assert testing.run_sandbox(env, "status").returncode == 3
    finally:
        testing.run_sandbox(env, "down")


def test_port_in_use_is_a_clear_error_and_starts_nothing(tmp_path):
    base = testing.port_base(100)
    state_dir = str(tmp_path / "state")
    env = testing.clean_env(base, state_dir)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", base + 443))
        blocker.listen(1)
        try:
            result = testing.run_sandbox(env, "up")
        finally:
            testing.run_sandbox(env, "down")
    assert result.returncode == 1
    assert "port %d" % (base + 443) in result.stderr
    assert "SANDBOX_EDGE_HTTPS_PORT" in result.stderr
    assert "SANDBOX_PORT_BASE" in result.stderr
    assert testing.processes_mentioning(state_dir) == []
    assert [port for port in _ports(base) if testing.listening(port)] == []
    assert not os.path.exists(os.path.join(state_dir, "state.json"))
    assert not os.path.exists(env["SANDBOX_ENV_FILE"])


def test_child_dying_during_start_up_is_reported_and_cleaned_up(tmp_path):
    base = testing.port_base(100)
    state_dir = str(tmp_path / "state")
    env = testing.clean_env(base, state_dir)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_named = fake_bin / "named"
    fake_named.write_text("#!/bin/sh\necho 'fake named: configuration broken' >&2\nexit 7\n")
    fake_named.chmod(0o755)
    env["PATH"] = "%s:%s" % (fake_bin, env.get("PATH", ""))
    try:
        result = testing.run_sandbox(env, "up")
    finally:
        testing.run_sandbox(env, "down")
    assert result.returncode == 1
    assert "named exited during start-up (exit code 7)" in result.stderr
    assert "fake named: configuration broken" in result.stderr
    assert testing.processes_mentioning(state_dir) == []
    assert [port for port in _ports(base) if testing.listening(port)] == []
    assert not os.path.exists(os.path.join(state_dir, "state.json"))


def test_bad_settings_are_rejected_naming_the_variable(tmp_path):
    env = testing.clean_env(testing.port_base(100), str(tmp_path / "state"))
    env["SANDBOX_EDGE_HTTP_PORT"] = "eighty"
    result = testing.run_sandbox(env, "up")
    assert result.returncode == 1
    assert "SANDBOX_EDGE_HTTP_PORT='eighty' is not a number" in result.stderr
    assert not os.path.exists(os.path.join(str(tmp_path / "state"), "state.json"))
