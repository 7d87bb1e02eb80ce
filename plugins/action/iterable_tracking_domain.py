# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the iterable_tracking_domain module inside Ansible's worker process when the task runs on the controller.

See plugins/plugin_utils/_inprocess.py: same argument spec, same code
(``_iterable.run_module``), same result; any other connection runs the module as usual.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linktrack.https.plugins.module_utils._dns import HAS_DNSPYTHON
from ansible_collections.linktrack.https.plugins.module_utils._iterable import run_module
from ansible_collections.linktrack.https.plugins.module_utils._tls import HAS_CRYPTOGRAPHY
from ansible_collections.linktrack.https.plugins.modules import iterable_tracking_domain as module
from ansible_collections.linktrack.https.plugins.plugin_utils._inprocess import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    MODULE = module
    RUN = staticmethod(run_module)
    AWS = False
    AVAILABLE = HAS_DNSPYTHON and HAS_CRYPTOGRAPHY
