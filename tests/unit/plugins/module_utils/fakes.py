# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fakes shared by the unit tests of module_utils: a clock that only moves when
slept on, and botocore ClientErrors shaped as the services send them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from botocore.exceptions import ClientError


class FakeClock:
    """``now()`` and ``sleep()`` for poll loops; every sleep is recorded and moves the time."""

    def __init__(self, start=0.0):
        self.t = start
        self.sleeps = []

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds


def client_error(code, message=None, status=400, operation="Op"):
    """A botocore ClientError with an error code and HTTP status; the message defaults to the code."""
    return ClientError({"Error": {"Code": code, "Message": code if message is None else message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)
