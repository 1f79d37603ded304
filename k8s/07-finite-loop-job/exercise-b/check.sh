# shellcheck shell=sh
# Exercise 7b's grader (make check-7 EXERCISE=b; ./check 7 b in a kit) and what e2e waits for.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 7's finite loop under a Deployment crash-loops after every success"
settle() {
  poll 150 "its pod is in CrashLoopBackOff after at least 2 restarts" crashloop_seen finite-loop-deployment
}
grade() {
  verify "Deployment finite-loop-deployment's pod is in CrashLoopBackOff after at least 2 restarts" \
    "a Deployment named finite-loop-deployment with HELLO_COUNT=5; the restarts take a minute or so" \
    crashloop_seen finite-loop-deployment
  verify "its last run exited with code 0, reason Completed" \
    "after HELLO_COUNT lines hello-loop exits 0; another code is a failure: read kubectl logs --previous" \
    cond_last_run finite-loop-deployment 0 Completed
}
