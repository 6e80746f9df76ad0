"""Check that camfx's run-time dependencies install from binary wheels on each platform we promise.

For each target (a Raspberry Pi on Raspberry Pi OS bookworm, a Mac with Apple silicon,
Windows on x86-64) pip resolves pyproject's [project] dependencies as that machine would,
with ``--only-binary=:all:`` so that a dependency which would need compiling there (no
wheel) fails the check. Nothing is installed (``--dry-run``); the index is asked, so this
needs the package registry, as CI's own install does.

pip evaluates environment markers for the machine it runs on, not for ``--platform``,
so the markers are evaluated here, for the target, before pip sees the requirements.

Usage: python .ci/check_platform_wheels.py [TARGET ...]   (default: all; exit 1 on a failure)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    name: str
    python: str  # "3.11"
    platforms: tuple[str, ...]  # pip --platform tags, most specific first
    markers: dict[str, str]  # the environment markers of such a machine
    litert_major: str | None = None  # the ai-edge-litert series it must get, if pinned


def manylinux(glibc_minor: int, arch: str) -> tuple[str, ...]:
    """Every manylinux tag a glibc 2.<minor> machine takes (pip does not expand these)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 16, -1)]
    return (*tags, f"manylinux2014_{arch}")


def linux_markers(machine: str, python: str) -> dict[str, str]:
    return {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": machine,
        "os_name": "posix",
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


TARGETS = (
    # Raspberry Pi OS bookworm (64-bit): Debian 12, glibc 2.36, Python 3.11.
    # LiteRT 1.x there, what CI's second test run uses (pyproject says why).
    Target(
        "raspberry-pi", "3.11", manylinux(36, "aarch64"), linux_markers("aarch64", "3.11"), "1"
    ),
    Target(
        "macos-arm64",
        "3.11",
        ("macosx_14_0_arm64",),  # pip also takes older macOS and universal2 wheels
        {
            **linux_markers("arm64", "3.11"),
            "sys_platform": "darwin",
            "platform_system": "Darwin",
        },
    ),
    Target(
        "windows-x86-64",
        "3.11",
        ("win_amd64",),
        {
            **linux_markers("AMD64", "3.11"),
            "sys_platform": "win32",
            "platform_system": "Windows",
            "os_name": "nt",
        },
    ),
)


def runtime_requirements(markers: dict[str, str]) -> list[str]:
    """pyproject's run-time dependencies that apply on a machine with these markers."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    chosen = []
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(markers):
            requirement.marker = None
            chosen.append(str(requirement))
    return chosen


def resolve(target: Target) -> dict[str, str]:
    """{package: version} pip would install on the target, from wheels only; raises on failure."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
            "--only-binary=:all:", "--python-version", target.python,
            "--implementation", "cp", "--target", str(Path(scratch) / "target"),
            "--report", str(report),
        ]  # fmt: skip
        for platform in target.platforms:
            command += ["--platform", platform]
        result = subprocess.run(
            command + runtime_requirements(target.markers), capture_output=True, text=True
        )
        if result.returncode != 0:
            errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
            raise RuntimeError("; ".join(errors) or result.stderr.strip())
        installs = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in installs}


def main(names: list[str]) -> int:
    unknown = set(names) - {t.name for t in TARGETS}
    if unknown:
        print(f"unknown target(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    failed = 0
    for target in TARGETS:
        if names and target.name not in names:
            continue
        label = f"{target.name} (Python {target.python}, {target.platforms[0]})"
        try:
            versions = resolve(target)
        except RuntimeError as exc:
            print(f"FAIL {label}: {exc}")
            failed += 1
            continue
        litert = versions.get("ai-edge-litert", "none")
        if target.litert_major and litert.split(".")[0] != target.litert_major:
            wanted = f"{target.litert_major}.x"
            print(f"FAIL {label}: ai-edge-litert {litert}, not the {wanted} that CI tests")
            failed += 1
            continue
        print(f"ok   {label}: {len(versions)} wheels, ai-edge-litert {litert}")
        print("     " + " ".join(f"{name}=={v}" for name, v in sorted(versions.items())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
