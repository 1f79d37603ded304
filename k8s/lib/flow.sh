# shellcheck shell=sh
# The machinery that plays the lessons and grades the exercises: sourced by the entry scripts
# (k8s/scripts/lesson, check, demo, e2e) after k8s/lib/hello.sh. POSIX sh, like everything a
# learner runs. A lesson is its folder: k8s/NN-name/lesson.sh holds its title and its steps (`play`),
# and each k8s/NN-name/exercise-X/check.sh its title, its conditions (`grade`) and what e2e waits for
# before grading (`settle`). This file finds them by looking at the folders.
#
# Every command that touches the cluster goes through `run` (or a helper built on it), which prints
# it before running it. With DRY_RUN=1 it only prints, so `DRY_RUN=1 make demo` lists every command
# the demo would run, without a cluster and without any of the tools. The printed form is the same
# in both modes, so what the audience sees during a live demo is what the tests check.
# shellcheck disable=SC3043 # `local`: see k8s/lib/hello.sh
# shellcheck disable=SC2034 # settings and results are read by the lessons' and exercises' files

# shellcheck source=k8s/lib/timeline.sh
. "$ROOT/k8s/lib/timeline.sh"

# ---- settings (environment), validated once: bad input is one line naming the variable, exit 2
DRY_RUN=${DRY_RUN:-0}
PAUSE=${PAUSE:-0}
KEEP=${KEEP:-0}
CLUSTER=${CLUSTER:-kind}
CLUSTER_NAME=${CLUSTER_NAME:-hello}
POLL_INTERVAL=${POLL_INTERVAL:-2}
NAMESPACE=hello-demo # fixed by k8s/components/hello-demo; the scripts only read it
for setting in DRY_RUN PAUSE KEEP; do
  eval "value=\$$setting"
  # shellcheck disable=SC2154 # assigned by the eval above
  case $value in 0 | 1) ;; *) die 2 "$setting must be 0 or 1 (got '$value')" ;; esac
done
case $CLUSTER in kind | minikube) ;; *) die 2 "CLUSTER must be kind or minikube (got '$CLUSTER')" ;; esac
case $CLUSTER_NAME in
  '' | -* | *- | *[!a-z0-9-]*) die 2 "CLUSTER_NAME must be lower-case letters, digits and dashes (got '$CLUSTER_NAME')" ;;
esac
case $POLL_INTERVAL in '' | *[!0-9]*) die 2 "POLL_INTERVAL must be whole seconds (got '$POLL_INTERVAL')" ;; esac
# Every kubectl call names its context, so a lesson can never act on whatever cluster the
# kubeconfig happens to point at. kind names its context kind-<cluster>; minikube uses the profile.
if [ "$CLUSTER" = kind ]; then KUBE_CONTEXT=${KUBE_CONTEXT:-kind-$CLUSTER_NAME}; else KUBE_CONTEXT=${KUBE_CONTEXT:-$CLUSTER_NAME}; fi
# Scratch files (the streams of a watched pod, lesson 1's looks at its pod): gitignored .cache in the
# repository; beside the lessons in a kit. HELLO_WORK_DIR moves them (the tests do).
WORK_DIR=${HELLO_WORK_DIR:-.cache/flows}
[ "$DRY_RUN" = 1 ] || mkdir -p "$WORK_DIR" || die 1 "cannot create $WORK_DIR"
# The shell that runs the scripts this one starts (the loader): sh, unless the tests pick one.
HELLO_SH=${HELLO_SH:-sh}

# ---- output
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  C_CMD=$(printf '\033[2m') C_SAY=$(printf '\033[1;36m') C_OK=$(printf '\033[32m') C_BAD=$(printf '\033[1;31m') C_OFF=$(printf '\033[0m')
else
  C_CMD='' C_SAY='' C_OK='' C_BAD='' C_OFF=''
fi
show() { printf '%s%s%s\n' "$C_CMD" "$(command_line "$@")" "$C_OFF"; }
say() { printf '%s==> %s%s\n' "$C_SAY" "$*" "$C_OFF"; }
note() { printf '    %s\n' "$*"; }
ok() { printf '%s    ok: %s%s\n' "$C_OK" "$*" "$C_OFF"; }
warn() { printf '%swarning: %s%s\n' "$C_BAD" "$*" "$C_OFF" >&2; }
narrate() {
  local line
  for line in "$@"; do printf '    | %s\n' "$line"; done
}
# fail MESSAGE: a lesson did not turn out as its README says: one FAIL line, and the lesson (a
# subshell, see play_lesson) or the script ends with status 1.
fail() {
  printf '%sFAIL: %s%s\n' "$C_BAD" "$*" "$C_OFF" >&2
  exit 1
}
now() { date +%s; }
# nap: a fifth of a second where sleep takes fractions (GNU, BSD, busybox), else a second (POSIX
# promises only whole seconds). For the short waits on a background stream.
nap() { sleep 0.2 2>/dev/null || sleep 1; }

# ---- running commands
QUIET=0 # set by poll after its first round, so a wait loop prints its queries once

# run CMD...: print CMD, then run it (not in a dry run); its status.
run() {
  [ "$QUIET" = 1 ] || show "$@"
  [ "$DRY_RUN" = 1 ] && return 0
  "$@"
}
# must CMD...: run, and a failure ends the lesson (or the script) with one FAIL line naming it.
must() {
  local rc
  rc=0
  run "$@" || rc=$?
  [ "$rc" = 0 ] || fail "the command above failed (exit $rc): $(command_line "$@" | cut -c3-)"
}
# k ARGS...: a kubectl step of the lesson, in its context and namespace. It must succeed: a failure
# ends the lesson with the diagnostics and one FAIL line naming the command.
k() {
  local rc
  rc=0
  run kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" "$@" || rc=$?
  [ "$rc" = 0 ] && return 0
  diagnose
  fail "the command above failed (exit $rc): kubectl $(command_line "$@" | cut -c3-)"
}

# capture VAR CMD...: run CMD and store its stdout in VAR. A failing CMD leaves VAR empty and returns
# its status, its stderr shown once (indented) and kept in $WORK_DIR/last-stderr. Empty in a dry run.
capture() {
  local __var __out __rc
  __var=$1 __rc=0
  shift
  [ "$QUIET" = 1 ] || show "$@"
  eval "$__var=''"
  [ "$DRY_RUN" = 1 ] && return 0
  __out=$("$@" 2>"$WORK_DIR/last-stderr") || __rc=$?
  if [ "$__rc" != 0 ]; then
    [ "$QUIET" = 1 ] || sed 's/^/    /' "$WORK_DIR/last-stderr" >&2
    return "$__rc"
  fi
  eval "$__var=\$__out"
}
kcap() {
  local __v
  __v=$1
  shift
  capture "$__v" kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" "$@"
}
# kread VAR WHAT ARGS...: kcap, and on an error SEEN says what could not be read and why.
kread() {
  local __v __what
  __v=$1 __what=$2
  shift 2
  kcap "$__v" "$@" && return 0
  SEEN="$__what: $(head -n 1 "$WORK_DIR/last-stderr" 2>/dev/null)"
  return 1
}

# Background streams (a watch, logs -f) are stopped on every exit path: kill_bg from an EXIT trap.
BG_PIDS=''
# start_bg OUTFILE CMD...: run CMD in the background, stdout to OUTFILE; its pid in BG_PID.
start_bg() {
  local file
  file=$1
  shift
  [ "$QUIET" = 1 ] || printf '%s%s > %s &%s\n' "$C_CMD" "$(command_line "$@")" "$file" "$C_OFF"
  BG_PID=0
  [ "$DRY_RUN" = 1 ] && return 0
  "$@" >"$file" 2>"$file.stderr" &
  BG_PID=$!
  BG_PIDS="$BG_PIDS $BG_PID"
}
# stop_bg PID [GRACE [FILE TEXT]]: give a background command GRACE seconds to end by itself (or
# until FILE has a line starting with TEXT), then stop it.
stop_bg() {
  local pid grace deadline
  pid=$1 grace=${2:-0}
  [ "$DRY_RUN" = 1 ] && return 0
  deadline=$(($(now) + grace))
  while kill -0 "$pid" 2>/dev/null && [ "$(now)" -lt "$deadline" ]; do
    [ -z "${3:-}" ] || ! grep -q "^$4" "$3" 2>/dev/null || break
    nap
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
kill_bg() {
  local pid
  for pid in $BG_PIDS; do kill "$pid" 2>/dev/null; done
  return 0
}

# ---- conditions. A condition reads the cluster (get and logs only, never a change and never a
# wait), sets SEEN to what it saw and returns 0 when it holds, 1 when it does not, and 3 when it
# does not hold yet but will by itself: the cluster is still getting there (an old pod in its grace
# period, a restart under way). Then WAIT_SECONDS says how long to give it. The same functions judge
# a lesson (make demo, lesson-N, e2e) and a learner's exercise (make check-N), so none is written
# twice. verify WHAT HINT COND [ARGS...] judges one:
#  - in a lesson: "ok: WHAT (saw: ...)", or diagnostics and one FAIL line that ends the lesson (a
#    lesson waits with poll before it verifies, so "not yet" is a failure there too);
#  - when grading (GRADE=1), one line each, and the grading goes on: "met: WHAT (saw: ...)", or
#    "not met: WHAT (saw: ...); hint: HINT" (GRADE_UNMET counts them), or "wait: WHAT (saw: ...);
#    check again in Ns" (GRADE_WAITS counts them, GRADE_WAIT_MAX is the longest wait).
GRADE=${GRADE:-0}
GRADE_UNMET=0
GRADE_WAITS=0
GRADE_WAIT_MAX=0
SEEN=''
WAIT_SECONDS=0
# wall_clock: now, in seconds since 1970, for judging the cluster's timestamps (the graders only).
# HELLO_NOW stands in for the clock (the tests set it, so a simulated state is judged at its `now`).
wall_clock() {
  if [ -n "${HELLO_NOW:-}" ]; then printf '%s\n' "$HELLO_NOW"; else date -u +%s; fi
}
one_line() { # what was seen, on one line and at most 300 characters
  printf '%s' "$1" | awk 'NR > 1 { printf " | " } { printf "%s", $0 }' |
    awk '{ if (length($0) > 300) print substr($0, 1, 300) " ..."; else print }'
}
verify() {
  local what hint rc seen
  what=$1 hint=$2 rc=0
  shift 2
  SEEN='' WAIT_SECONDS=0
  "$@" || rc=$?
  seen=$(one_line "$SEEN")
  if [ "$DRY_RUN" = 1 ]; then
    note "check: $what"
  elif [ "$GRADE" = 1 ]; then
    case $rc in
      0) printf '%s  met: %s (saw: %s)%s\n' "$C_OK" "$what" "${seen:-nothing}" "$C_OFF" ;;
      3)
        GRADE_WAITS=$((GRADE_WAITS + 1))
        int_le "$WAIT_SECONDS" "$GRADE_WAIT_MAX" || GRADE_WAIT_MAX=$WAIT_SECONDS
        printf '%s  wait: %s (saw: %s); check again in %ss%s\n' "$C_SAY" "$what" "${seen:-nothing}" "$WAIT_SECONDS" "$C_OFF"
        ;;
      *)
        GRADE_UNMET=$((GRADE_UNMET + 1))
        printf '%s  not met: %s (saw: %s); hint: %s%s\n' "$C_BAD" "$what" "${seen:-nothing}" "$hint" "$C_OFF"
        ;;
    esac
  elif [ "$rc" = 0 ]; then
    ok "$what (saw: ${seen:-nothing})"
  else
    diagnose
    fail "$what (saw: ${seen:-nothing})"
  fi
}
# value SEEN TEST...: the condition for a value a lesson already has (an exit code it watched).
value() {
  [ "$DRY_RUN" = 1 ] && return 0
  SEEN=$1
  shift
  "$@"
}
# expect WHAT SEEN TEST...: one assertion on a value the lesson observed, e.g.
#   expect "the last run exited with code 0" "$code" int_eq "$code" 0
expect() {
  local what
  what=$1
  shift
  verify "$what" '' value "$@"
}
is_int() { case $1 in '' | -) return 1 ;; -*) case ${1#-} in *[!0-9]*) return 1 ;; esac ;; *[!0-9]*) return 1 ;; esac; }
int_ge() { is_int "$1" && is_int "$2" && [ "$1" -ge "$2" ]; }
int_le() { is_int "$1" && is_int "$2" && [ "$1" -le "$2" ]; }
int_lt() { is_int "$1" && is_int "$2" && [ "$1" -lt "$2" ]; }
int_eq() { is_int "$1" && is_int "$2" && [ "$1" -eq "$2" ]; }
str_eq() { [ "$1" = "$2" ]; }
has_line() { printf '%s\n' "$1" | grep -qxF -- "$2"; }   # TEXT LINE: TEXT has exactly LINE
has_text() { printf '%s\n' "$1" | grep -qF -- "$2"; }    # TEXT PART: a line of TEXT contains PART
count_lines() { printf '%s\n' "$1" | grep -cxF -- "$2"; } # TEXT LINE: how many lines are exactly LINE

# poll TIMEOUT DESCRIPTION COND [ARGS...]: check COND every POLL_INTERVAL seconds until it holds or
# TIMEOUT seconds pass. Bounded on purpose: a lesson that never reaches its state fails with what it
# last saw instead of hanging.
poll() {
  local timeout what start
  timeout=${POLL_TIMEOUT_OVERRIDE:-$1} what=$2
  shift 2
  say "waiting up to ${timeout}s until $what"
  SEEN='(nothing yet)'
  if [ "$DRY_RUN" = 1 ]; then
    "$@"
    note "(poll every ${POLL_INTERVAL}s, at most ${timeout}s)"
    return 0
  fi
  start=$(now)
  while :; do
    if "$@"; then
      QUIET=0
      ok "$what (after $(($(now) - start))s): $(one_line "$SEEN")"
      return 0
    fi
    QUIET=1
    if [ "$(($(now) - start))" -ge "$timeout" ]; then
      QUIET=0
      diagnose
      fail "timed out after ${timeout}s waiting until $what; last seen: $(one_line "$SEEN")"
    fi
    sleep "$POLL_INTERVAL"
  done
}

# What a learner (or a CI log) needs when a wait fails: the pods, recent events, and a hint for the
# most common causes: an image the cluster cannot find, or one built for another CPU.
diagnose() {
  [ "$DRY_RUN" = 1 ] && return 0
  local reasons
  printf '\n--- diagnostics (namespace %s, context %s)\n' "$NAMESPACE" "$KUBE_CONTEXT" >&2
  kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get pods,jobs,deployments,cronjobs -o wide >&2
  kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get events --sort-by=.lastTimestamp 2>&1 | tail -n 15 >&2
  reasons=$(kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get pods \
    -o 'jsonpath={range .items[*]}{.status.containerStatuses[*].state.waiting.reason}{"\n"}{end}' 2>/dev/null |
    grep -E 'ErrImagePull|ImagePullBackOff|ErrImageNeverPull' | sort -u | tr '\n' ' ')
  if [ -n "$reasons" ]; then
    printf 'hint: %s: the cluster does not have %s / %s. run: %s\n' \
      "$reasons" "$HELLO_ONCE_IMAGE" "$HELLO_LOOP_IMAGE" "$(load_command)" >&2
    printf '      never use the tag latest: it implies imagePullPolicy Always, which pulls from a registry.\n' >&2
  fi
  if kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get pods \
    -o 'jsonpath={.items[*].status.containerStatuses[*].lastState.terminated.message}' 2>/dev/null |
    grep -q 'exec format error'; then
    printf 'hint: exec format error: the image was built for another CPU architecture than the node;\n' >&2
    printf '      load the images for the node again: %s\n' "$(load_command)" >&2
  fi
  printf -- '---\n\n' >&2
}
# How images get into the cluster: the kit's loader in a kit, make in the repository.
load_command() {
  if [ "$HELLO_KIT" = 1 ]; then echo "./load $CLUSTER"; else echo "make $CLUSTER-load (after: make images)"; fi
}
# The command that runs exercise N X's grader, where this runs (repository: make; kit: ./check).
check_command() {
  if [ "$HELLO_KIT" = 1 ]; then
    if [ "$2" = a ]; then echo "./check $1"; else echo "./check $1 $2"; fi
  elif [ "$2" = a ]; then echo "make check-$1"; else echo "make check-$1 EXERCISE=$2"; fi
}

# ---- tools: checked before anything runs; a missing one prints how to install it and exits 1
need() {
  local tool missing
  missing=0
  if [ "$DRY_RUN" = 1 ]; then
    note "(dry run: would check for $*)"
    return 0
  fi
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 && continue
    printf '%s: %s not found; %s\n' "$ME" "$tool" "$(install_hint "$tool")" >&2
    missing=1
  done
  [ "$missing" = 0 ] || exit 1
  case " $* " in
    *" docker "*) docker info >/dev/null 2>&1 ||
      die 1 "docker is installed but its daemon does not answer (docker info failed); start Docker first" ;;
  esac
}

# The context must exist before any lesson runs; otherwise say how to create it.
need_context() {
  [ "$DRY_RUN" = 1 ] && return 0
  kubectl config get-contexts -o name 2>/dev/null | grep -qxF -- "$KUBE_CONTEXT" && return 0
  if [ "$HELLO_KIT" = 1 ]; then
    die 1 "kubectl has no context $KUBE_CONTEXT; create the cluster and load the images first: ./load $CLUSTER (or set KUBE_CONTEXT)"
  fi
  die 1 "kubectl has no context $KUBE_CONTEXT; create the cluster first: make $CLUSTER-up $CLUSTER-load (or set KUBE_CONTEXT)"
}

# The lessons need podFailurePolicy (GA in 1.31) and a working API: check both before starting.
check_cluster() {
  local version minor
  need_context
  capture version kubectl --context "$KUBE_CONTEXT" get --raw /version ||
    fail "the cluster behind context $KUBE_CONTEXT does not answer; is it running?"
  [ "$DRY_RUN" = 1 ] && return 0
  minor=$(printf '%s\n' "$version" | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n 1)
  int_ge "${minor:-0}" 31 || fail "Kubernetes 1.$minor is too old for these lessons (podFailurePolicy needs 1.31+)"
}
ensure_namespace() { k apply -k k8s/namespace; }

pause() {
  [ "$PAUSE" = 1 ] || return 0
  if [ "$DRY_RUN" = 1 ]; then
    note "(PAUSE=1: would wait for Enter)"
  elif [ -t 0 ]; then
    printf '    [Enter] to go on, Ctrl-C to stop '
    read -r _
  else
    note "(PAUSE=1 but stdin is not a terminal: not pausing)"
  fi
}

# ---- a lesson's objects
# remove DIR: delete a folder's objects and wait until their pods are gone too. kubectl's default
# cascade is background: `delete --wait` returns once the Deployment/Job/CronJob is gone while its
# pods still terminate (still in phase Running), so a replay could pick the old pod. Foreground keeps
# each owner until its dependents are deleted; the wait on the pods covers what is left.
remove() {
  local dir rc
  dir=$1 rc=0
  run kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" delete -k "$dir" --ignore-not-found \
    --cascade=foreground --wait=true --timeout=120s || rc=$?
  [ "$rc" = 0 ] || { diagnose && fail "the objects of $dir were not deleted within 120s"; }
  run kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" wait --for=delete pods \
    -l "app.kubernetes.io/instance in ($(instances "$dir"))" --timeout=120s || rc=$?
  [ "$rc" = 0 ] || { diagnose && fail "the pods of $dir were still there 120s after their owners were deleted"; }
}
# fresh_apply DIR: remove whatever an earlier run left, then apply the folder.
fresh_apply() {
  remove "$1"
  k apply -k "$1"
}
# wait_for WHAT ARGS...: kubectl wait with a bounded timeout; on timeout diagnostics and one FAIL line.
wait_for() {
  local what rc
  what=$1 rc=0
  shift
  say "waiting until $what"
  run kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" wait "$@" || rc=$?
  [ "$rc" = 0 ] || { diagnose && fail "$what did not happen (kubectl wait $*)"; }
}

# live_pods INSTANCE PHASE [ARGS...]: POD_LIST = the pods of a workload in PHASE that are not being
# deleted (a terminating pod keeps its phase), space-separated. The listing ranges over the items:
# `{.items[0]...}` fails on an empty list ("array index out of bounds").
live_pods() {
  local instance phase listing
  instance=$1 phase=$2
  shift 2
  POD_LIST=''
  kread listing "cannot list the pods of $instance" get pods -l "app.kubernetes.io/instance=$instance" \
    --field-selector="status.phase=$phase" "$@" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.metadata.deletionTimestamp}{"\n"}{end}' || return 1
  POD_LIST=$(printf '%s\n' "$listing" | awk -F'|' '$1 != "" && $2 == "" { printf "%s%s", sep, $1; sep = " " }')
  [ "$DRY_RUN" = 1 ] && POD_LIST=POD # a placeholder: the real names are only known on a cluster
  [ -n "$POD_LIST" ] && return 0
  SEEN="no pod of $instance in phase $phase that is not being deleted (saw: ${listing:-no pods})"
  return 1
}
# running_pod INSTANCE: POD = the first running pod of a workload that is not being deleted. None,
# or a kubectl error, ends the lesson with diagnostics and one FAIL line.
running_pod() {
  live_pods "$1" Running || { diagnose && fail "$SEEN"; }
  POD=${POD_LIST%% *}
}

# Wait until a background command has written its first line (a watch or a log stream is
# connected), at most 20 s: deleting a pod before its watch is connected would lose the evidence.
wait_connected() {
  local file what deadline
  file=$1 what=$2
  [ "$DRY_RUN" = 1 ] && return 0
  deadline=$(($(now) + 20))
  while [ "$(now)" -lt "$deadline" ]; do
    [ -s "$file" ] && return 0
    nap
  done
  fail "$what did not connect within 20s (see $file.stderr)"
}

# delete_and_watch POD: delete a pod the way a rollout or a node drain does, while watching it.
# A deleted pod's status is gone with it, so two streams are started before the delete:
#  - a watch of the pod, printing each event's type and the container's terminated exit code and
#    reason; the last terminated state (in the final MODIFIED or the DELETED event) is the exit code;
#  - `kubectl logs -f`, which ends when the container does and keeps its last lines.
# Sets DELETE_SECONDS, EXIT_CODE, EXIT_REASON, and LOG_FILE (the pod's log).
delete_and_watch() {
  local pod watch_file watch_pid logs_pid started rc last
  pod=$1 rc=0 last=''
  watch_file=$WORK_DIR/$pod.watch
  LOG_FILE=$WORK_DIR/$pod.log
  [ "$DRY_RUN" = 1 ] || rm -f "$watch_file" "$LOG_FILE"
  start_bg "$watch_file" kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get pod "$pod" \
    --watch --output-watch-events \
    -o 'jsonpath={.type}{"|"}{.object.status.containerStatuses[0].state.terminated.exitCode}{"|"}{.object.status.containerStatuses[0].state.terminated.reason}{"\n"}'
  watch_pid=$BG_PID
  start_bg "$LOG_FILE" kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" logs -f "$pod"
  logs_pid=$BG_PID
  wait_connected "$watch_file" "the watch of $pod"
  wait_connected "$LOG_FILE" "the log stream of $pod"
  started=$(now)
  run kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" delete pod "$pod" --wait=true --timeout=120s || rc=$?
  [ "$rc" = 0 ] || { diagnose && fail "pod $pod was not deleted within 120s"; }
  DELETE_SECONDS=$(($(now) - started))
  stop_bg "$logs_pid" 10 # ends by itself when the container is gone
  stop_bg "$watch_pid" 3 "$watch_file" DELETED # never ends by itself: stop it once DELETED arrived
  EXIT_CODE='' EXIT_REASON=''
  [ "$DRY_RUN" = 1 ] && return 0
  EXIT_CODE=$(awk -F'|' '$2 != "" { code = $2 } END { print code }' "$watch_file")
  EXIT_REASON=$(awk -F'|' '$2 != "" { reason = $3 } END { print reason }' "$watch_file")
  last=$(tail -n 1 "$watch_file" | cut -d'|' -f1)
  note "pod $pod: deleted in ${DELETE_SECONDS}s; last event ${last:-none}; exit code ${EXIT_CODE:-unknown} (${EXIT_REASON:-no reason})"
  note "its last log lines:"
  tail -n 5 "$LOG_FILE" | sed 's/^/      /'
}
log_has() { grep -qF -- "$2" "$1"; }
log_lacks() { ! grep -qF -- "$2" "$1"; }
log_tail() { [ "$DRY_RUN" = 1 ] || tail -n 3 "$LOG_FILE" 2>/dev/null | tr '\n' ' '; }

# ---- the conditions the lessons and the graders share
# A kubectl error (say, NotFound) is a condition not met, with kubectl's answer as what was seen.
# kread_job VAR JOB ARGS...: kread of a Job. When the API has no such Job and the exercise being
# graded sets a ttlSecondsAfterFinished, SEEN also says why it may be gone: the TTL controller deletes
# a finished Job and its pods that many seconds after it ends.
kread_job() {
  local __v __job __ttl
  __v=$1 __job=$2
  shift 2
  kread "$__v" "no Job $__job" "$@" && return 0
  grep -q NotFound "$WORK_DIR/last-stderr" 2>/dev/null || return 1
  __ttl=$(start_ttl)
  [ -z "$__ttl" ] ||
    SEEN="$SEEN (not applied yet, or gone: ttlSecondsAfterFinished: $__ttl in $EX_DIR/start deletes a finished Job and its pods ${__ttl}s after it ends; apply it again)"
  return 1
}
# start_ttl: the ttlSecondsAfterFinished of the exercise being graded, as its start folder (the
# learner's copy) sets it; empty outside a grader, or when it sets none.
start_ttl() {
  [ -n "${EX_DIR:-}" ] || return 0
  cat "$ROOT/$EX_DIR"/start/*.yaml 2>/dev/null | sed -n 's/^ *ttlSecondsAfterFinished: *\([0-9][0-9]*\).*/\1/p' | head -n 1
}
# workload_selector WORKLOAD: the pods of an app.kubernetes.io/instance (lesson manifests label every
# pod with it), or, written job/NAME, the pods of Job NAME by the label the Job controller itself puts
# on them (batch.kubernetes.io/job-name), which a learner's own Job has whatever its labels.
workload_selector() {
  case $1 in
    job/*) printf 'batch.kubernetes.io/job-name=%s\n' "${1#job/}" ;;
    *) printf 'app.kubernetes.io/instance=%s\n' "$1" ;;
  esac
}
cond_job_complete() { # JOB: its Complete condition is True
  local status
  kread_job status "$1" get job "$1" -o 'jsonpath={.status.conditions[?(@.type=="Complete")].status}' || return 1
  SEEN="Complete=${status:-not yet}"
  [ "$status" = True ]
}
cond_job_count() { # JOB FIELD N: .status.FIELD (succeeded, failed) is N
  local n
  kread_job n "$1" get job "$1" -o "jsonpath={.status.$2}" || return 1
  SEEN="$2 pods: ${n:-0} (wanted $3)"
  int_eq "${n:-0}" "$3"
}
cond_job_failed_with() { # JOB REASON: its Failed condition has REASON
  local reason
  kread_job reason "$1" get job "$1" -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}' || return 1
  SEEN="Failed reason: ${reason:-none (not failed)}"
  [ "$reason" = "$2" ]
}
cond_absent() { # KIND NAME: no such object
  local found
  kread found "cannot list $1" get "$1" "$2" --ignore-not-found -o name || return 1
  SEEN=${found:-none}
  [ -z "$found" ]
}
# cond_log_lines WORKLOAD MESSAGE MIN [MAX]: the logs of the workload's pods (workload_selector) have
# between MIN and MAX lines that are exactly MESSAGE (kubectl logs interleaves the program's own
# stderr lines).
cond_log_lines() {
  local logs n want
  kread logs "no logs of $1" logs -l "$(workload_selector "$1")" --tail=-1 || return 1
  n=$(count_lines "$logs" "$2")
  want="$3 or more"
  if [ -n "${4:-}" ]; then
    if [ "$3" = "$4" ]; then want=$3; else want="$3 to $4"; fi
  fi
  SEEN="$n lines '$2' (wanted $want); last lines: $(printf '%s\n' "$logs" | tail -n 2)"
  int_ge "$n" "$3" && { [ -z "${4:-}" ] || int_le "$n" "$4"; }
}
# cond_pods_log INSTANCE TEXT: every running pod of the workload has logged a line containing TEXT.
cond_pods_log() {
  local pod logs seen
  seen=''
  live_pods "$1" Running || return 1
  for pod in $POD_LIST; do
    kread logs "no logs of $pod" logs "$pod" || return 1
    if ! has_text "$logs" "$2"; then
      SEEN="$pod: $(printf '%s\n' "$logs" | grep -m 1 -F 'starting' || printf '%s\n' "$logs" | tail -n 1)"
      return 1
    fi
    seen="$seen $pod"
  done
  SEEN="'$2' in the logs of${seen}"
}
# cond_none_terminating INSTANCE: no pod of the workload is being deleted. A pod being deleted
# carries metadata.deletionTimestamp, which the API server sets to the end of its grace period (the
# time of the delete plus deletionGracePeriodSeconds). Until then, and for TERMINATING_SLACK seconds
# after (the kubelet reports the end and the API removes the pod), it is a wait (status 3) for the
# time left; a pod whose container has exited is a wait of 2 s. A pod still there later is held by
# something else (a finalizer, a node that is gone): not met.
TERMINATING_SLACK=10
cond_none_terminating() {
  local listing verdict
  kread listing "cannot list the pods of $1" get pods -l "app.kubernetes.io/instance=$1" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.metadata.deletionTimestamp}{"|"}{.metadata.deletionGracePeriodSeconds}{"|"}{.status.containerStatuses[*].state.running.startedAt}{"\n"}{end}' ||
    return 1
  verdict=$(printf '%s\n' "$listing" | awk -F'|' -v now="$(wall_clock)" -v slack="$TERMINATING_SLACK" "$RFC3339_AWK"'
function add(text) { seen = seen (seen == "" ? "" : "; ") text }
BEGIN { verdict = 0; wait = 0 }
$1 == "" || $2 == "" { next }
{
  if (!rfc3339($2)) { add($1 " terminating, its deletionTimestamp \"" $2 "\" " RFC_ERROR); verdict = 1; next }
  grace = $3 == "" ? "unknown" : $3 "s"
  left = RFC_WHOLE - now
  if (left < -slack) {
    add(sprintf("%s still terminating %ds after its grace period (%s) ended at %s", $1, -left, grace, $2)); verdict = 1; next
  }
  if ($4 == "") { w = 2; add(sprintf("%s terminating: its container has exited and the kubelet is removing it (grace period %s, ends at %s)", $1, grace, $2)) }
  else if (left > 0) { w = left + 2; add(sprintf("%s terminating for up to %ds more (grace period %s, ends at %s)", $1, w, grace, $2)) }
  else { w = 2; add(sprintf("%s terminating: its grace period ended at %s and the kubelet is stopping it", $1, $2)) }
  if (verdict == 0) verdict = 3
  if (w > wait) wait = w
}
END { printf "%d %d %s\n", verdict, wait, seen == "" ? "no pod terminating" : seen }') || return 1
  WAIT_SECONDS=$(printf '%s\n' "$verdict" | cut -d' ' -f2)
  SEEN=$(printf '%s\n' "$verdict" | cut -d' ' -f3-)
  return "$(printf '%s\n' "$verdict" | cut -d' ' -f1)"
}
cond_rolled_out() { # DEPLOYMENT: every replica updated, ready and available, the latest spec seen
  local line want updated ready available generation observed
  kread line "no Deployment $1" get deployment "$1" \
    -o 'jsonpath={.spec.replicas}{"|"}{.status.updatedReplicas}{"|"}{.status.readyReplicas}{"|"}{.status.availableReplicas}{"|"}{.metadata.generation}{"|"}{.status.observedGeneration}' ||
    return 1
  IFS='|' read -r want updated ready available generation observed <<EOF
$line
EOF
  SEEN="replicas ${want:-?}: updated ${updated:-0}, ready ${ready:-0}, available ${available:-0}; generation ${generation:-?} (observed ${observed:-?})"
  int_eq "${updated:-0}" "$want" && int_eq "${ready:-0}" "$want" && int_eq "${available:-0}" "$want" &&
    int_eq "$observed" "$generation"
}
cond_restarts_at_most() { # INSTANCE N: no running pod of it restarted more than N times
  local pod n
  live_pods "$1" Running || return 1
  for pod in $POD_LIST; do
    kread n "no pod $pod" get pod "$pod" -o 'jsonpath={.status.containerStatuses[0].restartCount}' || return 1
    SEEN="$pod: restartCount ${n:-?}"
    int_le "${n:-0}" "$2" || return 1
  done
}
cond_restarted() { # POD: its container was restarted at least once
  local n
  kread n "no pod $1" get pod "$1" -o 'jsonpath={.status.containerStatuses[0].restartCount}' || return 1
  SEEN="restartCount=${n:-?}"
  int_ge "$n" 1
}
cond_event() { # POD TEXT: an Unhealthy event of the pod says TEXT
  local events
  kread events "cannot list events" get events --field-selector "involvedObject.name=$1,reason=Unhealthy" \
    -o 'jsonpath={range .items[*]}{.message}{"\n"}{end}' || return 1
  SEEN="Unhealthy events of $1: ${events:-none}"
  has_text "$events" "$2"
}
cond_no_liveness_failure() { # INSTANCE: no running pod of it had a failed liveness probe
  local pod
  live_pods "$1" Running || return 1
  for pod in $POD_LIST; do
    ! cond_event "$pod" 'Liveness probe failed' || return 1
  done
}
# cond_qos WORKLOAD CLASS: every pod of the workload (workload_selector) that is not being deleted is
# in the QoS class CLASS: status.qosClass, which the API server works out from its containers' requests
# and limits when the pod is created (Guaranteed, Burstable, BestEffort). No such pod: not met.
cond_qos() {
  local listing verdict
  kread listing "cannot list the pods of $1" get pods -l "$(workload_selector "$1")" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.metadata.deletionTimestamp}{"|"}{.status.qosClass}{"\n"}{end}' ||
    return 1
  [ "$DRY_RUN" = 1 ] && return 0
  verdict=$(printf '%s\n' "$listing" | awk -F'|' -v want="$2" -v workload="$1" '
$1 != "" && $2 == "" { n++; seen = seen (seen == "" ? "" : ", ") $1 ": " ($3 == "" ? "no QoS class" : $3); if ($3 != want) bad = 1 }
END { if (n == 0) { bad = 1; seen = "no pod of " workload " that is not being deleted" }; printf "%d|%s\n", bad, seen }')
  SEEN=${verdict#*|}
  [ "${verdict%%|*}" = 0 ]
}
cond_cron_succeeded() { # CRONJOB: it has a successful run
  local last
  kread last "no CronJob $1" get cronjob "$1" -o 'jsonpath={.status.lastSuccessfulTime}' || return 1
  SEEN="lastSuccessfulTime=${last:-unset}"
  [ -n "$last" ]
}
# cond_newest_run_printed INSTANCE MESSAGE: the newest succeeded pod of a CronJob printed MESSAGE.
cond_newest_run_printed() {
  local logs newest
  live_pods "$1" Succeeded --sort-by=.metadata.creationTimestamp || return 1
  newest=${POD_LIST##* }
  kread logs "no logs of $newest" logs "$newest" || return 1
  SEEN="$newest: $logs"
  has_line "$logs" "$2"
}
cond_pods_exited() { # WORKLOAD CODE: every pod of the workload (workload_selector) ended with exit code CODE
  local listing
  kread listing "cannot list the pods of $1" get pods -l "$(workload_selector "$1")" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"="}{.status.containerStatuses[0].state.terminated.exitCode}{" "}{end}' ||
    return 1
  SEEN="exit codes: ${listing:-no pods}"
  SEEN=${SEEN% }
  [ -n "$listing" ] && ! printf '%s\n' "$listing" | tr ' ' '\n' | sed '/^$/d' | grep -qvE "=$2\$"
}
# crashloop_seen INSTANCE [MIN_RESTARTS, default 2]: its pod waits in CrashLoopBackOff after at
# least MIN restarts. Sets CL_POD, CL_RESTARTS, CL_WAITING, CL_EXIT, CL_REASON from the look, and
# keeps every look in $CL_LOOKS when that is set (lesson 1 draws its restart timeline from them:
# the API holds only the current and the previous run, the timeline needs all).
crashloop_seen() {
  local line min
  min=${2:-2}
  kcap line get pods -l "app.kubernetes.io/instance=$1" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.status.containerStatuses[0].restartCount}{"|"}{.status.containerStatuses[0].state.waiting.reason}{"|"}{.status.containerStatuses[0].lastState.terminated.exitCode}{"|"}{.status.containerStatuses[0].lastState.terminated.reason}{"|"}{.status.containerStatuses[0].state.running.startedAt}{"|"}{.status.containerStatuses[0].state.terminated.startedAt}{"|"}{.status.containerStatuses[0].state.terminated.finishedAt}{"|"}{.status.containerStatuses[0].lastState.terminated.startedAt}{"|"}{.status.containerStatuses[0].lastState.terminated.finishedAt}{"\n"}{end}' ||
    return 1
  [ "$DRY_RUN" = 1 ] || [ -z "${CL_LOOKS:-}" ] || printf '%s\n' "$line" >>"$CL_LOOKS"
  IFS='|' read -r CL_POD CL_RESTARTS CL_WAITING CL_EXIT CL_REASON _ <<EOF
$line
EOF
  [ "$DRY_RUN" = 1 ] && CL_POD=POD # a placeholder: the real name is only known on a cluster
  SEEN="pod ${CL_POD:-none}, restarts ${CL_RESTARTS:-?}, waiting reason ${CL_WAITING:-none}, last exit code ${CL_EXIT:-none}"
  [ "$CL_WAITING" = CrashLoopBackOff ] && int_ge "$CL_RESTARTS" "$min"
}
cond_last_run() { # INSTANCE CODE REASON: the last run of its (first) pod's container ended so
  crashloop_seen "$1"
  SEEN="pod ${CL_POD:-none}: last exit code ${CL_EXIT:-none}, reason ${CL_REASON:-none}"
  int_eq "$CL_EXIT" "$2" && [ "$CL_REASON" = "$3" ]
}
# restart_look INSTANCE MIN LONGEST: one look at the first pod of a workload that is not being
# deleted, for a container that is meant to exit and be restarted (exercise 7b): its restarts so far
# against MIN, read at any moment of the cycle (running, exited, or waiting out its back-off). Sets
# RL_VERDICT (0: restarted at least MIN times; 3: not yet, the restarts are on their way; 1: no pod,
# or its first run has gone on for more than LONGEST seconds, so it does not exit), RL_WAIT (about
# the seconds until it has MIN restarts: what is left of the current run or back-off, then per restart
# still to come a run as long as the last one and the documented back-off: the first restart at once,
# then 10 s doubling), RL_EXIT and RL_REASON (its last termination: the previous run's, or the
# current one's when it has just exited), and SEEN.
restart_look() {
  local listing out
  RL_VERDICT=1 RL_WAIT=0 RL_EXIT='' RL_REASON=''
  kread listing "cannot list the pods of $1" get pods -l "app.kubernetes.io/instance=$1" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.metadata.deletionTimestamp}{"|"}{.status.containerStatuses[0].restartCount}{"|"}{.status.containerStatuses[0].state.waiting.reason}{"|"}{.status.containerStatuses[0].state.running.startedAt}{"|"}{.status.containerStatuses[0].state.terminated.exitCode}{"|"}{.status.containerStatuses[0].state.terminated.reason}{"|"}{.status.containerStatuses[0].state.terminated.finishedAt}{"|"}{.status.containerStatuses[0].lastState.terminated.exitCode}{"|"}{.status.containerStatuses[0].lastState.terminated.reason}{"|"}{.status.containerStatuses[0].lastState.terminated.startedAt}{"|"}{.status.containerStatuses[0].lastState.terminated.finishedAt}{"\n"}{end}' ||
    return 1
  if [ "$DRY_RUN" = 1 ]; then
    RL_VERDICT=0
    return 0
  fi
  out=$(printf '%s\n' "$listing" | awk -F'|' -v instance="$1" -v min="$2" -v longest="$3" -v now="$(wall_clock)" \
    -v initial="$((KUBELET_INITIAL_MS / 1000))" -v max="$((KUBELET_MAX_MS / 1000))" "$RFC3339_AWK"'
function at(text) { return (text != "" && rfc3339(text)) ? RFC_WHOLE : "" }
function delay(k,   d) { if (k <= 1) return 0; d = initial; while (k-- > 2 && d < max) d *= 2; return d > max ? max : d }
$1 != "" && $2 == "" && !found {
  found = 1; pod = $1; r = $3 + 0; waiting = $4; running = at($5)
  code = $9 != "" ? $9 : $6; reason = $9 != "" ? $10 : $7; ended = $8 != "" ? at($8) : at($12)
  last = (at($11) != "" && at($12) != "") ? at($12) - at($11) : ""
}
END {
  if (!found) { printf "1|0|||no pod of %s that is not being deleted\n", instance; exit }
  state = waiting != "" ? "waiting (" waiting ")" : running != "" ? "running" : ended != "" ? "exited" : "starting"
  seen = sprintf("pod %s: restartCount %d, %s, last exit code %s", pod, r, state,
                 code == "" ? "none yet" : code (reason == "" ? "" : " (" reason ")"))
  if (r >= min) { printf "0|0|%s|%s|%s\n", code, reason, seen; exit }
  if (r == 0 && running != "" && now - running > longest) {
    printf "1|0|%s|%s|%s; its first run has gone on for %ds without exiting\n", code, reason, seen, now - running; exit
  }
  run = last != "" ? last : running != "" ? now - running : 0
  if (run < 1) run = 1
  if (running != "") { left = running + run - now; wait = (left > 0 ? left : 0) + delay(r + 1) }
  else if (ended != "") { left = ended + delay(r + 1) - now; wait = left > 0 ? left : 0 }
  else wait = run + delay(r + 1)
  for (k = r + 2; k <= min; k++) wait += run + delay(k)
  wait = int(wait + 0.999); if (wait < 1) wait = 1
  printf "3|%d|%s|%s|%s; %d more restart(s) to come, in about %ds\n", wait, code, reason, seen, min - r, wait
}') || return 1
  IFS='|' read -r RL_VERDICT RL_WAIT RL_EXIT RL_REASON SEEN <<EOF
$out
EOF
}
# cond_restarts_at_least INSTANCE MIN LONGEST: its container was restarted MIN times or more; while
# the restarts are on their way, a wait (status 3) for about the time they take (restart_look).
cond_restarts_at_least() {
  restart_look "$1" "$2" "$3" || return 1
  WAIT_SECONDS=$RL_WAIT
  return "$RL_VERDICT"
}
# cond_last_exit INSTANCE CODE REASON LONGEST: its container's last termination had exit code CODE and
# reason REASON; before its first run has ended, a wait (restart_look).
cond_last_exit() {
  restart_look "$1" 1 "$4" || return 1
  [ "$DRY_RUN" = 1 ] && return 0
  if [ -z "$RL_EXIT" ]; then
    [ "$RL_VERDICT" = 0 ] && return 1 # restarted, yet no termination recorded
    WAIT_SECONDS=$RL_WAIT
    return "$RL_VERDICT"
  fi
  int_eq "$RL_EXIT" "$2" && [ "$RL_REASON" = "$3" ]
}
# show_restart_timeline FILE: the gaps between the restarts seen in FILE (crashloop_seen's looks)
# beside the kubelet's documented back-off, checked: gaps measured, none shorter than documented.
show_restart_timeline() {
  local rc chart
  rc=0 chart=''
  say "the gaps between restarts, measured from the API, beside the documented back-off"
  [ "$QUIET" = 1 ] || printf '%s$ restart_timeline kubelet < %s%s\n' "$C_CMD" "$1" "$C_OFF"
  if [ "$DRY_RUN" = 0 ]; then
    chart=$(restart_timeline kubelet <"$1") || rc=$?
    printf '%s\n' "$chart"
  fi
  expect "the restart gaps were measured, none shorter than documented" "exit status $rc" int_eq "$rc" 0
}

# ---- what a manifest promises, read back from the API (the graders check the spec they were told
# to write, not only what it led to)
# cond_field KIND NAME FIELD WANT [DEFAULT]: .FIELD of the object is WANT (an unset field counts as
# DEFAULT, the API's default, when one is given).
cond_field() {
  local value
  if [ "$1" = job ]; then
    kread_job value "$2" get job "$2" -o "jsonpath={.$3}" || return 1
  else
    kread value "no $1 $2" get "$1" "$2" -o "jsonpath={.$3}" || return 1
  fi
  if [ -z "$value" ] && [ -n "${5:-}" ]; then
    SEEN="$3 unset (the default, $5)"
    value=$5
  else
    SEEN="$3: ${value:-unset}"
  fi
  [ "$value" = "$4" ]
}
# cond_failjob_rule JOB CODE: the Job's podFailurePolicy has a FailJob rule for exit code CODE
# (operator In, CODE among its values).
cond_failjob_rule() {
  local rules
  kread_job rules "$1" get job "$1" \
    -o 'jsonpath={range .spec.podFailurePolicy.rules[*]}{.action}{" "}{.onExitCodes.operator}{" "}{.onExitCodes.values}{"\n"}{end}' ||
    return 1
  SEEN="podFailurePolicy rules: $(printf '%s\n' "$rules" | sed '/^$/d; s/ *$//' | paste -sd ';' - | sed 's/;/; /g')"
  [ -n "$rules" ] || SEEN="no podFailurePolicy"
  printf '%s\n' "$rules" | awk -v code="$2" '
    $1 == "FailJob" && $2 == "In" { gsub(/[][]/, "", $3); n = split($3, v, ","); for (i = 1; i <= n; i++) if (v[i] == code) found = 1 }
    END { exit !found }'
}
# cond_probes DEPLOYMENT: its pod template's (first) container has a liveness and a readiness probe.
cond_probes() {
  local line liveness readiness
  kread line "no Deployment $1" get deployment "$1" \
    -o 'jsonpath={.spec.template.spec.containers[0].livenessProbe}{"|"}{.spec.template.spec.containers[0].readinessProbe}{"|"}{.spec.template.spec.containers[0].livenessProbe.exec.command}{"|"}{.spec.template.spec.containers[0].readinessProbe.exec.command}' ||
    return 1
  IFS='|' read -r liveness readiness _ <<EOF
$line
EOF
  SEEN="livenessProbe: $(probe_text "$liveness" "$(printf '%s\n' "$line" | cut -d'|' -f3)"), readinessProbe: $(probe_text "$readiness" "$(printf '%s\n' "$line" | cut -d'|' -f4)")"
  [ -n "$liveness" ] && [ -n "$readiness" ]
}
probe_text() { # PROBE COMMAND: "none", "exec /hello-loop check" or "present"
  if [ -z "$1" ]; then echo none; elif [ -n "$2" ]; then echo "exec $(printf '%s' "$2" | tr -d '[]"' | tr ',' ' ')"; else echo present; fi
}

# ---- traffic through a Service (lesson 9): probes over HTTP, endpoints, a client Job's count
# cond_http_probe DEPLOYMENT PROBE PATH: the (first) container's PROBE (readinessProbe,
# livenessProbe) is an httpGet of PATH.
cond_http_probe() {
  local line
  kread line "no Deployment $1" get deployment "$1" \
    -o "jsonpath={.spec.template.spec.containers[0].$2.httpGet.path}{\"|\"}{.spec.template.spec.containers[0].$2.httpGet.port}{\"|\"}{.spec.template.spec.containers[0].$2.exec.command}" ||
    return 1
  case $line in
    '||') SEEN="$2: none" ;;
    '||'*) SEEN="$2: exec $(printf '%s' "${line#||}" | tr -d '[]"' | tr ',' ' ')" ;;
    *) SEEN="$2: httpGet ${line%%|*} on port $(printf '%s' "$line" | cut -d'|' -f2)" ;;
  esac
  [ "${line%%|*}" = "$3" ]
}
# cond_ready_endpoints SERVICE N: the Service's EndpointSlices (label kubernetes.io/service-name)
# list at least N endpoints that are ready: the pods it sends new connections to.
cond_ready_endpoints() {
  local listing ready
  kread listing "cannot list the EndpointSlices of $1" get endpointslices -l "kubernetes.io/service-name=$1" \
    -o 'jsonpath={range .items[*]}{range .endpoints[*]}{.targetRef.name}{"="}{.conditions.ready}{" "}{end}{end}' ||
    return 1
  ready=$(printf '%s\n' "$listing" | tr ' ' '\n' | grep -c '=true$')
  SEEN="endpoints (pod=ready): ${listing:-none}"
  SEEN="${SEEN% }; $ready ready (wanted $2 or more)"
  int_ge "$ready" "$2"
}
# client_report JOB: CLIENT_REQUESTS and CLIENT_FAILED from the last `requests=N failed=M` the Job's
# pods logged (hello-loop --fetch logs it at its end), empty when there is none yet; SEEN says it.
client_report() {
  local logs line
  CLIENT_REQUESTS='' CLIENT_FAILED=''
  kread logs "no logs of Job $1" logs -l "$(workload_selector "job/$1")" --tail=-1 || return 1
  line=$(printf '%s\n' "$logs" | grep -oE 'requests=[0-9]+ failed=[0-9]+' | tail -n 1)
  if [ -n "$line" ]; then
    CLIENT_REQUESTS=$(printf '%s\n' "$line" | sed 's/^requests=\([0-9]*\) .*/\1/')
    CLIENT_FAILED=$(printf '%s\n' "$line" | sed 's/.* failed=\([0-9]*\)$/\1/')
    SEEN="Job $1: $line; first error: $(printf '%s\n' "$logs" | grep -m 1 '^error: ' || echo none)"
  else
    SEEN="Job $1 logged no requests=N failed=M (yet); last lines: $(printf '%s\n' "$logs" | tail -n 2)"
  fi
  [ "$DRY_RUN" = 1 ] && CLIENT_REQUESTS=N CLIENT_FAILED=M # placeholders: the count is only known on a cluster
  return 0
}
# cond_client_reported JOB MIN: the client Job logged its count, with at least MIN requests. Before
# its end (the Job still active, no count yet) a wait of 10 s.
cond_client_reported() {
  local active
  client_report "$1" || return 1
  if [ -z "$CLIENT_REQUESTS" ]; then
    kread_job active "$1" get job "$1" -o 'jsonpath={.status.active}' || return 1
    int_ge "${active:-0}" 1 || return 1
    SEEN="$SEEN; the Job is still running"
    WAIT_SECONDS=10
    return 3
  fi
  SEEN="$SEEN (wanted $2 requests or more)"
  int_ge "$CLIENT_REQUESTS" "$2"
}
# cond_client_failed_at_most JOB MAX MIN: the client Job logged its count, at least MIN requests of
# which at most MAX failed.
cond_client_failed_at_most() {
  local rc
  rc=0
  cond_client_reported "$1" "$3" || rc=$?
  [ "$rc" = 0 ] || return "$rc"
  SEEN="$SEEN; wanted at most $2 failed"
  int_le "$CLIENT_FAILED" "$2"
}
# cond_restart_during JOB INSTANCE: every running pod of the workload was created while the client
# Job ran (after its startTime, and before its completionTime when it has one): the rollout replaced
# them all under the client's load.
cond_restart_during() {
  local times pods verdict
  kread_job times "$1" get job "$1" -o 'jsonpath={.status.startTime}{"|"}{.status.completionTime}' || return 1
  kread pods "cannot list the pods of $2" get pods -l "app.kubernetes.io/instance=$2" --field-selector=status.phase=Running \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.metadata.deletionTimestamp}{"|"}{.metadata.creationTimestamp}{"\n"}{end}' ||
    return 1
  [ "$DRY_RUN" = 1 ] && return 0
  verdict=$(printf '%s\n' "$pods" | awk -F'|' -v times="$times" -v job="$1" -v instance="$2" "$RFC3339_AWK"'
function add(text) { seen = seen (seen == "" ? "" : ", ") text }
BEGIN {
  split(times, t, "|"); started = (t[1] != "" && rfc3339(t[1])) ? RFC_WHOLE : ""
  ended = (t[2] != "" && rfc3339(t[2])) ? RFC_WHOLE : ""
  ok = started != ""; n = 0
}
$1 == "" || $2 != "" { next }
{
  n++
  if (!rfc3339($3)) { ok = 0; add($1 " created " $3 " (" RFC_ERROR ")"); next }
  if (started == "" || RFC_WHOLE < started) { ok = 0; add($1 " created " $3 ", before the client started"); next }
  if (ended != "" && RFC_WHOLE > ended) { ok = 0; add($1 " created " $3 ", after the client ended"); next }
  add($1 " created " $3)
}
END {
  if (n == 0) { ok = 0; seen = "no running pod of " instance }
  printf "%d|Job %s ran from %s to %s; %s\n", ok ? 0 : 1, job, t[1] == "" ? "(not started)" : t[1], t[2] == "" ? "(still running)" : t[2], seen
}') || return 1
  SEEN=${verdict#*|}
  return "${verdict%%|*}"
}
# seconds_of DURATION: a humantime duration as hello-loop reads it (5s, 500ms, 1m 30s) in whole
# seconds, rounded down; nothing (status 1) for anything else.
seconds_of() {
  printf '%s\n' "$1" | awk '{
    total = 0; text = $0; gsub(/ /, "", text); if (text == "") exit 1
    while (match(text, /^[0-9]+(ms|s|m|min|h)/)) {
      part = substr(text, 1, RLENGTH); text = substr(text, RLENGTH + 1)
      n = part + 0; unit = part; sub(/^[0-9]+/, "", unit)
      total += unit == "ms" ? n / 1000 : unit == "s" ? n : unit == "h" ? n * 3600 : n * 60
    }
    if (text != "" ) exit 1
    printf "%d\n", total
  }'
}
# drain_look DEPLOYMENT: DRAIN_DELAY (HELLO_SHUTDOWN_DELAY in whole seconds, 0 when unset), DRAIN_SLEEP
# (the preStop sleep's seconds, 0 when none), DRAIN_GRACE (terminationGracePeriodSeconds, 30 when
# unset: the API's default) and DRAIN_TEXT from its pod template; status 1 when the delay is not a
# duration (SEEN says so).
drain_look() {
  local line delay
  kread line "no Deployment $1" get deployment "$1" \
    -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="HELLO_SHUTDOWN_DELAY")].value}{"|"}{.spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds}{"|"}{.spec.template.spec.terminationGracePeriodSeconds}' ||
    return 1
  delay=${line%%|*}
  DRAIN_SLEEP=$(printf '%s\n' "$line" | cut -d'|' -f2)
  DRAIN_GRACE=$(printf '%s\n' "$line" | cut -d'|' -f3)
  DRAIN_SLEEP=${DRAIN_SLEEP:-0} DRAIN_GRACE=${DRAIN_GRACE:-30}
  DRAIN_TEXT="HELLO_SHUTDOWN_DELAY ${delay:-unset}, preStop sleep ${DRAIN_SLEEP}s, terminationGracePeriodSeconds $DRAIN_GRACE"
  SEEN=$DRAIN_TEXT
  DRAIN_DELAY=0
  [ "$DRY_RUN" = 1 ] && return 0
  [ -z "$delay" ] && return 0
  DRAIN_DELAY=$(seconds_of "$delay") && return 0
  SEEN="$DRAIN_TEXT (HELLO_SHUTDOWN_DELAY '$delay' is not a duration such as 5s)"
  return 1
}
# cond_shutdown_delay_at_least DEPLOYMENT SECONDS: its program keeps serving SECONDS or more after
# SIGTERM (HELLO_SHUTDOWN_DELAY).
cond_shutdown_delay_at_least() {
  drain_look "$1" || return 1
  int_ge "$DRAIN_DELAY" "$2"
}
# cond_drain_fits DEPLOYMENT: the preStop sleep and the program's drain end at least 2 s before the
# grace period does (then SIGKILL would cut them).
cond_drain_fits() {
  drain_look "$1" || return 1
  SEEN="$DRAIN_TEXT: the drain takes $((DRAIN_SLEEP + DRAIN_DELAY))s of ${DRAIN_GRACE}s"
  int_le "$((DRAIN_SLEEP + DRAIN_DELAY + 2))" "$DRAIN_GRACE"
}

# ---- playing lessons and exercises
# lesson_title DIR / exercise_title DIR: the title its file sets. A lesson's file sees its folder in
# LESSON; an exercise's file sees its own in EX_DIR and its lesson's in LESSON.
# shellcheck disable=SC2154 # title: set by the file sourced
lesson_title() { (. "$ROOT/$1/lesson.sh" && printf '%s\n' "$title"); }
# shellcheck disable=SC2154
exercise_title() { (. "$ROOT/$1/check.sh" && printf '%s\n' "$title"); }

# play_lesson N: play lesson N in a subshell (a failed check ends that lesson only, and its
# background streams are stopped), then clean up its objects whatever happened. Sets LESSON_RC.
play_lesson() {
  local dir
  dir=$(lesson_dir "$1") || exit 2
  (
    trap kill_bg EXIT
    LESSON=$dir
    # shellcheck source=/dev/null
    . "$ROOT/$dir/lesson.sh"
    printf '\n'
    say "Lesson $1: $title"
    play
  )
  LESSON_RC=$?
  if [ "$KEEP" = 1 ]; then
    note "KEEP=1: leaving the objects of $dir in place; remove them with: kubectl --context $KUBE_CONTEXT delete -k $dir"
  else
    say "cleaning up $dir"
    (remove "$dir") || warn "cleanup of $dir failed"
  fi
}

# learner_copy DIR COPY: what a learner who did exercise DIR has: a copy of its start folder with the
# reference solution's files put in (over the start's, as an edit leaves them), at COPY, which ends
# in DIR/start. Beside it a copy of the component, so the kustomization's ../../../components/hello-demo
# resolves as it does in the repository. The exercise's own folders are never changed.
learner_copy() {
  local dir copy base
  dir=$1 copy=$2
  base=${copy%/"$dir"/start}
  run rm -rf "$base"
  run mkdir -p "$copy" "$base/k8s/components"
  run cp -R k8s/components/hello-demo "$base/k8s/components/"
  run cp -R "$dir/start/." "$copy/"
  run cp -R "$dir/solution/." "$copy/"
}

# play_exercise N X: e2e's walk through exercise NX, the learner's path as the README tells it: from
# a clean slate, apply its start folder as it comes (where the lesson leaves the learner), put the
# reference solution into a copy of it (learner_copy), run the README's "Your turn" steps
# (exercise_steps: delete the lesson, apply the start folder) with that copy as the start folder,
# wait until it has run (its `settle`), grade it with the learner's conditions, clean up. Like
# play_lesson: a subshell, LESSON_RC.
play_exercise() {
  local dir lesson copy
  dir=$(exercise_dir "$1" "$2") || exit 2
  lesson=$(lesson_dir "$1")
  copy=$WORK_DIR/walk/$1$2/$dir/start
  (
    trap kill_bg EXIT
    LESSON=$lesson EX_DIR=$dir
    # shellcheck source=/dev/null
    . "$ROOT/$dir/check.sh"
    printf '\n'
    say "Exercise $1$2: $title (the learner's path: $dir/start, then its solution put in, in $copy)"
    remove "$lesson"
    remove "$dir/solution"
    fresh_apply "$dir/start"
    learner_copy "$dir" "$copy"
    walk_steps "$1" "$2" "$lesson" "$copy"
    settle
    GRADE=0
    grade
  )
  LESSON_RC=$?
  if [ "$KEEP" = 0 ]; then
    say "cleaning up exercise $1$2"
    (remove "$dir/solution" && remove "$dir/start") || warn "cleanup of exercise $1$2 failed"
  fi
}
# walk_steps N X LESSON COPY: the README's steps for exercise NX, the start folder being COPY.
walk_steps() {
  local step steps
  steps=$(exercise_steps "$1" "$2")
  say "the steps of Your turn in $3/README.md: $(printf '%s\n' "$steps" | paste -sd ' ' -)"
  case " $(printf '%s\n' "$steps" | tr '\n' ' ')" in
    *" apply-start "*) ;;
    *) fail "$3/README.md gives no kubectl apply -k of the start folder for exercise $1$2" ;;
  esac
  for step in $steps; do
    case $step in
      apply-start) k apply -k "$4" ;;
      delete-start) remove "$4" ;;
      apply-lesson) k apply -k "$3" ;;
      delete-lesson) remove "$3" ;;
      *) fail "$3/README.md: a step of exercise $1$2 e2e cannot walk ($step): only the lesson and the start folder are applied or deleted" ;;
    esac
  done
}

# grade_exercise N X: the grader (make check-N, ./check N): one line per condition, nothing else.
grade_exercise() {
  local dir
  dir=$(exercise_dir "$1" "$2") || exit 2
  LESSON=$(lesson_dir "$1") EX_DIR=$dir
  # shellcheck source=/dev/null
  . "$ROOT/$dir/check.sh"
  GRADE=1
  [ "$DRY_RUN" = 1 ] || QUIET=1 # one line per condition, not the commands behind it (a dry run lists them)
  printf 'exercise %s%s: %s (namespace %s, context %s)\n' "$1" "$2" "$title" "$NAMESPACE" "$KUBE_CONTEXT"
  grade
  if [ "$DRY_RUN" = 1 ]; then
    printf 'dry run: nothing was read or judged\n'
    return 0
  fi
  if [ "$GRADE_UNMET" -gt 0 ]; then
    printf 'not yet: %d condition(s) not met; fix, then run %s again\n' "$GRADE_UNMET" "$(check_command "$1" "$2")"
    return 1
  fi
  if [ "$GRADE_WAITS" -gt 0 ]; then
    printf 'not yet: %d condition(s) to wait for; run %s again in %ss\n' "$GRADE_WAITS" "$(check_command "$1" "$2")" "$GRADE_WAIT_MAX"
    return 3
  fi
  printf 'done: every condition met\n'
}

# your_turn N: the lines the demo ends a lesson with (PAUSE=1), pointing at its exercises.
your_turn() {
  local dir x
  dir=$(lesson_dir "$1") || exit 2
  for x in $(exercise_letters "$dir"); do
    note "Your turn ($1$x): $(exercise_title "$dir/exercise-$x"). Check it with: $(check_command "$1" "$x")"
  done
}
