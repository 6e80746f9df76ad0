"""Load a TensorFlow model as one concrete function with fixed input shapes.

Whatever the model came as, the converter gets the same thing: a ``tf.function`` whose
inputs are named, fixed-shape ``TensorSpec``s and whose output is a dict of named
tensors. The names carry through to the TFLite signature, so validation can pair the
TensorFlow and TFLite outputs by name, and fixed shapes let the converter fold shape
arithmetic and give the GPU delegate static tensors.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

Shape = tuple[int, ...]


class SourceError(ValueError):
    """The model cannot be loaded or cut as asked; the message says what to change."""


@dataclass
class Source:
    """A model ready to convert: ``function`` maps named inputs to named outputs."""

    function: Any  # tf ConcreteFunction with fixed input shapes
    description: str
    # Objects owning the function's variables: the converter needs them alive.
    owners: list[Any] = field(default_factory=list)

    @property
    def inputs(self) -> list[tf.TensorSpec]:
        return list(self.function.structured_input_signature[0])

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    def run(self, inputs: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self.function(*[tf.constant(x) for x in inputs])
        return {name: value.numpy() for name, value in outputs.items()}

    @contextmanager
    def saved_model(self) -> Iterator[Path]:
        """The function as a SavedModel in a temporary folder, for the converter.

        The SavedModel is the converter's best-kept path: it freezes variables (Keras 3
        variables handed over in a concrete function stay resource variables, which a
        TFLite interpreter cannot read) and keeps the named signature.
        """
        module = tf.Module()
        module.variables_to_keep = [getattr(v, "value", v) for v in self._variables()]
        module.owners = self.owners
        with tempfile.TemporaryDirectory(prefix="camfx-convert-") as folder:
            tf.saved_model.save(module, folder, signatures={"serving_default": self.function})
            yield Path(folder)

    def _variables(self) -> list[Any]:
        return [v for owner in self.owners for v in getattr(owner, "variables", [])]


def _concrete(
    body: Callable[..., Mapping[str, tf.Tensor]], specs: list[tf.TensorSpec]
) -> Any:
    return tf.function(body, input_signature=specs).get_concrete_function()


def _fixed_spec(name: str, shape: Sequence[int | None], dtype: tf.DType,
                override: Shape | None) -> tf.TensorSpec:
    fixed = tuple(override) if override is not None else tuple(shape)
    if override is not None and len(override) != len(shape):
        raise SourceError(
            f"input {name!r} has {len(shape)} dimensions {list(shape)}, "
            f"--input-shape gave {len(override)}: give one size per dimension"
        )
    # A free batch dimension becomes 1: camfx feeds one frame at a time.
    fixed = tuple(1 if (d is None and i == 0) else d for i, d in enumerate(fixed))
    if any(d is None or d < 1 for d in fixed):
        raise SourceError(
            f"input {name!r} has free dimensions {list(shape)}: fix them with "
            f"--input-shape {name}=1,H,W,C"
        )
    return tf.TensorSpec(fixed, dtype, name=name)


def _shape_for(name: str, index: int, shapes: Mapping[str, Shape] | Sequence[Shape] | None):
    if shapes is None:
        return None
    if isinstance(shapes, Mapping):
        return shapes.get(name)
    return shapes[index] if index < len(shapes) else None


def _clean_name(name: str) -> str:
    # Keras names like "input_layer:0" are not valid TensorSpec names.
    return name.split(":")[0].replace("/", "_")


def from_keras(model: tf.keras.Model, shapes=None, description: str = "Keras model") -> Source:
    """A Keras model in memory; ``shapes`` fixes free dimensions (by input name or order)."""
    specs = [
        _fixed_spec(_clean_name(t.name), t.shape, tf.as_dtype(t.dtype),
                    _shape_for(_clean_name(t.name), i, shapes))
        for i, t in enumerate(model.inputs)
    ]
    # Functional models name outputs after their layers; a Sequential has one, its last.
    output_names = getattr(model, "output_names", None) or [model.layers[-1].name]
    output_names = [_clean_name(name) for name in output_names]

    def body(*args):
        result = model(list(args) if len(args) > 1 else args[0], training=False)
        result = result if isinstance(result, list | tuple) else [result]
        return dict(zip(output_names, result, strict=True))

    return Source(_concrete(body, specs), description, owners=[model])


def load_keras(path: Path, shapes=None) -> Source:
    """A Keras model file (.keras or .h5)."""
    if not path.is_file():
        raise SourceError(f"Keras model {path} not found: give a .keras or .h5 file")
    # Registers the custom layers of the networks camfx rebuilds, so their files load.
    import camfx.convert.magenta  # noqa: F401

    try:
        model = tf.keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise SourceError(f"cannot load Keras model {path}: {exc}") from exc
    return from_keras(model, shapes, description=f"Keras model {path.name}")


def load_saved_model(path: Path, shapes=None, signature: str = "serving_default") -> Source:
    """A SavedModel directory, through one of its signatures."""
    if not (path / "saved_model.pb").is_file():
        raise SourceError(f"{path} is not a SavedModel directory (no saved_model.pb in it)")
    loaded = tf.saved_model.load(str(path))
    if signature not in loaded.signatures:
        raise SourceError(
            f"SavedModel {path} has no signature {signature!r}; it has: "
            f"{', '.join(loaded.signatures) or 'none'} (choose one with --signature)"
        )
    function = loaded.signatures[signature]
    keyword_specs = function.structured_input_signature[1]
    names = sorted(keyword_specs)
    specs = [
        _fixed_spec(n, keyword_specs[n].shape, keyword_specs[n].dtype,
                    _shape_for(n, i, shapes))
        for i, n in enumerate(names)
    ]

    def body(*args):
        return dict(function(**dict(zip(names, args, strict=True))))

    return Source(_concrete(body, specs), f"SavedModel {path.name} [{signature}]", [loaded])


def load_graph_def(
    path: Path, input_arrays: Sequence[str], output_arrays: Sequence[str], shapes=None
) -> Source:
    """A frozen GraphDef (.pb), cut so that ``input_arrays`` feed ``output_arrays``.

    The named inputs may be any tensors inside the graph (DeepLab's ``sub_7``, after its
    preprocessing): each is replaced by a new input of fixed shape, so what came before
    it is left out of the converted model.
    """
    if not path.is_file():
        raise SourceError(f"frozen graph {path} not found")
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(path.read_bytes())
    except Exception as exc:
        raise SourceError(f"{path} is not a frozen GraphDef (.pb): {exc}") from exc
    return _cut(graph_def, path.name, input_arrays, output_arrays, shapes)


def load_checkpoint(
    prefix: Path, input_arrays: Sequence[str], output_arrays: Sequence[str], shapes=None
) -> Source:
    """A TF1 checkpoint (``PREFIX.meta`` + ``PREFIX.index`` + data), as Magenta's original
    release: the graph is restored, its variables frozen into constants, then cut as a
    frozen graph is."""
    meta = Path(f"{prefix}.meta")
    if not meta.is_file() or not Path(f"{prefix}.index").is_file():
        raise SourceError(
            f"checkpoint {prefix} not found: give the prefix of PREFIX.meta and PREFIX.index"
        )
    outputs = [_clean_name(n) for n in output_arrays]
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        saver = tf.compat.v1.train.import_meta_graph(str(meta), clear_devices=True)
        saver.restore(session, str(prefix))
        try:
            graph_def = tf.compat.v1.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), outputs
            )
        except (AssertionError, KeyError) as exc:
            raise SourceError(
                f"checkpoint {Path(prefix).name} has no output named {exc}: "
                "check --output-arrays"
            ) from None
    return _cut(graph_def, f"checkpoint {Path(prefix).name}", input_arrays, output_arrays,
                shapes)


def _cut(graph_def, what: str, input_arrays: Sequence[str], output_arrays: Sequence[str],
         shapes) -> Source:
    nodes = {node.name for node in graph_def.node}
    missing = [n for n in (*input_arrays, *output_arrays) if _clean_name(n) not in nodes]
    if missing:
        raise SourceError(
            f"{what} has no tensor named {', '.join(missing)}: check the names "
            "(e.g. with Netron) and pass them to --input-arrays / --output-arrays"
        )
    static = _static_tensors(graph_def, input_arrays)
    specs = [
        _fixed_spec(_clean_name(n), shape, dtype, _shape_for(_clean_name(n), i, shapes))
        for i, (n, (shape, dtype)) in enumerate(zip(input_arrays, static, strict=True))
    ]

    def cut(*placeholders):
        return tf.compat.v1.import_graph_def(
            graph_def,
            input_map={_tensor(n): p for n, p in zip(input_arrays, placeholders, strict=True)},
            return_elements=[_tensor(n) for n in output_arrays],
            name="",
        )

    wrapped = tf.compat.v1.wrap_function(cut, specs)

    def body(*args):
        return dict(zip(map(_clean_name, output_arrays), wrapped(*args), strict=True))

    description = what if what.startswith("checkpoint") else f"frozen graph {what}"
    return Source(_concrete(body, specs), description, [wrapped])


def _tensor(name: str) -> str:
    return name if ":" in name else f"{name}:0"


def _static_tensors(graph_def, names: Sequence[str]) -> list[tuple[list[int | None], tf.DType]]:
    """Shape and dtype of tensors inside a graph, as TensorFlow infers them."""
    with tf.Graph().as_default() as graph:
        tf.compat.v1.import_graph_def(graph_def, name="")
        tensors = [graph.get_tensor_by_name(_tensor(n)) for n in names]
        for name, t in zip(names, tensors, strict=True):
            if t.shape.rank is None:
                raise SourceError(f"tensor {name!r} has no known rank: cut the graph elsewhere")
        return [(t.shape.as_list(), t.dtype) for t in tensors]


def parse_shapes(values: Sequence[str]) -> dict[str, Shape] | list[Shape] | None:
    """``--input-shape`` values: ``1,257,257,3`` (in input order) or ``name=1,257,257,3``."""
    if not values:
        return None
    named = ["=" in v for v in values]
    if any(named) and not all(named):
        raise SourceError("--input-shape: name every input (name=1,H,W,C) or none of them")
    try:
        if all(named):
            return {
                k: tuple(int(d) for d in v.split(","))
                for k, v in (value.split("=", 1) for value in values)
            }
        return [tuple(int(d) for d in value.split(",")) for value in values]
    except ValueError as exc:
        raise SourceError(
            f"--input-shape {' '.join(values)}: sizes must be integers like 1,257,257,3"
        ) from exc
