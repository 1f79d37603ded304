# shellcheck shell=sh
# Lesson 7's steps (see k8s/lib/flow.sh): make lesson-7, ./lesson 7 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="a finite loop is a Job: HELLO_COUNT lines, then Completed"
play() {
  local count message
  narrate "hello-loop with HELLO_COUNT prints that many lines and exits 0. A loop is not what makes" \
    "a Deployment right, running forever is; a finite loop belongs in a Job."
  fresh_apply "$LESSON"
  wait_for "Job finite-loop is Complete" --for=condition=Complete job/finite-loop --timeout=120s
  kcap count get job finite-loop \
    -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="HELLO_COUNT")].value}'
  kcap message get job finite-loop \
    -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="HELLO_MESSAGE")].value}'
  message=${message:-Hello, World!} # the program's default when the manifest sets none
  verify "its log has HELLO_COUNT message lines" '' cond_log_lines finite-loop "$message" "$count" "$count"
  k get job,pods -l app.kubernetes.io/instance=finite-loop
}
