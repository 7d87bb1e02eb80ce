# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the fault-injecting proxy, with a fake upstream and the real boto3.

No sandbox needed: a small loopback HTTP server plays the emulator and answers
each service with a valid empty listing, so what botocore makes of each
injected fault (its error code, HTTP status, exception type) is checked for
real.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.parsers import create_parser

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import faultproxy  # noqa: E402  pylint: disable=wrong-import-position
from relhelpers import collection_import  # noqa: E402  pylint: disable=wrong-import-position

ACM_LIST = json.dumps({"CertificateSummaryList": []}).encode()
CF_LIST = (b'<?xml version="1.0"?><DistributionList xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
           b"<Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated><Quantity>0</Quantity>"
           b"</DistributionList>")
R53_LIST = (b'<?xml version="1.0"?><ListHostedZonesResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
            b"<HostedZones></HostedZones><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>"
            b"</ListHostedZonesResponse>")


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = None

    def log_message(self, *args):
        return

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, self.headers.get("X-Amz-Target"), body))
        if self.headers.get("X-Amz-Target"):
            data, ctype = ACM_LIST, "application/x-amz-json-1.1"
        elif self.path.startswith("/2020-05-31/"):
            data, ctype = CF_LIST, "text/xml"
        elif self.path.startswith("/2013-04-01/"):
            data, ctype = R53_LIST, "text/xml"
        else:
            data, ctype = b'{"upstream": true}', "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


@pytest.fixture
def upstream():
    seen = []
    handler = type("Upstream", (_Upstream,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1], seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    with faultproxy.FaultProxy(upstream[0], rate=0.0, seed=7, slow_seconds=0.3) as running:
        yield running


def _client(service, proxy):
    return boto3.client(
        service, endpoint_url=proxy.url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=10),
    )


CALLS = {
    "acm": lambda c: c.list_certificates(),
    "cloudfront": lambda c: c.list_distributions(),
    "route53": lambda c: c.list_hosted_zones(),
}


def _http(url, method="GET", data=None):
    request = urllib.request.Request(url, method=method, data=data)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(CALLS))
def test_rate_zero_passes_everything_through(proxy, upstream, service):
    answer = CALLS[service](_client(service, proxy))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    stats = proxy.stats()
    assert stats["requests"] == 1 and stats["passed"] == 1 and stats["injected_total"] == 0
    assert len(upstream[1]) == 1


@pytest.mark.parametrize("service,kind,status,code", [
    ("acm", "throttling", 400, "ThrottlingException"),
    ("acm", "request_limit", 400, "RequestLimitExceeded"),
    ("acm", "http500", 500, "InternalFailure"),
    ("acm", "http503", 503, "ServiceUnavailable"),
    ("cloudfront", "throttling", 400, "Throttling"),
    ("cloudfront", "request_limit", 400, "RequestLimitExceeded"),
    ("cloudfront", "http500", 500, "InternalError"),
    ("cloudfront", "http503", 503, "ServiceUnavailable"),
    ("route53", "throttling", 400, "Throttling"),
    ("route53", "request_limit", 400, "RequestLimitExceeded"),
    ("route53", "http500", 500, "InternalError"),
    ("route53", "http503", 503, "ServiceUnavailable"),
])
def test_errors_parse_as_aws_errors_in_each_protocol(proxy, upstream, service, kind, status, code):
    proxy.configure(rate=1.0, kinds=kind)
    with pytest.raises(ClientError) as info:
        CALLS[service](_client(service, proxy))
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert upstream[1] == []  # the fault never reached the emulator
    stats = proxy.stats()
    assert stats["injected"][kind] == 1 and stats["passed"] == 0


def test_acm_fault_is_json_1_1_and_route53_fault_is_xml(proxy):
    proxy.configure(rate=1.0, kinds="throttling")
    acm_body = json.dumps({})
    request = urllib.request.Request(proxy.url + "/", data=acm_body.encode(), method="POST", headers={
        "X-Amz-Target": "CertificateManager.ListCertificates", "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert json.loads(info.value.read())["__type"] == "ThrottlingException"
    request = urllib.request.Request(proxy.url + "/2013-04-01/hostedzone", method="GET")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    body = info.value.read().decode()
    assert info.value.code == 400
    assert "<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">" in body
    assert "<Code>Throttling</Code>" in body


@pytest.mark.parametrize("service", sorted(CALLS))
def test_drop_closes_before_the_emulator_sees_the_request(proxy, upstream, service):
    proxy.configure(rate=1.0, kinds="drop")
    with pytest.raises(ConnectionClosedError):
        CALLS[service](_client(service, proxy))
    assert upstream[1] == []
    assert proxy.stats()["injected"]["drop"] == 1


def test_drop_after_forward_reaches_the_emulator_but_loses_the_answer(proxy, upstream):
    proxy.configure(rate=1.0, kinds="drop_after_forward")
    with pytest.raises(ConnectionClosedError):
        _client("acm", proxy).list_certificates()
    assert len(upstream[1]) == 1 and upstream[1][0][2] == "CertificateManager.ListCertificates"


def test_slow_answers_arrive_late_but_complete(proxy, upstream):
    proxy.configure(rate=1.0, kinds="slow", slow_seconds=0.4)
    start = time.monotonic()
    answer = _client("route53", proxy).list_hosted_zones()
    assert time.monotonic() - start >= 0.4
    assert answer["IsTruncated"] is False
    stats = proxy.stats()
    assert stats["injected"]["slow"] == 1 and stats["passed"] == 1


def test_precondition_only_for_cloudfront_update_distribution(proxy, upstream):
    proxy.configure(rate=1.0, kinds="precondition")
    # a listing is not an update: passed through although the rate is 100%
    assert _client("cloudfront", proxy).list_distributions()["DistributionList"]["Quantity"] == 0
    assert _client("route53", proxy).list_hosted_zones()["IsTruncated"] is False
    request = urllib.request.Request(proxy.url + "/2020-05-31/distribution/E2EXAMPLE/config", method="PUT",
                                     data=b"<DistributionConfig/>", headers={"If-Match": "E1"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 412
    body = info.value.read()
    model = botocore.session.get_session().get_service_model("cloudfront")
    parsed = create_parser("rest-xml").parse(
        {"status_code": 412, "headers": dict(info.value.headers), "body": body},
        model.operation_model("UpdateDistribution").output_shape,
    )
    assert parsed["Error"]["Code"] == "PreconditionFailed"
    stats = proxy.stats()
    assert stats["injected"]["precondition"] == 1
    assert stats["by_action"]["cloudfront:UpdateDistribution"]["injected"] == 1
    assert stats["by_action"]["cloudfront:ListDistributions"]["passed"] == 1
    assert stats["writes"] == 1


def test_rate_is_honoured_over_many_requests(upstream):
    with faultproxy.FaultProxy(upstream[0], rate=0.3, kinds="throttling,http503", seed=11) as proxy:
        decisions = [proxy.choose("acm", "ListCertificates", "POST", "/") for dummy in range(4000)]
    injected = [d for d in decisions if d]
    assert 0.27 < len(injected) / 4000.0 < 0.33
    assert set(injected) == {"throttling", "http503"}


def test_match_limits_faults_to_matching_actions(proxy, upstream):
    proxy.configure(rate=1.0, kinds="http500", match="^route53:")
    _client("acm", proxy).list_certificates()
    with pytest.raises(ClientError):
        _client("route53", proxy).list_hosted_zones()
    stats = proxy.stats()
    assert stats["by_action"]["acm:ListCertificates"] == {"requests": 1, "injected": 0, "passed": 1}
    assert stats["by_action"]["route53:ListHostedZones"] == {"requests": 1, "injected": 1, "passed": 0}


def test_sandbox_control_endpoints_are_never_faulted(proxy, upstream):
    proxy.configure(rate=1.0, kinds="http500")
    assert _http(proxy.url + "/_sandbox/stats") == {"upstream": True}
    stats = proxy.stats()
    assert stats["requests"] == 0 and stats["control"] == 1


def test_control_endpoints_change_settings_and_reset(proxy):
    config = _http(proxy.url + "/_faultproxy/config", "POST",
                   json.dumps({"rate": 0.25, "kinds": ["drop", "slow"]}).encode())
    assert config["rate"] == 0.25 and config["kinds"] == ["drop", "slow"]
    assert proxy.rate == 0.25
    with pytest.raises(urllib.error.HTTPError) as info:
        _http(proxy.url + "/_faultproxy/config", "POST", json.dumps({"kinds": "lightning"}).encode())
    assert info.value.code == 400 and "lightning" in json.loads(info.value.read())["error"]
    with pytest.raises(urllib.error.HTTPError) as info:
        _http(proxy.url + "/_faultproxy/config", "POST", json.dumps({"rate": 2}).encode())
    assert info.value.code == 400
    proxy.configure(rate=1.0, kinds="http503")
    with pytest.raises(ClientError):
        _client("acm", proxy).list_certificates()
    assert _http(proxy.url + "/_faultproxy/stats")["injected"]["http503"] == 1
    _http(proxy.url + "/_faultproxy/reset", "POST", b"")
    stats = _http(proxy.url + "/_faultproxy/stats")
    assert stats["requests"] == 0 and stats["injected_total"] == 0


@pytest.mark.parametrize("kwargs,message", [
    ({"upstream": "http://10.0.0.1:5000"}, "loopback"),
    ({"upstream": "https://127.0.0.1:5000"}, "http://"),
    ({"upstream": "http://127.0.0.1:5000", "host": "0.0.0.0"}, "loopback"),
    ({"upstream": "http://127.0.0.1:5000", "rate": 1.5}, "between 0 and 1"),
    ({"upstream": "http://127.0.0.1:5000", "kinds": "throttling,boom"}, "boom"),
])
def test_bad_settings_are_refused(kwargs, message):
    upstream_url = kwargs.pop("upstream")
    with pytest.raises(ValueError) as info:
        faultproxy.FaultProxy(upstream_url, **kwargs)
    assert message in str(info.value)


def test_collection_aws_caller_retries_every_injected_fault(proxy, upstream):
    """The collection's AwsCaller recognises each injected fault as transient and counts it."""
    common = collection_import("_common")
    proxy.configure(rate=0.5, kinds="throttling,request_limit,http500,http503,drop", seed=3)
    client = _client("route53", proxy)
    caller = common.AwsCaller(base_delay=0.001, max_delay=0.002, max_attempts=50)
    for dummy in range(20):
        assert caller(client.list_hosted_zones)["IsTruncated"] is False
    stats = proxy.stats()
    assert stats["injected_total"] > 0
    assert caller.retries == stats["injected_total"]
    assert stats["passed"] == 20


def test_command_line_runs_reports_its_port_and_stops_on_sigterm(tmp_path, upstream):
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "faultproxy.py"), "--upstream", upstream[0], "--rate", "1",
         "--kinds", "http503", "--port-file", str(port_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen("http://127.0.0.1:%d/2013-04-01/hostedzone" % port, timeout=5)
        assert info.value.code == 503
        stats = _http("http://127.0.0.1:%d/_faultproxy/stats" % port)
        assert stats["injected"]["http503"] == 1 and stats["config"]["rate"] == 1.0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert '"injected_total": 1' in out


def test_command_line_refuses_unknown_kind(upstream):
    proc = subprocess.run([sys.executable, os.path.join(HERE, "faultproxy.py"), "--upstream", upstream[0],
                           "--kinds", "meteor"], capture_output=True, text=True, timeout=20, check=False)
    assert proc.returncode == 2
    assert "meteor" in proc.stderr and "throttling" in proc.stderr


def test_collection_aws_client_leaves_every_retry_to_aws_caller(proxy):
    """_aws.aws_client promises one botocore attempt per call, so that AwsCaller counts every retry.

    botocore reads ``retries={"max_attempts": 1}`` as ONE RETRY (two attempts);
    ``total_max_attempts: 1`` is what means a single attempt. With the former,
    each throttled call is silently sent twice and the module's ``retries``
    under-reports.
    """
    aws = collection_import("_aws")

    class _Module:
        params = {}

        def client(self, service, region=None, config=None):
            return boto3.client(service, endpoint_url=proxy.url, region_name=region,
                                aws_access_key_id="testing", aws_secret_access_key="testing", config=config)

    client = aws.aws_client(_Module(), "route53")
    proxy.configure(rate=1.0, kinds="throttling")
    with pytest.raises(ClientError) as info:
        client.list_hosted_zones()
    assert info.value.response["Error"]["Code"] == "Throttling"
    assert proxy.stats()["requests"] == 1, "botocore retried behind AwsCaller's back"


def test_limit_makes_the_first_n_matching_requests_fail_then_passes(proxy, upstream):
    proxy.configure(rate=1.0, kinds="http503", match="^route53:", limit=2)
    client = _client("route53", proxy)
    _client("acm", proxy).list_certificates()  # not matching: passed, and not counted against the limit
    for dummy in range(2):
        with pytest.raises(ClientError):
            client.list_hosted_zones()
    for dummy in range(3):
        assert client.list_hosted_zones()["IsTruncated"] is False
    stats = proxy.stats()
    assert stats["injected"]["http503"] == 2 and stats["passed"] == 4
    proxy.reset()  # a reset starts the count again
    with pytest.raises(ClientError):
        client.list_hosted_zones()


def test_per_action_limit_faults_the_first_request_of_each_action(proxy, upstream):
    proxy.configure(rate=1.0, kinds="http500", per_action_limit=1)
    for service in ("acm", "route53", "cloudfront"):
        with pytest.raises(ClientError):
            CALLS[service](_client(service, proxy))
        CALLS[service](_client(service, proxy))
    stats = proxy.stats()
    assert stats["injected"]["http500"] == 3 and stats["passed"] == 3
    assert all(v == {"requests": 2, "injected": 1, "passed": 1} for v in stats["by_action"].values())
