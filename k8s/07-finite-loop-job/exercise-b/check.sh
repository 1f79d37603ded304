# shellcheck shell=sh
# Exercise 7b's grader (make check-7 EXERCISE=b; ./check 7 b in a kit) and what e2e waits for.
# The container runs about 5 s, then waits out a growing back-off, so one look can land in a run, in
# an exit or in CrashLoopBackOff: the grader counts restarts and reads the last termination instead
# of the waiting reason, and while the restarts are still on their way it says how long to wait.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 7's finite loop under a Deployment crash-loops after every success"
# A first run that goes on longer than this does not end (HELLO_COUNT=5 lines take seconds).
LONGEST_RUN=60
settle() {
  poll 150 "its container was restarted at least twice" cond_restarts_at_least finite-loop-deployment 2 "$LONGEST_RUN"
}
grade() {
  verify "Deployment finite-loop-deployment's container was restarted at least twice" \
    "a Deployment named finite-loop-deployment with HELLO_COUNT=5: its program exits after five lines, and a Deployment restarts whatever exits" \
    cond_restarts_at_least finite-loop-deployment 2 "$LONGEST_RUN"
  verify "its last run exited with code 0, reason Completed" \
    "after HELLO_COUNT lines hello-loop exits 0; another code is a failure: read kubectl logs --previous" \
    cond_last_exit finite-loop-deployment 0 Completed "$LONGEST_RUN"
}
