# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""execution-environment.yml: ``ansible-builder create`` writes a build context
whose Containerfile and requirement files carry what the collection needs.
(Building the image needs a container engine, which the test machines lack.)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ecohelpers import ROOT, VENV_BIN, galaxy_meta, load_yaml, run

EE_FILE = os.path.join(ROOT, "execution-environment.yml")
RUNTIME_PY_DEPS = {"boto3", "botocore", "dnspython", "cryptography"}


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
    names = {Requirement(line).name.lower() for line in lines}
    assert RUNTIME_PY_DEPS <= names, lines
    # the same requirements the collection ships for introspection (requirements.txt)
    shipped = {Requirement(line).name.lower(): str(Requirement(line).specifier)
               for line in _requirement_lines(os.path.join(ROOT, "requirements.txt"))}
    in_ee = {Requirement(line).name.lower(): str(Requirement(line).specifier) for line in lines}
    assert shipped == in_ee


def test_collection_dependencies_match_galaxy_yml(context):
    reqs = load_yaml(str(context / "_build" / "requirements.yml"))
    coll = {c["name"]: c.get("version", "*") for c in reqs["collections"]}
    meta = galaxy_meta()
    for name, spec in meta["dependencies"].items():
        assert coll.get(name) == spec, "%s: execution environment has %r, galaxy.yml %r" % (name, coll.get(name), spec)
    # the collection itself, in a range that holds the version being released
    own = "%s.%s" % (meta["namespace"], meta["name"])
    assert own in coll
    assert Version(meta["version"]) in SpecifierSet(coll[own])


def test_ansible_core_range_holds_the_tested_lines(ee, context):
    containerfile = (context / "Containerfile").read_text()
    core = ee["dependencies"]["ansible_core"]["package_pip"]
    assert core in containerfile  # ANSIBLE_INSTALL_REFS
    spec = Requirement(core).specifier
    runtime = load_yaml(os.path.join(ROOT, "meta", "runtime.yml"))
    requires = SpecifierSet(runtime["requires_ansible"])
    import ansible.release
    tested = [Version(ansible.release.__version__), Version("2.21.0")]
    for v in tested:
        assert v in spec, "ansible-core %s is outside the EE range %s" % (v, spec)
        assert v in requires, "ansible-core %s is outside requires_ansible %s" % (v, requires)
    assert "ansible-runner" in containerfile


def test_context_introspects_the_installed_collections(context):
    """The image build reads each installed collection's requirements (ours too)."""
    containerfile = (context / "Containerfile").read_text()
    assert "introspect.py introspect" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "scripts" / "introspect.py").exists()
