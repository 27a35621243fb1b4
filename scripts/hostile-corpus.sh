#!/usr/bin/env bash
# Runs the CLI over the full-size adversarial corpus (not in the repository: written by
# tests/fixtures/hostile/make_hostile.py --big) and checks each row of the table in
# docs/reliability.md: exit 1 or 2 (no signal), no panic text, nothing left in the
# output folder or the temp folder, peak RSS under the bound.
#
#   bash scripts/hostile-corpus.sh [BINARY] [CORPUS_DIR]
#
# BINARY defaults to target/debug/visual-ccc; CORPUS_DIR is generated when absent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${1:-target/debug/visual-ccc}"
corpus="${2:-}"
bound_kib=$((1024 * 1024)) # 1 GiB
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if [[ -z "$corpus" ]]; then
  corpus="$scratch/corpus"
fi
# A corpus folder that lacks the inputs would make every row "fail cleanly" for the wrong
# reason (file not found): make it first.
if [[ ! -f "$corpus/huge-40000.png" ]]; then
  python3 tests/fixtures/hostile/make_hostile.py --big "$corpus" >/dev/null
fi
model=tests/fixtures/models/fixture-tiny.onnx
hostile=tests/fixtures/hostile
libz="$(ls /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1 2>/dev/null | head -1 || true)"
failures=0

row() { # row NAME ARGS... (output goes under $scratch/out)
  local name="$1"
  shift
  rm -rf "$scratch/out" "$scratch/tmp"
  mkdir -p "$scratch/tmp"
  local code=0
  TMPDIR="$scratch/tmp" /usr/bin/time -f '%M' -o "$scratch/rss" "$bin" "$@" >"$scratch/stdout" 2>"$scratch/stderr" || code=$?
  local rss seconds left message
  rss="$(tail -1 "$scratch/rss")"
  left="$( (find "$scratch/out" "$scratch/tmp" -mindepth 1 2>/dev/null || true) | wc -l)"
  message="$(cat "$scratch/stdout" "$scratch/stderr" | grep -o '"error":"[^"]*"\|visual-ccc [a-z-]*: .*' | head -1 | cut -c1-150)"
  local verdict=ok
  if [[ $code -ne 1 && $code -ne 2 ]]; then verdict="exit $code"; fi
  if grep -q panicked "$scratch/stderr"; then verdict="panic text"; fi
  if [[ $left -ne 0 ]]; then verdict="$left files left"; fi
  if [[ $rss -gt $bound_kib ]]; then verdict="RSS $rss KiB"; fi
  [[ $verdict == ok ]] || failures=$((failures + 1))
  printf '%-34s exit %s  peak RSS %6d MiB  %-6s %s\n' "$name" "$code" $((rss / 1024)) "$verdict" "$message"
}

for cmd in classify texture preprocess threshold cluster analyze; do
  for image in "$corpus/huge-40000.png" "$corpus/huge-40000-deflate.tif" "$corpus/half.jpg"; do
    case $cmd in
      classify) args=(classify --model "$model" --heatmap-dir "$scratch/out" "$image") ;;
      texture) args=(texture "$image" --out-dir "$scratch/out") ;;
      preprocess) args=(preprocess "$image" --op median --out "$scratch/out/x.tif") ;;
      threshold) args=(threshold "$image" --out "$scratch/out/x.png") ;;
      cluster) args=(cluster "$image" --k 3 --labels-out "$scratch/out/x.png") ;;
      analyze) args=(analyze "$image" --model "$model" --out-dir "$scratch/out") ;;
    esac
    row "$cmd $(basename "$image")" "${args[@]}"
  done
done
row "classify input_size 999999999" classify --model "$hostile/input-size-huge.onnx" "$hostile/huge-declared.png"
row "classify input_size 100000 (H,W)" classify --model "$hostile/input-size-symbolic.onnx" "$hostile/huge-declared.png"
row "import-model 2 GiB model.onnx" import-model "$corpus/bomb-2gib.zip" --out "$scratch/out"
row "classify ±3e38 (center-crop)" classify --model "$model" --mode center-crop "$corpus/range-3e38.tif"
row "classify ±3e38 (whole)" classify --model "$model" "$corpus/range-3e38.tif"
if [[ -n "$libz" ]]; then
  row "classify --onnxruntime libz" classify --onnxruntime "$libz" --model "$model" "$corpus/range-3e38.tif"
fi
echo "rows failing: $failures"
[[ $failures -eq 0 ]]
