# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The dns_preflight module, run in the worker process (see plugin_utils/_inprocess.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linktrack.https.plugins.module_utils._dns import HAS_DNSPYTHON
from ansible_collections.linktrack.https.plugins.module_utils._preflight import run_module
from ansible_collections.linktrack.https.plugins.modules import dns_preflight as module
from ansible_collections.linktrack.https.plugins.plugin_utils._inprocess import in_process_action

ActionModule = in_process_action(module, run_module, needs=[HAS_DNSPYTHON])
