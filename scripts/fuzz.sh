#!/usr/bin/env bash
# Fuzzes the three hostile-input entry points with cargo-fuzz (libFuzzer), one job each,
# from a seed corpus built from the test fixtures (fuzz/make_seeds.py):
#   decode          image decoding, every format (image::decode::decode_bytes_with)
#   model_load      ONNX bytes + visualccc.* metadata through Model::open
#   package_import  BioImage Model Zoo zip + rdf.yaml through bioimageio::import
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, all three)
#
# FUZZ_SEED=N fixes libFuzzer's random seed (the test command uses 1, so that its short
# run explores the same inputs every time); unset, each run explores anew.
#
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz); skips with a
# message when either is missing. Prints each target's execution count; a crash stops
# with its input under fuzz/artifacts/<target>/ (turn it into a regression test).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(decode model_load package_import)
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: skipped (needs the nightly toolchain and cargo-fuzz: cargo install cargo-fuzz)"
  exit 0
fi
if ! python3 -c 'import numpy, PIL' 2>/dev/null; then
  echo "fuzz: skipped (the seed corpus needs numpy and Pillow: pip install numpy pillow)"
  exit 0
fi
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/build/onnxruntime/linux-x86_64/libonnxruntime.so.1.22.1}"
python3 fuzz/make_seeds.py >/dev/null
# Safe Rust needs no AddressSanitizer; without it the targets run several times faster.
# The instrumented build is kept outside the checkout, so fresh clones (CI) reuse it.
fuzz_flags=(--sanitizer none --release
  --target-dir "${FUZZ_TARGET_DIR:-${VISUAL_CCC_CACHE:-$HOME/.cache/visual-ccc}/fuzz-target}")
cargo +nightly fuzz build "${fuzz_flags[@]}" 2>&1 | grep -v '^\s*Compiling' || true
for target in "${targets[@]}"; do
  log="$(mktemp)"
  # The targets keep a scratch file or folder in the temp folder; give them their own.
  scratch="$(mktemp -d)"
  status=0
  TMPDIR="$scratch" cargo +nightly fuzz run "${fuzz_flags[@]}" "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
    >"$log" 2>&1 || status=$?
  rm -rf "$scratch"
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  echo "fuzz $target: $runs executions in ${seconds} s, exit $status"
  if [[ $status -ne 0 ]]; then
    grep -E 'panicked|ERROR|SUMMARY|artifact' "$log" | head -20
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
done
