# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the shared primitives in module_utils/_common.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.linktrack.https.plugins.module_utils._common import (
    AwsCaller,
    Differences,
    LinktrackError,
    Progress,
    format_duration,
    module_main,
    normalize_domain,
    poll_until,
    result_from_exception,
)
from ansible_collections.linktrack.https.tests.unit.plugins.module_utils.fakes import FakeClock, client_error


@pytest.mark.parametrize(
    "value, expected",
    [
        ("links.example.com", "links.example.com"),
        ("LINKS.Example.COM.", "links.example.com"),
        ("  links.example.com ", "links.example.com"),
        ("links.bücher.de", "links.xn--bcher-kva.de"),
        ("a-b.c-d.example", "a-b.c-d.example"),
    ],
)
def test_normalize_domain_accepts_and_normalises(value, expected):
    assert normalize_domain(value, "domain_name") == expected


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("", "is empty"),
        (None, "is empty"),
        ("https://links.example.com", "without a scheme"),
        ("links.example.com/path", "without a scheme or a path"),
        ("links example.com", "white space"),
        ("links_x.example.com", "underscore"),
        ("com", "bare top-level domain"),
        ("*.example.com", "wildcard"),
        ("a" * 64 + ".example.com", "at most 63"),
        (("a" * 60 + ".") * 5 + "com", "at most 253"),
        ("-links.example.com", "inner hyphens"),
        ("links..example.com", "empty label"),
        ("10.0.0.1", "IP address"),
        ("links.example.com:443", "port"),
    ],
)
def test_normalize_domain_rejects_with_field_named(value, fragment):
    with pytest.raises(LinktrackError) as err:
        normalize_domain(value, "link_domain_name")
    assert err.value.field == "link_domain_name"
    assert str(err.value).startswith("link_domain_name")
    assert fragment in str(err.value)


def test_normalize_domain_wildcard_when_allowed():
    assert normalize_domain("*.Example.com", "san", allow_wildcard=True) == "*.example.com"


def test_poll_until_grows_sleeps_and_returns_waited():
    clock = FakeClock(1000.0)
    answers = iter([(False, "InProgress")] * 4 + [(True, "Deployed")])
    value, waited = poll_until(lambda: next(answers), 600, "deployment", clock=clock, first_delay=1, factor=2, max_delay=5)
    assert value == "Deployed"
    assert clock.sleeps == [1, 2, 4, 5]
    assert waited == 12


def test_poll_until_reports_each_poll_as_a_line_and_in_the_history():
    clock = FakeClock(1000.0)
    lines = []
    progress = Progress(report=lines.append, subject="links.example.com")
    answers = iter([(False, "InProgress")] * 2 + [(True, "Deployed")])
    poll_until(lambda: next(answers), 2400, "deployment", clock=clock, first_delay=100, factor=1.9, max_delay=1000,
               progress=progress, label="distribution E2ABC")
    assert lines == [
        "links.example.com: distribution E2ABC InProgress, 0s of 40m",
        "links.example.com: distribution E2ABC InProgress, 1m40s of 40m",
        "links.example.com: distribution E2ABC Deployed, 4m50s of 40m",
    ]
    assert [(h["state"], h["elapsed"], h["done"]) for h in progress.history] == [
        ("InProgress", 0.0, False), ("InProgress", 100.0, False), ("Deployed", 290.0, True)]
    assert all(h["timeout"] == 2400 and h["what"] == "distribution E2ABC" for h in progress.history)


def test_progress_history_keeps_the_start_and_the_latest_polls():
    progress = Progress(limit=4)
    for second in range(10):
        progress.poll("wait", "PENDING", second, 60)
    assert [h["elapsed"] for h in progress.history] == [0, 1, 8, 9]
    assert progress.dropped == 6


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (59.4, "59s"), (60, "1m"), (190, "3m10s"), (2400, "40m")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_poll_until_times_out_with_last_value_and_never_overshoots():
    clock = FakeClock(1000.0)
    with pytest.raises(LinktrackError) as err:
        poll_until(lambda: (False, "PENDING_VALIDATION"), 10, "ISSUED", clock=clock, first_delay=4, factor=2)
    assert "ISSUED" in str(err.value) and "PENDING_VALIDATION" in str(err.value)
    assert sum(clock.sleeps) == 10
    assert err.value.details["waited_seconds"] == 10


def test_aws_caller_retries_throttling_then_succeeds():
    clock = FakeClock(1000.0)
    calls = []

    def method(**kwargs):
        calls.append(kwargs)
        if len(calls) < 3:
            raise client_error("Throttling")
        return {"ok": True}

    caller = AwsCaller(clock=clock)
    assert caller(method, Name="x") == {"ok": True}
    assert caller.retries == 2
    assert calls == [{"Name": "x"}] * 3
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("exc", [client_error("PriorRequestNotComplete"), client_error("Whatever", status=503),
                                 EndpointConnectionError(endpoint_url="http://127.0.0.1:1")])
def test_aws_caller_retries_transient(exc):
    outcomes = [exc, "done"]

    def method():
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    caller = AwsCaller(clock=FakeClock(1000.0))
    assert caller(method) == "done"
    assert caller.retries == 1


def test_aws_caller_does_not_retry_client_mistakes():
    caller = AwsCaller(clock=FakeClock(1000.0))

    def method():
        raise client_error("InvalidArgument")

    with pytest.raises(ClientError):
        caller(method)
    assert caller.retries == 0


def test_aws_caller_gives_up_after_max_attempts():
    clock = FakeClock(1000.0)
    caller = AwsCaller(clock=clock, max_attempts=4)

    def method():
        raise client_error("Throttling")

    with pytest.raises(ClientError) as err:
        caller(method)
    assert caller.retries == 3
    assert caller.calls == 4
    assert caller.gave_up["error"] is err.value and caller.gave_up["attempts"] == 4
    assert caller.give_up_note(err.value) == "; the collection tried it 4 times in %.0f s, with backoff, and gave up" % sum(clock.sleeps)


def test_aws_caller_says_nothing_of_giving_up_on_an_error_it_did_not_retry():
    caller = AwsCaller(clock=FakeClock(1000.0))
    mistake = client_error("InvalidArgument")

    def method():
        raise mistake

    with pytest.raises(ClientError):
        caller(method)
    assert caller.gave_up is None
    assert caller.give_up_note(mistake) == ""


class FixedRandom:
    """``uniform(a, b)`` is always ``b``: the longest backoff."""

    def uniform(self, low, high):  # pylint: disable=unused-argument
        return high


def test_aws_caller_gives_up_at_the_deadline():
    clock = FakeClock(1000.0)
    caller = AwsCaller(clock=clock, max_attempts=100, base_delay=8.0, max_delay=8.0, max_elapsed=30.0,
                       rng=FixedRandom())

    def method():
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    with pytest.raises(EndpointConnectionError) as err:
        caller(method)
    # sleeps of 8 s each: tries at 0, 8, 16, 24 and 32 s; 32 is past the 30 s deadline
    assert caller.calls == 5 and caller.retries == 4
    assert caller.give_up_note(err.value) == "; the collection tried it 5 times in 32 s, with backoff, and gave up"


def test_differences_drive_changed_list_and_diff():
    diffs = Differences()
    diffs.compare("Origin.Protocol", "https-only", "https-only")
    assert not diffs
    diffs.compare("PriceClass", "PriceClass_100", "PriceClass_All")
    diffs.add("Aliases", [], ["links.example.com"])
    assert bool(diffs) and len(diffs) == 2
    assert diffs.fields() == ["PriceClass", "Aliases"]
    assert diffs.as_list()[0] == {"field": "PriceClass", "before": "PriceClass_100", "after": "PriceClass_All"}
    assert diffs.as_diff() == {
        "before": {"PriceClass": "PriceClass_100", "Aliases": []},
        "after": {"PriceClass": "PriceClass_All", "Aliases": ["links.example.com"]},
    }


# --------------------------------------------------------------------------
# result_from_exception: the one failed result
# --------------------------------------------------------------------------


def test_result_from_exception_for_a_linktrack_error_names_the_field_and_keeps_details():
    exc = LinktrackError("wait_timeout must be a number of seconds above 0, got 0.", field="wait_timeout",
                         details={"arn": "arn:aws:acm:us-east-1:123456789012:certificate/x"})
    result = result_from_exception(exc, {"retries": 2})
    assert result == {"failed": True, "changed": False, "field": "wait_timeout", "retries": 2,
                      "msg": "wait_timeout must be a number of seconds above 0, got 0.",
                      "arn": "arn:aws:acm:us-east-1:123456789012:certificate/x"}
    assert exc.as_result() == result_from_exception(exc)


def test_result_from_exception_for_an_aws_error_gives_its_code_and_the_give_up_note():
    clock = FakeClock()
    caller = AwsCaller(clock=clock, max_attempts=2)
    exc = client_error("ThrottlingException", "Rate exceeded")

    def always_throttled():
        raise exc

    with pytest.raises(ClientError):
        caller(always_throttled)
    result = result_from_exception(exc, None, caller)
    assert result["failed"] is True and result["changed"] is False and result["field"] is None
    assert result["error_code"] == "ThrottlingException"
    assert result["msg"].startswith("AWS answered ThrottlingException: ")
    assert "tried it 2 times" in result["msg"]


def test_result_from_exception_for_anything_else_and_what_was_written_before():
    result = result_from_exception(KeyError("Id"), {"changed": True, "id": "E123"})
    assert result == {"failed": True, "changed": True, "field": None, "id": "E123", "msg": "KeyError: 'Id'"}


def test_spec_fields_defaults_required_and_fresh_lists():
    from ansible_collections.linktrack.https.plugins.module_utils._common import REQUIRED, Spec

    class Demo(Spec):
        FIELDS = dict(name=REQUIRED, count=3, names=[])

    given = ["a"]
    one = Demo(name="x", names=given)
    assert (one.name, one.count, one.names) == ("x", 3, ["a"])
    assert one.names is not given and Demo(name="y").names == [] and Demo(name="y").names is not Demo.FIELDS["names"]
    with pytest.raises(TypeError, match="missing fields \\['name'\\]"):
        Demo(count=1)
    with pytest.raises(TypeError, match="unknown fields \\['colour'\\]"):
        Demo(name="x", colour="red")


class _Exit(Exception):
    pass


class _FakeModule:
    """Records what ``module_main`` does with an AnsibleModule; exit_json and fail_json end the run as they do."""

    made = []

    def __init__(self, argument_spec, **kwargs):
        self.argument_spec = argument_spec
        self.kwargs = kwargs
        self.params = dict(name="links.example.com")
        self.check_mode = True
        self._diff = True
        self.warnings = []
        self.ended = None
        _FakeModule.made.append(self)

    def warn(self, line):
        self.warnings.append(line)

    def exit_json(self, **result):
        self.ended = ("exit_json", result)
        raise _Exit()

    def fail_json(self, **result):
        self.ended = ("fail_json", result)
        raise _Exit()


def _main(run, **kwargs):
    del _FakeModule.made[:]
    with pytest.raises(_Exit):
        module_main(_FakeModule, {"name": {"type": "str"}}, {"supports_check_mode": True}, run, **kwargs)
    return _FakeModule.made[0]


def test_module_main_runs_the_module_code_with_the_module_s_params_and_exits_with_its_result():
    calls = []

    def run(params, check_mode, diff, **call):
        calls.append((params, check_mode, diff, sorted(call)))
        call["warn"]("a warning")
        return {"changed": True, "value": 3}

    module = _main(run)
    assert module.argument_spec == {"name": {"type": "str"}}
    assert module.kwargs == {"supports_check_mode": True}
    assert calls == [({"name": "links.example.com"}, True, True, ["warn"])]
    assert module.warnings == ["a warning"]
    assert module.ended == ("exit_json", {"changed": True, "value": 3})


def test_module_main_fails_with_a_failed_result_and_gives_aws_modules_a_client_factory():
    made = []

    def run(params, check_mode, diff, warn=None, client_factory=None):
        return {"failed": True, "msg": "no", "client": client_factory("acm")}

    module = _main(run, client_factory=lambda module, service: made.append((module, service)) or "client of %s" % service)
    assert module.ended == ("fail_json", {"failed": True, "msg": "no", "client": "client of acm"})
    assert made == [(module, "acm")]


def test_module_main_names_a_missing_library_before_any_work():
    def run(*args, **kwargs):
        raise AssertionError("the module code ran without its library")

    module = _main(run, requirements=[("dnspython", True, None), ("cryptography", False, ImportError("no cryptography"))])
    kind, result = module.ended
    assert kind == "fail_json"
    assert "cryptography" in result["msg"] and "dnspython" not in result["msg"]
    assert result["exception"] == "no cryptography"
