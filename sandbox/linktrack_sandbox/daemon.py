# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sandboxd: one process hosting the AWS emulator, the edge, the origins and the Route 53 DNS stand-in.

Started detached by ``sandbox.py up`` (as ``sandbox.py _daemon CONFIG``), it
writes <state dir>/sandboxd.ready once every listener is bound and the hosted
zone exists, and stops cleanly on SIGTERM or SIGINT.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import logging
import os
import signal
import sys
import threading
import time

from .settings import paths

_LOG = logging.getLogger("sandbox.daemon")


def _serve(server, name):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name=name, daemon=True)
    thread.start()
    return thread


def run(config_path):  # pylint: disable=too-many-locals
    """Run until SIGTERM. Returns the exit code."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    started = time.monotonic()
    with open(config_path, "r", encoding="utf-8") as handle:
        config = json.load(handle)
    files = paths(config["state_dir"])
    os.environ["MOTO_ACM_VALIDATION_WAIT"] = "1"

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    signal.signal(signal.SIGINT, lambda *_args: stop.set())

    # pylint: disable=import-outside-toplevel
    from werkzeug.serving import make_server
    from moto.server import MotoRequestHandler
    from . import aws, edge, origin, parentdns, r53dns, realism
    from .ca import SandboxCA, patch_moto_acm
    from .catalog import Catalog

    sandbox_ca = SandboxCA.load_or_create(files["ca_cert"], files["ca_key"])
    patch_moto_acm(sandbox_ca)
    realism.install(config, {"config": config, "ca": sandbox_ca, "files": files})
    generation = aws.Generation()
    servers = []
    try:
        app = aws.build(config, generation)
        aws_server = make_server(config["host"], config["ports"]["aws"], app, threaded=True, request_handler=MotoRequestHandler)
        servers.append(("aws", aws_server))
        catalog = Catalog(config, generation)
        the_edge = edge.Edge(config, catalog, sandbox_ca, os.path.join(config["state_dir"], "tmp"))
        servers.extend((("edge-https", the_edge.servers[0]), ("edge-http", the_edge.servers[1])))
        usdc, edc = origin.build(config, catalog, files["overrides"])
        servers.extend((("origin-usdc", usdc), ("origin-edc", edc)))
        udp, tcp = r53dns.build(config, catalog)
        servers.extend((("r53dns-udp", udp), ("r53dns-tcp", tcp)))
        servers.extend(parentdns.build(config, files["delegations"]))
    except OSError as exc:
        _LOG.error("cannot listen: %s (another program holds one of the sandbox ports?)", exc)
        for _name, server in servers:
            server.server_close()
        return 2
    threads = [_serve(server, name) for name, server in servers]
    catalog.zones()
    with open(files["ready"] + ".tmp", "w", encoding="ascii") as handle:
        handle.write("%d\n" % os.getpid())
    os.replace(files["ready"] + ".tmp", files["ready"])
    _LOG.info("ready in %.2f s: %s", time.monotonic() - started,
              ", ".join("%s=%s" % (name, server.server_address[1]) for name, server in servers))
    # Warm up CloudFront in the emulator, so the first edge request is quick.
    threading.Thread(target=catalog.distributions, name="warm-up", daemon=True).start()
    while not stop.is_set():
        stop.wait(0.1)
    _LOG.info("stopping")
    stoppers = [threading.Thread(target=server.shutdown, daemon=True) for _name, server in servers]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join(timeout=5)
    for _name, server in servers:
        server.server_close()
    for thread in threads:
        thread.join(timeout=5)
    _LOG.info("stopped")
    return 0
