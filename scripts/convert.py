"""Convert a TensorFlow model to TensorFlow Lite: cut, fix shapes, quantize, validate, label.

Needs TensorFlow: pip install -e '.[convert]'. Examples (README, "Convert your own model"):

    # a SavedModel, every quantization, validated on real frames
    python scripts/convert.py --saved-model my_model/ --input-shape 1,256,256,3 \\
        --quantize all --representative ../shared/media/portrait_720.mp4 --validate \\
        --task segmentation -o out/my_model.tflite

    # DeepLab's frozen graph, cut after its preprocessing, with metadata
    python scripts/convert.py --graph frozen_inference_graph.pb --input-arrays sub_7 \\
        --output-arrays ResizeBilinear_2 --input-shape 1,257,257,3 --mean 127.5 --std 127.5 \\
        --labels voc_labels.txt --metadata -o deeplab.tflite

    # the style transfer network (two inputs): int8 calibrated on frames x style bottlenecks
    python scripts/convert.py --saved-model transfer/ --quantize int8 \\
        --representative ../shared/media/portrait_720.mp4 --style-pictures ../shared/styles \\
        --predict-model ../shared/models/style_predict_quantized_256.tflite --validate \\
        --task image -o transfer_int8.tflite

Exit status: 0 done, 1 a converted model failed validation, 2 bad input (one line each).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

MODE_CHOICES = ("none", "dynamic", "float16", "int8", "all")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_argument_group("the model").add_mutually_exclusive_group(required=True)
    src.add_argument("--saved-model", type=Path, metavar="DIR", help="a SavedModel directory")
    src.add_argument("--keras", type=Path, metavar="FILE", help="a Keras model (.keras, .h5)")
    src.add_argument("--graph", type=Path, metavar="FILE", help="a frozen GraphDef (.pb)")
    src.add_argument("--checkpoint", type=Path, metavar="PREFIX",
                     help="a TF1 checkpoint (PREFIX.meta, PREFIX.index, data)")
    cut = p.add_argument_group("cut and shapes")
    cut.add_argument("--input-arrays", default="",
                     help="graph/checkpoint: input tensors, comma-separated")
    cut.add_argument("--output-arrays", default="",
                     help="graph/checkpoint: output tensors, comma-separated")
    cut.add_argument("--signature", default="serving_default", help="SavedModel signature")
    cut.add_argument("--input-shape", action="append", default=[], metavar="[NAME=]1,H,W,C",
                     help="fix an input's shape (repeat per input)")
    q = p.add_argument_group("quantization")
    q.add_argument("--quantize", choices=MODE_CHOICES, default="none",
                   help="all: one file per mode, named OUT_<mode>.tflite")
    q.add_argument("--representative", type=Path, metavar="PATH",
                   help="int8 calibration data: a folder of images, an image or a video")
    q.add_argument("--count", type=int, default=64, help="calibration frames (default 64)")
    q.add_argument("--mean", type=float, default=0.0,
                   help="input = (pixel - mean) / std; 0/255 -> [0,1], 127.5/127.5 -> [-1,1]")
    q.add_argument("--std", type=float, default=255.0)
    q.add_argument("--style-pictures", type=Path, metavar="DIR",
                   help="two-input style networks: style pictures for the bottleneck input")
    q.add_argument("--predict-model", type=Path, metavar="FILE",
                   help="the style prediction .tflite that turns style pictures into bottlenecks")
    q.add_argument("--allow-float-ops", action="store_true",
                   help="int8: keep ops with no int8 kernel in float instead of failing")
    q.add_argument("--float-ops", default="", metavar="OP,OP",
                   help="int8: keep these builtin ops in float (e.g. RSQRT,SQUARED_DIFFERENCE)")
    v = p.add_argument_group("validation")
    v.add_argument("--validate", action="store_true", help="compare TF and TFLite outputs")
    v.add_argument("--task", choices=("generic", "image", "segmentation"), default="generic")
    v.add_argument("--validation", type=Path, metavar="PATH",
                   help="validation data (default: --representative; random inputs if neither)")
    v.add_argument("--max-error", type=float, help="override the mode's max |error| limit")
    v.add_argument("--min-psnr", type=float, help="override the mode's PSNR limit (image)")
    v.add_argument("--min-iou", type=float, help="override the mode's IoU limit (segmentation)")
    m = p.add_argument_group("metadata")
    m.add_argument("--metadata", action="store_true",
                   help="write TFLite metadata: normalization (--mean/--std), labels, names")
    m.add_argument("--name", help="model name in the metadata")
    m.add_argument("--description", default="", help="model description")
    m.add_argument("--author", default="")
    m.add_argument("--license", default="")
    m.add_argument("--labels", type=Path, metavar="FILE", help="label file, one per line")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT.tflite")
    return p.parse_args(argv)


def load_source(args: argparse.Namespace):
    from camfx.convert import sources

    shapes = sources.parse_shapes(args.input_shape)
    if args.saved_model:
        return sources.load_saved_model(args.saved_model, shapes, args.signature)
    if args.keras:
        return sources.load_keras(args.keras, shapes)
    inputs = [n for n in args.input_arrays.split(",") if n]
    outputs = [n for n in args.output_arrays.split(",") if n]
    if not inputs or not outputs:
        raise sources.SourceError(
            "--graph and --checkpoint need --input-arrays and --output-arrays"
        )
    if args.checkpoint:
        return sources.load_checkpoint(args.checkpoint, inputs, outputs, shapes)
    return sources.load_graph_def(args.graph, inputs, outputs, shapes)


def dataset_for(source, args: argparse.Namespace, path: Path | None, count: int):
    """Samples for every input of ``source`` from real pictures, or None without a path."""
    from camfx.convert import quantize

    if path is None:
        return None
    frames = quantize.read_frames(path, count)
    images = [s for s in source.inputs if s.shape.rank == 4 and s.shape[-1] == 3]
    others = [s for s in source.inputs if s not in images]
    if len(images) != 1:
        raise quantize.QuantizeError(
            f"cannot tell which input takes pictures among {source.input_names}"
        )
    image = images[0]
    size = (int(image.shape[1]), int(image.shape[2]))
    if not others:
        return quantize.image_dataset(frames, image.name, size, args.mean, args.std)
    if len(others) == 1 and args.style_pictures and args.predict_model:
        bottlenecks = quantize.style_bottlenecks(
            sorted(args.style_pictures.iterdir()), args.predict_model
        )
        return quantize.style_transfer_dataset(
            frames, bottlenecks, image.name, others[0].name, size
        )
    raise quantize.QuantizeError(
        f"input(s) {[s.name for s in others]} need data: for a style transfer network give "
        "--style-pictures and --predict-model"
    )


def write_metadata(model: bytes, source, args: argparse.Namespace) -> bytes:
    """Normalization of picture inputs (the --mean/--std calibration used) and labels."""
    from camfx.tflite import metadata

    def describe(spec) -> metadata.TensorInfo:
        if spec.shape[-1] != 3:
            return metadata.TensorInfo(name=spec.name)
        low, high = (0 - args.mean) / args.std, (255 - args.mean) / args.std
        return metadata.TensorInfo(
            name=spec.name, description="RGB picture, (pixel - mean) / std",
            mean=(args.mean,), std=(args.std,), min=(low,), max=(high,),
            color_space=metadata.ColorSpace.RGB,
        )

    inputs_by_name = {spec.name: spec for spec in source.inputs}
    input_order, output_order = subgraph_order(model)
    outputs = [
        metadata.TensorInfo(
            name=name,
            description="per-pixel class scores" if args.labels else "",
            label_file=args.labels.name if args.labels else None,
        )
        for name in output_order
    ]
    info = metadata.ModelInfo(
        name=args.name or args.out.stem, description=args.description, version="1",
        author=args.author, license=args.license,
        inputs=[describe(inputs_by_name[name]) for name in input_order], outputs=outputs,
    )
    files = {args.labels.name: args.labels.read_bytes()} if args.labels else {}
    return metadata.write_metadata(model, info, files)


def subgraph_order(model: bytes) -> tuple[list[str], list[str]]:
    """Signature names of the inputs and outputs in the model's own tensor order, which
    metadata follows (the converter may order them differently from the source)."""
    from ai_edge_litert import schema_py_generated as schema

    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    signature, subgraph = parsed.signatureDefs[0], parsed.subgraphs[0]
    inputs = {t.tensorIndex: t.name.decode() for t in signature.inputs}
    outputs = {t.tensorIndex: t.name.decode() for t in signature.outputs}
    return [inputs[i] for i in subgraph.inputs], [outputs[i] for i in subgraph.outputs]


def convert_one(source, mode: str, args: argparse.Namespace, calibration, validation) -> Path:
    from camfx.convert import quantize, validate
    from camfx.tflite import metadata

    started = time.perf_counter()
    float_ops = [op for op in args.float_ops.split(",") if op] if mode == "int8" else []
    model = quantize.convert(source, mode, calibration, args.allow_float_ops, float_ops)
    seconds = time.perf_counter() - started
    if args.metadata:
        model = write_metadata(model, source, args)
    out = args.out if args.quantize != "all" else args.out.with_name(
        f"{args.out.stem}_{mode}{args.out.suffix}"
    )
    out.write_bytes(model)
    print(f"{out}: {mode}, {len(model) / 1e6:.2f} MB, converted in {seconds:.1f} s")
    if args.metadata:
        info = metadata.read_metadata(out)
        print(f"  metadata: {info}")
    if args.validate:
        samples = validation() if validation else validate.random_samples(source)
        report = validate.compare(source, model, samples, args.task)
        print("\n".join("  " + line for line in report.lines()))
        limits = {k: v for k, v in (("max_error", args.max_error), ("min_psnr", args.min_psnr),
                                    ("min_iou", args.min_iou)) if v is not None}
        validate.check(report, mode, limits)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        print("convert: TensorFlow is not installed: pip install -e '.[convert]'",
              file=sys.stderr)
        return 2
    from camfx.convert import quantize, sources, validate

    if not args.out.parent.is_dir():
        print(f"convert: output folder {args.out.parent} does not exist", file=sys.stderr)
        return 2
    modes = quantize.MODES if args.quantize == "all" else (args.quantize,)
    try:
        source = load_source(args)
        print(f"{source.description}: inputs "
              + ", ".join(f"{s.name} {s.shape.as_list()}" for s in source.inputs))
        calibration = (
            dataset_for(source, args, args.representative, args.count)
            if "int8" in modes else None
        )
        validation = dataset_for(source, args, args.validation or args.representative, 8)
        for mode in modes:
            convert_one(source, mode, args, calibration, validation)
    except (sources.SourceError, quantize.QuantizeError, OSError) as exc:
        print(f"convert: {exc}", file=sys.stderr)
        return 2
    except validate.ValidationError as exc:
        print(f"convert: validation failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
