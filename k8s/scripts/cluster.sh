#!/usr/bin/env bash
# Local cluster for the lessons: create it, load the two images into it, delete it.
#   k8s/scripts/cluster.sh up|load|down      CLUSTER=kind (default) or minikube, CLUSTER_NAME=hello
# `up` is idempotent. `load` puts the images the lessons use into the cluster's own image store:
# a local cluster cannot pull hello-once:<version> from anywhere, and the lessons use
# imagePullPolicy IfNotPresent, so a loaded image is used as it is.
set -euo pipefail
# shellcheck source=k8s/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# kind older than the release the node image was built for cannot `kind load` into it.
check_kind_version() {
  local have
  capture have kind version
  ((DRY_RUN)) && return 0
  have=$(grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' <<<"$have" | head -n1)
  if [[ -z $have ]]; then
    warn "could not read the kind version; k8s/kind-config.yaml expects kind $KIND_VERSION"
  elif [[ $(printf '%s\n%s\n' "$have" "$KIND_VERSION" | sort -V | head -n1) != "$KIND_VERSION" ]]; then
    printf '%s: kind %s is older than %s, the release the node image in %s was built for; %s\n' \
      "${0##*/}" "$have" "$KIND_VERSION" "$KIND_CONFIG" "$(install_hint kind)" >&2
    exit 1
  elif [[ $have != "$KIND_VERSION" ]]; then
    note "kind $have is newer than $KIND_VERSION, the release the pinned node image comes from; that usually works"
  fi
}

kind_up() {
  need docker kind kubectl
  check_kind_version
  local clusters
  capture clusters kind get clusters
  if grep -qxF "$CLUSTER_NAME" <<<"$clusters"; then
    say "kind cluster $CLUSTER_NAME already exists; using it"
    # Puts the context back if the kubeconfig lost it; harmless otherwise.
    run kind export kubeconfig --name "$CLUSTER_NAME"
  else
    say "creating kind cluster $CLUSTER_NAME (node image pinned in $KIND_CONFIG)"
    run kind create cluster --name "$CLUSTER_NAME" --config "$KIND_CONFIG" --wait 180s
  fi
  run kubectl --context "$KUBE_CONTEXT" get nodes -o wide
}

minikube_up() {
  need minikube kubectl
  local status
  if capture status minikube -p "$CLUSTER_NAME" status --format '{{.Host}}' && [[ $status == Running ]]; then
    say "minikube profile $CLUSTER_NAME is already running; using it"
  else
    say "starting minikube profile $CLUSTER_NAME"
    run minikube -p "$CLUSTER_NAME" start --wait=all
  fi
  run kubectl --context "$KUBE_CONTEXT" get nodes -o wide
}

# Loading goes through the workshop kit's loader (images/kit/load), the one implementation of
# loading, architecture choice and checksum checks: with KIT=path from that kit, otherwise from the
# images `make images` built, staged as a kit folder in .cache/flows/kit (one archive per image for
# the engine's platform, which is the platform of kind's node containers, and SHA256SUMS). The
# loader honours DRY_RUN itself, so it runs in a dry run too and prints its commands.
stage_arch() {
  if [[ -n ${LOAD_PLATFORM:-} ]]; then
    [[ $LOAD_PLATFORM =~ ^linux/(amd64|arm64)$ ]] || usage_error "LOAD_PLATFORM must be linux/amd64 or linux/arm64 (got '$LOAD_PLATFORM')"
    echo "${LOAD_PLATFORM#linux/}"
  elif ((DRY_RUN)); then
    case $(uname -m) in x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac
  else
    images/engine-arch
  fi
}

cluster_load() {
  local dir arch
  if [[ -n ${KIT:-} ]]; then
    dir=$(images/open-kit "$KIT")
    print_cmd sh "$dir/load" "$CLUSTER" --name "$CLUSTER_NAME"
    DRY_RUN=$DRY_RUN sh "$dir/load" "$CLUSTER" --name "$CLUSTER_NAME"
    return
  fi
  need docker
  arch=$(stage_arch)
  dir=$WORK_DIR/kit
  run rm -rf "$dir"
  # One platform per archive: kind's and minikube's loads from the daemon break on Docker's
  # containerd store and multi-platform images (kind #3795, minikube #18021); archives work.
  run images/save-image "$ONCE_IMAGE" "$arch" "$dir/images/$arch/hello-once.tar" ||
    fail "could not save $ONCE_IMAGE; build it first: make images"
  run images/save-image "$LOOP_IMAGE" "$arch" "$dir/images/$arch/hello-loop.tar" ||
    fail "could not save $LOOP_IMAGE; build it first: make images"
  run images/kit-sums "$dir"
  print_cmd env KIT_DIR="$dir" sh images/kit/load "$CLUSTER" --name "$CLUSTER_NAME"
  KIT_DIR=$dir DRY_RUN=$DRY_RUN sh images/kit/load "$CLUSTER" --name "$CLUSTER_NAME"
}
kind_load() { cluster_load; }
minikube_load() { cluster_load; }

kind_down() {
  need kind
  run kind delete cluster --name "$CLUSTER_NAME"
}

minikube_down() {
  need minikube
  run minikube -p "$CLUSTER_NAME" delete
}

case ${1:-} in
  up | load | down) "${CLUSTER}_$1" ;;
  *) usage_error "usage: cluster.sh up|load|down (CLUSTER=kind|minikube, CLUSTER_NAME=$CLUSTER_NAME)" ;;
esac
