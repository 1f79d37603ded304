#!/usr/bin/env bash
# Asserts every lesson's outcome on a live cluster, from the API:  make e2e  [E2E_LESSONS="3 6"]
# Expects the cluster and the images to be there (make kind-up kind-load, or CLUSTER=minikube),
# runs each lesson in turn (a failure ends that lesson, not the run), cleans up after itself
# (KEEP=1 keeps the namespace), and ends with one line: "e2e: N passed, N failed".
set -euo pipefail
# shellcheck source=k8s/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=k8s/scripts/lessons.sh
source "$(dirname "${BASH_SOURCE[0]}")/lessons.sh"

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
for n in "${selected[@]}"; do
  play_lesson "$n"
  if ((LESSON_RC)); then
    failed=$((failed + 1))
    failures+=("lesson $n")
  else
    passed=$((passed + 1))
  fi
done

printf '\n'
if ((DRY_RUN)); then
  say "dry run: the commands of ${#selected[@]} lesson(s) were printed; nothing was run or asserted"
  exit 0
fi
((failed == 0)) || printf 'failed: %s\n' "${failures[*]}" >&2
printf 'e2e: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
