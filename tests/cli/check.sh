# tests/cli/check.sh — sourced by the CLI test scripts: one line per check, and the
# script's status.
#
#   status=0
#   . "$(dirname "$0")/check.sh"
#   check "it exits 0 (got $rc)" [ "$rc" = 0 ]     # prints "ok: ..." or "FAIL: ..." (status=1)
#   check "it logs the stop" has "stopped cleanly" "$work/run.err"
#   exit $status

# check WHAT CONDITION...: runs CONDITION; "ok: WHAT", or "FAIL: WHAT" and status=1.
check() {
  local what="$1"
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; status=1; fi
}
# has TEXT FILE: whether FILE holds TEXT (a grep pattern).
has() { grep -q -- "$1" "$2"; }
