# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugin_utils/_inprocess.py: the action plugins that do a module's work in the worker.

They run on every ansible-core line the collection supports (the path uses the
public plugin interface only).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError
from ansible_collections.linktrack.https.plugins.plugin_utils import _inprocess
from ansible_collections.linktrack.https.plugins.plugin_utils._inprocess import (
    AwsConnection,
    InProcessModuleAction,
    build_client,
    in_process_enabled,
    is_controller_python,
    no_log_values,
    task_environment,
)

SECRET = "s3cr3t-Value-9"

FAKE_MODULE = SimpleNamespace(
    ARGUMENT_SPEC=dict(
        name=dict(type="str", required=True),
        count=dict(type="int", default=1),
        color=dict(type="str", choices=["red", "blue"], default="red"),
        password=dict(type="str", no_log=True),
        flag=dict(type="bool", default=False),
    ),
    MODULE_KWARGS=dict(mutually_exclusive=[["count", "flag"]], supports_check_mode=True),
)


class Recorder:
    """A fake ``run_module``: records its calls and returns (or raises) what it is told."""

    def __init__(self, outcome=None, exc=None, effect=None):
        self.calls = []
        self.outcome = outcome if outcome is not None else {"changed": False}
        self.exc = exc
        self.effect = effect

    def __call__(self, params, check_mode, diff, client_factory=None, warn=None, progress=None):
        self.calls.append(dict(params=dict(params), check_mode=check_mode, diff=diff, client_factory=client_factory,
                               progress=progress))
        if self.effect:
            self.effect(params, warn)
        if self.exc is not None:
            raise self.exc
        return json.loads(json.dumps(self.outcome)) if not callable(self.outcome) else self.outcome(params)


def make_action(args, recorder=None, module=FAKE_MODULE, aws=False, check_mode=False, diff=False, transport="local",
                become=False, async_val=0, environment=None, available=True, template=None):
    recorder = recorder or Recorder()

    class Action(InProcessModuleAction):
        MODULE = module
        RUN = staticmethod(recorder)
        AWS = aws
        AVAILABLE = available

    task = MagicMock()
    task.args = dict(args)
    task.action = "linktrack.https.fake"
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = async_val
    task.delegate_to = None
    task.environment = environment or []
    connection = MagicMock()
    connection.transport = transport
    connection._shell.tmpdir = "/tmp/unused"
    play_context = MagicMock()
    play_context.become = become
    templar = MagicMock()
    templar.template.side_effect = template or (lambda value: value)
    action = Action(task, connection, play_context, loader=None, templar=templar, shared_loader_obj=None)
    action._load_name = "linktrack.https.fake"  # what the plugin loader sets
    return action, recorder


def run(action, task_vars=None):
    return action.run(task_vars=task_vars if task_vars is not None else {"ansible_python_interpreter": sys.executable})


# ---------------------------------------------------------------- argument validation


def test_valid_arguments_reach_run_module_with_defaults_and_types():
    action, rec = make_action({"name": "links.example.com", "count": "3"})
    result = run(action)
    assert rec.calls[0]["params"] == {"name": "links.example.com", "count": 3, "color": "red", "password": None, "flag": False}
    assert result == {"changed": False}  # the result run_module built, nothing added


def _fails(action, rec):
    with pytest.raises(AnsibleActionFail) as info:
        run(action)
    assert rec.calls == []
    return info.value.message


def test_a_missing_required_option_is_named_and_nothing_runs():
    assert _fails(*make_action({"count": 2})) == "missing required arguments: name"


def test_a_wrong_type_is_named():
    msg = _fails(*make_action({"name": "x", "count": "many"}))
    assert "count" in msg and "int" in msg


def test_a_wrong_choice_names_the_option_and_the_valid_values():
    assert _fails(*make_action({"name": "x", "color": "green"})) == "value of color must be one of: red, blue, got: green"


def test_an_unknown_option_reads_as_the_module_would_say_it():
    msg = _fails(*make_action({"name": "x", "colour": "red"}))
    assert msg.startswith("Unsupported parameters for (linktrack.https.fake) module: colour.")
    assert "Supported parameters include:" in msg


def test_module_kwargs_are_applied():
    assert _fails(*make_action({"name": "x", "count": 2, "flag": True})) == "parameters are mutually exclusive: count|flag"


def test_aws_modules_get_the_common_aws_options(monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    action, rec = make_action({"name": "x", "endpoint_url": "http://127.0.0.1:1", "aws_access_key_id": "AKIA", "region": "us-east-1"},
                              aws=True)
    result = run(action)
    assert "failed" not in result, result
    params = rec.calls[0]["params"]
    assert params["endpoint_url"] == "http://127.0.0.1:1"
    assert params["access_key"] == "AKIA"  # the alias became the option
    assert params["validate_certs"] is True
    assert callable(rec.calls[0]["client_factory"])


def test_a_module_that_is_not_aws_gets_no_client_factory_and_no_aws_options():
    action, rec = make_action({"name": "x"})
    run(action)
    assert rec.calls[0]["client_factory"] is None
    assert "endpoint_url" not in rec.calls[0]["params"]


# ---------------------------------------------------------------- the task's environment


def test_the_task_environment_reaches_the_aws_option_fallbacks_and_boto3(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_URL", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    seen = {}

    def effect(params, warn):
        seen["env"] = os.environ.get("AWS_DEFAULT_REGION")

    environment = [{"AWS_ACCESS_KEY_ID": "{{ key }}"}, {"AWS_URL": "http://127.0.0.1:7", "AWS_DEFAULT_REGION": "us-east-1"}]
    action, rec = make_action({"name": "x"}, recorder=Recorder(effect=effect), aws=True, environment=environment,
                              template=lambda value: dict((k, "AKIAFROMENV" if v == "{{ key }}" else v) for k, v in value.items()))
    run(action)
    params = rec.calls[0]["params"]
    assert params["access_key"] == "AKIAFROMENV"  # templated, then the env_fallback of the module's option
    assert params["endpoint_url"] == "http://127.0.0.1:7"
    assert params["region"] == "us-east-1"
    assert seen["env"] == "us-east-1"  # botocore reads the rest of AWS_* itself
    assert not {"AWS_ACCESS_KEY_ID", "AWS_URL", "AWS_DEFAULT_REGION"} & set(os.environ)


def test_the_task_environment_is_set_while_the_module_runs_and_removed_after(monkeypatch):
    monkeypatch.delenv("LINKTRACK_TEST_VAR", raising=False)
    seen = {}

    def effect(params, warn):
        seen["value"] = os.environ.get("LINKTRACK_TEST_VAR")

    action, _rec = make_action({"name": "x"}, recorder=Recorder(effect=effect), environment=[{"LINKTRACK_TEST_VAR": 42}])
    run(action)
    assert seen["value"] == "42"
    assert "LINKTRACK_TEST_VAR" not in os.environ


def test_the_task_wins_over_its_play_in_the_environment(monkeypatch):
    monkeypatch.delenv("LINKTRACK_TEST_VAR", raising=False)
    seen = {}
    action, _rec = make_action({"name": "x"}, environment=[{"LINKTRACK_TEST_VAR": "play"}, {"LINKTRACK_TEST_VAR": "task"}],
                               recorder=Recorder(effect=lambda p, w: seen.update(value=os.environ.get("LINKTRACK_TEST_VAR"))))
    run(action)
    assert seen["value"] == "task"


def test_an_environment_that_is_not_a_dictionary_fails_the_task():
    action, rec = make_action({"name": "x"}, environment=["NAME=value"])
    with pytest.raises(Exception, match="environment must be a dictionary"):
        run(action)
    assert rec.calls == []


def test_task_environment_restores_previous_values(monkeypatch):
    monkeypatch.setenv("LINKTRACK_TEST_VAR", "before")
    with task_environment({"LINKTRACK_TEST_VAR": "during"}):
        assert os.environ["LINKTRACK_TEST_VAR"] == "during"
    assert os.environ["LINKTRACK_TEST_VAR"] == "before"


# ---------------------------------------------------------------- no_log


def _everything_with_the_secret(params):
    secret = params["password"]
    return {
        "changed": True,
        "echo": "the password is %s, really" % secret,
        "nested": {"list": [secret, {"deep": secret}], "number": 3},
        "diff": {"before": {"password": "old"}, "after": {"password": secret}},
        "msg": "done with %s" % secret,
    }


def test_no_log_values_are_censored_everywhere_in_the_result_and_the_diff():
    action, rec = make_action({"name": "x", "password": SECRET}, recorder=Recorder(outcome=_everything_with_the_secret), diff=True)
    result = run(action)
    assert rec.calls[0]["params"]["password"] == SECRET  # the module's code gets the real value
    assert SECRET not in json.dumps(result, default=str)
    assert result["echo"] == "the password is ********, really"
    assert result["nested"]["list"] == ["VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", {"deep": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}]
    assert result["diff"]["after"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result["diff"]["before"]["password"] == "old"
    assert result["changed"] is True and result["nested"]["number"] == 3


def test_no_log_values_are_censored_in_failures_and_warnings_too():
    def fail(params):
        return {"failed": True, "msg": "login with %s refused" % params["password"], "changed": False}

    action, _rec = make_action({"name": "x", "password": SECRET}, recorder=Recorder(
        outcome=fail, effect=lambda params, warn: warn("tried %s" % params["password"])))
    result = run(action)
    assert result["failed"] is True
    assert result["msg"] == "login with ******** refused"
    assert result["warnings"] == ["tried ********"]
    assert SECRET not in json.dumps(result, default=str)


def test_top_level_booleans_survive_a_no_log_value_that_looks_like_one():
    action, _rec = make_action({"name": "x", "password": "True"}, recorder=Recorder(outcome={"changed": True, "passed": True}))
    result = run(action)
    assert result["changed"] is True and result["passed"] is True


def test_aws_secret_key_and_session_token_are_censored():
    action, _rec = make_action({"name": "x", "secret_key": SECRET, "session_token": SECRET + "tok"},
                               recorder=Recorder(outcome=lambda p: {"changed": False, "seen": [p["secret_key"], p["session_token"]]}),
                               aws=True)
    result = run(action)
    assert result["seen"] == ["VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"] * 2
    assert SECRET not in json.dumps(result, default=str)


def test_no_log_values_walks_suboptions_lists_and_dicts():
    spec = dict(
        plain=dict(type="str"),
        key=dict(type="dict", no_log=True),
        servers=dict(type="list", elements="dict", options=dict(host=dict(), secret=dict(no_log=True))),
    )
    params = dict(plain="visible", key={"a": "k1", "b": ["k2"]}, servers=[{"host": "h", "secret": "s1"}, {"host": "i", "secret": None}])
    assert no_log_values(spec, params) == {"k1", "k2", "s1"}


# ---------------------------------------------------------------- modes, warnings, progress


@pytest.mark.parametrize("check_mode,diff", [(True, False), (False, True), (True, True), (False, False)])
def test_check_mode_and_diff_pass_through(check_mode, diff):
    action, rec = make_action({"name": "x"}, check_mode=check_mode, diff=diff)
    run(action)
    assert rec.calls[0]["check_mode"] is check_mode
    assert rec.calls[0]["diff"] is diff


def test_warnings_of_the_module_reach_the_result():
    action, _rec = make_action({"name": "x"}, recorder=Recorder(effect=lambda params, warn: (warn("first"), warn("first"), warn("second"))))
    result = run(action)
    assert result["warnings"] == ["first", "second"]


def test_progress_lines_are_displayed_now_at_the_default_verbosity_with_the_host(monkeypatch):
    shown = MagicMock()
    monkeypatch.setattr(_inprocess, "display", shown)

    def effect(params, warn):
        progress = action_rec[1].calls[-1]["progress"]
        progress("distribution E2ABC InProgress, 10s of 40m")
        progress("links.example.com: distribution E2ABC Deployed, 20s of 40m")
        progress("password %s" % params["password"])

    action_rec = make_action({"name": "x", "password": SECRET}, recorder=Recorder(effect=effect))
    run(action_rec[0], {"inventory_hostname": "links.example.com"})
    lines = [call.args[0] for call in shown.display.call_args_list]
    assert lines == [
        "links.example.com: distribution E2ABC InProgress, 10s of 40m",
        "links.example.com: distribution E2ABC Deployed, 20s of 40m",  # already named: not twice
        "links.example.com: password ********",
    ]
    # no verbosity argument: always shown; on stderr, so a JSON callback's stdout stays JSON
    assert all(call.kwargs == {"stderr": True} for call in shown.display.call_args_list)


def test_every_run_module_of_the_collection_takes_progress():
    import importlib
    import inspect

    for name in ("acm_dns_certificate", "cloudfront_link_distribution", "route53_records", "tls_sni_check",
                 "iterable_tracking_domain", "dns_record_wait", "rfc2136_key_check"):
        plugin = importlib.import_module("ansible_collections.linktrack.https.plugins.action.%s" % name)
        parameter = inspect.signature(plugin.ActionModule.RUN).parameters.get("progress")
        assert parameter is not None and parameter.default is None, name  # the action plugin always passes it


# ---------------------------------------------------------------- failures


def test_a_failed_outcome_stays_a_failed_result_with_its_message_and_keys():
    outcome = {"failed": True, "msg": "domain_name: bad", "field": "domain_name", "retries": 0}
    action, _rec = make_action({"name": "x"}, recorder=Recorder(outcome=outcome))
    result = run(action)
    assert result == outcome


def test_an_unexpected_exception_fails_the_task_with_its_text_censored():
    action, _rec = make_action({"name": "x", "password": SECRET}, recorder=Recorder(exc=RuntimeError("cannot use %s" % SECRET)))
    result = run(action)
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "RuntimeError: cannot use ********"


def test_a_linktrack_error_from_a_connection_helper_becomes_its_failed_result():
    action, _rec = make_action({"name": "x"}, recorder=Recorder(exc=LinktrackError("Couldn't connect to AWS: no", field="profile")))
    result = run(action)
    assert result["failed"] is True and result["msg"] == "Couldn't connect to AWS: no" and result["field"] == "profile"


# ---------------------------------------------------------------- where it runs


class _Fallback(Exception):
    pass


@pytest.mark.parametrize("kwargs,task_vars,environ", [
    (dict(transport="ssh"), None, {}),
    (dict(transport="community.docker.docker"), None, {}),
    (dict(become=True), None, {}),
    (dict(async_val=30), None, {}),
    (dict(available=False), None, {}),
    ({}, {"ansible_python_interpreter": "/usr/bin/python2.7"}, {}),
    ({}, {"ansible_python_interpreter": "python3"}, {}),
    ({}, None, {"LINKTRACK_HTTPS_IN_PROCESS": "false"}),
    ({}, {"ansible_python_interpreter": sys.executable, "linktrack_https_in_process": False}, {}),
    ({}, {"ansible_python_interpreter": sys.executable, "linktrack_https_in_process": "no"}, {"LINKTRACK_HTTPS_IN_PROCESS": "true"}),
])
def test_otherwise_the_module_runs_as_a_process(monkeypatch, kwargs, task_vars, environ):
    monkeypatch.delenv("LINKTRACK_HTTPS_IN_PROCESS", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    action, rec = make_action({"name": "x"}, **kwargs)
    action._execute_module = MagicMock(return_value={"changed": False, "from": "module process"})
    action._remove_tmp_path = MagicMock()
    result = run(action, task_vars)
    assert action._execute_module.call_count == 1
    assert result["from"] == "module process"
    assert rec.calls == []


@pytest.mark.parametrize("task_vars,environ", [
    ({"ansible_python_interpreter": sys.executable}, {}),
    ({}, {}),
    ({"ansible_python_interpreter": "auto_silent"}, {}),
    ({"ansible_python_interpreter": sys.executable, "linktrack_https_in_process": True}, {"LINKTRACK_HTTPS_IN_PROCESS": "false"}),
    ({"ansible_python_interpreter": sys.executable}, {"LINKTRACK_HTTPS_IN_PROCESS": "yes"}),
])
def test_on_the_controller_with_its_python_it_runs_in_process(monkeypatch, task_vars, environ):
    monkeypatch.delenv("LINKTRACK_HTTPS_IN_PROCESS", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    action, rec = make_action({"name": "x"})
    action._execute_module = MagicMock(side_effect=_Fallback)
    run(action, task_vars)
    assert len(rec.calls) == 1
    assert action._execute_module.call_count == 0


def test_check_mode_support_is_still_checked_by_action_base():
    action, rec = make_action({"name": "x"})
    action._supports_check_mode = False
    action._task.check_mode = True
    with pytest.raises(Exception, match="does not support check mode"):
        run(action)
    assert rec.calls == []


def test_botocore_endpoint_logs_need_the_module_process(monkeypatch):
    action, rec = make_action({"name": "x", "debug_botocore_endpoint_logs": True}, aws=True)
    action._execute_module = MagicMock(return_value={"changed": False})
    action._remove_tmp_path = MagicMock()
    run(action)
    assert action._execute_module.call_count == 1 and rec.calls == []


def test_controller_python_recognition(tmp_path):
    assert is_controller_python("", "/venv/bin/python")
    assert is_controller_python(None, "/venv/bin/python")
    assert is_controller_python("auto", "/venv/bin/python")
    assert is_controller_python("auto_legacy_silent", "/venv/bin/python")
    assert is_controller_python("/venv/bin/python", "/venv/bin/python")
    assert not is_controller_python("/usr/bin/python3", "/venv/bin/python")
    assert not is_controller_python("python3", "/venv/bin/python")
    real = tmp_path / "python3.11"
    real.write_text("")
    (tmp_path / "python").symlink_to(real)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "python").symlink_to(real)
    # the links of one virtual environment are one Python; the same binary elsewhere is another environment
    assert is_controller_python(str(tmp_path / "python"), str(real))
    assert not is_controller_python(str(other / "python"), str(real))


def test_in_process_switch_values():
    assert in_process_enabled(None, {})
    assert in_process_enabled(None, {"LINKTRACK_HTTPS_IN_PROCESS": "auto"})
    for value in ("false", "False", "0", "no", "off"):
        assert not in_process_enabled(None, {"LINKTRACK_HTTPS_IN_PROCESS": value})
        assert not in_process_enabled(value, {})
    assert not in_process_enabled(False, {"LINKTRACK_HTTPS_IN_PROCESS": "true"})
    assert in_process_enabled(True, {"LINKTRACK_HTTPS_IN_PROCESS": "false"})


# ---------------------------------------------------------------- boto3 clients through amazon.aws's plugin helpers

_NO_OPTIONS = dict(endpoint_url=None, access_key=None, secret_key=None, session_token=None, profile=None, region=None,
                   validate_certs=True, aws_ca_bundle=None, aws_config=None)


def test_the_connection_builds_the_client_from_the_module_options(monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    connection = AwsConnection("linktrack.https.fake", dict(_NO_OPTIONS, endpoint_url="http://127.0.0.1:9",
                                                            access_key="AKIAEXAMPLE", secret_key="secret"))
    import boto3
    from ansible_collections.linktrack.https.plugins.module_utils._aws import aws_client, client_config

    client = aws_client(connection, "acm")
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "us-east-1"
    # the module's Config (retries belong to AwsCaller), read back as botocore applies it
    reference = boto3.client("acm", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b", config=client_config())
    assert client.meta.config.retries == reference.meta.config.retries
    assert client.meta.config.connect_timeout == 10 and client.meta.config.read_timeout == 60
    assert client._request_signer._credentials.access_key == "AKIAEXAMPLE"


def test_the_connection_takes_aws_config_and_ca_bundle(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    connection = AwsConnection("linktrack.https.fake", dict(_NO_OPTIONS, access_key="A", secret_key="B",
                                                            aws_ca_bundle=str(bundle), aws_config={"read_timeout": 7}))
    client = connection.client("route53", region="us-east-1", config=None)
    assert client.meta.config.read_timeout == 7
    assert client._endpoint.http_session._verify == str(bundle)


def test_validate_certs_false_turns_verification_off():
    connection = AwsConnection("linktrack.https.fake", dict(_NO_OPTIONS, access_key="A", secret_key="B", validate_certs=False))
    client = connection.client("acm", region="us-east-1")
    assert client._endpoint.http_session._verify is False


def test_profile_and_keys_together_fail_as_amazon_aws_says_it():
    connection = AwsConnection("linktrack.https.fake", dict(_NO_OPTIONS, access_key="A", secret_key="B", profile="p"))
    with pytest.raises(LinktrackError) as info:
        connection.client("acm")
    assert info.value.message == "Passing both a profile and access tokens is not supported."


def test_an_unknown_profile_fails_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    connection = AwsConnection("linktrack.https.fake", dict(_NO_OPTIONS, profile="nobody"))
    with pytest.raises(LinktrackError) as info:
        connection.client("acm", region="us-east-1")
    assert info.value.message.startswith("Couldn't connect to AWS: The config profile (nobody) could not be found")


def test_a_profile_from_the_shared_files_gives_its_keys_and_region(monkeypatch, tmp_path):
    (tmp_path / "config").write_text("[profile linktrack]\nregion = eu-west-1\n")
    (tmp_path / "credentials").write_text("[linktrack]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    connection = AwsConnection("linktrack.https.fake", dict(_NO_OPTIONS, profile="linktrack"))
    client = connection.client("acm")
    assert client.meta.region_name == "eu-west-1"  # the profile's region when none is given
    assert client._request_signer._credentials.access_key == "AKIAPROFILE"


def test_sessions_share_one_loader_and_its_search_path_does_not_grow():
    kwargs = dict(aws_access_key_id="a", aws_secret_access_key="b")
    build_client("acm", "us-east-1", "http://127.0.0.1:9", kwargs)
    loaders = dict(_inprocess._LOADERS)
    paths = list(next(iter(loaders.values())).search_paths)
    for service in ("cloudfront", "route53", "cloudfront"):
        build_client(service, "us-east-1", "http://127.0.0.1:9", kwargs)
    assert _inprocess._LOADERS == loaders
    assert list(next(iter(loaders.values())).search_paths) == paths
    assert len(paths) == len(set(paths))


def test_in_process_action_builds_the_action_class_of_a_module(monkeypatch):
    preloaded = []
    monkeypatch.setattr(_inprocess, "preload_aws", lambda *services: preloaded.append(services))
    recorder = Recorder()
    action = _inprocess.in_process_action(FAKE_MODULE, recorder, aws=True, needs=[True, True], preload=["acm", "route53"])
    assert issubclass(action, InProcessModuleAction)
    assert action.__name__ == "ActionModule"
    assert action.MODULE is FAKE_MODULE
    assert action.RUN is recorder
    assert action.AWS is True
    assert action.AVAILABLE is _inprocess.HAS_BOTO3
    assert preloaded == [("acm", "route53")]
    plain = _inprocess.in_process_action(FAKE_MODULE, recorder)
    assert (plain.AWS, plain.AVAILABLE) == (False, True)
    assert preloaded == [("acm", "route53"), ()]


@pytest.mark.parametrize("aws,needs,has_boto3", [(False, [True, False], True), (True, [], False), (True, [False], True)])
def test_in_process_action_is_not_available_without_a_library(monkeypatch, aws, needs, has_boto3):
    monkeypatch.setattr(_inprocess, "preload_aws", lambda *services: None)
    monkeypatch.setattr(_inprocess, "HAS_BOTO3", has_boto3)
    action = _inprocess.in_process_action(FAKE_MODULE, Recorder(), aws=aws, needs=needs)
    assert action.AVAILABLE is False
