# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the link_domain_preflight module inside Ansible's worker process when the task runs on the controller.

See plugins/plugin_utils/_inprocess.py: same argument spec, same code
(``_role_inputs.run_module``), same result; any other connection runs the module as usual.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linktrack.https.plugins.module_utils._role_inputs import run_module
from ansible_collections.linktrack.https.plugins.modules import link_domain_preflight as module
from ansible_collections.linktrack.https.plugins.plugin_utils._inprocess import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    MODULE = module
    RUN = staticmethod(run_module)
    AWS = False
    AVAILABLE = True
