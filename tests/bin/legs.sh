# shellcheck shell=bash
# The two supported Ansible lines ("legs") the suite runs on; sourced by
# bootstrap.sh, run-tests.sh, sync-test-tree.sh and demo.sh.
#
#   oldest  the `ansible` 12 package: ansible-core 2.19, amazon.aws 10,
#           community.general 11, on Python 3.11    -> .venv
#   newest  the `ansible` 14 package: ansible-core 2.21, amazon.aws 11,
#           community.general 13, on Python 3.12    -> .tmp/venv-newest
#
# Each leg's virtual environment holds its own `ansible` package, so the
# dependency collections of a leg are that release's (site-packages/ansible_collections).
#
# Where the interpreters come from:
#   LINKTRACK_PYTHON311  the Python 3.11 for the oldest leg (default: python3.11 on PATH)
#   LINKTRACK_PYTHON312  the Python 3.12 for the newest leg (default: python3.12 on
#                        PATH, else the newest 3.12 under $(pyenv root)/versions/)
# A missing interpreter is an error, never a skipped leg: leg_python prints
# why and returns 1.

# shellcheck disable=SC2034  # used by the scripts that source this file
LEGS_ALL="oldest newest"

leg_check() {  # leg_check LEG: is LEG one of the legs?
  case "$1" in oldest|newest) return 0 ;; *) echo "unknown leg '$1' (oldest, newest)" >&2; return 1 ;; esac
}

leg_venv() {  # leg_venv ROOT LEG -> the leg's virtual environment
  case "$2" in oldest) echo "$1/.venv" ;; newest) echo "$1/.tmp/venv-newest" ;; *) leg_check "$2" ;; esac
}

leg_requirements() {  # leg_requirements LEG -> its pip requirements, relative to the checkout
  case "$1" in oldest) echo tests/requirements/venv.txt ;; newest) echo tests/requirements/venv-newest.txt ;; *) leg_check "$1" ;; esac
}

leg_pyversion() {  # leg_pyversion LEG -> the Python version the leg runs on
  case "$1" in oldest) echo 3.11 ;; newest) echo 3.12 ;; *) leg_check "$1" ;; esac
}

leg_python() {  # leg_python LEG -> path of the interpreter that makes the leg's venv
  local leg=$1 ver var root cand got
  local -a cands=() hows=()
  ver=$(leg_pyversion "$leg") || return 1
  var=LINKTRACK_PYTHON${ver//./}
  if [ -n "${!var:-}" ]; then
    # an explicit choice is the only candidate: no silent fallback past it
    cands=("${!var}") hows=("\$$var")
  else
    if command -v "python$ver" >/dev/null 2>&1; then
      cands+=("$(command -v "python$ver")") hows+=("python$ver on PATH")
    fi
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for cand in "$root"/versions/"$ver".*/bin/python; do
      [ -x "$cand" ] && cands+=("$cand") hows+=("pyenv ($root/versions)")
    done
  fi
  local i
  for i in "${!cands[@]}"; do
    # a pyenv shim exists even where its version is not selected: ask the interpreter itself
    got=$("${cands[$i]}" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || got=""
    if [ "$got" = "$ver" ]; then
      "${cands[$i]}" -c 'import sys; print(sys.executable)'
      echo "Python $ver for the $leg leg: ${cands[$i]} (found through ${hows[$i]})" >&2
      return 0
    fi
    echo "note: ${cands[$i]} (${hows[$i]}) is ${got:+Python $got, }not a working Python $ver" >&2
  done
  if [ -n "${!var:-}" ]; then
    echo "\$$var=${!var} is not a working Python $ver; the $leg leg needs one." >&2
  else
    echo "no Python $ver for the $leg leg: not \$$var, not python$ver on PATH, not a pyenv $ver.x ($root/versions)." >&2
  fi
  echo "Install Python $ver (the CI image has it) or set $var to one." >&2
  return 1
}
