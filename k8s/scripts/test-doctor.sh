#!/usr/bin/env bash
# Checks of k8s/scripts/doctor.sh (`make test-doctor`, part of `make test`):
#  - for real, on this machine: the engine answers, every check prints its line, kind is missing so
#    the run exits 1 with kind's install hint, all in under 10 s;
#  - one finding at a time, with the stand-ins in testdata/fake-bin for docker, kind, kubectl and
#    minikube, a /proc folder the test writes, and a tiny kit: each under dash AND bash --posix;
#  - `make demo` with a too-old kind stops before anything is built;
#  - shellcheck -s sh (the doctor is POSIX sh: macOS's bash 3.2, dash).
# Ends with "test-doctor: N passed, N failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

SCRIPTS=k8s/scripts
DOCTOR=$SCRIPTS/doctor.sh
FAKE_BIN=$PWD/$SCRIPTS/testdata/fake-bin
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# The expectations come from the same pins the doctor reads.
# shellcheck source=k8s/versions.env
source k8s/versions.env
NODE_K8S=$(sed -n 's/^ *image: *kindest\/node:\(v[0-9.]*\)@.*/\1/p' k8s/kind-config.yaml)
NODE_MINOR=$(cut -d. -f2 <<<"$NODE_K8S")
CHECKS_KIND=(bash make engine kind kubectl store node-image cluster inotify disk memory proxy images)

passed=0 failed=0
check() { # NAME CMD...: one check, its output shown only when it fails
  local name=$1
  shift
  if "$@" >"$TMP/check.out" 2>&1; then
    passed=$((passed + 1))
    printf 'ok   %s\n' "$name"
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n' "$name"
    sed 's/^/     | /' "$TMP/check.out" | head -n 40
  fi
}

# The doctor's environment: no proxy from the caller, no colour, nothing inherited that it reads.
clean_env=(env -u HTTP_PROXY -u HTTPS_PROXY -u NO_PROXY -u http_proxy -u https_proxy -u no_proxy
  -u CLUSTER -u CLUSTER_NAME -u KIT -u DOCTOR_PROC -u DOCTOR_TIMEOUT -u KIT_TIMEOUT NO_COLOR=1)

# A /proc with what kind's known issues ask for, and plenty of memory (KiB).
proc_dir() { # DIR WATCHES INSTANCES
  mkdir -p "$1/sys/fs/inotify"
  echo "$2" >"$1/sys/fs/inotify/max_user_watches"
  echo "$3" >"$1/sys/fs/inotify/max_user_instances"
  printf 'MemTotal:       16384000 kB\nMemAvailable:    8192000 kB\n' >"$1/meminfo"
}
proc_dir "$TMP/proc-good" 524288 512
proc_dir "$TMP/proc-low" 8192 128

# doc SHELL [VAR=value...] [-- ARGS]: the doctor under SHELL against the stand-ins; output in
# $TMP/doc.out, exit status in $RC. FAKE_STATE is fresh for every run.
doc() {
  local shell=$1 vars=() args=()
  shift
  while (($#)) && [[ $1 != -- ]]; do vars+=("$1") && shift; done
  (($#)) && shift && args=("$@")
  FAKE_STATE=$(mktemp -d -p "$TMP")
  RC=0
  # shellcheck disable=SC2086 # $shell is "dash" or "bash --posix": split on purpose
  "${clean_env[@]}" PATH="$FAKE_BIN:$PATH" FAKE_STATE="$FAKE_STATE" DOCTOR_PROC="$TMP/proc-good" \
    FAKE_DOCKER_ROOT="$TMP" ${vars[@]+"${vars[@]}"} $shell "$DOCTOR" ${args[@]+"${args[@]}"} >"$TMP/doc.out" 2>&1 || RC=$?
  cat "$TMP/doc.out"
}
has_line() { grep -qE -- "$1" "$TMP/doc.out" || { echo "no line matching: $1" && return 1; }; }
no_line() { ! grep -qE -- "$1" "$TMP/doc.out" || { echo "unexpected line matching: $1" && return 1; }; }
one_line_per_check() { # every check of the kind run printed exactly one line, and the summary is last
  local c
  for c in "${CHECKS_KIND[@]}"; do
    [[ $(grep -cE "^\[( ok |warn|FAIL|skip)\] $c " "$TMP/doc.out") == 1 ]] || {
      echo "check $c: not exactly one line"
      return 1
    }
  done
  tail -n 1 "$TMP/doc.out" | grep -qE '^doctor: ' || {
    echo "no summary line at the end"
    return 1
  }
}

# ---- for real, on this machine (Docker engine running; kind is not installed here nor on CI)
real_run() {
  local shell=$1 start end rc=0
  start=$(date +%s%N)
  # shellcheck disable=SC2086 # $shell is "dash" or "bash --posix": split on purpose
  "${clean_env[@]}" $shell "$DOCTOR" >"$TMP/doc.out" 2>&1 || rc=$?
  end=$(date +%s%N)
  cat "$TMP/doc.out"
  echo "exit $rc in $(((end - start) / 1000000)) ms"
  one_line_per_check && has_line '^\[ ok \] engine +Docker .* answers' &&
    (((end - start) < 10000000000)) || return 1
  if command -v kind >/dev/null; then
    has_line '^\[( ok |FAIL)\] kind +kind v'
  else
    ((rc == 1)) && has_line "^\[FAIL\] kind +not found.*fix: install kind $KIND_VERSION: https://kind.sigs.k8s.io/" &&
      has_line '^doctor: [0-9]+ blocker\(s\) \([^)]*kind'
  fi
}
check "real run (dash): engine ok, kind missing with its install hint, one line per check, under 10 s" real_run dash
check "real run (bash --posix): the same" real_run "bash --posix"

# ---- one finding at a time, on the stand-ins, under both shells
all_good() {
  doc "$1"
  ((RC == 0)) && one_line_per_check && no_line '^\[FAIL\]' && has_line '^doctor: nothing blocks' &&
    has_line "^\[ ok \] kind +kind $KIND_VERSION" && has_line '^\[ ok \] kubectl' &&
    has_line '^\[ ok \] inotify' && has_line '^\[ ok \] proxy' && has_line '^\[ ok \] images' &&
    has_line '^\[ ok \] node-image' && has_line '^\[ ok \] cluster +no kind cluster hello yet'
}
kind_too_old() {
  doc "$1" FAKE_KIND_VERSION=v0.20.0
  ((RC == 1)) && has_line "^\[FAIL\] kind +kind v0\.20\.0 is older than $KIND_VERSION.*fix: install kind $KIND_VERSION"
}
kubectl_skew() {
  local old=v1.$((NODE_MINOR - 2)).3
  doc "$1" FAKE_KUBECTL_VERSION="$old"
  ((RC == 0)) && has_line "^\[warn\] kubectl +kubectl $old is 2 minors from the node's Kubernetes $NODE_K8S.*fix: install kubectl $KUBECTL_VERSION"
}
containerd_store() {
  doc "$1" FAKE_DOCKER_STORE=containerd
  ((RC == 0)) && has_line '^\[ ok \] store +containerd image store \(overlayfs\).*kind #3795.*docker save --platform'
}
engine_down() {
  doc "$1" FAKE_DOCKER_DOWN=1
  ((RC == 1)) && one_line_per_check &&
    has_line "^\[FAIL\] engine +docker is installed but the engine does not answer.*Cannot connect to the Docker daemon.*fix: start Docker" &&
    has_line '^\[skip\] images +cannot look for'
}
engine_hangs() { # bounded: an engine that never answers costs DOCTOR_TIMEOUT, not the run
  local start end
  start=$(date +%s)
  doc "$1" FAKE_DOCKER_HANG=1 DOCTOR_TIMEOUT=1
  end=$(date +%s)
  echo "took $((end - start)) s"
  ((RC == 1)) && has_line "^\[FAIL\] engine .*'docker info' did not answer within 1s" && ((end - start < 5))
}
proxy_shell_only() {
  doc "$1" HTTPS_PROXY=http://proxy.example:3128
  ((RC == 0)) && has_line '^\[warn\] proxy +the shell has a proxy \(http://proxy.example:3128\) but the engine has none.*fix: .*docs.docker.com/engine/daemon/proxy'
}
no_proxy_gap() {
  doc "$1" HTTPS_PROXY=http://proxy.example:3128 FAKE_DOCKER_PROXY=http://proxy.example:3128 NO_PROXY=localhost
  ((RC == 0)) && has_line '^\[warn\] proxy +.*NO_PROXY \(localhost\) lacks 127\.0\.0\.1.*fix: export NO_PROXY=localhost,127\.0\.0\.1'
}
inotify_low() {
  doc "$1" DOCTOR_PROC="$TMP/proc-low"
  ((RC == 0)) && has_line '^\[warn\] inotify +max_user_watches 8192, max_user_instances 128.*too many open files.*fix: sudo sysctl fs\.inotify\.max_user_watches=524288 && sudo sysctl fs\.inotify\.max_user_instances=512'
}
images_missing() {
  doc "$1" FAKE_DOCKER_NO_IMAGES=1
  ((RC == 0)) && has_line '^\[warn\] node-image +kindest/node .* is not in the engine.*fix: pull it today.*docker pull kindest/node:' &&
    has_line '^\[warn\] images +not built yet: hello-once:.* hello-loop:.*fix: make images'
}
cluster_context() { # the cluster exists; the current context is another one, then the right one
  doc "$1" FAKE_KIND_CLUSTERS=hello FAKE_KUBECTL_CONTEXT=kind-other
  ((RC == 0)) && has_line '^\[warn\] cluster +kind cluster hello exists but the current context is kind-other.*fix: kubectl config use-context kind-hello' || return 1
  doc "$1" FAKE_KIND_CLUSTERS=hello
  ((RC == 0)) && has_line '^\[ ok \] cluster +kind cluster hello exists and the current context is kind-hello'
}
pull_size() { # the registry answers: the pull is the engine platform's layers (amd64 here: 123 MB)
  doc "$1" FAKE_DOCKER_NO_IMAGES=1 FAKE_DOCKER_REGISTRY=1
  ((RC == 0)) && has_line '^\[warn\] node-image +.*kind create cluster pulls it: 123 MB for linux/amd64'
}
old_bash() { # macOS's /bin/bash 3.2 first on PATH
  mkdir -p "$TMP/bash32"
  # shellcheck disable=SC2016 # $2 and $@ belong to the stand-in
  printf '#!/bin/sh\ncase "$2" in *BASH_VERSINFO*) echo "3 2 3.2.57(1)-release" ;; *) exec %s "$@" ;; esac\n' \
    "$(command -v bash)" >"$TMP/bash32/bash"
  chmod +x "$TMP/bash32/bash"
  doc "$1" PATH="$TMP/bash32:$FAKE_BIN:$PATH"
  ((RC == 1)) && has_line '^\[FAIL\] bash +3\.2\.57\(1\)-release .* is older than 4\.3.*fix: install bash 4\.3 or newer \(macOS: brew install bash'
}
minikube_run() {
  doc "$1" CLUSTER=minikube
  ((RC == 0)) && has_line '^\[ ok \] minikube +minikube v1\.37\.0, driver docker' && no_line '^\[....\] kind ' &&
    has_line '^\[ ok \] cluster +no minikube cluster hello yet'
}
bad_usage() {
  doc "$1" CLUSTER=bogus
  ((RC == 2)) && [[ $(wc -l <"$TMP/doc.out") == 1 ]] && has_line "CLUSTER must be kind or minikube \(got 'bogus'\)" || return 1
  doc "$1" -- --frobnicate
  ((RC == 2)) && has_line "unknown argument '--frobnicate'" || return 1
  doc "$1" KIT=/nonexistent/kit.tar.gz
  ((RC == 2)) && [[ $(wc -l <"$TMP/doc.out") == 1 ]] && has_line '^doctor: KIT: no such file or folder'
}

# The kit: until the real loader (images/kit/load) is in the repository, a stand-in with exactly its
# interface: `sh load verify` exits 0, or 2 with one line naming the missing/altered file.
KIT_DIR=$TMP/kit/hello-k8s-kit
make_kit() {
  mkdir -p "$KIT_DIR"
  if [[ -f images/kit/load ]]; then
    cp images/kit/load "$KIT_DIR/load"
  else
    cat >"$KIT_DIR/load" <<'EOF'
#!/bin/sh
# Stand-in for `images/kit/load verify` (test-doctor.sh): SHA256SUMS beside it, sha256sum or shasum.
[ "${1:-}" = verify ] || { echo "load: only verify is stood in for" >&2 && exit 2; }
cd "${KIT_DIR:-$(dirname "$0")}" || exit 2 # the real loader honours KIT_DIR too
if command -v sha256sum >/dev/null; then sum() { sha256sum "$1"; }; else sum() { shasum -a 256 "$1"; }; fi
while read -r want file; do
  [ -f "$file" ] || { echo "load: $file is missing" && exit 2; }
  [ "$(sum "$file" | cut -d' ' -f1)" = "$want" ] || { echo "load: $file does not match SHA256SUMS (truncated or altered)" && exit 2; }
done <SHA256SUMS
EOF
  fi
  chmod +x "$KIT_DIR/load"
  # The kit's layout (images/README.md): images/<arch>/hello-{once,loop}.tar, SHA256SUMS of all.
  mkdir -p "$KIT_DIR/images/amd64"
  printf 'image bytes\n' >"$KIT_DIR/images/amd64/hello-once.tar"
  printf 'other bytes\n' >"$KIT_DIR/images/amd64/hello-loop.tar"
  (cd "$KIT_DIR" && sha256sum images/amd64/hello-once.tar images/amd64/hello-loop.tar >SHA256SUMS)
  tar -czf "$TMP/kit.tar.gz" -C "$TMP/kit" hello-k8s-kit
}
kit_good() { # a good kit, as a folder and as a .tar.gz; the extracted copy is removed afterwards
  mkdir -p "$TMP/tmpdir"
  doc "$1" KIT="$KIT_DIR"
  ((RC == 0)) && has_line '^\[ ok \] kit +.*every file matches its checksum' || return 1
  doc "$1" KIT="$TMP/kit.tar.gz" TMPDIR="$TMP/tmpdir"
  ((RC == 0)) && has_line '^\[ ok \] kit +.*kit\.tar\.gz: every file matches' &&
    [[ -z $(ls -A "$TMP/tmpdir") ]]
}
kit_other_arch() { # a kit made for arm64 only, on an amd64 engine (the stand-in's)
  rm -rf "$TMP/arm-kit" && cp -r "$KIT_DIR" "$TMP/arm-kit" && mv "$TMP/arm-kit/images/amd64" "$TMP/arm-kit/images/arm64"
  sed -i 's|images/amd64/|images/arm64/|' "$TMP/arm-kit/SHA256SUMS"
  doc "$1" KIT="$TMP/arm-kit"
  ((RC == 1)) && has_line '^\[FAIL\] kit +.*arm-kit: the checksums verify, but it has no images for this engine.s linux/amd64 \(only: arm64\)'
}
kit_bad_checksum() {
  local victim
  victim=$(awk 'NR == 1 { print $2 }' "$KIT_DIR/SHA256SUMS")
  rm -rf "$TMP/bad-kit" && cp -r "$KIT_DIR" "$TMP/bad-kit"
  printf 'x' >>"$TMP/bad-kit/$victim"
  # KIT_DIR from the caller's shell must not make the loader verify another (good) kit.
  doc "$1" KIT="$TMP/bad-kit" KIT_DIR="$KIT_DIR"
  ((RC == 1)) && has_line "^\[FAIL\] kit +.*bad-kit: .*${victim//./\\.}.*fix: download the kit again"
}

if [[ ! -f images/kit/load ]]; then
  echo "note: images/kit/load is not in the repository yet; the kit checks use a stand-in with its interface"
fi
make_kit
for shell in dash "bash --posix"; do
  check "$shell: all good on the stand-ins: exit 0, one line per check" all_good "$shell"
  check "$shell: kind v0.20.0 is a blocker naming $KIND_VERSION" kind_too_old "$shell"
  check "$shell: kubectl two minors from the node is a warning naming both versions" kubectl_skew "$shell"
  check "$shell: the containerd image store is detected, with the save --platform path" containerd_store "$shell"
  check "$shell: an engine that does not answer is a blocker; its checks say why they skip" engine_down "$shell"
  check "$shell: an engine that hangs is cut off after DOCTOR_TIMEOUT" engine_hangs "$shell"
  check "$shell: a proxy in the shell but not in the engine is a warning" proxy_shell_only "$shell"
  check "$shell: NO_PROXY without the cluster's addresses is a warning with the export line" no_proxy_gap "$shell"
  check "$shell: low inotify limits are a warning with the sysctl fix" inotify_low "$shell"
  check "$shell: missing node image and images are warnings with the fix" images_missing "$shell"
  check "$shell: an existing cluster hello, and whether the current context points at it" cluster_context "$shell"
  check "$shell: the node image's pull size is the engine platform's layers" pull_size "$shell"
  check "$shell: bash 3.2 first on PATH is a blocker naming 4.3" old_bash "$shell"
  check "$shell: CLUSTER=minikube checks minikube (version, driver) instead of kind" minikube_run "$shell"
  check "$shell: bad usage exits 2 with one line" bad_usage "$shell"
  check "$shell: a kit that verifies is ok (folder, and .tar.gz extracted to a temp dir removed after)" kit_good "$shell"
  check "$shell: a kit with a bad checksum is a blocker naming the file" kit_bad_checksum "$shell"
  check "$shell: a kit without images for the engine's platform is a blocker" kit_other_arch "$shell"
done

# ---- make demo runs the blocker checks first: a too-old kind stops it before anything is built
blockers_fast() { # the overhead make demo pays when all is well
  local start end
  start=$(date +%s%N)
  doc dash -- --blockers-only
  end=$(date +%s%N)
  echo "took $(((end - start) / 1000000)) ms"
  ((RC == 0)) && has_line '^doctor: nothing blocks' && no_line '^\[....\] (store|inotify|images) ' &&
    (((end - start) < 1000000000))
}
check "doctor --blockers-only: exit 0 on the stand-ins in under a second" blockers_fast
demo_stops() {
  local rc=0 make_bin
  make_bin=$(command -v make)
  FAKE_STATE=$(mktemp -d -p "$TMP")
  "${clean_env[@]}" PATH="$FAKE_BIN:$PATH" FAKE_STATE="$FAKE_STATE" FAKE_KIND_VERSION=v0.20.0 \
    DOCTOR_PROC="$TMP/proc-good" "$make_bin" demo >"$TMP/demo.out" 2>&1 || rc=$?
  cat "$TMP/demo.out"
  echo "--- calls:" && cat "$FAKE_STATE/calls" 2>/dev/null
  ((rc != 0)) && grep -qE "^\[FAIL\] kind +kind v0.20.0 is older than $KIND_VERSION" "$TMP/demo.out" &&
    ! grep -qE '^docker (build|save)|^make images|^kind (create|load)' "$FAKE_STATE/calls" &&
    ! grep -q 'Building the images' "$TMP/demo.out"
}
check "make demo with kind v0.20.0 stops at the doctor: no docker build, no make images" demo_stops

dry_demo_skips() { # DRY_RUN=1 make demo needs none of the tools, so it skips the doctor
  local rc=0
  FAKE_STATE=$(mktemp -d -p "$TMP")
  "${clean_env[@]}" PATH="$FAKE_BIN:$PATH" FAKE_STATE="$FAKE_STATE" FAKE_KIND_VERSION=v0.20.0 DRY_RUN=1 \
    "$(command -v make)" demo >"$TMP/dry.out" 2>&1 || rc=$?
  tail -n 3 "$TMP/dry.out"
  ((rc == 0)) && ! grep -q '^\[FAIL\]' "$TMP/dry.out" && grep -q 'Building the images' "$TMP/dry.out"
}
check "DRY_RUN=1 make demo does not run the doctor (it needs no tools)" dry_demo_skips

check "shellcheck -s sh doctor.sh" shellcheck -s sh -x "$DOCTOR"

printf 'test-doctor: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
