"""The package's layers (docs/architecture.md): a lower layer never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "camfx"

# What each layer may import of camfx, besides itself and camfx.errors.
ALLOWED = {
    "tflite": set(),
    "vision": set(),
    "models": {"tflite", "vision"},
    "core": {"models", "vision", "tflite"},
    "io": {"core", "vision"},
}


def _camfx_imports(path: Path) -> set[str]:
    layers = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "camfx" and len(parts) > 1:
                layers.add(parts[1])
    return layers


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for layer, allowed in ALLOWED.items():
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            for imported in _camfx_imports(path) - allowed - {layer, "errors"}:
                wrong.append(f"{path.relative_to(PACKAGE)} imports camfx.{imported}")
    assert not wrong, "\n".join(wrong)
    # the check reads imports at all: a module known to import two layers shows both
    fitting = PACKAGE / "models" / "segmentation" / "fitting.py"
    assert _camfx_imports(fitting) == {"models", "vision"}
