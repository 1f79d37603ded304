"""Lesson 7's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the Job the scripts name and its count, the program's lines in its
README, its README against its manifests, and exercises a's and b's solutions."""

from __future__ import annotations

import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, names, objects  # noqa: E402
from readme_rules import check_against_manifests, says  # noqa: E402

README = (LESSON / "README.md").read_text()


def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("Job", "finite-loop")}


def test_the_loop_ends():
    assert container_env(objects(LESSON)[("Job", "finite-loop")])["HELLO_COUNT"] == "5"


def test_the_readme_shows_the_programs_own_lines():
    # `kubectl logs` shows stdout and stderr: the samples show the program's own lines too.
    for pattern in [r"INFO starting text=", r"INFO exiting code=0"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def test_manifest_drift_is_caught():
    assert check_against_manifests("Runs with `HELLO_COUNT=7`.", LESSON) != []
    assert check_against_manifests("It sets `ttlSecondsAfterFinished: 60`.", LESSON) != []
    assert check_against_manifests("```sh\nkubectl -n hello-demo logs job/finite\n```\n", LESSON) != []
    assert check_against_manifests("## Try next\n\nSet `HELLO_COUNT=7`.\n", LESSON) == []


def test_exercise_a_solution_counts_three_times():
    env = container_env(objects(LESSON / "exercise-a" / "solution")[("Job", "finite-loop")])
    assert {k: v for k, v in env.items() if k != "HELLO_INTERVAL"} == {"HELLO_COUNT": "3", "HELLO_MESSAGE": "Counting!"}


def test_exercise_b_solution_is_the_loop_as_a_deployment():
    solution = objects(LESSON / "exercise-b" / "solution")
    assert container_env(solution[("Deployment", "finite-loop-deployment")])["HELLO_COUNT"] == "5"
