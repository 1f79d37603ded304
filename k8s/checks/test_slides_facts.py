"""The slides, read as the READMEs are read (`make check-k8s`): every lesson folder's slides.md and
the deck's opening and close (k8s/scripts/slides), speaker notes included, found by looking at the
folders as `make slides` finds them.

- a number that contradicts the facts sheet fails, with the READMEs' rules (readme_rules.py): restart
  back-offs, exit codes and their signals, defaults, GA versions, reasons; a lesson's slides quote
  its own manifests (`HELLO_X=...`, `field: value`, the names its commands use) and their rollout
  times fit its Deployments; sample output is marked illustrative; kubectl names the namespace;
- a command shown on a slide is one the tests run: `./lesson N` and `make lesson-N` name a lesson
  folder (make test-flows plays each one), `./check N [X]` and `make check-N [EXERCISE=X]` an
  exercise (each grader runs on its simulated states), `./doctor` and `./load ...` are run by the kit
  tests, the kit's first commands are its README's; a kubectl line is one the dry runs of
  `k8s/scripts/lesson` and `check` print (the context aside), or `kubectl apply|delete -k` of a lesson
  or exercise folder; and every kubectl line of every slide is run here against a closed local port
  and must get as far as connecting.
The last tests feed wrong slides to the checks and expect them to object.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts" / "slides"))
import slides as deck  # noqa: E402  (what `make slides` assembles is what is checked)
from lessons import K8S, REPO, lesson_dirs, lesson_exercises, lesson_number, load_yaml_docs, render  # noqa: E402
from readme_rules import (  # noqa: E402
    FACT_RULES, FACTS_SHEET, check_against_manifests, check_illustrative, check_kubectl_namespace, check_rollout_time,
    pinned_versions,
)

OPENING_AND_CLOSE = [deck.HERE / "opening.md", deck.HERE / "close.md"]


def sources() -> list[Path]:
    return OPENING_AND_CLOSE[:1] + [d / "slides.md" for d in lesson_dirs()] + OPENING_AND_CLOSE[1:]


def name(path: Path) -> str:
    return str(path.relative_to(REPO))


def without_exercises(text: str) -> str:
    """TEXT without its "Your turn" slides: they ask for values the manifests do not have yet."""
    return "\n\n---\n\n".join(s for s in deck.split_slides(text) if not re.search(r"^## Your turn", s, re.M))


# ------------------------------------------------------------------------------ the numbers
@pytest.mark.parametrize("source", sources(), ids=name)
def test_slides_agree_with_the_facts_sheet(source):
    text = source.read_text()
    problems = [f"{rule.__name__}: {p}" for rule in FACT_RULES for p in rule(text, FACTS_SHEET)]
    problems += check_illustrative(text) + check_kubectl_namespace(text)
    assert problems == []


@pytest.mark.parametrize("folder", lesson_dirs(), ids=lambda f: f.name)
def test_a_lessons_slides_match_its_manifests(folder):
    text = (folder / "slides.md").read_text()
    assert check_against_manifests(without_exercises(text), folder) == []
    for deployment in (o for o in render(folder) if o["kind"] == "Deployment"):
        assert check_rollout_time(text, deployment, FACTS_SHEET) == [], deployment["metadata"]["name"]


@pytest.mark.parametrize("source", sources(), ids=name)
def test_stated_versions_are_the_pins(source):
    pins, flat = pinned_versions(), " ".join(source.read_text().split())
    for key, pattern in [("KIND_VERSION", r"\bkind\s+(v\d+\.\d+\.\d+)"), ("KUBECTL_VERSION", r"\bkubectl\s+(v\d+\.\d+\.\d+)")]:
        assert [v for v in re.findall(pattern, flat) if v != pins[key]] == [], key


# ------------------------------------------------------------------------------ the commands
def dry_run(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("CLUSTER", "KUBE_CONTEXT", "KIT", "KIT_DIR", "EXERCISE")}
    env.update(DRY_RUN="1", NO_COLOR="1", PAUSE="0", KEEP="0", CLUSTER_NAME="hello", LOAD_PLATFORM="linux/amd64")
    out = subprocess.run(["sh", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, f"sh {' '.join(args)}: {out.stderr}"
    return out.stdout


def normal(command: str) -> str:
    """A kubectl command without its --context (the scripts name kind-hello; a slide may leave it out)."""
    return " ".join(re.sub(r"\s--context[= ]\S+", "", f" {command}").split())


@functools.lru_cache(maxsize=None)
def printed_kubectl() -> frozenset[str]:
    """Every kubectl command the dry runs of every lesson and every exercise's grader print."""
    found = set()
    runs = [[str(K8S / "scripts" / "lesson"), str(lesson_number(d))] for d in lesson_dirs()]
    runs += [[str(K8S / "scripts" / "check"), str(lesson_number(d)), x[-1]] for d in lesson_dirs()
             for x in lesson_exercises(d)]
    for args in runs:
        found |= {normal(m) for m in re.findall(r"^\$ (kubectl .*?)(?: > \S+ &)?$", dry_run(*args), re.M)}
    return frozenset(found)


def kustomize_folders() -> set[str]:
    found = set()
    for folder in lesson_dirs():
        found.add(name(folder))
        for exercise in lesson_exercises(folder).values():
            found |= {name(exercise / "start"), name(exercise / "solution")}
    return found


# What the kit tests (images/tests/test_kit.py) run at a kit's root, besides ./lesson and ./check.
KIT_RUNS = {"./doctor", "./load kind", "./load minikube", "./load docker", "./load verify"}
ENV = re.compile(r"^(?:(?:DRY_RUN|KEEP)=1|CLUSTER=minikube)\s+")


def command_problems(line: str, kubectl_lines: frozenset[str], folders: set[str]) -> list[str]:
    """Why LINE (a command shown on a slide) is not one the tests run; empty when it is."""
    command = line
    while ENV.match(command):
        command = ENV.sub("", command, count=1)
    lessons = {lesson_number(d): d for d in lesson_dirs()}
    kit = {c for c, _ in deck.kit_first_commands(deck.facts())}
    if command in kit or command in KIT_RUNS:
        return []
    m = re.fullmatch(r"(?:\./lesson (\d+)|make lesson-(\d+))", command)
    if m:
        n = int(m.group(1) or m.group(2))
        return [] if n in lessons else [f"{line}: no lesson folder k8s/{n:02d}-*"]
    m = re.fullmatch(r"(?:\./check (\d+)(?: ([a-z]))?|make check-(\d+)(?: EXERCISE=([a-z]))?)", command)
    if m:
        n, x = int(m.group(1) or m.group(3)), m.group(2) or m.group(4) or "a"
        found = n in lessons and any(e.name == f"exercise-{x}" for e in lesson_exercises(lessons[n]).values())
        return [] if found else [f"{line}: no exercise {n}{x}"]
    if command.startswith("kubectl "):
        apply = re.fullmatch(r"kubectl (?:-n \S+ )?(?:apply|delete) -k (\S+)", command)
        if normal(command) in kubectl_lines or (apply and apply.group(1) in folders):
            return []
        return [f"{line}: no dry run prints this kubectl command, and it applies no lesson or exercise folder"]
    return [f"{line}: not a command the tests run (./lesson N, ./check N [X], ./doctor, ./load, kubectl ...)"]


def shown_commands(text: str) -> list[str]:
    """Each slide's command lines (its sh blocks) and its inline commands (`./...`, `make ...`)."""
    found = []
    for slide in deck.split_slides(text):
        found += deck.commands(slide)
        inline = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", deck.body(slide), flags=re.M | re.S))
        found += [c for c in inline if re.match(r"(?:(?:DRY_RUN|KEEP|CLUSTER)=\S+\s+)*(?:\./[a-z]|make )", c)]
    return found


@pytest.mark.parametrize("source", sources(), ids=name)
def test_every_command_on_a_slide_is_one_the_tests_run(source):
    commands = shown_commands(source.read_text())
    problems = [p for c in commands for p in command_problems(c, printed_kubectl(), kustomize_folders())]
    assert problems == []


def course() -> list[Path]:
    """The lessons k8s/kustomization.yaml applies (as test_readme_facts.py's course): a lesson folder
    outside it is a copy, whose slides still show its original's number."""
    (doc,) = load_yaml_docs(K8S / "kustomization.yaml")
    return [K8S / entry for entry in doc["resources"] if K8S / entry in lesson_dirs()]


def test_every_lesson_shows_how_to_play_it_and_check_its_exercises():
    assert course()
    for folder in course():
        commands = set(shown_commands((folder / "slides.md").read_text()))
        n = lesson_number(folder)
        assert f"./lesson {n}" in commands, folder.name
        for exercise in lesson_exercises(folder).values():
            x = exercise.name[-1]
            assert f"./check {n}" + ("" if x == "a" else f" {x}") in commands, f"{folder.name}: exercise {x}"


def test_every_kubectl_command_on_a_slide_parses(tmp_path):
    """Each is run against a kubeconfig whose server is a closed local port: it must get as far as
    connecting (an unknown flag, a bad --for, a folder that does not render fail here)."""
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kind-hello",
        "clusters": [{"name": "closed", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "kind-hello", "context": {"cluster": "closed", "user": "nobody"}}],
        "users": [{"name": "nobody", "user": {"token": "none"}}]}))
    commands = sorted({c for s in sources() for c in shown_commands(s.read_text()) if c.startswith("kubectl ")})
    assert len(commands) > len(lesson_dirs())
    rejected = []
    for line in commands:
        result = subprocess.run(shlex.split(line), cwd=REPO, env={**os.environ, "KUBECONFIG": str(config)},
                                capture_output=True, text=True, timeout=60, check=False)
        text = result.stdout + result.stderr
        if result.returncode == 0 or not re.search(r"connect: connection refused|was refused", text):
            rejected.append(f"{line} -> {text.strip()[-200:]}")
    assert rejected == []


# ------------------------------------------------------------------------------ the checks can fail
def test_a_wrong_number_on_a_slide_or_in_its_notes_fails():
    slide = (lesson_dirs()[0] / "slides.md").read_text()
    wrong = [
        "## Why\n\n- The kubelet waits 15 s before each restart in CrashLoopBackOff\n",
        "## Why\n\n<!--\nSay: the grace period is 60 s by default.\nPoint at: x.\nTime: 1 min.\n-->\n",
        "## Why\n\n- A program that ignores SIGTERM is killed by SIGTERM: exit code 137\n",
    ]
    for extra in wrong:
        text = slide + "\n---\n\n" + extra
        assert [p for rule in FACT_RULES for p in rule(text, FACTS_SHEET)], extra
    assert check_illustrative("## What you will see\n\n```text\nNAME READY\n```\n") != []


def test_a_slide_quoting_another_value_than_its_manifests_fails():
    folder = next(d for d in lesson_dirs() if "HELLO_COUNT" in (d / "slides.md").read_text())
    text = (folder / "slides.md").read_text().replace("`HELLO_COUNT=5`", "`HELLO_COUNT=7`")
    assert check_against_manifests(text, folder) != []


def test_a_command_the_tests_do_not_run_fails():
    kubectl, folders = printed_kubectl(), kustomize_folders()
    last = max(lesson_number(d) for d in lesson_dirs())
    for line in [f"./lesson {last + 1}", "./check 1 z", f"make check-{last + 1}", "./lesson",
                 "kubectl -n hello-demo get pods --all-the-things", "kubectl apply -k k8s/no-such-lesson",
                 "rm -rf /", "make demo", "DRY_RUN=yes ./lesson 1"]:
        assert command_problems(line, kubectl, folders) != [], line
    first = lesson_dirs()[0]
    for line in [f"./lesson {lesson_number(first)}", f"KEEP=1 ./lesson {lesson_number(first)}", "./check 1",
                 f"kubectl -n hello-demo apply -k {name(first)}", "./doctor", "./load kind"]:
        assert command_problems(line, kubectl, folders) == [], line
    assert shown_commands("## x\n\n```sh\n./lesson 1   # plays it\n```\n\nThen `KEEP=1 ./lesson 3`.\n") == [
        "./lesson 1", "KEEP=1 ./lesson 3"]


def test_the_dry_runs_print_kubectl_commands():
    assert len(printed_kubectl()) > 2 * len(lesson_dirs())
