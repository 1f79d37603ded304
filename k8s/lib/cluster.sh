# shellcheck shell=sh
# The local cluster for the lessons: create it, load the two images into it, delete it. Sourced by
# k8s/scripts/cluster (make kind-up, kind-load, kind-down, minikube-...) and k8s/scripts/demo, after
# k8s/lib/hello.sh and k8s/lib/flow.sh. `up` is idempotent. `load` puts the images the lessons use
# into the cluster's own image store: a local cluster cannot pull hello-once:<version> from anywhere,
# and the lessons use imagePullPolicy IfNotPresent, so a loaded image is used as it is.
# shellcheck disable=SC3043 # `local`: see k8s/lib/hello.sh

# kind older than the release the node image was built for cannot `kind load` into it.
check_kind_version() {
  local have
  capture have kind version
  [ "$DRY_RUN" = 1 ] && return 0
  have=$(printf '%s\n' "$have" | first_version)
  if [ -z "$have" ]; then
    warn "could not read the kind version; k8s/kind-config.yaml expects kind $KIND_VERSION"
  elif ! version_ge "$have" "$KIND_VERSION"; then
    die 1 "kind $have is older than $KIND_VERSION, the release the node image in k8s/kind-config.yaml was built for; $(install_hint kind)"
  elif [ "$have" != "$KIND_VERSION" ]; then
    note "kind $have is newer than $KIND_VERSION, the release the pinned node image comes from; that usually works"
  fi
}

kind_up() {
  local clusters
  need docker kind kubectl
  check_kind_version
  capture clusters kind get clusters
  if printf '%s\n' "$clusters" | grep -qxF -- "$CLUSTER_NAME"; then
    say "kind cluster $CLUSTER_NAME already exists; using it"
    # Puts the context back if the kubeconfig lost it; harmless otherwise.
    must kind export kubeconfig --name "$CLUSTER_NAME"
  else
    say "creating kind cluster $CLUSTER_NAME (node image pinned in k8s/kind-config.yaml)"
    must kind create cluster --name "$CLUSTER_NAME" --config k8s/kind-config.yaml --wait 180s
  fi
  must kubectl --context "$KUBE_CONTEXT" get nodes -o wide
}

minikube_up() {
  local status
  need minikube kubectl
  if capture status minikube -p "$CLUSTER_NAME" status --format '{{.Host}}' && [ "$status" = Running ]; then
    say "minikube profile $CLUSTER_NAME is already running; using it"
  else
    say "starting minikube profile $CLUSTER_NAME"
    must minikube -p "$CLUSTER_NAME" start --wait=all
  fi
  must kubectl --context "$KUBE_CONTEXT" get nodes -o wide
}

# Loading goes through the workshop kit's loader (k8s/scripts/load, a kit's ./load), the one
# implementation of loading, architecture choice and checksum checks: with KIT=path from that kit,
# otherwise from the images `make images` built, staged as a kit folder in $WORK_DIR/kit (one archive
# per image for the engine's platform, which is the platform of kind's node containers, and
# SHA256SUMS). The loader honours DRY_RUN itself, so it runs in a dry run too and prints its commands.
stage_arch() {
  case ${LOAD_PLATFORM:-} in
    linux/amd64 | linux/arm64) echo "${LOAD_PLATFORM#linux/}" ;;
    '') if [ "$DRY_RUN" = 1 ]; then norm_arch "$(uname -m)"; else engine_arch; fi ;;
    *) die 2 "LOAD_PLATFORM must be linux/amd64 or linux/arm64 (got '$LOAD_PLATFORM')" ;;
  esac
}

cluster_load() {
  local dir arch
  if [ -n "${KIT:-}" ]; then
    dir=$(open_kit "$KIT") || exit 2
    show "$HELLO_SH" "$dir/load" "$CLUSTER" --name "$CLUSTER_NAME"
    DRY_RUN=$DRY_RUN "$HELLO_SH" "$dir/load" "$CLUSTER" --name "$CLUSTER_NAME"
    return
  fi
  need docker
  arch=$(stage_arch) || exit 2
  dir=$WORK_DIR/kit
  must rm -rf "$dir"
  # One platform per archive: kind's and minikube's loads from the daemon break on Docker's
  # containerd store and multi-platform images (kind #3795, minikube #18021); archives work.
  run images/save-image "$HELLO_ONCE_IMAGE" "$arch" "$dir/images/$arch/hello-once.tar" ||
    fail "could not save $HELLO_ONCE_IMAGE; build it first: make images"
  run images/save-image "$HELLO_LOOP_IMAGE" "$arch" "$dir/images/$arch/hello-loop.tar" ||
    fail "could not save $HELLO_LOOP_IMAGE; build it first: make images"
  show write_sums "$dir"
  [ "$DRY_RUN" = 1 ] || write_sums "$dir" || fail "could not write $dir/SHA256SUMS"
  show env KIT_DIR="$dir" "$HELLO_SH" k8s/scripts/load "$CLUSTER" --name "$CLUSTER_NAME"
  KIT_DIR=$dir DRY_RUN=$DRY_RUN "$HELLO_SH" k8s/scripts/load "$CLUSTER" --name "$CLUSTER_NAME"
}

# open_kit KIT: the folder of a workshop kit given as its .tar.gz or as an unpacked folder (make
# kit-load, make demo KIT=...). A .tar.gz is unpacked into .cache/kit/ (gitignored), replacing an
# earlier copy of the same kit.
open_kit() {
  local kit top
  kit=$1
  case $kit in
    *.tar.gz | *.tgz)
      [ -f "$kit" ] || die 2 "KIT must be a kit .tar.gz (make kit) or its unpacked folder (got '$kit')"
      top=$(tar -tzf "$kit" | head -n 1)
      top=${top%%/*}
      case $top in hello-k8s-kit-*) ;; *) die 2 "KIT: '$kit' is not a workshop kit (its top folder is '$top')" ;; esac
      rm -rf ".cache/kit/$top"
      mkdir -p .cache/kit || die 1 "cannot create .cache/kit"
      tar -xzf "$kit" -C .cache/kit || die 1 "cannot unpack $kit"
      echo ".cache/kit/$top"
      ;;
    *)
      [ -f "$kit/load" ] && [ -f "$kit/SHA256SUMS" ] ||
        die 2 "KIT must be a kit .tar.gz (make kit) or its unpacked folder (got '$kit')"
      echo "${kit%/}"
      ;;
  esac
}

kind_down() {
  need kind
  must kind delete cluster --name "$CLUSTER_NAME"
}
minikube_down() {
  need minikube
  must minikube -p "$CLUSTER_NAME" delete
}
cluster_up() { "${CLUSTER}_up"; }
cluster_down() { "${CLUSTER}_down"; }
