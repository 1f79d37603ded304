"""The learner's path through every exercise, as its README tells it (`make test-flows`).

`make e2e` used to apply each reference solution from scratch, which never walks what a learner does:
run the lesson, edit the exercise's start folder, run the commands the README's "Your turn" gives,
then grade. Here every exercise is walked that way on the simulated cluster of sim.py, with the
commands read from the README itself (so the text and the test cannot drift): in a scratch copy of
k8s/ (a classroom), the lesson's "Run" commands, then the reference solution's files put into the
exercise's start folder, then the "Your turn" commands. What was applied must land in hello-demo with
the versioned image, and the grader must say every condition is met. make e2e walks the same steps
on a real cluster, read from the README by the library (exercise_steps), which is checked to agree.

Every exercise is found by looking at the folders; no lesson is named here.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from harness import ROOT, facts, library, run, with_stand_ins

SCRIPTS = ROOT / "k8s" / "scripts"
# A kubectl command in backticks that applies or deletes a folder: the only way the READMEs let a
# learner change the cluster (the component in each folder's kustomization sets the namespace and
# the image tag; a manifest applied on its own has neither).
FOLDER_COMMAND = re.compile(r"`(kubectl (apply|delete) -k (\S+?))`")
# Any other way of sending manifests, which the READMEs must not ask for.
FILE_COMMAND = re.compile(r"`kubectl (?:apply|create|replace) (?:[^`]* )?(?:-f|--filename)\b[^`]*`")
COPY_COMMAND = re.compile(r"`cp (\S+) (\S+)`")


def exercises() -> list[tuple[int, str, str]]:
    found = []
    for lesson in library("lesson_dirs").split():
        n = int(Path(lesson).name.split("-")[0])
        for x in library(f'exercise_letters "{lesson}"').split():
            found.append((n, x, f"{lesson}/exercise-{x}"))
    return found


EXERCISES = exercises()
IDS = [f"{n}{x}" for n, x, _ in EXERCISES]


def flat(text: str) -> str:
    return " ".join(text.split())


def section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


def exercise_text(readme: str, x: str) -> str:
    """The README's "Your turn" paragraph and list for exercise X (from **Exercise NX.** to the next
    exercise), whitespace-flattened: a command may wrap across lines."""
    number = re.match(r"# Lesson (\d+):", readme).group(1)
    turn = section(readme, "Your turn")
    match = re.search(rf"^\*\*Exercise {number}{x}\.\*\*.*?(?=^\*\*Exercise |\Z)", turn, re.M | re.S)
    assert match, f"no **Exercise {number}{x}.** in Your turn"
    return flat(match.group(0))


def your_turn_commands(readme: str, x: str) -> list[tuple[str, str, str]]:
    """(command, verb, folder) of each `kubectl apply -k` / `kubectl delete -k` the exercise gives."""
    return FOLDER_COMMAND.findall(exercise_text(readme, x))


def run_commands(readme: str) -> list[str]:
    """The `kubectl apply -k` commands of the README's "Run" section: what a learner did first."""
    return [line.split("#")[0].strip() for line in section(readme, "Run").splitlines()
            if re.match(r"\s*kubectl apply -k ", line)]


def readme_of(folder: str) -> str:
    return (ROOT / folder).parent.joinpath("README.md").read_text()


# ------------------------------------------------------------------------------ what the READMEs say
@pytest.mark.parametrize("n,x,folder", EXERCISES, ids=IDS)
def test_your_turn_applies_the_start_folder_and_only_folders_that_exist(n, x, folder):
    lesson = str(Path(folder).parent)
    text = exercise_text(readme_of(folder), x)
    commands = your_turn_commands(readme_of(folder), x)
    assert FILE_COMMAND.findall(text) == [], "a manifest applied on its own misses the namespace and the image tag"
    assert ("apply", f"{folder}/start") in [(verb, path) for _, verb, path in commands], \
        f"Your turn never applies {folder}/start"
    for command, verb, path in commands:
        assert (ROOT / path / "kustomization.yaml").is_file(), f"{command}: no kustomization in {path}"
        assert path in (lesson, f"{folder}/start"), f"{command}: neither the lesson nor the exercise's start folder"
    for source, target in COPY_COMMAND.findall(text):
        assert (ROOT / source).is_file(), f"cp {source}: no such file"
        assert (ROOT / target).is_dir() and target.rstrip("/") == f"{folder}/start", f"cp into {target}"


@pytest.mark.parametrize("n,x,folder", EXERCISES, ids=IDS)
def test_the_graders_hints_apply_the_same_folders(n, x, folder):
    """A hint that says what to run names the lesson ($LESSON) or the start folder ($EX_DIR/start),
    never a lone manifest (1a's hint once repeated the README's kubectl apply -f)."""
    text = (ROOT / folder / "check.sh").read_text()
    assert not re.search(r"kubectl (?:apply|create|replace) [^\"]*-f\b", text), f"{folder}/check.sh"
    for verb, path in re.findall(r"kubectl (apply|delete) -k (\S+?)[\"\s;]", text):
        assert path in ("$LESSON", "$EX_DIR/start"), f"{folder}/check.sh: kubectl {verb} -k {path}"


def test_the_step_reader_refuses_a_manifest_applied_on_its_own():
    """Exercise 1a as first written: rewrite deployment.yaml and `kubectl apply -f` it. Without the
    component the Job lands in `default` with `hello-once:latest` (ErrImagePull); the rule objects."""
    old = ("# Lesson 1: x\n\n## Your turn\n\n**Exercise 1a.** Rewrite deployment.yaml as a Job and run it:\n"
           "`kubectl apply -f k8s/01-x/deployment.yaml`.\n")
    assert FILE_COMMAND.findall(exercise_text(old, "a")) != []
    assert your_turn_commands(old, "a") == []


@pytest.mark.parametrize("n,x,folder", EXERCISES, ids=IDS)
def test_e2e_walks_the_steps_the_readme_gives(n, x, folder):
    """The library reads the same steps (POSIX sh and awk, for make e2e on a real cluster)."""
    lesson = str(Path(folder).parent)
    wanted = [f"{verb}-{'start' if path == f'{folder}/start' else 'lesson' if path == lesson else path}"
              for _, verb, path in your_turn_commands(readme_of(folder), x)]
    assert library(f'exercise_steps {n} {x}').split() == wanted


# ------------------------------------------------------------------------------ walking it
def classroom(tmp_path: Path) -> Path:
    """A scratch copy of k8s/, as a kit carries it: the folders a learner edits and applies."""
    room = tmp_path / "classroom"
    shutil.copytree(ROOT / "k8s", room / "k8s", ignore=shutil.ignore_patterns("tests", "__pycache__"))
    return room


def kubectl(command: str, room: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = run(shlex.split(command), env=env, cwd=room)
    assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
    return result


def applied_workloads(state: Path, room: Path, folder: str) -> list[dict]:
    """The objects the start folder rendered, as the simulated cluster keeps them."""
    rendered = run(["kubectl", "kustomize", f"{folder}/start"], cwd=room)
    assert rendered.returncode == 0, rendered.stderr
    names = [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(rendered.stdout) if d]
    cluster = json.loads((state / "cluster.json").read_text())["objects"]
    return [cluster[f"{kind}/{name}"][0] for kind, name in names if kind in ("Deployment", "Job", "CronJob")]


def images(obj: dict) -> list[str]:
    spec = obj["spec"].get("jobTemplate", {}).get("spec", obj["spec"])
    return [c["image"] for c in spec["template"]["spec"]["containers"]]


@pytest.mark.parametrize("n,x,folder", EXERCISES, ids=IDS)
def test_the_learners_path_on_the_simulated_cluster(tmp_path, n, x, folder):
    readme = readme_of(folder)
    room = classroom(tmp_path)
    state = tmp_path / "state"
    env = with_stand_ins(state)
    for command in run_commands(readme):  # the lesson, as its README runs it
        kubectl(command, room, env)
    text = exercise_text(readme, x)
    for source, target in COPY_COMMAND.findall(text):  # a file the README says to start from
        shutil.copy2(room / source, room / target)
    for path in sorted((ROOT / folder / "solution").iterdir()):  # the edit, done: the solution's files
        shutil.copy2(path, room / folder / "start" / path.name)
    for command, _, _ in your_turn_commands(readme, x):
        kubectl(command, room, env)
    workloads = applied_workloads(state, room, folder)
    assert workloads, f"{folder}/start renders no workload"
    version = facts()["HELLO_VERSION"]
    for obj in workloads:
        assert obj["metadata"].get("namespace") == "hello-demo", f"{obj['kind']} {obj['metadata']['name']}"
        for image in images(obj):
            assert re.fullmatch(rf"hello-(once|loop):{re.escape(version)}", image), image
    graded = run(["dash", str(SCRIPTS / "check"), str(n), x], env=env)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert graded.stdout.splitlines()[-1] == "done: every condition met", graded.stdout
