# shellcheck shell=sh
# Lesson 6's steps (see k8s/lib/flow.sh): make lesson-6, ./lesson 6 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="grace period: a drain longer than the grace period, and a program that ignores SIGTERM"
play() {
  local grace
  narrate "grace-drain-too-long handles SIGTERM but wants to drain for longer than its" \
    "terminationGracePeriodSeconds; grace-ignore-sigterm installs no handler, so as PID 1 it never" \
    "even sees SIGTERM. In both cases the kubelet sends SIGKILL when the grace period runs out:" \
    "exit code 137 = 128 + 9. Compare with lesson 3, which exited 0 in about a second."
  fresh_apply "$LESSON"
  k rollout status deployment/grace-drain-too-long --timeout=120s
  k rollout status deployment/grace-ignore-sigterm --timeout=120s

  running_pod grace-drain-too-long
  kcap grace get pod "$POD" -o 'jsonpath={.spec.terminationGracePeriodSeconds}'
  delete_and_watch "$POD"
  expect "grace-drain-too-long began its drain ('draining before exit')" "$(log_tail)" \
    log_has "$LOG_FILE" 'draining before exit'
  expect "and was killed: exit code 137" "$EXIT_CODE" int_eq "$EXIT_CODE" 137
  expect "when its grace period ran out" "deleted in ${DELETE_SECONDS}s, grace ${grace}s" \
    int_ge "$DELETE_SECONDS" "$((${grace:-0} - 1))"

  verify "grace-ignore-sigterm started without signal handlers" '' cond_pods_log grace-ignore-sigterm 'signals=ignore'
  running_pod grace-ignore-sigterm
  kcap grace get pod "$POD" -o 'jsonpath={.spec.terminationGracePeriodSeconds}'
  delete_and_watch "$POD"
  expect "grace-ignore-sigterm never logged a graceful shutdown" "$(log_tail)" \
    log_lacks "$LOG_FILE" 'shutting down gracefully'
  expect "it was killed: exit code 137" "$EXIT_CODE" int_eq "$EXIT_CODE" 137
  expect "its deletion took the full grace period" "deleted in ${DELETE_SECONDS}s, grace ${grace}s" \
    int_ge "$DELETE_SECONDS" "$((${grace:-0} - 1))"
}
