#!/usr/bin/env bash
# Usage: sync-test-tree.sh [LEG [TAG]]  (oldest or newest, default oldest; see tests/bin/legs.sh)
# Copies this checkout to $TMPDIR/linktrack-ansible-test-<id>-<LEG>[-TAG]/ansible_collections/linktrack/https
# and copies the dependency collections of that leg's `ansible` package (its
# own amazon.aws and community.general, and what they depend on) beside it. Prints the path. ansible-test
# wants a real directory at a path ending in ansible_collections/NAMESPACE/NAME;
# it must lie outside this git checkout, or ansible-test asks git for the file
# list and sees nothing. One tree per leg, so that each leg tests against its
# own dependencies. TAG names a further tree of the same leg, for stages that
# run at the same time (tests/bin/run-tests.sh gives its lanes their own).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/bin/legs.sh
. "$ROOT/tests/bin/legs.sh"
LEG=${1:-oldest}
TAG=${2:-}
leg_check "$LEG"
case $TAG in ''|*[!a-z0-9]*) [ -z "$TAG" ] || { echo "sync-test-tree.sh: TAG must be lower-case letters and digits, not '$TAG'" >&2; exit 2; } ;; esac
VENV=$(leg_venv "$ROOT" "$LEG")
[ -x "$VENV/bin/python" ] || { echo "the $LEG leg's venv $VENV is missing: run 'bash tests/bin/bootstrap.sh $LEG'" >&2; exit 1; }
ID=$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)
DEST=${TMPDIR:-/tmp}/linktrack-ansible-test-$ID-$LEG${TAG:+-$TAG}/ansible_collections
SITE=$("$VENV/bin/python" -c 'import ansible_collections; print(list(ansible_collections.__path__)[0])')
mkdir -p "$DEST/linktrack/https"
rsync -a --delete \
  --exclude /.git --exclude /.venv --exclude /.tmp --exclude /.cache --exclude /build \
  --exclude /tests/output --exclude /sandbox/.state --exclude /sandbox/sandbox.env \
  --exclude __pycache__ --exclude '*.pyc' --exclude /.ansible --exclude '/*.tar.gz' \
  "$ROOT/" "$DEST/linktrack/https/" >&2
# The collections galaxy.yml depends on, and what they depend on in turn (their
# MANIFEST.json), from the leg's `ansible` package: community.general 13, for
# one, needs community.library_inventory_filtering_v1.
mapfile -t DEPS < <("$VENV/bin/python" - "$ROOT/galaxy.yml" "$SITE" <<'PY'
import json, os, sys
import yaml
todo = list(yaml.safe_load(open(sys.argv[1]))["dependencies"])
seen = []
while todo:
    name = todo.pop(0)
    if name in seen:
        continue
    seen.append(name)
    manifest = os.path.join(sys.argv[2], *name.split(".")) + "/MANIFEST.json"
    if os.path.exists(manifest):
        with open(manifest) as handle:
            todo += list(json.load(handle)["collection_info"].get("dependencies") or {})
print("\n".join(name.replace(".", "/") for name in seen))
PY
)
# Real copies, not links: the venv lies inside this git checkout (and is ignored
# there), and tools such as antsibull-docs copy a collection "by git" when its
# path is inside a repository, which would leave the dependency empty.
for dep in "${DEPS[@]}"; do
  ns=${dep%/*}
  [ -d "$SITE/$dep" ] || { echo "$SITE/$dep is missing from the $LEG leg's ansible package" >&2; exit 1; }
  mkdir -p "$DEST/$ns"
  [ -L "$DEST/$dep" ] && rm -f "$DEST/$dep"
  rsync -a --delete --exclude __pycache__ "$SITE/$dep/" "$DEST/$dep/" >&2
done
echo "$DEST/linktrack/https"
