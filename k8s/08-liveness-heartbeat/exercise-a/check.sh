# shellcheck shell=sh
# Exercise 8a's grader (make check-8; ./check 8 in a kit) and what e2e waits for before grading it.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 8's worker stays healthy: probes kept, no stall"
settle() {
  k rollout status deployment/liveness-heartbeat --timeout=120s
  poll 120 "the worker printed 20 lines" cond_log_lines liveness-heartbeat 'Hello, World!' 20
}
grade() {
  verify "Deployment liveness-heartbeat is rolled out and ready" \
    "wait for the rollout: kubectl -n hello-demo rollout status deploy/liveness-heartbeat" \
    cond_rolled_out liveness-heartbeat
  verify "it still has both probes, liveness and readiness" \
    "keep the livenessProbe and the readinessProbe as they are; what makes the worker stall is one variable" \
    cond_probes liveness-heartbeat
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
