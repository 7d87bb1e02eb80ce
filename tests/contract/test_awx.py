# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX / Automation Platform job templates of awx/.

- The surveys, as awx/job_template.yml renders them, against the role's
  meta/argument_specs.yml: every survey variable is a role option of the right
  type and choices; every required role option is in the survey or has a default.
- The form: answers are checked with the rules AWX applies to a survey at
  launch (required, text length, integer range, choices); invalid answers are
  refused there.
- Bypassing the form: the role's preflight refuses the same values before any
  AWS request.
- awx/job_template.yml only uses options the awx.awx modules have; the fleet's
  inventory comes from the project's inventory file, its job templates are sliced
  and notify on failure, the verify job template runs daily.
- Launches as AWX makes them (ansible-runner, private data directory, the AWS
  credential injected) are in test_awx_runner.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import jinja2
import pytest
import yaml

from ecohelpers import ROOT, VENV_BIN, base_env, load_yaml, run
from fault_proxy import FaultProxy

AWX = os.path.join(ROOT, "awx")
PLAYBOOK = os.path.join(VENV_BIN, "ansible-playbook")
SPECS = os.path.join(ROOT, "roles", "link_domain", "meta", "argument_specs.yml")
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
# survey type -> the argument spec types it can feed
TYPE_MATCH = {"text": {"str"}, "textarea": {"str"}, "password": {"str"}, "multiplechoice": {"str"},
              "integer": {"int"}, "float": {"float"}, "multiselect": {"list"}}


def _env(**extra):
    return base_env(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"), **extra)


def awx_survey_errors(survey, answers):
    """The checks AWX makes on survey answers at launch (awx/main/models/mixins.py,
    SurveyJobTemplateMixin): required answers, text length, integer type and
    range, multiple choice membership. Returns the list of refusals."""
    errors = []
    for q in survey["spec"]:
        var = q["variable"]
        if var not in answers:
            if q.get("required"):
                errors.append("'%s' value missing" % var)
            continue
        value = answers[var]
        if q["type"] in ("text", "textarea", "password"):
            if not isinstance(value, str):
                errors.append("%s: expected a string" % var)
                continue
            if q.get("min") not in ("", None) and len(value) < int(q["min"]):
                errors.append("%s: too short" % var)
            if q.get("max") not in ("", None) and len(value) > int(q["max"]):
                errors.append("%s: too long" % var)
        elif q["type"] == "integer":
            if isinstance(value, bool) or not isinstance(value, int):  # AWX rejects bool and str here
                errors.append("%s: expected an integer" % var)
                continue
            if q.get("min") not in ("", None) and value < int(q["min"]):
                errors.append("%s: too small" % var)
            if q.get("max") not in ("", None) and value > int(q["max"]):
                errors.append("%s: too large" % var)
        elif q["type"] == "multiplechoice":
            choices = q["choices"] if isinstance(q["choices"], list) else q["choices"].splitlines()
            if value not in choices:
                errors.append("%s: %r is not one of %s" % (var, value, choices))
    return errors


@pytest.fixture(scope="module")
def specs():
    return load_yaml(SPECS)["argument_specs"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The surveys as awx/job_template.yml sends them, without and with an allow-list of domains."""
    out = {}
    allow_list = {"linktrack_awx_allowed_domains": ["links.example.com", "links.example.eu"]}
    for label, extra in (("free", {}), ("allow-list", allow_list)):
        d = tmp_path_factory.mktemp("surveys-" + label)
        extra = dict(extra, linktrack_awx_surveys_out=str(d))
        run([PLAYBOOK, "-i", "localhost,", os.path.join(AWX, "job_template.yml"), "--tags", "surveys",
             "-e", json.dumps(extra)], env=_env())
        out[label] = dict((w, json.loads((d / ("survey_%s.json" % w)).read_text())) for w in ("setup", "teardown"))
    return out


def _options(specs, which):
    opts = dict(specs["main"]["options"])
    if which == "teardown":
        # the teardown entry point takes the main entry point's variables too
        opts.update(specs["teardown"]["options"])
    return opts


def test_rendered_surveys_are_the_files(rendered):
    for which in ("setup", "teardown"):
        with open(os.path.join(AWX, "survey_%s.json" % which)) as f:
            assert rendered["free"][which] == json.load(f)


@pytest.mark.parametrize("label", ["free", "allow-list"])
@pytest.mark.parametrize("which", ["setup", "teardown"])
def test_survey_is_a_valid_awx_survey(rendered, which, label):
    survey = rendered[label][which]
    assert survey["name"] and survey["description"]
    variables = [q["variable"] for q in survey["spec"]]
    assert len(variables) == len(set(variables)), variables
    for q in survey["spec"]:
        assert q["question_name"] and q["type"] in SURVEY_TYPES and isinstance(q["required"], bool), q
        if q["type"] == "multiplechoice":
            assert q["choices"] and (q["default"] in q["choices"] or (q["required"] and q["default"] == "")), q
        if q["type"] == "integer":
            assert q["min"] <= q["default"] <= q["max"], q
        if q["type"] == "text" and q["default"]:
            assert q["min"] <= len(q["default"]) <= q["max"], q


@pytest.mark.parametrize("which", ["setup", "teardown"])
def test_every_survey_field_is_a_role_option(rendered, specs, which):
    options = _options(specs, which)
    for q in rendered["free"][which]["spec"]:
        var = q["variable"]
        assert var in options, "survey variable %s is not in meta/argument_specs.yml" % var
        spec = options[var]
        assert spec.get("type", "str") in TYPE_MATCH[q["type"]], (var, q["type"], spec.get("type"))
        if spec.get("choices"):
            assert q["type"] == "multiplechoice", "%s has choices in the spec; the survey must offer them" % var
            assert sorted(q["choices"]) == sorted(spec["choices"]), var
            assert q["default"] == spec.get("default"), var
        elif q["type"] == "integer" and "default" in spec:
            assert q["min"] <= spec["default"] <= q["max"], "%s: the role's default is outside the survey" % var
        assert not spec.get("no_log"), "%s is a secret: it belongs in a credential, not a survey" % var


@pytest.mark.parametrize("which", ["setup", "teardown"])
def test_every_required_option_is_asked_or_has_a_default(rendered, specs, which):
    entry = specs["main" if which == "setup" else "teardown"]["options"]
    asked = {q["variable"] for q in rendered["free"][which]["spec"]}
    missing = [k for k, o in entry.items() if o.get("required") and k not in asked and "default" not in o]
    assert missing == []
    # the tracking domain defaults to the inventory host name, which an AWX job does
    # not have: the survey must ask for it
    assert "link_domain_name" in asked
    if which == "teardown":
        assert "link_domain_teardown_confirm" in asked
        confirm = [q for q in rendered["free"]["teardown"]["spec"] if q["variable"] == "link_domain_teardown_confirm"]
        assert confirm[0]["type"] == "text" and confirm[0]["required"]


GOOD = {"link_domain_name": "links.example.com", "link_domain_iterable_region": "edc",
        "link_domain_dns_provider": "rfc2136", "link_domain_dns_record_type": "cname",
        "link_domain_rfc2136_server": "192.0.2.53", "link_domain_rfc2136_port": 53}


@pytest.mark.parametrize("change, refused", [
    ({"link_domain_iterable_region": "eu"}, "link_domain_iterable_region"),
    ({"link_domain_iterable_region": "us-east-1"}, "link_domain_iterable_region"),
    ({"link_domain_dns_provider": "cloudflare"}, "link_domain_dns_provider"),
    ({"link_domain_dns_record_type": "A"}, "link_domain_dns_record_type"),
    ({"link_domain_name": ""}, "link_domain_name"),
    ({"link_domain_name": "a.b"}, "link_domain_name"),
    ({"link_domain_name": "l" * 250 + ".com"}, "link_domain_name"),
    ({"link_domain_rfc2136_port": 0}, "link_domain_rfc2136_port"),
    ({"link_domain_rfc2136_port": 70000}, "link_domain_rfc2136_port"),
    ({"link_domain_rfc2136_port": "53"}, "link_domain_rfc2136_port"),
    (None, "link_domain_name"),  # the required domain left out
])
def test_the_form_refuses_invalid_answers(rendered, change, refused):
    survey = rendered["free"]["setup"]
    assert awx_survey_errors(survey, GOOD) == []
    answers = dict(GOOD)
    if change is None:
        answers.pop("link_domain_name")
    else:
        answers.update(change)
    errors = awx_survey_errors(survey, answers)
    assert errors and all(refused in e for e in errors), errors


def test_allow_list_refuses_other_domains(rendered):
    survey = rendered["allow-list"]["setup"]
    assert awx_survey_errors(survey, dict(GOOD, link_domain_name="links.example.eu")) == []
    assert awx_survey_errors(survey, dict(GOOD, link_domain_name="links.other.example")) != []


def _job_template_plays():
    with open(os.path.join(AWX, "job_template.yml")) as f:
        text = f.read()
    # !unsafe keeps Ansible from templating the injectors; AWX renders them at launch
    return text, yaml.safe_load(text.replace("!unsafe ", ""))


def test_job_template_uses_real_module_options():
    plays = _job_template_plays()[1]
    used = {}
    for task in plays[0]["tasks"]:
        for key, args in task.items():
            if key.startswith("awx.awx."):
                used.setdefault(key, set()).update(args)
    assert set(used) == {"awx.awx.credential_type", "awx.awx.execution_environment", "awx.awx.project",
                         "awx.awx.inventory", "awx.awx.job_template", "awx.awx.inventory_source",
                         "awx.awx.schedule", "awx.awx.notification_template"}
    proc = run([os.path.join(VENV_BIN, "ansible-doc"), "--json", "-t", "module"] + sorted(used), env=_env())
    docs = json.loads(proc.stdout)
    for module, args in used.items():
        options = set(docs[module]["doc"]["options"])
        assert args <= options, "%s has no option(s) %s" % (module, sorted(args - options))


def _tasks(module):
    return [t for t in _job_template_plays()[1][0]["tasks"] if module in t]


def _render(value, **variables):
    """A value of awx/job_template.yml with the play's defaults (and overrides)."""
    play_vars = dict(_job_template_plays()[1][0]["vars"], **variables)
    env = jinja2.Environment()
    env.filters["unique"] = lambda seq: list(dict.fromkeys(seq))
    for _round in range(3):  # defaults refer to each other
        play_vars = dict((k, env.from_string(v).render(**play_vars) if isinstance(v, str) else v)
                         for k, v in play_vars.items())
    return env.from_string(value).render(**play_vars) if isinstance(value, str) else value


def test_fleet_inventory_is_sourced_from_the_project_file():
    source = _tasks("awx.awx.inventory_source")[0]["awx.awx.inventory_source"]
    assert source["source"] == "scm" and source["update_on_launch"] is True and source["overwrite"] is True
    path = _render(source["source_path"])
    assert path == "playbooks/inventories/fleet.yml"
    inv = load_yaml(os.path.join(ROOT, path))
    assert len(inv["tracking_domains"]["hosts"]) >= 8
    assert _render(source["inventory"]) == _render("{{ linktrack_awx_fleet_inventory }}")
    assert _render(source["source_project"]) == _render("{{ linktrack_awx_project }}")


def test_fleet_job_templates_are_sliced_and_notify_on_failure():
    task = _tasks("awx.awx.job_template")
    fleet = [t for t in task if "fleet" in t["name"]][0]
    jt, items = fleet["awx.awx.job_template"], fleet["loop"]
    playbooks = sorted(i["playbook"] for i in items)
    assert playbooks == ["playbooks/setup_link_domain.yml", "playbooks/verify_link_domain.yml"]
    for playbook in playbooks:  # paths in the project: this repository
        assert os.path.exists(os.path.join(ROOT, playbook)), playbook
    setup = [i for i in items if i["playbook"] == "playbooks/setup_link_domain.yml"][0]
    assert int(_render(setup["slices"])) == 4 and int(_render(jt["forks"])) == 10
    assert int(_render(setup["slices"], linktrack_awx_fleet_slices=6)) == 6
    assert _render(jt["inventory"]) == _render("{{ linktrack_awx_fleet_inventory }}")
    assert "job_slice_count" in jt and jt["ask_limit_on_launch"] is True
    # on failure (notification_templates_error): the named templates and the one created here
    assert _render(jt["notification_templates_error"]) == "[]"
    named = _render(jt["notification_templates_error"], linktrack_awx_failure_notifications=["Ops mail"],
                    linktrack_awx_notification={"name": "linktrack webhook", "notification_type": "webhook",
                                                "notification_configuration": {}})
    assert named == "['Ops mail', 'linktrack webhook']"
    created = _tasks("awx.awx.notification_template")[0]
    assert created["when"] == "linktrack_awx_notification | length > 0"


def test_verify_schedule_is_daily():
    from dateutil.rrule import rrulestr

    sched = _tasks("awx.awx.schedule")[0]["awx.awx.schedule"]
    names = [i["name"] for i in [t for t in _tasks("awx.awx.job_template") if "fleet" in t["name"]][0]["loop"]]
    assert sched["unified_job_template"] in names and "verify" in sched["unified_job_template"]
    rule = _render(sched["rrule"])
    # AWX takes "DTSTART:<UTC time> RRULE:<rule>" on one line (awx.awx.schedule's examples)
    start, rrule = rule.split(" ", 1)
    assert start.startswith("DTSTART:") and start.endswith("Z") and rrule.startswith("RRULE:"), rule
    rr = rrulestr(start + "\n" + rrule)
    first = rr[0]
    assert (rr.after(first) - first).total_seconds() == 86400, rule
    assert "COUNT" not in rrule and "UNTIL" not in rrule, "the daily schedule must not end: %s" % rule


def test_tsig_credential_type_injects_role_variables(specs):
    text, plays = _job_template_plays()
    task = [t for t in plays[0]["tasks"] if "awx.awx.credential_type" in t][0]["awx.awx.credential_type"]
    fields = {f["id"]: f for f in task["inputs"]["fields"]}
    assert fields["key_secret"].get("secret") is True
    sample = {"key_name": "linktrack", "key_algorithm": "hmac-sha256", "key_secret": "c2VjcmV0"}
    injected = dict((k, jinja2.Template(v).render(**sample)) for k, v in task["injectors"]["extra_vars"].items())
    options = specs["main"]["options"]
    assert injected == {"link_domain_rfc2136_key_name": "linktrack", "link_domain_rfc2136_key_algorithm": "hmac-sha256",
                        "link_domain_rfc2136_key_secret": "c2VjcmV0"}
    assert options["link_domain_rfc2136_key_secret"].get("no_log") is True
    assert sorted(fields["key_algorithm"]["choices"]) == sorted(options["link_domain_rfc2136_key_algorithm"]["choices"])
    assert "!unsafe \"{{ key_secret }}\"" in text


def test_playbooks_parse():
    for playbook in ("job_template.yml", "setup_from_survey.yml", "teardown_from_survey.yml"):
        run([PLAYBOOK, "--syntax-check", "-i", "localhost,", os.path.join(AWX, playbook)], env=_env())


# ---- against the sandbox -------------------------------------------------------------

def _launch_files(tmp_path, sandbox_env, answers, aws_endpoint=None):
    """What AWX hands to ansible-playbook: survey answers as extra vars, the "Amazon
    Web Services" credential as environment variables. The sandbox's endpoints
    come from playbooks/vars/sandbox.yml, without its access keys."""
    sandbox_vars = load_yaml(os.path.join(ROOT, "playbooks", "vars", "sandbox.yml"))
    for key in ("link_domain_aws_access_key", "link_domain_aws_secret_key"):
        sandbox_vars.pop(key, None)
    if aws_endpoint:
        sandbox_vars["link_domain_aws_endpoint_url"] = aws_endpoint
    (tmp_path / "sandbox.yml").write_text(yaml.safe_dump(sandbox_vars))
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    env = _env(SANDBOX_ENV_FILE=os.environ["SANDBOX_ENV_FILE"],
               AWS_ACCESS_KEY_ID=sandbox_env["AWS_ACCESS_KEY_ID"],
               AWS_SECRET_ACCESS_KEY=sandbox_env["AWS_SECRET_ACCESS_KEY"],
               AWS_SECURITY_TOKEN="")
    return ["-e", "@%s" % (tmp_path / "sandbox.yml"), "-e", "@%s" % (tmp_path / "answers.json")], env


def _survey_answers(rendered, which, answers):
    survey = rendered["free"][which]
    assert awx_survey_errors(survey, answers) == []
    # AWX fills in the defaults of questions left unanswered
    full = dict((q["variable"], q["default"]) for q in survey["spec"] if q.get("default") not in (None, ""))
    full.update(answers)
    return full


@pytest.mark.parametrize("bad", ["links..example.com", "links example.com", "-links.example.com",
                                 "links.example.com/path"])
def test_preflight_refuses_what_the_form_lets_through(rendered, sandbox_env, tmp_path, bad):
    """Text the form accepts (its length is fine) but that is no host name: the
    role stops in its preflight, naming link_domain_name, before any AWS request."""
    survey = rendered["free"]["setup"]
    answers = dict(link_domain_name=bad, link_domain_iterable_region="usdc", link_domain_dns_provider="route53",
                   link_domain_dns_record_type="cname")
    assert awx_survey_errors(survey, answers) == []
    # the AWS requests of this run alone are counted at a proxy of its own
    counter = FaultProxy(sandbox_env["SANDBOX_AWS_ENDPOINT"])
    try:
        args, env = _launch_files(tmp_path, sandbox_env, _survey_answers(rendered, "setup", answers), counter.url)
        proc = run([PLAYBOOK, "-i", "localhost,", os.path.join(AWX, "setup_from_survey.yml")] + args, env=env,
                   check=False)
    finally:
        counter.stop()
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "link_domain_name: " in proc.stdout + proc.stderr, proc.stdout[-3000:]
    assert counter.requests == 0, "AWS was called %d times before the preflight refused %r" % (counter.requests, bad)
