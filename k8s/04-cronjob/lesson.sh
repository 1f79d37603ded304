# shellcheck shell=sh
# Lesson 4's steps (see k8s/lib/flow.sh): make lesson-4, ./lesson 4 in a kit.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="a CronJob runs the program every minute"
play() {
  local message
  narrate "A CronJob creates a Job on a schedule (here every minute), and each Job runs to completion." \
    "The first run starts at the next full minute, so this can take up to about a minute."
  fresh_apply "$LESSON"
  poll 150 "CronJob once-cronjob has a successful run" cond_cron_succeeded once-cronjob
  k get cronjob,jobs,pods -l app.kubernetes.io/instance=once-cronjob
  kcap message get cronjob once-cronjob \
    -o 'jsonpath={.spec.jobTemplate.spec.template.spec.containers[0].env[?(@.name=="HELLO_MESSAGE")].value}'
  verify "the newest completed run printed the CronJob's HELLO_MESSAGE" '' \
    cond_newest_run_printed once-cronjob "$message"
}
