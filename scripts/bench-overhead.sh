#!/usr/bin/env bash
# Wrapper overhead of one 256×256 classification + CAM, side by side with a bare ONNX
# Runtime session.run of the same model (tests/fixtures/models/bench-cnn.onnx, the
# published architecture, 1.85 GFLOP) on the same number of threads:
#   in-process   Rust core classify + CAM        vs bare session.run (same process)
#   Java API     Model.classify via JNI          vs bare session.run (in-process figure)
#   CLI          `visual-ccc classify` over N files, whole process
#                                                vs a bare process running N session.run
# Usage: scripts/bench-overhead.sh [ITERATIONS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-100}"
threads="${2:-2}"
model=tests/fixtures/models/bench-cnn.onnx

cargo build --release --quiet -p visual-ccc-cli -p visual-ccc-core --example overhead
gradle --offline --quiet jar testClasses 2>/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
./target/release/visual-ccc synth --class grains --seed 1 --width 256 --count "$iterations" --out "$work/images" >/dev/null

echo "== in process (Rust), $iterations iterations, $threads threads"
./target/release/examples/overhead "$model" "$iterations" "$threads" | tee "$work/rust.txt"
bare_ms=$(awk '/bare session.run/ {print $3}' "$work/rust.txt")

echo "== Java API"
java -cp "build/classes/java/test:build/libs/Visual_CCC.jar:/usr/share/java/ij.jar" \
    -Dvisualccc.cache.dir="$work/cache" \
    org.visualccc.ClassifyBenchmark "$model" "$iterations" "$threads" | tee "$work/java.txt"
java_ms=$(awk '/java_ms/ {print $2}' "$work/java.txt")

echo "== whole processes over $iterations images"
seconds() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    python3 -c "print(($end - $start) / 1e9)"
}
# Alternate the two processes three times and keep each one's fastest run.
cli_s=1e9
bare_s=1e9
for _ in 1 2 3; do
    t=$(seconds ./target/release/visual-ccc classify --mode center-crop --threads "$threads" --model "$model" \
        --heatmap-dir "$work/heatmaps" "$work"/images/*.png 2>/dev/null)
    cli_s=$(python3 -c "print(min($cli_s, $t))")
    t=$(seconds ./target/release/examples/overhead --bare-only "$model" "$iterations" "$threads")
    bare_s=$(python3 -c "print(min($bare_s, $t))")
done

python3 - "$bare_ms" "$java_ms" "$cli_s" "$bare_s" "$iterations" <<'PY'
import sys
bare_ms, java_ms, cli_s, bare_s, n = map(float, sys.argv[1:])
print()
print("| path | time per image | bare ORT | overhead |")
print("| --- | --- | --- | --- |")
print(f"| Java API `Model.classify` + CAM (JNI) | {java_ms:.2f} ms | {bare_ms:.2f} ms | {100 * (java_ms / bare_ms - 1):+.1f} % |")
print(f"| CLI `classify --heatmap-dir`, {int(n)} files, whole process | {1e3 * cli_s / n:.2f} ms | {1e3 * bare_s / n:.2f} ms | {100 * (cli_s / bare_s - 1):+.1f} % |")
PY
