# shellcheck shell=sh
# Exercise 2a's grader (make check-2; ./check 2 in a kit) and what e2e waits for before grading it.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 2's Job prints 'Hello, three times!' in three pods at once"
settle() { wait_for "Job once-as-job is Complete" --for=condition=Complete job/once-as-job --timeout=120s; }
grade() {
  verify "Job once-as-job is Complete" \
    "a Job's pod template cannot change: kubectl -n hello-demo delete job once-as-job, then apply again" \
    cond_job_complete once-as-job
  verify "three of its pods succeeded" \
    "completions: 3 asks for three successful pods, parallelism: 3 runs them at once" \
    cond_job_count once-as-job succeeded 3
  verify "it runs them three at a time (parallelism 3)" \
    "parallelism: 3 in the Job spec runs the three pods at once; completions: 3 alone runs them one after another" \
    cond_field job once-as-job spec.parallelism 3 1
  verify "they printed 'Hello, three times!' three times in all" \
    "HELLO_MESSAGE in the container's env sets the line (exact spelling)" \
    cond_log_lines job/once-as-job 'Hello, three times!' 3 3
}
