#!/usr/bin/env bash
# Peak memory (maximum resident set size) of whole-image classification of a large
# 8-bit image, measured with /usr/bin/time -v on the release CLI.
#
# Writes a SIDE×SIDE uncompressed 8-bit grey TIFF (one strip, as ImageJ saves it; a
# synthetic texture, SIDE² bytes on disk) to a temporary folder, then runs
#   visual-ccc classify --mode whole   --heatmap-dir ...  (streams rows; stitched CAM)
#   visual-ccc classify --mode center-crop                (decodes the whole file)
# Usage: scripts/measure-whole-image-memory.sh [SIDE] [MODEL] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
side="${1:-20000}"
model="${2:-tests/fixtures/models/bench-cnn.onnx}"
threads="${3:-2}"
cli=./target/release/visual-ccc
if [[ -z "${SKIP_BUILD:-}" ]]; then
    cargo build --release --quiet -p visual-ccc-cli
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$side" "$work/large.tif" <<'PY'
import struct, sys
import numpy as np

side, path = int(sys.argv[1]), sys.argv[2]
tags = [  # (tag, type, count, value): one uncompressed strip of 8-bit grey
    (256, 4, 1, side), (257, 4, 1, side), (258, 3, 1, 8), (259, 3, 1, 1),
    (262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, side),
    (279, 4, 1, side * side),
]
data_offset = 8 + 2 + 12 * len(tags) + 4
tags[5] = (273, 4, 1, data_offset)
with open(path, "wb") as f:
    f.write(b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", len(tags)))
    for tag, kind, count, value in tags:
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
        f.write(struct.pack("<HHI", tag, kind, count) + packed)
    f.write(struct.pack("<I", 0))
    x = np.arange(side, dtype=np.int64)
    for y0 in range(0, side, 500):
        y = np.arange(y0, min(y0 + 500, side), dtype=np.int64)[:, None]
        f.write(((x * 7 + y * 13 + (x * y) % 31) % 256).astype(np.uint8).tobytes())
PY
echo "image: ${side}x${side} 8-bit, $(du -h "$work/large.tif" | cut -f1) on disk; model $model; $threads threads"

measure() {
    local label="$1"
    shift
    /usr/bin/time -v "$@" >"$work/out.json" 2>"$work/time.txt"
    local rss elapsed
    rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
    elapsed=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$work/time.txt")
    echo "$label: peak RSS $((rss / 1024)) MiB, wall $elapsed"
    head -c 400 "$work/out.json"
    echo
}
measure "whole image + stitched CAM" "$cli" classify --threads "$threads" --model "$model" \
    --heatmap-dir "$work/maps" "$work/large.tif"
ls -l "$work/maps"
measure "center-crop (decodes the whole file)" "$cli" classify --mode center-crop --max-pixels $((side * side)) \
    --threads "$threads" --model "$model" "$work/large.tif"
