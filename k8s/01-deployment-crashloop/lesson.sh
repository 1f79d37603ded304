# shellcheck shell=sh
# Lesson 1's steps, played by make demo / make lesson-1 / make e2e (./lesson 1 in a kit): what to
# apply, what to watch, and what the README promises, checked from the API. Sourced by k8s/lib/flow.sh.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="a program that exits 0, run as a Deployment, ends in CrashLoopBackOff"
play() {
  local logs
  narrate "hello-once prints one line and exits 0. A Deployment only allows restartPolicy Always," \
    "so the kubelet restarts the container after every exit, success included, and waits longer" \
    "each time (10 s, 20 s, 40 s ... up to 5 min). Watch STATUS alternate between Completed and" \
    "CrashLoopBackOff while RESTARTS climbs: kubectl -n $NAMESPACE get pods -w" \
    "Each look at the pod is kept, and after the fourth restart the gaps between restarts, read" \
    "from the API, are drawn beside the kubelet's documented back-off."
  CL_LOOKS=$WORK_DIR/lesson-1-restarts.txt
  [ "$DRY_RUN" = 1 ] || : >"$CL_LOOKS"
  fresh_apply "$LESSON"
  poll 180 "its pod is in CrashLoopBackOff after at least 4 restarts" crashloop_seen once-as-deployment 4
  show_restart_timeline "$CL_LOOKS"
  k get pods -l app.kubernetes.io/instance=once-as-deployment
  verify "the last run exited with code 0, reason Completed" '' cond_last_run once-as-deployment 0 Completed
  kcap logs logs "$CL_POD" --previous
  expect "the previous run printed 'Hello, World!'" "$logs" has_line "$logs" 'Hello, World!'
  narrate "Nothing failed: the program did its job and exited 0. The workload type was wrong;" \
    "lesson 2 runs the same program as a Job."
}
