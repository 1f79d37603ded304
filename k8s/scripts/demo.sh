#!/usr/bin/env bash
# The whole story on a local cluster, from nothing:  make demo  (CLUSTER=minikube for minikube)
# Builds both images (the images area's `make images`; with KIT=kit.tar.gz or its folder, takes them
# from the workshop kit instead and builds nothing), creates the cluster, loads the images, then
# plays every lesson in order: apply, what to watch, bounded waits, the evidence, clean up.
# PAUSE=1 (a live audience) names each lesson's exercise and waits for Enter between lessons;
# otherwise it runs straight through and stops at the first lesson that does not behave as its
# README says.
set -euo pipefail
# shellcheck source=k8s/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=k8s/scripts/lessons.sh
source "$(dirname "${BASH_SOURCE[0]}")/lessons.sh"
# shellcheck source=k8s/scripts/exercises.sh
source "$(dirname "${BASH_SOURCE[0]}")/exercises.sh"

need make docker kubectl "$(cluster_tool)"
trap kill_bg EXIT

if [[ -n ${KIT:-} ]]; then
  say "Images from the workshop kit $KIT (nothing is built)"
else
  say "Building the images ($ONCE_IMAGE, $LOOP_IMAGE)"
  run "${MAKE:-make}" images
fi
say "Cluster: $CLUSTER, name $CLUSTER_NAME, kubectl context $KUBE_CONTEXT"
k8s/scripts/cluster.sh up
k8s/scripts/cluster.sh load
check_cluster
ensure_namespace

for n in "${LESSONS[@]}"; do
  play_lesson "$n"
  if ((LESSON_RC)); then
    fail "lesson $n did not turn out as its README says (see above); the cluster is still up for a look"
  fi
  # A live audience gets the lesson's exercise before moving on (its README's "Your turn").
  if ((PAUSE)); then your_turn "$n"; fi
  if [[ $n != "${LESSONS[-1]}" ]]; then pause; fi
done

printf '\n'
say "That was all ${#LESSONS[@]} lessons. Replay one with: make lesson-N (KEEP=1 to keep its objects)."
note "Delete the cluster with: make $CLUSTER-down"
