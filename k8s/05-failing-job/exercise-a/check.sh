# shellcheck shell=sh
# Exercise 5a's grader (make check-5; ./check 5 in a kit) and what e2e waits for before grading it.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 5's failing-job fails at once on exit code 1"
settle() { wait_for "Job failing-job has Failed" --for=condition=Failed job/failing-job --timeout=90s; }
grade() {
  verify "failing-job failed with reason PodFailurePolicy" \
    "add a podFailurePolicy rule (action FailJob, onExitCodes In [1]); delete the Job first, then apply" \
    cond_job_failed_with failing-job PodFailurePolicy
  verify "after a single failed pod, without retries" \
    "a matching FailJob rule ends the Job on the first failure, before backoffLimit counts it" \
    cond_job_count failing-job failed 1
  verify "its pod exited with code 1" \
    "keep HELLO_EXIT_CODE=1: the policy is about the code the program returns" \
    cond_pods_exited job/failing-job 1
}
