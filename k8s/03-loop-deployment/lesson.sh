# shellcheck shell=sh
# Lesson 3's steps (see k8s/lib/flow.sh): make lesson-3, ./lesson 3 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="a program that runs until told to stop, as a Deployment, stops gracefully"
play() {
  local grace
  narrate "hello-loop prints a line every 2 s, each flushed, so kubectl logs shows it at once." \
    "When the pod is deleted (a rollout, a drain, a scale-down) the kubelet sends SIGTERM to PID 1;" \
    "hello-loop handles it, logs the graceful line and exits 0 well before the grace period ends."
  fresh_apply "$LESSON"
  k rollout status deployment/loop-deployment --timeout=120s
  verify "the Deployment is rolled out" '' cond_rolled_out loop-deployment
  verify "every pod prints 'Hello, World!'" '' cond_pods_log loop-deployment 'Hello, World!'
  running_pod loop-deployment
  kcap grace get pod "$POD" -o 'jsonpath={.spec.terminationGracePeriodSeconds}'
  delete_and_watch "$POD"
  expect "the old pod logged 'shutting down gracefully'" "$(log_tail)" log_has "$LOG_FILE" 'shutting down gracefully'
  expect "it exited with code 0" "$EXIT_CODE" int_eq "$EXIT_CODE" 0
  expect "it was gone in under half of its grace period" "deleted in ${DELETE_SECONDS}s, grace ${grace}s" \
    int_lt "$((2 * DELETE_SECONDS))" "$grace"
  k rollout status deployment/loop-deployment --timeout=120s
  narrate "The Deployment replaced the pod at once: this is what a long-running program is for."
}
