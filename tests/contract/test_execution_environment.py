# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""execution-environment.yml: ``ansible-builder create`` writes a build context
whose Containerfile and requirement files carry what the collection needs, on the
newest Ansible line the suite tests (the "newest" leg, .tmp/venv-newest: the
`ansible` 14 package, ansible-core 2.21, amazon.aws 11, community.general 13).
(Building the image needs a container engine, which the test machines lack.)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ecohelpers import ROOT, VENV_BIN, galaxy_meta, load_yaml, run

EE_FILE = os.path.join(ROOT, "execution-environment.yml")
RUNTIME_PY_DEPS = {"boto3", "botocore", "dnspython", "cryptography"}
LEG_VENVS = {"oldest": os.path.join(ROOT, ".venv"), "newest": os.path.join(ROOT, ".tmp", "venv-newest")}


def _leg_collections(leg):
    """The dependency collections the leg's `ansible` package holds: name -> version."""
    pattern = os.path.join(LEG_VENVS[leg], "lib", "python*", "site-packages", "ansible_collections", "*", "*",
                           "MANIFEST.json")
    found = {}
    for path in glob.glob(pattern):
        with open(path) as f:
            info = json.load(f)["collection_info"]
        found["%s.%s" % (info["namespace"], info["name"])] = info["version"]
    assert found, "no collections in the %s leg (%s): run tests/bin/bootstrap.sh %s" % (leg, LEG_VENVS[leg], leg)
    return found


def _leg_core(leg):
    proc = run([os.path.join(LEG_VENVS[leg], "bin", "python"), "-c",
                "import ansible.release; print(ansible.release.__version__)"])
    return Version(proc.stdout.strip())


def _lower_bound(spec):
    lows = [Version(s.version) for s in SpecifierSet(spec) if s.operator in (">=", "==", "~=")]
    assert lows, "%r has no lower bound" % spec
    return max(lows)


def _requirement_lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture(scope="module")
def ee():
    return load_yaml(EE_FILE)


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    ctx = tmp_path_factory.mktemp("ee") / "context"
    proc = run([os.path.join(VENV_BIN, "ansible-builder"), "create", "-f", EE_FILE, "-c", str(ctx),
                "--output-filename", "Containerfile", "-v", "2"])
    assert "Complete!" in proc.stdout, proc.stdout
    return ctx


def test_definition_is_version_3(ee):
    assert ee["version"] == 3
    assert set(ee) <= {"version", "images", "dependencies", "build_arg_defaults", "additional_build_files",
                       "additional_build_steps", "options"}


def test_base_image_is_a_build_argument(ee, context):
    containerfile = (context / "Containerfile").read_text()
    default = ee["images"]["base_image"]["name"]
    assert 'ARG EE_BASE_IMAGE="%s"' % default in containerfile
    assert re.search(r"^FROM \$EE_BASE_IMAGE AS base$", containerfile, re.M), containerfile
    # the interpreter the definition names is the one the image gets
    interp = ee["dependencies"]["python_interpreter"]
    assert 'ARG PYCMD="%s"' % interp["python_path"] in containerfile
    assert 'ARG PYPKG="%s"' % interp["package_system"] in containerfile


def test_python_dependencies_in_context(context):
    lines = _requirement_lines(str(context / "_build" / "requirements.txt"))
    in_ee = {Requirement(line).name.lower(): str(Requirement(line).specifier) for line in lines}
    assert RUNTIME_PY_DEPS <= set(in_ee), lines
    # the packages the collection ships for introspection (requirements.txt), no
    # lower than there, and no lower than amazon.aws of the newest line asks
    shipped = {Requirement(line).name.lower(): str(Requirement(line).specifier)
               for line in _requirement_lines(os.path.join(ROOT, "requirements.txt"))}
    assert set(shipped) == set(in_ee)
    for name, spec in shipped.items():
        assert _lower_bound(in_ee[name]) >= _lower_bound(spec), (name, in_ee[name], spec)
    aws_reqs = glob.glob(os.path.join(LEG_VENVS["newest"], "lib", "python*", "site-packages", "ansible_collections",
                                      "amazon", "aws", "requirements.txt"))
    assert aws_reqs, "amazon.aws of the newest leg not found"
    for line in _requirement_lines(aws_reqs[0]):
        req = Requirement(line)
        if req.name.lower() in in_ee:
            assert _lower_bound(in_ee[req.name.lower()]) >= _lower_bound(str(req.specifier)), (line, in_ee)


def test_collection_dependencies_are_the_newest_line(context):
    reqs = load_yaml(str(context / "_build" / "requirements.yml"))
    coll = {c["name"]: c.get("version", "*") for c in reqs["collections"]}
    meta = galaxy_meta()
    newest, oldest = _leg_collections("newest"), _leg_collections("oldest")
    for name, spec in meta["dependencies"].items():
        assert name in coll, "%s of galaxy.yml is not in the execution environment" % name
        ee_spec = SpecifierSet(coll[name])
        # the newest leg's version is in, the oldest leg's is not: the EE is on the newest line
        assert Version(newest[name]) in ee_spec, (name, newest[name], coll[name])
        assert Version(oldest[name]) not in ee_spec or newest[name] == oldest[name], (name, oldest[name], coll[name])
        # and inside what galaxy.yml allows
        assert _lower_bound(coll[name]) >= _lower_bound(spec), (name, coll[name], spec)
        assert Version(newest[name]) in SpecifierSet(spec), (name, newest[name], spec)
    # the collection itself, in a range that holds the version being released
    own = "%s.%s" % (meta["namespace"], meta["name"])
    assert own in coll
    assert Version(meta["version"]) in SpecifierSet(coll[own])


def test_ansible_core_is_the_newest_line(ee, context):
    containerfile = (context / "Containerfile").read_text()
    core = ee["dependencies"]["ansible_core"]["package_pip"]
    assert core in containerfile  # ANSIBLE_INSTALL_REFS
    spec = Requirement(core).specifier
    runtime = load_yaml(os.path.join(ROOT, "meta", "runtime.yml"))
    requires = SpecifierSet(runtime["requires_ansible"])
    newest, oldest = _leg_core("newest"), _leg_core("oldest")
    assert newest in spec and newest in requires, (newest, spec, requires)
    assert oldest not in spec, "the EE's ansible-core %s takes the oldest line's %s too" % (spec, oldest)
    assert Version("%d.%d.0" % (newest.major, newest.minor + 1)) not in spec, "untested ansible-core in %s" % spec
    # ansible-core 2.21 needs Python 3.12 or newer: so does the EE's interpreter
    assert ee["dependencies"]["python_interpreter"]["package_system"] == "python3.12"
    assert "ansible-runner" in containerfile
    runner = Requirement(ee["dependencies"]["ansible_runner"]["package_pip"])
    # the ansible-runner the contract tests run the jobs with (test_awx_runner.py) is in that range
    proc = run([os.path.join(VENV_BIN, "ansible-runner"), "--version"])
    assert Version(proc.stdout.strip()) in runner.specifier, (proc.stdout, runner)


def test_context_introspects_the_installed_collections(context):
    """The image build reads each installed collection's requirements (ours too)."""
    containerfile = (context / "Containerfile").read_text()
    assert "introspect.py introspect" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "scripts" / "introspect.py").exists()
