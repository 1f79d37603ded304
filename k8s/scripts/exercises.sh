# shellcheck shell=bash disable=SC2034 # EXERCISE_TITLE_* are read through exercise_title
# The exercises ("Your turn" in each lesson README) as functions, shared by check.sh (the grader,
# make check-N) and e2e.sh (which applies each reference solution and grades it). Sourced after
# common.sh and lessons.sh, not run.
#
# Exercise Nx (N = lesson, x = a or b) has a reference solution in k8s/solutions/0Nx-*/, and:
#  - EXERCISE_TITLE_Nx: the task in one line;
#  - grade_Nx: its conditions, each a verify of a shared condition (lessons.sh) with the hint the
#    learner sees when it is not met. Reads only: it never changes the cluster and never waits;
#  - settle_Nx: what e2e waits for after applying the solution, before grading (bounded waits).

# The exercises of lesson N, one letter each, read from the solutions' folder names.
exercises_of() {
  local dir letters=''
  for dir in k8s/solutions/0"$1"[a-z]-*/; do
    [[ -d $dir ]] && letters+=${dir:16:1}
  done
  echo "$letters"
}

# exercise_dir N X: the solution folder of exercise Nx; bad usage is one line and exit 2.
exercise_dir() {
  local n=$1 x=$2 letters
  lesson_dir "$n" >/dev/null
  letters=$(exercises_of "$n")
  [[ $x =~ ^[a-z]$ && $letters == *"$x"* ]] ||
    usage_error "EXERCISE must be one of: $(sed 's/./& /g; s/ $//' <<<"$letters") for lesson $n (got '$x')"
  echo k8s/solutions/0"$n$x"-*
}

# ------------------------------------------------------------------------------------------ 1a
EXERCISE_TITLE_1a="lesson 1's program, run so that it completes"
settle_1a() { wait_for "Job once-as-deployment is Complete" --for=condition=Complete job/once-as-deployment --timeout=120s; }
grade_1a() {
  verify "no Deployment once-as-deployment is left" \
    "a Deployment restarts whatever exits; delete it: kubectl delete -k k8s/01-deployment-crashloop" \
    cond_absent deployment once-as-deployment
  verify "Job once-as-deployment is Complete" \
    "make it a Job (apiVersion batch/v1, restartPolicy: Never, no replicas or selector) and apply it" \
    cond_job_complete once-as-deployment
  verify "it printed 'Hello, World!' exactly once" \
    "one run is the whole job: leave completions and parallelism at their default of 1" \
    cond_log_lines once-as-deployment 'Hello, World!' 1 1
}

# ------------------------------------------------------------------------------------------ 2a
EXERCISE_TITLE_2a="lesson 2's Job prints 'Hello, three times!' in three pods at once"
settle_2a() { wait_for "Job once-as-job is Complete" --for=condition=Complete job/once-as-job --timeout=120s; }
grade_2a() {
  verify "Job once-as-job is Complete" \
    "a Job's pod template cannot change: kubectl -n hello-demo delete job once-as-job, then apply again" \
    cond_job_complete once-as-job
  verify "three of its pods succeeded" \
    "completions: 3 asks for three successful pods, parallelism: 3 runs them at once" \
    cond_job_count once-as-job succeeded 3
  verify "they printed 'Hello, three times!' three times in all" \
    "HELLO_MESSAGE in the container's env sets the line (exact spelling)" \
    cond_log_lines once-as-job 'Hello, three times!' 3 3
}

# ------------------------------------------------------------------------------------------ 3a
EXERCISE_TITLE_3a="roll out a new message on lesson 3's Deployment"
settle_3a() { k rollout status deployment/loop-deployment --timeout=120s; }
grade_3a() {
  verify "Deployment loop-deployment is rolled out" \
    "wait for the rollout: kubectl -n hello-demo rollout status deploy/loop-deployment" \
    cond_rolled_out loop-deployment
  verify "every pod prints 'Hello, rollout!'" \
    "set HELLO_MESSAGE in the pod template's env and apply: the change is what starts a rollout" \
    cond_pods_log loop-deployment 'Hello, rollout!'
  verify "no old pod is left terminating" \
    "hello-loop exits at once on SIGTERM unless HELLO_SIGNALS=ignore is set; is it?" \
    cond_none_terminating loop-deployment
}

# ------------------------------------------------------------------------------------------ 4a
EXERCISE_TITLE_4a="lesson 4's CronJob says 'Hello on my schedule!'"
# The CronJob records lastSuccessfulTime after its Job completes, so wait for that too.
settle_4a() {
  poll 150 "CronJob once-cronjob has a successful run" cron_succeeded once-cronjob
  poll 30 "the newest run printed 'Hello on my schedule!'" cond_newest_run_printed once-cronjob 'Hello on my schedule!'
}
grade_4a() {
  verify "CronJob once-cronjob has a successful run" \
    "runs start at the full minute; wait up to a minute and check again" \
    cron_succeeded once-cronjob
  verify "its newest successful run printed 'Hello on my schedule!'" \
    "HELLO_MESSAGE belongs in spec.jobTemplate.spec.template's container env; runs before your change keep the old line" \
    cond_newest_run_printed once-cronjob 'Hello on my schedule!'
}

# ------------------------------------------------------------------------------------------ 5a
EXERCISE_TITLE_5a="lesson 5's failing-job fails at once on exit code 1"
settle_5a() { wait_for "Job failing-job has Failed" --for=condition=Failed job/failing-job --timeout=90s; }
grade_5a() {
  verify "failing-job failed with reason PodFailurePolicy" \
    "add a podFailurePolicy rule (action FailJob, onExitCodes In [1]); delete the Job first, then apply" \
    cond_job_failed_with failing-job PodFailurePolicy
  verify "after a single failed pod, without retries" \
    "a matching FailJob rule ends the Job on the first failure, before backoffLimit counts it" \
    cond_job_count failing-job failed 1
  verify "its pod exited with code 1" \
    "keep HELLO_EXIT_CODE=1: the policy is about the code the program returns" \
    cond_pods_exited failing-job 1
}

# ------------------------------------------------------------------------------------------ 5b
EXERCISE_TITLE_5b="lesson 5's failing-job-policy retries exit code 1 twice, keeping its rule for 42"
settle_5b() { wait_for "Job failing-job-policy has Failed" --for=condition=Failed job/failing-job-policy --timeout=240s; }
grade_5b() {
  verify "failing-job-policy failed with reason BackoffLimitExceeded" \
    "exit code 1 matches no FailJob rule, so the Job retries; set HELLO_EXIT_CODE=1, delete the Job, apply" \
    cond_job_failed_with failing-job-policy BackoffLimitExceeded
  verify "after three failed pods: the first try and two retries" \
    "backoffLimit counts retries: 2 gives three pods in all" \
    cond_job_count failing-job-policy failed 3
  verify "every pod exited with code 1" \
    "HELLO_EXIT_CODE sets the code; leave the FailJob rule for 42 as it is" \
    cond_pods_exited failing-job-policy 1
}

# ------------------------------------------------------------------------------------------ 6a
EXERCISE_TITLE_6a="lesson 6's grace-ignore-sigterm deletes in about a second, same image"
settle_6a() { k rollout status deployment/grace-ignore-sigterm --timeout=120s; }
grade_6a() {
  verify "Deployment grace-ignore-sigterm is rolled out" \
    "apply your change and wait: kubectl -n hello-demo rollout status deploy/grace-ignore-sigterm" \
    cond_rolled_out grace-ignore-sigterm
  verify "its program handles SIGTERM (its starting line says signals=handle)" \
    "is HELLO_SIGNALS=ignore still set? without it hello-loop installs its handler" \
    cond_pods_log grace-ignore-sigterm 'signals=handle'
  verify "no pod of it is left terminating" \
    "a pod still terminating waits out its grace period: is HELLO_SIGNALS=ignore still set?" \
    cond_none_terminating grace-ignore-sigterm
}

# ------------------------------------------------------------------------------------------ 7a
EXERCISE_TITLE_7a="lesson 7's loop prints 'Counting!' three times, then completes"
settle_7a() { wait_for "Job finite-loop is Complete" --for=condition=Complete job/finite-loop --timeout=120s; }
grade_7a() {
  verify "Job finite-loop is Complete" \
    "a Job's pod template cannot change: kubectl -n hello-demo delete job finite-loop, then apply again" \
    cond_job_complete finite-loop
  verify "it printed 'Counting!' exactly three times" \
    "HELLO_COUNT says how many lines, HELLO_MESSAGE what they say" \
    cond_log_lines finite-loop 'Counting!' 3 3
  verify "its pod exited with code 0" \
    "hello-loop exits 0 after HELLO_COUNT lines; any other code means it did not get there" \
    cond_pods_exited finite-loop 0
}

# ------------------------------------------------------------------------------------------ 7b
EXERCISE_TITLE_7b="lesson 7's finite loop under a Deployment crash-loops after every success"
settle_7b() {
  poll 150 "its pod is in CrashLoopBackOff after at least 2 restarts" crashloop_seen finite-loop-deployment
}
grade_7b() {
  verify "Deployment finite-loop-deployment's pod is in CrashLoopBackOff after at least 2 restarts" \
    "a Deployment named finite-loop-deployment with HELLO_COUNT=5; the restarts take a minute or so" \
    crashloop_seen finite-loop-deployment
  verify "its last run exited with code 0, reason Completed" \
    "after HELLO_COUNT lines hello-loop exits 0; another code is a failure: read kubectl logs --previous" \
    cond_last_run finite-loop-deployment 0 Completed
}

# ------------------------------------------------------------------------------------------ 8a
EXERCISE_TITLE_8a="lesson 8's worker stays healthy: probes kept, no stall"
settle_8a() {
  k rollout status deployment/liveness-heartbeat --timeout=120s
  poll 120 "the worker printed 20 lines" cond_log_lines liveness-heartbeat 'Hello, World!' 20
}
grade_8a() {
  verify "Deployment liveness-heartbeat is rolled out and ready" \
    "wait for the rollout: kubectl -n hello-demo rollout status deploy/liveness-heartbeat" \
    cond_rolled_out liveness-heartbeat
  verify "its worker printed at least 20 lines (40 s of work)" \
    "one line every 2 s: give it 40 s; if it stops at about 15 lines, is HELLO_STALL_AFTER still set?" \
    cond_log_lines liveness-heartbeat 'Hello, World!' 20
  verify "its container never restarted" \
    "a restart after a stall is the liveness probe at work: is HELLO_STALL_AFTER still set?" \
    cond_restarts_at_most liveness-heartbeat 0
  verify "no liveness probe failed" \
    "keep both probes; remove only what makes the worker stall" \
    cond_no_liveness_failure liveness-heartbeat
}

# ------------------------------------------------------------------------------------------ e2e
# play_exercise N X: apply exercise Nx's reference solution from a clean slate, wait until it has
# run, grade it with the learner's conditions, clean up. Like play_lesson: a subshell, LESSON_RC.
play_exercise() {
  local n=$1 x=$2 dir lesson
  dir=$(exercise_dir "$n" "$x")
  lesson=$(lesson_dir "$n")
  set +e
  (
    set -eE
    trap 'command_failed $? "$BASH_COMMAND"' ERR
    trap kill_bg EXIT
    printf '\n'
    say "Exercise $n$x: $(exercise_title "$n" "$x") (solution $dir)"
    remove_lesson "$lesson"
    fresh_apply "$dir"
    "settle_$n$x"
    "grade_$n$x"
  )
  LESSON_RC=$?
  set -e
  if ((!KEEP)); then
    say "cleaning up $dir"
    remove_lesson "$dir" || warn "cleanup of exercise $n$x failed"
  fi
}

exercise_title() {
  local var="EXERCISE_TITLE_$1$2"
  echo "${!var}"
}

# your_turn N: the line the demo ends a lesson with, pointing at its exercises.
your_turn() {
  local x
  for x in $(exercises_of "$1" | sed 's/./& /g'); do
    note "Your turn ($1$x): $(exercise_title "$1" "$x"). Check it with: make check-$1$([[ $x == a ]] || echo " EXERCISE=$x")"
  done
}
