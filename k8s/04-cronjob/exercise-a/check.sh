# shellcheck shell=sh
# Exercise 4a's grader (make check-4; ./check 4 in a kit) and what e2e waits for before grading it.
# shellcheck disable=SC2034 # read by k8s/lib/flow.sh, which sources this file
title="lesson 4's CronJob says 'Hello on my schedule!'"
# The CronJob records lastSuccessfulTime after its Job completes, so wait for that too; up to another
# minute and a half for the message, since e2e applies the start folder first and a run that fell due
# in between still prints the old line.
settle() {
  poll 150 "CronJob once-cronjob has a successful run" cond_cron_succeeded once-cronjob
  poll 90 "the newest run printed 'Hello on my schedule!'" cond_newest_run_printed once-cronjob 'Hello on my schedule!'
}
grade() {
  verify "CronJob once-cronjob has a successful run" \
    "runs start at the full minute; wait up to a minute and check again" \
    cond_cron_succeeded once-cronjob
  verify "its newest successful run printed 'Hello on my schedule!'" \
    "HELLO_MESSAGE belongs in spec.jobTemplate.spec.template's container env; runs before your change keep the old line" \
    cond_newest_run_printed once-cronjob 'Hello on my schedule!'
}
