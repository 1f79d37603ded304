"""Lesson 9's own checks (make check-k8s runs every k8s/NN-name/test_lesson.py; the checks every
lesson shares are in k8s/checks): the web Deployment, its Service and policies, the client Job in
client/, the drain patch as kubectl applies it, what its README must state, and exercise a's
solution."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Paths from this file, never the folder's name: a copy of this folder is tested as itself.
LESSON = Path(__file__).resolve().parent
sys.path.insert(0, str(LESSON.parent / "checks"))
from lessons import container_env, kubectl, names, objects, pod_template  # noqa: E402
from readme_rules import says  # noqa: E402

README = (LESSON / "README.md").read_text()
LESSON_SH = (LESSON / "lesson.sh").read_text()


def seconds(duration: str) -> float:
    total, rest = 0.0, duration.replace(" ", "")
    for number, unit in re.findall(r"(\d+)(ms|s|min|m|h)", rest):
        total += int(number) * {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600}[unit]
    assert re.fullmatch(r"(\d+(ms|s|min|m|h))+", rest), duration
    return total


def web() -> dict:
    return objects(LESSON)[("Deployment", "rollout-web")]


def container(deployment: dict) -> dict:
    (found,) = pod_template(deployment)["spec"]["containers"]
    return found


def test_the_lesson_creates_the_objects_its_scripts_name():
    assert names(LESSON) == {("Deployment", "rollout-web"), ("Service", "rollout-web"),
                             ("NetworkPolicy", "rollout-web-from-client"), ("NetworkPolicy", "rollout-client-to-web")}
    assert names(LESSON / "client") == {("Job", "rollout-client")}


def test_the_service_reaches_the_listener_through_the_named_port():
    deployment, service = web(), objects(LESSON)[("Service", "rollout-web")]
    template = pod_template(deployment)
    assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
    assert service["spec"]["type"] == "ClusterIP"
    (port,) = service["spec"]["ports"]
    (named,) = [p for p in container(deployment)["ports"] if p["name"] == port["targetPort"]]
    listen = container_env(deployment)["HELLO_LISTEN"]
    assert listen.rsplit(":", 1) == ["0.0.0.0", str(named["containerPort"])]
    probe = container(deployment)["readinessProbe"]["httpGet"]
    assert (probe["path"], probe["port"]) == ("/readyz", port["targetPort"])
    assert container(deployment)["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert deployment["spec"]["replicas"] >= 2, "one pod would leave the Service without an endpoint"


def test_the_client_asks_the_service_fast_enough_for_long_enough():
    job = objects(LESSON / "client")[("Job", "rollout-client")]
    env = container_env(job)
    url = re.fullmatch(r"http://([a-z0-9-]+)(?::(\d+))?/", env["HELLO_FETCH"])
    assert url, env["HELLO_FETCH"]
    service = objects(LESSON)[("Service", url.group(1))]
    assert int(url.group(2) or 80) == service["spec"]["ports"][0]["port"]
    interval, count = seconds(env["HELLO_INTERVAL"]), int(env["HELLO_COUNT"])
    assert 1 / interval >= 40, "a high rate: the gap after a delete lasts a fraction of a second"
    assert 30 <= interval * count <= 60, "long enough to outlast a restart of both pods, short for a workshop"
    assert job["spec"]["backoffLimit"] == 0
    # The lesson's conditions want the count logged, at least 1000 requests of it.
    assert count >= 1000 and "cond_client_reported rollout-client 1000" in LESSON_SH


def test_the_policies_allow_exactly_the_client_to_the_web_pods_and_dns():
    objs = objects(LESSON)
    job = objects(LESSON / "client")[("Job", "rollout-client")]
    client = {"batch.kubernetes.io/job-name": job["metadata"]["name"]}
    ingress = objs[("NetworkPolicy", "rollout-web-from-client")]["spec"]
    egress = objs[("NetworkPolicy", "rollout-client-to-web")]["spec"]
    port = container(web())["ports"][0]["containerPort"]
    web_labels = pod_template(web())["metadata"]["labels"]
    assert ingress["podSelector"]["matchLabels"].items() <= web_labels.items()
    assert ingress["policyTypes"] == ["Ingress"]
    (rule,) = ingress["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": client}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": port}]
    assert egress["podSelector"]["matchLabels"] == client and egress["policyTypes"] == ["Egress"]
    to_web, to_dns = egress["egress"]
    assert to_web["to"][0]["podSelector"]["matchLabels"].items() <= web_labels.items()
    assert to_web["ports"] == [{"protocol": "TCP", "port": port}]
    assert to_dns["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                             "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    assert sorted(p["protocol"] for p in to_dns["ports"]) == ["TCP", "UDP"]
    assert {p["port"] for p in to_dns["ports"]} == {53}


def patched() -> dict:
    """The Deployment after the lesson's `kubectl patch --patch-file drain.yaml`, as kubectl merges it."""
    result = subprocess.run([kubectl(), "patch", "--local", "-f", "-", "--patch-file", str(LESSON / "drain.yaml"),
                             "-o", "json"], input=json.dumps(web()), capture_output=True, text=True,
                            env={"KUBECONFIG": "/dev/null", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_drain_patch_adds_only_a_pre_stop_sleep_that_fits_the_grace_period():
    before, after = web(), patched()
    sleep = container(after)["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod_template(after)["spec"]["terminationGracePeriodSeconds"]
    assert 2 <= sleep and sleep + 2 <= grace
    assert "lifecycle" not in container(before), "run (a) has no drain"
    without = json.loads(json.dumps(after))
    del container(without)["lifecycle"]
    assert without == before, "the patch changes nothing else"
    assert f'preStop.sleep.seconds\' {sleep}' in LESSON_SH and f"seconds: {sleep}" in README


def test_only_the_drained_run_is_asserted():
    # Run (a) is reported; run (b), after the patch, must lose nothing.
    patch_at = LESSON_SH.index("k patch deployment rollout-web")
    asserted = [m.start() for m in re.finditer(r"cond_client_failed_at_most rollout-client 0 ", LESSON_SH)]
    assert len(asserted) == 1 and asserted[0] > patch_at
    assert LESSON_SH.count("client_during_restart \"run") == 2


def test_the_readme_states_the_key_facts():
    for pattern in [r"at the same moment", r"`ready: false`, `terminating: true`", r"GA in Kubernetes 1\.34",
                    r"Run \(b\) must show `failed=0`: `make e2e` asserts it", r"only reported, never asserted",
                    r"has not measured them on a live cluster", r"always allowed",
                    r"--patch-file k8s/\S+/drain\.yaml"]:
        assert says(README, pattern), f"README.md lacks /{pattern}/"


def test_exercise_a_solution_drains_in_the_program_and_fits_the_grace_period():
    deployment = objects(LESSON / "exercise-a" / "solution")[("Deployment", "rollout-web")]
    delay = seconds(container_env(deployment)["HELLO_SHUTDOWN_DELAY"])
    grace = pod_template(deployment)["spec"]["terminationGracePeriodSeconds"]
    assert 2 <= delay and delay + 2 <= grace
    assert "lifecycle" not in container(deployment), "the program's own drain, no preStop hook"
    assert container(deployment)["readinessProbe"] == container(web())["readinessProbe"]


def validate(deployment: dict, tmp_path: Path) -> list[str]:
    """kubernetes-validate --strict of one object against the oldest and newest schemas the checks use
    (validate_schemas.py): the problems, empty when it passes."""
    from validate_schemas import versions

    # Beside this Python (./.venv/bin), or on PATH.
    tool = Path(sys.executable).parent / "kubernetes-validate"
    tool = str(tool) if tool.is_file() else shutil.which("kubernetes-validate")
    assert tool, "kubernetes-validate not found (make tools installs it into .venv)"
    path = tmp_path / "patched.json"
    path.write_text(json.dumps(deployment))
    problems = []
    for version in sorted({versions()[0], versions()[-1]}):
        result = subprocess.run([tool, "--strict", "--quiet", "-k", version, str(path)],
                                capture_output=True, text=True)
        if result.returncode or result.stdout.strip():
            problems.append(f"{version}: {result.stdout.strip()} {result.stderr.strip()}")
    return problems


def test_the_patched_deployment_is_valid_for_every_checked_version(tmp_path):
    # The patch is no kustomization resource, so make check-k8s's schema pass never sees it: here.
    assert validate(patched(), tmp_path) == []
    typo = patched()
    container(typo)["lifecycle"]["preStop"]["sleep"]["secs"] = container(typo)["lifecycle"]["preStop"]["sleep"].pop("seconds")
    assert validate(typo, tmp_path) != []
