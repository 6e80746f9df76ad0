"""The suite itself: what it does on a machine unlike this one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(("ci", "outcome"), [("true", "error"), ("", "skipped")])
def test_a_broken_tensorflow_fails_ci_instead_of_skipping_the_conversion_tests(
    tmp_path, ci, outcome
):
    broken = tmp_path / "broken"
    broken.mkdir()
    # As an install whose TensorFlow is gone (or was never there) looks to Python.
    (broken / "tensorflow.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'tensorflow'\", name='tensorflow')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(broken), "CI": ci}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_convert_magenta.py", "-k", "nothing_matches_this"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    if outcome == "error":
        assert result.returncode != 0 and "No module named 'tensorflow'" in result.stdout
    else:
        assert result.returncode in (0, 5), result.stdout  # 5: no test selected
        assert "1 skipped" in result.stdout or "no tests ran" in result.stdout, result.stdout
