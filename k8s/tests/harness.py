"""What every test outside `cargo test` shares (pytest is the one harness): the repository, the
pins as k8s/lib/hello.sh reads them, the shells a learner's scripts must run under, and a way to run
a command with the stand-ins (k8s/tests/sim.py) first on PATH. Imported by the conftest.py files of
k8s/tests and images/tests. Every test gets its own temporary folder (pytest's tmp_path); nothing is
written into the repository.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FAKE_BIN = ROOT / "k8s" / "tests" / "fake-bin"
SIM = ROOT / "k8s" / "tests" / "sim.py"

# The shells everything a learner runs must work under: Debian's stand-ins for macOS's /bin/sh (bash
# 3.2 in POSIX mode) and for the strictest POSIX shells. `sh` itself is dash on Debian.
SHELLS = ["dash", "bash --posix", "posh", "busybox sh"]


@functools.lru_cache(maxsize=None)
def facts() -> dict[str, str]:
    """The pins (HELLO_VERSION, NODE_IMAGE, NODE_K8S, KIND_VERSION, ...) from k8s/lib/facts."""
    out = subprocess.run(["sh", str(ROOT / "k8s" / "lib" / "facts")], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in out.stdout.splitlines())


def library(snippet: str, root: Path = ROOT) -> str:
    """Run SNIPPET after sourcing k8s/lib/hello.sh (ROOT=root); its stdout."""
    out = subprocess.run(["sh", "-c", f'ROOT="$1"; . "$1/k8s/lib/hello.sh" && {snippet}', "sh", str(root)],
                         capture_output=True, text=True, check=True)
    return out.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without what the scripts read, no colour, plus EXTRA."""
    drop = {"DRY_RUN", "PAUSE", "KEEP", "CLUSTER", "CLUSTER_NAME", "KUBE_CONTEXT", "KIT", "KIT_DIR", "EXERCISE",
            "E2E_LESSONS", "E2E_EXERCISES", "LOAD_PLATFORM", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy",
            "https_proxy", "no_proxy", "DOCTOR_PROC", "DOCTOR_TIMEOUT", "KIT_TIMEOUT", "VERSION", "ONCE_IMAGE",
            "LOOP_IMAGE", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "HELLO_SH", "HELLO_WORK_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("FAKE_")}
    venv = ROOT / ".venv" / "bin"
    if venv.is_dir():
        env["PATH"] = f"{venv}{os.pathsep}{env['PATH']}"
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def run(cmd: list[str] | str, *, env: dict[str, str] | None = None, cwd: Path | str = ROOT, timeout: float = 300,
        stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run a command (a list, or a string split on spaces), output captured as text, never raising."""
    args = cmd.split() if isinstance(cmd, str) else cmd
    return subprocess.run(args, env=env if env is not None else clean_env(), cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, input=stdin if stdin is not None else "")


def with_stand_ins(state: Path, **extra: str) -> dict[str, str]:
    """The environment for running a script against the stand-ins, with FAKE_STATE=state."""
    state.mkdir(parents=True, exist_ok=True)
    env = clean_env(**extra)
    env["PATH"] = f"{FAKE_BIN}{os.pathsep}{env['PATH']}"
    env["FAKE_STATE"] = str(state)
    return env


def calls(state: Path) -> list[str]:
    """What the stand-ins were asked, one "TOOL ARGS" line each."""
    path = state / "calls"
    return path.read_text().splitlines() if path.exists() else []


def make_kit(folder: Path) -> Path:
    """A kit folder as images/build-kit lays it out (the loader checks that a kit carries all of it):
    the four root commands, the library, the pins, every lesson folder, namespace, components,
    images/amd64/hello-{once,loop}.tar (stand-in bytes), SHA256SUMS; no SBOMs or licences."""
    kit = folder / "hello-k8s-kit"
    (kit / "k8s" / "components" / "hello-demo").mkdir(parents=True)
    shutil.copy(ROOT / "k8s" / "scripts" / "load", kit / "load")
    shutil.copy(ROOT / "k8s" / "scripts" / "doctor", kit / "doctor")
    shutil.copytree(ROOT / "k8s" / "lib", kit / "k8s" / "lib")
    for name in ("versions.env", "kind-config.yaml", "components/hello-demo/kustomization.yaml"):
        shutil.copy(ROOT / "k8s" / name, kit / "k8s" / name)
    for cmd in ("lesson", "check"):
        shutil.copy(ROOT / "k8s" / "scripts" / cmd, kit / cmd)
    for name in ("README.md", "kustomization.yaml"):
        shutil.copy(ROOT / "k8s" / name, kit / "k8s" / name)
    for folder_ in ["namespace", "components", *(Path(d).name for d in library("lesson_dirs").split())]:
        shutil.copytree(ROOT / "k8s" / folder_, kit / "k8s" / folder_, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (kit / "images" / "amd64").mkdir(parents=True)
    (kit / "images" / "amd64" / "hello-once.tar").write_text("image bytes\n")
    (kit / "images" / "amd64" / "hello-loop.tar").write_text("other bytes\n")
    library(f"write_sums {shlex.quote(str(kit))}")
    return kit


def need(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        raise RuntimeError(f"missing tools for the tests: {missing} (.ci/run installs them)")
