# shellcheck shell=sh
# Lesson 2's steps (see k8s/lib/flow.sh): make lesson-2, ./lesson 2 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="the same program as a Job completes"
play() {
  narrate "A Job runs its pod to completion: restartPolicy Never, and an exit code 0 is success." \
    "STATUS goes to Completed and stays there; ttlSecondsAfterFinished removes the Job later."
  fresh_apply "$LESSON"
  wait_for "Job once-as-job is Complete" --for=condition=Complete job/once-as-job --timeout=120s
  k get job,pods -l app.kubernetes.io/instance=once-as-job
  verify "one pod succeeded" '' cond_job_count once-as-job succeeded 1
  verify "its log has the line 'Hello, World!' once" '' cond_log_lines once-as-job 'Hello, World!' 1 1
}
