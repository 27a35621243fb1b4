#!/usr/bin/env bash
# Benchmarks of `visual-ccc train` (docs/benchmarks.md, "Training a classifier"):
#   1. time per stage on 35 synthetic images of 1400×1100 (1.54 MP, 3 classes) and on
#      1000 synthetic images of 640×480;
#   2. accuracy on real UHCS steel micrographs (../shared/data/uhcs, skipped when absent):
#      train on the first 5 images (by name) of each class, classify the other 463.
#
#   bash scripts/bench-train.sh [EXTRA TRAIN OPTIONS...]     (e.g. --tile-size 128)
#
# Needs a release build: cargo build --release -p visual-ccc-cli.
set -euo pipefail
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
BIN="${CARGO_TARGET_DIR:-${REPO_ROOT}/target}/release/visual-ccc"
[[ -x "${BIN}" ]] || { echo "bench-train: build first: cargo build --release -p visual-ccc-cli" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf -- "${WORK}"' EXIT

synth_set() { # DIR WIDTH HEIGHT COUNTS...
    local dir="$1" width="$2" height="$3" i=0
    shift 3
    for class in dendrite lamellar spheroid; do
        i=$((i + 1))
        "${BIN}" synth --class "${class}" --count "${!i}" --seed 100 --width "${width}" --height "${height}" \
            --out "${dir}/${class}/" >/dev/null
    done
}
summary='import json, sys
r = json.loads(sys.stdin.read())
cv = r["cross_validation"] or {}
print("  images", r["image_counts"], "tiles", r["tiles"], "cv accuracy", cv.get("accuracy"),
      "seconds", {k: round(v, 2) for k, v in r["seconds"].items()})'

synth_set "${WORK}/35" 1400 1100 12 12 11
synth_set "${WORK}/1000" 640 480 334 333 333
for set in 35 1000; do
    echo "bench-train: ${set} images, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "  wall %e s, user %U s, system %S s, max RSS %M KB" \
        "${BIN}" train "${WORK}/${set}" --out "${WORK}/${set}.onnx" "$@" 2>"${WORK}/time" | python3 -c "${summary}"
    tail -1 "${WORK}/time"
done

UHCS="${REPO_ROOT}/../shared/data/uhcs"
if [[ ! -d "${UHCS}" ]]; then
    echo "bench-train: ${UHCS} is absent, skipping the UHCS accuracy"
    exit 0
fi
: >"${WORK}/held-out.txt"
for class in carbide_network pearlite spheroidite; do
    mkdir -p "${WORK}/uhcs/${class}"
    ls "${UHCS}/${class}" | sort | head -5 | while read -r f; do ln -s "${UHCS}/${class}/${f}" "${WORK}/uhcs/${class}/${f}"; done
    ls "${UHCS}/${class}" | sort | tail -n +6 | sed "s|^|${UHCS}/${class}/|" >>"${WORK}/held-out.txt"
done
"${BIN}" train "${WORK}/uhcs" --out "${WORK}/uhcs5.onnx" "$@" | python3 -c "${summary}"
xargs "${BIN}" classify --model "${WORK}/uhcs5.onnx" <"${WORK}/held-out.txt" | python3 -c '
import collections, json, sys
total, right = collections.Counter(), collections.Counter()
for line in sys.stdin:
    r = json.loads(line)
    truth = r["file"].split("/")[-2]
    total[truth] += 1
    right[truth] += r.get("class") == truth
print("  UHCS held-out: accuracy %.3f (%d/%d);" % (sum(right.values()) / sum(total.values()), sum(right.values()),
      sum(total.values())), ", ".join("%s %d/%d" % (c, right[c], total[c]) for c in sorted(total)))'
