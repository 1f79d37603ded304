# shellcheck shell=sh
# Lesson 10's steps (see k8s/lib/flow.sh): make lesson-10, ./lesson 10 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="a program that outgrows its memory limit is OOM-killed (exit code 137) and ends in CrashLoopBackOff"
play() {
  local logs
  narrate "HELLO_LEAK=4Mi makes hello-loop keep 4Mi more after every line, one line a second, and the" \
    "container's memory limit is 32Mi. Past the limit the kernel's OOM killer ends it with SIGKILL:" \
    "Last State OOMKilled, exit code 137. The kubelet restarts it as after any exit: the first time" \
    "at once, then after a back-off (CrashLoopBackOff). Watch: kubectl -n $NAMESPACE get pods -w"
  fresh_apply "$LESSON"
  poll 180 "its pod waits in CrashLoopBackOff after being killed" crashloop_seen memory-leak 1
  k get pods -l app.kubernetes.io/instance=memory-leak
  verify "the last run was OOM-killed: exit code 137, reason OOMKilled" '' cond_last_run memory-leak 137 OOMKilled
  verify "its container's memory limit is 32Mi" '' \
    cond_field deployment memory-leak 'spec.template.spec.containers[0].resources.limits.memory' 32Mi
  verify "its pod's QoS class is Burstable (requests below limits)" '' cond_qos memory-leak Burstable
  kcap logs logs "$CL_POD" --previous
  expect "the killed run printed several lines first: its memory grew line by line" \
    "$(count_lines "$logs" 'Hello, World!') lines 'Hello, World!'" int_ge "$(count_lines "$logs" 'Hello, World!')" 2
  narrate "The program did nothing wrong but keep memory: nothing in its log says why it ended. The" \
    "reason is in the pod's status (kubectl describe pod: Last State, Reason OOMKilled). A bigger" \
    "limit only postpones the kill of a leak; exercise 10a sizes the limit for a task that ends."
}
