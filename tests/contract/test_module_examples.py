# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The EXAMPLES of every module cannot rot.

1. Every example task of every module is validated against the module's real
   argument spec (captured from the module's own ``main()``, with its
   required_if / required_one_of / mutually_exclusive rules): unknown options,
   wrong types, values outside the choices, missing required options fail.
   Templated values (``"{{ cert.arn }}"``) stand in as a valid value of their type.
2. The examples of the AWS modules, and the sandbox example of
   iterable_tracking_domain, run as they are written, in check mode, against
   the sandbox, after the role has set up the example's domain there. Only the
   names the sandbox cannot have are replaced (the domain, the emulator's URL,
   the hosted zone id, the certificate ARN, the sandbox's ports and CA).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import json
import os

import pytest
import yaml

from ecohelpers import ROOT, VENV_BIN, base_env, module_names, run

MODULES = module_names()
AWS_MODULES = ["acm_dns_certificate", "cloudfront_link_distribution", "route53_records"]


def examples_text(module):
    with open(os.path.join(ROOT, "plugins", "modules", module + ".py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "EXAMPLES":
            return node.value.value
    raise AssertionError("%s has no EXAMPLES" % module)


def _tasks(tasks):
    for task in tasks:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key) or [])


class _Captured(Exception):
    pass


@pytest.fixture(scope="module")
def argument_specs():
    """{module: AnsibleModule keyword arguments}, from each module's main()."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    from ansible.module_utils import basic

    _AnsibleCollectionFinder(paths=[os.path.join(ROOT, ".tmp", "collections")])._install()
    original = basic.AnsibleModule.__init__

    def capture(self, *args, **kwargs):
        raise _Captured(kwargs)

    basic.AnsibleModule.__init__ = capture
    specs = {}
    try:
        for module in MODULES:
            mod = importlib.import_module("ansible_collections.linktrack.https.plugins.modules." + module)
            try:
                mod.main()
            except _Captured as captured:
                specs[module] = captured.args[0]
    finally:
        basic.AnsibleModule.__init__ = original
    assert sorted(specs) == MODULES
    return specs


_SENTINELS = {"str": "templated", "path": "/tmp/templated", "raw": "templated", "int": 1, "float": 1.0,
              "bool": True, "list": [], "dict": {}, "jsonarg": "{}", "json": "{}", "bytes": "1", "bits": "1"}


def _fill(value, spec):
    """Replace templated values by a valid value of the option's type."""
    if isinstance(value, str) and "{{" in value:
        if spec.get("choices"):
            return spec["choices"][0]
        if spec.get("type") == "list" and spec.get("elements") == "dict" and spec.get("options"):
            return []
        return _SENTINELS.get(spec.get("type", "str"), "templated")
    if isinstance(value, dict) and spec.get("options"):
        return dict((k, _fill(v, spec["options"].get(k, {}))) for k, v in value.items())
    if isinstance(value, list) and spec.get("options"):
        return [_fill(v, spec["options"] and {"options": spec["options"], "type": "dict"}) for v in value]
    if isinstance(value, list) and spec.get("elements"):
        return [_fill(v, {"type": spec["elements"]}) for v in value]
    return value


@pytest.mark.parametrize("module", MODULES)
def test_examples_follow_the_argument_spec(argument_specs, module):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    kwargs = argument_specs[module]
    validator = ArgumentSpecValidator(
        kwargs["argument_spec"],
        mutually_exclusive=kwargs.get("mutually_exclusive"),
        required_together=kwargs.get("required_together"),
        required_one_of=kwargs.get("required_one_of"),
        required_if=kwargs.get("required_if"),
        required_by=kwargs.get("required_by"),
    )
    fqcn = "linktrack.https." + module
    tasks = [t for t in _tasks(yaml.safe_load(examples_text(module))) if fqcn in t]
    assert tasks, "the EXAMPLES of %s never use %s" % (module, fqcn)
    for task in tasks:
        params = dict((k, _fill(v, kwargs["argument_spec"].get(k, {}))) for k, v in (task[fqcn] or {}).items())
        result = validator.validate(params)
        assert not result.error_messages, "%s: example %r: %s" % (module, task.get("name"), result.error_messages)


# ---- the examples, run in check mode against the sandbox --------------------------------------

def _env(**extra):
    return base_env(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"), **extra)


@pytest.fixture(scope="module")
def example_domain(sandbox_env, tmp_path_factory):
    """links.example.com of the examples, as the role sets it up in the sandbox."""
    import boto3

    work = tmp_path_factory.mktemp("examples")
    domain = "ex-%x.example.com" % (os.getpid() & 0xfffff)
    (work / "hosts.yml").write_text(yaml.safe_dump({"tracking_domains": {"hosts": {domain: {
        "link_domain_dns_provider": "route53", "link_domain_dns_record_type": "cname",
        "link_domain_teardown_confirm": domain}}}}))
    env = _env(SANDBOX_ENV_FILE=os.environ["SANDBOX_ENV_FILE"])
    common = ["-i", str(work / "hosts.yml"), "-e", "@" + os.path.join(ROOT, "playbooks", "vars", "sandbox.yml")]
    run([os.path.join(VENV_BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", "setup_link_domain.yml")]
        + common, env=env, timeout=600)
    session = boto3.session.Session(aws_access_key_id=sandbox_env["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=sandbox_env["AWS_SECRET_ACCESS_KEY"],
                                    region_name="us-east-1")
    acm = session.client("acm", endpoint_url=sandbox_env["SANDBOX_AWS_ENDPOINT"])
    arn = [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]
           if c["DomainName"] == domain][0]
    cf = session.client("cloudfront", endpoint_url=sandbox_env["SANDBOX_AWS_ENDPOINT"])
    dist = [d for d in cf.list_distributions()["DistributionList"].get("Items", [])
            if domain in (d["Aliases"].get("Items") or [])][0]
    try:
        yield {"domain": domain, "arn": arn, "distribution": dist["DomainName"], "work": work}
    finally:
        run([os.path.join(VENV_BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", "teardown_link_domain.yml")]
            + common, env=env, timeout=600, check=False)


def _sandboxed(text, sandbox_env, ex):
    replace = [
        ("http://127.0.0.1:5000", sandbox_env["SANDBOX_AWS_ENDPOINT"]),
        ("Z0123456789ABCDEFGHIJ", sandbox_env["SANDBOX_R53_ZONE_ID"]),
        ("arn:aws:acm:us-east-1:123456789012:certificate/0f2c5a4e-1111-2222-3333-444455556666", ex["arn"]),
        ("d111111abcdef8.cloudfront.net", ex["distribution"]),
        ("links.eu-brand.example", "eu-" + ex["domain"]),
        ("links.example.com", ex["domain"]),
        ("15443", sandbox_env["SANDBOX_EDGE_HTTPS_PORT"]),
        ("15080", sandbox_env["SANDBOX_EDGE_HTTP_PORT"]),
        ("127.0.0.1:15354", "%s:%s" % (sandbox_env["SANDBOX_R53_DNS_SERVER"], sandbox_env["SANDBOX_R53_DNS_PORT"])),
        ("/tmp/sandbox/ca/sandbox-ca.pem", sandbox_env["SANDBOX_CA_BUNDLE"]),
    ]
    for old, new in replace:
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("module", AWS_MODULES + ["iterable_tracking_domain"])
def test_examples_run_in_check_mode_against_the_sandbox(module, sandbox_env, example_domain):
    tasks = yaml.safe_load(_sandboxed(examples_text(module), sandbox_env, example_domain))
    if module == "iterable_tracking_domain":
        # the other examples ask the real Internet
        tasks = [t for t in tasks if "sandbox" in t.get("name", "")]
        assert tasks, "iterable_tracking_domain lost its sandbox example"
    play = [{
        "name": "EXAMPLES of %s" % module,
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            # what the examples take from earlier tasks of a real playbook
            "certificate": {"arn": example_domain["arn"]},
            "distribution": {"domain_name": example_domain["distribution"]},
        },
        # the keys come from the environment: an example's own module_defaults
        # (one points the group at an emulator) replace these
        "module_defaults": {"group/linktrack.https.aws": {
            "endpoint_url": sandbox_env["SANDBOX_AWS_ENDPOINT"], "region": "us-east-1"}},
        "tasks": tasks,
    }]
    path = example_domain["work"] / ("examples-%s.yml" % module)
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    proc = run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,", "--check", str(path)],
               env=_env(ANSIBLE_STDOUT_CALLBACK="json", AWS_ACCESS_KEY_ID=sandbox_env["AWS_ACCESS_KEY_ID"],
                        AWS_SECRET_ACCESS_KEY=sandbox_env["AWS_SECRET_ACCESS_KEY"], AWS_DEFAULT_REGION="us-east-1"),
               check=False, timeout=600)
    out = json.loads(proc.stdout)
    ran = []
    for task in out["plays"][0]["tasks"]:
        res = task["hosts"].get("localhost", {})
        assert not res.get("failed"), "%s example %r failed: %s" % (module, task["task"]["name"], res.get("msg"))
        ran.append(task["task"]["name"])
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert len(ran) >= len([t for t in _tasks(tasks) if "block" not in t]), ran
