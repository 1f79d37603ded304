"""Lesson 8's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the Deployment the scripts name with its heartbeat and probes, what
its README must state, and exercise a's solution."""

from __future__ import annotations

import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, names, objects, pod_template  # noqa: E402
from readme_rules import says  # noqa: E402

README = (LESSON / "README.md").read_text()


def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("Deployment", "liveness-heartbeat")}


def test_the_heartbeat_and_the_probes_are_wired():
    # The heartbeat on a writable mount, exec probes running the binary's own check.
    deployment = objects(LESSON)[("Deployment", "liveness-heartbeat")]
    spec = pod_template(deployment)["spec"]
    (container,) = spec["containers"]
    env = container_env(deployment)
    (mount,) = container["volumeMounts"]
    assert env["HELLO_HEARTBEAT_FILE"].startswith(mount["mountPath"].rstrip("/") + "/")
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert "emptyDir" in volume
    assert "HELLO_STALL_AFTER" in env
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["exec"]["command"] == ["/hello-loop", "check"]


def test_the_readme_states_the_key_facts():
    for pattern in ["`OOMKilled`, exit code 137"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def test_exercise_a_solution_keeps_the_probes_without_the_stall():
    deployment = objects(LESSON / "exercise-a" / "solution")[("Deployment", "liveness-heartbeat")]
    (container,) = pod_template(deployment)["spec"]["containers"]
    assert "HELLO_STALL_AFTER" not in container_env(deployment)
    assert "livenessProbe" in container
    assert "readinessProbe" in container
