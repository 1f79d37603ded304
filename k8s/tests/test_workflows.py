"""The GitHub workflows (`make test-flows`): actionlint and zizmor clean, and shown to catch mistakes;
the release workflow's own steps that run here; the pins the e2e job reads."""

from __future__ import annotations

import os
import re
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml
from harness import ROOT, clean_env, facts, library, make_kit, run

WORKFLOWS = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
BROKEN = """on: push
jobs:
  a:
    runs-on: ubuntu-24.04-arm
    steps:
      - run: echo "${{ github.event.head_commit.message }}"
  b:
    needs: [nope]
    runs-on: ubuntu-24.04
    steps:
      - run: true
      - uses: actions/checkout@v6.0.2
"""


def actionlint(*files: str):
    wasm = os.environ.get("ACTIONLINT_DIR", str(ROOT / ".cache" / "actionlint" / "package"))
    return run(["node", str(ROOT / "k8s" / "scripts" / "actionlint.cjs"), *files],
               env={**os.environ, "ACTIONLINT_DIR": wasm})


def test_actionlint_passes_on_every_workflow():
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    (tmp_path / "broken.yml").write_text(BROKEN)
    result = actionlint(str(tmp_path / "broken.yml"))
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout + result.stderr and '"nope"' in result.stdout + result.stderr


def test_zizmor_finds_nothing_in_the_workflows():
    result = run(["zizmor", "--offline", "--no-progress", *WORKFLOWS])
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_template_injection_and_an_unpinned_action(tmp_path):
    (tmp_path / "broken.yml").write_text(BROKEN)
    result = run(["zizmor", "--offline", "--no-progress", str(tmp_path / "broken.yml")])
    assert result.returncode != 0
    assert "template-injection" in result.stdout and "unpinned-uses" in result.stdout


def test_release_tag_is_the_workspace_version():
    result = run(["make", "-s", "check-release-tag", f"TAG=v{facts()['HELLO_VERSION']}"])
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("tag", ["v9.9.9", "{v}", "v{v}.1", ""])
def test_release_tag_refused_with_one_line_and_exit_2(tag):
    version = facts()["HELLO_VERSION"]
    tag = tag.format(v=version)
    result = run([str(ROOT / ".ci" / "check-release-tag"), tag, version])
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"check-release-tag: TAG='{tag}' is not the workspace version: expected v{version}")


def test_release_notes_name_the_certificate_identity():
    version = facts()["HELLO_VERSION"]
    assert run([str(ROOT / ".ci" / "release-notes"), version]).returncode == 2
    out = run([str(ROOT / ".ci" / "release-notes"), version, "ghcr.io/hello-k8s",
               "https://github.com/hello-k8s/hello-k8s"]).stdout
    assert f"cosign verify ghcr.io/hello-k8s/hello-loop:{version}" in out
    assert (f"--certificate-identity 'https://github.com/hello-k8s/hello-k8s/.github/workflows/release.yml"
            f"@refs/tags/v{version}'") in out
    assert "--certificate-oidc-issuer https://token.actions.githubusercontent.com" in out


def test_release_workflow_shape():
    """Which no linter asserts: the tag check runs first and every job waits for it, nothing has
    permissions by default, and only the signing job can mint an OIDC token."""
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    jobs = wf["jobs"]
    assert wf["permissions"] == {}
    runs = [s["run"] for s in jobs["version"]["steps"] if "run" in s]
    assert runs and runs[0].lstrip().startswith("make check-release-tag")

    def upstream(name):
        needs = jobs[name].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        return set(needs).union(*[upstream(n) for n in needs])

    for name in jobs:
        assert name == "version" or "version" in upstream(name), f"{name} does not wait for the tag check"
    assert sorted(n for n, j in jobs.items() if j.get("permissions", {}).get("id-token") == "write") == ["sign"]


def test_the_e2e_job_reads_the_pins_and_kubectl_matches_the_node():
    """k8s/versions.env is the one place for kind and kubectl: the workflow appends it to $GITHUB_ENV
    and hands both to helm/kind-action, with no version of its own; kubectl's minor is the node's."""
    f = facts()
    wf = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert re.fullmatch(r"v\d+\.\d+\.\d+", f["KIND_VERSION"]) and re.fullmatch(r"v\d+\.\d+\.\d+", f["KUBECTL_VERSION"])
    assert re.fullmatch(r"kindest/node:v[\d.]+@sha256:[0-9a-f]{64}", f["NODE_IMAGE"]), f["NODE_IMAGE"]
    assert f["KUBECTL_VERSION"].rsplit(".", 1)[0] == f["NODE_K8S"].rsplit(".", 1)[0]
    assert "grep -E '^[A-Z_]+=' k8s/versions.env | tee -a \"$GITHUB_ENV\"" in wf
    action = wf[wf.index("uses: helm/kind-action@"):][:400]
    for line in ("version: ${{ env.KIND_VERSION }}", "kubectl_version: ${{ env.KUBECTL_VERSION }}"):
        assert line in action
    for literal in (f["KIND_VERSION"], f["KUBECTL_VERSION"].rsplit(".", 1)[0] + ".", f["NODE_K8S"].rsplit(".", 1)[0] + "."):
        assert literal not in wf, f"ci.yml has a version of its own: {literal}"


# ------------------------------------------------------------------------------ the macOS job (issue 26)
# The release commits of the artifact actions, read from their repositories' tags (actions/upload-artifact
# v7.0.0, actions/download-artifact v8.0.1; git rev-parse TAG^{commit} on fetched copies, 2026-12).
UPLOAD_ARTIFACT = "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"
DOWNLOAD_ARTIFACT = "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"


def ci() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())


def test_the_macos_job_takes_the_kit_the_linux_job_built_and_builds_nothing():
    jobs = ci()["jobs"]
    mac, test = jobs["macos"], jobs["test"]
    assert mac["runs-on"] == "macos-15" and mac["needs"] == "test"
    assert mac["permissions"] == {"contents": "read"}
    uses = [step["uses"] for job in jobs.values() for step in job["steps"] if "uses" in step]
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses
    checkout = next(step for step in mac["steps"] if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    names = [step["name"] for step in test["steps"] if "name" in step]
    upload = next(step for step in test["steps"] if step.get("uses") == UPLOAD_ARTIFACT)
    assert names.index(upload["name"]) > names.index("make test"), "the kit exists once make test ran"
    assert upload["with"]["path"] == "dist/hello-k8s-kit-*.tar.gz" and upload["with"]["if-no-files-found"] == "error"
    download = next(step for step in mac["steps"] if step.get("uses") == DOWNLOAD_ARTIFACT)
    assert download["with"]["name"] == upload["with"]["name"]
    runs = "\n".join(step.get("run", "") for step in mac["steps"])
    assert 'PATH=/usr/bin:/bin:/usr/sbin:/sbin /bin/sh .ci/stock-shells "$RUNNER_TEMP"/kit/hello-k8s-kit-' in runs
    assert not re.search(r"\b(docker|cargo|rustup|make (kit|images|test))\b", runs.replace("for tool in docker", "")), runs


def posix_bash(tmp_path: Path) -> Path:
    """bash in POSIX mode as one executable (STOCK_SHELLS takes a path per shell), as macOS's /bin/sh is."""
    wrapper = tmp_path / "bin" / "bash-posix"
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text('#!/bin/sh\nexec bash --posix "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def kit_archive(tmp_path: Path, plant: str | None = None) -> Path:
    """A stand-in kit (harness.make_kit) as a .tar.gz; PLANT: a line added to its ./check."""
    kit = make_kit(tmp_path / "src")
    if plant is not None:
        check = kit / "check"
        lines = check.read_text().splitlines(keepends=True)
        check.write_text("".join(lines[:1] + [plant + "\n"] + lines[1:]))
        library(f"write_sums '{kit}'")
    archive = tmp_path / f"hello-k8s-kit-{facts()['HELLO_VERSION']}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(kit, arcname=archive.name.removesuffix(".tar.gz"))
    return archive


def stock_shells(archive: Path, shells: str) -> object:
    return run(["sh", str(ROOT / ".ci" / "stock-shells"), str(archive)], cwd=ROOT, timeout=600,
               env=clean_env(STOCK_SHELLS=shells, MAKE=shutil.which("make") or "make"))


def test_stock_shells_passes_here_with_dash_and_bash_posix(tmp_path):
    """What the macOS job runs, run here with Linux's stand-ins for macOS's /bin/sh (dash, bash --posix)."""
    result = stock_shells(kit_archive(tmp_path), f"{shutil.which('dash')} {posix_bash(tmp_path)}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    lessons = library("lesson_numbers").split()
    exercises = sum(len(library(f'exercise_letters "{d}"').split()) for d in library("lesson_dirs").split())
    steps = 2 * (3 + len(lessons) + exercises) + 2
    assert result.stdout.rstrip().splitlines()[-1] == f"stock-shells: all {steps} steps ok with " \
        f"{shutil.which('dash')} {posix_bash(tmp_path)} and {shutil.which('make')}"


def test_stock_shells_fails_on_a_planted_bashism(tmp_path):
    """${x:0:1} is bash's: dash says "Bad substitution", and the step fails naming it."""
    result = stock_shells(kit_archive(tmp_path, plant='first=${0:0:1}'), shutil.which("dash"))
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr
    assert re.search(r"^FAIL  env DRY_RUN=1 \S+dash ./check 1 a in .*: exit 2 \(expected 0\)$", result.stdout, re.M)
    assert re.search(r"^      it complained: .*[Bb]ad substitution", result.stdout, re.M), result.stdout[-3000:]
    assert re.search(r"^stock-shells: [0-9]+ failure\(s\) in [0-9]+ steps$", result.stdout, re.M)


def test_stock_shells_refuses_bad_usage_in_one_line(tmp_path):
    for args, env, want in ((["/nonexistent.tar.gz"], {}, "KIT_ARCHIVE: no such file"),
                            ([str(kit_archive(tmp_path))], {"STOCK_SHELLS": "/no/such/sh"}, "STOCK_SHELLS: '/no/such/sh'")):
        result = run(["sh", str(ROOT / ".ci" / "stock-shells"), *args], cwd=ROOT, env=clean_env(**env))
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and want in result.stderr, result.stderr


def test_stock_shells_is_posix_sh():
    result = run([str(ROOT / ".venv" / "bin" / "shellcheck"), "-s", "sh", ".ci/stock-shells"], cwd=ROOT)
    assert result.returncode == 0, result.stdout
