"""Lesson 10's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the Deployment the scripts name with its leak and its limits,
what its README must state (the run's length and line count worked out from the manifest, the QoS
class worked out from its resources, the sample's restarts against the kubelet's back-off), and
exercise a's solution: a Job whose work fits its memory limit, in the QoS class Guaranteed."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, names, objects, pod_template  # noqa: E402
from readme_rules import FACTS_SHEET, says, section  # noqa: E402

README = (LESSON / "README.md").read_text()
MIB = 2**20
# The program's own memory besides the leak: hello-loop's peak RSS, 0.93 MiB (make bench, the top
# README's benchmark table), rounded up to a whole MiB for the runtime's and the kernel's share.
PROGRAM_MIB = 1


def quantity(text: str) -> float:
    """A Kubernetes quantity (32Mi, 100m, 1Gi, 4Mi) as a number: bytes for memory, cores for cpu."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|m)?", str(text))
    assert match, text
    scale = {"Ki": 2**10, "Mi": MIB, "Gi": 2**30, "m": 0.001, None: 1}[match.group(2)]
    return float(match.group(1)) * scale


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", duration)
    assert match, duration
    return float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[match.group(2)]


def qos_class(pod_spec: dict) -> str:
    """The QoS class the API server gives a pod (facts.md, "Memory limits, requests and QoS"): a
    limit without a request counts as a request equal to it; Guaranteed when every container has cpu
    and memory requests equal to its limits, BestEffort when no container has any, else Burstable."""
    containers = pod_spec.get("initContainers", []) + pod_spec["containers"]
    resources = []
    for container in containers:
        limits = container.get("resources", {}).get("limits", {})
        requests = {**limits, **container.get("resources", {}).get("requests", {})}
        resources.append((requests, limits))
    if not any(requests or limits for requests, limits in resources):
        return "BestEffort"
    if all(all(r in requests and r in limits and quantity(requests[r]) == quantity(limits[r]) for r in ("cpu", "memory"))
           for requests, limits in resources):
        return "Guaranteed"
    return "Burstable"


def the_container(folder: Path, kind: str) -> tuple[dict, dict]:
    workload = objects(folder)[(kind, "memory-leak")]
    (container,) = pod_template(workload)["spec"]["containers"]
    return workload, container


def lines_until_killed(env: dict, limit: float) -> int:
    """The line after which the leak no longer fits: the leak after N lines plus the program."""
    leak = quantity(env["HELLO_LEAK"])
    return math.floor((limit - PROGRAM_MIB * MIB) / leak) + 1


def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("Deployment", "memory-leak")}


def test_the_leak_passes_the_limit_within_seconds():
    deployment, container = the_container(LESSON, "Deployment")
    env = container_env(deployment)
    assert "HELLO_COUNT" not in env, "a Deployment's loop runs until it is killed"
    limit = quantity(container["resources"]["limits"]["memory"])
    lines = lines_until_killed(env, limit)
    run = (lines - 1) * seconds(env["HELLO_INTERVAL"])  # the first line comes at once
    assert (lines, run) == (8, 7)
    flat = " ".join(README.split())
    for pattern in [rf"passes it after {lines} lines", rf"A run lasts about {run:g} s",
                    rf"after the {lines}th line", rf"{lines} × 4Mi = {lines * 4}Mi", rf"ends with its {lines}th greeting"]:
        assert re.search(pattern, flat), f"README.md does not say /{pattern}/"


def test_the_lessons_pod_is_burstable_and_the_readme_says_so():
    _, container = the_container(LESSON, "Deployment")
    deployment = objects(LESSON)[("Deployment", "memory-leak")]
    assert qos_class(pod_template(deployment)["spec"]) == "Burstable"
    assert re.search(r"QoS Class:\s+Burstable", README)
    assert says(README, r"`Burstable` when it is not Guaranteed but some container has a request or a limit \(this pod")
    assert container["resources"]["requests"]["memory"] != container["resources"]["limits"]["memory"]


def test_the_readme_states_the_key_facts():
    for pattern in ["reason `OOMKilled`, exit code 137", r"137 = 128 \+ 9", "SIGKILL", "Memory is not compressible, CPU is",
                    "throttled", "Requests are for scheduling", r"`Guaranteed` when every container has cpu and memory",
                    "`BestEffort` when no container has any", "kind does not install metrics-server",
                    "A bigger limit only postpones the kill", "Restart Count:", "Exit Code: 137", "Reason: OOMKilled",
                    "Limits:", "Requests:"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def age(text: str) -> int:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", text)
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def sample_problems(readme: str) -> list[str]:
    """The sample watch against the kubelet: the first kill is restarted at once, every later one
    waits the back-off (10 s, doubling), measured from the kill; each run lasts about as long as the
    manifest says; RESTARTS counts the restarts so far."""
    deployment, container = the_container(LESSON, "Deployment")
    env = container_env(deployment)
    run = (lines_until_killed(env, quantity(container["resources"]["limits"]["memory"])) - 1) * seconds(env["HELLO_INTERVAL"])
    rows = re.findall(r"^memory-leak-\S+\s+\d/1\s+(\S+)\s+(\d+)(?: \(\S+ ago\))?\s+(\S+)$", readme, re.M)
    problems = []
    starts = [(int(r), age(a)) for s, r, a in rows if s == "Running"]
    kills = [(int(r), age(a)) for s, r, a in rows if s == "OOMKilled"]
    waits = [(int(r), age(a)) for s, r, a in rows if s == "CrashLoopBackOff"]
    if len(kills) < 3 or not waits:
        return ["the sample shows fewer than three kills, or no CrashLoopBackOff"]
    for (restarts, killed), (next_restarts, started) in zip(kills, starts[1:]):
        if next_restarts != restarts + 1:
            problems.append(f"after the kill at {killed} s RESTARTS goes from {restarts} to {next_restarts}")
        want = 0 if restarts == 0 else FACTS_SHEET.crash_initial * 2 ** (restarts - 1)
        if abs((started - killed) - want) > 2:
            problems.append(f"the kill at {killed} s is restarted {started - killed} s later; the kubelet waits {want} s")
    for (restarts, started), (_, killed) in zip(starts, kills):
        if abs((killed - started) - run) > 2:
            problems.append(f"the run from {started} s to {killed} s is not about {run:g} s long")
    if waits[0][0] != 1:
        problems.append(f"the first CrashLoopBackOff comes after the second kill (RESTARTS 1), the sample shows {waits[0][0]}")
    return problems


def test_the_sample_follows_the_back_off():
    assert sample_problems(README) == []


def test_a_sample_without_the_back_off_is_caught():
    # Restarted 10 s after the first kill, as if the first restart waited too.
    wrong = README.replace("1/1     Running            1 (1s ago)    10s", "1/1     Running            1 (1s ago)    19s")
    assert wrong != README
    assert sample_problems(wrong) != []
    wrong = README.replace("0/1     CrashLoopBackOff   1 (1s ago)    18s", "0/1     CrashLoopBackOff   0 (1s ago)    10s")
    assert sample_problems(wrong) != []


def test_exercise_a_solution_is_a_guaranteed_job_whose_work_fits_its_limit():
    solution = LESSON / "exercise-a" / "solution"
    assert ("Deployment", "memory-leak") not in objects(solution)
    job, container = the_container(solution, "Job")
    spec = pod_template(job)["spec"]
    assert spec["restartPolicy"] == "Never"
    assert qos_class(spec) == "Guaranteed"
    env = container_env(job)
    count, leak = int(env["HELLO_COUNT"]), quantity(env["HELLO_LEAK"])
    limit = quantity(container["resources"]["limits"]["memory"])
    assert lines_until_killed(env, limit) > count, "the Job's lines must fit under its limit"
    # The same leak as the lesson: the exercise is about sizing for it, not removing it.
    assert env["HELLO_LEAK"] == container_env(objects(LESSON)[("Deployment", "memory-leak")])["HELLO_LEAK"]
    turn = " ".join(section(README, "Your turn").split())
    assert f"{count} lines of 4Mi keep {count * leak / MIB:g}Mi" in turn
    assert f"exactly {count} times" in turn


def test_the_qos_rules_can_fail():
    def pod(requests: dict, limits: dict) -> dict:
        return {"containers": [{"name": "c", "resources": {"requests": requests, "limits": limits}}]}

    assert qos_class({"containers": [{"name": "c"}]}) == "BestEffort"
    assert qos_class(pod({"cpu": "100m", "memory": "48Mi"}, {"cpu": "100m", "memory": "48Mi"})) == "Guaranteed"
    assert qos_class(pod({}, {"cpu": "100m", "memory": "48Mi"})) == "Guaranteed"  # requests default to limits
    assert qos_class(pod({"cpu": "10m", "memory": "48Mi"}, {"cpu": "100m", "memory": "48Mi"})) == "Burstable"
    assert qos_class(pod({"memory": "48Mi"}, {"memory": "48Mi"})) == "Burstable"  # no cpu: not Guaranteed
