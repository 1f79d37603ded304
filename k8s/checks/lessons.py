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
# Reference solutions of the exercises: k8s/solutions/0Nx-name (lesson N, exercise x). They are
# kustomizations too, so kustomization_dirs() (render, schemas, checkov, the pod rules) finds them;
# the lesson-only checks (READMEs, the lesson layout) use lesson_dirs() and leave them out.
SOLUTIONS = K8S / "solutions"
SOLUTION_DIR = re.compile(r"^0([1-9])([a-z])-[a-z0-9-]+$")


def workspace_version() -> str:
    """`version` from the [workspace.package] table of the workspace Cargo.toml."""
    text = (REPO / "Cargo.toml").read_text()
    section = re.search(r"^\[workspace\.package\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if not section:
        raise AssertionError("Cargo.toml has no [workspace.package] table")
    match = re.search(r'^version\s*=\s*"([^"]+)"', section.group(1), re.M)
    if not match:
        raise AssertionError("Cargo.toml [workspace.package] has no version")
    return match.group(1)


def repository_owner() -> str:
    """The GitHub owner in `repository` of the workspace Cargo.toml: the ghcr.io namespace of the
    released images (the release workflow pushes to ghcr.io/<owner>/)."""
    text = (REPO / "Cargo.toml").read_text()
    match = re.search(r'^repository\s*=\s*"https://github\.com/([^/"]+)/[^/"]+"', text, re.M)
    if not match:
        raise AssertionError("Cargo.toml has no repository = \"https://github.com/<owner>/<name>\"")
    return match.group(1).lower()


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def lesson_dirs() -> list[Path]:
    return sorted(p for p in K8S.iterdir() if p.is_dir() and LESSON_DIR.match(p.name))


def solution_dirs() -> list[Path]:
    return sorted(p for p in SOLUTIONS.iterdir() if p.is_dir())


def exercises() -> dict[str, Path]:
    """Exercise id ("3a") -> its solution folder."""
    found = {}
    for folder in solution_dirs():
        match = SOLUTION_DIR.match(folder.name)
        if not match:
            raise AssertionError(f"{folder.relative_to(REPO)}: solution folders are named 0Nx-name (N lesson, x a-z)")
        found[match.group(1) + match.group(2)] = folder
    return found


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
