#!/usr/bin/env bash
# The C ABI from a C compiler's point of view: compiles rust/capi/examples/c/classify.c and
# tests/capi/error_paths.c against rust/capi/include/visual_ccc.h and libvisual_ccc_c.so,
# checks that the example gets the same class and probabilities as `visual-ccc classify`
# on the same image, and that the error paths give codes and messages, not crashes.
# Usage: bash tests/capi/run_c_api_test.sh   (builds into ${CARGO_TARGET_DIR:-target}/debug)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --quiet --locked -p visual-ccc-capi -p visual-ccc-cli
target="$(cd "${CARGO_TARGET_DIR:-target}/debug" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/build/onnxruntime/linux-x86_64/libonnxruntime.so.1.22.1}"
for program in rust/capi/examples/c/classify.c tests/capi/error_paths.c; do
    cc -std=c99 -Wall -Wextra -Werror -I rust/capi/include "$program" -L "$target" -lvisual_ccc_c \
        -Wl,-rpath,"$target" -o "$work/$(basename "$program" .c)"
done
"$target/visual-ccc" synth --class dendrite --seed 5 --width 300 --height 220 --out "$work/sample.png" >/dev/null
python3 tests/capi/png_to_pgm.py "$work/sample.png" "$work/sample.pgm"
"$work/classify" "$work/sample.pgm" >"$work/c.json"
"$target/visual-ccc" classify "$work/sample.png" >"$work/cli.json"
python3 - "$work/c.json" "$work/cli.json" <<'PY'
import json, sys
c, cli = (json.load(open(p)) for p in sys.argv[1:3])
assert c["class"] == cli["class"], (c, cli)
for name, p in cli["probabilities"].items():
    assert abs(c["probabilities"][name] - p) < 1e-5, (name, c["probabilities"][name], p)
assert 0.0 < c["cluster_1_fraction"] < 1.0, c
print(f"c-api: the C example agrees with visual-ccc classify: {c['class']} {c['probabilities']}")
PY
"$work/error_paths"
echo "c-api: PASS"
