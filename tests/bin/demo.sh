#!/usr/bin/env bash
# `make demo`: the setup playbook against the local sandbox, twice, then what it made.
#  1. starts the sandbox (or uses the one you already started, and leaves it up);
#  2. runs playbooks/setup_link_domain.yml for the sample domains of
#     playbooks/inventories/sandbox.yml (US: Route 53 alias; EU: RFC 2136 CNAME in BIND);
#  3. runs it again and reports how many tasks changed (0 expected);
#  4. reads back from the sandbox what exists now (tests/bin/demo_summary.py);
#  5. stops the sandbox if it started it.
# LEG=oldest (default: ansible 12, ansible-core 2.19, .venv) or LEG=newest
# (ansible 14, ansible-core 2.21, .tmp/venv-newest) picks the Ansible it runs
# with (tests/bin/legs.sh); the sandbox runs in the same virtual environment.
# Fails with a non-zero exit and the reason when any step fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=tests/bin/legs.sh
. tests/bin/legs.sh
LEG=${LEG:-oldest}
leg_check "$LEG"
VENV=$(leg_venv "$ROOT" "$LEG")
[ -x "$VENV/bin/ansible-playbook" ] || { echo "[demo] ERROR: the $LEG leg's venv $VENV is missing: run 'bash tests/bin/bootstrap.sh $LEG'" >&2; exit 1; }
export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$ROOT/.tmp/collections
export ANSIBLE_NOCOLOR=1 PYTHONDONTWRITEBYTECODE=1
export SANDBOX_ENV_FILE=${SANDBOX_ENV_FILE:-$ROOT/sandbox/sandbox.env}
INVENTORY=playbooks/inventories/sandbox.yml
mapfile -t DOMAINS < <("$VENV/bin/python" - "$INVENTORY" <<'PY'
import sys, yaml
print("\n".join(yaml.safe_load(open(sys.argv[1]))["tracking_domains"]["hosts"]))
PY
)
LOG=$ROOT/tests/output/demo
mkdir -p "$LOG"
say() { printf '\n[demo] %s\n' "$*"; }

started=
if "$VENV/bin/python" sandbox/sandbox.py status >/dev/null 2>&1; then
  say "using the sandbox that is already running (it stays up afterwards)"
else
  say "starting the sandbox"
  "$VENV/bin/python" sandbox/sandbox.py up
  started=1
fi
cleanup() { if [ -n "$started" ]; then say "stopping the sandbox"; "$VENV/bin/python" sandbox/sandbox.py down; fi; }
trap cleanup EXIT

run_playbook() {  # $1 = label
  local rc=0
  ansible-playbook -i "$INVENTORY" -e @playbooks/vars/sandbox.yml playbooks/setup_link_domain.yml \
    2>&1 | tee "$LOG/$1.log" || rc=$?
  [ "$rc" -eq 0 ] || { echo "[demo] ERROR: the $1 run failed (rc=$rc); its output is in $LOG/$1.log" >&2; exit "$rc"; }
}
changed_total() { awk '/^PLAY RECAP/ {r=1; next} r && /changed=/ { for (i=1;i<=NF;i++) if ($i ~ /^changed=/) { split($i,a,"="); s+=a[2] } } END { print s+0 }' "$1"; }

say "Ansible: $("$VENV/bin/python" -c 'import ansible.release, platform; print("ansible-core %s, Python %s" % (ansible.release.__version__, platform.python_version()))') ($LEG leg, $VENV)"
say "first run: ansible-playbook -i $INVENTORY -e @playbooks/vars/sandbox.yml playbooks/setup_link_domain.yml"
run_playbook first
say "second run of the same command (a no-op is expected)"
run_playbook second
first_changed=$(changed_total "$LOG/first.log")
second_changed=$(changed_total "$LOG/second.log")

say "what the sandbox holds now (read back from the emulator, the DNS servers and the edge):"
summary_rc=0
"$VENV/bin/python" tests/bin/demo_summary.py "$SANDBOX_ENV_FILE" "${DOMAINS[@]}" || summary_rc=$?
echo
echo "[demo] changed tasks: first run $first_changed, second run $second_changed"
if [ "$second_changed" -ne 0 ]; then
  echo "[demo] ERROR: the second run changed $second_changed task(s); it must change nothing" >&2
  exit 1
fi
if [ "$summary_rc" -ne 0 ]; then
  echo "[demo] ERROR: not every domain is served as it should be (see above)" >&2
  exit 1
fi
echo "[demo] still to do by a person, in Iterable (no API exists): see the 'Iterable' block in $LOG/first.log"
