# shellcheck shell=bash disable=SC2034 # settings defined here are used by the scripts that source it
# Helpers shared by the cluster scripts (cluster.sh, lesson.sh, demo.sh, e2e.sh). Sourced, not run.
#
# Every command that touches Docker, kind, minikube or the cluster goes through `run` (or one of the
# helpers built on it), which prints it before running it. With DRY_RUN=1 it only prints, so
# `DRY_RUN=1 make demo` lists every command the demo would run, without a cluster and without any
# of those tools installed. The printed form is the same in both modes, so what the audience sees
# during a live demo is exactly what CI checks in dry-run mode.
#
# Needs bash 4.3+ (Linux, or macOS with a newer bash than its own 3.2); tested with bash 5.2.

if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 3))); then
  echo "${0##*/}: needs bash 4.3 or newer (this is $BASH_VERSION); on macOS: brew install bash" >&2
  exit 1
fi

# ---- settings (environment), validated once: bad input is one line naming the variable, exit 2
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_ROOT" || exit 1

usage_error() {
  printf '%s: %s\n' "${0##*/}" "$*" >&2
  exit 2
}

DRY_RUN=${DRY_RUN:-0}
PAUSE=${PAUSE:-0}
KEEP=${KEEP:-0}
CLUSTER=${CLUSTER:-kind}
CLUSTER_NAME=${CLUSTER_NAME:-hello}
NAMESPACE=hello-demo # fixed by k8s/components/hello-demo; the scripts only read it
case $DRY_RUN in 0 | 1) ;; *) usage_error "DRY_RUN must be 0 or 1 (got '$DRY_RUN')" ;; esac
case $PAUSE in 0 | 1) ;; *) usage_error "PAUSE must be 0 or 1 (got '$PAUSE')" ;; esac
case $KEEP in 0 | 1) ;; *) usage_error "KEEP must be 0 or 1 (got '$KEEP')" ;; esac
case $CLUSTER in kind | minikube) ;; *) usage_error "CLUSTER must be kind or minikube (got '$CLUSTER')" ;; esac
[[ $CLUSTER_NAME =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] ||
  usage_error "CLUSTER_NAME must be lower-case letters, digits and dashes (got '$CLUSTER_NAME')"

# The images the lessons use. The Makefile passes its ONCE_IMAGE/LOOP_IMAGE; run directly, the
# scripts derive the same names from the workspace version.
VERSION=${VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)}
ONCE_IMAGE=${ONCE_IMAGE:-hello-once:$VERSION}
LOOP_IMAGE=${LOOP_IMAGE:-hello-loop:$VERSION}

# Every kubectl call names its context, so a demo can never act on whatever cluster the user's
# kubeconfig happens to point at. kind names its context kind-<cluster>; minikube uses the profile.
if [[ $CLUSTER == kind ]]; then
  KUBE_CONTEXT=${KUBE_CONTEXT:-kind-$CLUSTER_NAME}
else
  KUBE_CONTEXT=${KUBE_CONTEXT:-$CLUSTER_NAME}
fi

# Scratch files (logs captured during a lesson, image archives): inside the repo's gitignored
# .cache so that printed paths are the same on every machine.
WORK_DIR=.cache/flows
POLL_INTERVAL=${POLL_INTERVAL:-2}
[[ $POLL_INTERVAL =~ ^[0-9]+$ ]] || usage_error "POLL_INTERVAL must be whole seconds (got '$POLL_INTERVAL')"

# ---- output
if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
  C_CMD=$'\e[2m' C_SAY=$'\e[1;36m' C_OK=$'\e[32m' C_BAD=$'\e[1;31m' C_OFF=$'\e[0m'
else
  C_CMD='' C_SAY='' C_OK='' C_BAD='' C_OFF=''
fi

# Quote one argument so a printed command can be pasted back into a shell. Plain words stay as
# they are; anything else is single-quoted (readable for jsonpath templates, unlike printf %q).
shell_quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

format_cmd() {
  local out='$' arg
  for arg in "$@"; do out+=" $(shell_quote "$arg")"; done
  printf '%s' "$out"
}
print_cmd() { printf '%s%s%s\n' "$C_CMD" "$(format_cmd "$@")" "$C_OFF"; }

say() { printf '%s==> %s%s\n' "$C_SAY" "$*" "$C_OFF"; }
note() { printf '    %s\n' "$*"; }
ok() { printf '%s    ok: %s%s\n' "$C_OK" "$*" "$C_OFF"; }
warn() { printf '%swarning: %s%s\n' "$C_BAD" "$*" "$C_OFF" >&2; }

# A failed check ends the current lesson (a subshell in e2e.sh, the whole run in demo.sh).
fail() {
  printf '%sFAIL: %s%s\n' "$C_BAD" "$*" "$C_OFF" >&2
  exit 1
}

# ---- running commands
QUIET=0 # set by poll after its first round, so a wait loop prints its queries once

run() {
  ((QUIET)) || print_cmd "$@"
  ((DRY_RUN)) && return 0
  "$@"
}

# capture VAR CMD...: run CMD and store its stdout in VAR. A failing CMD leaves VAR empty and
# returns non-zero without printing its stderr twice. In dry-run mode VAR is empty.
capture() {
  local __var=$1 __out
  shift
  ((QUIET)) || print_cmd "$@"
  printf -v "$__var" '%s' ''
  ((DRY_RUN)) && return 0
  if ! __out=$("$@" 2>"$WORK_DIR/last-stderr"); then
    ((QUIET)) || sed 's/^/    /' "$WORK_DIR/last-stderr" >&2
    return 1
  fi
  printf -v "$__var" '%s' "$__out"
}

k() { run kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" "$@"; }
kcap() {
  local __var=$1
  shift
  capture "$__var" kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" "$@"
}

# Background processes (log followers, watches) are killed on exit, whatever the exit path.
BG_PIDS=()
# start_bg OUTFILE CMD...: run CMD in the background with stdout to OUTFILE; its pid in BG_PID.
start_bg() {
  local file=$1
  shift
  ((QUIET)) || printf '%s%s > %s &%s\n' "$C_CMD" "$(format_cmd "$@")" "$file" "$C_OFF"
  BG_PID=0
  ((DRY_RUN)) && return 0
  "$@" >"$file" 2>"$file.stderr" &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# stop_bg PID [GRACE]: give a background command GRACE seconds to end by itself, then stop it.
stop_bg() {
  local pid=$1 grace=${2:-0} waited=0
  ((DRY_RUN)) && return 0
  while kill -0 "$pid" 2>/dev/null && ((waited < grace)); do
    sleep 1
    waited=$((waited + 1))
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

kill_bg() {
  local pid
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}

# poll TIMEOUT DESCRIPTION FUNC [ARGS...]: call FUNC every POLL_INTERVAL seconds until it succeeds
# or TIMEOUT seconds pass. FUNC is a condition (see verify): it sets SEEN to what it last saw.
# Bounded on purpose: a lesson that never reaches its state fails with what it saw instead of hanging.
poll() {
  local timeout=${POLL_TIMEOUT_OVERRIDE:-$1} what=$2 deadline # the override is for test-flows only
  shift 2
  say "waiting up to ${timeout}s until $what"
  SEEN='(nothing yet)'
  if ((DRY_RUN)); then
    "$@" || true
    note "(poll every ${POLL_INTERVAL}s, at most ${timeout}s)"
    return 0
  fi
  deadline=$((SECONDS + timeout))
  while :; do
    if "$@"; then
      QUIET=0
      ok "$what (after $((timeout - deadline + SECONDS))s): $SEEN"
      return 0
    fi
    QUIET=1
    if ((SECONDS >= deadline)); then
      QUIET=0
      diagnose
      fail "timed out after ${timeout}s waiting until $what; last seen: $SEEN"
    fi
    sleep "$POLL_INTERVAL"
  done
}

# ---- conditions. A condition is a function that reads the cluster (get and logs only, never a
# change and never a wait), sets SEEN to what it saw and returns 0 when it holds. The same functions
# judge a lesson in make e2e/demo/lesson-N and a learner's exercise in make check-N (check.sh), so
# no condition is written twice. verify WHAT HINT COND [ARGS...] judges one:
#  - in a lesson: "ok: WHAT (saw: ...)", or diagnostics and one FAIL line that ends the lesson;
#  - when grading (GRADE=1): "met: WHAT (saw: ...)" or "not met: WHAT (saw: ...); hint: HINT", one
#    line each, and the grading goes on; GRADE_UNMET counts the unmet ones.
GRADE=${GRADE:-0}
GRADE_UNMET=0
verify() {
  local what=$1 hint=$2 seen met=0
  shift 2
  SEEN=''
  "$@" && met=1
  seen=${SEEN//$'\n'/ | } # logs span lines; one line per check reads better
  ((${#seen} <= 300)) || seen="${seen:0:300} ..."
  if ((DRY_RUN)); then
    note "check: $what"
  elif ((GRADE)); then
    if ((met)); then
      printf '%s  met: %s (saw: %s)%s\n' "$C_OK" "$what" "${seen:-nothing}" "$C_OFF"
    else
      GRADE_UNMET=$((GRADE_UNMET + 1))
      printf '%s  not met: %s (saw: %s); hint: %s%s\n' "$C_BAD" "$what" "${seen:-nothing}" "$hint" "$C_OFF"
    fi
  elif ((met)); then
    ok "$what (saw: ${seen:-nothing})"
  else
    diagnose
    fail "$what (saw: ${seen:-nothing})"
  fi
}

# value SEEN TEST...: the condition for a value a lesson already has (an exit code it watched).
value() {
  ((DRY_RUN)) && return 0
  SEEN=$1
  shift
  "$@"
}
# not COND...: holds when COND does not; SEEN is what COND saw.
not() { ! "$@"; }

# expect WHAT SEEN TEST...: one assertion on a value the lesson observed, e.g.
#   expect "the last run exited with code 0" "$code" int_eq "$code" 0
expect() {
  local what=$1
  shift
  verify "$what" '' value "$@"
}

is_int() { [[ $1 =~ ^-?[0-9]+$ ]]; }
int_ge() { is_int "$1" && is_int "$2" && (($1 >= $2)); }
int_le() { is_int "$1" && is_int "$2" && (($1 <= $2)); }
int_lt() { is_int "$1" && is_int "$2" && (($1 < $2)); }
int_eq() { is_int "$1" && is_int "$2" && (($1 == $2)); }
str_eq() { [[ $1 == "$2" ]]; }

# What a learner (or a CI log) needs when a wait fails: the pods, recent events, and a hint for the
# most common cause, an image the cluster cannot find.
diagnose() {
  ((DRY_RUN)) && return 0
  local pods reasons
  printf '\n--- diagnostics (namespace %s, context %s)\n' "$NAMESPACE" "$KUBE_CONTEXT" >&2
  kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get pods,jobs,deployments,cronjobs -o wide >&2 || true
  kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get events --sort-by=.lastTimestamp 2>&1 | tail -n 15 >&2 || true
  pods=$(kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get pods \
    -o 'jsonpath={range .items[*]}{.status.containerStatuses[*].state.waiting.reason}{"\n"}{end}' 2>/dev/null || true)
  reasons=$(grep -E 'ErrImagePull|ImagePullBackOff|ErrImageNeverPull' <<<"$pods" | sort -u | tr '\n' ' ' || true)
  if [[ -n $reasons ]]; then
    printf 'hint: %s: the cluster does not have %s / %s. run: make %s-load (after: make images)\n' \
      "$reasons" "$ONCE_IMAGE" "$LOOP_IMAGE" "$CLUSTER" >&2
    printf '      never use the tag latest: it implies imagePullPolicy Always, which pulls from a registry.\n' >&2
  fi
  if kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get pods \
    -o 'jsonpath={.items[*].status.containerStatuses[*].lastState.terminated.message}' 2>/dev/null |
    grep -q 'exec format error'; then
    printf 'hint: exec format error: the image was built for another CPU architecture than the node;\n' >&2
    printf '      rebuild for the node (make images on the same machine) and load it again (make %s-load)\n' "$CLUSTER" >&2
  fi
  printf -- '---\n\n' >&2
}

# ---- tools: checked before anything runs; a missing one prints how to install it and exits 1
# install_hint TOOL: the install line, shared with the doctor (POSIX sh, so in its own file).
# shellcheck source=k8s/scripts/install-hints.sh
source k8s/scripts/install-hints.sh

need() {
  local tool missing=0
  if ((DRY_RUN)); then
    note "(dry run: would check for $*)"
    return 0
  fi
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      printf '%s: %s not found; %s\n' "${0##*/}" "$tool" "$(install_hint "$tool")" >&2
      missing=1
    fi
  done
  ((missing == 0)) || exit 1
  if [[ " $* " == *" docker "* ]] && ! docker info >/dev/null 2>&1; then
    printf '%s: docker is installed but its daemon does not answer (docker info failed); start Docker first\n' "${0##*/}" >&2
    exit 1
  fi
}

# The tool that runs the cluster: kind or minikube.
cluster_tool() { echo "$CLUSTER"; }

# Pinned versions (kind, kubectl) live in k8s/versions.env, the one place every script reads.
# shellcheck source=k8s/versions.env
source k8s/versions.env
KIND_CONFIG=k8s/kind-config.yaml

# The context must exist before any lesson runs; otherwise say how to create it.
need_context() {
  ((DRY_RUN)) && return 0
  if ! grep -qxF "$KUBE_CONTEXT" <<<"$(kubectl config get-contexts -o name 2>/dev/null)"; then
    printf '%s: kubectl has no context %s; create the cluster first: make %s-up %s-load (or set KUBE_CONTEXT)\n' \
      "${0##*/}" "$KUBE_CONTEXT" "$CLUSTER" "$CLUSTER" >&2
    exit 1
  fi
}

pause() {
  ((PAUSE)) || return 0
  ((DRY_RUN)) && {
    note "(PAUSE=1: would wait for Enter)"
    return 0
  }
  if [[ -t 0 ]]; then
    read -r -p "    [Enter] to go on, Ctrl-C to stop " _
  else
    note "(PAUSE=1 but stdin is not a terminal: not pausing)"
  fi
}

mkdir -p "$WORK_DIR"
