#!/usr/bin/env bash
# The test suite of linktrack.https, stage by stage, on the two supported
# Ansible lines (tests/bin/legs.sh): the oldest (ansible 12: ansible-core 2.19,
# amazon.aws 10, community.general 11, Python 3.11, .venv) and the newest
# (ansible 14: ansible-core 2.21, amazon.aws 11, community.general 13,
# Python 3.12, .tmp/venv-newest).
#   tests/bin/run-tests.sh all            every stage, in order (what `make test` and CI run)
#   tests/bin/run-tests.sh STAGE [...]    only those stages
# Leg stages run once per leg: units sanity lint docs-lint integration molecule.
#   STAGE           on every leg in $LEGS (default: "oldest newest")
#   STAGE@LEG       on that leg only, e.g. integration@newest
#   oldest, newest  every leg stage on that leg
# Stages that are not about the Ansible line run once, in .venv: sandbox docs contract reliability migration.
# Every stage that fails is reported at the end; the exit code is non-zero if any failed.
# A leg whose venv is missing fails its stages (run tests/bin/bootstrap.sh): a leg is never skipped.
# Stages that need the sandbox start a private instance per leg (own ports and
# state directory: TEST_SANDBOX_DIR and TEST_SANDBOX_PORT_BASE for the oldest
# leg and the stages without a leg, TEST_SANDBOX_DIR-newest and the base + 500
# for the newest) and stop them again, so a sandbox you started yourself is left
# alone. integration and molecule run on both legs at once (RUN_TESTS_PARALLEL_LEGS=0: one after the other).
# `all` runs the quick stages in order and, beside them, the sandbox stages in
# lanes at the same time, each with its own sandbox (RUN_TESTS_LANES=0: all in order).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=tests/bin/legs.sh
. tests/bin/legs.sh
VENV=$ROOT/.venv
export PATH=$VENV/bin:$PATH
LEGS=${LEGS:-$LEGS_ALL}
LEG_STAGES="units sanity lint docs-lint integration molecule"
export ANSIBLE_COLLECTIONS_PATH=$ROOT/.tmp/collections
export PYTHONDONTWRITEBYTECODE=1
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
# Nothing in the tests may reach real AWS: without an endpoint, boto3 fails on the closed network anyway.
export AWS_EC2_METADATA_DISABLED=true

LOGDIR=${RUN_TESTS_LOGDIR:-$ROOT/tests/output/run-tests}
mkdir -p "$LOGDIR"
TEST_SANDBOX_DIR=${TEST_SANDBOX_DIR:-$ROOT/.tmp/test-sandbox}
export TEST_SANDBOX_ENV=$TEST_SANDBOX_DIR/sandbox.env
TEST_SANDBOX_PORT_BASE=${TEST_SANDBOX_PORT_BASE:-17000}
# integration and molecule run on both legs at once, each leg against its own
# sandbox: most of their time is spent waiting on the emulator's AWS-like time
# windows, not on the CPU. RUN_TESTS_PARALLEL_LEGS=0 runs them one leg after the other.
RUN_TESTS_PARALLEL_LEGS=${RUN_TESTS_PARALLEL_LEGS:-1}
PARALLEL_STAGES=${RUN_TESTS_PARALLEL_STAGES:-integration molecule}

declare -a PASSED=() FAILED=() SKIPPED=()
hr() { printf '\n==== %s ====\n' "$*"; }

# One private test sandbox per instance: one per leg (the oldest leg's also
# serves the stages that have no leg when they run one after the other), and one
# each for the reliability and contract stages, which run beside the leg stages
# (see "lanes" below). Each has its own ports (TEST_SANDBOX_PORT_BASE plus the
# offset below) and state directory, all run by .venv's Python. Stages run in a
# pipeline or in the background (a subshell), so "this run started the sandbox"
# is a file, not a variable: the EXIT trap of this shell must see it.
SB_INSTANCES="oldest newest reliability contract migration"
sb_offset() { case $1 in oldest) echo 0 ;; newest) echo 500 ;; reliability) echo 1000 ;; contract) echo 1500 ;; migration) echo 2000 ;; *) return 1 ;; esac; }
sb_dir() { if [ "$1" = oldest ]; then echo "$TEST_SANDBOX_DIR"; else echo "$TEST_SANDBOX_DIR-$1"; fi; }
sb_env() { echo "$(sb_dir "$1")/sandbox.env"; }
sb_mark() { echo "$LOGDIR/sandbox-started-$1"; }
rm -f "$LOGDIR"/sandbox-started*
test_sandbox() {  # test_sandbox INSTANCE ARGS...: sandbox.py for that private test sandbox
  local inst=$1 offset; shift
  offset=$(sb_offset "$inst") || { echo "unknown sandbox instance $inst" >&2; return 1; }
  SANDBOX_PORT_BASE=$((TEST_SANDBOX_PORT_BASE + offset)) SANDBOX_STATE_DIR=$(sb_dir "$inst") SANDBOX_ENV_FILE=$(sb_env "$inst") \
    "$VENV/bin/python" sandbox/sandbox.py "$@"
}
sandbox_up() {  # sandbox_up INSTANCE
  test_sandbox "$1" up || return 1
  touch "$(sb_mark "$1")"
}
sandbox_down() {
  local inst
  for inst in $SB_INSTANCES; do
    [ -e "$(sb_mark "$inst")" ] || continue
    test_sandbox "$inst" down
    rm -f "$(sb_mark "$inst")"
  done
}
# the instance a stage without a leg uses: its own while lanes run, else the oldest leg's
solo_instance() { if [ "${RUN_TESTS_IN_LANE:-0}" = 1 ]; then echo "$1"; else echo oldest; fi; }
trap sandbox_down EXIT

# the leg's ansible-test tree; stages in a lane get trees of their own, since the
# quick stages rewrite theirs at the same time
test_tree() { bash tests/bin/sync-test-tree.sh "$1" "$([ "${RUN_TESTS_IN_LANE:-0}" = 1 ] && echo lane)" | tail -n 1; }

# use_leg LEG: the leg's venv first on PATH (the stage functions run in a
# subshell, so this lasts for that stage only); sets LEG_PY (3.11 or 3.12)
use_leg() {
  local venv; venv=$(leg_venv "$ROOT" "$1") || return 1
  if [ ! -x "$venv/bin/ansible-test" ]; then
    echo "the $1 leg's venv ($venv) is missing or incomplete: run 'bash tests/bin/bootstrap.sh $1'" >&2
    return 1
  fi
  export PATH=$venv/bin:$PATH VIRTUAL_ENV=$venv
  LEG_PY=$(leg_pyversion "$1")
  echo "leg $1: $("$venv/bin/python" -c 'import ansible.release, platform; print("ansible-core %s, Python %s" % (ansible.release.__version__, platform.python_version()))'), $venv"
}

# ----------------------------------------------------------------------------
stage_units() {
  use_leg "$1" || return 1
  local d; d=$(test_tree "$1") || return 1
  if ! find "$d/tests/unit" -name 'test_*.py' 2>/dev/null | grep -q .; then echo "no unit tests found" >&2; return 1; fi
  ( cd "$d" && ansible-test units --venv --python "$LEG_PY" --color no )
}

stage_sandbox() {
  # the sandbox's own tests start real processes (moto, BIND, edge, origin), so
  # they run in the project venv, with no skips allowed
  # their own sandboxes sit at TEST_SANDBOX_PORT_BASE + 4000 (+ 100, + 200; see sandbox/tests/conftest.py)
  SANDBOX_TEST_PORT_BASE=${SANDBOX_TEST_PORT_BASE:-$((TEST_SANDBOX_PORT_BASE + 4000))} \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider -rs sandbox/tests | tee "$LOGDIR/sandbox-pytest.txt"
  local rc=${PIPESTATUS[0]}
  if grep -q "skipped" "$LOGDIR/sandbox-pytest.txt"; then echo "sandbox tests were skipped; they must all run here" >&2; return 1; fi
  return "$rc"
}

stage_sanity() {
  use_leg "$1" || return 1
  local d; d=$(test_tree "$1") || return 1
  if ls "$d"/tests/sanity/ignore-*.txt >/dev/null 2>&1; then
    echo "tests/sanity/ignore-*.txt exists: the project allows no ignore entries" >&2
    return 1
  fi
  ( cd "$d" && ansible-test sanity --venv --python "$LEG_PY" --color no )
}

stage_lint() {
  use_leg "$1" || return 1
  # ansible-lint installs this collection into ~/.ansible/collections and keeps
  # an older copy of the same version there; drop it so the checkout is linted
  rm -rf "$HOME/.ansible/collections/ansible_collections/linktrack/https"
  # awx/*.yml use awx.awx, which the `ansible` package no longer ships from 13 on;
  # users install it from Galaxy (docs/awx.md). Here the newest leg lints them
  # with the copy in the oldest leg's ansible 12 (awx.awx 24.6.1, Galaxy's latest).
  local site extra=$ROOT/.tmp/lint-collections-$1
  site=$(python -c 'import ansible_collections; print(list(ansible_collections.__path__)[0])')
  if [ ! -d "$site/awx/awx" ]; then
    local from=$VENV/lib/python3.11/site-packages/ansible_collections/awx/awx
    [ -d "$from" ] || { echo "awx.awx is not in the $1 leg's ansible package, nor in .venv ($from): run 'bash tests/bin/bootstrap.sh oldest'" >&2; return 1; }
    mkdir -p "$extra/ansible_collections/awx"
    ln -sfn "$from" "$extra/ansible_collections/awx/awx"
    export ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH:$extra
    echo "awx.awx $(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' "$from/MANIFEST.json") from $from"
  fi
  ansible-lint --version
  ansible-lint --offline --profile production --nocolor
}

stage_docs_lint() {
  use_leg "$1" || return 1
  local d; d=$(test_tree "$1") || return 1
  # the dependencies must be found in the test tree (see tests/bin/sync-test-tree.sh)
  ( cd "$d" && ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_COLLECTIONS_PATH=$(cd ../../.. && pwd) antsibull-docs lint-collection-docs --plugin-docs . )
}

stage_docs() {
  [ -x tests/bin/build-docs.sh ] || { echo "no docs build script yet"; return 77; }
  # the docs-lint stage lints; this one builds the HTML
  bash tests/bin/build-docs.sh --no-lint
}

write_integration_config() {  # write_integration_config DIR LEG
  test_sandbox "$2" env --format yaml > "$1/tests/integration/integration_config.yml"
}

stage_integration() {
  use_leg "$1" || return 1
  sandbox_up "$1" || return 1
  local d; d=$(test_tree "$1") || return 1
  write_integration_config "$d" "$1" || return 1
  # every target runs, so that one failure does not hide the others (the stage still fails)
  # INTEGRATION_TARGETS="a b" runs only those targets (default: all)
  # shellcheck disable=SC2086
  ( cd "$d" && ansible-test integration --local --python "$LEG_PY" --color no --continue-on-error ${INTEGRATION_TARGETS:-} )
}

stage_molecule() {
  use_leg "$1" || return 1
  sandbox_up "$1" || return 1
  local rc=0 s found=
  for s in roles/link_domain/molecule/*/; do
    [ -f "$s/molecule.yml" ] || continue
    found=1
    s=$(basename "$s")
    hr "molecule test -s $s ($1 leg)"
    # molecule names a scenario's working directory after the scenario alone (~/.ansible/tmp/molecule.*.NAME):
    # one per leg, or the legs running at once share each other's files
    ( cd roles/link_domain && SANDBOX_ENV_FILE=$(sb_env "$1") MOLECULE_EPHEMERAL_DIRECTORY=$ROOT/.tmp/molecule-$1/$s \
        molecule test -s "$s" ) || rc=1
  done
  [ -n "$found" ] || { echo "no molecule scenarios yet"; return 77; }
  return $rc
}

stage_contract() {
  [ -d tests/contract ] || { echo "no contract tests yet"; return 77; }
  local inst; inst=$(solo_instance contract)
  sandbox_up "$inst" || return 1
  SANDBOX_ENV_FILE=$(sb_env "$inst") "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/contract
}

stage_reliability() {
  [ -d tests/reliability ] || { echo "no reliability tests yet"; return 77; }
  local inst; inst=$(solo_instance reliability)
  sandbox_up "$inst" || return 1
  # the click-prober migrations are a stage of their own (they take minutes and run in a lane beside this one)
  SANDBOX_ENV_FILE=$(sb_env "$inst") "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/reliability \
    --ignore=tests/reliability/test_migration.py
}

stage_migration() {
  [ -f tests/reliability/test_migration.py ] || { echo "no migration tests yet"; return 77; }
  local inst; inst=$(solo_instance migration)
  sandbox_up "$inst" || return 1
  SANDBOX_ENV_FILE=$(sb_env "$inst") MIGRATION_FIGURES=$LOGDIR/migration-figures.md \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/reliability/test_migration.py
}

# ----------------------------------------------------------------------------
is_leg_stage() { case " $LEG_STAGES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

stage_fn() {  # stage_fn NAME[@LEG] -> the function, or nothing for an unknown stage
  local base=${1%@*}
  declare -F "stage_${base//-/_}" >/dev/null || return 1
  if [ "$1" != "$base" ]; then is_leg_stage "$base" || return 1; else ! is_leg_stage "$base" || return 1; fi
  echo "stage_${base//-/_}"
}

record() {  # record NAME RC SECONDS
  case $2 in
    0) PASSED+=("$1(${3}s)") ;;
    77) SKIPPED+=("$1(not built yet)") ;;
    *) FAILED+=("$1(rc=$2,${3}s)") ;;
  esac
}

run_stage() {  # run_stage NAME or NAME@LEG
  local name=$1 leg="" fn start rc
  fn=$(stage_fn "$name") || { echo "unknown stage: $name" >&2; FAILED+=("$name(unknown)"); return; }
  [ "$name" != "${name%@*}" ] && leg=${name#*@}
  hr "$name"
  start=$(date +%s)
  if [ -n "$leg" ]; then "$fn" "$leg"; else "$fn"; fi 2>&1 | tee "$LOGDIR/$name.log"
  rc=${PIPESTATUS[0]}
  record "$name" "$rc" $(( $(date +%s) - start ))
}

run_parallel() {  # run_parallel NAME@LEG...: the same stage on several legs at once; then each log in turn
  local name fn start
  start=$(date +%s)
  hr "$* (at once; each log follows when all are done)"
  for name in "$@"; do
    fn=$(stage_fn "$name")
    ( s0=$(date +%s); "$fn" "${name#*@}" > "$LOGDIR/$name.log" 2>&1; echo "$? $(( $(date +%s) - s0 ))" > "$LOGDIR/$name.rc" ) &
  done
  wait
  for name in "$@"; do
    hr "$name"
    cat "$LOGDIR/$name.log"
    read -r rc secs < "$LOGDIR/$name.rc" || { rc=1; secs=0; }
    record "$name" "$rc" "$secs"
  done
  echo "($* together: $(( $(date +%s) - start ))s)"
}

# expand the arguments into NAME and NAME@LEG stages
read -r -a legs <<< "$LEGS"
for l in "${legs[@]}"; do leg_check "$l" || exit 2; done
# `all` runs the quick checks one after the other, and beside them, from the
# start, the stages that need a sandbox in lanes at the same time: those spend most
# of their time waiting on the sandbox's AWS-like time windows and on network
# round trips, not on the CPU. Each lane runs its stages in order, each stage
# against its own private sandbox. RUN_TESTS_LANES=0 runs every stage in order.
# RUN_TESTS_QUICK and RUN_TESTS_LANE_LIST (lanes separated by ";") override both lists.
QUICK_STAGES=${RUN_TESTS_QUICK:-units sanity lint docs-lint docs}
IFS=';' read -r -a LANES <<< "${RUN_TESTS_LANE_LIST:-integration molecule;reliability;migration;sandbox contract}"
RUN_TESTS_LANES=${RUN_TESTS_LANES:-1}
expand_stage() {  # expand_stage STAGE: prints NAME or NAME@LEG for every leg
  local l
  if is_leg_stage "$1"; then for l in "${legs[@]}"; do printf '%s\n' "$1@$l"; done; else printf '%s\n' "$1"; fi
}
stages=()
lanes=()
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(all)
for a in "${args[@]}"; do
  case "$a" in
    all)
      for st in $QUICK_STAGES; do mapfile -t -O "${#stages[@]}" stages < <(expand_stage "$st"); done
      for lane in "${LANES[@]}"; do
        one=()
        for st in $lane; do mapfile -t -O "${#one[@]}" one < <(expand_stage "$st"); done
        if [ "$RUN_TESTS_LANES" = 1 ]; then lanes+=("${one[*]}"); else stages+=("${one[@]}"); fi
      done ;;
    oldest|newest)
      for st in $LEG_STAGES; do stages+=("$st@$a"); done ;;
    *@*)
      leg_check "${a#*@}" || exit 2
      stages+=("$a") ;;
    *)
      mapfile -t -O "${#stages[@]}" stages < <(expand_stage "$a") ;;
  esac
done

run_sequence() {  # run_sequence STAGE...: in order; the same parallel stage for following legs runs at once
  local seq=("$@") i=0 s group
  while [ $i -lt ${#seq[@]} ]; do
    s=${seq[$i]}
    group=("$s")
    if [ "$RUN_TESTS_PARALLEL_LEGS" = 1 ] && [ "$s" != "${s%@*}" ] && [[ " $PARALLEL_STAGES " == *" ${s%@*} "* ]] && stage_fn "$s" >/dev/null; then
      while [ $((i + ${#group[@]})) -lt ${#seq[@]} ] && [ "${seq[$((i + ${#group[@]}))]%@*}" = "${s%@*}" ]; do
        group+=("${seq[$((i + ${#group[@]}))]}")
      done
    fi
    if [ ${#group[@]} -gt 1 ]; then run_parallel "${group[@]}"; else run_stage "$s"; fi
    i=$((i + ${#group[@]}))
  done
}

run_lane() {  # run_lane N "STAGE...": in the background; the outcome goes to a file, not to this shell's arrays
  local n=$1 lane=$2 ls0 x
  ls0=$(date +%s)
  RUN_TESTS_IN_LANE=1
  PASSED=() FAILED=() SKIPPED=()
  # shellcheck disable=SC2086
  run_sequence $lane > "$LOGDIR/lane-$n.log" 2>&1
  { for x in "${PASSED[@]}"; do echo "P $x"; done; for x in "${FAILED[@]}"; do echo "F $x"; done
    for x in "${SKIPPED[@]}"; do echo "S $x"; done; } > "$LOGDIR/lane-$n.result"
  echo "lane $n ($lane) done after $(( $(date +%s) - ls0 ))s"
}

echo "stages: ${stages[*]}"
[ ${#lanes[@]} -gt 0 ] && printf 'and beside them, at the same time, lane %s\n' "${lanes[@]}"
t0=$(date +%s)
# the lanes start first and the quick stages run while they wait on the sandboxes
if [ ${#lanes[@]} -gt 0 ]; then
  n=0
  for lane in "${lanes[@]}"; do
    n=$((n + 1))
    run_lane "$n" "$lane" &
  done
fi
run_sequence "${stages[@]}"
if [ ${#lanes[@]} -gt 0 ]; then
  hr "${#lanes[@]} lanes at once (each log follows when all are done)"
  wait
  n=0
  for lane in "${lanes[@]}"; do
    n=$((n + 1))
    hr "lane $n: $lane"
    cat "$LOGDIR/lane-$n.log"
    [ -s "$LOGDIR/lane-$n.result" ] || FAILED+=("lane-$n(no result)")
    while read -r kind what; do
      case $kind in P) PASSED+=("$what") ;; F) FAILED+=("$what") ;; S) SKIPPED+=("$what") ;; esac
    done < "$LOGDIR/lane-$n.result"
  done
fi
sandbox_down
# make test must leave nothing running: check that the private sandboxes are really down
for l in $SB_INSTANCES; do
  if test_sandbox "$l" status >/dev/null 2>&1; then
    echo "run-tests: the test sandbox ($(sb_dir "$l")) is still running after the stages" >&2
    FAILED+=("cleanup")
  fi
done
hr "summary ($(( $(date +%s) - t0 ))s)"
echo "passed stages:  ${PASSED[*]:-none}"
echo "skipped stages: ${SKIPPED[*]:-none}"
echo "failed stages:  ${FAILED[*]:-none}"
echo "stages: ${#PASSED[@]} passed, ${#FAILED[@]} failed, ${#SKIPPED[@]} skipped"
[ ${#FAILED[@]} -eq 0 ]
