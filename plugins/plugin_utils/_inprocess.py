# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module of linktrack.https inside Ansible's worker process.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

Why: the hosts of the collection's playbooks are tracking domains, not
machines, and every task runs on the controller (``connection: local``). A
module task then costs a new Python process per host: start-up, AnsiballZ,
importing ansible, amazon.aws, boto3 and botocore's service models, which is
0.5 to 1 second of CPU while the AWS calls themselves take milliseconds (see
docs/performance.md for the measurements).

How: every module of the collection has an action plugin of the same name built
on ``InProcessModuleAction``. When the task runs on the controller with the
controller's own Python (``connection: local`` and ``ansible_python_interpreter``
unset, ``auto*`` or the Python running Ansible), the action plugin does in the
worker process what the module would do in its own process:

* it validates the task's arguments with the module's own argument spec
  (``ARGUMENT_SPEC`` and ``MODULE_KWARGS`` of the module file, plus the common
  AWS options for AWS modules), so errors read exactly as the module's;
* it calls the same ``run_module(params, check_mode, diff, client_factory,
  warn)`` of module_utils that the module's ``main()`` calls;
* it builds boto3 clients from the same connection options through
  amazon.aws's ``get_aws_connection_info`` and the collection's
  ``_aws.aws_client`` (same ``Config``, retries only through ``AwsCaller``);
* it shapes the result as ``AnsibleModule`` does (``invocation``, warnings,
  ``no_log`` values censored everywhere, top-level booleans kept) and passes
  it through the JSON encoder and the controller's own parsing of module
  output, so registered results carry the same keys and types.

On any other connection, with another interpreter, with ``become`` or
``async``, or when the variable ``linktrack_https_in_process`` (or, when it is
not set, the environment variable ``LINKTRACK_HTTPS_IN_PROCESS``) is false, the
action plugin runs the module as usual (``ansible.builtin.normal``).

boto3, botocore, dnspython and cryptography are imported when the action plugin
is loaded. Ansible's strategies load an action class in the main process
before they fork the workers for a task, so those imports happen once per
``ansible-playbook`` run and every worker inherits them. The botocore data
(endpoints, service models) the AWS modules need is loaded once too and shared
by every session a worker creates.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
from contextlib import contextmanager

try:
    import boto3
    import botocore.config
    import botocore.exceptions
    import botocore.loaders
    import botocore.session

    HAS_BOTO3 = True
except ImportError:
    HAS_BOTO3 = False

from ansible import constants as C
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

try:
    from ansible.vars.clean import remove_internal_keys
except ImportError:  # ansible-core 2.21 dropped it; there the module runs as a process anyway
    remove_internal_keys = None

try:  # how AnsiballZ reports an exception that escaped a module (ansible-core 2.19)
    from ansible.module_utils._internal import _errors, _messages, _traceback
except ImportError:  # pragma: no cover - other ansible-core versions
    _errors = _messages = _traceback = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    check_sdk_version_supported,
    get_aws_connection_info,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule, aws_argument_spec

try:
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import _get_user_agent_string
except ImportError:  # pragma: no cover - a later amazon.aws; the user agent is informative only
    _get_user_agent_string = None

from ansible_collections.linktrack.https.plugins.module_utils._aws import CLOUDFRONT_REGION, aws_client

display = Display()

# Set to false (0, no, off) to run every task of the collection as a module
# process: the environment variable for a whole run, the variable (it wins) per
# play, host or task.
ENV_VAR = "LINKTRACK_HTTPS_IN_PROCESS"
VAR_NAME = "linktrack_https_in_process"
_FALSE = ("0", "false", "no", "off", "n", "f")

# The in-process path leans on ansible-core's own result handling, which is not a
# public API: it runs only on the ansible-core line it was tested with. On any
# other line every task runs as a module process, which is always correct.
IN_PROCESS_CORE_LINES = ("2.19.",)

# The serialization profile Ansible uses for the collection's modules.
PROFILE = "legacy"

# Values of ansible_python_interpreter that mean "discover it": on the
# controller that is the controller's Python.
_AUTO_INTERPRETERS = ("", "auto", "auto_legacy", "auto_silent", "auto_legacy_silent")

# amazon.aws's test-recording hooks act on the session it creates itself.
_PLACEBO_VARS = ("_ANSIBLE_PLACEBO_RECORD", "_ANSIBLE_PLACEBO_REPLAY")


def in_process_enabled(variable=None, environ=None):
    """False when the variable, or else ``LINKTRACK_HTTPS_IN_PROCESS``, says false."""
    value = variable
    if value is None:
        value = (environ if environ is not None else os.environ).get(ENV_VAR, "")
    return str(value).strip().lower() not in _FALSE


def is_controller_python(interpreter, executable=None):
    """Whether a module would run with the Python that runs Ansible.

    ``interpreter`` is the templated ``ansible_python_interpreter``; unset and the
    ``auto`` modes count as the controller's Python. A path counts when it is
    ``sys.executable``, or the same file in the same directory (a virtual
    environment's ``python`` and ``python3`` links).
    """
    executable = executable or sys.executable
    value = (interpreter or "").strip()
    if value in _AUTO_INTERPRETERS:
        return True
    if not os.path.isabs(value):
        return False
    ours = os.path.abspath(executable)
    theirs = os.path.abspath(value)
    if ours == theirs:
        return True
    return os.path.dirname(ours) == os.path.dirname(theirs) and os.path.realpath(ours) == os.path.realpath(theirs)


@contextmanager
def task_environment(extra):
    """The task's ``environment:`` in ``os.environ`` while the module's code runs."""
    saved = dict((key, os.environ.get(key)) for key in extra)
    try:
        for key, value in extra.items():
            os.environ[key] = value if isinstance(value, str) else str(value)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --------------------------------------------------------------------------
# boto3 clients
# --------------------------------------------------------------------------

_LOADERS = {}


def _botocore_session(profile=None):
    """A new botocore session that shares the process's loaded botocore data.

    botocore reads and parses its JSON data (endpoints, partitions, service
    models) anew for each session, which costs more than the AWS calls of a
    task. The data does not change while Ansible runs, so one loader per data
    path serves every session.
    """
    session = botocore.session.Session(profile=profile)
    data_path = session.get_config_variable("data_path")
    loader = _LOADERS.get(data_path)
    if loader is None:
        loader = _LOADERS[data_path] = botocore.loaders.create_loader(data_path)
    session.register_component("data_loader", loader)
    return session, loader


def build_client(service, region, endpoint, connect_kwargs, config=None):
    """What amazon.aws's ``boto3_conn`` builds, on a session with the shared data.

    ``region``, ``endpoint`` and ``connect_kwargs`` come from amazon.aws's
    ``get_aws_connection_info``, which holds the precedence of profile, keys,
    environment, endpoint and CA bundle.
    """
    params = dict(connect_kwargs)
    profile = params.pop("profile_name", None)
    merged = botocore.config.Config(user_agent=_get_user_agent_string()) if _get_user_agent_string else botocore.config.Config()
    for extra in (config, params.pop("aws_config", None)):
        if extra:
            merged = merged.merge(extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra))
    core_session, loader = _botocore_session(profile)
    session = boto3.session.Session(botocore_session=core_session, profile_name=profile)
    # boto3 adds its own data directory to the loader's search path for each session
    loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return session.client(service, config=merged, region_name=region, endpoint_url=endpoint, **params)


def preload_aws(*services):
    """Load botocore's data for ``services`` now, in the process that forks the workers.

    A best effort: whatever is not loaded here is loaded by the worker.
    """
    if not HAS_BOTO3:
        return
    try:
        for service in services:
            build_client(service, CLOUDFRONT_REGION, None,
                         dict(aws_access_key_id="preload", aws_secret_access_key="preload"))  # nosec - no request is made
    except Exception:  # noqa: BLE001 - pylint: disable=broad-except
        pass


class ModuleExit(BaseException):
    """The end of a module's run, as ``fail_json`` ends a module process.

    A ``BaseException``, like the ``SystemExit`` that ``fail_json`` raises in a
    module, so that ``except Exception`` in the module's logic does not catch it.
    """

    def __init__(self, result):
        super(ModuleExit, self).__init__(result.get("msg"))
        self.result = result


class AwsModuleShim:
    """What amazon.aws's connection helpers and ``_aws.aws_client`` need of an ``AnsibleAWSModule``."""

    def __init__(self, name, params):
        self._name = name
        self.params = params

    def fail_json(self, msg, **kwargs):
        # The traceback that fail_json_aws passes is shown only when tracebacks are
        # enabled; a module leaves it out otherwise, and so does this.
        kwargs.pop("exception", None)
        kwargs.update(failed=True, msg=str(msg))
        raise ModuleExit(kwargs)

    # AnsibleAWSModule's own message for SDK errors (boto3_conn calls it)
    fail_json_aws = AnsibleAWSModule.fail_json_aws
    _gather_versions = AnsibleAWSModule._gather_versions

    def client(self, service, region=None, config=None):
        """``AnsibleAWSModule.client`` without a retry decorator, as ``_aws.aws_client`` calls it."""
        default_region, endpoint, connect_kwargs = get_aws_connection_info(self)
        try:
            return build_client(service, region or default_region, endpoint, connect_kwargs, config=config)
        except botocore.exceptions.NoRegionError:
            self.fail_json(msg="The %s module requires a region and none was found in configuration, "
                               "environment variables or module parameters" % self._name)
        except (ValueError, botocore.exceptions.BotoCoreError) as exc:
            self.fail_json_aws(exc, msg="Couldn't connect to AWS")


def exception_result(exc):
    """The result of a module process that an exception escaped from (as AnsiballZ reports it)."""
    if _errors is not None:
        event = _errors.EventFactory.from_exception(exc, _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR))
        return dict(failed=True, exception=_messages.ErrorSummary(event=event))
    return dict(failed=True, msg="Module failed: %s" % (exc,))  # pragma: no cover - other ansible-core versions


class InProcessModuleAction(NormalAction):
    """Base of the collection's action plugins: run the module in the worker process.

    A subclass sets ``MODULE`` (the module's Python module, for ``ARGUMENT_SPEC``
    and ``MODULE_KWARGS``), ``RUN`` (``staticmethod`` of the module_utils
    ``run_module``), ``AWS`` (an ``AnsibleAWSModule``) and ``AVAILABLE`` (false
    when a library the module needs is missing: the module then runs as a
    process and reports it).
    """

    MODULE = None
    RUN = None
    AWS = False
    AVAILABLE = True

    _supports_check_mode = True
    _supports_async = True

    # ---- where to run ------------------------------------------------------

    def _interpreter(self, task_vars):
        use_vars = task_vars
        if self._task.delegate_to:
            use_vars = (task_vars.get("ansible_delegated_vars") or {}).get(self._task.delegate_to, task_vars)
        value = C.config.get_config_value("INTERPRETER_PYTHON", variables=use_vars)
        if isinstance(value, str) and "{" in value:
            value = self._templar.template(value)
        return value if isinstance(value, str) else ""

    def _debug_botocore_logs(self):
        if not self.AWS:
            return False
        value = self._task.args.get("debug_botocore_endpoint_logs", os.environ.get("ANSIBLE_DEBUG_BOTOCORE_LOGS"))
        return str(value).strip().lower() in ("1", "true", "yes", "on", "y", "t")

    def module_process_reason(self, task_vars):
        """Why the module must run as its own process, or ``None`` when it can run here."""
        variable = task_vars.get(VAR_NAME)
        if isinstance(variable, str) and "{" in variable:
            variable = self._templar.template(variable)
        if not in_process_enabled(variable):
            return "%s is false" % (VAR_NAME if variable is not None else ENV_VAR)
        if not ANSIBLE_CORE_VERSION.startswith(IN_PROCESS_CORE_LINES) or remove_internal_keys is None:
            return "ansible-core %s is not a line the in-process path was tested with (%s)" % (
                ANSIBLE_CORE_VERSION, ", ".join(line + "x" for line in IN_PROCESS_CORE_LINES))
        if not self.AVAILABLE:
            return "a Python library the module needs is missing on the controller"
        if getattr(self._connection, "transport", None) != "local":
            return "the connection is not local"
        if self._task.async_val:
            return "the task is async"
        if self._play_context.become:
            return "the task uses become"
        interpreter = self._interpreter(task_vars)
        if not is_controller_python(interpreter):
            return "ansible_python_interpreter %s is not the controller's Python %s" % (interpreter, sys.executable)
        if self.AWS and (self._debug_botocore_logs() or any(os.environ.get(name) for name in _PLACEBO_VARS)):
            return "botocore endpoint logs or placebo recording were asked for"
        return None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars if task_vars is not None else {}
        reason = self.module_process_reason(task_vars)
        if reason is not None:
            display.vvvv("linktrack.https: %s runs as a module process: %s" % (self._task.action, reason))
            return super(InProcessModuleAction, self).run(tmp, task_vars)
        display.vvvv("linktrack.https: %s runs inside the worker process" % self._task.action)
        return self.run_in_process()

    # ---- the module, in this process --------------------------------------

    def argument_spec(self):
        spec = aws_argument_spec() if self.AWS else {}
        spec.update(self.MODULE.ARGUMENT_SPEC)
        return spec

    def _module_args(self):
        """The task's arguments as the module receives them (through Ansible's JSON profile)."""
        text = json.dumps(dict(self._task.args), cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE))
        return json.loads(text, cls=get_module_decoder(PROFILE, Direction.CONTROLLER_TO_MODULE))

    def run_in_process(self):
        module_name = self._task.action
        environment = {}
        self._compute_environment_string(environment)
        warnings = []
        deprecations = []
        with task_environment(environment):
            params = self._module_args()
            kwargs = dict((k, v) for k, v in self.MODULE.MODULE_KWARGS.items() if k != "supports_check_mode")
            validation = ArgumentSpecValidator(self.argument_spec(), **kwargs).validate(params)
            params.update(validation.validated_parameters)
            for item in validation._deprecations:
                deprecations.append(dict((k, item.get(k)) for k in ("msg", "version", "date", "collection_name")))
            for item in validation._warnings:
                warnings.append("Both option %s and its alias %s are set." % (item["option"], item["alias"]))
            if validation.error_messages:
                error = validation.errors[0]
                msg = validation.errors.msg
                if isinstance(error, UnsupportedError):
                    msg = "Unsupported parameters for (%s) module: %s" % (module_name, msg)
                outcome = dict(failed=True, msg=msg)
            else:
                outcome = self._call(module_name, params, warnings)
        return self.module_result(outcome, params, validation._no_log_values, warnings, deprecations)

    def _call(self, module_name, params, warnings):
        client_factory = None
        try:
            if self.AWS:
                check_sdk_version_supported(warn=warnings.append)
                shim = AwsModuleShim(module_name, params)

                def client_factory(service):
                    return aws_client(shim, service)

            return self.RUN(params, self._task.check_mode, self._task.diff, client_factory, warnings.append)
        except ModuleExit as done:
            return done.result
        except Exception as exc:  # noqa: BLE001 - pylint: disable=broad-except
            return exception_result(exc)

    def module_result(self, outcome, params, no_log_values, warnings=(), deprecations=()):
        """The result as the controller gets it from the module process.

        ``AnsibleModule`` adds ``invocation``, warnings and deprecations and
        removes every ``no_log`` value (keeping top-level booleans and nulls);
        the controller decodes the JSON and normalises failures.
        """
        kwargs = dict(outcome)
        exception_only = "exception" in kwargs and "msg" not in kwargs
        if not exception_only and "invocation" not in kwargs:
            kwargs["invocation"] = {"module_args": params}
        if warnings:
            kwargs["warnings"] = list(dict.fromkeys(warnings))
        if deprecations:
            kwargs["deprecations"] = list(deprecations)
        plain = json.loads(json.dumps(kwargs, cls=get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER)))
        preserved = dict((k, v) for k, v in plain.items() if v is None or isinstance(v, bool))
        plain = remove_values(plain, no_log_values)
        plain.update(preserved)
        data = self._parse_returned_data({"stdout": json.dumps(plain), "stderr": "", "rc": 0}, PROFILE)
        remove_internal_keys(data)
        return data
