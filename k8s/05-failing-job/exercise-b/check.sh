# shellcheck shell=sh
# Exercise 5b's grader (make check-5 EXERCISE=b; ./check 5 b in a kit) and what e2e waits for.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 5's failing-job-policy retries exit code 1 twice, keeping its rule for 42"
settle() { wait_for "Job failing-job-policy has Failed" --for=condition=Failed job/failing-job-policy --timeout=240s; }
grade() {
  verify "failing-job-policy failed with reason BackoffLimitExceeded" \
    "exit code 1 matches no FailJob rule, so the Job retries; set HELLO_EXIT_CODE=1, delete the Job, apply" \
    cond_job_failed_with failing-job-policy BackoffLimitExceeded
  verify "after three failed pods: the first try and two retries" \
    "backoffLimit counts retries: 2 gives three pods in all" \
    cond_job_count failing-job-policy failed 3
  verify "every pod exited with code 1" \
    "HELLO_EXIT_CODE sets the code; leave the FailJob rule for 42 as it is" \
    cond_pods_exited job/failing-job-policy 1
  verify "its FailJob rule for exit code 42 is still there" \
    "leave the podFailurePolicy as it is: exit code 1 is retried because the rule lists 42 only, not because the rule is gone" \
    cond_failjob_rule failing-job-policy 42
}
