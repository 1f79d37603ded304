"""Lesson 8's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the Deployment the scripts name with its heartbeat and probes, what
its README must state (among it when CrashLoopBackOff first comes, worked out from the manifest and
the kubelet's back-off), and exercise a's solution."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, names, objects, pod_template  # noqa: E402
from readme_rules import FACTS_SHEET, says  # noqa: E402

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


# ---- the restart timeline after failed liveness probes (kubelet doBackOff; facts.md "Kubelet restarts")
def seconds(duration: str) -> float:
    value = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", duration)
    assert value, duration
    return float(value.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[value.group(2)]


def run_length() -> int:
    """How long one run of this Deployment lasts, from its manifest: the stall, then the heartbeat's
    maximum age (three intervals unless HELLO_MAX_AGE says otherwise), then the liveness probe's
    failures in a row at its period, counted from its initial delay."""
    deployment = objects(LESSON)[("Deployment", "liveness-heartbeat")]
    env = container_env(deployment)
    probe = pod_template(deployment)["spec"]["containers"][0]["livenessProbe"]
    stale = seconds(env["HELLO_STALL_AFTER"]) + seconds(env.get("HELLO_MAX_AGE", "")) if "HELLO_MAX_AGE" in env \
        else seconds(env["HELLO_STALL_AFTER"]) + 3 * seconds(env["HELLO_INTERVAL"])
    delay, period, threshold = probe.get("initialDelaySeconds", 0), probe.get("periodSeconds", 10), probe.get("failureThreshold", 3)
    first_failure = delay + period * math.floor((stale - delay) / period + 1)
    return int(first_failure + (threshold - 1) * period)


def first_crash_loop(run: int) -> tuple[int, int]:
    """(kill, back-off) of the first kill after which the kubelet waits, as doBackOff decides: the
    back-off is measured from the end of the latest exited run, which at a kill is the run before
    the killed one; the first kill finds none. A restart at once doubles the back-off (10 s first)."""
    f = FACTS_SHEET
    backoff = None
    for kill in range(1, 100):
        if kill == 1:
            continue  # no exited container yet: started at once, the back-off untouched
        if backoff is not None and run < backoff:
            return kill, backoff
        backoff = f.crash_initial if backoff is None else min(2 * backoff, f.crash_max)
    raise AssertionError("never in back-off")


def age(text: str) -> int:
    minutes = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", text)
    return int(minutes.group(1) or 0) * 60 + int(minutes.group(2) or 0)


def check_restart_timeline(readme: str) -> list[str]:
    problems = []
    run = run_length()
    kill, backoff = first_crash_loop(run)
    flat = " ".join(readme.split())
    for pattern in [rf"A run lasts about {run} s", rf"The first {WORD[kill - 1]} restarts come at once",
                    rf"Only at the {ORDINAL[kill]} kill, about {round(kill * run / 60)} minutes in",
                    rf"{backoff} s before its next run", r"in the same step", r"#22240"]:
        if not re.search(pattern, flat):
            problems.append(f"README.md does not say /{pattern}/")
    rows = re.findall(r"^liveness-heartbeat-\S+\s+\d/1\s+(\S+)\s+(\d+)(?: \(\S+ ago\))?\s+(\S+)$", readme, re.M)
    crash = [(int(restarts), age(when)) for status, restarts, when in rows if status == "CrashLoopBackOff"]
    if not crash:
        problems.append("the sample output shows no CrashLoopBackOff")
    else:
        restarts, when = crash[0]
        if restarts != kill - 1 or abs(when - kill * run) > run // 2:
            problems.append(f"the first CrashLoopBackOff comes after {kill - 1} restarts, about {kill * run} s in; "
                            f"the sample shows it after {restarts}, at {when} s")
    return problems


WORD = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
ORDINAL = {2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth"}


def test_the_readme_tells_when_crash_loop_back_off_comes():
    assert run_length() == 50
    assert first_crash_loop(run_length()) == (6, 80)
    assert check_restart_timeline(README) == []


def test_a_back_off_after_every_kill_is_caught():
    # As the lesson first said: CrashLoopBackOff after one restart, 101 s in, "after a few rounds".
    old = README.replace("0/1     CrashLoopBackOff   5 (1s ago)     5m1s", "0/1     CrashLoopBackOff   1 (1s ago)     101s")
    assert old != README
    assert check_restart_timeline(old) != []
    assert check_restart_timeline(README.replace("The first five restarts come at once", "After a few rounds")) != []
    # A shorter stall would make the run shorter than the back-off sooner.
    assert first_crash_loop(30) == (5, 40)
