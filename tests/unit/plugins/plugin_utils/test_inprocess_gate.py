# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugins use the public plugin interface of ansible-core only.

No import of a private ansible-core module or name (a leading underscore), and
of the attributes of core objects only the documented action plugin ones. This
is why the in-process path needs no gate on the ansible-core version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import glob
import os

import pytest

from ansible_collections.linktrack.https.plugins.plugin_utils import _inprocess

# the action plugin interface: what ActionBase hands every action plugin
ALLOWED_ATTRIBUTES = {"_task", "_templar", "_connection", "_play_context", "_display", "_supports_check_mode", "_supports_async"}
# amazon.aws's own hook for plugins that build on AWSPluginBase ("Should be overridden")
ALLOWED_DEFINITIONS = {"_do_fail", "_interpreter", "_debug_botocore_logs", "_botocore_session"}

PLUGINS = os.path.dirname(os.path.dirname(os.path.abspath(_inprocess.__file__)))
SOURCES = sorted(glob.glob(os.path.join(PLUGINS, "action", "*.py"))) + [_inprocess.__file__]


def _tree(path):
    with open(path) as handle:
        return ast.parse(handle.read(), path)


@pytest.mark.parametrize("path", SOURCES, ids=os.path.basename)
def test_no_private_ansible_core_import(path):
    bad = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ansible":
            if any(part.startswith("_") for part in node.module.split(".")):
                bad.append(node.module)
            bad.extend("%s.%s" % (node.module, alias.name) for alias in node.names if alias.name.startswith("_"))
        elif isinstance(node, ast.Import):
            bad.extend(alias.name for alias in node.names
                       if alias.name.split(".")[0] == "ansible" and any(p.startswith("_") for p in alias.name.split(".")))
    assert bad == []


@pytest.mark.parametrize("path", SOURCES, ids=os.path.basename)
def test_no_private_attribute_or_method_of_a_core_object(path):
    tree = _tree(path)
    own = set(ALLOWED_DEFINITIONS)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            own.add(node.name)
        if isinstance(node, ast.Assign):
            own.update(t.id for t in node.targets if isinstance(t, ast.Name))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if node.attr not in ALLOWED_ATTRIBUTES and node.attr not in own:
                bad.append("line %d: .%s" % (node.lineno, node.attr))
    assert bad == []


def test_there_is_no_ansible_core_version_gate_any_more():
    assert not hasattr(_inprocess, "IN_PROCESS_CORE_LINES")
    assert "ansible.release" not in open(_inprocess.__file__).read()
