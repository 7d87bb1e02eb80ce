# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugins give the result the module processes print, on every supported ansible-core.

Each case runs the real module file as a process (``python MODULE ARGS_FILE``,
as AnsiballZ does) and the action plugin of the same name in this process, with
the same arguments, and compares the module's JSON with the task result of the
action plugin: the same keys and values, apart from ``invocation`` (which
AnsibleModule adds and the action plugins do not build). A bad argument fails
the action plugin as ``validate_argument_spec`` does, with the module's message.
The cases need no network: bad input, and connections refused on loopback.
The integration targets compare the two paths against the sandbox
(tests/benchmarks/equivalence.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import os
import socket
import subprocess
import sys
from unittest.mock import MagicMock

import pytest

import ansible_collections

from ansible.errors import AnsibleActionFail


SECRET = "s3cr3t-Value-9"
NAMES = ("acm_dns_certificate", "cloudfront_link_distribution", "route53_records", "tls_sni_check",
         "iterable_tracking_domain", "dns_record_wait", "aws_shared_listing")
AWS_NAMES = ("acm_dns_certificate", "cloudfront_link_distribution", "route53_records", "aws_shared_listing")
VOLATILE = ("waited_seconds", "elapsed")  # wall-clock seconds: 0.0 in one process and 0.1 in the other on a loaded machine


def _free_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


CASES = [
    ("acm_dns_certificate", {"domain_name": "https://links.example.com/path"}),
    ("acm_dns_certificate", {"domain_name": "links.example.com", "region": "eu-west-1", "secret_key": SECRET}),
    ("acm_dns_certificate", {"domain_name": "links.example.com", "key_algorithm": "RSA_1024"}),
    ("acm_dns_certificate", {"state": "present"}),
    ("acm_dns_certificate", {"domain_name": "links.example.com", "colour": "red"}),
    ("acm_dns_certificate", {"domain_name": "links.example.com", "wait_timeout": 0}),
    ("cloudfront_link_distribution", {"domain_name": "links.example.com"}),
    ("cloudfront_link_distribution", {"domain_name": "links.example.com", "certificate_arn": "arn:aws:acm:nowhere"}),
    ("cloudfront_link_distribution", {"domain_name": "links.example.com", "certificate_arn": "x", "aws_region": "eu-west-1"}),
    ("cloudfront_link_distribution", {"domain_name": "links.example.com", "certificate_arn": "x", "price_class": "cheap"}),
    ("route53_records", {"records": [{"name": "links.example.com", "type": "MX", "value": "1 mx.example.com"}]}),
    ("route53_records", {"records": [{"name": "links.example.com", "type": "CNAME"}], "zone": "example.com"}),
    ("route53_records", {"records": [{"name": "links..example.com", "type": "CNAME", "value": "d.cloudfront.net"}]}),
    ("acm_dns_certificate", {"domain_name": "links.example.com", "known_certificates": [{"DomainName": "x"}]}),
    ("route53_records", {"records": [{"name": "links.example.com", "type": "CNAME", "value": "d.cloudfront.net"}],
                         "known_zones": [{"name": "example.com"}]}),
    ("aws_shared_listing", {"region": "eu-west-1", "secret_key": SECRET}),
    ("aws_shared_listing", {"list_zones": True, "colour": "red"}),
    ("tls_sni_check", {"server_name": "not a host name"}),
    ("tls_sni_check", {"server_name": "links.example.com", "port": 70000}),
    ("tls_sni_check", {"server_name": "links.example.com", "min_tls_version": "SSLv3"}),
    ("tls_sni_check", {"server_name": "links.example.com", "connect_host": "127.0.0.1", "port": "FREE", "timeout": 2}),
    ("tls_sni_check", {"server_name": "links.example.com", "connect_host": "127.0.0.1", "port": "FREE", "timeout": 2,
                       "fail_on_error": False}),
    ("iterable_tracking_domain", {"domain_name": "not a host name"}),
    ("iterable_tracking_domain", {"domain_name": "links.example.com", "iterable_region": "apac"}),
    ("iterable_tracking_domain", {"domain_name": "links.example.com", "https_port": 0}),
    ("dns_record_wait", {"name": "links.example.com", "type": "CNAME", "servers": ["bad host name:99999"]}),
    ("dns_record_wait", {"name": "links.example.com", "type": "MX"}),
    ("dns_record_wait", {"name": "links.example.com", "type": "CNAME", "values": ["d1.cloudfront.net"],
                         "servers": ["127.0.0.1:FREE"], "timeout": 1, "query_timeout": 0.2}),
]


def _fill_ports(args):
    text = json.dumps(args)
    while '"FREE"' in text or ":FREE" in text:
        port = _free_port()
        text = text.replace('"FREE"', str(port), 1) if '"FREE"' in text else text.replace(":FREE", ":%d" % port, 1)
    return json.loads(text)


def _module_process(name, args, tmp_path):
    module = importlib.import_module("ansible_collections.linktrack.https.plugins.modules.%s" % name)
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_module_name="linktrack.https.%s" % name)}))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(p) for p in ansible_collections.__path__] + [env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, module.__file__, str(args_file)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _action(name, args):
    plugin = importlib.import_module("ansible_collections.linktrack.https.plugins.action.%s" % name)
    task = MagicMock()
    task.args = dict(args)
    task.action = "linktrack.https.%s" % name
    task.check_mode = False
    task.diff = False
    task.async_val = 0
    task.delegate_to = None
    task.environment = []
    connection = MagicMock()
    connection.transport = "local"
    play_context = MagicMock()
    play_context.become = False
    templar = MagicMock()
    templar.template.side_effect = lambda value: value
    action = plugin.ActionModule(task, connection, play_context, loader=None, templar=templar, shared_loader_obj=None)
    action._load_name = "linktrack.https.%s" % name  # what the plugin loader sets
    return action


def _in_process(name, args):
    action = _action(name, args)
    action._execute_module = MagicMock(side_effect=AssertionError("the module process was used"))
    try:
        return action.run(task_vars={"ansible_python_interpreter": sys.executable, "inventory_hostname": "links.example.com"})
    except AnsibleActionFail as exc:  # validate_argument_spec: the task fails with this message
        return {"failed": True, "msg": exc.message}


def _without_volatile(value):
    if isinstance(value, dict):
        return dict((k, "<volatile>" if k in VOLATILE else _without_volatile(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


@pytest.mark.parametrize("name,args", CASES, ids=["%s-%d" % (case[0], index) for index, case in enumerate(CASES)])
def test_in_process_gives_the_result_the_module_prints(name, args, tmp_path, monkeypatch):
    monkeypatch.delenv("LINKTRACK_HTTPS_IN_PROCESS", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    args = _fill_ports(args)
    expected = _module_process(name, args, tmp_path)
    expected.pop("invocation", None)
    result = _in_process(name, args)
    assert _without_volatile(json.loads(json.dumps(result))) == _without_volatile(expected)
    assert expected.get("failed") is result.get("failed")
    assert SECRET not in json.dumps(result, default=str)


def test_the_cases_cover_every_module_with_failures_and_a_success():
    assert set(name for name, _args in CASES) == set(NAMES)
    assert any(name == "tls_sni_check" and args.get("fail_on_error") is False for name, args in CASES)


@pytest.mark.parametrize("name", NAMES)
def test_each_action_plugin_runs_its_own_module_code(name):
    plugin = importlib.import_module("ansible_collections.linktrack.https.plugins.action.%s" % name)
    module = importlib.import_module("ansible_collections.linktrack.https.plugins.modules.%s" % name)
    action = plugin.ActionModule
    assert action.MODULE is module
    assert action.RUN is module.run_module  # main() and the action plugin call the same function
    assert action.AWS is (name in AWS_NAMES)
    assert action.AVAILABLE is True  # the unit-test environment has every library
    assert module.MODULE_KWARGS["supports_check_mode"] is True
