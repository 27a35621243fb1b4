#!/usr/bin/env bash
# End-to-end tests of the Fiji conventions, in real ImageJ 1.x under Xvfb:
#  1. Record and replay: tests/e2e/java/RecordReplay.java starts every Visual-CCC command
#     as from the menu with the Macro Recorder on, confirms each dialog with OK, then
#     replays the recorded run(...) lines on a fresh copy of the image; every command's
#     outputs (front image pixels, last table row, batch summary) must be identical.
#  2. A calibrated 16-bit stack with a rectangular selection: Threshold and Cluster give
#     one row per slice, areas in µm^2 that add up to the selection's area, outputs the
#     size of the selection, and one named ROI per cluster and slice in the ROI Manager,
#     positioned on its slice and lying inside the selection. With an oval selection,
#     Threshold counts only the oval's pixels and labels the others 255. A 2-channel x
#     2-slice hyperstack is thresholded by its current channel, then all channels, with
#     Channel, Slice and Frame in every row.
#
#   tests/e2e/run_conventions_test.sh [PLUGIN_JAR] [IJ_JAR]
#
# Needs target/debug/visual-ccc (cargo build -p visual-ccc-cli) and javac.
set -euo pipefail

E2E_NAME=e2e-conventions
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_cli
command -v javac >/dev/null || die "javac is required"

# ------------------------------------------------------------------ 1. record and replay
"${SYNTH}" synth --class spheroid --seed 5 --width 160 --height 120 --out "${WORK}/sample.tif" >/dev/null
mkdir -p "${WORK}/batch-in" "${WORK}/classes"
"${SYNTH}" synth --class grains --seed 1 --count 2 --width 96 --out "${WORK}/batch-in/" >/dev/null
for class in dendrite spheroid; do
    "${SYNTH}" synth --class "${class}" --seed 1 --count 2 --width 160 --out "${WORK}/labelled/${class}/" >/dev/null
done
javac -d "${WORK}/classes" -cp "${IJ_JAR}" "${REPO_ROOT}/tests/e2e/java/RecordReplay.java" || die "javac failed"
echo "e2e-conventions: recording every command with the Macro Recorder, then replaying"
(cd "${IJ_HOME}" && timeout "${TIMEOUT}" xvfb-run -a java -Xmx1g -Duser.home="${WORK}/home" \
    -Dvisualccc.test.package="${REPO_ROOT}/tests/fixtures/bioimageio/tiny-classifier/rdf.yaml" \
    -Dvisualccc.test.labelled="${WORK}/labelled" \
    -Dplugins.dir="${IJ_HOME}" -Dvisualccc.cache.dir="${WORK}/cache" \
    -cp "${IJ_JAR}:${WORK}/classes" RecordReplay "${WORK}/sample.tif" "${WORK}/batch-in" \
    "${WORK}/batch-out" "${OUT}/recorded.ijm") >"${WORK}/record.log" 2>&1 || true
grep -v '^selectWindow\|^run(' "${WORK}/record.log" | sed 's/^/    | /'
grep -q "RECORD-REPLAY-OK" "${WORK}/record.log" || die "recorded macros did not replay to the same outputs"
[[ "$(grep -c '^run(' "${OUT}/recorded.ijm")" == 14 ]] || die "expected 14 recorded commands"

# ------------------------------------------------------------------ 2. calibrated 16-bit stack with an ROI
cat >"${WORK}/stack.ijm" <<EOM
setBatchMode(true);
newImage("stack16", "16-bit ramp", 200, 150, 3);
for (s = 1; s <= 3; s++) { setSlice(s); run("Add Specified Noise...", "slice standard=" + (500 * s)); }
run("Properties...", "channels=1 slices=3 frames=1 pixel_width=0.5 pixel_height=0.25 voxel_depth=1 unit=micron");
makeRectangle(40, 30, 100, 80);
run("Threshold (Otsu / multi-Otsu)...", "classes=2");
print("otsu=" + getTitle() + " " + getWidth() + "x" + getHeight() + "x" + nSlices + " " + bitDepth());
selectImage("stack16");
run("Cluster (k-means)...", "k=3 smoothed_grey sigma=2 variance_radius=3 position_weight=0 feature_image=None seed=42 n_init=4 max_iterations=300 tolerance=1.00E-4 target_cluster=1 add_to_roi_manager");
print("clusters=" + getTitle() + " " + getWidth() + "x" + getHeight() + "x" + nSlices);
selectImage("stack16");
n = roiManager("count");
print("rois=" + n);
for (i = 0; i < n; i++) {
    roiManager("select", i);
    getSelectionBounds(x, y, w, h);
    print("roi=" + Roi.getName + ";" + getSliceNumber() + ";" + x + ";" + y + ";" + w + ";" + h);
}
Table.save("${OUT}/otsu.csv", "Visual-CCC Threshold");
Table.save("${OUT}/clusters.csv", "Visual-CCC Clusters");
selectImage("stack16");
makeOval(40, 30, 100, 80);
getRawStatistics(ovalPixels);
print("ovalpixels=" + ovalPixels);
run("Threshold (Otsu / multi-Otsu)...", "classes=2");
getHistogram(values, counts, 256);
print("ovaloutside=" + counts[255] + " " + getWidth() + "x" + getHeight());
Table.save("${OUT}/otsu-oval.csv", "Visual-CCC Threshold");
newImage("hyper", "8-bit ramp", 64, 48, 2, 2, 1);
for (i = 1; i <= 4; i++) { setSlice(i); run("Add Specified Noise...", "slice standard=" + (10 * i)); }
Stack.setChannel(2);
run("Threshold (Otsu / multi-Otsu)...", "classes=2 channels=current");
print("hypercurrent=" + nSlices);
selectImage("hyper");
run("Threshold (Otsu / multi-Otsu)...", "classes=2 channels=all");
print("hyperall=" + nSlices);
Table.save("${OUT}/otsu-hyper.csv", "Visual-CCC Threshold");
print("E2E-STACK-DONE");
EOM
run_macro stack E2E-STACK-DONE
grep -q "^otsu=stack16-otsu 100x80x3 8" "${WORK}/stack.log" || die "Threshold output is not the selection's size"
grep -q "^clusters=stack16-clusters 100x80x3" "${WORK}/stack.log" || die "Cluster output is not the selection's size"
python3 - "${OUT}" "${WORK}/stack.log" <<'PY'
import csv
import os
import sys

out, log = sys.argv[1], sys.argv[2]


def fail(message):
    sys.exit(f"e2e-conventions: FAIL: {message}")


def rows(name):
    with open(os.path.join(out, name), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


PIXEL_AREA = 0.5 * 0.25
ROI_PIXELS = 100 * 80
otsu = rows("otsu.csv")
oval = rows("otsu-oval.csv")[len(otsu):]
oval_pixels = int(next(line for line in open(log, encoding="utf-8") if line.startswith("ovalpixels="))[11:])
outside = next(line for line in open(log, encoding="utf-8") if line.startswith("ovaloutside=")).split()
if outside != [f"ovaloutside={ROI_PIXELS - oval_pixels}", "100x80"]:
    fail(f"oval selection: {outside}, expected {ROI_PIXELS - oval_pixels} outside pixels labelled 255 in 100x80")
for r in oval:
    pixels = int(float(r["Pixels 0"])) + int(float(r["Pixels 1"]))
    fraction = float(r["Fraction 0"]) + float(r["Fraction 1"])
    if pixels != oval_pixels or abs(fraction - 1) > 1e-6:
        fail(f"oval selection, slice {r['Slice']}: {pixels} pixels (fractions {fraction}), the oval has {oval_pixels}")
if len(oval) != 3:
    fail(f"oval selection: {len(oval)} rows")
hyper = [tuple(int(float(r[c])) for c in ("Channel", "Slice", "Frame"))
         for r in rows("otsu-hyper.csv")[len(otsu) + len(oval):]]
if hyper != [(2, 1, 1), (2, 2, 1), (1, 1, 1), (2, 1, 1), (1, 2, 1), (2, 2, 1)]:
    fail(f"2-channel x 2-slice hyperstack, current channel 2 then all: (channel, slice, frame) rows {hyper}")
if "hypercurrent=2\n" not in open(log, encoding="utf-8").read() or "hyperall=4\n" not in open(log, encoding="utf-8").read():
    fail("hyperstack label images: expected 2 planes for the current channel and 4 for all")
if [int(float(r["Slice"])) for r in otsu] != [1, 2, 3]:
    fail(f"threshold rows per slice: {[r['Slice'] for r in otsu]}")
for r in otsu:
    if r["Area unit"] != "µm^2":
        fail(f"area unit {r['Area unit']!r}")
    pixels = int(float(r["Pixels 0"])) + int(float(r["Pixels 1"]))
    if pixels != ROI_PIXELS:
        fail(f"slice {r['Slice']}: {pixels} pixels analysed, the selection has {ROI_PIXELS}")
    area = float(r["Area 0"]) + float(r["Area 1"])
    if abs(area - ROI_PIXELS * PIXEL_AREA) > 1e-6:
        fail(f"slice {r['Slice']}: areas add up to {area} µm^2, expected {ROI_PIXELS * PIXEL_AREA}")
clusters = rows("clusters.csv")
if len(clusters) != 9 or sorted({int(float(r["Slice"])) for r in clusters}) != [1, 2, 3]:
    fail(f"expected 3 clusters x 3 slices, got {len(clusters)} rows")
for r in clusters:
    if r["Area unit"] != "µm^2" or abs(float(r["Area"]) - int(float(r["Pixels"])) * PIXEL_AREA) > 1e-6:
        fail(f"cluster row {r}")
rois = [line.strip()[4:].split(";") for line in open(log, encoding="utf-8") if line.startswith("roi=")]
if len(rois) != 9:
    fail(f"{len(rois)} ROIs in the ROI Manager, expected 9")
for name, slice_, x, y, w, h in rois:
    slice_, x, y, w, h = map(int, (slice_, x, y, w, h))
    if name != f"cluster {name.split()[1].rstrip(',')}, slice {slice_}":
        fail(f"ROI name {name!r} does not match its slice {slice_}")
    if x < 40 or y < 30 or x + w > 140 or y + h > 110:
        fail(f"ROI {name} at {x},{y} {w}x{h} lies outside the selection")
print(f"e2e-conventions: 16-bit stack: 3 rows per table, areas in µm^2 sum to the selection, {len(rois)} ROIs;"
      f" an oval selection counts its {oval_pixels} pixels only; a 2x2 hyperstack by current channel and all")
PY
ok=1
echo "e2e-conventions: PASS"
