#!/usr/bin/env bash
# Installs everything the demo and the tests need, on a fresh Debian machine:
#   - Debian packages (BIND 9 and its tools, openssl, rsync), when missing;
#   - the project-local virtual environment .venv from tests/requirements/venv.txt
#     (the PyPI `ansible` package brings the collection dependencies, because
#     Ansible Galaxy is not reachable from the build machines);
#   - the collection trees ansible-playbook and ansible-test need.
# Safe to run again: each part is skipped when it is already in place.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV=$ROOT/.venv
REQ=tests/requirements/venv.txt

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

# --- virtual environment -------------------------------------------------------
stamp=$VENV/.requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating $VENV from $REQ (a few minutes the first time)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || die "python venv failed"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null || die "pip upgrade failed"
  "$VENV/bin/python" -m pip install -q -r "$REQ" 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -m pip check >/dev/null 2>&1 || say "note: pip check reports conflicts (see '$VENV/bin/pip check')"
  "$VENV/bin/python" -c "import ansible, boto3, moto, dns, cryptography" || die "the virtual environment is incomplete"
  echo "$want" > "$stamp"
fi

# --- collection trees -----------------------------------------------------------
# 1. .tmp/collections: for ansible-playbook, molecule and ansible-lint; the
#    collection is a link to this checkout, so edits show at once.
SITE=$("$VENV/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__file__) if ansible_collections.__file__ else list(ansible_collections.__path__)[0])' 2>/dev/null \
  || "$VENV/bin/python" -c 'import ansible_collections; print(list(ansible_collections.__path__)[0])')
mkdir -p .tmp/collections/ansible_collections/linktrack
ln -sfn "$ROOT" .tmp/collections/ansible_collections/linktrack/https

# 2. ansible-test needs a real directory ending in ansible_collections/linktrack/https,
#    with the dependency collections beside it: tests/bin/sync-test-tree.sh refreshes it.

# ansible-test sanity --venv downloads get-pip, which this network cannot reach;
# a stand-in that uses ensurepip does the same job offline.
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
for v in 24_2 24_0 23_1 25_0 25_1; do
  cp tests/bin/get_pip_standin.py "$cache/get_pip_$v.py"
done
say "ready: $VENV (collections from $SITE)"
