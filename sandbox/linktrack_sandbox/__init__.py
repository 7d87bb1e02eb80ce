# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The linktrack.https test sandbox: local stand-ins for AWS, DNS, the CloudFront edge and Iterable.

Test tooling only; not part of the collection's public API. See sandbox/README.md.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type
