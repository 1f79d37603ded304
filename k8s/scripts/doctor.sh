#!/bin/sh
# The day before the workshop: one command says what will break and how to fix it.
#   make doctor [CLUSTER=kind|minikube] [KIT=path]      or, without make:  sh k8s/scripts/doctor.sh
#   k8s/scripts/doctor.sh --blockers-only               (what `make demo` runs first: blockers only)
# One line per check: a mark ([ ok ], [warn], [FAIL], [skip]), what was found, and for anything not
# ok the fix. Exit 0 when nothing blocks (warnings allowed), 1 when something blocks, 2 on bad usage.
#
# POSIX sh on purpose (dash, bash --posix, macOS's bash 3.2, BSD tools): it is the first thing an
# attendee runs, before anything else works; the other scripts need bash 4.3, which it checks. It
# never changes anything, needs no root, and bounds every command it runs (DOCTOR_TIMEOUT seconds,
# default 5; the kit check KIT_TIMEOUT, default 120). A check that cannot run says why ([skip]).
#
# Settings: CLUSTER (kind, minikube), CLUSTER_NAME (hello), KIT (a kit folder or its .tar.gz),
# DOCTOR_PROC (where /proc is; tests point it at a folder), NO_COLOR.
set -u

usage() {
  printf 'doctor: %s\n' "$*" >&2
  exit 2
}

QUICK=0
for arg in "$@"; do
  case $arg in
    --blockers-only) QUICK=1 ;;
    -h | --help)
      sed -n '2,6s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    *) usage "unknown argument '$arg' (accepted: --blockers-only, --help; settings go in CLUSTER=, KIT=)" ;;
  esac
done

CLUSTER=${CLUSTER:-kind}
CLUSTER_NAME=${CLUSTER_NAME:-hello}
KIT=${KIT:-}
PROC=${DOCTOR_PROC:-/proc}
TIMEOUT=${DOCTOR_TIMEOUT:-5}
KIT_TIMEOUT=${KIT_TIMEOUT:-120}
case $CLUSTER in kind | minikube) ;; *) usage "CLUSTER must be kind or minikube (got '$CLUSTER')" ;; esac
case $CLUSTER_NAME in '' | -* | *[!a-z0-9-]*) usage "CLUSTER_NAME must be lower-case letters, digits and dashes (got '$CLUSTER_NAME')" ;; esac
case $TIMEOUT$KIT_TIMEOUT in *[!0-9]*) usage "DOCTOR_TIMEOUT and KIT_TIMEOUT must be whole seconds (got '$TIMEOUT', '$KIT_TIMEOUT')" ;; esac
if [ -n "$KIT" ]; then
  [ -e "$KIT" ] || usage "KIT: no such file or folder '$KIT' (a kit folder or the kit's .tar.gz)"
  case $KIT in
    *.tar.gz | *.tgz) [ -f "$KIT" ] || usage "KIT: '$KIT' is not a file (a kit folder or the kit's .tar.gz)" ;;
    *) [ -d "$KIT" ] || usage "KIT must be a kit folder or the kit's .tar.gz (got '$KIT')" ;;
  esac
  case $KIT in /*) ;; *) KIT=$PWD/$KIT ;; esac # still valid after the cd below
fi

cd "$(dirname "$0")/../.." || exit 2
# The pinned versions: k8s/versions.env (KIND_VERSION, KUBECTL_VERSION) and the node image in
# k8s/kind-config.yaml, whose tag is the node's Kubernetes version. Read, never copied.
# shellcheck source=k8s/versions.env
. k8s/versions.env
# shellcheck source=k8s/scripts/install-hints.sh
. k8s/scripts/install-hints.sh
NODE_IMAGE=$(sed -n 's/^ *image: *//p' k8s/kind-config.yaml | head -n 1)
NODE_K8S=$(printf '%s\n' "$NODE_IMAGE" | sed -n 's/^[^:]*:\(v[0-9][0-9.]*\).*/\1/p')
# The kit carries this script too (k8s/scripts/ in the kit folder): there the version is the image tag
# its lessons use (the component's newTag), and the kit to check is the folder itself.
if [ -f Cargo.toml ]; then
  VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
else
  VERSION=$(sed -n 's/^ *newTag: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' k8s/components/hello-demo/kustomization.yaml | head -n 1)
  [ -z "$KIT" ] && [ -f load ] && [ -f SHA256SUMS ] && KIT=$PWD
fi
[ -n "$NODE_K8S" ] && [ -n "$VERSION" ] && [ -n "${KIND_VERSION:-}" ] ||
  usage "cannot read the pins (k8s/versions.env, the image in k8s/kind-config.yaml, the version in Cargo.toml or the kit's lessons)"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/doctor.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- output: one line per check; the marks read the same without colour and pasted in a chat
OKS=0 WARNS=0 FAILS=0 SKIPS=0 BLOCKED=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  C_OK=$(printf '\033[32m') C_WARN=$(printf '\033[33m') C_FAIL=$(printf '\033[1;31m') C_OFF=$(printf '\033[0m')
else
  C_OK='' C_WARN='' C_FAIL='' C_OFF=''
fi
# report ok|warn|FAIL|skip CHECK WHAT [FIX]
report() {
  case $1 in
    ok) OKS=$((OKS + 1)) && set -- "${C_OK}[ ok ]$C_OFF" "$2" "$3" "${4:-}" ;;
    warn) WARNS=$((WARNS + 1)) && set -- "${C_WARN}[warn]$C_OFF" "$2" "$3" "${4:-}" ;;
    FAIL) FAILS=$((FAILS + 1)) && BLOCKED="$BLOCKED $2" && set -- "${C_FAIL}[FAIL]$C_OFF" "$2" "$3" "${4:-}" ;;
    skip) SKIPS=$((SKIPS + 1)) && set -- "[skip]" "$2" "$3" "${4:-}" ;;
  esac
  if [ -n "$4" ]; then
    printf '%s %-10s %s; fix: %s\n' "$1" "$2" "$3" "$4"
  else
    printf '%s %-10s %s\n' "$1" "$2" "$3"
  fi
}

# ---- running commands, each bounded: macOS has no timeout(1), so a watchdog kills the command
# bounded SECS CMD...: stdout in $TMPD/out, stderr in $TMPD/err; status 124 when CMD was killed.
# The watchdog is a subshell that runs `sleep SECS` and writes down its pid; once CMD ends, that
# sleep is stopped, so the watchdog ends at once and kills nothing. (Signalling the subshell itself
# races with it dropping this shell's traps: dash then swallows the signal and sleeps on.)
bounded() {
  secs=$1
  shift
  rm -f "$TMPD/timedout" "$TMPD/sleep.pid"
  "$@" >"$TMPD/out" 2>"$TMPD/err" </dev/null &
  cmd_pid=$!
  (
    sleep "$secs" &
    echo "$!" >"$TMPD/sleep.pid"
    wait "$!" && kill -TERM "$cmd_pid" 2>/dev/null && : >"$TMPD/timedout"
  ) >/dev/null 2>&1 &
  watch_pid=$!
  wait "$cmd_pid"
  rc=$?
  while [ ! -s "$TMPD/sleep.pid" ] && kill -0 "$watch_pid" 2>/dev/null; do :; done
  kill "$(cat "$TMPD/sleep.pid" 2>/dev/null)" 2>/dev/null
  wait "$watch_pid"
  if [ -f "$TMPD/timedout" ]; then return 124; fi
  return "$rc"
}
run() { bounded "$TIMEOUT" "$@"; }
# The first line of what a failed command said, for the report.
said() { head -n 1 "$TMPD/err" "$TMPD/out" 2>/dev/null | grep -v '^==>' | grep -v '^$' | head -n 1; }
why() { # RC CMD: why a bounded command gave no answer
  if [ "$1" = 124 ]; then echo "'$2' did not answer within ${TIMEOUT}s"; else echo "'$2' failed: $(said)"; fi
}
has() { command -v "$1" >/dev/null 2>&1; }
first_version() { grep -oE 'v?[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1; }
# vnum v1.36.1 -> 1036001, so versions compare as numbers (suffixes such as -dispatcher ignored).
vnum() { printf '%s\n' "$1" | sed 's/^v//' | awk -F. '{ printf "%d\n", $1 * 1000000 + $2 * 1000 + $3 }'; }
# norm_arch x86_64 -> amd64, aarch64 -> arm64 (what image platforms call them); others as they are.
norm_arch() { case $1 in x86_64 | amd64) echo amd64 ;; aarch64 | arm64) echo arm64 ;; *) echo "$1" ;; esac; }
minor() { printf '%s\n' "$1" | sed 's/^v//' | awk -F. '{ print $2 + 0 }'; }
gib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1048576 }'; } # KiB -> GiB, one decimal

# ---- the checks
check_shell() { # the scripts behind make demo/e2e/lesson-N need bash 4.3 (common.sh)
  if ! has bash; then
    report FAIL bash "not found; make demo and the cluster scripts need bash 4.3+" "$(install_hint bash)"
    return
  fi
  # shellcheck disable=SC2016 # expanded by that bash, not by this shell
  run bash -c 'echo "${BASH_VERSINFO[0]} ${BASH_VERSINFO[1]} $BASH_VERSION"'
  read -r major minor_v full <"$TMPD/out" || true
  if [ "${major:-0}" -gt 4 ] || { [ "${major:-0}" -eq 4 ] && [ "${minor_v:-0}" -ge 3 ]; }; then
    report ok bash "$full (the cluster scripts need 4.3+)"
  else
    report FAIL bash "${full:-unknown version} at $(command -v bash) is older than 4.3, which the cluster scripts need" \
      "$(install_hint bash), and put it first on PATH"
  fi
}

check_make() {
  if ! has make; then
    report FAIL make "not found; the workshop runs make demo, make lesson-N" "$(install_hint make)"
    return
  fi
  run make --version
  v=$(head -n 1 "$TMPD/out" | first_version)
  case $(head -n 1 "$TMPD/out") in
    'GNU Make'*) ;;
    *)
      report FAIL make "$(command -v make) is not GNU make" "$(install_hint make)"
      return
      ;;
  esac
  # .SHELLFLAGS (so recipes stop at the first error, with pipefail) came with GNU make 3.82;
  # macOS still ships 3.81.
  if [ "$(vnum "$v")" -lt "$(vnum 3.82)" ]; then
    report warn make "GNU make $v ignores .SHELLFLAGS, so a failing recipe line may not stop the recipe" \
      "brew install make, then run gmake instead of make"
  else
    report ok make "GNU make $v"
  fi
}

ENGINE=0 ARCH='' ENGINE_INFO=''
check_engine() {
  if ! has docker; then
    if has podman; then
      report FAIL engine "docker not found (podman is: kind can use it with KIND_EXPERIMENTAL_PROVIDER=podman, but the make targets call docker)" "$(install_hint docker)"
    else
      report FAIL engine "docker not found" "$(install_hint docker)"
    fi
    return
  fi
  # One docker info for every engine fact (version, platform, image store, data dir, proxy, memory).
  run docker info --format 'server={{.ServerVersion}}{{"\n"}}arch={{.Architecture}}{{"\n"}}osname={{.OperatingSystem}}{{"\n"}}driver={{.Driver}}{{"\n"}}driverstatus={{.DriverStatus}}{{"\n"}}root={{.DockerRootDir}}{{"\n"}}httpproxy={{.HTTPProxy}}{{"\n"}}httpsproxy={{.HTTPSProxy}}{{"\n"}}noproxy={{.NoProxy}}{{"\n"}}mem={{.MemTotal}}'
  rc=$?
  ENGINE_INFO=$TMPD/info
  cp "$TMPD/out" "$ENGINE_INFO"
  server=$(info server)
  if [ "$rc" != 0 ] || [ -z "$server" ]; then
    report FAIL engine "docker is installed but the engine does not answer ($(why "$rc" 'docker info'))" \
      "start Docker (Docker Desktop: open the app; Linux: sudo systemctl start docker), then check: docker info"
    return
  fi
  ENGINE=1
  ARCH=$(norm_arch "$(info arch)")
  host=$(norm_arch "$(uname -m)")
  what="Docker $server answers ($(info osname)); platform linux/$ARCH: images build as PLATFORM=linux/$ARCH (the default here), a kit loads its images/$ARCH"
  case $ARCH in
    amd64 | arm64) ;;
    *)
      report FAIL engine "$what; kind ships node images for amd64 and arm64 only" "use an amd64 or arm64 machine"
      return
      ;;
  esac
  if [ "$host" != "$ARCH" ]; then
    report warn engine "$what, but this machine is $host: the engine emulates linux/$ARCH (slow)" \
      "use an engine for linux/$host (Docker Desktop: turn off the amd64 emulation setting)"
  else
    report ok engine "$what"
  fi
}
info() { sed -n "s/^$1=//p" "$ENGINE_INFO"; }

check_image_store() { # kind #3795: kind load docker-image fails with the containerd image store
  [ "$ENGINE" = 1 ] || {
    report skip store "cannot check the image store: the engine does not answer"
    return
  }
  case $(info driverstatus) in
    *io.containerd.snapshotter.v1*)
      run docker save --help
      if grep -q -- '--platform' "$TMPD/out"; then
        report ok store "containerd image store ($(info driver)): kind load docker-image fails there (kind #3795); make kind-load already takes the docker save --platform + kind load image-archive path"
      else
        report warn store "containerd image store ($(info driver)) and a docker CLI without save --platform (needs 28+): kind load docker-image fails there (kind #3795) and make kind-load cannot save one platform" \
          "update the docker CLI to 28 or newer (https://docs.docker.com/get-docker/)"
      fi
      ;;
    *) report ok store "classic image store ($(info driver)): kind load works either way" ;;
  esac
}

check_kind() {
  if ! has kind; then
    report FAIL kind "not found; the workshop cluster is a kind cluster" "$(install_hint kind)"
    return
  fi
  run kind version
  rc=$?
  have=$(first_version <"$TMPD/out")
  if [ -z "$have" ]; then
    report FAIL kind "cannot read the kind version ($(why "$rc" 'kind version'))" "$(install_hint kind)"
  elif [ "$(vnum "$have")" -lt "$(vnum "$KIND_VERSION")" ]; then
    report FAIL kind "kind $have is older than $KIND_VERSION, the release the node image in k8s/kind-config.yaml was built for (kind load needs it)" \
      "$(install_hint kind)"
  else
    report ok kind "kind $have (needs $KIND_VERSION or newer)"
  fi
}

check_node_image() {
  [ "$ENGINE" = 1 ] || {
    report skip node-image "cannot check for $NODE_IMAGE: the engine does not answer"
    return
  }
  if run docker image inspect --format '{{.Id}}' "$NODE_IMAGE"; then
    report ok node-image "kindest/node $NODE_K8S (pinned by digest) is in the engine: kind create works offline"
    return
  fi
  # How big the pull will be: the registry's manifest for this platform (needs the network).
  size=''
  if run docker manifest inspect -v "${NODE_IMAGE%%:*}@${NODE_IMAGE#*@}"; then
    size=$(awk -v want="$ARCH" '
      /"Ref":/ { arch = "" }
      /"architecture":/ { a = $2; gsub(/[",]/, "", a); arch = a }
      /"layers": *\[/ { inl = 1; next }
      inl && /^ *\]/ { inl = 0 }
      inl && /"size":/ { s = $2; gsub(/[^0-9]/, "", s); sum[arch] += s; all += s }
      END { if (sum[want] > 0) print sum[want]; else if (all > 0) print all }' "$TMPD/out")
  fi
  if [ -n "$size" ]; then
    pull="kind create cluster pulls it: $(awk -v b="$size" 'BEGIN { printf "%d", b / 1000000 }') MB for linux/$ARCH"
  else
    pull="kind create cluster pulls it (size unknown: the registry did not answer)"
  fi
  report warn node-image "kindest/node $NODE_K8S is not in the engine; $pull" "pull it today, while online: docker pull $NODE_IMAGE"
}

check_kubectl() {
  if ! has kubectl; then
    report FAIL kubectl "not found; every lesson runs kubectl" "$(install_hint kubectl)"
    return
  fi
  run kubectl version --client
  rc=$?
  have=$(first_version <"$TMPD/out")
  if [ -z "$have" ]; then
    report warn kubectl "cannot read the kubectl version ($(why "$rc" 'kubectl version --client'))" "$(install_hint kubectl)"
    return
  fi
  skew=$(($(minor "$have") - $(minor "$NODE_K8S")))
  [ "$skew" -ge 0 ] || skew=$((-skew))
  if [ "$skew" -le 1 ]; then
    report ok kubectl "kubectl $have, within one minor of the node's Kubernetes $NODE_K8S"
  else
    report warn kubectl "kubectl $have is $skew minors from the node's Kubernetes $NODE_K8S (kubectl supports one minor either way)" \
      "$(install_hint kubectl)"
  fi
}

check_minikube() {
  if ! has minikube; then
    report FAIL minikube "not found (CLUSTER=minikube)" "$(install_hint minikube)"
    return
  fi
  run minikube version --short
  have=$(first_version <"$TMPD/out")
  driver=''
  if run minikube config get driver; then driver=$(head -n 1 "$TMPD/out"); fi
  [ -n "$driver" ] || driver='not set: minikube picks one at start'
  report ok minikube "minikube ${have:-(version unknown)}, driver $driver"
}

check_cluster() {
  context=kind-$CLUSTER_NAME
  [ "$CLUSTER" = kind ] || context=$CLUSTER_NAME
  if ! has "$CLUSTER"; then
    report skip cluster "cannot look for the $CLUSTER cluster $CLUSTER_NAME: $CLUSTER not found"
    return
  fi
  if [ "$CLUSTER" = kind ]; then
    run kind get clusters
    rc=$?
    if [ "$rc" != 0 ]; then
      report skip cluster "cannot list the kind clusters ($(why "$rc" 'kind get clusters'))"
      return
    fi
    grep -qx "$CLUSTER_NAME" "$TMPD/out" && exists=1 || exists=0
  else
    run minikube -p "$CLUSTER_NAME" status --format '{{.Host}}'
    grep -q . "$TMPD/out" && ! grep -qi 'not found' "$TMPD/out" && exists=1 || exists=0
  fi
  if [ "$exists" = 0 ]; then
    report ok cluster "no $CLUSTER cluster $CLUSTER_NAME yet: make demo (or make $CLUSTER-up) creates it"
    return
  fi
  current=''
  if has kubectl && run kubectl config current-context; then current=$(head -n 1 "$TMPD/out"); fi
  if [ "$current" = "$context" ]; then
    report ok cluster "$CLUSTER cluster $CLUSTER_NAME exists and the current context is $context"
  else
    report warn cluster "$CLUSTER cluster $CLUSTER_NAME exists but the current context is ${current:-not set}: the make targets pass --context $context, kubectl typed by hand does not" \
      "kubectl config use-context $context"
  fi
}

# A limit from /proc (DOCTOR_PROC for tests), else sysctl (BSD, macOS); empty when neither has it.
limit() {
  f=$PROC/sys/$(printf '%s\n' "$1" | tr . /)
  if [ -r "$f" ]; then
    cat "$f"
  elif has sysctl && run sysctl -n "$1"; then
    cat "$TMPD/out"
  fi
}

check_inotify() { # kind known issues: "too many open files" in pods; kind's values 524288 and 512
  watches=$(limit fs.inotify.max_user_watches)
  instances=$(limit fs.inotify.max_user_instances)
  if [ -z "$watches" ] || [ -z "$instances" ]; then
    report skip inotify "no fs.inotify limits on this machine ($(uname -s)): the engine runs in a VM, whose limits are the VM's"
    return
  fi
  fix=''
  [ "$watches" -ge 524288 ] || fix="sudo sysctl fs.inotify.max_user_watches=524288"
  [ "$instances" -ge 512 ] || fix="${fix:+$fix && }sudo sysctl fs.inotify.max_user_instances=512"
  if [ -n "$fix" ]; then
    report warn inotify "max_user_watches $watches, max_user_instances $instances: below kind's 524288 / 512, pods may fail with \"too many open files\"" \
      "$fix (to keep them: fs.inotify.max_user_watches = 524288 and fs.inotify.max_user_instances = 512 in /etc/sysctl.conf)"
  else
    report ok inotify "max_user_watches $watches, max_user_instances $instances (kind suggests 524288 / 512)"
  fi
}

check_disk() { # minikube asks for 20 GB free; a kind node image alone unpacks to about a GB
  [ "$ENGINE" = 1 ] || {
    report skip disk "cannot ask the engine where it keeps its data: it does not answer"
    return
  }
  root=$(info root)
  if [ ! -d "$root" ] || ! run df -Pk "$root"; then
    report skip disk "the engine keeps its data in $root, which is not on this machine (a VM): see its settings (Docker Desktop: Settings > Resources)"
    return
  fi
  free=$(awk 'NR == 2 { print $4 }' "$TMPD/out")
  if [ "${free:-0}" -lt $((20 * 1048576)) ]; then
    report warn disk "$(gib "$free") GiB free in $root, under the 20 GiB minikube asks for" \
      "free space there (docker system df shows what the engine uses)"
  else
    report ok disk "$(gib "$free") GiB free in $root"
  fi
}

check_memory() { # minikube asks for 2 GB of free memory; so does a kind node with the lessons
  if [ -r "$PROC/meminfo" ]; then
    kib=$(awk '/^MemAvailable:/ { print $2 }' "$PROC/meminfo")
    what="available"
  elif has sysctl && run sysctl -n hw.memsize; then
    kib=$(($(cat "$TMPD/out") / 1024))
    what="in total"
  fi
  engine=''
  [ "$ENGINE" != 1 ] || [ -z "$(info mem)" ] || engine=", the engine has $(gib "$(($(info mem) / 1024))") GiB"
  if [ -z "${kib:-}" ]; then
    report skip memory "cannot read the memory of this machine (no $PROC/meminfo, no sysctl hw.memsize)$engine"
  elif [ "$kib" -lt $((2 * 1048576)) ]; then
    report warn memory "$(gib "$kib") GiB $what$engine, under the 2 GiB minikube asks for" "close programs (or give the engine's VM more memory)"
  else
    report ok memory "$(gib "$kib") GiB $what$engine"
  fi
}

# no_proxy_covers LIST ADDR: ADDR (or a suffix of it, or its CIDR as written) is in the list
no_proxy_covers() { printf ',%s,' "$1" | tr -d ' ' | grep -qF ",$2,"; }

check_proxy() { # the shell's proxy reaches kind/minikube and kubectl; the engine's reaches the pulls
  sh_proxy=${HTTPS_PROXY:-${https_proxy:-${HTTP_PROXY:-${http_proxy:-}}}}
  sh_no=${NO_PROXY:-${no_proxy:-}}
  if [ "$ENGINE" = 1 ]; then
    en_proxy=$(info httpsproxy)
    [ -n "$en_proxy" ] || en_proxy=$(info httpproxy)
  else
    en_proxy=''
  fi
  if [ -z "$sh_proxy" ] && [ -z "$en_proxy" ]; then
    if [ "$ENGINE" = 1 ]; then report ok proxy "no proxy in the shell or in the engine"; else report ok proxy "no proxy in the shell"; fi
    return
  fi
  if [ -n "$sh_proxy" ] && [ -z "$en_proxy" ] && [ "$ENGINE" = 1 ]; then
    report warn proxy "the shell has a proxy ($sh_proxy) but the engine has none: its pulls (the node image, the Rust build image) go around the proxy" \
      "give the engine the same proxy: https://docs.docker.com/engine/daemon/proxy/ (Docker Desktop: Settings > Resources > Proxies)"
    return
  fi
  if [ -z "$sh_proxy" ]; then
    report ok proxy "the engine uses a proxy ($en_proxy); none in the shell"
    return
  fi
  # The cluster's addresses must bypass the proxy: kind's API server is on 127.0.0.1; minikube's
  # docker driver puts its node on 192.168.49.0/24, services on 10.96.0.0/12 (minikube's docs).
  need='localhost 127.0.0.1'
  [ "$CLUSTER" = kind ] || need='localhost 127.0.0.1 10.96.0.0/12 192.168.49.0/24'
  missing=''
  for a in $need; do no_proxy_covers "$sh_no" "$a" || missing="$missing,$a"; done
  if [ -n "$missing" ]; then
    report warn proxy "proxy $sh_proxy in the shell and the engine, but NO_PROXY (${sh_no:-empty}) lacks ${missing#,}: cluster traffic would go to the proxy" \
      "export NO_PROXY=${sh_no:+$sh_no,}${missing#,}"
  else
    report ok proxy "proxy $sh_proxy in the shell and the engine; NO_PROXY covers the cluster ($(echo "$need" | tr ' ' ,))"
  fi
}

check_images() { # the lessons' images: built here for this platform, or from the kit
  if [ -n "$KIT" ]; then
    check_kit
    return
  fi
  [ "$ENGINE" = 1 ] || {
    report skip images "cannot look for hello-once:$VERSION, hello-loop:$VERSION: the engine does not answer"
    return
  }
  found='' wrong='' missing=''
  for image in "hello-once:$VERSION" "hello-loop:$VERSION"; do
    if run docker image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}}' "$image"; then
      platform=$(awk '{ print $2 }' "$TMPD/out")
      if [ "$platform" = "linux/$ARCH" ]; then found="$found $image"; else wrong="$wrong $image ($platform)"; fi
    else
      missing="$missing $image"
    fi
  done
  if [ -n "$wrong" ]; then
    report warn images "built for another platform than the engine's linux/$ARCH:$wrong" "make images (builds for linux/$ARCH)"
  elif [ -n "$missing" ]; then
    report warn images "not built yet:$missing; make demo builds them, which needs the Rust build image from a registry" \
      "make images today (OFFLINE=1 without registry access), or bring the kit: make doctor KIT=path/to/kit"
  else
    report ok images "hello-once:$VERSION and hello-loop:$VERSION are built for linux/$ARCH"
  fi
}

check_kit() { # the kit's own loader verifies its SHA256SUMS: `load verify` exits 0, or 2 with one line
  dir=$KIT
  case $KIT in
    *.tar.gz | *.tgz)
      mkdir "$TMPD/kit"
      if ! bounded "$KIT_TIMEOUT" tar -xzf "$KIT" -C "$TMPD/kit"; then
        report FAIL kit "cannot extract $KIT: $(said)" "download the kit again"
        return
      fi
      dir=$TMPD/kit
      load=$(find "$TMPD/kit" -name load -type f | head -n 1) # the kit's folder inside the archive
      [ -f "$dir/load" ] || [ -z "$load" ] || dir=$(dirname "$load")
      ;;
  esac
  if [ ! -f "$dir/load" ]; then
    report FAIL kit "$KIT is not a kit: it has no load script" "use the kit folder or .tar.gz as handed out"
    return
  fi
  # The loader reads KIT_DIR and DRY_RUN from the environment: pin them to this kit, for real.
  bounded "$KIT_TIMEOUT" env KIT_DIR="$dir" DRY_RUN=0 sh "$dir/load" verify
  rc=$?
  # A kit holds images/<arch>/ per platform it was made for (make kit KIT_PLATFORMS=... limits them).
  if [ "$rc" = 0 ] && [ -n "$ARCH" ] && [ -d "$dir/images" ] && [ ! -d "$dir/images/$ARCH" ]; then
    have=''
    for d in "$dir"/images/*/; do [ ! -d "$d" ] || have="$have $(basename "$d")"; done
    report FAIL kit "$KIT: the checksums verify, but it has no images for this engine's linux/$ARCH (only:${have:- none})" \
      "get the kit made for linux/$ARCH too (make kit KIT_PLATFORMS='linux/amd64 linux/arm64'), or build here: make images"
  elif [ "$rc" = 0 ]; then
    report ok kit "$KIT: every file matches its checksum (load verify)${ARCH:+, images for linux/$ARCH}"
  elif [ "$rc" = 124 ]; then
    report FAIL kit "$KIT: load verify did not finish within ${KIT_TIMEOUT}s" "run sh load verify in the kit folder"
  else
    report FAIL kit "$KIT: $(said)" "download the kit again (or copy it again from the USB stick)"
  fi
}

# ---- the run: blockers first (all that --blockers-only runs), then what only warns
check_shell
check_make
check_engine
if [ "$CLUSTER" = kind ]; then check_kind; else check_minikube; fi
check_kubectl
if [ "$QUICK" = 0 ]; then
  check_image_store
  [ "$CLUSTER" != kind ] || check_node_image
  check_cluster
  check_inotify
  check_disk
  check_memory
  check_proxy
  check_images
fi

if [ "$FAILS" -gt 0 ]; then
  printf 'doctor: %d blocker(s) (%s), %d warning(s), %d ok, %d skipped: fix the [FAIL] lines first\n' \
    "$FAILS" "$(echo "$BLOCKED" | sed 's/^ //; s/ /, /g')" "$WARNS" "$OKS" "$SKIPS"
  exit 1
fi
if [ "$QUICK" = 1 ]; then
  printf 'doctor: nothing blocks (%d ok); the full check: make doctor\n' "$OKS"
else
  printf 'doctor: nothing blocks: %d ok, %d warning(s), %d skipped\n' "$OKS" "$WARNS" "$SKIPS"
fi
