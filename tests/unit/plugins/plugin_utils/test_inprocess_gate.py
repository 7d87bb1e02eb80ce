# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The in-process path is used only on the ansible-core lines it was tested with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys
from unittest.mock import MagicMock

import pytest

from ansible_collections.linktrack.https.plugins.plugin_utils import _inprocess
from ansible_collections.linktrack.https.tests.unit.plugins.plugin_utils.test_inprocess import make_action


@pytest.mark.parametrize("version", ["2.21.0", "2.20.3", "2.18.9", "3.0.0"])
def test_other_ansible_core_lines_run_the_module_as_a_process(monkeypatch, version):
    monkeypatch.setattr(_inprocess, "ANSIBLE_CORE_VERSION", version)
    monkeypatch.delenv("LINKTRACK_HTTPS_IN_PROCESS", raising=False)
    action, rec = make_action({"name": "x"})
    action._execute_module = MagicMock(return_value={"changed": False, "from": "module process"})
    action._remove_tmp_path = MagicMock()
    result = action.run(task_vars={"ansible_python_interpreter": sys.executable})
    assert result["from"] == "module process"
    assert action._execute_module.call_count == 1
    assert rec.calls == []
    reason = action.module_process_reason({"ansible_python_interpreter": sys.executable})
    assert version in reason and "2.19.x" in reason


def test_the_tested_line_may_run_in_process():
    assert "2.19." in _inprocess.IN_PROCESS_CORE_LINES
