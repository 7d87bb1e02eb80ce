# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job templates of awx/job_template.yml run the way AWX runs them: through
ansible-runner, with a private data directory, against the sandbox.

What AWX puts in the private data directory of a job (ansible/awx,
awx/main/tasks/jobs.py, BaseTask.run and RunJob.build_args):
- ``env/extravars``: the survey answers and the job template's extra variables;
- the credentials' environment: the "Amazon Web Services" credential type injects
  ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``, and with an STS token both
  ``AWS_SECURITY_TOKEN`` and ``AWS_SESSION_TOKEN`` (ansible/awx,
  awx/main/models/credential/injectors.py, ``aws()``, now in ansible/awx-plugins).
  AWX hands them to ansible-runner as ``envvars``; here they are ``env/envvars``;
- ``inventory/hosts``: an executable script printing the inventory as JSON
  (``write_inventory_file``), the hosts ordered by name;
- ``project/``: the project's checkout; the job template's playbook is a path in it.

Job slicing: a job template with ``job_slice_count`` S launches S jobs; slice
number k (1..S) gets the hosts ``hosts[k-1::S]`` of the inventory ordered by name
(ansible/awx, awx/main/models/inventory.py, ``Inventory.get_sliced_hosts``, called
by ``get_script_data(slice_number, slice_count)``), written as that slice's inventory.
The setup slice runs on the whole inventory with ``--limit`` of the slice (the hosts
that run are the same; a launch with a limit does this too); the verify slice gets
the sliced inventory, as AWX writes it.

Checked: the runs succeed, the domains of the slice are set up (certificate,
distribution, DNS record in the emulator) and the other domains of the fleet are
not; the verify job template passes that slice and, over the whole fleet, fails
naming exactly the domains outside it (its JSON report too), changing nothing; the
survey's domain is set up and taken down again; the AWS secret key and STS
token of the credential appear in no job event, nor in the job's stdout or stderr
(what AWX keeps of a job). ansible-runner itself writes the job's environment into
``artifacts/<ident>/command`` (ansible_runner/runner.py, ``Runner.run``), mode 0600;
AWX deletes the whole private data directory when the job ends (awx/main/tasks/jobs.py,
``with_path_cleanup``). That file is the only one allowed to hold them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import secrets
import shutil
import stat

import boto3
import pytest
import yaml

from ecohelpers import ROOT, VENV_BIN, base_env, load_yaml, run

RUNNER = os.path.join(VENV_BIN, "ansible-runner")
FLEET_FILE = os.path.join("playbooks", "inventories", "fleet.yml")
VERIFY_PLAYBOOK = os.path.join("playbooks", "verify_link_domain.yml")
FLEET_SLICES = 4
CERT_STATUSES = ["PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED", "FAILED"]


def awx_slice(hosts, slice_number, slice_count):
    """Inventory.get_sliced_hosts of AWX over the hosts ordered by name."""
    hosts = sorted(hosts)
    if slice_count > 1 and slice_number > 0:
        return hosts[slice_number - 1::slice_count]
    return hosts


def awx_sliced_inventory(inventory, slice_number, slice_count):
    """The inventory script data AWX writes for one slice of a sliced job
    (get_script_data(slice_number=..., slice_count=...)): only that slice's hosts,
    in their groups, with their variables."""
    hosts = set(awx_slice(inventory["_meta"]["hostvars"], slice_number, slice_count))
    out = {"_meta": {"hostvars": dict((h, v) for h, v in inventory["_meta"]["hostvars"].items() if h in hosts)}}
    for group, data in inventory.items():
        if group == "_meta":
            continue
        data = dict(data)
        if "hosts" in data:
            data["hosts"] = [h for h in data["hosts"] if h in hosts]
        out[group] = data
    return out


def aws_credential_env(access_key, secret_key, security_token=""):
    """What AWX's "Amazon Web Services" credential type injects (injectors.aws)."""
    env = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    if security_token:
        env["AWS_SECURITY_TOKEN"] = security_token
        env["AWS_SESSION_TOKEN"] = security_token
    return env


def survey_answers(which, answers):
    """The survey's answers as AWX sends them: the questions left unanswered get
    their defaults (the surveys are the files awx/job_template.yml sends; test_awx.py
    checks that)."""
    with open(os.path.join(ROOT, "awx", "survey_%s.json" % which)) as f:
        survey = json.load(f)
    full = dict((q["variable"], q["default"]) for q in survey["spec"] if q.get("default") not in (None, ""))
    unknown = set(answers) - set(q["variable"] for q in survey["spec"])
    assert not unknown, "not questions of the %s survey: %s" % (which, sorted(unknown))
    full.update(answers)
    return full


@pytest.fixture(scope="module")
def credential():
    """An "Amazon Web Services" credential of its own, with an STS token: values
    that cannot turn up in a job's output by chance (the emulator takes any keys)."""
    return {"access_key": "AKIA" + secrets.token_hex(8).upper(), "secret_key": secrets.token_urlsafe(30),
            "security_token": "IQoJ" + secrets.token_urlsafe(60)}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The project checkout AWX syncs: the repository's awx/ and playbooks/."""
    proj = tmp_path_factory.mktemp("awx-project") / "project"
    for d in ("awx", "playbooks"):
        shutil.copytree(os.path.join(ROOT, d), str(proj / d))
    return proj


@pytest.fixture(scope="module")
def sandbox_vars(sandbox_env):
    """The sandbox's endpoints as extra variables (playbooks/vars/sandbox.yml without
    its access keys: the keys come from the credential)."""
    sandbox = load_yaml(os.path.join(ROOT, "playbooks", "vars", "sandbox.yml"))
    for key in ("link_domain_aws_access_key", "link_domain_aws_secret_key"):
        sandbox.pop(key, None)
    return sandbox


@pytest.fixture(scope="module")
def fleet_inventory():
    """The fleet inventory as AWX's inventory update imports it from the project's
    file (ansible-inventory --list), and as the job's inventory script prints it."""
    proc = run([os.path.join(VENV_BIN, "ansible-inventory"), "-i", os.path.join(ROOT, FLEET_FILE), "--list"],
               env=base_env())
    inv = json.loads(proc.stdout)
    assert len(inv["tracking_domains"]["hosts"]) >= 2 * FLEET_SLICES, "the fleet file is too small to slice"
    return inv


class AwxJob(object):
    """One job's private data directory, laid out as AWX lays it out."""

    def __init__(self, base, ident, project, credential, extravars, inventory):
        self.ident = ident
        self.pdd = base / ident
        (self.pdd / "env").mkdir(parents=True)
        (self.pdd / "inventory").mkdir()
        os.symlink(str(project), str(self.pdd / "project"))
        (self.pdd / "env" / "extravars").write_text(json.dumps(extravars))
        envvars = aws_credential_env(credential["access_key"], credential["secret_key"],
                                     credential["security_token"])
        (self.pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
        hosts = self.pdd / "inventory" / "hosts"
        hosts.write_text("#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % json.dumps(inventory))
        hosts.chmod(0o700)
        # the process that runs ansible-runner: the execution environment's Python and
        # collections, and no AWS keys of its own
        self.env = base_env(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"),
                            SANDBOX_ENV_FILE=os.environ["SANDBOX_ENV_FILE"])

    def run(self, playbook, limit=None, forks=None):
        cmd = [RUNNER, "run", str(self.pdd), "-p", playbook, "--ident", self.ident]
        if limit:
            cmd += ["--limit", limit]
        if forks:
            cmd += ["--forks", str(forks)]
        proc = run(cmd, env=self.env, check=False, timeout=900)
        self.artifacts = self.pdd / "artifacts" / self.ident
        self.rc = int((self.artifacts / "rc").read_text().strip())
        self.status = (self.artifacts / "status").read_text().strip()
        self.stdout = (self.artifacts / "stdout").read_text()
        self.events = sorted((json.loads(p.read_text()) for p in (self.artifacts / "job_events").glob("*.json")),
                             key=lambda e: e["counter"])
        assert self.events, "no job events in %s: %s" % (self.artifacts, proc.stdout[-3000:] + proc.stderr[-2000:])
        return self

    def tail(self):
        return "status %s, rc %s\n%s" % (self.status, self.rc, self.stdout[-6000:])

    def host_results(self, event="runner_on_failed"):
        return sorted({e["event_data"].get("host") for e in self.events if e.get("event") == event})

    def assert_no_secret(self, credential):
        """The credential's secrets are in no job event, not in stdout or stderr;
        only ansible-runner's own artifacts/<ident>/command holds the environment."""
        needles = [credential["secret_key"], credential["security_token"]]
        holders = []
        for dirpath, _dirs, files in os.walk(str(self.artifacts)):
            for name in files:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    data = f.read().decode("utf-8", "replace")
                if any(n in data for n in needles):
                    holders.append(os.path.relpath(path, str(self.artifacts)))
        assert holders == ["command"], "secrets of the credential in the job's artifacts: %s" % holders
        assert stat.S_IMODE(os.stat(str(self.artifacts / "command")).st_mode) == 0o600
        # the events are what AWX stores and shows: stdout included, nothing of the secrets
        dumped = json.dumps(self.events)
        assert not any(n in dumped for n in needles)
        assert self.events[-1]["event"] == "playbook_on_stats"


def aws_state(sandbox_env, domains):
    """Per domain what the emulator holds: certificate status, distribution id, DNS record types."""
    kw = dict(endpoint_url=sandbox_env["SANDBOX_AWS_ENDPOINT"], region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    acm = boto3.client("acm", **kw)
    certs = {}
    for page in acm.get_paginator("list_certificates").paginate(CertificateStatuses=CERT_STATUSES):
        for c in page["CertificateSummaryList"]:
            certs.setdefault(c["DomainName"], []).append(c.get("Status", "?"))
    dists = {}
    for page in boto3.client("cloudfront", **kw).get_paginator("list_distributions").paginate():
        for d in page["DistributionList"].get("Items", []):
            for alias in d.get("Aliases", {}).get("Items", []):
                dists.setdefault(alias, []).append(d["Id"])
    records = {}
    r53 = boto3.client("route53", **kw)
    for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=sandbox_env["SANDBOX_R53_ZONE_ID"]):
        for rr in page["ResourceRecordSets"]:
            records.setdefault(rr["Name"].rstrip("."), []).append(rr["Type"])
    return dict((d, {"certificate": certs.get(d, []), "distribution": dists.get(d, []),
                     "record": sorted(t for t in records.get(d, []) if t in ("A", "AAAA", "CNAME"))})
                for d in domains)


def _set_up(state):
    return state["certificate"] == ["ISSUED"] and len(state["distribution"]) == 1 and state["record"]


def _absent(state):
    return not state["certificate"] and not state["distribution"] and not state["record"]


def test_survey_jobs_through_ansible_runner(tmp_path, project, credential, sandbox_vars, sandbox_env):
    """The setup and teardown job templates: survey answers as env/extravars, the
    credential as env/envvars, the job template's (empty) inventory."""
    domain = "awx-runner-%s.example.com" % secrets.token_hex(3)
    empty = {"all": {"children": ["ungrouped"]}, "_meta": {"hostvars": {}}}
    answers = survey_answers("setup", {"link_domain_name": domain, "link_domain_iterable_region": "edc",
                                       "link_domain_dns_provider": "route53", "link_domain_dns_record_type": "alias"})
    assert _absent(aws_state(sandbox_env, [domain])[domain])
    setup = AwxJob(tmp_path, "setup", project, credential, dict(sandbox_vars, **answers), empty)
    setup.run("awx/setup_from_survey.yml")
    assert (setup.rc, setup.status) == (0, "successful"), setup.tail()
    state = aws_state(sandbox_env, [domain])[domain]
    assert _set_up(state) and state["record"] == ["A", "AAAA"], state
    assert domain in setup.host_results("runner_on_ok"), setup.host_results("runner_on_ok")
    setup.assert_no_secret(credential)

    answers = survey_answers("teardown", {"link_domain_name": domain, "link_domain_teardown_confirm": domain,
                                          "link_domain_teardown_dns": "delete", "link_domain_iterable_region": "edc",
                                          "link_domain_dns_provider": "route53",
                                          "link_domain_dns_record_type": "alias"})
    teardown = AwxJob(tmp_path, "teardown", project, credential, dict(sandbox_vars, **answers), empty)
    teardown.run("awx/teardown_from_survey.yml")
    assert (teardown.rc, teardown.status) == (0, "successful"), teardown.tail()
    state = aws_state(sandbox_env, [domain])[domain]
    assert not state["distribution"] and not state["record"], state
    assert all(s != "ISSUED" for s in state["certificate"]), state
    teardown.assert_no_secret(credential)


def test_one_slice_of_the_fleet_through_ansible_runner(tmp_path, project, credential, sandbox_vars, sandbox_env,
                                                       fleet_inventory):
    """Slice 1 of the fleet job template (job_slice_count 4) over the project's
    fleet inventory: its domains are set up, the fleet's other domains are not."""
    fleet = fleet_inventory["tracking_domains"]["hosts"]
    part = awx_slice(fleet, 1, FLEET_SLICES)
    others = sorted(set(fleet) - set(part))
    # every host is in exactly one slice, the slices differ in size by one at most
    slices = [awx_slice(fleet, k, FLEET_SLICES) for k in range(1, FLEET_SLICES + 1)]
    assert sorted(sum(slices, [])) == sorted(fleet) and max(map(len, slices)) - min(map(len, slices)) <= 1
    assert len(part) >= 2 and others
    before = aws_state(sandbox_env, fleet)
    assert all(_absent(s) for s in before.values()), "the sandbox already holds fleet domains: %s" % before

    job = AwxJob(tmp_path, "fleet-slice-1", project, credential, dict(sandbox_vars), fleet_inventory)
    try:
        job.run("playbooks/setup_link_domain.yml", limit=":".join(part), forks=10)
        assert (job.rc, job.status) == (0, "successful"), job.tail()
        stats = job.events[-1]["event_data"]
        assert sorted(stats["ok"]) == sorted(part) and not stats.get("failures"), stats
        after = aws_state(sandbox_env, fleet)
        assert all(_set_up(after[d]) for d in part), dict((d, after[d]) for d in part)
        assert all(_absent(after[d]) for d in others), dict((d, after[d]) for d in others)
        job.assert_no_secret(credential)
        # the verify job template sliced the same way, with the slice's inventory as AWX
        # writes it: every domain of the slice passes
        sliced = awx_sliced_inventory(fleet_inventory, 1, FLEET_SLICES)
        assert sorted(sliced["tracking_domains"]["hosts"]) == sorted(part)
        reports = tmp_path / "reports-slice-1"
        reports.mkdir()
        verify = AwxJob(tmp_path, "verify-slice-1", project, credential,
                        dict(sandbox_vars, link_domain_verify_report_dir=str(reports)), sliced)
        verify.run(VERIFY_PLAYBOOK, forks=10)
        assert (verify.rc, verify.status) == (0, "successful"), verify.tail()
        report = json.loads((reports / "verify-report.json").read_text())
        assert sorted(d["domain_name"] for d in report["domains"]) == sorted(part), report
        assert all(d["status"] != "failed" for d in report["domains"]), report
        verify.assert_no_secret(credential)
        # over the whole fleet: the domains outside the slice are not set up, so the job fails, naming them
        reports = tmp_path / "reports-fleet"
        reports.mkdir()
        verify = AwxJob(tmp_path, "verify-fleet", project, credential,
                        dict(sandbox_vars, link_domain_verify_report_dir=str(reports)), fleet_inventory)
        verify.run(VERIFY_PLAYBOOK, forks=10)
        assert (verify.rc != 0, verify.status) == (True, "failed"), verify.tail()
        report = dict((d["domain_name"], d["status"])
                      for d in json.loads((reports / "verify-report.json").read_text())["domains"])
        assert sorted(report) == sorted(fleet), report
        assert [d for d in fleet if report[d] == "failed"] == others, report
        assert all(d in verify.stdout for d in others), verify.tail()
        verify.assert_no_secret(credential)
        assert aws_state(sandbox_env, fleet) == after, "the verify job changed something"
    finally:
        # the slice's domains down again (teardown asks for each domain's name)
        down = AwxJob(tmp_path, "fleet-slice-1-down", project, credential,
                      dict(sandbox_vars, link_domain_teardown_confirm="{{ inventory_hostname }}",
                           link_domain_teardown_dns="delete"), fleet_inventory)
        down.run("playbooks/teardown_link_domain.yml", limit=":".join(part), forks=10)
    assert (down.rc, down.status) == (0, "successful"), down.tail()
    final = aws_state(sandbox_env, fleet)
    assert all(not final[d]["distribution"] and not final[d]["record"] for d in fleet), final
