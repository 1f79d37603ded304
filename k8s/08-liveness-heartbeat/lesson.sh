# shellcheck shell=sh
# Lesson 8's steps (see k8s/lib/flow.sh): make lesson-8, ./lesson 8 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="a liveness probe restarts a program that stopped making progress"
play() {
  narrate "hello-loop rewrites a heartbeat file after every line, and 'hello-loop check' (the exec" \
    "probe) fails once the heartbeat is stale. HELLO_STALL_AFTER makes it stop working after 30 s" \
    "while its process keeps running: the readiness probe takes it out of service first, then the" \
    "liveness probe fails and the kubelet restarts the container."
  fresh_apply "$LESSON"
  k rollout status deployment/liveness-heartbeat --timeout=120s
  running_pod liveness-heartbeat
  poll 180 "the kubelet restarted $POD's container after failed liveness probes" cond_restarted "$POD"
  verify "an Unhealthy event says 'Liveness probe failed'" '' cond_event "$POD" 'Liveness probe failed'
  k get pods -l app.kubernetes.io/instance=liveness-heartbeat
}
