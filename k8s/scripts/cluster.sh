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

# The platform of the Docker engine, which is the platform of kind's node containers.
docker_platform() {
  local arch
  if [[ -n ${LOAD_PLATFORM:-} ]]; then
    [[ $LOAD_PLATFORM =~ ^linux/(amd64|arm64)$ ]] || usage_error "LOAD_PLATFORM must be linux/amd64 or linux/arm64 (got '$LOAD_PLATFORM')"
    echo "$LOAD_PLATFORM"
    return
  fi
  if ((DRY_RUN)); then
    case $(uname -m) in x86_64 | amd64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  else
    arch=$(docker version --format '{{.Server.Arch}}')
  fi
  echo "linux/$arch"
}

require_image() {
  local image=$1
  run docker image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}}' "$image" ||
    fail "image $image is not in Docker; build it first: make images"
}

# Save one image, one platform, to an archive: both `kind load docker-image` and minikube's load
# from the daemon break with Docker's containerd image store and with multi-platform images
# ("content digest ... not found"; kind #3795, minikube #18021), while loading an archive works.
# `docker save --platform` needs Docker 28+ (API 1.48); an older engine has neither the flag nor
# the containerd store problem, so a plain save is right there. Sets ARCHIVE.
SAVE_PLATFORM=''
save_archive() {
  local image=$1
  if [[ -z $SAVE_PLATFORM ]]; then
    SAVE_PLATFORM=$(docker_platform)
    if ((!DRY_RUN)) && ! grep -q -- '--platform' <<<"$(docker save --help 2>/dev/null)"; then
      SAVE_PLATFORM=none
      note "this Docker has no 'docker save --platform' (needs 28+); saving the images as they are"
    fi
  fi
  require_image "$image"
  ARCHIVE=$WORK_DIR/$(tr '/:' '__' <<<"$image").tar
  if [[ $SAVE_PLATFORM == none ]]; then
    run docker save -o "$ARCHIVE" "$image"
  else
    run docker save --platform "$SAVE_PLATFORM" -o "$ARCHIVE" "$image"
  fi
}

kind_load() {
  need docker kind
  check_kind_version
  local image clusters
  capture clusters kind get clusters
  if ((!DRY_RUN)) && ! grep -qxF "$CLUSTER_NAME" <<<"$clusters"; then
    fail "there is no kind cluster $CLUSTER_NAME to load into; create it first: make kind-up"
  fi
  for image in "$ONCE_IMAGE" "$LOOP_IMAGE"; do
    save_archive "$image"
    # --name matters: without it kind loads into the cluster called "kind", not ours.
    run kind load image-archive "$ARCHIVE" --name "$CLUSTER_NAME"
    ((DRY_RUN)) || rm -f "$ARCHIVE"
  done
}

minikube_load() {
  need docker minikube
  local image
  for image in "$ONCE_IMAGE" "$LOOP_IMAGE"; do
    save_archive "$image"
    run minikube -p "$CLUSTER_NAME" image load "$ARCHIVE"
    ((DRY_RUN)) || rm -f "$ARCHIVE"
  done
  run minikube -p "$CLUSTER_NAME" image ls
}

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
