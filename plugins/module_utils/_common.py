# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared primitives of linktrack.https.

This module is private to the linktrack.https collection. It is not a public
API and may change in any release without notice.

It holds the pieces every module uses, so that each exists once:

* ``LinktrackError``: the one exception type raised by module_utils code; the
  module's ``main()`` turns it into a single ``fail_json``.
* ``module_main``: every module's ``main()``.
* ``normalize_domain``: validation and normalisation of host names.
* ``poll_until``: the deadline loop with growing sleeps used where no botocore
  waiter exists.
* ``AwsCaller``: the one jittered backoff for throttling and transient AWS
  errors.
* ``Differences``: desired-versus-current comparison as data, from which
  ``changed``, check mode and ``--diff`` follow.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import re
import time

from ansible.module_utils.basic import missing_required_lib

try:
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        ReadTimeoutError,
        ConnectTimeoutError,
    )

    _TRANSIENT_EXCEPTIONS = (
        ConnectionClosedError,
        EndpointConnectionError,
        ReadTimeoutError,
        ConnectTimeoutError,
    )
except ImportError:  # pragma: no cover - modules report the missing library
    ClientError = None
    _TRANSIENT_EXCEPTIONS = ()


class LinktrackError(Exception):
    """The one error type of the collection's module_utils.

    ``field`` names the option or resource the error is about, so that the
    message a person reads says what to fix. ``details`` is extra data that the
    module returns beside the message (never secrets).
    """

    def __init__(self, message, field=None, details=None):
        super(LinktrackError, self).__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}

    def __str__(self):
        return self.message

    def as_result(self):
        """``result_from_exception(self)``: the failed result of a module that changed nothing."""
        return result_from_exception(self)


def result_from_exception(exc, result=None, caller=None):
    """The one failed result of every module for an exception, whatever raised it.

    The catch policy of every ``run_module`` (and of the action plugins that
    run them in the worker): catch ``Exception``, return this, never a
    traceback. ``result`` holds the keys to return beside the failure
    (``retries``, ``wait_history``, what was written before the error...).
    ``LinktrackError``: its message, ``field`` and ``details``. An AWS error
    (botocore ``ClientError``): its code in the message and in ``error_code``.
    Anything else: its type and text. When ``caller`` (the module's
    ``AwsCaller``) gave up retrying the error, the message ends with how many
    tries in how long. The dict carries ``failed: true``, ``msg``, ``field``
    (``None`` when no option is to blame) and ``changed`` (false unless
    ``result`` says something was written), as ``fail_json`` would make them.
    """
    result = dict(result or {})
    field = None
    if isinstance(exc, LinktrackError):
        result.update(exc.details)
        field = exc.field
        msg = exc.message
    else:
        code = error_code(exc)
        if code:
            msg = "AWS answered %s: %s" % (code, exc)
            result["error_code"] = code
        else:
            msg = "%s: %s" % (type(exc).__name__, exc)
        note = caller.give_up_note(exc) if caller else ""
        if note:
            msg = msg.rstrip(". ") + note
    result.setdefault("changed", False)
    result.update(failed=True, msg=msg, field=field)
    return result


def module_main(module_class, argument_spec, module_kwargs, run, requirements=(), client_factory=None):
    """The ``main()`` of every module of the collection, in one place.

    ``module_class`` is ``AnsibleModule`` (or amazon.aws's ``AnsibleAWSModule``
    for the AWS modules, which then pass ``client_factory=aws_client``).
    ``requirements`` lists ``(library, available, import_error)`` for the
    libraries the module needs: a missing one fails with
    ``missing_required_lib``'s message before any work. ``run`` is the
    module_utils ``run_module`` the action plugin of the same name calls too;
    its result dict is the module's result (``fail_json`` when it says
    ``failed``).
    """
    module = module_class(argument_spec=argument_spec, **module_kwargs)
    for library, available, import_error in requirements:
        if not available:
            module.fail_json(msg=missing_required_lib(library),
                             exception=None if import_error is None else str(import_error))
    call = dict(warn=module.warn)
    if client_factory is not None:
        call["client_factory"] = lambda service: client_factory(module, service)
    result = run(module.params, module.check_mode, module._diff, **call)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


REQUIRED = object()


class Spec:
    """The validated, normalised input of one module run, built by a ``from_params`` of the subclass.

    ``FIELDS`` maps every field to its default (``REQUIRED``: it must be
    given). A list default means a fresh list of the given items. Unknown
    names are a ``TypeError``: a spec has exactly its fields.
    """

    FIELDS = {}

    def __init__(self, **values):
        unknown = sorted(set(values) - set(self.FIELDS))
        missing = sorted(n for n, d in self.FIELDS.items() if d is REQUIRED and n not in values)
        if unknown or missing:
            raise TypeError("%s: unknown fields %s, missing fields %s" % (type(self).__name__, unknown, missing))
        for name, default in self.FIELDS.items():
            value = values.get(name, default)
            setattr(self, name, list(value or []) if isinstance(default, list) else value)


# --------------------------------------------------------------------------
# Host names
# --------------------------------------------------------------------------

_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# DNS record names (not host names) may carry underscores, as in ACM's
# validation records (_3639ac51...links.example.com) or _dmarc.
_RECORD_LABEL_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def _to_ascii(name, field):
    try:
        name.encode("ascii")
        return name
    except UnicodeEncodeError:
        pass
    labels = []
    for label in name.split("."):
        try:
            label.encode("ascii")
            labels.append(label)
        except UnicodeEncodeError:
            try:
                labels.append(label.encode("idna").decode("ascii"))
            except UnicodeError as exc:
                raise LinktrackError(
                    "%s: %r is not a valid internationalised host name (%s)." % (field, name, exc),
                    field=field,
                )
    return ".".join(labels)


def normalize_domain(value, field="domain_name", allow_wildcard=False, allow_underscore=False):
    """Return ``value`` as a lower-case ASCII host name without trailing dot.

    International names become punycode. Raises ``LinktrackError`` naming
    ``field`` and saying what a valid value looks like. ``allow_underscore``
    accepts DNS record names such as ACM's ``_abc123.links.example.com``.
    """
    hint = "Give a fully qualified host name such as links.example.com."
    if value is None or not isinstance(value, str) or not value.strip():
        raise LinktrackError("%s is empty. %s" % (field, hint), field=field)
    raw = value
    name = value.strip()
    if "://" in name or "/" in name:
        raise LinktrackError(
            "%s: %r must be a bare host name, without a scheme or a path. %s" % (field, raw, hint),
            field=field,
        )
    if re.search(r"\s", name):
        raise LinktrackError("%s: %r contains white space. %s" % (field, raw, hint), field=field)
    if ":" in name:
        raise LinktrackError("%s: %r must not contain a port or a colon. %s" % (field, raw, hint), field=field)
    name = name.rstrip(".") if name.endswith(".") and not name.endswith("..") else name
    name = _to_ascii(name, field).lower()
    if len(name) > 253:
        raise LinktrackError(
            "%s: %r is %d characters long; a host name has at most 253." % (field, raw, len(name)),
            field=field,
        )
    labels = name.split(".")
    wildcard = labels[0] == "*"
    if wildcard:
        if not allow_wildcard:
            raise LinktrackError(
                "%s: %r is a wildcard. A tracking domain must be one exact host name "
                "(CloudFront needs the exact alias, and Iterable tracks one host). %s" % (field, raw, hint),
                field=field,
            )
        labels = labels[1:]
    if len(labels) < 2:
        raise LinktrackError(
            "%s: %r is a bare top-level domain or a single label. %s" % (field, raw, hint),
            field=field,
        )
    for label in labels:
        if not label:
            raise LinktrackError("%s: %r has an empty label (two dots in a row, or a leading dot). %s" % (field, raw, hint), field=field)
        if len(label) > 63:
            raise LinktrackError(
                "%s: the label %r of %r is %d characters long; a label has at most 63." % (field, label, raw, len(label)),
                field=field,
            )
        if "_" in label and not allow_underscore:
            raise LinktrackError(
                "%s: %r contains an underscore, which is not allowed in a host name. %s" % (field, raw, hint),
                field=field,
            )
        if not (_RECORD_LABEL_RE if allow_underscore else _LABEL_RE).match(label):
            raise LinktrackError(
                "%s: the label %r of %r may hold only letters, digits and inner hyphens. %s" % (field, label, raw, hint),
                field=field,
            )
    if labels[-1].isdigit():
        raise LinktrackError("%s: %r looks like an IP address, not a host name. %s" % (field, raw, hint), field=field)
    return ("*." if wildcard else "") + ".".join(labels)


# --------------------------------------------------------------------------
# Waiting
# --------------------------------------------------------------------------


class Clock:
    """Time source; tests replace it with a fake that does not sleep."""

    def now(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)


def format_duration(seconds):
    """``'45s'``, ``'3m10s'``, ``'40m'``: how a wait is shown to the person watching."""
    seconds = int(round(max(0.0, seconds)))
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return "%ds" % rest
    return "%dm" % minutes if not rest else "%dm%02ds" % (minutes, rest)


class Progress:
    """Where a module reports its waits: one live line per poll, and the history for the result.

    ``report`` is a callable that takes one line of text (the action plugin
    displays it at the default verbosity while the task runs), or ``None``
    (a module process can only return the history). ``subject`` starts every
    line, for example the tracking domain. ``history`` holds one entry per poll
    (``what``, ``state``, ``elapsed``, ``timeout``), at most ``limit`` of them:
    the first ones and the latest. With ``quiet_start``, a first poll that is
    already done (nothing was awaited) is kept in the history but not shown.
    """

    def __init__(self, report=None, subject="", limit=200, quiet_start=False):
        self.report = report
        self.subject = subject
        self.limit = limit
        self.quiet_start = quiet_start
        self.history = []
        self.dropped = 0

    def poll(self, what, state, elapsed, timeout, done=False):
        entry = {"what": what, "state": str(state), "elapsed": round(elapsed, 1), "timeout": timeout, "done": bool(done)}
        if len(self.history) >= self.limit:
            # keep the start of the wait and the latest polls
            del self.history[self.limit // 2]
            self.dropped += 1
        self.history.append(entry)
        if self.report is not None and not (self.quiet_start and done and len(self.history) == 1):
            line = "%s, %s of %s" % (" ".join(str(part) for part in (what, state) if part != ""),
                                     format_duration(elapsed), format_duration(timeout))
            self.report("%s: %s" % (self.subject, line) if self.subject else line)


def poll_until(check, timeout, what, clock=None, first_delay=1.0, max_delay=30.0, factor=1.6, progress=None, label=None):
    """Call ``check()`` until it returns ``(True, value)`` or ``timeout`` passes.

    ``check`` returns ``(done, value)``. Sleeps grow from ``first_delay`` by
    ``factor`` up to ``max_delay`` and never overshoot the deadline. Returns
    ``(value, waited_seconds)``. On timeout raises ``LinktrackError`` saying
    what was awaited and the last value seen. With a ``Progress``, every poll
    is reported as ``label`` (default ``what``) and the value seen.
    """
    clock = clock or Clock()
    start = clock.now()
    deadline = start + timeout
    delay = first_delay
    while True:
        done, value = check()
        now = clock.now()
        if progress is not None:
            progress.poll(label or what, value if not isinstance(value, (dict, list)) else ("done" if done else "waiting"),
                          now - start, timeout, done=done)
        if done:
            return value, round(now - start, 3)
        if now >= deadline:
            raise LinktrackError(
                "Timed out after %.0f seconds waiting for %s; last seen: %s." % (now - start, what, value),
                details={"waited_seconds": round(now - start, 3), "last_seen": value},
            )
        clock.sleep(max(0.0, min(delay, deadline - now)))
        delay = min(delay * factor, max_delay)


# --------------------------------------------------------------------------
# AWS calls
# --------------------------------------------------------------------------

RETRY_ERROR_CODES = frozenset(
    [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "PriorRequestNotComplete",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    ]
)


def error_code(exc):
    """The AWS error code of a botocore ``ClientError``, or ``None``."""
    response = getattr(exc, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


def _http_status(exc):
    response = getattr(exc, "response", None) or {}
    return (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")


class AwsCaller:
    """One jittered exponential backoff for every AWS call of a module.

    Retries throttling, ``PriorRequestNotComplete``, HTTP 5xx and dropped
    connections, up to ``max_attempts`` tries or ``max_elapsed`` seconds.
    Counts the retries it made in ``self.retries`` so modules can report them.
    ``extra_codes`` adds error codes a caller wants retried too. When it stops
    retrying a retryable error, ``self.gave_up`` holds that error, the attempts
    and the seconds spent, and ``give_up_note(exc)`` says so in one sentence.
    """

    def __init__(self, max_attempts=10, base_delay=0.5, max_delay=20.0, max_elapsed=300.0,
                 clock=None, extra_codes=(), rng=None):
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_elapsed = max_elapsed
        self.clock = clock or Clock()
        self.codes = RETRY_ERROR_CODES | frozenset(extra_codes)
        self.rng = rng or random.Random()
        self.retries = 0
        self.calls = 0
        self.gave_up = None

    def _retryable(self, exc):
        if _TRANSIENT_EXCEPTIONS and isinstance(exc, _TRANSIENT_EXCEPTIONS):
            return True
        if ClientError is not None and isinstance(exc, ClientError):
            if error_code(exc) in self.codes:
                return True
            status = _http_status(exc)
            return status is not None and status >= 500
        return False

    def __call__(self, method, **kwargs):
        start = self.clock.now()
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            try:
                return method(**kwargs)
            except Exception as exc:  # noqa: BLE001 - filtered just below
                if not self._retryable(exc):
                    raise
                elapsed = self.clock.now() - start
                if attempt >= self.max_attempts or elapsed >= self.max_elapsed:
                    self.gave_up = {"error": exc, "attempts": attempt, "seconds": elapsed}
                    raise
                # "full jitter": a random sleep up to the exponential cap
                cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
                self.retries += 1
                self.clock.sleep(self.rng.uniform(cap / 2.0, cap))

    def give_up_note(self, exc):
        """``'; the collection tried it N times in S s ...'`` when ``exc`` ended the retries; else ``''``.

        botocore's own retries are off, so its message always says
        "reached max retries: 0"; this sentence gives the real count.
        """
        if not self.gave_up or self.gave_up["error"] is not exc:
            return ""
        return "; the collection tried it %d times in %.0f s, with backoff, and gave up" % (
            self.gave_up["attempts"], self.gave_up["seconds"])


# --------------------------------------------------------------------------
# Desired versus current
# --------------------------------------------------------------------------


class Differences:
    """An ordered list of ``(field, before, after)`` differences.

    ``changed``, check mode and ``--diff`` all follow from this list:
    ``bool(differences)`` is ``changed``; ``as_list()`` goes into the result;
    ``as_diff()`` is Ansible's ``{'before': ..., 'after': ...}`` with exactly the
    fields that differ.
    """

    def __init__(self):
        self._items = []

    def add(self, field, before, after):
        self._items.append((field, before, after))

    def compare(self, field, before, after):
        if before != after:
            self.add(field, before, after)

    def __bool__(self):
        return bool(self._items)

    __nonzero__ = __bool__

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def fields(self):
        return [field for field, _before, _after in self._items]

    def as_list(self):
        return [{"field": f, "before": b, "after": a} for f, b, a in self._items]

    def as_diff(self, before_header=None, after_header=None):
        diff = {
            "before": dict((f, b) for f, b, _a in self._items),
            "after": dict((f, a) for f, _b, a in self._items),
        }
        if before_header:
            diff["before_header"] = before_header
        if after_header:
            diff["after_header"] = after_header
        return diff
