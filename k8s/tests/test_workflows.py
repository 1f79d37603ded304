"""The GitHub workflows (`make test-flows`): actionlint and zizmor clean, and shown to catch mistakes;
the release workflow's own steps that run here; the pins the e2e job reads."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from harness import ROOT, facts, run

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
