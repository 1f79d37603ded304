# shellcheck shell=bash disable=SC2034 # SEEN, LESSON_RC, ... are read by common.sh and the callers
# The eight lessons as functions, shared by lesson.sh (one lesson), demo.sh (the whole story, with
# narration) and e2e.sh (every lesson, asserted). Sourced after common.sh, not run.
#
# Each lesson starts from a clean slate (a leftover finished Job would otherwise satisfy a wait at
# once), applies its folder, waits with bounded waits, shows the evidence and asserts the outcome
# from the API: conditions, reasons, restart counts, exit codes, log lines. Never from timing
# alone, and never by eyeballing.

LESSONS=(1 2 3 4 5 6 7 8)

lesson_dir() {
  case $1 in
    1) echo k8s/01-deployment-crashloop ;;
    2) echo k8s/02-job-completes ;;
    3) echo k8s/03-loop-deployment ;;
    4) echo k8s/04-cronjob ;;
    5) echo k8s/05-failing-job ;;
    6) echo k8s/06-grace-period ;;
    7) echo k8s/07-finite-loop-job ;;
    8) echo k8s/08-liveness-heartbeat ;;
    *) usage_error "lesson must be one of ${LESSONS[*]} (got '$1')" ;;
  esac
}

narrate() {
  local line
  for line in "$@"; do printf '    | %s\n' "$line"; done
}

begin_lesson() {
  local n=$1 title=$2
  printf '\n'
  say "Lesson $n: $title"
}

# The label selector of every pod a lesson folder creates: its workloads' instance labels, read from
# the manifests (no cluster needed, so a dry run prints the same command).
# A solution (k8s/solutions) may build on a lesson folder it lists as a resource: read that one too.
lesson_pods() {
  local names dirs=("$1") res
  while read -r res; do
    [[ -d $1/$res ]] && dirs+=("$1/$res")
  done < <(sed -n 's/^ *- *\(\.\..*\)$/\1/p' "$1/kustomization.yaml")
  names=$(for res in "${dirs[@]}"; do cat "$res"/*.yaml; done |
    sed -n 's/^ *app\.kubernetes\.io\/instance: *//p' | sort -u | paste -sd, -)
  echo "app.kubernetes.io/instance in ($names)"
}

# Delete a lesson's objects and wait until their pods are gone too. kubectl's default cascade is
# background: `delete --wait` returns once the Deployment/Job/CronJob is gone while its pods are
# still terminating (and still in phase Running), so a replay could pick the old pod. Foreground
# keeps each owner until its dependents are deleted; the wait on the pods covers what is left.
remove_lesson() {
  local dir=$1 pods
  pods=$(lesson_pods "$dir")
  k delete -k "$dir" --ignore-not-found --cascade=foreground --wait=true --timeout=120s || {
    diagnose
    fail "the objects of $dir were not deleted within 120s"
  }
  k wait --for=delete pods -l "$pods" --timeout=120s || {
    diagnose
    fail "the pods of $dir were still there 120s after their owners were deleted"
  }
}

# Remove whatever an earlier run left, then apply the lesson's folder.
fresh_apply() {
  local dir=$1
  remove_lesson "$dir"
  k apply -k "$dir"
}

cleanup_lesson() {
  local dir
  dir=$(lesson_dir "$1")
  if ((KEEP)); then
    note "KEEP=1: leaving the objects of $dir in place; remove them with: kubectl --context $KUBE_CONTEXT delete -k $dir"
    return 0
  fi
  say "cleaning up $dir"
  remove_lesson "$dir"
}

# kubectl wait with a bounded timeout; on timeout, diagnostics and a one-line failure.
wait_for() {
  local what=$1
  shift
  say "waiting until $what"
  k wait "$@" || {
    diagnose
    fail "$what did not happen (kubectl wait $*)"
  }
}

# running_pod INSTANCE: POD = the first running pod of a workload that is not being deleted (see
# live_pods). An empty list or a kubectl error ends the lesson with diagnostics and one FAIL line.
running_pod() {
  live_pods "$1" Running || {
    diagnose
    fail "$SEEN"
  }
  POD=${POD_LIST[0]}
}

# Wait until a background command has written its first line (a watch or a log stream is
# connected), at most 20 s: deleting a pod before its watch is connected would lose the evidence.
wait_connected() {
  local file=$1 what=$2 i
  ((DRY_RUN)) && return 0
  for ((i = 0; i < 40; i++)); do
    [[ -s $file ]] && return 0
    sleep 0.5
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
  local pod=$1 watch_file started line event code reason
  watch_file=$WORK_DIR/$pod.watch
  LOG_FILE=$WORK_DIR/$pod.log
  ((DRY_RUN)) || rm -f "$watch_file" "$LOG_FILE"
  start_bg "$watch_file" kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" get pod "$pod" \
    --watch --output-watch-events \
    -o 'jsonpath={.type}{"|"}{.object.status.containerStatuses[0].state.terminated.exitCode}{"|"}{.object.status.containerStatuses[0].state.terminated.reason}{"\n"}'
  local watch_pid=$BG_PID
  start_bg "$LOG_FILE" kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" logs -f "$pod"
  local logs_pid=$BG_PID
  wait_connected "$watch_file" "the watch of $pod"
  wait_connected "$LOG_FILE" "the log stream of $pod"
  started=$SECONDS
  k delete pod "$pod" --wait=true --timeout=120s || {
    diagnose
    fail "pod $pod was not deleted within 120s"
  }
  DELETE_SECONDS=$((SECONDS - started))
  stop_bg "$logs_pid" 10 # ends by itself when the container is gone
  stop_bg "$watch_pid" 3 # never ends by itself: stop it once the DELETED event had time to arrive
  EXIT_CODE='' EXIT_REASON=''
  if ((!DRY_RUN)); then
    while IFS='|' read -r event code reason; do
      [[ -n $code ]] && EXIT_CODE=$code EXIT_REASON=$reason
      line=$event
    done <"$watch_file"
    note "pod $pod: deleted in ${DELETE_SECONDS}s; last event ${line:-none}; exit code ${EXIT_CODE:-unknown} (${EXIT_REASON:-no reason})"
    note "its last log lines:"
    tail -n 5 "$LOG_FILE" | sed 's/^/      /'
  fi
}

log_has() { grep -qF -- "$2" "$1"; }
log_tail() { ((DRY_RUN)) || tail -n 3 "$LOG_FILE" 2>/dev/null | tr '\n' ' '; }
log_lacks() { ! grep -qF -- "$2" "$1"; }

# ------------------------------------------------------------------------------- conditions
# What the lessons (make e2e) and the exercises' grader (make check-N) assert, each written once as
# a condition (see verify in common.sh): it reads the cluster, sets SEEN and returns 0 when it holds.
# A kubectl error (say, NotFound) is a condition not met, with kubectl's answer as what was seen.

# kread VAR WHAT ARGS...: kcap, and on an error SEEN says what could not be read and why.
kread() {
  local __var=$1 __what=$2
  shift 2
  kcap "$__var" "$@" && return 0
  SEEN="$__what: $(head -n1 "$WORK_DIR/last-stderr" 2>/dev/null)"
  return 1
}

# live_pods INSTANCE PHASE [ARGS...]: POD_LIST = the pods of a workload in PHASE that are not being
# deleted (a terminating pod keeps its phase). The listing ranges over the items: `{.items[0]...}`
# fails on an empty list ("array index out of bounds").
live_pods() {
  local instance=$1 phase=$2 listing name deleting
  shift 2
  POD_LIST=()
  kread listing "cannot list the pods of $instance" get pods -l "app.kubernetes.io/instance=$instance" \
    --field-selector="status.phase=$phase" "$@" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.metadata.deletionTimestamp}{"\n"}{end}' || return 1
  while IFS='|' read -r name deleting; do
    [[ -n $name && -z $deleting ]] && POD_LIST+=("$name")
  done <<<"$listing"
  ((DRY_RUN)) && POD_LIST=(POD)
  ((${#POD_LIST[@]})) || SEEN="no pod of $instance in phase $phase that is not being deleted (saw: ${listing:-no pods})"
  ((${#POD_LIST[@]}))
}

cond_job_complete() {
  local status
  kread status "no Job $1" get job "$1" -o 'jsonpath={.status.conditions[?(@.type=="Complete")].status}' || return 1
  SEEN="Complete=${status:-not yet}"
  [[ $status == True ]]
}

cond_job_count() { # JOB FIELD N: .status.FIELD (succeeded, failed) is N
  local n
  kread n "no Job $1" get job "$1" -o "jsonpath={.status.$2}" || return 1
  SEEN="$2 pods: ${n:-0} (wanted $3)"
  int_eq "${n:-0}" "$3"
}

cond_job_failed_with() { # JOB REASON
  local reason
  kread reason "no Job $1" get job "$1" -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}' || return 1
  SEEN="Failed reason: ${reason:-none (not failed)}"
  [[ $reason == "$2" ]]
}

cond_absent() { # KIND NAME: no such object
  local found
  kread found "cannot list $1" get "$1" "$2" --ignore-not-found -o name || return 1
  SEEN=${found:-none}
  [[ -z $found ]]
}

# cond_log_lines INSTANCE MESSAGE MIN [MAX]: the logs of the workload's pods have between MIN and
# MAX lines that are exactly MESSAGE (kubectl logs interleaves the program's own stderr lines).
cond_log_lines() {
  local logs n want
  kread logs "no logs of $1" logs -l "app.kubernetes.io/instance=$1" --tail=-1 || return 1
  n=$(grep -cxF -- "$2" <<<"$logs" || true)
  want="$3 or more"
  [[ -z ${4:-} ]] || want=$([[ $3 == "$4" ]] && echo "$3" || echo "$3 to $4")
  SEEN="$n lines '$2' (wanted $want); last lines: $(tail -n 2 <<<"$logs")"
  int_ge "$n" "$3" && { [[ -z ${4:-} ]] || int_le "$n" "$4"; }
}

# cond_pods_log INSTANCE TEXT: every running pod of the workload has logged a line containing TEXT.
cond_pods_log() {
  local pod logs seen=()
  live_pods "$1" Running || return 1
  for pod in "${POD_LIST[@]}"; do
    kread logs "no logs of $pod" logs "$pod" || return 1
    grep -qF -- "$2" <<<"$logs" || {
      SEEN="$pod: $(grep -m1 -F 'starting' <<<"$logs" || tail -n 1 <<<"$logs")"
      return 1
    }
    seen+=("$pod")
  done
  SEEN="'$2' in the logs of ${seen[*]}"
}

cond_none_terminating() { # INSTANCE: no pod of it is stuck being deleted
  local listing
  kread listing "cannot list the pods of $1" get pods -l "app.kubernetes.io/instance=$1" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.metadata.deletionTimestamp}{"\n"}{end}' || return 1
  SEEN=$(grep -E '\|.+' <<<"$listing" | sed 's/|/ terminating since /' || true)
  [[ -z $SEEN ]] || return 1
  SEEN="no pod terminating"
}

cond_rolled_out() { # DEPLOYMENT: every replica updated, ready and available, the latest spec seen
  local line want updated ready available generation observed
  kread line "no Deployment $1" get deployment "$1" \
    -o 'jsonpath={.spec.replicas}{"|"}{.status.updatedReplicas}{"|"}{.status.readyReplicas}{"|"}{.status.availableReplicas}{"|"}{.metadata.generation}{"|"}{.status.observedGeneration}' ||
    return 1
  IFS='|' read -r want updated ready available generation observed <<<"$line"
  SEEN="replicas ${want:-?}: updated ${updated:-0}, ready ${ready:-0}, available ${available:-0}; generation ${generation:-?} (observed ${observed:-?})"
  int_eq "${updated:-0}" "$want" && int_eq "${ready:-0}" "$want" && int_eq "${available:-0}" "$want" &&
    int_eq "$observed" "$generation"
}

cond_restarts_at_most() { # INSTANCE N: no running pod of it restarted more than N times
  local pod n
  live_pods "$1" Running || return 1
  for pod in "${POD_LIST[@]}"; do
    kread n "no pod $pod" get pod "$pod" -o 'jsonpath={.status.containerStatuses[0].restartCount}' || return 1
    SEEN="$pod: restartCount ${n:-?}"
    int_le "${n:-0}" "$2" || return 1
  done
}

cond_event() { # POD TEXT: an Unhealthy event of the pod says TEXT
  local events
  kread events "cannot list events" get events --field-selector "involvedObject.name=$1,reason=Unhealthy" \
    -o 'jsonpath={range .items[*]}{.message}{"\n"}{end}' || return 1
  SEEN="Unhealthy events of $1: ${events:-none}"
  grep -qF -- "$2" <<<"$events"
}

cond_no_liveness_failure() { # INSTANCE: no running pod of it had a failed liveness probe
  local pod
  live_pods "$1" Running || return 1
  for pod in "${POD_LIST[@]}"; do
    ! cond_event "$pod" 'Liveness probe failed' || return 1
  done
}

# cond_newest_run_printed INSTANCE MESSAGE: the newest succeeded pod of a CronJob printed MESSAGE.
cond_newest_run_printed() {
  local logs
  live_pods "$1" Succeeded --sort-by=.metadata.creationTimestamp || return 1
  kread logs "no logs of ${POD_LIST[-1]}" logs "${POD_LIST[-1]}" || return 1
  SEEN="${POD_LIST[-1]}: $logs"
  grep -qxF -- "$2" <<<"$logs"
}

cond_pods_exited() { # INSTANCE CODE: every pod of the workload ended with exit code CODE
  local listing
  kread listing "cannot list the pods of $1" get pods -l "app.kubernetes.io/instance=$1" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"="}{.status.containerStatuses[0].state.terminated.exitCode}{" "}{end}' ||
    return 1
  SEEN="exit codes: ${listing:-no pods}"
  SEEN=${SEEN% }
  [[ -n $listing ]] && ! grep -qvE "=$2\$" <<<"$(tr ' ' '\n' <<<"$listing" | sed '/^$/d')"
}

# ------------------------------------------------------------------------------------------ 1
LESSON_TITLE_1="a program that exits 0, run as a Deployment, ends in CrashLoopBackOff"
lesson_1() {
  local dir app=once-as-deployment
  dir=$(lesson_dir 1)
  begin_lesson 1 "$LESSON_TITLE_1"
  narrate "hello-once prints one line and exits 0. A Deployment only allows restartPolicy Always," \
    "so the kubelet restarts the container after every exit, success included, and waits longer" \
    "each time (10 s, 20 s, 40 s ... up to 5 min). Watch STATUS alternate between Completed and" \
    "CrashLoopBackOff while RESTARTS climbs: kubectl -n $NAMESPACE get pods -w" \
    "Each look at the pod is kept, and after the fourth restart the gaps between restarts, read" \
    "from the API, are drawn beside the kubelet's documented back-off."
  L1_SEEN=$WORK_DIR/lesson-1-restarts.txt
  ((DRY_RUN)) || : >"$L1_SEEN"
  fresh_apply "$dir"
  poll 180 "its pod is in CrashLoopBackOff after at least 4 restarts" crashloop_seen "$app" 4
  ((DRY_RUN)) && L1_POD=POD
  restart_timeline "$L1_SEEN"
  k get pods -l "app.kubernetes.io/instance=$app"
  verify "the last run exited with code 0, reason Completed" '' cond_last_run "$app" 0 Completed
  local logs
  kcap logs logs "$L1_POD" --previous
  expect "the previous run printed 'Hello, World!'" "$logs" grep -qxF 'Hello, World!' <<<"$logs"
  narrate "Nothing failed: the program did its job and exited 0. The workload type was wrong;" \
    "lesson 2 runs the same program as a Job."
}

crashloop_seen() { # INSTANCE [MIN_RESTARTS, default 2]: its pod waits in CrashLoopBackOff
  local line min=${2:-2}
  kcap line get pods -l "app.kubernetes.io/instance=$1" \
    -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.status.containerStatuses[0].restartCount}{"|"}{.status.containerStatuses[0].state.waiting.reason}{"|"}{.status.containerStatuses[0].lastState.terminated.exitCode}{"|"}{.status.containerStatuses[0].lastState.terminated.reason}{"|"}{.status.containerStatuses[0].state.running.startedAt}{"|"}{.status.containerStatuses[0].state.terminated.startedAt}{"|"}{.status.containerStatuses[0].state.terminated.finishedAt}{"|"}{.status.containerStatuses[0].lastState.terminated.startedAt}{"|"}{.status.containerStatuses[0].lastState.terminated.finishedAt}{"\n"}{end}' ||
    return 1
  # Every look is kept while lesson 1 plays: the API holds only the current and the previous run,
  # the timeline needs all.
  ((DRY_RUN)) || [[ -z ${L1_SEEN:-} ]] || printf '%s\n' "$line" >>"$L1_SEEN"
  IFS='|' read -r L1_POD L1_RESTARTS L1_WAITING L1_EXIT L1_REASON _ <<<"$line"
  ((DRY_RUN)) && L1_POD=POD # a placeholder: the real name is only known on a live cluster
  SEEN="pod ${L1_POD:-none}, restarts ${L1_RESTARTS:-?}, waiting reason ${L1_WAITING:-none}, last exit code ${L1_EXIT:-none}"
  [[ $L1_WAITING == CrashLoopBackOff ]] && int_ge "$L1_RESTARTS" "$min"
}

# restart_timeline FILE: the gaps between the restarts seen in FILE (crashloop_seen's looks at the
# pod) beside the kubelet's documented back-off, drawn by restart-timeline.sh (the chart code
# images/docker-demo uses too), and checked: gaps measured, none shorter than documented, no
# malformed timestamp.
restart_timeline() {
  local rc=0 chart
  say "the gaps between restarts, measured from the API, beside the documented back-off"
  ((QUIET)) || printf '%s%s < %s%s\n' "$C_CMD" "$(format_cmd k8s/scripts/restart-timeline.sh kubelet)" "$1" "$C_OFF"
  ((DRY_RUN)) || chart=$(k8s/scripts/restart-timeline.sh kubelet <"$1") || rc=$?
  ((DRY_RUN)) || printf '%s\n' "$chart"
  expect "the restart gaps were measured, none shorter than documented" "exit status $rc" int_eq "$rc" 0
}

cond_last_run() { # INSTANCE CODE REASON: the last run of its (first) pod's container ended so
  crashloop_seen "$1"
  SEEN="pod ${L1_POD:-none}: last exit code ${L1_EXIT:-none}, reason ${L1_REASON:-none}"
  int_eq "$L1_EXIT" "$2" && [[ $L1_REASON == "$3" ]]
}

# ------------------------------------------------------------------------------------------ 2
LESSON_TITLE_2="the same program as a Job completes"
lesson_2() {
  local dir app=once-as-job
  dir=$(lesson_dir 2)
  begin_lesson 2 "$LESSON_TITLE_2"
  narrate "A Job runs its pod to completion: restartPolicy Never, and an exit code 0 is success." \
    "STATUS goes to Completed and stays there; ttlSecondsAfterFinished removes the Job later."
  fresh_apply "$dir"
  wait_for "Job $app is Complete" --for=condition=Complete "job/$app" --timeout=120s
  k get job,pods -l "app.kubernetes.io/instance=$app"
  verify "one pod succeeded" '' cond_job_count "$app" succeeded 1
  verify "its log has the line 'Hello, World!' once" '' cond_log_lines "$app" 'Hello, World!' 1 1
}

# ------------------------------------------------------------------------------------------ 3
LESSON_TITLE_3="a program that runs until told to stop, as a Deployment, stops gracefully"
lesson_3() {
  local dir app=loop-deployment grace
  dir=$(lesson_dir 3)
  begin_lesson 3 "$LESSON_TITLE_3"
  narrate "hello-loop prints a line every 2 s, each flushed, so kubectl logs shows it at once." \
    "When the pod is deleted (a rollout, a drain, a scale-down) the kubelet sends SIGTERM to PID 1;" \
    "hello-loop handles it, logs the graceful line and exits 0 well before the grace period ends."
  fresh_apply "$dir"
  k rollout status "deployment/$app" --timeout=120s
  verify "the Deployment is rolled out" '' cond_rolled_out "$app"
  verify "every pod prints 'Hello, World!'" '' cond_pods_log "$app" 'Hello, World!'
  running_pod "$app"
  kcap grace get pod "$POD" -o 'jsonpath={.spec.terminationGracePeriodSeconds}'
  delete_and_watch "$POD"
  expect "the old pod logged 'shutting down gracefully'" "$(log_tail)" log_has "$LOG_FILE" 'shutting down gracefully'
  expect "it exited with code 0" "$EXIT_CODE" int_eq "$EXIT_CODE" 0
  expect "it was gone in under half of its grace period" "deleted in ${DELETE_SECONDS}s, grace ${grace}s" \
    int_lt "$((2 * DELETE_SECONDS))" "$grace"
  k rollout status "deployment/$app" --timeout=120s
  narrate "The Deployment replaced the pod at once: this is what a long-running program is for."
}

# ------------------------------------------------------------------------------------------ 4
LESSON_TITLE_4="a CronJob runs the program every minute"
lesson_4() {
  local dir app=once-cronjob message
  dir=$(lesson_dir 4)
  begin_lesson 4 "$LESSON_TITLE_4"
  narrate "A CronJob creates a Job on a schedule (here every minute), and each Job runs to completion." \
    "The first run starts at the next full minute, so this can take up to about a minute."
  fresh_apply "$dir"
  poll 150 "CronJob $app has a successful run" cron_succeeded "$app"
  k get cronjob,jobs,pods -l "app.kubernetes.io/instance=$app"
  kcap message get cronjob "$app" \
    -o 'jsonpath={.spec.jobTemplate.spec.template.spec.containers[0].env[?(@.name=="HELLO_MESSAGE")].value}'
  verify "the newest completed run printed the CronJob's HELLO_MESSAGE" '' \
    cond_newest_run_printed "$app" "$message"
}

cron_succeeded() {
  local last
  kcap last get cronjob "$1" -o 'jsonpath={.status.lastSuccessfulTime}' || return 1
  SEEN="lastSuccessfulTime=${last:-unset}"
  [[ -n $last ]]
}

# ------------------------------------------------------------------------------------------ 5
LESSON_TITLE_5="failing Jobs: retries with backoff, and a podFailurePolicy that stops at once"
lesson_5() {
  local dir limit
  dir=$(lesson_dir 5)
  begin_lesson 5 "$LESSON_TITLE_5"
  narrate "Both Jobs run hello-once with a non-zero exit code. failing-job retries with a growing" \
    "delay until backoffLimit; failing-job-policy has a podFailurePolicy that fails the Job at once" \
    "on exit code 42, since no retry can fix that."
  fresh_apply "$dir"
  wait_for "Job failing-job-policy has Failed" --for=condition=Failed job/failing-job-policy --timeout=90s
  verify "failing-job-policy failed with reason PodFailurePolicy" '' \
    cond_job_failed_with failing-job-policy PodFailurePolicy
  verify "after a single failed pod, without retries" '' cond_job_count failing-job-policy failed 1
  wait_for "Job failing-job has Failed" --for=condition=Failed job/failing-job --timeout=240s
  verify "failing-job failed with reason BackoffLimitExceeded" '' cond_job_failed_with failing-job BackoffLimitExceeded
  kcap limit get job failing-job -o 'jsonpath={.spec.backoffLimit}'
  verify "after backoffLimit + 1 failed pods" '' \
    cond_job_count failing-job failed "$((${limit:-0} + 1))"
  k get jobs,pods -l app.kubernetes.io/part-of=hello-k8s
}

# ------------------------------------------------------------------------------------------ 6
LESSON_TITLE_6="grace period: a drain longer than the grace period, and a program that ignores SIGTERM"
lesson_6() {
  local dir grace
  dir=$(lesson_dir 6)
  begin_lesson 6 "$LESSON_TITLE_6"
  narrate "grace-drain-too-long handles SIGTERM but wants to drain for longer than its" \
    "terminationGracePeriodSeconds; grace-ignore-sigterm installs no handler, so as PID 1 it never" \
    "even sees SIGTERM. In both cases the kubelet sends SIGKILL when the grace period runs out:" \
    "exit code 137 = 128 + 9. Compare with lesson 3, which exited 0 in about a second."
  fresh_apply "$dir"
  k rollout status deployment/grace-drain-too-long --timeout=120s
  k rollout status deployment/grace-ignore-sigterm --timeout=120s

  running_pod grace-drain-too-long
  kcap grace get pod "$POD" -o 'jsonpath={.spec.terminationGracePeriodSeconds}'
  delete_and_watch "$POD"
  expect "grace-drain-too-long began its drain ('draining before exit')" "$(log_tail)" \
    log_has "$LOG_FILE" 'draining before exit'
  expect "and was killed: exit code 137" "$EXIT_CODE" int_eq "$EXIT_CODE" 137
  expect "when its grace period ran out" "deleted in ${DELETE_SECONDS}s, grace ${grace}s" \
    int_ge "$DELETE_SECONDS" "$((${grace:-0} - 1))"

  verify "grace-ignore-sigterm started without signal handlers" '' cond_pods_log grace-ignore-sigterm 'signals=ignore'
  running_pod grace-ignore-sigterm
  kcap grace get pod "$POD" -o 'jsonpath={.spec.terminationGracePeriodSeconds}'
  delete_and_watch "$POD"
  expect "grace-ignore-sigterm never logged a graceful shutdown" "$(log_tail)" \
    log_lacks "$LOG_FILE" 'shutting down gracefully'
  expect "it was killed: exit code 137" "$EXIT_CODE" int_eq "$EXIT_CODE" 137
  expect "its deletion took the full grace period" "deleted in ${DELETE_SECONDS}s, grace ${grace}s" \
    int_ge "$DELETE_SECONDS" "$((${grace:-0} - 1))"
}

# ------------------------------------------------------------------------------------------ 7
LESSON_TITLE_7="a finite loop is a Job: HELLO_COUNT lines, then Completed"
lesson_7() {
  local dir app=finite-loop count message
  dir=$(lesson_dir 7)
  begin_lesson 7 "$LESSON_TITLE_7"
  narrate "hello-loop with HELLO_COUNT prints that many lines and exits 0. A loop is not what makes" \
    "a Deployment right, running forever is; a finite loop belongs in a Job."
  fresh_apply "$dir"
  wait_for "Job $app is Complete" --for=condition=Complete "job/$app" --timeout=120s
  kcap count get job "$app" \
    -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="HELLO_COUNT")].value}'
  kcap message get job "$app" \
    -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="HELLO_MESSAGE")].value}'
  message=${message:-Hello, World!} # the program's default when the manifest sets none
  verify "its log has HELLO_COUNT message lines" '' cond_log_lines "$app" "$message" "$count" "$count"
  k get job,pods -l "app.kubernetes.io/instance=$app"
}

# ------------------------------------------------------------------------------------------ 8
LESSON_TITLE_8="a liveness probe restarts a program that stopped making progress"
lesson_8() {
  local dir app=liveness-heartbeat
  dir=$(lesson_dir 8)
  begin_lesson 8 "$LESSON_TITLE_8"
  narrate "hello-loop rewrites a heartbeat file after every line, and 'hello-loop check' (the exec" \
    "probe) fails once the heartbeat is stale. HELLO_STALL_AFTER makes it stop working after 30 s" \
    "while its process keeps running: the readiness probe takes it out of service first, then the" \
    "liveness probe fails and the kubelet restarts the container."
  fresh_apply "$dir"
  k rollout status "deployment/$app" --timeout=120s
  running_pod "$app"
  poll 180 "the kubelet restarted $POD's container after failed liveness probes" restarted "$POD"
  verify "an Unhealthy event says 'Liveness probe failed'" '' cond_event "$POD" 'Liveness probe failed'
  k get pods -l "app.kubernetes.io/instance=$app"
}

restarted() {
  local n
  kcap n get pod "$1" -o 'jsonpath={.status.containerStatuses[0].restartCount}' || return 1
  SEEN="restartCount=${n:-?}"
  int_ge "$n" 1
}

# A command that fails outside a check (kubectl answering an error) ends the lesson through
# `set -e`; without this it would end with kubectl's own message only, or none.
command_failed() {
  local rc=$1 cmd=$2
  diagnose
  printf '%sFAIL: the command above failed (exit %s): %s%s\n' "$C_BAD" "$rc" "$cmd" "$C_OFF" >&2
}

# play_lesson N: run one lesson in a subshell (a failed check ends that lesson only, and its
# background watches are stopped), then clean up its objects whatever happened. Sets LESSON_RC.
# Never call it as a condition (`if play_lesson`, `play_lesson ||`): bash then ignores `set -e`
# inside the lesson, and a failing command would no longer end it.
play_lesson() {
  local n=$1
  lesson_dir "$n" >/dev/null
  set +e
  (
    set -eE # -E: the ERR trap also fires inside the lesson's functions
    trap 'command_failed $? "$BASH_COMMAND"' ERR
    trap kill_bg EXIT
    "lesson_$n"
  )
  LESSON_RC=$?
  set -e
  cleanup_lesson "$n" || warn "cleanup of lesson $n failed"
}

# The lessons need podFailurePolicy (GA in 1.31) and a working API: check both before starting.
check_cluster() {
  need_context
  local version minor
  capture version kubectl --context "$KUBE_CONTEXT" get --raw /version ||
    fail "the cluster behind context $KUBE_CONTEXT does not answer; is it running? (make $CLUSTER-up)"
  ((DRY_RUN)) && return 0
  minor=$(sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' <<<"$version" | head -n1)
  int_ge "${minor:-0}" 31 || fail "Kubernetes 1.$minor is too old for these lessons (podFailurePolicy needs 1.31+)"
}

ensure_namespace() {
  k apply -k k8s/namespace
}
