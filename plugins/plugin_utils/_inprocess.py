# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's action plugins: do a module's work in Ansible's worker process.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

Why: the hosts of the collection's playbooks are tracking domains, not
machines, and every task runs on the controller (``connection: local``). A
module task costs a new Python process per host: start-up, AnsiballZ, importing
ansible, amazon.aws, boto3 and botocore's service models, which is 0.5 to 1
second of CPU while the AWS calls themselves take milliseconds (see
docs/performance.md).

How: every module of the collection has an action plugin of the same name built
on ``InProcessModuleAction``. It is an action plugin in its own right, written
against the public plugin interface only, so it works on every ansible-core line
the collection supports:

* ``ActionBase.run()`` first (async and check mode support, as for any action);
* ``self.validate_argument_spec()`` with the module's own ``ARGUMENT_SPEC`` and
  ``MODULE_KWARGS`` (plus amazon.aws's ``aws_argument_spec()`` for AWS modules),
  with the task's ``environment:`` in ``os.environ`` so that the options' AWS_*
  fallbacks see it, as they do in a module process;
* the same ``run_module(params, check_mode, diff, client_factory, warn,
  progress)`` of module_utils that the module's ``main()`` calls; its result
  dict is the task result, with every ``no_log`` value replaced
  (``remove_values``) and the warnings under ``warnings``;
* boto3 clients from amazon.aws's connection helpers for plugins
  (``plugin_utils.base.AWSPluginBase`` and ``plugin_utils.botocore
  .get_aws_connection_info``): the module's profile / keys / endpoint / CA bundle
  / region precedence, as amazon.aws's own lookup plugins use it;
* ``progress``: each poll of a long wait is displayed at once, at the default
  verbosity, prefixed with the host (Display proxies it from the worker to the
  main process while the task still runs).

The module runs as a process instead (``ansible.builtin.normal``) when the task
does not run on the controller with the controller's Python: another
connection (``delegate_to`` a remote host), ``become``, ``async``, an
``ansible_python_interpreter`` that is not this Python, a missing library, or
when the variable ``linktrack_https_in_process`` (or, when it is not set, the
environment variable ``LINKTRACK_HTTPS_IN_PROCESS``) is false.

boto3, botocore, dnspython and cryptography are imported when an action plugin
is loaded. Ansible's strategies load an action class in the main process before
they fork the workers for a task, so those imports happen once per
``ansible-playbook`` run and every worker inherits them. The botocore data
(endpoints, service models) is loaded once too and shared by every session.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
from ansible.errors import AnsibleError
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display

from ansible_collections.amazon.aws.plugins.module_utils.botocore import check_sdk_version_supported
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec
from ansible_collections.amazon.aws.plugins.plugin_utils.base import AWSPluginBase
from ansible_collections.amazon.aws.plugins.plugin_utils.botocore import get_aws_connection_info

from ansible_collections.linktrack.https.plugins.module_utils._aws import CLOUDFRONT_REGION, aws_client
from ansible_collections.linktrack.https.plugins.module_utils._common import LinktrackError, result_from_exception

display = Display()

# Set to false (0, no, off) to run every task of the collection as a module
# process: the environment variable for a whole run, the variable (it wins) per
# play, host or task.
ENV_VAR = "LINKTRACK_HTTPS_IN_PROCESS"
VAR_NAME = "linktrack_https_in_process"
_FALSE = ("0", "false", "no", "off", "n", "f")

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
    """The task's ``environment:`` in ``os.environ`` while the module's code runs.

    The worker process runs this one task and ends; the old values come back
    anyway, so that nothing leaks when a strategy runs tasks differently.
    """
    saved = dict((key, os.environ.get(key)) for key in extra)
    try:
        for key, value in extra.items():
            os.environ[str(key)] = value if isinstance(value, str) else str(value)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def no_log_values(argument_spec, params):
    """The strings of every ``no_log`` option in ``params`` (suboptions too), for ``remove_values``.

    ansible-core's own helper for this has a leading underscore (not a public
    API), so the collection walks its specs itself: each ``no_log`` option's
    value, and every string inside it when it is a list or a dict.
    """
    found = set()

    def strings(value):
        if isinstance(value, dict):
            for sub in value.values():
                strings(sub)
        elif isinstance(value, (list, tuple, set)):
            for sub in value:
                strings(sub)
        elif value is not None and not isinstance(value, bool) and str(value) != "":
            found.add(str(value))

    for name, spec in (argument_spec or {}).items():
        value = (params or {}).get(name)
        if value is None:
            continue
        if spec.get("no_log"):
            strings(value)
        options = spec.get("options")
        if options:
            for item in (value if isinstance(value, list) else [value]):
                if isinstance(item, dict):
                    found |= no_log_values(options, item)
    return found


# --------------------------------------------------------------------------
# boto3 clients
# --------------------------------------------------------------------------

_LOADERS = {}


def _botocore_session(profile=None):
    """A new botocore session that shares the process's loaded botocore data.

    botocore reads and parses its JSON data (endpoints, partitions, service
    models) anew for each session, 0.1 s or more per client here, which costs
    more than the AWS calls of a task. The data does not change while Ansible
    runs, so one loader per data path serves every session.
    """
    session = botocore.session.Session(profile=profile)
    data_path = session.get_config_variable("data_path")
    loader = _LOADERS.get(data_path)
    if loader is None:
        loader = _LOADERS[data_path] = botocore.loaders.create_loader(data_path)
    session.register_component("data_loader", loader)
    return session, loader


def build_client(service, region, endpoint, connect_kwargs, config=None):
    """A boto3 client from what amazon.aws's ``get_aws_connection_info`` returned.

    The same keyword arguments amazon.aws's ``boto3_conn`` passes to boto3
    (keys or profile, ``verify``, ``aws_config`` merged into ``config``), on a
    session with the shared botocore data.
    """
    params = dict(connect_kwargs)
    profile = params.pop("profile_name", None)
    merged = botocore.config.Config()
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


class AwsConnection(AWSPluginBase):
    """amazon.aws's connection helper for plugins, fed with the task's validated AWS options.

    ``get_options()`` is what amazon.aws's ``plugin_utils`` reads the connection
    options from (a lookup plugin's options; here the task's, validated with
    ``aws_argument_spec()``, so the names, aliases and AWS_* fallbacks are the
    module's). ``client(service, region=, config=)`` is what ``_aws.aws_client``
    calls on an ``AnsibleAWSModule``. A failure raises ``LinktrackError``, which
    ``run_module`` turns into the failed result.
    """

    def __init__(self, name, options):
        self.ansible_name = name
        self.options = options

    def get_options(self):
        return self.options

    def _do_fail(self, message):
        raise LinktrackError(message)

    def client(self, service, retry_decorator=None, region=None, config=None, **extra_params):  # pylint: disable=arguments-differ
        default_region, endpoint, connect_kwargs = get_aws_connection_info(self)
        connect_kwargs = dict(connect_kwargs, **extra_params)
        try:
            return build_client(service, region or default_region, endpoint, connect_kwargs, config=config)
        except botocore.exceptions.NoRegionError:
            self.fail_aws("The %s module requires a region and none was found in configuration, "
                          "environment variables or module parameters" % self.ansible_name)
        except (ValueError, botocore.exceptions.BotoCoreError) as exc:
            self.fail_aws("Couldn't connect to AWS", exception=exc)


class InProcessModuleAction(NormalAction):
    """Base of the collection's action plugins: do the module's work in the worker process.

    A subclass sets ``MODULE`` (the module's Python module, for ``ARGUMENT_SPEC``
    and ``MODULE_KWARGS``), ``RUN`` (``staticmethod`` of the module_utils
    ``run_module``), ``AWS`` (an AWS module: amazon.aws's common options) and
    ``AVAILABLE`` (false when a library the module needs is missing: the module
    then runs as a process and says which).
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
        result = ActionBase.run(self, tmp, task_vars)
        result.update(self.run_in_process(task_vars))
        return result

    # ---- the module's work, in this process --------------------------------

    def argument_spec(self):
        spec = aws_argument_spec() if self.AWS else {}
        spec.update(self.MODULE.ARGUMENT_SPEC)
        return spec

    def task_environment(self):
        """The task's ``environment:`` (play, block and task, in that order), templated."""
        final = {}
        environments = self._task.environment
        if environments is None:
            return final
        if not isinstance(environments, list):
            environments = [environments]
        for environment in environments:
            if not environment:
                continue
            value = self._templar.template(environment)
            if not isinstance(value, dict):
                raise AnsibleError("environment must be a dictionary, received %s (%s)" % (value, type(value)))
            final.update(value)
        return final

    def progress_reporter(self, task_vars, secrets):
        """The ``progress`` callable: one line, shown now at the default verbosity, naming the host."""
        host = str(task_vars.get("inventory_hostname") or "")

        def report(line):
            line = str(line)
            if host and not line.startswith(host + ":"):
                line = "%s: %s" % (host, line)
            # stderr: the person watching sees it live, and a machine-readable callback's stdout stays clean
            display.display(remove_values(line, secrets), stderr=True)

        return report

    def run_in_process(self, task_vars):
        spec = self.argument_spec()
        kwargs = dict((k, v) for k, v in self.MODULE.MODULE_KWARGS.items() if k != "supports_check_mode")
        warnings = []
        secrets = set()
        with task_environment(self.task_environment()):
            _validation, params = self.validate_argument_spec(argument_spec=spec, **kwargs)
            secrets = no_log_values(spec, params)
            call = dict(warn=warnings.append, progress=self.progress_reporter(task_vars, secrets))
            try:
                if self.AWS:
                    check_sdk_version_supported(warn=warnings.append)
                    connection = AwsConnection(self._task.action, params)
                    call["client_factory"] = lambda service: aws_client(connection, service)
                outcome = self.RUN(params, self._task.check_mode, self._task.diff, **call)
            except Exception as exc:  # noqa: BLE001 - pylint: disable=broad-except
                # the one catch policy of the modules (result_from_exception); secrets removed below
                outcome = result_from_exception(exc)
        result = remove_values(dict(outcome), secrets)
        if warnings:
            result["warnings"] = list(result.get("warnings") or []) + remove_values(list(dict.fromkeys(warnings)), secrets)
        return result


def in_process_action(module, run, aws=False, needs=(), preload=()):
    """The ``ActionModule`` class of one module: each file of plugins/action/ is this one call.

    ``module`` is the module's Python module (``ARGUMENT_SPEC``, ``MODULE_KWARGS``),
    ``run`` the module_utils ``run_module`` its ``main()`` calls, ``aws`` whether it
    takes amazon.aws's common options (boto3 is then needed too), ``needs`` the
    ``HAS_*`` flags of the other libraries it imports, and ``preload`` the
    botocore services whose data is loaded now, in the process that forks the
    workers (``preload_aws``).
    """
    preload_aws(*preload)
    available = all(needs) and (HAS_BOTO3 or not aws)
    attributes = dict(MODULE=module, RUN=staticmethod(run), AWS=bool(aws), AVAILABLE=bool(available),
                      __module__=getattr(module, "__name__", __name__).replace(".modules.", ".action."),
                      __doc__="Runs %s inside Ansible's worker process (see plugin_utils/_inprocess.py)."
                      % getattr(module, "__name__", "the module").rsplit(".", 1)[-1])
    return type("ActionModule", (InProcessModuleAction,), attributes)
