# shellcheck shell=sh
# Exercise 3a's grader (make check-3; ./check 3 in a kit) and what e2e waits for before grading it.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="roll out a new message on lesson 3's Deployment"
# rollout status returns once the old ReplicaSet counts no replicas, while its last pod may still be
# listed for a second or so; wait for it too.
settle() {
  k rollout status deployment/loop-deployment --timeout=120s
  poll 60 "no old pod of loop-deployment is left terminating" cond_none_terminating loop-deployment
}
grade() {
  verify "Deployment loop-deployment is rolled out" \
    "wait for the rollout: kubectl -n hello-demo rollout status deploy/loop-deployment" \
    cond_rolled_out loop-deployment
  verify "every pod prints 'Hello, rollout!'" \
    "set HELLO_MESSAGE in the pod template's env and apply: the change is what starts a rollout" \
    cond_pods_log loop-deployment 'Hello, rollout!'
  verify "no old pod is left terminating" \
    "a pod still there after its grace period is held by something else than the program: kubectl -n hello-demo describe pod (finalizers, a node that is gone)" \
    cond_none_terminating loop-deployment
}
