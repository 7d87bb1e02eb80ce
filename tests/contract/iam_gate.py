# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""IAM enforcement in front of the sandbox, for the tests of docs/iam-policy.json.

The sandbox's emulator runs without IAM, because its own stand-ins (the edge,
the Route 53 DNS server) read it with fixed test credentials. So the tests put
an *IAM gate* between the role and the sandbox:

- a second moto server, with IAM enforcement switched on (moto's
  ``/moto-api/reset-auth``, the run-time form of ``INITIAL_NO_AUTH_ACTION_COUNT``),
  that holds one IAM user per policy under test;
- a small HTTP proxy. Every request of the role goes first to that moto server,
  which checks the signature and the user's policy. When moto refuses (HTTP 403
  with an authorization error), the refusal goes back to the role as it is.
  Otherwise the same request goes to the sandbox's emulator, whose answer the
  role gets; so the sandbox's state, edge and DNS stay the ones the role works with.
  One answer is made to look like AWS's (``like_aws``): Route 53 change batches
  come back PENDING, so the module's wait for INSYNC (GetChange) really runs.

moto evaluates policies by action only: every request is checked against the
resource ``*``, and a statement with a ``Condition`` never matches. The policy
is therefore translated for moto (``moto_policy``): resources become ``*``,
conditions are dropped, and operations that AWS authorizes with several IAM
actions are granted under moto's name for them only when all of those actions
are granted. The conditions are evaluated here instead (``Conditions``): for
a request moto allowed, the gate builds the request context AWS would (region,
request tags, the resource's tags looked up in the sandbox, ACM's key
algorithm and validation method, Route 53's change actions and record types)
and refuses the request, as AWS does with AccessDenied, unless an Allow
statement for its action has every condition met.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import fnmatch
import http.client
import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse
from urllib.request import Request, urlopen

# API operations that AWS authorizes with more than one IAM action, under the
# IAM action name moto checks for them (the operation name). From the API
# references: CreateDistributionWithTags "requires the following IAM
# permissions: CreateDistribution, TagResource".
COMPOSITE_OPERATIONS = {
    "cloudfront:CreateDistributionWithTags": ("cloudfront:CreateDistribution", "cloudfront:TagResource"),
}

# What moto answers when IAM refuses a request.
AUTH_ERRORS = (b"AccessDenied", b"InvalidClientTokenId", b"SignatureDoesNotMatch", b"not authorized to perform")

RRSET_PATH = re.compile(r"^/2013-04-01/hostedzone/[^/]+/rrset/?$")

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


# ---- condition evaluation ------------------------------------------------------------
# IAM's condition operators (IAM User Guide, "IAM JSON policy elements: Condition
# operators" and "Single-valued vs. multivalued context keys"): values of one key are
# ORed, keys and operators are ANDed; ForAllValues holds for a missing or empty key,
# ForAnyValue does not; Null "true" means the key is absent.

def _match(operator, context_value, wanted):
    if operator.startswith("StringEquals"):
        return context_value == wanted
    if operator.startswith("StringLike"):
        return fnmatch.fnmatchcase(context_value, wanted)
    raise ValueError("condition operator %s is not evaluated by the gate" % operator)


def condition_holds(operator, key, wanted, context):
    wanted = wanted if isinstance(wanted, list) else [wanted]
    present = key in context and context[key] not in (None, [])
    value = context.get(key)
    if operator == "Null":
        return all((str(w).lower() == "true") != present for w in wanted)
    if operator.startswith("ForAllValues:"):
        base = operator.split(":", 1)[1]
        return all(any(_match(base, v, w) for w in wanted) for v in (value or []))
    if operator.startswith("ForAnyValue:"):
        base = operator.split(":", 1)[1]
        return any(any(_match(base, v, w) for w in wanted) for v in (value or []))
    if operator.startswith("StringNot"):
        base = operator.replace("Not", "", 1)
        return not present or not any(_match(base, value, w) for w in wanted)
    if not present:
        return False
    values = value if isinstance(value, list) else [value]
    return all(any(_match(operator, v, w) for w in wanted) for v in values)


def conditions_hold(conditions, context):
    """Every operator and key of a statement's ``Condition`` block holds; returns (ok, the first that failed)."""
    for operator, keys in (conditions or {}).items():
        for key, wanted in keys.items():
            if not condition_holds(operator, key, wanted, context):
                return False, "%s %s %s (request: %s)" % (operator, key, json.dumps(wanted), json.dumps(context.get(key)))
    return True, None


def allowed_by(policy, action, context):
    """(allowed, reason): some Allow statement for ``action`` has all its conditions met."""
    reasons = []
    for st in policy["Statement"]:
        if st.get("Effect") != "Allow" or action not in statement_actions(st):
            continue
        ok, why = conditions_hold(st.get("Condition"), context)
        if ok:
            return True, None
        reasons.append("%s: %s" % (st.get("Sid"), why))
    return False, "; ".join(reasons) or "no statement allows %s" % action


def request_context(target, method, path, body, scope, resource_tags):
    """The IAM action of a request and the context keys the policy's conditions read.

    ``resource_tags(arn)`` returns the tags of an ACM certificate in the sandbox.
    Returns (action, context), or (None, {}) for a request none of the policy's
    conditions apply to.
    """
    region = scope.split("/")[0] if scope else ""
    context = {"aws:RequestedRegion": region}
    if target.startswith("CertificateManager."):
        action = "acm:" + target.split(".", 1)[1]
        req = json.loads(body or "{}")
        if action == "acm:RequestCertificate":
            context["acm:ValidationMethod"] = req.get("ValidationMethod")
            context["acm:KeyAlgorithm"] = req.get("KeyAlgorithm", "RSA_2048")
            context["acm:DomainNames"] = sorted(set([req.get("DomainName")] + list(req.get("SubjectAlternativeNames") or [])))
            tags = dict((t["Key"], t.get("Value", "")) for t in req.get("Tags") or [])
            context["aws:TagKeys"] = sorted(tags)
            context.update(("aws:RequestTag/%s" % k, v) for k, v in tags.items())
        elif req.get("CertificateArn"):
            context.update(("aws:ResourceTag/%s" % k, v) for k, v in resource_tags(req["CertificateArn"]).items())
        return action, context
    if method == "POST" and RRSET_PATH.match(path.split("?")[0]):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        context["route53:ChangeResourceRecordSetsActions"] = sorted(set(re.findall(r"<Action>([A-Z]+)</Action>", text)))
        context["route53:ChangeResourceRecordSetsRecordTypes"] = sorted(set(re.findall(r"<Type>([A-Z]+)</Type>", text)))
        context["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = sorted(set(
            n.lower().rstrip(".") for n in re.findall(r"<Name>([^<]+)</Name>", text)))
        return "route53:ChangeResourceRecordSets", context
    return None, {}


def access_denied(target, why):
    """AWS's refusal, in the protocol of the service: JSON for ACM, XML for the REST services."""
    message = "User is not authorized to perform this action; the conditions of the policy are not met: %s" % why
    if target:
        return 403, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(
            {"__type": "AccessDeniedException", "message": message}).encode()
    body = ("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>%s</Message></Error>"
            "</ErrorResponse>" % message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return 403, [("Content-Type", "text/xml")], body.encode()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def statement_actions(statement):
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def granted_actions(policy):
    granted = set()
    for st in policy["Statement"]:
        if st.get("Effect") == "Allow":
            granted.update(statement_actions(st))
    return granted


def moto_policy(policy):
    """The policy as moto can evaluate it (see the module docstring)."""
    out = {"Version": policy.get("Version", "2012-10-17"), "Statement": []}
    for st in policy["Statement"]:
        st = copy.deepcopy(st)
        st.pop("Condition", None)
        st["Resource"] = "*"
        out["Statement"].append(st)
    granted = granted_actions(policy)
    composite = sorted(op for op, needs in COMPOSITE_OPERATIONS.items() if set(needs) <= granted)
    if composite:
        out["Statement"].append({"Sid": "CompositeOperations", "Effect": "Allow", "Action": composite, "Resource": "*"})
    return out


def without_statement(policy, sid):
    reduced = copy.deepcopy(policy)
    reduced["Statement"] = [st for st in reduced["Statement"] if st.get("Sid") != sid]
    assert len(reduced["Statement"]) == len(policy["Statement"]) - 1, "no statement %s" % sid
    return reduced


class MotoIam:
    """moto in this process, with IAM users, then IAM enforcement on.

    In this process so that one thing can be changed: moto 5.2 computes the
    SigV4 signature of REST GET requests that carry a query string wrongly
    (Route 53's ListHostedZonesByName is refused with SignatureDoesNotMatch even
    when correctly signed), so the signature check is replaced by a check that
    the access key belongs to a user. Who the caller is still comes from the
    access key; what the caller may do is still moto's policy evaluation.
    """

    def __init__(self):
        from moto.iam.access_control import IAMRequestBase  # pylint: disable=import-outside-toplevel
        from moto.server import ThreadedMotoServer  # pylint: disable=import-outside-toplevel

        self._patched = IAMRequestBase
        self._original_check = IAMRequestBase.check_signature
        # the access key was already looked up when the request object was made
        IAMRequestBase.check_signature = lambda self: None
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.users = {}

    def _iam(self):
        import boto3  # pylint: disable=import-outside-toplevel
        return boto3.client("iam", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def add_user(self, name, policy):
        """A user holding only ``policy`` (translated for moto); returns (key id, secret)."""
        iam = self._iam()
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="linktrack-https", PolicyDocument=json.dumps(moto_policy(policy)))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.users[name] = (key["AccessKeyId"], key["SecretAccessKey"])
        return self.users[name]

    def _auth_count(self, value):
        # not form-encoded: moto reads the raw body
        req = Request(self.url + "/moto-api/reset-auth", data=value, method="POST",
                      headers={"Content-Type": "text/plain"})
        answer = json.loads(urlopen(req, timeout=5).read().decode())
        assert answer.get("status") == "ok", answer

    def enforce(self):
        """From now on, every request is authenticated and authorized."""
        self._auth_count(b"0")

    def stop(self):
        try:
            self._auth_count(b"inf")
        finally:
            self.server.stop()
            self._patched.check_signature = self._original_check


def _credential(authorization):
    """(access key, "region/service") of a SigV4 Authorization header."""
    if "Credential=" not in authorization:
        return "", ""
    # Credential=KEY/DATE/REGION/SERVICE/aws4_request
    credential = authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    return credential[0], "/".join(credential[2:4])


class IamGate:
    """The proxy: moto decides, the sandbox answers. Records what was decided."""

    def __init__(self, moto_iam_url, sandbox_url, policies=None, resource_tags=None):
        self.judge = urlparse(moto_iam_url)
        self.backend = urlparse(sandbox_url)
        # access key -> the policy whose conditions the gate evaluates; resource_tags(arn) -> tags
        self.policies = policies or {}
        self.resource_tags = resource_tags or (lambda arn: {})
        self.condition_refusals = 0
        self.decisions = []  # one dict per request: key, target, method, path, allowed, refusal
        self.pending_rewrites = 0
        self._lock = threading.Lock()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_HEADERS]
                status, rheaders, rbody = gate.forward(gate.judge, self.command, self.path, headers, body)
                allowed = not (status == 403 and any(e in rbody for e in AUTH_ERRORS))
                if allowed:
                    why = gate.check_conditions(self.headers.get("Authorization", ""), self.headers.get("X-Amz-Target", ""),
                                                self.command, self.path, body)
                    if why:
                        allowed = False
                        status, rheaders, rbody = access_denied(self.headers.get("X-Amz-Target", ""), why)
                gate.record(self.headers.get("Authorization", ""), self.headers.get("X-Amz-Target", ""),
                            self.command, self.path, allowed, rbody if not allowed else b"", body)
                if allowed:
                    status, rheaders, rbody = gate.forward(gate.backend, self.command, self.path, headers, body)
                    rbody = gate.like_aws(self.command, self.path, status, rbody)
                self.send_response(status)
                for k, v in rheaders:
                    if k.lower() not in HOP_HEADERS and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(rbody)))
                self.end_headers()
                self.wfile.write(rbody)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def check_conditions(self, authorization, target, method, path, body):
        """``None`` when the policy's conditions allow the request, else why not."""
        key, scope = _credential(authorization)
        policy = self.policies.get(key)
        if policy is None:
            return None
        action, context = request_context(target, method, path, body.decode("utf-8", "replace"), scope, self.resource_tags)
        if action is None:
            return None
        ok, why = allowed_by(policy, action, context)
        if ok:
            return None
        with self._lock:
            self.condition_refusals += 1
        return "%s refused: %s" % (action, why)

    def like_aws(self, method, path, status, body):
        """Route 53 answers every ChangeResourceRecordSets with PENDING; the emulator
        says INSYNC at once, so nothing would ever call GetChange. Answer as AWS does
        (the emulator's GetChange then says INSYNC)."""
        if method == "POST" and status == 200 and RRSET_PATH.match(path.split("?")[0]) \
                and b"<Status>INSYNC</Status>" in body:
            with self._lock:
                self.pending_rewrites += 1
            return body.replace(b"<Status>INSYNC</Status>", b"<Status>PENDING</Status>")
        return body

    @staticmethod
    def forward(target, method, path, headers, body):
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            # the Host header stays the one the client signed
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def record(self, authorization, target, method, path, allowed, refusal, body):
        key, scope = _credential(authorization)
        with self._lock:
            self.decisions.append({"key": key, "scope": scope, "target": target, "method": method,
                                   "path": path.split("?")[0], "allowed": allowed,
                                   "refusal": refusal.decode("utf-8", "replace")[:500],
                                   "body": body.decode("utf-8", "replace")[:20000]})

    def refusals(self, key):
        return [d for d in self.decisions if d["key"] == key and not d["allowed"]]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
