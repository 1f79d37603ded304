# shellcheck shell=sh
# Exercise 10a's grader (make check-10; ./check 10 in a kit) and what e2e waits for before grading it.
# `grade` only reads the cluster (see verify in k8s/lib/flow.sh); each condition's hint is what the
# learner sees when it is not met.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 10's program as a Job of 10 lines that fits its memory limit, QoS Guaranteed"
settle() { wait_for "Job memory-leak is Complete" --for=condition=Complete job/memory-leak --timeout=120s; }
grade() {
  verify "no Deployment memory-leak is left" \
    "a Deployment restarts whatever ends, an OOM kill included; delete it: kubectl delete -k $LESSON" \
    cond_absent deployment memory-leak
  verify "Job memory-leak is Complete" \
    "make it a Job (apiVersion batch/v1, restartPolicy: Never, no replicas or selector) with HELLO_COUNT=10 and apply it: kubectl apply -k $EX_DIR/start" \
    cond_job_complete memory-leak
  verify "it printed 'Hello, World!' exactly 10 times" \
    "HELLO_COUNT=10 ends the loop after 10 lines; a pod that was killed first adds its own lines" \
    cond_log_lines job/memory-leak 'Hello, World!' 10 10
  verify "none of its pods was OOM-killed: every one exited 0" \
    "exit code 137 is the OOM kill: 10 lines of 4Mi keep 40Mi, plus the program itself; raise limits.memory (at most 64Mi), and requests.memory with it" \
    cond_pods_exited job/memory-leak 0
  verify "its pod's QoS class is Guaranteed" \
    "Guaranteed needs requests equal to limits for cpu and for memory, in every container" \
    cond_qos job/memory-leak Guaranteed
}
