#!/usr/bin/env bash
# Asserts every lesson's outcome on a live cluster, from the API:  make e2e  [E2E_LESSONS="3 6"]
# Expects the cluster and the images to be there (make kind-up kind-load, or CLUSTER=minikube),
# runs each lesson in turn (a failure ends that lesson, not the run), cleans up after itself
# (KEEP=1 keeps the namespace), and ends with one line: "e2e: N passed, N failed". Then the same for
# every exercise of those lessons: its reference solution (k8s/solutions) applied, waited on and
# graded with the conditions make check-N uses; E2E_EXERCISES=0 skips them.
set -euo pipefail
# shellcheck source=k8s/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=k8s/scripts/lessons.sh
source "$(dirname "${BASH_SOURCE[0]}")/lessons.sh"
# shellcheck source=k8s/scripts/exercises.sh
source "$(dirname "${BASH_SOURCE[0]}")/exercises.sh"

E2E_EXERCISES=${E2E_EXERCISES:-1}
case $E2E_EXERCISES in 0 | 1) ;; *) usage_error "E2E_EXERCISES must be 0 or 1 (got '$E2E_EXERCISES')" ;; esac

selected=()
for n in ${E2E_LESSONS:-${LESSONS[*]}}; do
  lesson_dir "$n" >/dev/null # validates: one line naming the accepted values, exit 2
  selected+=("$n")
done

need kubectl
check_cluster

remove_namespace() {
  kill_bg
  ((KEEP)) && return 0
  say "removing the namespace"
  k delete -k k8s/namespace --ignore-not-found --wait=true --timeout=180s || warn "could not delete namespace $NAMESPACE"
}
trap remove_namespace EXIT

ensure_namespace
passed=0 failed=0 failures=()
tally() { # WHAT: count the outcome (LESSON_RC) of the lesson or exercise just played
  if ((LESSON_RC)); then
    failed=$((failed + 1))
    failures+=("$1")
  else
    passed=$((passed + 1))
  fi
}
for n in "${selected[@]}"; do
  play_lesson "$n"
  tally "lesson $n"
done
if ((E2E_EXERCISES)); then
  for n in "${selected[@]}"; do
    for x in $(exercises_of "$n" | sed 's/./& /g'); do
      play_exercise "$n" "$x"
      tally "exercise $n$x"
    done
  done
fi

printf '\n'
if ((DRY_RUN)); then
  say "dry run: the commands of ${#selected[@]} lesson(s) and their exercises were printed; nothing was run or asserted"
  exit 0
fi
((failed == 0)) || printf 'failed: %s\n' "${failures[*]}" >&2
printf 'e2e: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
