# shellcheck shell=bash
# The PASS/FAIL bookkeeping of images/test-kit (the other image tests are pytest: images/tests).
# Sourced, not run. Set name="what is checked", then:
#   if CONDITION; then pass; else fail "what happened instead"; fi
# and end with `summary`: "<script>: N passed, N failed" (the line CI reads), false when any failed.
passed=0 failed=0 name=
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$name"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s: %s\n' "$name" "$*"; }
say() { printf '\n== %s\n' "$*"; }
summary() {
  echo
  echo "${0##*/}: $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
