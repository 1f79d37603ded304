#!/usr/bin/env bash
# The grader of the exercises:  k8s/scripts/check.sh N [X]   (make check-N [EXERCISE=b])
# Reads the learner's cluster (namespace hello-demo, the same context as the other targets) and
# prints one line per condition of exercise NX (X = a by default): met, or not met with what it saw
# and a hint. Exit 0 when every condition is met, 1 when one is not, 2 on bad usage. It only gets
# and reads logs: it never changes the cluster and never waits. The conditions are the ones make
# e2e asserts (lessons.sh), so what passes here is what the reference solutions pass there.
set -euo pipefail
# shellcheck source=k8s/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=k8s/scripts/lessons.sh
source "$(dirname "${BASH_SOURCE[0]}")/lessons.sh"
# shellcheck source=k8s/scripts/exercises.sh
source "$(dirname "${BASH_SOURCE[0]}")/exercises.sh"

[[ $# -ge 1 && $# -le 2 ]] || usage_error "usage: check.sh N [EXERCISE] (N = ${LESSONS[*]}; EXERCISE = a or b)"
n=$1 x=${2:-a}
exercise_dir "$n" "$x" >/dev/null
need kubectl
need_context

GRADE=1 QUIET=1 # one line per condition, not the commands behind it
printf 'exercise %s%s: %s (namespace %s, context %s)\n' "$n" "$x" "$(exercise_title "$n" "$x")" "$NAMESPACE" "$KUBE_CONTEXT"
"grade_$n$x"
if ((DRY_RUN)); then
  printf 'dry run: nothing was read or judged\n'
  exit 0
fi
if ((GRADE_UNMET)); then
  printf 'not yet: %d condition(s) not met; fix, then run make check-%s%s again\n' \
    "$GRADE_UNMET" "$n" "$([[ $x == a ]] || echo " EXERCISE=$x")"
  exit 1
fi
printf 'done: every condition met\n'
