#!/usr/bin/env bash
# End-to-end test of the analysis commands (Preprocess, Threshold, Texture, Cluster, Class
# Activation Map) in real ImageJ 1.x under Xvfb, driven by macros with Macro Recorder-style
# options.
#
#   tests/e2e/run_analysis_macro_test.sh [PLUGIN_JAR] [IJ_JAR]
#
# PLUGIN_JAR defaults to build/libs/Visual_CCC.jar (build it first: gradle --offline jar;
# this script builds nothing), IJ_JAR to /usr/share/java/ij.jar.
#
# Environment:
#   SAMPLE_IMAGE=path   analyse this 8-bit image instead of generating one
#   KEEP_E2E=1          keep the temporary directory (it is always kept on failure)
#   E2E_TIMEOUT=secs    limit for each ImageJ run (default 300)
#
# The sample is SAMPLE_IMAGE, else `target/debug/visual-ccc synth --class spheroid` when
# that binary exists, else an image drawn by an ImageJ macro. One macro calibrates it
# (0.25 um/pixel), runs every command, saves the tables as CSV and the images as TIFF and
# writes what it saw to facts.txt; Python then checks them. Last, bad parameters must be
# logged as Visual-CCC errors that abort the macro without hanging ImageJ.
set -euo pipefail

E2E_NAME=e2e-analysis
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"
SYNTH="${REPO_ROOT}/target/debug/visual-ccc"

# ------------------------------------------------------------------ sample
SAMPLE="${WORK}/sample.tif"
if [[ -n "${SAMPLE_IMAGE:-}" ]]; then
    [[ -f "${SAMPLE_IMAGE}" ]] || die "SAMPLE_IMAGE=${SAMPLE_IMAGE} does not exist"
    cp -- "${SAMPLE_IMAGE}" "${SAMPLE}"
elif [[ -x "${SYNTH}" ]]; then
    echo "e2e-analysis: synthesising a spheroid micrograph"
    "${SYNTH}" synth --class spheroid --seed 5 --width 320 --height 240 --out "${SAMPLE}" >/dev/null \
        || die "visual-ccc synth failed"
else
    echo "e2e-analysis: ${SYNTH} not built; drawing the sample in ImageJ"
    draw_sample "${SAMPLE}" 320 240
fi
[[ -f "${SAMPLE}" ]] || die "no sample image at ${SAMPLE}"

# ------------------------------------------------------------------ all commands
cat >"${WORK}/analyse.ijm" <<EOF
var facts = "";
setBatchMode(true);

open("${SAMPLE}");
run("Set Scale...", "distance=4 known=1 unit=um");
sample = getImageID();
title = getTitle();
if (bitDepth() != 8) stop("the sample must be 8-bit, is " + bitDepth());
before = "" + getPixel(10, 10) + "," + getPixel(100, 100);
fact("width", getWidth());
fact("height", getHeight());

// Preprocess: three operations; the original is never modified.
run("Preprocess...", "operation=Gaussian radius=2 sigma=2 sigma_range=30 tiles=8 clip_limit=2 rolling=50 saturated=0.35 output=[Same as input]");
fact("gaussian_title", getTitle());
fact("gaussian_bits", bitDepth());
getPixelSize(unit, pw, ph);
fact("gaussian_unit", unit);
fact("gaussian_pixel", pw);
saveAs("Tiff", "${OUT}/gaussian.tif");
selectImage(sample);
run("Preprocess...", "operation=CLAHE tiles=4 clip_limit=3 output=32-bit");
fact("clahe_title", getTitle());
fact("clahe_bits", bitDepth());
selectImage(sample);
run("Preprocess...", "operation=[Subtract background] rolling=30 light output=[Same as input]");
fact("background_title", getTitle());
selectImage(sample);
after = "" + getPixel(10, 10) + "," + getPixel(100, 100);
if (after != before) stop("Preprocess changed the original: " + before + " -> " + after);

// Threshold into three classes.
run("Threshold (Otsu / multi-Otsu)...", "classes=3");
if (!isOpen("Visual-CCC Threshold")) stop("no Visual-CCC Threshold table");
Table.save("${OUT}/threshold.csv", "Visual-CCC Threshold");
fact("otsu_title", getTitle());
fact("otsu_bits", bitDepth());
getMinAndMax(lo, hi);
fact("otsu_range", "" + lo + "," + hi);
saveAs("Tiff", "${OUT}/otsu.tif");

// Texture: two features, then the published tool's reference mode.
selectImage(sample);
run("Texture (GLCM)...", "contrast energy window=7 levels=32 distances=1 angles=[0 45 90 135] average_angles symmetric quantization=Auto");
if (!isOpen("Visual-CCC Texture")) stop("no Visual-CCC Texture table");
fact("texture_title", getTitle());
fact("texture_bits", bitDepth());
fact("texture_slices", nSlices);
setSlice(2);
fact("texture_label2", getInfo("slice.label"));
saveAs("Tiff", "${OUT}/texture.tif");
selectImage(sample);
run("Texture (GLCM)...", "reference_mode");
fact("reference_slices", nSlices);
fact("reference_label", getInfo("slice.label"));
Table.save("${OUT}/texture.csv", "Visual-CCC Texture");

// Cluster with the CAM heat map of Classify Morphology as an extra feature.
selectImage(sample);
run("Classify Morphology...", "model=[fixture-tiny (untrained test fixture)] heatmap_opacity=40 show_heatmap_image");
cam = getTitle();
fact("cam_title", cam);
selectImage(sample);
run("Cluster (k-means)...", "k=3 smoothed_grey sigma=2 variance_radius=3 learned_foreground position_weight=0 feature_image=[" + cam + "] seed=42 n_init=4 max_iterations=300 tolerance=1.00E-4 create_mask target_cluster=2");
if (!isOpen("Visual-CCC Clusters")) stop("no Visual-CCC Clusters table");
Table.save("${OUT}/clusters.csv", "Visual-CCC Clusters");
fact("mask_title", getTitle());
saveAs("Tiff", "${OUT}/mask.tif");
selectImage(nImages - 1);
fact("clusters_title", getTitle());
saveAs("Tiff", "${OUT}/clusters.tif");

// Class Activation Map: Score-CAM of a named class as a heat map and an overlay.
selectImage(sample);
run("Class Activation Map...", "model=[fixture-tiny (untrained test fixture)] method=score-cam target_class=spheroid overlay_opacity=30");
if (!isOpen("Visual-CCC Activation Map")) stop("no Visual-CCC Activation Map table");
fact("activation_title", getTitle());
fact("activation_bits", bitDepth());
getPixelSize(unit, pw, ph);
fact("activation_pixel", pw);
getStatistics(area, mean, min, max);
in_unit_range = 0;
if (min >= 0 && max <= 1 && max > 0) in_unit_range = 1;
fact("activation_in_unit_range", in_unit_range);
Table.save("${OUT}/activation.csv", "Visual-CCC Activation Map");
selectImage(sample);
fact("activation_overlay", Overlay.size);

// A two-slice stack adds one threshold row per slice to the table.
rows = Table.size("Visual-CCC Threshold");
newImage("ramp", "8-bit ramp", 64, 48, 2);
run("Threshold (Otsu / multi-Otsu)...", "classes=2");
fact("stack_rows", Table.size("Visual-CCC Threshold") - rows);
fact("stack_last_slice", Table.get("Slice", rows + 1, "Visual-CCC Threshold"));

File.saveString(facts, "${OUT}/facts.txt");
print("E2E-ANALYSIS-DONE");

// Ends the macro with a message on stdout (exit("...") would open a dialog).
function stop(message) {
    print("E2E-FAILED: " + message);
    exit();
}

function fact(key, value) {
    facts = facts + key + "=" + value + "\n";
}
EOF
echo "e2e-analysis: running the analysis commands in ImageJ"
run_macro analyse E2E-ANALYSIS-DONE
grep -q "Visual-CCC Threshold: Otsu thresholds as scikit-image" "${WORK}/analyse.log" \
    || die "the threshold definition was not logged"

# ------------------------------------------------------------------ check the outputs
python3 - "${OUT}" <<'PY'
import csv
import os
import struct
import sys

results = sys.argv[1]


def fail(message):
    print(f"e2e-analysis: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def table(name):
    path = os.path.join(results, name)
    if not os.path.isfile(path):
        fail(f"no table {name}")
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        fail(f"table {name} is empty")
    return rows


def tiff(name):
    """Header and pixels of an uncompressed ImageJ TIFF (stacks are stored contiguously)."""
    with open(os.path.join(results, name), "rb") as f:
        blob = f.read()
    order = {b"II": "<", b"MM": ">"}.get(blob[:2])
    if order is None:
        fail(f"{name} is not a TIFF")
    (ifd,) = struct.unpack(order + "I", blob[4:8])
    (count,) = struct.unpack(order + "H", blob[ifd:ifd + 2])
    sizes = {1: 1, 2: 1, 3: 2, 4: 4}
    tags = {}
    for i in range(count):
        tag, typ, n = struct.unpack(order + "HHI", blob[ifd + 2 + 12 * i: ifd + 10 + 12 * i])
        raw = blob[ifd + 10 + 12 * i: ifd + 14 + 12 * i]
        if typ in (3, 4) and n == 1:
            tags[tag] = struct.unpack(order + ("H" if typ == 3 else "I"), raw[: sizes[typ]])[0]
        elif typ == 2:
            (offset,) = struct.unpack(order + "I", raw)
            tags[tag] = blob[offset: offset + n].decode("latin-1") if n > 4 else raw[:n].decode("latin-1")
        else:
            tags[tag] = None
    width, height, bits = tags[256], tags[257], tags.get(258, 1)
    images = 1
    for line in str(tags.get(270, "")).splitlines():
        if line.startswith("images="):
            images = int(line.split("=")[1])
    kind = {8: "B", 16: "H", 32: "f" if tags.get(339, 1) == 3 else "I"}[bits]
    n = width * height * images
    start = tags[273]
    pixels = struct.unpack(f"{order}{n}{kind}", blob[start: start + n * bits // 8])
    return {"width": width, "height": height, "bits": bits, "images": images,
            "palette": tags.get(262) == 3, "pixels": pixels}


facts = dict(line.split("=", 1) for line in open(os.path.join(results, "facts.txt")).read().splitlines()
             if "=" in line)


EXPECTED = {
    "gaussian_title": "sample-gaussian", "gaussian_bits": "8", "clahe_title": "sample-clahe", "clahe_bits": "32",
    "background_title": "sample-subtract-background",
    "otsu_title": "sample-otsu", "otsu_bits": "8", "otsu_range": "0,255",
    "texture_title": "sample-texture", "texture_bits": "32", "texture_slices": "2", "texture_label2": "energy",
    "reference_slices": "1", "reference_label": "contrast",
    "clusters_title": "sample-clusters", "mask_title": "sample-cluster2-mask",
    "stack_rows": "2", "stack_last_slice": "2",
    "activation_title": "sample-CAM", "activation_bits": "32", "activation_pixel": "0.25",
    "activation_in_unit_range": "1", "activation_overlay": "1",
}
for key, value in EXPECTED.items():
    if facts.get(key) != value:
        fail(f"{key} is {facts.get(key)!r}, expected {value!r}")
print("e2e-analysis: titles, bit depths, slices, labels and per-slice stack rows OK")
W, H = int(facts["width"]), int(facts["height"])


# Preprocess
if facts.get("gaussian_unit") not in ("um", "µm", "micron") or abs(float(facts["gaussian_pixel"]) - 0.25) > 1e-9:
    fail(f"calibration not carried to the filtered image: {facts}")
gauss = tiff("gaussian.tif")
if (gauss["width"], gauss["height"], gauss["bits"]) != (W, H, 8):
    fail(f"filtered TIFF is {gauss['width']}x{gauss['height']} {gauss['bits']}-bit")
print("e2e-analysis: Preprocess OK (gaussian, CLAHE 32-bit, subtract background)")

# Threshold
rows = table("threshold.csv")
row = rows[0]
for column in ("Image", "Slice", "Classes", "Threshold 1", "Threshold 2", "Pixels 0", "Fraction 2", "Area 1",
               "Area unit"):
    if column not in row:
        fail(f"threshold table lacks {column}: {list(row)}")
t1, t2 = float(row["Threshold 1"]), float(row["Threshold 2"])
if not 0 <= t1 < t2 <= 255:
    fail(f"thresholds {t1}, {t2} not ascending grey values")
pixels = [int(float(row[f"Pixels {c}"])) for c in range(3)]
if sum(pixels) != W * H:
    fail(f"class pixels {pixels} do not add up to {W}x{H}")
if abs(sum(float(row[f"Fraction {c}"]) for c in range(3)) - 1) > 1e-5:
    fail("class fractions do not sum to 1")
for c in range(3):
    if abs(float(row[f"Area {c}"]) - pixels[c] * 0.0625) > 1e-3 * max(1, pixels[c]):
        fail(f"Area {c} is {row[f'Area {c}']}, expected {pixels[c] * 0.0625} um^2")
otsu = tiff("otsu.tif")
counts = [otsu["pixels"].count(c) for c in range(3)]
if counts != pixels or set(otsu["pixels"]) - {0, 1, 2}:
    fail(f"label image counts {counts} differ from the table {pixels}")
if not otsu["palette"]:
    fail("the label image was saved without its colour LUT")
print(f"e2e-analysis: Threshold OK: thresholds {t1}, {t2}; classes {pixels}")

# Texture
maps = tiff("texture.tif")
if (maps["width"], maps["height"], maps["images"]) != (W, H, 2):
    fail(f"texture TIFF is {maps['width']}x{maps['height']} with {maps['images']} images")
energy = maps["pixels"][W * H:]
if not all(0 <= v <= 1 for v in energy):
    fail("energy map outside [0, 1]")
rows = table("texture.csv")
if len(rows) != 2 or float(rows[0]["contrast"]) <= 0 or not 0 < float(rows[0]["energy"]) <= 1:
    fail(f"texture table rows: {rows}")
print(f"e2e-analysis: Texture OK: contrast {rows[0]['contrast']}, energy {rows[0]['energy']}")

# Class Activation Map
row = table("activation.csv")[0]
if (row.get("Method"), row.get("Explained class")) != ("score-cam", "spheroid"):
    fail(f"activation map table row: {row}")
print("e2e-analysis: Class Activation Map OK (32-bit calibrated heat map, overlay, table)")

# Cluster
rows = table("clusters.csv")
if len(rows) != 3 or [int(float(r["Cluster"])) for r in rows] != [0, 1, 2]:
    fail(f"expected 3 cluster rows, got {rows}")
cam_column = f"Mean {facts['cam_title']}"
for column in ("Pixels", "Fraction", "Area", "Area unit", "Mean grey", "Mean smoothed grey (sigma 2)",
               "Mean foreground (learned)", cam_column, "Inertia"):
    if column not in rows[0]:
        fail(f"cluster table lacks {column}: {list(rows[0])}")
greys = [float(r["Mean grey"]) for r in rows]
if greys != sorted(greys):
    fail(f"clusters are not ordered by mean grey: {greys}")
if not rows[0]["Area unit"].endswith("m^2"):
    fail(f"area unit {rows[0]['Area unit']!r} is not a calibrated unit")
labels = tiff("clusters.tif")
mask = tiff("mask.tif")
sizes = [labels["pixels"].count(c) for c in range(3)]
if sizes != [int(float(r["Pixels"])) for r in rows]:
    fail(f"label image cluster sizes {sizes} differ from the table")
if any((m == 255) != (l == 2) for m, l in zip(mask["pixels"], labels["pixels"])):
    fail("the mask is not exactly cluster 2")
print(f"e2e-analysis: Cluster OK: sizes {sizes}, mean grey {greys}")

PY

# ------------------------------------------------------------------ errors are reported, not fatal
OPEN="open(\"${SAMPLE}\");"
check_error even_window "${OPEN}" "Texture (GLCM)..." "contrast window=6 levels=32 distances=1 angles=0" "odd number"
check_error one_cluster "${OPEN}" "Cluster (k-means)..." "k=1 grey" "between 2 and 255"
check_error six_classes "${OPEN}" "Threshold (Otsu / multi-Otsu)..." "classes=6" "between 2 and 5 classes"
check_error median_radius "${OPEN}" "Preprocess..." "operation=Median radius=0" "median radius must be between 1"
NO_FEATURES="${REPO_ROOT}/tests/fixtures/models/fixture-no-features.onnx"
check_error cam_without_features "${OPEN}" "Class Activation Map..." \
    "model_file=[${NO_FEATURES}] method=eigen-cam target_class=predicted overlay_opacity=40" "Use the 'occlusion' method"

ok=1
echo "e2e-analysis: PASS"
