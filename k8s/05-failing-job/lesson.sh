# shellcheck shell=sh
# Lesson 5's steps (see k8s/lib/flow.sh): make lesson-5, ./lesson 5 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="failing Jobs: retries with backoff, and a podFailurePolicy that stops at once"
play() {
  local limit
  narrate "Both Jobs run hello-once with a non-zero exit code. failing-job retries with a growing" \
    "delay until backoffLimit; failing-job-policy has a podFailurePolicy that fails the Job at once" \
    "on exit code 42, since no retry can fix that."
  fresh_apply "$LESSON"
  wait_for "Job failing-job-policy has Failed" --for=condition=Failed job/failing-job-policy --timeout=90s
  verify "failing-job-policy failed with reason PodFailurePolicy" '' \
    cond_job_failed_with failing-job-policy PodFailurePolicy
  verify "after a single failed pod, without retries" '' cond_job_count failing-job-policy failed 1
  wait_for "Job failing-job has Failed" --for=condition=Failed job/failing-job --timeout=240s
  verify "failing-job failed with reason BackoffLimitExceeded" '' cond_job_failed_with failing-job BackoffLimitExceeded
  kcap limit get job failing-job -o 'jsonpath={.spec.backoffLimit}'
  verify "after backoffLimit + 1 failed pods" '' cond_job_count failing-job failed "$((${limit:-0} + 1))"
  k get jobs,pods -l app.kubernetes.io/part-of=hello-k8s
}
