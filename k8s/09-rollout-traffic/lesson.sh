# shellcheck shell=sh
# Lesson 9's steps (see k8s/lib/flow.sh): make lesson-9, ./lesson 9 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="traffic during a rollout: endpoints, readiness, and a drain before SIGTERM"
# restart_under_client: run the client Job (client/) through a rollout restart of rollout-web,
# until the Job is complete; the client must be getting answers before the restart starts.
# Exercise 9a's settle does the same (its check.sh sources this file).
restart_under_client() {
  remove "$LESSON/client"
  k apply -k "$LESSON/client"
  poll 60 "the client gets answers through the Service" cond_log_lines job/rollout-client 'Hello, World!' 20
  k rollout restart deployment/rollout-web
  k rollout status deployment/rollout-web --timeout=180s
  wait_for "the client Job is complete" --for=condition=Complete job/rollout-client --timeout=120s
}
# client_during_restart WHAT: restart_under_client, then say what the client counted
# (CLIENT_REQUESTS, CLIENT_FAILED); the restart must have replaced every pod while it ran.
client_during_restart() {
  restart_under_client
  verify "the restart replaced every pod while the client ran" '' cond_restart_during rollout-client rollout-web
  verify "the client logged its count (requests=N failed=M)" '' cond_client_reported rollout-client 1000
  client_report rollout-client
  say "$1: requests=$CLIENT_REQUESTS failed=$CLIENT_FAILED"
  k logs job/rollout-client --tail=3
}
play() {
  narrate "rollout-web: two pods of hello-loop serving HTTP, a readinessProbe on /readyz, and the" \
    "Service rollout-web in front. A client Job sends 50 requests a second through the Service while" \
    "kubectl rollout restart replaces the pods, twice: (a) as it is: on SIGTERM the program stops" \
    "accepting at once, while kube-proxy may still send it new connections for a moment; (b) with a" \
    "preStop sleep of 5 s (drain.yaml), so the pod keeps serving until its endpoint is gone."
  fresh_apply "$LESSON"
  k rollout status deployment/rollout-web --timeout=120s
  verify "its readiness probe asks GET /readyz" '' cond_http_probe rollout-web readinessProbe /readyz
  poll 60 "the Service has both pods as ready endpoints" cond_ready_endpoints rollout-web 2
  k get endpointslices -l kubernetes.io/service-name=rollout-web

  client_during_restart "run (a), no drain"
  note "run (a) is only reported, not asserted: how many requests hit the gap depends on how fast this"
  note "cluster's kube-proxy removes an endpoint (a fast kind often shows none, a busy cluster some)."

  k patch deployment rollout-web --patch-file "$LESSON/drain.yaml"
  k rollout status deployment/rollout-web --timeout=180s
  verify "the pods now sleep 5 s in preStop before SIGTERM" '' \
    cond_field deployment rollout-web 'spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds' 5
  verify "and the sleep fits in the grace period" '' cond_drain_fits rollout-web
  client_during_restart "run (b), with the preStop sleep"
  verify "with the drain, the client lost no request" '' cond_client_failed_at_most rollout-client 0 1000
  remove "$LESSON/client"
}
