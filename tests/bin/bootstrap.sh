#!/usr/bin/env bash
# Installs everything the demo and the tests need, on a fresh Debian machine:
#   - Debian packages (BIND 9 and its tools, openssl, rsync, shellcheck), when missing;
#   - one virtual environment per supported Ansible line (tests/bin/legs.sh):
#       oldest: .venv             Python 3.11, tests/requirements/venv.txt        (ansible 12)
#       newest: .tmp/venv-newest  Python 3.12, tests/requirements/venv-newest.txt (ansible 14)
#     Each holds the PyPI `ansible` package of its line, which brings that
#     line's collection dependencies (Ansible Galaxy is not reachable from the
#     build machines);
#   - the collection tree ansible-playbook, molecule and ansible-lint use.
#
# Usage: bootstrap.sh [LEG...]     (default: both legs; `make demo` asks for its leg only)
# The interpreters: LINKTRACK_PYTHON311 and LINKTRACK_PYTHON312 (see tests/bin/legs.sh).
# A missing Python 3.12 is an error (exit 1) with the reason, not a skipped leg:
# `make test` needs both legs.
# Safe to run again: each part is skipped when it is already in place.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=tests/bin/legs.sh
. tests/bin/legs.sh
legs=("$@")
[ ${#legs[@]} -eq 0 ] && read -r -a legs <<< "$LEGS_ALL"
for leg in "${legs[@]}"; do leg_check "$leg" || exit 2; done

say() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Debian packages ---------------------------------------------------------
need_apt=()
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || need_apt+=(bind9)
command -v nsupdate >/dev/null 2>&1 || need_apt+=(bind9-utils bind9-dnsutils)
command -v tsig-keygen >/dev/null 2>&1 || [ -x /usr/sbin/tsig-keygen ] || need_apt+=(bind9-utils)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
# ansible-test sanity runs its shellcheck test only where shellcheck is installed
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq || die "apt-get update failed; check the network to Debian's mirrors"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null \
    || die "apt-get install ${need_apt[*]} failed"
fi

# --- one virtual environment per leg ---------------------------------------------
make_venv() {  # make_venv LEG
  local leg=$1 venv req py want stamp ver have
  venv=$(leg_venv "$ROOT" "$leg"); req=$(leg_requirements "$leg"); ver=$(leg_pyversion "$leg")
  stamp=$venv/.requirements.sha256
  want=$(sha256sum "$req" | cut -d' ' -f1)
  have=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
  if [ "$have" = "$ver" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  local why; why=$(mktemp)
  if ! py=$(leg_python "$leg" 2>"$why"); then
    sed 's/^/[bootstrap] /' "$why" >&2; rm -f "$why"
    die "the $leg leg needs Python $ver (see above); make test runs both legs"
  fi
  sed 's/^/[bootstrap] /' "$why"; rm -f "$why"
  if [ -n "$have" ] && [ "$have" != "$ver" ]; then
    say "$venv is Python $have, the $leg leg needs $ver: making it again"
    rm -rf "$venv"
  fi
  say "$leg leg: creating $venv with $py from $req (a few minutes the first time)"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv" || die "python -m venv failed for $venv"
  "$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  "$venv/bin/python" -m pip install -q -r "$req" 2>&1 | grep -v "^WARNING: Location" || true
  "$venv/bin/python" -m pip check >/dev/null 2>&1 || say "note: pip check reports conflicts (see '$venv/bin/pip check')"
  "$venv/bin/python" -c "import ansible, boto3, moto, dns, cryptography" || die "$venv is incomplete (pip install -r $req failed?)"
  echo "$want" > "$stamp"
}
# The legs' venvs are made at the same time (most of it is download and unpacking);
# each leg's output is shown when it is done, and any leg that failed fails the bootstrap.
vlog=$(mktemp -d)
for leg in "${legs[@]}"; do
  ( make_venv "$leg" ) > "$vlog/$leg.log" 2>&1 &
  echo $! > "$vlog/$leg.pid"
done
vfail=()
for leg in "${legs[@]}"; do
  wait "$(cat "$vlog/$leg.pid")" || vfail+=("$leg")
  cat "$vlog/$leg.log"
done
rm -rf "$vlog"
[ ${#vfail[@]} -eq 0 ] || die "could not make the venv of: ${vfail[*]} (see above)"

# --- collection trees -----------------------------------------------------------
# 1. .tmp/collections: for ansible-playbook, molecule and ansible-lint on either
#    leg; it holds only this collection (a link to the checkout, so edits show at
#    once); the dependencies come from the running leg's own `ansible` package.
mkdir -p .tmp/collections/ansible_collections/linktrack
ln -sfn "$ROOT" .tmp/collections/ansible_collections/linktrack/https

# 2. ansible-test needs a real directory ending in ansible_collections/linktrack/https,
#    with the leg's dependency collections beside it: tests/bin/sync-test-tree.sh LEG refreshes it.

# ansible-test sanity --venv downloads get-pip, which this network cannot reach;
# a stand-in that uses ensurepip does the same job offline, under the name each
# leg's ansible-test asks for (the pip version in get_venv_packages() of its
# ansible_test/_internal/python_requirements.py; read as text, not imported).
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
for leg in "${legs[@]}"; do
  venv=$(leg_venv "$ROOT" "$leg")
  pipvers=$(grep -hoE "pip='[0-9]+\.[0-9]+(\.[0-9]+)?'" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py 2>/dev/null \
    | grep -oE '[0-9.]+' | sort -u || true)
  [ -n "$pipvers" ] || say "warning: could not find the pip version the $leg leg's ansible-test wants; sanity --venv may try a download"
  for v in $pipvers; do
    cp tests/bin/get_pip_standin.py "$cache/get_pip_${v//./_}.py"
  done
done
for leg in "${legs[@]}"; do
  venv=$(leg_venv "$ROOT" "$leg")
  say "ready: $leg leg in $venv: $("$venv/bin/python" -c 'import ansible.release, platform; print("ansible-core %s, Python %s" % (ansible.release.__version__, platform.python_version()))') from $(sed -n 's/^home = //p' "$venv/pyvenv.cfg")"
done
