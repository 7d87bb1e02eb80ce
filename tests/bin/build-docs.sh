#!/usr/bin/env bash
# Builds the linktrack.https docs site into build/docs/html, offline:
#   1. antsibull-docs lint-collection-docs --plugin-docs   (must report nothing)
#   2. antsibull-docs sphinx-init + collection             (module and role pages
#      generated from DOCUMENTATION / EXAMPLES / RETURN and meta/argument_specs.yml)
#   3. the Markdown guides of docs/ added to the same site (MyST)
#   4. sphinx-build -W (any warning fails the build)
# Sphinx, the Ansible theme and MyST come from tests/requirements/venv.txt.
# Nothing is fetched from the network: intersphinx is switched off.
#
# Usage: bash tests/bin/build-docs.sh [--no-lint | --lint-only] [--collection-dir DIR]
#   DOCS_OUT=/path  where to build (default: <checkout>/build/docs)
#   --collection-dir DIR  document the collection found at DIR (a directory ending
#                         in ansible_collections/linktrack/https, for example an
#                         installed release tarball); default: this checkout.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${VENV:-$ROOT/.venv}
OUT=${DOCS_OUT:-$ROOT/build/docs}
COLLECTION=linktrack.https
LINT=1
LINT_ONLY=0
COLL_DIR=

say() { printf "[build-docs] %4ss %s\n" "$SECONDS" "$*"; }
die() { printf '[build-docs] ERROR: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --no-lint) LINT=0 ;;
    --lint-only) LINT_ONLY=1 ;;
    --collection-dir) COLL_DIR=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

[ -x "$VENV/bin/antsibull-docs" ] || die "$VENV/bin/antsibull-docs is missing: run 'bash tests/bin/bootstrap.sh' first"
"$VENV/bin/python" -c 'import sphinx_ansible_theme, myst_parser' 2>/dev/null \
  || die "sphinx-ansible-theme or myst-parser is missing from $VENV: run 'bash tests/bin/bootstrap.sh'"
export PATH=$VENV/bin:$PATH
export ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=0 PYTHONDONTWRITEBYTECODE=1

if [ -z "$COLL_DIR" ]; then
  COLL_DIR=$ROOT/.tmp/collections/ansible_collections/linktrack/https
  [ -e "$COLL_DIR" ] || die "$COLL_DIR is missing: run 'bash tests/bin/bootstrap.sh' first"
fi
COLL_DIR=$(cd "$COLL_DIR" && pwd)
case "$COLL_DIR" in
  */ansible_collections/linktrack/https) ;;
  *) die "--collection-dir must end in ansible_collections/linktrack/https, got $COLL_DIR" ;;
esac
# The collections tree holding the collection comes first; the dependency
# collections (amazon.aws, ...) come from the venv's ansible package.
export ANSIBLE_COLLECTIONS_PATH=${COLL_DIR%/ansible_collections/linktrack/https}
GUIDES_DIR=$ROOT/docs
[ -d "$COLL_DIR/docs" ] && GUIDES_DIR=$COLL_DIR/docs

start=$(date +%s)

# 1. lint -----------------------------------------------------------------------
# lint-collection-docs copies the collection and its dependencies to a temporary
# tree before it runs ansible-doc there; a source inside a git checkout is copied
# with `git ls-files`, so collections under this checkout's .venv (ignored by git)
# would arrive empty. Lint a copy outside any checkout, with real copies of the
# dependencies beside it.
if [ "$LINT" = 1 ]; then
  LINT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/linktrack-docs-lint.XXXXXX")
  trap 'rm -rf "$LINT_DIR"' EXIT
  LINT_TREE=$LINT_DIR/ansible_collections
  mkdir -p "$LINT_TREE/linktrack/https"
  rsync -a --exclude /.git --exclude /.venv --exclude /.tmp --exclude /.cache --exclude /build \
    --exclude /tests/output --exclude __pycache__ --exclude '*.pyc' --exclude '/*.tar.gz' \
    "$COLL_DIR/" "$LINT_TREE/linktrack/https/"
  # community.general is only used by the role's tasks (nsupdate); no module
  # documentation refers to it, and copying its ~1000 plugins makes the lint
  # several times slower. LINT_SKIP_DEPS="" copies every dependency.
  "$VENV/bin/python" - "$COLL_DIR" "$LINT_TREE" "${LINT_SKIP_DEPS-community.general}" <<'PY' \
    || die "could not copy the dependency collections"
import json, os, shutil, subprocess, sys
import yaml
coll, tree, skip = sys.argv[1], sys.argv[2], sys.argv[3].split()
meta = os.path.join(coll, "galaxy.yml")
deps = (yaml.safe_load(open(meta)) if os.path.exists(meta)
        else json.load(open(os.path.join(coll, "MANIFEST.json")))["collection_info"]).get("dependencies") or {}
listing = json.loads(subprocess.run(["ansible-galaxy", "collection", "list", "--format", "json"],
                                    capture_output=True, text=True, check=True).stdout)
for dep in sorted(set(deps) - set(skip)):
    ns, name = dep.split(".")
    for path, colls in listing.items():  # in precedence order
        if dep in colls:
            shutil.copytree(os.path.join(path, ns, name), os.path.join(tree, ns, name), symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "tests"))
            break
    else:
        sys.exit("dependency %s is not installed" % dep)
PY
  say "antsibull-docs lint-collection-docs --plugin-docs (a copy of $COLL_DIR)"
  ( cd "$LINT_DIR" && ANSIBLE_COLLECTIONS_PATH=$LINT_DIR antsibull-docs lint-collection-docs --plugin-docs \
      "$LINT_TREE/linktrack/https" )
fi

if [ "$LINT_ONLY" = 1 ]; then
  [ "$LINT" = 1 ] || die "--lint-only and --no-lint contradict each other"
  say "lint passed"
  exit 0
fi

# 2. the Sphinx project and the generated RST ---------------------------------------
rm -rf "$OUT"
mkdir -p "$OUT"
SRC=$OUT/src
mkdir -m 700 "$SRC"   # antsibull-docs only writes to directories only its owner can write
version=$("$VENV/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$COLL_DIR/galaxy.yml" 2>/dev/null \
  || "$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' "$COLL_DIR/MANIFEST.json")
say "antsibull-docs sphinx-init ($COLLECTION $version)"
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error \
  --no-add-antsibull-docs-version \
  --dest-dir "$SRC" \
  --project "$COLLECTION" \
  --copyright "linktrack.https contributors" \
  --title "linktrack.https $version" \
  --html-short-title "linktrack.https" \
  "$COLLECTION" >/dev/null

# Offline: the generated conf.py points intersphinx at docs.python.org and
# docs.ansible.com; no inventories can be fetched here, so links to those sites
# stay plain text. MyST lets the Markdown guides join the site.
cat >> "$SRC/conf.py" <<'EOF'

# --- added by tests/bin/build-docs.sh -------------------------------------------
intersphinx_mapping = {}
extensions.append('myst_parser')
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
myst_heading_anchors = 3
myst_enable_extensions = ['deflist']
# Guides link to files of the repository (playbooks, roles...) that are not part
# of the site; GitHub resolves those links, Sphinx cannot.
suppress_warnings = ['myst.xref_missing']


def _offline_external_ref(app, env, node, contnode):
    # Without intersphinx, references to docs.ansible.com labels (core settings,
    # other collections' plugins) cannot resolve: show them as plain text.
    # References inside this collection still have to resolve, or -W fails.
    target = node.get('reftarget') or ''
    if node.get('refdomain') == 'std' and not target.startswith('ansible_collections.linktrack.https.'):
        return contnode
    return None


def setup(app):
    app.connect('missing-reference', _offline_external_ref)
EOF

chmod og-w "$SRC/rst"
say "antsibull-docs collection"
antsibull-docs --config-file "$SRC/antsibull-docs.cfg" collection \
  --cleanup everything --fail-on-error --use-current --squash-hierarchy \
  --dest-dir "$SRC/rst" "$COLLECTION" >/dev/null

# 3. the guides -------------------------------------------------------------------------
guides=()
if [ -d "$GUIDES_DIR" ]; then
  while IFS= read -r -d '' f; do guides+=("$f"); done \
    < <(find "$GUIDES_DIR" -maxdepth 1 -name '*.md' -print0 | sort -z)
fi
if [ ${#guides[@]} -gt 0 ]; then
  mkdir -p "$SRC/rst/guides"
  for f in "${guides[@]}"; do cp "$f" "$SRC/rst/guides/"; done
  {
    printf 'Guides\n======\n\n.. toctree::\n   :maxdepth: 1\n\n'
    for f in "${guides[@]}"; do b=$(basename "$f" .md); printf '   %s\n' "$b"; done
  } > "$SRC/rst/guides/index.rst"
  printf '\n.. toctree::\n   :maxdepth: 1\n   :caption: Guides\n\n   guides/index\n' >> "$SRC/rst/index.rst"
  say "added ${#guides[@]} guide(s) from $GUIDES_DIR"
fi

# 4. HTML --------------------------------------------------------------------------------
say "sphinx-build -W"
sphinx-build -q -b html -W --keep-going -c "$SRC" "$SRC/rst" "$OUT/html"
[ -s "$OUT/html/index.html" ] || die "sphinx-build wrote no $OUT/html/index.html"
pages=$(find "$OUT/html" -name '*.html' | wc -l)
say "done in $(( $(date +%s) - start ))s: $pages HTML pages in $OUT/html"
