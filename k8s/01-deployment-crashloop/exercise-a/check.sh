# shellcheck shell=sh
# Exercise 1a's grader (make check-1; ./check 1 in a kit) and what e2e waits for before grading it.
# `grade` only reads the cluster (see verify in k8s/lib/flow.sh); each condition's hint is what the
# learner sees when it is not met.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 1's program, run so that it completes"
settle() { wait_for "Job once-as-deployment is Complete" --for=condition=Complete job/once-as-deployment --timeout=120s; }
grade() {
  verify "no Deployment once-as-deployment is left" \
    "a Deployment restarts whatever exits; delete it: kubectl delete -k $LESSON" \
    cond_absent deployment once-as-deployment
  verify "Job once-as-deployment is Complete" \
    "make it a Job (apiVersion batch/v1, restartPolicy: Never, no replicas or selector) and apply it: kubectl apply -k $EX_DIR/start" \
    cond_job_complete once-as-deployment
  verify "it printed 'Hello, World!' exactly once" \
    "one run is the whole job: leave completions and parallelism at their default of 1" \
    cond_log_lines job/once-as-deployment 'Hello, World!' 1 1
}
