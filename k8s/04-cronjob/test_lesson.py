"""Lesson 4's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the CronJob the scripts name, what its README must state about a
run that outlives its deadline (the next run starts late, worked out from the manifest), what its
"Try next" delays do, and exercise a's solution."""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, names, objects  # noqa: E402
from readme_rules import FACTS_SHEET, section, says  # noqa: E402

README = (LESSON / "README.md").read_text()


def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("CronJob", "once-cronjob")}


def test_the_readme_states_the_key_facts():
    for pattern in [r"marked `Failed` only once that pod has terminated",
                    r"keep the Job active for its whole grace period",
                    # `kubectl logs` shows stdout and stderr: the samples show the program's own lines too.
                    r"INFO starting text=", r"INFO exiting code=0"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def test_exercise_a_solution_prints_its_message():
    cronjob = objects(LESSON / "exercise-a" / "solution")[("CronJob", "once-cronjob")]
    assert container_env(cronjob)["HELLO_MESSAGE"] == "Hello on my schedule!"


# ---- a run that outlives its deadline, and the next one (facts.md, Jobs and CronJobs: Forbid)
# A pod starts and a finished Job is seen by the CronJob controller a few seconds after the fact:
# the facts sheet's 81-85 s for a run that ignores SIGTERM is 50 + 30 plus these.
LAG = (1, 5)


def next_run(ends: tuple[float, float], every: int, deadline: int) -> str:
    """What Forbid does with the run due `every` seconds after one that ends within ENDS: on time,
    late (started when the Job finishes, within the starting deadline), or skipped."""
    if ends[1] <= every:
        return "on time"
    if ends[1] < every + deadline:
        return f"late by {ends[0] - every:.0f}-{ends[1] - every:.0f} s"
    if ends[0] > every + deadline:
        return "skipped"
    return "either"  # the deadline falls inside the run's end: the README must not pick one


def spec() -> tuple[int, int, int]:
    cronjob = objects(LESSON)[("CronJob", "once-cronjob")]
    assert cronjob["spec"]["schedule"] == "* * * * *" and cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    job = cronjob["spec"]["jobTemplate"]["spec"]
    grace = job["template"]["spec"].get("terminationGracePeriodSeconds", FACTS_SHEET.defaults["terminationGracePeriodSeconds"])
    return job["activeDeadlineSeconds"], grace, cronjob["spec"]["startingDeadlineSeconds"]


def late_run_problems(readme: str) -> list[str]:
    """What README's "Why" must say about a run that ignores SIGTERM, worked out from the manifest."""
    active, grace, deadline = spec()
    ends = (active + grace + LAG[0], active + grace + LAG[1])
    outcome = next_run(ends, 60, deadline)
    why = " ".join(section(readme, "Why").split())
    problems = [f"README.md does not say /{p}/" for p in (
        rf"until about {ends[0]}–{ends[1]} s after its scheduled time",
        rf"its starting deadline is 60 \+ {deadline} = {60 + deadline} s") if not says(why, p)]
    if outcome.startswith("late") and not says(why, r"is not skipped for that but starts late, some 20 s"):
        problems.append(f"the next run starts {outcome}: the README must say it starts late")
    if outcome.startswith("late") and "would be skipped" in why:
        problems.append(f"the README says the next run is skipped; it starts {outcome}")
    return problems


def test_a_run_that_ignores_sigterm_makes_the_next_one_late_not_skipped():
    active, grace, deadline = spec()
    assert next_run((active + grace + LAG[0], active + grace + LAG[1]), 60, deadline) == "late by 21-25 s"
    assert late_run_problems(README) == []


def test_try_next_delays_do_what_it_says():
    # HELLO_DELAY keeps hello-once running after it printed; without activeDeadlineSeconds a run
    # lasts the delay plus the start.
    _, _, deadline = spec()
    try_next = " ".join(section(README, "Try next").split())
    skip = re.search(r"set `HELLO_DELAY=(\d+)s`: each run now ends after the next one's starting deadline", try_next)
    late = re.search(r"With `HELLO_DELAY=(\d+)s` the held-back run would start late", try_next)
    assert skip and late, try_next
    for match, outcome in ((skip, "skipped"), (late, "late")):
        delay = int(match.group(1))
        assert next_run((delay + LAG[0], delay + LAG[1]), 60, deadline).startswith(outcome), (delay, outcome)


def test_the_first_telling_is_caught():
    # As the lesson first said it: 50 + 30 s is past the next minute, so that run would be skipped.
    first = README.replace("is not skipped for that but starts late, some 20 s", "would be skipped")
    assert first != README
    assert late_run_problems(first) != []
