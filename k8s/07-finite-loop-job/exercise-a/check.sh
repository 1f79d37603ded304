# shellcheck shell=sh
# Exercise 7a's grader (make check-7; ./check 7 in a kit) and what e2e waits for before grading it.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 7's loop prints 'Counting!' three times, then completes"
settle() { wait_for "Job finite-loop is Complete" --for=condition=Complete job/finite-loop --timeout=120s; }
grade() {
  verify "Job finite-loop is Complete" \
    "a Job's pod template cannot change: kubectl -n hello-demo delete job finite-loop, then apply again" \
    cond_job_complete finite-loop
  verify "it printed 'Counting!' exactly three times" \
    "HELLO_COUNT says how many lines, HELLO_MESSAGE what they say" \
    cond_log_lines job/finite-loop 'Counting!' 3 3
  verify "its pod exited with code 0" \
    "hello-loop exits 0 after HELLO_COUNT lines; any other code means it did not get there" \
    cond_pods_exited job/finite-loop 0
}
