#!/usr/bin/env bash
# Play one lesson on the running cluster:  k8s/scripts/lesson.sh N   (make lesson-N)
# Needs the cluster and the images: make kind-up kind-load (or CLUSTER=minikube). KEEP=1 leaves the
# lesson's objects in place to explore them; DRY_RUN=1 prints the commands without running them.
set -euo pipefail
# shellcheck source=k8s/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=k8s/scripts/lessons.sh
source "$(dirname "${BASH_SOURCE[0]}")/lessons.sh"

[[ $# -eq 1 ]] || usage_error "usage: lesson.sh N (N = ${LESSONS[*]})"
lesson_dir "$1" >/dev/null
need kubectl
check_cluster
ensure_namespace
play_lesson "$1"
exit "$LESSON_RC"
