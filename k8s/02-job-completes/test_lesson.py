"""Lesson 2's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the Job the scripts name, the program's lines in its README, and
exercise a's solution."""

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
    assert names(LESSON) == {("Job", "once-as-job")}


def test_the_readme_shows_the_programs_own_lines():
    # `kubectl logs` shows stdout and stderr: the samples show the program's own lines too.
    for pattern in [r"INFO starting text=", r"INFO exiting code=0"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def test_exercise_a_solution_runs_three_pods_at_once_with_its_message():
    solution = objects(LESSON / "exercise-a" / "solution")
    job = solution[("Job", "once-as-job")]
    assert (job["spec"]["completions"], job["spec"]["parallelism"]) == (3, 3)
    assert container_env(job)["HELLO_MESSAGE"] == "Hello, three times!"
