"""Lesson 3's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the Deployment the scripts name, the rollout time that its
strategy gives (stated here, in k8s/README.md and in the top-level README), and exercise a's
solution."""

from __future__ import annotations

import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import K8S, REPO, container_env, names, objects  # noqa: E402
from readme_rules import FACTS_SHEET, check_rollout_time, says  # noqa: E402



def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("Deployment", "loop-deployment")}


def test_the_rollout_time_follows_the_strategy():
    deployment = objects(LESSON)[("Deployment", "loop-deployment")]
    for path in [REPO / "README.md", K8S / "README.md", LESSON / "README.md"]:
        text = path.read_text()
        where = path.relative_to(REPO)
        assert check_rollout_time(text, deployment, FACTS_SHEET) == [], where
        assert says(text, r"rollout[^.]*about 12–15 s"), f"{where}: the rollout time of lesson 3 must be stated"
        assert says(text, r"(each old pod|old pod's termination)[^.]*about a second"
                          r"|about a second[^.]*(each old pod|old pod's termination)"), where


def test_a_wrong_rollout_time_is_caught():
    deployment = objects(LESSON)[("Deployment", "loop-deployment")]
    assert check_rollout_time("A rollout takes about a second.", deployment, FACTS_SHEET) != []
    assert check_rollout_time("The rollout takes about 3–5 s.", deployment, FACTS_SHEET) != []


def test_exercise_a_solution_rolls_out_a_new_message():
    deployment = objects(LESSON / "exercise-a" / "solution")[("Deployment", "loop-deployment")]
    assert container_env(deployment)["HELLO_MESSAGE"] == "Hello, rollout!"
