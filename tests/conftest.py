"""Shared fixtures: real models and footage from ../shared, an isolated user cache.

Models come from the folder named by CAMFX_MODELS (CI and the README's test
command point it at ../shared/models); footage from ../shared/media. Nothing
here touches the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from camfx_eval.evaluation import key_person

ROOT = Path(__file__).resolve().parent.parent

# CI runs the property tests on a fixed set of examples (a landing must not depend on
# luck); elsewhere hypothesis explores anew each run. HYPOTHESIS_PROFILE=thorough: 20x more.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)
SHARED = Path(os.environ.get("CAMFX_SHARED", ROOT.parent / "shared"))


def import_tensorflow():
    """TensorFlow for the conversion tests. Where it is not installed they are skipped;
    in CI (CI set), which installs it, a TensorFlow that fails to import fails the run
    instead of quietly skipping every conversion test."""
    if os.environ.get("CI"):
        import tensorflow

        return tensorflow
    return pytest.importorskip("tensorflow")

MEDIA = SHARED / "media"
MODELS_DIR = Path(os.environ.get("CAMFX_MODELS", SHARED / "models")).resolve()


def pytest_configure(config: pytest.Config) -> None:
    missing = [p for p in (MEDIA, MODELS_DIR) if not p.is_dir()]
    if missing:
        raise pytest.UsageError(
            f"test data not found: {', '.join(map(str, missing))}; "
            "set CAMFX_MODELS (and CAMFX_SHARED) to the shared folders"
        )
    bring_up_litert_gpu_before_tensorflow()


def bring_up_litert_gpu_before_tensorflow() -> None:
    """The conversion tests import TensorFlow at collection, into this same process. When
    LiteRT's GPU accelerator is first tried *after* that import, the process aborts at exit
    ("free(): invalid pointer"; LiteRT 2.3 + TF 2.21, reproduced outside pytest), failing
    a run whose tests all passed. Tried once before, it is fine. camfx itself never imports
    TensorFlow; scripts/convert.py only uses LiteRT on the CPU."""
    from camfx.models import runtime

    runtime.load_model(MODELS_DIR / "selfie_segmentation.tflite", threads=1, device="auto")
    runtime._gpu_unusable_reason = None  # the tests see a process that has not probed yet


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Each test gets its own user cache (styles, downloaded models) and the shared models."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("CAMFX_MODELS", str(MODELS_DIR))
    # No test opens the machine's own webcam: "camera N" is a device that does not exist,
    # unless a test sets CAMFX_CAMERA to a clip (a simulated camera) itself.
    monkeypatch.setenv("CAMFX_CAMERA", str(cache / "no-such-camera-{index}"))
    return cache


@pytest.fixture(scope="session")
def portrait_video() -> Path:
    return MEDIA / "portrait_720.mp4"


def read_video_frames(path: Path, every: int = 1) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [
            frame.to_ndarray(format="bgr24")
            for i, frame in enumerate(container.decode(video=0))
            if i % every == 0
        ]


def chroma_key_person(frame: np.ndarray) -> np.ndarray:
    """Ground truth for portrait_720.mp4 (a plain blue wall): see camfx_eval.evaluation."""
    return key_person(frame)


def run_camfx(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
    """Run the real command line in a child process, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "camfx", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
    )


def partial_size(folder: Path) -> int:
    """Bytes written so far to a render's partial file (.NAME.PID.part) in `folder`.
    A file may go between listing and reading its size: camfx's start-up check that the
    folder is writable makes and removes a probe of that name."""
    sizes = []
    for path in folder.glob(".*.part"):
        try:
            sizes.append(path.stat().st_size)
        except FileNotFoundError:
            continue
    return max(sizes, default=0)


def count_calls(objects, method: str) -> list[int]:
    """How many times each object's `method` is called from now on (wrapped in place)."""
    calls = [0] * len(objects)
    for i, obj in enumerate(objects):
        original = getattr(obj, method)

        def counted(*args, i=i, call=original):
            calls[i] += 1
            return call(*args)
        setattr(obj, method, counted)
    return calls
