# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Callback of the reliability suite: one timestamped JSON line per task event.

Enable it with ``ANSIBLE_CALLBACK_PLUGINS=tests/reliability/callback_plugins``,
``ANSIBLE_CALLBACKS_ENABLED=linktrack_events`` and ``LINKTRACK_EVENTS_FILE=PATH``.
Each line is written and flushed at once, so the file is complete up to the
moment ansible-playbook is killed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: linktrack_events
type: aggregate
short_description: timestamped task events for the reliability suite
description:
  - Writes one JSON line per task start and task result to the file named by E(LINKTRACK_EVENTS_FILE).
requirements:
  - enable in configuration
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "linktrack_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        path = os.environ.get("LINKTRACK_EVENTS_FILE")
        self._out = open(path, "a", buffering=1) if path else None

    def _write(self, event, task, host=None, result=None):
        if self._out is None:
            return
        name = task.get_name() if task is not None else ""
        if " : " in name:
            name = name.split(" : ", 1)[1]
        line = {"t": round(time.time(), 4), "ev": event, "task": name, "pid": os.getpid()}
        if host is not None:
            line["host"] = host
        if result is not None:
            if "passed" in result:
                line["passed"] = bool(result.get("passed"))
            line["changed"] = bool(result.get("changed"))
        self._out.write(json.dumps(line) + "\n")
        self._out.flush()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write("start", task)

    def v2_playbook_on_handler_task_start(self, task):
        self._write("start", task)

    def _result(self, event, result):
        self._write(event, result._task, result._host.get_name(), result._result)

    def v2_runner_on_ok(self, result):
        self._result("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("failed", result)

    def v2_runner_on_skipped(self, result):
        self._result("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable", result)

    def v2_playbook_on_stats(self, stats):
        self._write("end", None)
