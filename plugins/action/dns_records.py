# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the dns_records module inside Ansible's worker process when the task runs on the controller.

See plugins/plugin_utils/_inprocess.py: same argument spec, same code
(``_dns_records.run_module``), same result; any other connection runs the module as usual.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linktrack.https.plugins.module_utils._dns_records import HAS_DNSPYTHON, run_module
from ansible_collections.linktrack.https.plugins.modules import dns_records as module
from ansible_collections.linktrack.https.plugins.plugin_utils._inprocess import (
    HAS_BOTO3,
    InProcessModuleAction,
    preload_aws,
)

# botocore's data for Route 53, loaded once in the process that forks the workers
preload_aws("route53")


class ActionModule(InProcessModuleAction):
    MODULE = module
    RUN = staticmethod(run_module)
    AWS = True
    AVAILABLE = HAS_BOTO3 and HAS_DNSPYTHON
