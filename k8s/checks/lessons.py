"""Shared helpers for the k8s checks: find the kustomizations, render them, walk pod specs.

Used by validate_schemas.py and the test_*.py files in this folder (run by `make check-k8s`).
Only the standard library plus PyYAML (a dependency of kubernetes-validate, so it is in ./.venv).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import yaml

K8S = Path(__file__).resolve().parent.parent
REPO = K8S.parent
# The project's sourced facts sheet: every number a README states is checked against it.
FACTS = K8S / "checks" / "facts.md"
COMPONENT = K8S / "components" / "hello-demo" / "kustomization.yaml"
PUBLISHED = K8S / "overlays" / "published"
NAMESPACE = "hello-demo"
LESSON_DIR = re.compile(r"^\d\d-[a-z0-9-]+$")
# An exercise is a folder k8s/NN-name/exercise-X with a check.sh (as k8s/lib/hello.sh's exercise_letters
# finds them): its start/ and solution/ are kustomizations too, so kustomization_dirs() (render, schemas,
# checkov, the pod rules) finds them; the lesson-only checks (READMEs, the lesson layout) use lesson_dirs().
EXERCISE_DIR = re.compile(r"^exercise-([a-z])$")
# The one component every kustomization pulls in, as a lesson folder and as an exercise's start/ or
# solution/ folder name it.
LESSON_COMPONENT = "../components/hello-demo"
EXERCISE_COMPONENT = "../../../components/hello-demo"


@functools.lru_cache(maxsize=None)
def facts() -> dict[str, str]:
    """`sh k8s/lib/facts`: the pins as KEY=value (HELLO_VERSION, HELLO_REPOSITORY, NODE_IMAGE, ...).
    k8s/lib is the one place that reads Cargo.toml and kind-config.yaml; the checks ask it."""
    result = subprocess.run(["sh", str(K8S / "lib" / "facts")], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"sh k8s/lib/facts failed: {result.stderr.strip()}")
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


@functools.lru_cache(maxsize=None)
def image_env() -> dict[str, str]:
    """The variables the images set (`ENV NAME=value` in images/Dockerfile): what a container sees
    unless its manifest says otherwise (the heartbeat file, for one)."""
    dockerfile = REPO / "images" / "Dockerfile"
    if not dockerfile.is_file():
        return {}
    return dict(re.findall(r"^ENV\s+(HELLO_[A-Z_]+)=(\S+)\s*$", dockerfile.read_text(), re.M))


def workspace_version() -> str:
    """The workspace version (Cargo.toml's, read by k8s/lib): the images' tag."""
    version = facts().get("HELLO_VERSION")
    if not version:
        raise AssertionError("sh k8s/lib/facts gives no HELLO_VERSION")
    return version


def repository_owner() -> str:
    """The GitHub owner in the workspace's repository URL (HELLO_REPOSITORY): the ghcr.io namespace of
    the released images (the release workflow pushes to ghcr.io/<owner>/)."""
    match = re.fullmatch(r"https://github\.com/([^/]+)/[^/]+?/?", facts().get("HELLO_REPOSITORY", ""))
    if not match:
        raise AssertionError("HELLO_REPOSITORY (sh k8s/lib/facts) is not https://github.com/<owner>/<name>: "
                             f"{facts().get('HELLO_REPOSITORY')!r}")
    return match.group(1).lower()


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def lesson_dirs() -> list[Path]:
    return sorted(p for p in K8S.iterdir() if p.is_dir() and LESSON_DIR.match(p.name))


def course() -> list[Path]:
    """The lessons k8s/kustomization.yaml applies, in order: the course as published. A lesson folder
    outside it is a copy of one in it (its names collide, so it cannot be listed; test_manifests.py
    checks that): checked like any other, but its README, copied too, still has its original's
    number, so it is not held to the course's numbering and table of contents."""
    (doc,) = load_yaml_docs(K8S / "kustomization.yaml")
    return [K8S / name for name in doc["resources"] if K8S / name in lesson_dirs()]


def lesson_number(folder: Path) -> int:
    """NN of a lesson folder k8s/NN-name (or of any folder inside it)."""
    lesson = next(p for p in [folder, *folder.parents] if LESSON_DIR.match(p.name))
    return int(lesson.name[:2])


def exercises() -> dict[str, Path]:
    """Exercise id ("3a": lesson number and letter) -> its folder k8s/NN-name/exercise-X, for every
    exercise-X folder of every lesson that has a check.sh."""
    found: dict[str, Path] = {}
    for lesson in lesson_dirs():
        for folder in sorted(p for p in lesson.iterdir() if p.is_dir() and EXERCISE_DIR.match(p.name)):
            if not (folder / "check.sh").is_file():
                continue
            exercise = f"{lesson_number(lesson)}{folder.name[-1]}"
            if exercise in found:
                raise AssertionError(f"{folder.relative_to(REPO)} and {found[exercise].relative_to(REPO)} "
                                     f"are both exercise {exercise}: two lesson folders share a number")
            found[exercise] = folder
    return found


def lesson_exercises(lesson: Path) -> dict[str, Path]:
    """The exercises of one lesson folder, as exercises() names them."""
    return {k: v for k, v in exercises().items() if v.parent == lesson}


def start_dirs() -> list[Path]:
    """Every exercise's start/ folder: what the learner edits and applies."""
    return [folder / "start" for folder in exercises().values()]


def solution_dirs() -> list[Path]:
    """Every exercise's solution/ folder: the reference, its start folder done."""
    return [folder / "solution" for folder in exercises().values()]


def kustomization_dirs() -> list[Path]:
    """Every folder under k8s/ whose kustomization.yaml is a Kustomization (not a Component)."""
    found = []
    for path in sorted(K8S.rglob("kustomization.yaml")):
        (doc,) = load_yaml_docs(path)
        if doc.get("kind") == "Kustomization":
            found.append(path.parent)
    return found


def manifest_files() -> list[Path]:
    """The files the kustomizations list as resources: the manifests a learner reads and copies."""
    files = set()
    for folder in kustomization_dirs():
        (doc,) = load_yaml_docs(folder / "kustomization.yaml")
        for entry in doc.get("resources", []):
            path = (folder / entry).resolve()
            if path.is_file():
                files.add(path)
    return sorted(files)


def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        raise AssertionError("kubectl not found on PATH (make tools installs a pinned one into .venv)")
    return found


@functools.lru_cache(maxsize=None)
def render(folder: Path) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize FOLDER`, parsed. Cached: the tests render each folder once."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(folder)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {folder} failed: {result.stderr.strip()}")
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """What a folder renders, by (kind, name)."""
    return {(o["kind"], o["metadata"]["name"]): o for o in render(folder)}


def names(folder: Path) -> set[tuple[str, str]]:
    """The (kind, name) of every object a folder renders."""
    return set(objects(folder))


def container_env(obj: dict[str, Any]) -> dict[str, str]:
    """name -> value of the env of a workload's one container."""
    (container,) = pod_template(obj)["spec"]["containers"]
    return {e["name"]: e["value"] for e in container.get("env") or []}


def pod_template(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template (metadata + spec) of a workload object, or None for other kinds."""
    kind = obj.get("kind")
    spec = obj.get("spec", {})
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return spec.get("template")
    if kind == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template")
    if kind == "Pod":
        return {"metadata": obj.get("metadata", {}), "spec": spec}
    return None


def all_containers(pod_spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from pod_spec.get(key) or []


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; a port in the registry host is not a tag."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    name, tag = image, None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = image.rsplit(":", 1)
    return name, tag, digest


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair anywhere in a nested structure of dicts and lists."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)
