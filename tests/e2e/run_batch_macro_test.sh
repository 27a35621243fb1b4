#!/usr/bin/env bash
# End-to-end test of Batch Process Folder... in real ImageJ 1.x under Xvfb: a headless
# macro (no image open) runs the command twice on a folder of generated micrographs plus
# one corrupt file. The first run must write one summary row, one heat map and one label
# image per image and report the corrupt file; the second must find everything done; and
# `visual-ccc batch` with the same settings must write the same summary and skipped list.
#
#   tests/e2e/run_batch_macro_test.sh [PLUGIN_JAR] [IJ_JAR]
#
# Needs target/debug/visual-ccc (cargo build -p visual-ccc-cli) to generate the images.
set -euo pipefail

E2E_NAME=e2e-batch
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_cli

IN="${WORK}/in"
mkdir -p "${IN}/nested"
"${SYNTH}" synth --class spheroid --seed 1 --count 3 --width 128 --height 96 --out "${IN}/" >/dev/null
"${SYNTH}" synth --class dendrite --seed 4 --count 2 --width 128 --height 96 --format tiff --out "${IN}/nested/" >/dev/null
head -c 3000 /dev/urandom >"${IN}/broken.png"

cat >"${WORK}/batch.ijm" <<EOM
setBatchMode(true);
options = "input=[${IN}] output=[${OUT}/batch out] recursive file_pattern=[*.{png,tif}] model=[fixture-tiny (untrained test fixture)] k=3 save_heatmaps save_label_images";
run("Batch Process Folder...", options);
print("E2E-FIRST-RUN-DONE");
run("Batch Process Folder...", options);
print("E2E-BATCH-DONE");
EOM
run_macro batch E2E-BATCH-DONE
grep -q "Visual-CCC batch: skipped broken.png: " "${WORK}/batch.log" || die "the corrupt file was not reported"
grep -q "Visual-CCC batch: 6 found, 5 processed, 0 already done, 1 skipped" "${WORK}/batch.log" \
    || die "first run: wrong totals"
grep -q "Visual-CCC batch: 6 found, 0 processed, 5 already done, 1 skipped" "${WORK}/batch.log" \
    || die "second run did work again"

python3 - "${OUT}/batch out" <<'PY'
import csv
import os
import sys

out = sys.argv[1]
with open(os.path.join(out, "visual-ccc-summary.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
names = sorted(r["File"] for r in rows)
expected = ["nested/dendrite_4.tif", "nested/dendrite_5.tif", "spheroid_1.png", "spheroid_2.png", "spheroid_3.png"]
if names != expected:
    sys.exit(f"e2e-batch: FAIL: rows {names}, expected {expected}")
for r in rows:
    fractions = sum(float(r[f"Fraction cluster {c}"]) for c in range(3))
    if abs(fractions - 1) > 1e-4:
        sys.exit(f"e2e-batch: FAIL: cluster fractions of {r['File']} sum to {fractions}")
    for column in ("Heatmap", "Labels"):
        if not os.path.isfile(os.path.join(out, r[column])):
            sys.exit(f"e2e-batch: FAIL: {column} output {r[column]} missing")
    if not r["Class"] or "contrast" not in r:
        sys.exit(f"e2e-batch: FAIL: row lacks class or texture: {r}")
with open(os.path.join(out, "visual-ccc-skipped.csv"), newline="") as f:
    skipped = list(csv.DictReader(f))
if [s["File"] for s in skipped] != ["broken.png"]:
    sys.exit(f"e2e-batch: FAIL: skipped list {skipped}")
print(f"e2e-batch: {len(rows)} rows, outputs present, skipped: {skipped[0]['Reason']}")
PY

# The command line runs the same engine: the same folder and settings give the same rows.
status=0
"${SYNTH}" batch "${IN}" --out "${OUT}/cli out" --recursive --pattern '*.{png,tif}' \
    --model "${REPO_ROOT}/tests/fixtures/models/fixture-tiny.onnx" --k 3 --save-heatmaps --save-labels \
    >"${WORK}/cli.json" 2>"${WORK}/cli.err" || status=$?
[[ ${status} -eq 1 ]] || die "the CLI exited with ${status}, not 1 (one file skipped): $(cat "${WORK}/cli.err")"
for table in visual-ccc-summary.csv visual-ccc-skipped.csv; do
    cmp "${OUT}/batch out/${table}" "${OUT}/cli out/${table}" \
        || die "Fiji's ${table} differs from the CLI's: $(diff "${OUT}/batch out/${table}" "${OUT}/cli out/${table}" | head)"
done
echo "e2e-batch: Fiji's summary and skipped list equal the CLI's"

ok=1
echo "e2e-batch: PASS"
