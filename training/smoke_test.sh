#!/usr/bin/env bash
# CI smoke test of the training pipelines: one tiny epoch on six synthetic images, exported
# to ONNX, fine-tuned from that export and loaded by the Rust CLI; and 20 steps of the foreground network on synthetic
# discs, exported and checked against PyTorch with ONNX Runtime. Skips (exit 0) when
# PyTorch is not installed.
# Usage: bash training/smoke_test.sh [path/to/visual-ccc]   (default target/debug/visual-ccc)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${1:-target/debug/visual-ccc}"
if ! python3 -c 'import torch, onnx, onnxruntime, cv2, sklearn' 2>/dev/null; then
    echo "SKIP training smoke test: PyTorch/onnx/onnxruntime/opencv/scikit-learn not importable (training/requirements.txt)"
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 training/train.py --smoke --synth-bin "$bin" --out "$work/smoke.onnx" >"$work/train.log" 2>&1 \
    || { cat "$work/train.log"; exit 1; }
# fine-tuning from the export, with the relief augmentation and distillation switched on
python3 training/train.py --smoke --synth-bin "$bin" --init "$work/smoke.onnx" --distill 1 --relief-prob 0.5 \
    --cv-folds 0 --out "$work/tuned.onnx" >"$work/tune.log" 2>&1 || { cat "$work/tune.log"; exit 1; }
"$bin" synth --class dendrite --seed 5 --width 96 --height 96 --out "$work/probe.png" >/dev/null
out="$("$bin" classify --model "$work/tuned.onnx" --heatmap-dir "$work/cam" "$work/probe.png" 2>/dev/null)"
grep -q '"class":' <<<"$out" || { echo "classify failed: $out"; exit 1; }
test -f "$work/cam/probe-cam.tif" || { echo "no CAM written: $out"; exit 1; }
python3 training/train_foreground.py --smoke --steps 20 --out "$work/foreground.onnx" >"$work/fg.log" 2>&1 \
    || { cat "$work/fg.log"; exit 1; }
grep -q 'ONNX vs PyTorch' "$work/fg.log" || { cat "$work/fg.log"; exit 1; }
echo "training smoke test passed (export -> fine-tune -> visual-ccc classify with CAM; foreground export)"
