"""Lesson 1's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the Deployment the scripts name, what its README must state about
the restart back-off, its diagram's numbers, its "Try next" rollout, and exercise a's solution."""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import names, objects, pod_template  # noqa: E402
from readme_rules import FACTS_SHEET, check_crash_loop_backoff, number_word, rolling_update, section, says  # noqa: E402

README = (LESSON / "README.md").read_text()


def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("Deployment", "once-as-deployment")}


def test_the_readme_states_the_restart_back_off():
    f = FACTS_SHEET
    for pattern in [rf"restart: {f.crash_initial} s, then\s+doubling", rf"cap of {f.crash_max} s",
                    r"first restart happens at once", rf"run for {f.crash_reset_min} minutes",
                    # `kubectl logs` shows stdout and stderr: the samples show the program's own lines too.
                    r"INFO starting text=", r"INFO exiting code=0"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def test_a_wrong_number_in_the_diagram_is_caught():
    assert check_crash_loop_backoff(README, FACTS_SHEET) == []
    drawn, wrong = "back-off 20 s, then run 4 : w2, after w1, 20s", "back-off 25 s, then run 4 : w2, after w1, 25s"
    assert drawn in README, "the diagram draws the second back-off"
    assert check_crash_loop_backoff(README.replace(drawn, wrong), FACTS_SHEET) != []


def test_try_next_shows_the_stuck_rollout():
    # One replica under the default strategy: maxSurge rounds up to 1, maxUnavailable down to 0,
    # so the crash-looping new pod never lets the old one go: replicas + surge pods.
    deployment = objects(LESSON)[("Deployment", "once-as-deployment")]
    replicas, surge, unavailable, _ = rolling_update(deployment, FACTS_SHEET)
    assert (replicas, surge, unavailable) == (1, 1, 0)
    try_next = " ".join(section(README, "Try next").split())
    assert f"{number_word(replicas + surge)} pods" in try_next
    assert re.search(rf"`maxSurge` rounds up to {surge}", try_next)
    assert re.search(rf"`maxUnavailable` down to {unavailable}", try_next)
    assert "ProgressDeadlineExceeded" in try_next


def test_exercise_a_solution_is_a_job_not_a_deployment():
    solution = objects(LESSON / "exercise-a" / "solution")
    assert ("Deployment", "once-as-deployment") not in solution
    assert ("Job", "once-as-deployment") in solution
    assert pod_template(solution[("Job", "once-as-deployment")])["spec"]["restartPolicy"] == "Never"
