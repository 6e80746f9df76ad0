#!/usr/bin/env bash
# The conversion workflow on a real network, end to end (README, "Convert your own model"):
# rebuild the Magenta transfer network from the published .tflite, convert it in every
# quantization mode at 384x384 and at camfx's 16:9 size 216x384, int8 calibrated on
# webcam-like frames (guitar_320.mp4) x the style pictures, validated on other footage
# (portrait_720.mp4), then benchmark everything against the published models on held-out
# frames and pictures. Needs the convert extra. Usage: scripts/study_magenta_conversion.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-study}
SHARED=${CAMFX_SHARED:-../shared}
MODELS=${CAMFX_MODELS:-$SHARED/models}
export TF_CPP_MIN_LOG_LEVEL=3
mkdir -p "$OUT"

for SIZE in 384x384 216x384; do
  H=${SIZE%x*}; W=${SIZE#*x}
  python scripts/rebuild_magenta_transfer.py --model "$MODELS/style_transfer_f16_384.tflite" \
    --size "$SIZE" --saved-model "$OUT/transfer_${SIZE}_savedmodel"
  common=(--saved-model "$OUT/transfer_${SIZE}_savedmodel" --input-shape "content_image=1,$H,$W,3"
          --representative "$SHARED/media/guitar_320.mp4" --count 64
          --style-pictures "$SHARED/styles" --predict-model "$MODELS/style_predict_quantized_256.tflite"
          --validate --task image --validation "$SHARED/media/portrait_720.mp4")
  python scripts/convert.py "${common[@]}" --quantize all -o "$OUT/transfer_$SIZE.tflite"
  python scripts/convert.py "${common[@]}" --quantize int8 \
    --float-ops RSQRT,SQUARED_DIFFERENCE,MEAN -o "$OUT/transfer_${SIZE}_int8_floatnorm.tflite"
done

published=("$MODELS/style_transfer_f16_384.tflite" "$MODELS/style_transfer_quantized_384.tflite")
for SIZE in 384x384 216x384; do
  extra=(); [ "$SIZE" = 384x384 ] && extra=("${published[@]}")
  python scripts/benchmark_models.py --task image --reference "$OUT/transfer_${SIZE}_none.tflite" \
    "$OUT/transfer_${SIZE}"_{dynamic,float16,int8}.tflite "$OUT/transfer_${SIZE}_int8_floatnorm.tflite" \
    "${extra[@]}" --markdown "$OUT/benchmark_$SIZE.md" --chart "$OUT/benchmark_$SIZE.png" \
    --title "Magenta transfer network $SIZE: converted here vs published"
done
