#!/usr/bin/env bash
# End-to-end test of Train Classifier... in real ImageJ 1.x under Xvfb: a batch-mode
# macro trains on a folder of generated micrographs (one subfolder per class), then on
# ROIs named class:<name> over a mosaic of the three classes, and classifies held-out
# images with Classify Morphology... choosing the new model by name from the models folder.
#
#   tests/e2e/run_train_macro_test.sh [PLUGIN_JAR] [IJ_JAR]
#
# Needs target/debug/visual-ccc (cargo build -p visual-ccc-cli) to generate the images.
set -euo pipefail

E2E_NAME=e2e-train
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_cli

IN="${WORK}/labelled"
MODELS="${IJ_HOME}/models/visual-ccc"
mkdir -p "${MODELS}"
for class in dendrite lamellar spheroid; do
    "${SYNTH}" synth --class "${class}" --seed 1 --count 3 --width 400 --out "${IN}/${class}/" >/dev/null
    "${SYNTH}" synth --class "${class}" --seed 50 --width 400 --out "${WORK}/held-out-${class}.png" >/dev/null
done

cat >"${WORK}/train.ijm" <<EOM
setBatchMode(true);
run("Train Classifier...", "source=folder folder=[${IN}] separator=_ model=morphology model_file=[] model_name=synthetic models_folder=[${MODELS}] seed=0 tile_size=0");
Table.save("${OUT}/folder.csv", "Visual-CCC Training");
print("E2E-FOLDER-DONE");

// ROI mode: the three held-out classes side by side, two ROIs per class.
newImage("mosaic", "8-bit black", 1200, 400, 1);
classes = newArray("dendrite", "lamellar", "spheroid");
for (i = 0; i < 3; i++) {
    open("${IN}/" + classes[i] + "/" + classes[i] + "_2.png");
    run("Select All");
    run("Copy");
    close();
    selectImage("mosaic");
    makeRectangle(400 * i, 0, 400, 400);
    run("Paste");
}
run("Select None");
roiManager("reset");
for (i = 0; i < 3; i++) {
    for (half = 0; half < 2; half++) {
        makeRectangle(400 * i, 200 * half, 400, 200);
        roiManager("add");
        roiManager("select", roiManager("count") - 1);
        roiManager("rename", "class:" + classes[i]);
    }
}
run("Select None");
Table.reset("Visual-CCC Training");
run("Train Classifier...", "source=[ROI Manager] folder=[] separator=_ model=morphology model_file=[] model_name=from-rois models_folder=[${MODELS}] seed=0 tile_size=128 augment");
Table.save("${OUT}/rois.csv", "Visual-CCC Training");
print("E2E-ROIS-DONE");

for (i = 0; i < 3; i++) {
    open("${WORK}/held-out-" + classes[i] + ".png");
    run("Classify Morphology...", "model=synthetic.onnx heatmap_opacity=40");
    close();
}
Table.save("${OUT}/classified.csv", "Visual-CCC Classification");
print("E2E-TRAIN-DONE");
EOM
run_macro train E2E-TRAIN-DONE
grep -q "Visual-CCC: trained .*synthetic.onnx on 9 images of 3 classes; cross-validated accuracy" \
    "${WORK}/train.log" || die "folder training not logged"
grep -q "Visual-CCC: trained .*from-rois.onnx on 6 images of 3 classes" "${WORK}/train.log" \
    || die "ROI training not logged"
for f in synthetic.onnx synthetic.md from-rois.onnx from-rois.md; do
    [[ -s "${MODELS}/${f}" ]] || die "${f} not saved into the models folder"
done

python3 - "${OUT}" <<'PY'
import csv
import os
import sys

out = sys.argv[1]
def rows(name):
    with open(os.path.join(out, name), newline="") as f:
        return list(csv.DictReader(f))
folder = rows("folder.csv")
if [r["Class"] for r in folder] != ["dendrite", "lamellar", "spheroid"] or any(r["Images"] != "3" for r in folder):
    sys.exit(f"e2e-train: FAIL: folder table {folder}")
if "Predicted_spheroid" not in folder[0]:
    sys.exit("e2e-train: FAIL: no confusion matrix columns")
rois = rows("rois.csv")
if [r["Images"] for r in rois] != ["2", "2", "2"]:
    sys.exit(f"e2e-train: FAIL: ROI table {rois}")
classified = rows("classified.csv")
got = [(r["Image"], r["Class"]) for r in classified]
expected = [(f"held-out-{c}.png", c) for c in ("dendrite", "lamellar", "spheroid")]
if got != expected:
    sys.exit(f"e2e-train: FAIL: held-out classes {got}, expected {expected}")
print(f"e2e-train: folder CV accuracy {folder[0]['CV_accuracy']}, held-out classified: {got}")
PY

ok=1
echo "e2e-train: PASS"
