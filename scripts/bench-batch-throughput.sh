#!/usr/bin/env bash
# Throughput of `visual-ccc batch` with the default --jobs against the compute bound:
#
#   bash scripts/bench-batch-throughput.sh [COUNT] [WIDTH] [HEIGHT]   (default 8 images, 1500 x 1000 = 1.5 MP)
#
# 1. `--jobs 1` run: CPU seconds per image (user + system of the process, every stage:
#    decode, classify + CAM, Otsu, texture, clustering, writing), and its wall time;
# 2. default `--jobs` run on the same images: images per second;
# compute bound = cores / (CPU seconds per image); efficiency = measured rate / bound.
# Also prints the load average, since other processes on the machine lower the ratio.
# Needs target/release/visual-ccc (cargo build --release -p visual-ccc-cli).
set -euo pipefail
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
COUNT="${1:-8}"
WIDTH="${2:-1500}"
HEIGHT="${3:-1000}"
BIN="${VISUAL_CCC:-${REPO_ROOT}/target/release/visual-ccc}"
[[ -x "${BIN}" ]] || { echo "${BIN} not built (cargo build --release -p visual-ccc-cli)" >&2; exit 2; }
MODEL="${MODEL:-${REPO_ROOT}/models/morphology.onnx}"
WORK="$(mktemp -d)"
trap 'rm -rf -- "${WORK}"' EXIT
half=$((COUNT / 2))
"${BIN}" synth --class spheroid --seed 1 --count "$half" --width "$WIDTH" --height "$HEIGHT" --out "${WORK}/in/" >/dev/null
"${BIN}" synth --class dendrite --seed 1 --count "$((COUNT - half))" --width "$WIDTH" --height "$HEIGHT" --out "${WORK}/in/" >/dev/null
cores=$(nproc)

# Runs batch with "$@", prints "wall_s cpu_s".
run() {
    local out=$1
    shift
    /usr/bin/time -f "%e %U %S" -o "${WORK}/time" "${BIN}" batch "${WORK}/in" --out "$out" \
        --model "${MODEL}" --save-labels "$@" >"${out}.json" 2>/dev/null
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "${WORK}/time"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r wall1 cpu1 < <(run "${WORK}/one" --jobs 1)
read -r wallj cpuj < <(run "${WORK}/default")
jobs=$(sed -E 's/.*"jobs":([0-9]+).*/\1/' "${WORK}/default.json")
cmp -s "${WORK}/one/visual-ccc-summary.csv" "${WORK}/default/visual-ccc-summary.csv" \
    || { echo "the two runs' summaries differ" >&2; exit 1; }
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v n="$COUNT" -v c="$cores" -v w1="$wall1" -v c1="$cpu1" -v wj="$wallj" -v cj="$cpuj" -v j="$jobs" \
    -v size="${WIDTH}x${HEIGHT}" 'BEGIN {
    cpu_per_image = c1 / n
    bound = c / cpu_per_image
    rate = n / wj
    printf "| images | size | cores | CPU s/image (--jobs 1) | --jobs 1: images/s | compute bound (cores / CPU s) | default --jobs %d: images/s | efficiency |\n", j
    printf "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    printf "| %d | %s | %d | %.2f | %.3f | %.3f | %.3f | %.0f %% |\n", n, size, c, cpu_per_image, n / w1, bound, rate, 100 * rate / bound
    printf "CPU s of the default run: %.2f (%.2f per image)\n", cj, cj / n
}'
