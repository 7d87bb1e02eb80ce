# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""antsibull-changelog: the fragments lint clean, and a release made from a copy
of the checkout lists the release summary, every module and the role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import shutil

import pytest
import yaml

from ecohelpers import ROOT, VENV_BIN, base_env, galaxy_meta, load_yaml, module_names, run

CHANGELOG = os.path.join(VENV_BIN, "antsibull-changelog")
IGNORE = shutil.ignore_patterns(".git", ".venv", ".tmp", ".cache", "build", "output", "__pycache__",
                                "*.tar.gz", ".state", "sandbox.env")


def test_fragments_lint_clean():
    proc = run([CHANGELOG, "lint"], env=base_env())
    assert proc.stdout.strip() == "" and proc.stderr.strip() == "", proc.stdout + proc.stderr


def test_config_and_history():
    config = load_yaml(os.path.join(ROOT, "changelogs", "config.yaml"))
    assert config["title"] == "linktrack.https"
    assert config["notesdir"] == "fragments"
    history = load_yaml(os.path.join(ROOT, "changelogs", "changelog.yaml"))
    assert "releases" in history
    fragments = os.listdir(os.path.join(ROOT, "changelogs", "fragments"))
    released = list(history.get("releases") or {})
    if galaxy_meta()["version"] not in released:
        # an unreleased version needs at least its fragments
        assert [f for f in fragments if f.endswith((".yml", ".yaml"))], "no changelog fragment for the next release"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A copy of the checkout in which antsibull-changelog made the next release."""
    tree = tmp_path_factory.mktemp("changelog") / "ansible_collections" / "linktrack" / "https"
    shutil.copytree(ROOT, str(tree), ignore=IGNORE, symlinks=True)
    version = galaxy_meta()["version"]
    run([CHANGELOG, "release", "--version", version, "--date", "2030-01-01"], cwd=str(tree), env=base_env())
    return tree, version


def test_release_writes_changelog(released):
    tree, version = released
    text = (tree / "CHANGELOG.rst").read_text()
    assert "linktrack.https Release Notes" in text
    assert "v%s" % version in text
    assert "Release Summary" in text
    history = load_yaml(str(tree / "changelogs" / "changelog.yaml"))
    assert version in history["releases"]
    # the fragments were consumed into the history
    left = [f for f in os.listdir(str(tree / "changelogs" / "fragments")) if not f.startswith(".")]
    assert left == []


def test_release_lists_every_module_and_the_role(released):
    tree, version = released
    history = load_yaml(str(tree / "changelogs" / "changelog.yaml"))
    release = history["releases"][version]
    listed = sorted(m["name"] for m in release.get("modules", []))
    assert listed == module_names(str(tree)), "modules in the release notes: %s" % listed
    text = (tree / "CHANGELOG.rst").read_text()
    for name in listed:
        assert "linktrack.https.%s" % name in text
    if os.path.exists(os.path.join(ROOT, "roles", "link_domain", "meta", "argument_specs.yml")):
        roles = [o["name"] for o in release.get("objects", {}).get("role", [])]
        assert "link_domain" in roles, release


def test_version_added_of_every_module_is_a_real_version():
    """A module's version_added is a released version or the one about to be released,
    or the release notes (and the docs) tell users the wrong thing."""
    history = load_yaml(os.path.join(ROOT, "changelogs", "changelog.yaml"))
    known = set(history.get("releases") or {}) | {galaxy_meta()["version"]}
    wrong = {}
    for name in module_names():
        with open(os.path.join(ROOT, "plugins", "modules", name + ".py")) as f:
            tree = ast.parse(f.read())
        doc = [n.value.value for n in tree.body
               if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "DOCUMENTATION"][0]
        added = str(yaml.safe_load(doc).get("version_added"))
        if added not in known:
            wrong[name] = added
    assert wrong == {}, "version_added is neither released nor the next version (%s): %s" % (
        galaxy_meta()["version"], wrong)
