# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the sandbox's env file (``export NAME=value`` lines, written by controller.py).

Standard library only, so scripts outside the sandbox (the demo summary, the
benchmark, molecule's side task, the test helpers) can import it with nothing
but ``sandbox`` on ``sys.path``.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shlex


def read_env_file(path):
    """The env file's variables as a dict; blank lines and comments are skipped."""
    values = {}
    with open(path, "r", encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export "):]
            name, sep, value = line.partition("=")
            if not sep:
                continue
            parts = shlex.split(value)
            values[name.strip()] = parts[0] if parts else ""
    return values
