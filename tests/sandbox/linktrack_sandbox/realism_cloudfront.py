# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cloudfront: AWS's behaviour in the emulator (see realism.py)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type


def install(windows, context):
    """Patch moto's cloudfront backend with AWS's behaviour (see realism.py)."""
    del windows, context
