"""pytest fixtures for k8s/tests (see harness.py): `shell`, one test per shell of the matrix."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import SHELLS  # noqa: E402


@pytest.fixture(params=SHELLS)
def shell(request) -> list[str]:
    """The shell under test, as the words that start it: ["dash"], ["bash", "--posix"], ..."""
    return request.param.split()
