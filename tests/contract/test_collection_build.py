# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release artifact: ``ansible-galaxy collection build`` makes a tarball that
installs offline into a fresh collections path, documents itself from there, and
runs the setup playbook from there against the sandbox."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import tarfile

import pytest

from ecohelpers import COLLECTION, ROOT, VENV_BIN, base_env, galaxy_meta, module_names, run

GALAXY = os.path.join(VENV_BIN, "ansible-galaxy")
DOC = os.path.join(VENV_BIN, "ansible-doc")

# What must never ship: local state, secrets of the sandbox, build output.
FORBIDDEN_PARTS = {".git", ".venv", ".tmp", ".cache", "build", "__pycache__", ".pytest_cache", ".ansible"}
FORBIDDEN_PATHS = ("tests/output/", "sandbox/.state/", "sandbox/sandbox.env",
                   "tests/integration/integration_config.yml")


def _checkout_copy(dest):
    """What a fresh clone holds (plus work not yet committed): the files git
    tracks or would track. Caches and state that exist only in this working tree
    (.pytest_cache, sandbox state...) stay out, as they would on a release machine."""
    files = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], env=base_env()).stdout
    for rel in sorted(set(f for f in files.split("\0") if f)):
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue  # deleted in the working tree but still in the index
        target = os.path.join(str(dest), rel)
        if not os.path.isdir(os.path.dirname(target)):
            os.makedirs(os.path.dirname(target))
        shutil.copy2(src, target)
    return dest


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    src = _checkout_copy(tmp_path_factory.mktemp("checkout") / "https")
    meta = galaxy_meta()
    proc = run([GALAXY, "collection", "build", "--output-path", str(out), str(src)], env=base_env())
    path = out / ("%s-%s-%s.tar.gz" % (meta["namespace"], meta["name"], meta["version"]))
    assert path.exists(), proc.stdout
    return path


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """The tarball installed, without Galaxy, into a collections path of its own."""
    cpath = tmp_path_factory.mktemp("fresh") / "collections"
    # --force: a copy installed elsewhere (e.g. ~/.ansible/collections) must not make
    # ansible-galaxy skip this one
    run([GALAXY, "collection", "install", "--offline", "--no-deps", "--force", "-p", str(cpath), str(tarball)],
        env=base_env(ANSIBLE_COLLECTIONS_PATH=str(cpath)))
    cdir = cpath / "ansible_collections" / "linktrack" / "https"
    assert (cdir / "MANIFEST.json").exists()
    return cpath, cdir


def _fresh_env(cpath, **extra):
    # Only the fresh path: the checkout's .tmp/collections link must not be seen.
    # amazon.aws and community.general still come from the venv's ansible package.
    return base_env(ANSIBLE_COLLECTIONS_PATH=str(cpath), **extra)


def test_tarball_content(tarball):
    with tarfile.open(str(tarball)) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    meta = galaxy_meta()
    assert (info["namespace"], info["name"], info["version"]) == (meta["namespace"], meta["name"], meta["version"])
    assert info["dependencies"] == meta["dependencies"]
    for required in ("meta/runtime.yml", "README.md", "requirements.txt", "changelogs/changelog.yaml",
                     "execution-environment.yml"):
        assert required in names, "%s is missing from the tarball" % required
    for name in module_names():
        assert "plugins/modules/%s.py" % name in names
    for path in ("roles/link_domain/meta/argument_specs.yml", "playbooks/setup_link_domain.yml"):
        if os.path.exists(os.path.join(ROOT, path)):
            assert path in names
    bad = [n for n in names if FORBIDDEN_PARTS.intersection(n.split("/")) or n.startswith(FORBIDDEN_PATHS)
           or n.endswith((".pyc", ".tar.gz", ".key"))]
    assert bad == [], "the tarball carries files that must not ship: %s" % bad[:20]
    assert tarball.stat().st_size < 5 * 1024 * 1024


def test_installed_collection_is_listed(installed):
    cpath, cdir = installed
    proc = run([GALAXY, "collection", "list", COLLECTION, "--format", "json", "-p", str(cpath)],
               env=_fresh_env(cpath))
    listing = json.loads(proc.stdout)
    found = {path: colls for path, colls in listing.items() if COLLECTION in colls}
    assert str(cpath / "ansible_collections") in found, listing
    assert found[str(cpath / "ansible_collections")][COLLECTION]["version"] == galaxy_meta()["version"]


def test_ansible_doc_from_the_install(installed):
    cpath, cdir = installed
    names = module_names(str(cdir))
    if not names:
        pytest.skip("no modules in plugins/modules yet")
    proc = run([DOC, "--json", "-t", "module"] + ["%s.%s" % (COLLECTION, n) for n in names], env=_fresh_env(cpath))
    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted("%s.%s" % (COLLECTION, n) for n in names)
    for fqcn, data in docs.items():
        doc = data["doc"]
        assert doc["filename"].startswith(str(cdir)), "%s documented from %s, not the install" % (fqcn, doc["filename"])
        assert doc.get("short_description") and doc.get("options"), fqcn
        assert data.get("examples"), "%s has no EXAMPLES" % fqcn
        assert data.get("return"), "%s has no RETURN" % fqcn
    # and the plain text rendering works (what a user types)
    text = run([DOC, "%s.%s" % (COLLECTION, names[0])], env=_fresh_env(cpath)).stdout
    assert names[0] in text and "OPTIONS" in text


def test_role_doc_from_the_install(installed):
    cpath, cdir = installed
    if not (cdir / "roles" / "link_domain" / "meta" / "argument_specs.yml").exists():
        pytest.skip("roles/link_domain has no meta/argument_specs.yml yet")
    proc = run([DOC, "--json", "-t", "role", "%s.link_domain" % COLLECTION], env=_fresh_env(cpath))
    data = json.loads(proc.stdout)["%s.link_domain" % COLLECTION]
    assert data["path"].startswith(str(cdir))
    main = data["entry_points"]["main"]
    assert "link_domain_name" in main["options"]


def test_execution_environment_introspection_finds_our_requirements(installed):
    cpath, cdir = installed
    proc = run([os.path.join(VENV_BIN, "ansible-builder"), "introspect", "--sanitize", str(cpath)], env=base_env())
    for dep in ("boto3", "botocore", "dnspython", "cryptography"):
        assert "# from collection linktrack.https" in proc.stdout
        assert any(line.strip().lstrip("- '").startswith(dep) and "linktrack.https" in line
                   for line in proc.stdout.splitlines()), "%s not introspected:\n%s" % (dep, proc.stdout)


def test_setup_playbook_from_the_install(installed, sandbox_env, tmp_path):
    """linktrack.https.setup_link_domain, as installed from the tarball, against the
    sandbox: a first run that changes, a second that does not, then the teardown."""
    cpath, cdir = installed
    if not (cdir / "playbooks" / "setup_link_domain.yml").exists():
        pytest.skip("playbooks/setup_link_domain.yml is not there yet")
    domain = "tarball-%x.example.com" % (os.getpid() & 0xfffff)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        "tracking_domains:\n  hosts:\n    %s:\n      link_domain_dns_provider: route53\n"
        "      link_domain_dns_record_type: cname\n      link_domain_teardown_confirm: %s\n" % (domain, domain))
    env = _fresh_env(cpath, SANDBOX_ENV_FILE=os.environ["SANDBOX_ENV_FILE"])
    playbook = os.path.join(VENV_BIN, "ansible-playbook")
    common = ["-i", str(inventory), "-e", "@%s" % (cdir / "playbooks" / "vars" / "sandbox.yml")]

    first = run([playbook, "-vv", "linktrack.https.setup_link_domain"] + common, env=env, cwd=str(tmp_path))
    # the role ran from the install, not from the checkout
    paths = [line for line in first.stdout.splitlines() if line.startswith("task path: ")]
    assert paths and all(str(cdir) in line for line in paths), paths[:5]
    counts = _recap(first.stdout, domain)
    assert counts["failed"] == 0 and counts["changed"] > 0, counts

    second = run([playbook, "linktrack.https.setup_link_domain"] + common, env=env, cwd=str(tmp_path))
    counts = _recap(second.stdout, domain)
    assert counts["failed"] == 0 and counts["changed"] == 0, counts

    third = run([playbook, "linktrack.https.teardown_link_domain"] + common, env=env, cwd=str(tmp_path))
    counts = _recap(third.stdout, domain)
    assert counts["failed"] == 0 and counts["changed"] > 0, counts


def _recap(stdout, host):
    """The PLAY RECAP counters of ``host`` (ok, changed, failed...) as integers."""
    for line in stdout.split("PLAY RECAP")[-1].splitlines():
        if line.split(" ", 1)[0] == host:
            return dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", line))
    raise AssertionError("no PLAY RECAP line for %s:\n%s" % (host, stdout[-3000:]))
