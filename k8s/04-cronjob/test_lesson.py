"""Lesson 4's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the CronJob the scripts name, what its README must state about a
run that outlives its deadline, and exercise a's solution."""

from __future__ import annotations

import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, names, objects  # noqa: E402
from readme_rules import says  # noqa: E402

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
