# shellcheck shell=sh
# Exercise 6a's grader (make check-6; ./check 6 in a kit) and what e2e waits for before grading it.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 6's grace-ignore-sigterm deletes in about a second, same image"
# rollout status returns once the old ReplicaSet counts no replicas; its pod, which ignores SIGTERM,
# is still in its grace period (10 s) then, so wait for it too.
settle() {
  k rollout status deployment/grace-ignore-sigterm --timeout=120s
  poll 60 "no pod of grace-ignore-sigterm is left terminating" cond_none_terminating grace-ignore-sigterm
}
grade() {
  verify "Deployment grace-ignore-sigterm is rolled out" \
    "apply your change and wait: kubectl -n hello-demo rollout status deploy/grace-ignore-sigterm" \
    cond_rolled_out grace-ignore-sigterm
  verify "its program handles SIGTERM (its starting line says signals=handle)" \
    "is HELLO_SIGNALS=ignore still set? without it hello-loop installs its handler" \
    cond_pods_log grace-ignore-sigterm 'signals=handle'
  verify "no pod of it is left terminating" \
    "a pod still there after its grace period is held by something else than the program: kubectl -n hello-demo describe pod (finalizers, a node that is gone)" \
    cond_none_terminating grace-ignore-sigterm
}
