# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The aws_shared_listing module, run in the worker process (see plugin_utils/_inprocess.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linktrack.https.plugins.module_utils._shared_listing import run_module
from ansible_collections.linktrack.https.plugins.modules import aws_shared_listing as module
from ansible_collections.linktrack.https.plugins.plugin_utils._inprocess import in_process_action

ActionModule = in_process_action(module, run_module, aws=True, preload=["acm", "route53"])
