# shellcheck shell=sh
# Exercise 9a's grader (make check-9; ./check 9 in a kit) and what e2e waits for before grading it.
# e2e's settle also does what the README's "Your turn" asks after the apply: the client through a
# rollout restart (the grader only reads what that left).
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 9's rollout-web drains by itself: a rollout restart drops no request, no preStop hook"
settle() {
  k rollout status deployment/rollout-web --timeout=180s
  # The lesson's own steps for the client through a restart; sourced here, where LESSON is set
  # (settle runs only in e2e's walk, after the title is printed).
  # shellcheck source=k8s/09-rollout-traffic/lesson.sh
  . "$ROOT/$LESSON/lesson.sh"
  restart_under_client
}
grade() {
  verify "Deployment rollout-web is rolled out and ready" \
    "wait for the rollout: kubectl -n hello-demo rollout status deploy/rollout-web" \
    cond_rolled_out rollout-web
  verify "its readiness probe still asks GET /readyz" \
    "keep the readinessProbe: without it a new pod gets traffic before it listens" \
    cond_http_probe rollout-web readinessProbe /readyz
  verify "its program keeps serving at least 2 s after SIGTERM (HELLO_SHUTDOWN_DELAY)" \
    "set HELLO_SHUTDOWN_DELAY in web.yaml's env, for example 5s: the program's own drain, no preStop hook" \
    cond_shutdown_delay_at_least rollout-web 2
  verify "the drain ends at least 2 s before the grace period does" \
    "terminationGracePeriodSeconds counts from the delete: make it longer than the drain, or the drain shorter" \
    cond_drain_fits rollout-web
  verify "the client ran through a restart that replaced every pod" \
    "start the client, then restart while it runs: kubectl -n hello-demo rollout restart deploy/rollout-web (the README's steps)" \
    cond_restart_during rollout-client rollout-web
  verify "the client lost no request (failed=0 of at least 1000)" \
    "kubectl -n hello-demo logs job/rollout-client shows the errors; is the drain in the pods the restart stopped?" \
    cond_client_failed_at_most rollout-client 0 1000
}
