#!/usr/bin/env bash
# The newest ansible-core leg: sanity and unit tests of the collection under
# ansible-core 2.21.x on Python 3.12, in a second virtual environment
# (.tmp/venv-newest-core), beside the main leg (ansible-core 2.19, Python 3.11).
#
# Usage: bash tests/bin/newest-core.sh [sanity] [units]     (default: both)
#   NEWEST_CORE_PYTHON  the Python 3.12 to use (default /root/.pyenv/versions/3.12.1/bin/python)
# Exit codes: 0 passed, 1 failed, 77 skipped because that Python is missing
# (the message says so; run-tests.sh counts 77 as a skipped stage).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PY=${NEWEST_CORE_PYTHON:-/root/.pyenv/versions/3.12.1/bin/python}
VENV2=$ROOT/.tmp/venv-newest-core
REQ=tests/requirements/newest-core.txt

say() { printf '[newest-core] %s\n' "$*"; }
die() { printf '[newest-core] ERROR: %s\n' "$*" >&2; exit 1; }

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(sanity units)
for s in "${steps[@]}"; do
  case "$s" in sanity|units) ;; *) die "unknown step '$s' (sanity, units)" ;; esac
done

if [ ! -x "$PY" ]; then
  printf '\n********************************************************************\n'
  printf '* SKIPPED: newest ansible-core leg (2.21 on Python 3.12)             *\n'
  printf '* %-66s *\n' "$PY is missing;" "set NEWEST_CORE_PYTHON to a Python 3.12 to run it."
  printf '********************************************************************\n\n'
  exit 77
fi
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$pyver" = 3.12 ] || die "$PY is Python $pyver; this leg needs 3.12"
[ -x "$ROOT/.venv/bin/python" ] || die "the main venv is missing: run 'bash tests/bin/bootstrap.sh' first"

# --- the second venv -------------------------------------------------------------------
stamp=$VENV2/.requirements.sha256
want=$( (sha256sum "$REQ"; echo "$PY") | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV2/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating $VENV2 with $PY from $REQ"
  rm -rf "$VENV2"
  "$PY" -m venv "$VENV2" || die "python -m venv failed"
  "$VENV2/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV2/bin/python" -m pip install -q -r "$REQ" 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV2/bin/python" -c 'import ansible, boto3, dns, cryptography' || die "the venv is incomplete"
  echo "$want" > "$stamp"
fi
core=$("$VENV2/bin/python" -c 'import ansible.release; print(ansible.release.__version__)')
say "ansible-core $core on Python $("$VENV2/bin/python" -c 'import platform; print(platform.python_version())')"

# ansible-test --venv fetches get-pip, which this network cannot reach: the same
# offline stand-in bootstrap.sh installs, under every name this ansible-test may ask for.
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
# The pip version comes from get_venv_packages() in ansible_test/_internal/python_requirements.py.
pipvers=$(grep -hoE "pip='[0-9]+\.[0-9]+(\.[0-9]+)?'" "$VENV2"/lib/python3.12/site-packages/ansible_test/_internal/python_requirements.py \
  | grep -oE '[0-9.]+' | sort -u)
[ -n "$pipvers" ] || say "warning: could not find the pip version ansible-test wants; --venv may try a download"
for v in $pipvers; do
  f=$cache/get_pip_$(echo "$v" | tr . _).py
  cmp -s tests/bin/get_pip_standin.py "$f" || cp tests/bin/get_pip_standin.py "$f"
done

# --- a private ansible-test tree (the main leg's copy is left alone) -----------------------
export TMPDIR=${TMPDIR:-/tmp}/linktrack-newest-core
mkdir -p "$TMPDIR"
D=$(bash tests/bin/sync-test-tree.sh) || die "tests/bin/sync-test-tree.sh failed"
export PATH=$VENV2/bin:$PATH ANSIBLE_NOCOLOR=1 PYTHONDONTWRITEBYTECODE=1

rc=0
for s in "${steps[@]}"; do
  start=$(date +%s)
  case "$s" in
    sanity)
      if ls "$D"/tests/sanity/ignore-*.txt >/dev/null 2>&1; then
        say "tests/sanity/ignore-*.txt exists: the project allows no ignore entries"; rc=1; continue
      fi
      say "ansible-test sanity --venv --python 3.12"
      ( cd "$D" && ansible-test sanity --venv --python 3.12 --color no ) || rc=1 ;;
    units)
      if ! find "$D/tests/unit" -name 'test_*.py' 2>/dev/null | grep -q .; then
        say "no unit tests found"; rc=1; continue
      fi
      say "ansible-test units --venv --python 3.12"
      ( cd "$D" && ansible-test units --venv --python 3.12 --color no ) || rc=1 ;;
  esac
  say "$s: rc so far $rc, $(( $(date +%s) - start ))s"
done
if [ "$rc" -eq 0 ]; then say "passed (ansible-core $core, Python 3.12)"; else say "FAILED (ansible-core $core, Python 3.12)"; fi
exit $rc
