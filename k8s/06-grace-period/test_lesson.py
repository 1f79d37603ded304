"""Lesson 6's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the two Deployments the scripts name and why each ends in SIGKILL,
what its README must state, its diagram against its manifests, and exercise a's solution."""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, names, objects, pod_template  # noqa: E402
from readme_rules import FACTS_SHEET, check_against_manifests, mermaid, says  # noqa: E402

README = (LESSON / "README.md").read_text()


def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("Deployment", "grace-drain-too-long"), ("Deployment", "grace-ignore-sigterm")}


def grace(deployment: dict) -> int:
    return pod_template(deployment)["spec"]["terminationGracePeriodSeconds"]


def test_both_deployments_end_in_sigkill():
    objs = objects(LESSON)
    # The drain must outlast the grace period, or there is no SIGKILL to see.
    drain = objs[("Deployment", "grace-drain-too-long")]
    delay = container_env(drain)["HELLO_SHUTDOWN_DELAY"]
    assert float(re.fullmatch(r"(\d+)s?", delay).group(1)) > grace(drain)
    ignore = objs[("Deployment", "grace-ignore-sigterm")]
    assert container_env(ignore).get("HELLO_SIGNALS") == "ignore"
    assert grace(ignore) <= 15, "keep the workshop wait short"


def test_the_readme_states_the_key_facts():
    for pattern in [r"137 = 128 \+ 9", rf"\({FACTS_SHEET.defaults['terminationGracePeriodSeconds']} by default\)"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def test_a_diagram_that_drifts_from_the_manifests_is_caught():
    for text in [mermaid("sequenceDiagram", "    Note over K: waits terminationGracePeriodSeconds 7"),
                 mermaid("sequenceDiagram", "    Note over G: drains for HELLO_SHUTDOWN_DELAY=20s")]:
        assert check_against_manifests(text, LESSON) != [], text
    assert check_against_manifests(mermaid("sequenceDiagram", "    Note over K: waits terminationGracePeriodSeconds 10"),
                                   LESSON) == []


def test_exercise_a_solution_handles_sigterm():
    deployment = objects(LESSON / "exercise-a" / "solution")[("Deployment", "grace-ignore-sigterm")]
    assert "HELLO_SIGNALS" not in container_env(deployment)
