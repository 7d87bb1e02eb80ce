# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sandbox controller behind ``sandbox.py up|down|status|reset|env``.

Processes are recorded in <state dir>/state.json with their pid and start time
and are stopped by that pid only. ``up`` is idempotent and never leaves a
half-started sandbox behind.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import fcntl
import importlib.util
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from . import bind
from .settings import ENV_NAMES, PORTS, SANDBOX_DIR, UDP_PORTS, SettingsError, env_values, from_environment, paths

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_DOWN = 3
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
ENV_HEADER = "# linktrack.https sandbox settings"
PYTHON_MODULES = (("moto", "moto[server]"), ("flask", "moto[server]"), ("boto3", "boto3"), ("dns", "dnspython"), ("cryptography", "cryptography"))


class SandboxError(Exception):
    """Something the person has to fix; the message says what."""


def say(message):
    print("sandbox: " + message, flush=True)


# --- processes ------------------------------------------------------------------

def _proc_stat(pid):
    try:
        with open("/proc/%d/stat" % pid, "r", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[0], fields[19]  # state, start time (clock ticks after boot)
    except (OSError, IndexError):
        return None


def process_start_time(pid):
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def process_alive(pid, start_time=None):
    """True if ``pid`` runs (not a zombie) and, when given, started at ``start_time``."""
    if not pid or pid <= 0:
        return False
    stat = _proc_stat(pid)
    if stat is None:
        if os.path.exists("/proc/self/stat"):
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state, started = stat
    if state in ("Z", "X", "x"):
        return False
    return start_time is None or started == start_time


def stop_processes(procs, timeout=STOP_TIMEOUT):
    """SIGTERM the recorded processes ([(pid, start time)]), SIGKILL those still there after ``timeout``.

    Returns the pids that would not go away (empty when all are gone).
    """
    alive = [(pid, start) for pid, start in procs if process_alive(pid, start)]
    for pid, _start in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for sig, wait in ((None, timeout), (signal.SIGKILL, 5.0)):
        if sig is not None:
            for pid, _start in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            for pid, _start in alive:
                _reap(pid)
            alive = [(pid, start) for pid, start in alive if process_alive(pid, start)]
            if alive:
                time.sleep(0.02)
        if not alive:
            break
    return [pid for pid, _start in alive]


def stop_process(pid, start_time, timeout=STOP_TIMEOUT):
    """Stop one recorded process; True if it is gone."""
    return not stop_processes([(pid, start_time)], timeout)


def _reap(pid):
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


# --- probes ------------------------------------------------------------------------

def tcp_answers(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def dns_answers(host, port, zone, timeout=0.5):
    """True if an authoritative SOA answer for ``zone`` comes back over UDP."""
    import dns.flags  # pylint: disable=import-outside-toplevel
    import dns.message  # pylint: disable=import-outside-toplevel
    import dns.query  # pylint: disable=import-outside-toplevel
    try:
        response = dns.query.udp(dns.message.make_query(zone, "SOA"), host, port=port, timeout=timeout)
    except Exception:  # pylint: disable=broad-except
        return False
    return response.rcode() == 0 and bool(response.flags & dns.flags.AA) and bool(response.answer)


def http_ok(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # nosec - loopback only
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def port_problem(host, port, udp=False):
    """None if ``port`` is free on ``host``, else why not."""
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if not udp:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


# --- state ---------------------------------------------------------------------------

def read_json(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_file(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_json(path, data, mode=0o644):
    write_file(path, json.dumps(data, indent=1, sort_keys=True) + "\n", mode)


@contextlib.contextmanager
def locked(state_dir):
    os.makedirs(state_dir, exist_ok=True)
    with open(paths(state_dir)["lock"], "a", encoding="ascii") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tcp_ports(config):
    return sorted(config["ports"].items(), key=lambda item: item[1])


def health(state):
    """{component: problem or None} for a recorded sandbox."""
    config = state["config"]
    host = config["host"]
    problems = {}
    for name, proc in sorted(state.get("procs", {}).items()):
        problems["process " + name] = None if process_alive(proc["pid"], proc.get("start")) else "pid %d is not running" % proc["pid"]
    for key, port in tcp_ports(config):
        problems["port %d (%s)" % (port, key)] = None if tcp_answers(host, port) else "nothing answers"
    return problems


def env_shell(values):
    lines = [ENV_HEADER + " (written by sandbox/sandbox.py up; removed by down).",
             "# Load into a shell with: . FILE"]
    lines += ["export %s=%s" % (name, shlex.quote(values[name])) for name in ENV_NAMES]
    return "\n".join(lines) + "\n"


def env_yaml(values):
    lines = ["# linktrack.https sandbox settings (sandbox/sandbox.py env --format yaml)"]
    for name in ENV_NAMES:
        value = int(values[name]) if name.endswith("_PORT") else values[name]
        lines.append("%s: %s" % (name.lower(), json.dumps(value)))
    return "\n".join(lines) + "\n"


# --- commands ------------------------------------------------------------------------

class Controller:
    """The sandbox commands for one settings/state directory."""

    def __init__(self, config):
        self.config = config
        self.files = paths(config["state_dir"])

    def _state(self):
        state = read_json(self.files["state"])
        return state if isinstance(state, dict) and "config" in state else None

    # up ------------------------------------------------------------------------------
    def up(self):
        started = time.monotonic()
        with locked(self.config["state_dir"]):
            state = self._state()
            if state:
                problems = health(state)
                if not any(problems.values()):
                    self._write_env(state["env"])
                    say("already up (pids %s; AWS %s; env file %s)" % (
                        ", ".join(str(p["pid"]) for p in state["procs"].values()), state["env"]["AWS_ENDPOINT_URL"], self.config["env_file"]))
                    if state["config"]["ports"] != self.config["ports"]:
                        say("note: it runs on the ports it was started with; run 'sandbox.py down' first to change them")
                    return EXIT_OK
                if all(problems.values()):
                    say("the sandbox recorded in %s is no longer running; starting a new one" % self.files["state"])
                else:
                    bad = ", ".join("%s: %s" % (k, v) for k, v in problems.items() if v)
                    say("a sandbox recorded in %s is only partly running (%s); stopping what is left and starting again" % (
                        self.files["state"], bad))
                self._stop(state, quiet=True)
            self._preflight()
            try:
                env = self._start()
            except KeyboardInterrupt:
                self._abort()
                say("start-up interrupted; nothing is left running")
                return 130
            except SandboxError:
                self._abort()
                raise
        c = self.config
        say("up in %.1f s" % (time.monotonic() - started))
        say("  AWS emulator (moto)  %s  (stats %s)" % (env["AWS_ENDPOINT_URL"], env["SANDBOX_AWS_STATS_URL"]))
        say("  BIND 9 named         %s port %s, zone %s, TSIG key %s" % (c["host"], c["ports"]["bind"], c["zone"], env["SANDBOX_TSIG_KEY_NAME"]))
        say("  Route 53 DNS         %s port %s (zone id %s)" % (c["host"], c["ports"]["r53dns"], c["zone_id"]))
        say("  CloudFront edge      https %s:%s  http %s:%s" % (c["host"], c["ports"]["edge_https"], c["host"], c["ports"]["edge_http"]))
        say("  origin usdc / edc    %s  %s" % (env["SANDBOX_ORIGIN_USDC_URL"], env["SANDBOX_ORIGIN_EDC_URL"]))
        say("  CA bundle            %s" % env["SANDBOX_CA_BUNDLE"])
        say("  settings:            . %s" % shlex.quote(c["env_file"]))
        return EXIT_OK

    def _preflight(self):
        missing = [package for module, package in PYTHON_MODULES if importlib.util.find_spec(module) is None]
        if missing:
            raise SandboxError("the Python packages %s are missing from %s; run: bash tests/bin/bootstrap.sh" % (
                ", ".join(sorted(set(missing))), sys.executable))
        try:
            bind.find_program("named", "bind9")
            bind.find_program("tsig-keygen", "bind9-utils")
        except bind.BindError as exc:
            raise SandboxError(str(exc)) from None
        host = self.config["host"]
        busy = []
        for key, var, _offset, what in PORTS:
            port = self.config["ports"][key]
            problem = port_problem(host, port)
            if problem is None and key in UDP_PORTS:
                problem = port_problem(host, port, udp=True)
                problem = problem and "UDP: " + problem
            if problem:
                busy.append("  port %d (%s, %s): %s" % (port, what, var, problem))
        if busy:
            raise SandboxError(
                "cannot start: ports on %s are taken by another program:\n%s\n"
                "Stop that program (see: ss -ltnup | grep PORT) or choose other ports, e.g. "
                "SANDBOX_PORT_BASE=%d make sandbox-up, or set the variable named above. Nothing was started."
                % (host, "\n".join(busy), self.config["port_base"] + 1000))

    def _child_env(self):
        """The children's environment: no AWS profile, keys or endpoints of the caller leak in."""
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_", "MOTO_")))
        env.update({
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": self.config["region"],
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
            "MOTO_ACM_VALIDATION_WAIT": "1", "PYTHONDONTWRITEBYTECODE": "1",
        })
        return env

    def _spawn(self, name, argv, log_path):
        log = open(log_path, "wb")  # pylint: disable=consider-using-with
        try:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.config["state_dir"], env=self._child_env(), start_new_session=True, close_fds=True)
        finally:
            log.close()
        self._procs[name] = proc
        self._record[name] = {"pid": proc.pid, "start": process_start_time(proc.pid), "argv": argv, "log": log_path}
        write_json(self.files["state"], {"status": "starting", "config": self.config, "procs": self._record})
        return proc

    def _start(self):
        c = self.config
        f = self.files
        self._procs = {}
        self._record = {}
        for stale in (f["ready"], f["overrides"], f["delegations"]):
            if os.path.exists(stale):
                os.unlink(stale)
        write_json(f["config"], c)
        try:
            secret = bind.ensure_tsig_key(f["tsig_key"])
            bind.prepare(f["bind_dir"], f["tsig_key"], f["named_conf"], c["zone"], c["ports"]["bind"])
            named_argv = bind.named_command(f["named_conf"])
        except bind.BindError as exc:
            raise SandboxError(str(exc)) from None
        self._spawn("named", named_argv, f["named_log"])
        self._spawn("sandboxd", [sys.executable, os.path.join(SANDBOX_DIR, "sandbox.py"), "_daemon", f["config"]], f["daemon_log"])
        self._wait_ready()
        env = env_values(c, secret)
        write_json(f["state"], {"status": "up", "config": c, "procs": self._record, "env": env, "started": time.time()}, 0o600)
        self._write_env(env)
        return env

    def _wait_ready(self):
        c = self.config
        host = c["host"]
        deadline = time.monotonic() + START_TIMEOUT
        checks = {
            "BIND answers for %s" % c["zone"]: lambda: dns_answers(host, c["ports"]["bind"], c["zone"]),
            "sandboxd is ready": lambda: os.path.exists(self.files["ready"]),
            "the AWS emulator answers": lambda: http_ok("http://%s:%d/_sandbox/stats" % (host, c["ports"]["aws"])),
            "the Route 53 DNS stand-in answers for %s" % c["zone"]: lambda: dns_answers(host, c["ports"]["r53dns"], c["zone"]),
        }
        for key, port in tcp_ports(c):
            checks["port %d (%s) answers" % (port, key)] = (lambda p=port: tcp_answers(host, p))
        pending = list(checks)
        while pending:
            for name, proc in self._procs.items():
                code = proc.poll()
                if code is not None:
                    log = self._record[name]["log"]
                    raise SandboxError("%s exited during start-up (exit code %s). Last lines of %s:\n%s\n%s" % (
                        name, code, log, _tail(log), _advice(name, _tail(log))))
            pending = [name for name in pending if not checks[name]()]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise SandboxError("start-up timed out after %d s waiting for: %s. See %s and %s" % (
                    START_TIMEOUT, "; ".join(pending), self.files["daemon_log"], self.files["named_log"]))
            time.sleep(0.05)

    def _abort(self):
        """Stop whatever this start-up launched."""
        record = getattr(self, "_record", {})
        self._stop({"config": self.config, "procs": record}, quiet=True)

    def _write_env(self, env):
        write_file(self.config["env_file"], env_shell(env), 0o600)

    # down ------------------------------------------------------------------------------
    def down(self):
        with locked(self.config["state_dir"]):
            state = self._state()
            if not state:
                self._remove_env_file()
                say("not running (nothing recorded in %s); nothing to stop" % self.files["state"])
                return EXIT_OK
            return self._stop(state)

    def _stop(self, state, quiet=False):
        procs = state.get("procs", {})
        left = stop_processes([(proc["pid"], proc.get("start")) for proc in procs.values()])
        stuck = ["%s (pid %d)" % (name, proc["pid"]) for name, proc in sorted(procs.items()) if proc["pid"] in left]
        config = state["config"]
        deadline = time.monotonic() + 5
        busy = [port for _key, port in tcp_ports(config)]
        while busy and time.monotonic() < deadline:
            busy = [port for port in busy if tcp_answers(config["host"], port, timeout=0.2)]
            if busy:
                time.sleep(0.05)
        for path in (self.files["state"], self.files["ready"]):
            if os.path.exists(path):
                os.unlink(path)
        self._remove_env_file()
        if stuck or busy:
            say("stopped with problems: %s%s" % (
                ("processes did not exit: %s. " % ", ".join(stuck)) if stuck else "",
                ("ports still answer (another program?): %s" % ", ".join(map(str, busy))) if busy else ""))
            return EXIT_FAIL
        if not quiet:
            say("stopped (%s); no sandbox process or port is left" % ", ".join(
                "%s pid %d" % (name, proc["pid"]) for name, proc in sorted(procs.items())))
        return EXIT_OK

    def _remove_env_file(self):
        path = self.config["env_file"]
        try:
            with open(path, "r", encoding="utf-8") as handle:
                ours = handle.readline().startswith(ENV_HEADER)
        except OSError:
            return
        if ours:
            os.unlink(path)

    # status ----------------------------------------------------------------------------
    def status(self):
        state = self._state()
        if not state:
            say("down (nothing recorded in %s)" % self.files["state"])
            return EXIT_DOWN
        problems = health(state)
        for component, problem in problems.items():
            say("  %-32s %s" % (component, problem or "ok"))
        if any(problems.values()):
            say("degraded: run 'make sandbox-down' then 'make sandbox-up'")
            return EXIT_FAIL
        say("up (env file %s)" % self.config["env_file"])
        return EXIT_OK

    # reset -----------------------------------------------------------------------------
    def reset(self):
        with locked(self.config["state_dir"]):
            state = self._state()
            if not state or any(health(state).values()):
                raise SandboxError("the sandbox is not (fully) up; run 'make sandbox-up' first")
            c = state["config"]
            request = urllib.request.Request("http://%s:%d/_sandbox/reset" % (c["host"], c["ports"]["aws"]), data=b"", method="POST")
            with urllib.request.urlopen(request, timeout=10) as resp:  # nosec - loopback only
                resp.read()
            named = state["procs"]["named"]
            if not stop_process(named["pid"], named.get("start")):
                raise SandboxError("named (pid %d) did not stop" % named["pid"])
            for stale in (self.files["overrides"], self.files["delegations"]):
                if os.path.exists(stale):
                    os.unlink(stale)
            self.config = c
            self._procs = {}
            self._record = dict(state["procs"])
            bind.prepare(self.files["bind_dir"], self.files["tsig_key"], self.files["named_conf"], c["zone"], c["ports"]["bind"])
            self._spawn("named", named["argv"], self.files["named_log"])
            try:
                self._wait_ready()
            except SandboxError:
                self._abort()
                raise
            state["procs"] = self._record
            write_json(self.files["state"], state, 0o600)
        say("reset: AWS emulator emptied (zone %s recreated, counters zeroed), BIND zone fresh, origin overrides removed" % c["zone"])
        return EXIT_OK

    # env -------------------------------------------------------------------------------
    def env(self, fmt):
        state = self._state()
        if not state or "env" not in state:
            raise SandboxError("the sandbox is not up; run 'make sandbox-up' first")
        sys.stdout.write(env_yaml(state["env"]) if fmt == "yaml" else env_shell(state["env"]))
        return EXIT_OK


def _tail(path, lines=15):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:]).rstrip()
    except OSError:
        return "(no log)"


def _advice(name, log_tail):
    if "address in use" in log_tail.lower() or "cannot listen" in log_tail.lower():
        return "A port was taken after the check: stop the program holding it or choose another SANDBOX_PORT_BASE."
    if name == "named":
        return "Check the BIND installation (bash tests/bin/bootstrap.sh) and %s." % "the named.conf in the state directory"
    return "Check the Python environment (bash tests/bin/bootstrap.sh). Nothing was left running."


USAGE = """usage: sandbox.py up | down | status | reset | env [--format shell|yaml]

  up      start the sandbox (idempotent); writes the env file
  down    stop it by recorded pid; no process or port is left
  status  what runs (exit 0 up, 1 degraded, 3 down)
  reset   empty the AWS emulator and the BIND zone, drop origin overrides
  env     print the settings (shell export lines, or YAML for integration_config.yml)

Settings: SANDBOX_PORT_BASE (15000), SANDBOX_STATE_DIR, SANDBOX_ENV_FILE, SANDBOX_ZONE,
and per port SANDBOX_AWS_PORT, SANDBOX_EDGE_HTTP_PORT, SANDBOX_ORIGIN_USDC_PORT,
SANDBOX_ORIGIN_EDC_PORT, SANDBOX_DNS_PORT, SANDBOX_R53_DNS_PORT, SANDBOX_EDGE_HTTPS_PORT.
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 2 and argv[0] == "_daemon":
        import logging  # pylint: disable=import-outside-toplevel
        from .daemon import run  # pylint: disable=import-outside-toplevel
        code = run(argv[1])
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # skip the slow tear-down of moto's module state; all listeners are closed already
    if not argv or argv[0] not in ("up", "down", "status", "reset", "env") or argv[0] in ("-h", "--help"):
        sys.stderr.write(USAGE)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    fmt = "shell"
    if argv[0] == "env":
        rest = argv[1:]
        if rest[:1] == ["--format"] and len(rest) == 2 and rest[1] in ("shell", "yaml"):
            fmt = rest[1]
        elif rest:
            sys.stderr.write(USAGE)
            return 2
    elif len(argv) > 1:
        sys.stderr.write(USAGE)
        return 2
    try:
        controller = Controller(from_environment())
        if argv[0] == "env":
            return controller.env(fmt)
        return getattr(controller, argv[0])()
    except (SettingsError, SandboxError) as exc:
        sys.stderr.write("sandbox: ERROR: %s\n" % exc)
        return EXIT_FAIL
    except BrokenPipeError:
        # The reader of our output went away (e.g. "| head"); the work itself is done.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
