"""Lesson 5's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the two Jobs the scripts name and how they fail, what its README
must state about retries, and exercises a's and b's solutions."""

from __future__ import annotations

import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, names, objects  # noqa: E402
from readme_rules import FACTS_SHEET, says  # noqa: E402

README = (LESSON / "README.md").read_text()


def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("Job", "failing-job"), ("Job", "failing-job-policy")}


def test_one_job_retries_and_one_fails_at_once():
    # Exit 1 with a small backoffLimit; exit 42 matched by a FailJob rule.
    objs = objects(LESSON)
    failing = objs[("Job", "failing-job")]
    assert container_env(failing)["HELLO_EXIT_CODE"] == "1"
    assert failing["spec"]["backoffLimit"] < 6
    policy = objs[("Job", "failing-job-policy")]
    rules = policy["spec"]["podFailurePolicy"]["rules"]
    code = int(container_env(policy)["HELLO_EXIT_CODE"])
    assert rules[0]["action"] == "FailJob"
    assert code in rules[0]["onExitCodes"]["values"]
    assert rules[1] == {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}


def test_the_readme_states_the_key_facts():
    for pattern in [rf"defaults to {FACTS_SHEET.backoff_limit_default}\b", "BackoffLimitExceeded",
                    r"reason\s+`PodFailurePolicy`"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def test_exercise_a_solution_fails_at_once_on_exit_code_1():
    job = objects(LESSON / "exercise-a" / "solution")[("Job", "failing-job")]
    rules = job["spec"]["podFailurePolicy"]["rules"]
    assert (rules[0]["action"], rules[0]["onExitCodes"]["values"]) == ("FailJob", [1])
    assert container_env(job)["HELLO_EXIT_CODE"] == "1"


def test_exercise_b_solution_retries_exit_code_1_twice_and_keeps_the_rule_for_42():
    job = objects(LESSON / "exercise-b" / "solution")[("Job", "failing-job-policy")]
    assert (job["spec"]["backoffLimit"], container_env(job)["HELLO_EXIT_CODE"]) == (2, "1")
    assert job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] == [42]
