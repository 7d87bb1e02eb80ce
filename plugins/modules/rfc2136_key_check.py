#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: rfc2136_key_check
short_description: Prove a TSIG key with one signed question to the name server that takes RFC 2136 updates
version_added: 0.1.0
description:
  - Sends one TSIG-signed SOA question for O(zone) to O(server) (UDP, recursion off, with dnspython) and checks that
    the server accepted the signature and signed its answer with the same key.
  - Run it before anything is changed, so that a wrong key name, algorithm or secret fails early instead of at the
    first dynamic update.
  - A key the server does not know (BADKEY, also for a known name with another algorithm) fails naming O(key_name)
    and O(key_algorithm); a wrong secret (BADSIG) fails naming O(key_secret); a secret that is not base64 fails
    before anything is sent.
  - The secret is never returned or shown, not even in error messages.
  - Only reads; check mode runs it the same way.
author:
  - linktrack.https contributors (@linktrack-https)
extends_documentation_fragment: [linktrack.https.attributes.read_only, linktrack.https.attributes]
requirements:
  - dnspython
options:
  server:
    description:
      - IPv4 or IPv6 address of the name server that takes the updates (the primary).
    type: str
    required: true
  port:
    description:
      - Port of O(server).
    type: int
    default: 53
  zone:
    description:
      - The name asked for (type SOA). Usually the zone that is updated, such as V(example.com); a name inside the
        zone works too (the server answers NXDOMAIN with the zone's SOA).
      - A server that refuses the question (it does not serve the zone) fails naming O(zone).
    type: str
    required: true
  key_name:
    description:
      - Name of the TSIG key, as in the server's C(key) statement.
    type: str
    required: true
  key_algorithm:
    description:
      - Algorithm of the TSIG key.
    type: str
    choices: [hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512]
    default: hmac-sha256
  key_secret:
    description:
      - The TSIG secret, base64 as C(tsig-keygen) prints it. Never logged or returned.
    type: str
    required: true
  timeout:
    description:
      - Seconds to wait for the answer.
    type: float
    default: 5
notes:
  - Supports check mode; the module never changes anything and always reports C(changed=false).
seealso:
  - module: community.general.nsupdate
"""

EXAMPLES = r"""
- name: Prove the TSIG key before any update
  linktrack.https.rfc2136_key_check:
    server: 192.0.2.53
    zone: example.com
    key_name: linktrack
    key_algorithm: hmac-sha256
    key_secret: "{{ vault_tsig_secret }}"

- name: A test server on a high loopback port
  linktrack.https.rfc2136_key_check:
    server: 127.0.0.1
    port: 5353
    zone: links.example.com
    key_name: linktrack-sandbox
    key_secret: "{{ lookup('ansible.builtin.env', 'SANDBOX_TSIG_SECRET') }}"
    timeout: 2
"""

RETURN = r"""
server:
  description: The server asked, as V(host) or V(host:port).
  returned: success
  type: str
  sample: "127.0.0.1:5353"
zone:
  description: The owner of the SOA record in the answer (the zone the server serves for O(zone)), or null without one.
  returned: success
  type: str
  sample: example.com
rcode:
  description: The response code of the signed answer (V(NOERROR), or V(NXDOMAIN) for a name inside the zone).
  returned: success
  type: str
  sample: NOERROR
key_name:
  description: The TSIG key name used, without trailing dot.
  returned: success
  type: str
  sample: linktrack-sandbox
key_algorithm:
  description: The TSIG algorithm used.
  returned: success
  type: str
  sample: hmac-sha256
verified:
  description: Whether the server accepted the signature and signed its answer with the key (always V(true) on success).
  returned: success
  type: bool
  sample: true
field:
  description: The option the failure is about (the first of RV(fields)).
  returned: failure
  type: str
  sample: key_secret
fields:
  description: Every option the failure may be about.
  returned: failure
  type: list
  elements: str
  sample: [key_name, key_algorithm]
reason:
  description:
    - Why the check failed, as a word. V(badkey), V(badsig), V(badtime), V(tsig_error), V(notauth), V(unsigned),
      V(refused), V(timeout), V(error), or the option that is invalid.
  returned: failure
  type: str
  sample: badsig
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linktrack.https.plugins.module_utils._common import module_main
from ansible_collections.linktrack.https.plugins.module_utils._dns import DNSPYTHON_REQUIREMENT, TSIG_ALGORITHMS, run_key_check_module as run_module

# The action plugin of the same name validates with these too (plugins/action/).
ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True),
    port=dict(type="int", default=53),
    zone=dict(type="str", required=True),
    key_name=dict(type="str", required=True),
    key_algorithm=dict(type="str", choices=list(TSIG_ALGORITHMS), default="hmac-sha256"),
    key_secret=dict(type="str", required=True, no_log=True),
    timeout=dict(type="float", default=5),
)
MODULE_KWARGS = dict(supports_check_mode=True)


def main():
    module_main(AnsibleModule, ARGUMENT_SPEC, MODULE_KWARGS, run_module, requirements=[DNSPYTHON_REQUIREMENT])


if __name__ == "__main__":
    main()
