# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Add one record to BIND by a TSIG-signed RFC 2136 update after a delay.

Plays the person (or the slow DNS provider) while dns_record_wait is waiting.
Usage: delayed_update.py SECONDS SERVER PORT ZONE NAME TYPE VALUE; the TSIG key
comes from the environment (TSIG_NAME, TSIG_ALGORITHM, TSIG_SECRET), so it never
appears on a command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import time

import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update


def main():
    delay, server, port, zone, name, rtype, value = sys.argv[1:8]
    time.sleep(float(delay))
    keyring = dns.tsigkeyring.from_text({os.environ["TSIG_NAME"]: os.environ["TSIG_SECRET"]})
    update = dns.update.UpdateMessage(zone, keyring=keyring, keyalgorithm=os.environ["TSIG_ALGORITHM"])
    update.replace(name + ".", 60, rtype, value)
    response = dns.query.tcp(update, server, port=int(port), timeout=5)
    print(dns.rcode.to_text(response.rcode()))
    return 0 if response.rcode() == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
