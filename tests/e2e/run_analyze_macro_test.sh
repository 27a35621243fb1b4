#!/usr/bin/env bash
# End-to-end test of Analyze Micrograph... in real ImageJ 1.x under Xvfb: one macro runs
# the whole workflow on a calibrated generated micrograph; the summary table, the six
# result images and the montage are checked.
#
#   tests/e2e/run_analyze_macro_test.sh [PLUGIN_JAR] [IJ_JAR]
#
# Needs target/debug/visual-ccc (cargo build -p visual-ccc-cli) to generate the image.
set -euo pipefail

E2E_NAME=e2e-analyze
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_cli
"${SYNTH}" synth --class spheroid --seed 5 --width 320 --height 240 --out "${WORK}/sample.tif" >/dev/null

cat >"${WORK}/analyze.ijm" <<EOM
setBatchMode(true);
open("${WORK}/sample.tif");
run("Set Scale...", "distance=4 known=1 unit=um");
run("Analyze Micrograph...", "model=[fixture-tiny (untrained test fixture)] k=3 target_cluster=2 heatmap_opacity=40 show_montage");
print("montage=" + getTitle() + " " + getWidth() + "x" + getHeight() + " " + bitDepth());
titles = "";
for (i = 1; i <= nImages; i++) { selectImage(i); titles = titles + getTitle() + ";"; }
print("images=" + titles);
Table.save("${OUT}/analysis.csv", "Visual-CCC Analysis");
print("E2E-ANALYZE-DONE");
EOM
run_macro analyze E2E-ANALYZE-DONE
grep -q "^montage=sample-summary 960x" "${WORK}/analyze.log" || die "no montage in front"
grep -q "^images=sample.tif;sample-CAM;sample-otsu;sample-texture;sample-clusters;sample-cluster2-mask;sample-summary;" \
    "${WORK}/analyze.log" || die "wrong result images"
# The same image through `visual-ccc analyze` and `visual-ccc batch` (the core's recipe).
FIXTURE="${REPO_ROOT}/tests/fixtures/models/fixture-tiny.onnx"
"${SYNTH}" analyze "${WORK}/sample.tif" --model "${FIXTURE}" --k 3 --out-dir "${WORK}/cli-analyze" \
    >"${WORK}/cli-analyze.json" 2>/dev/null || die "visual-ccc analyze failed"
mkdir -p "${WORK}/batch-in" && cp "${WORK}/sample.tif" "${WORK}/batch-in/"
"${SYNTH}" batch "${WORK}/batch-in" --out "${WORK}/cli-batch" --model "${FIXTURE}" --k 3 \
    >/dev/null 2>&1 || die "visual-ccc batch failed"
python3 - "${OUT}/analysis.csv" "${WORK}/cli-analyze.json" "${WORK}/cli-batch/visual-ccc-summary.csv" <<'PY'
import csv
import json
import sys

rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
if len(rows) != 1:
    sys.exit(f"e2e-analyze: FAIL: {len(rows)} summary rows")
r = rows[0]
fraction, area = float(r["Target fraction"]), float(r["Target area"])
if not 0 < fraction < 1 or abs(area - fraction * 320 * 240 / 16) > 1e-3 * area:
    sys.exit(f"e2e-analyze: FAIL: target fraction {fraction} / area {area} (um^2) inconsistent")
if not r["Area unit"].endswith("m^2") or not r["Class"] or float(r["Texture contrast"]) <= 0:
    sys.exit(f"e2e-analyze: FAIL: row {r}")
print(f"e2e-analyze: class {r['Class']}, target fraction {fraction}, area {area} {r['Area unit']}")
cli = json.load(open(sys.argv[2]))
batch = list(csv.DictReader(open(sys.argv[3], newline="", encoding="utf-8")))[0]
numbers = {
    "Fiji Analyze Micrograph": (r["Class"], fraction, float(r["Texture contrast"])),
    "visual-ccc analyze": (
        cli["classification"]["class"],
        cli["clustering"]["target_cluster"]["area_fraction"],
        next(f["value"] for f in cli["texture"]["image_features"] if f["feature"] == "contrast"),
    ),
    "visual-ccc batch": (batch["Class"], float(batch["Fraction cluster 2"]), float(batch["contrast"])),
}
classes = {c for c, _, _ in numbers.values()}
for index, name in ((1, "target fraction"), (2, "texture contrast")):
    values = [v[index] for v in numbers.values()]
    if max(values) - min(values) > 1e-5 * max(1.0, abs(max(values))):
        sys.exit(f"e2e-analyze: FAIL: the three front ends disagree on the {name}: {numbers}")
if len(classes) != 1:
    sys.exit(f"e2e-analyze: FAIL: the three front ends disagree on the class: {numbers}")
otsu = float(r["Otsu threshold"]), cli["otsu"]["thresholds"][0]
if abs(otsu[0] - otsu[1]) > 1e-6:
    sys.exit(f"e2e-analyze: FAIL: Otsu thresholds differ: Fiji {otsu[0]}, CLI {otsu[1]}")
print(f"e2e-analyze: Fiji, CLI analyze and CLI batch agree (one pipeline): {numbers}, Otsu {otsu}")
PY
ok=1
echo "e2e-analyze: PASS"
