"""Strict schema check of every manifest and every rendered kustomization, for every Kubernetes
version from 1.29 to the newest that the installed kubernetes-validate ships.

Runs the `kubernetes-validate --strict` command itself, once per version. The command only
*warns* (exit 0) about a kind it has no schema for, which would let a typo in `kind:` or
`apiVersion:` pass unchecked; so any WARN line counts as a failure here.

Usage: python validate_schemas.py RENDERED.yaml...   (manifests are found from the kustomizations)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kubernetes_validate.utils import all_versions
from packaging.version import Version

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import REPO, manifest_files  # noqa: E402

OLDEST = Version("1.29")


def versions() -> list[str]:
    # The package ships one schema folder per version (plain and -strict): dedupe, keep >= 1.29.
    found = sorted({v for v in all_versions() if Version(v) >= OLDEST}, key=Version)
    if not found:
        raise SystemExit("kubernetes-validate ships no schema for Kubernetes >= 1.29")
    return found


def main(rendered: list[str]) -> int:
    files = [str(p.relative_to(REPO)) for p in manifest_files()] + rendered
    vers = versions()
    failures = 0
    for version in vers:
        result = subprocess.run(
            ["kubernetes-validate", "--strict", "--quiet", "-k", version, *files],
            capture_output=True, text=True, check=False, cwd=REPO,
        )
        problems = [line for line in result.stdout.splitlines() if line.strip()]
        if result.returncode != 0 or problems:
            failures += 1
            print(f"kubernetes {version}: FAILED (exit {result.returncode})")
            for line in problems + result.stderr.splitlines():
                print(f"  {line}")
    print(f"kubernetes-validate --strict: {len(files)} files x {len(vers)} versions "
          f"({vers[0]} .. {vers[-1]}): {len(vers) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
