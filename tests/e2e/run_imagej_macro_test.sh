#!/usr/bin/env bash
# End-to-end test of the Fiji command in real ImageJ 1.x, headless under Xvfb.
#
#   tests/e2e/run_imagej_macro_test.sh [PLUGIN_JAR] [IJ_JAR]
#
# PLUGIN_JAR defaults to build/libs/Visual_CCC.jar (build it first: gradle --offline jar;
# this script builds nothing), IJ_JAR to /usr/share/java/ij.jar.
#
# Environment:
#   SAMPLE_IMAGE=path   classify this image instead of generating one
#   KEEP_E2E=1          keep the temporary directory (it is always kept on failure)
#   E2E_TIMEOUT=secs    limit for each ImageJ run (default 300)
#
# Steps: make a throw-away ImageJ home (plugins/Visual_CCC.jar, its own user.home and
# native cache), generate an 8-bit 512x384 sample with an ImageJ macro, run
#   run("Classify Morphology...", "model=[fixture-tiny (untrained test fixture)] heatmap_opacity=40 show_heatmap_image add_overlay colour_bar")
# under setBatchMode(true) through `java -cp ij.jar ij.ImageJ -batch`, save the table
# as CSV and the CAM as TIFF, and check both; then check that errors (missing model
# file, too-small image) are logged and abort the macro without hanging or crashing
# ImageJ. Exits non-zero with a message on any failure.
set -euo pipefail

E2E_NAME=e2e
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"
FIXTURE_LABEL="fixture-tiny (untrained test fixture)"
TABLE_TITLE="Visual-CCC Classification"

# ------------------------------------------------------------------ 1. sample image
if [[ -n "${SAMPLE_IMAGE:-}" ]]; then
    [[ -f "${SAMPLE_IMAGE}" ]] || die "SAMPLE_IMAGE=${SAMPLE_IMAGE} does not exist"
    SAMPLE="${SAMPLE_IMAGE}"
    echo "e2e: using sample ${SAMPLE}"
else
    SAMPLE="${OUT}/sample.tif"
    echo "e2e: drawing the sample image"
    draw_sample "${SAMPLE}" 512 384
fi

# ------------------------------------------------------------------ 2. classify
CSV="${OUT}/results.csv"
CAM="${OUT}/cam.tif"
INFO="${OUT}/info.txt"
cat >"${WORK}/classify.ijm" <<EOF
setBatchMode(true);
open("${SAMPLE}");
sampleId = getImageID();
sampleTitle = getTitle();
sampleSize = "" + getWidth() + "x" + getHeight();
n0 = nImages;
run("Classify Morphology...", "model=[${FIXTURE_LABEL}] heatmap_opacity=40 show_heatmap_image add_overlay colour_bar");
if (!isOpen("${TABLE_TITLE}")) exit("E2E: no table titled '${TABLE_TITLE}'");
Table.save("${CSV}", "${TABLE_TITLE}");
if (nImages != n0 + 1) exit("E2E: expected one new (heat-map) image, have " + nImages + " images");
selectImage(sampleId);
overlayItems = "" + Overlay.size;
for (i = 0; i < Overlay.size; i++) { Overlay.activateSelection(i); overlayItems = overlayItems + ";" + Roi.getName; }
run("Select None");
selectImage(nImages);
camTitle = getTitle();
camBits = bitDepth();
getMinAndMax(camMin, camMax);
saveAs("Tiff", "${CAM}");
File.saveString("sample=" + sampleTitle + "\ncam=" + camTitle + "\nbits=" + camBits + "\noverlay=" + overlayItems + "\nsize=" + sampleSize + "\nrange=" + camMin + "," + camMax + "\n", "${INFO}");
print("E2E-MACRO-DONE");
EOF
echo "e2e: running Classify Morphology in ImageJ"
run_macro classify E2E-MACRO-DONE

# ------------------------------------------------------------------ 3. check
python3 - "${CSV}" "${CAM}" "${INFO}" "${FIXTURE_LABEL}" <<'PY'
import csv
import os
import struct
import sys

csv_path, cam_path, info_path, fixture_label = sys.argv[1:5]


def fail(message):
    print(f"e2e: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


# --- table
if not os.path.isfile(csv_path):
    fail(f"no results CSV at {csv_path}")
with open(csv_path, newline="") as f:
    rows = list(csv.reader(f))
if not rows:
    fail("the results CSV is empty")
header, data = rows[0], rows[1:]
expected = ["Image", "Slice", "Model", "Class", "P(alloy)", "P(dendrite)", "P(spheroid)"]
missing = [c for c in expected if c not in header]
if missing:
    fail(f"CSV columns {header} lack {missing}")
if len(data) != 1:
    fail(f"expected 1 row, got {len(data)}: {data}")
row = dict(zip(rows[0], data[0]))
probs = [float(row[c]) for c in ("P(alloy)", "P(dendrite)", "P(spheroid)")]
if any(p < 0 or p > 1 for p in probs):
    fail(f"probabilities out of [0,1]: {probs}")
if abs(sum(probs) - 1.0) > 1e-4:
    fail(f"probabilities sum to {sum(probs)}, not 1: {probs}")
if row["Class"] not in ("alloy", "dendrite", "spheroid"):
    fail(f"unexpected class {row['Class']!r}")
best = ("alloy", "dendrite", "spheroid")[probs.index(max(probs))]
if row["Class"] != best:
    fail(f"Class {row['Class']} is not the most probable ({best}, {probs})")
if row["Model"] != fixture_label:
    fail(f"Model column is {row['Model']!r}, expected {fixture_label!r}")
if float(row["Slice"]) != 1:
    fail(f"Slice is {row['Slice']}")
print(f"e2e: table OK: {row['Image']} -> {row['Class']} {probs}")

# --- macro facts
info = dict(line.split("=", 1) for line in open(info_path).read().splitlines() if "=" in line)
if info.get("bits") != "32":
    fail(f"heat-map image is {info.get('bits')}-bit, expected 32")
if not info.get("cam", "").endswith("-CAM"):
    fail(f"heat-map title {info.get('cam')!r} does not end in -CAM")
if info.get("overlay") != "4;Visual-CCC CAM" + ";Visual-CCC CAM colour bar" * 3:
    fail(f"expected the CAM and a colour bar (bar, labels 1 and 0) in the sample's overlay, found {info.get('overlay')}")

# --- CAM TIFF: parse the header of ImageJ's uncompressed TIFF
if not os.path.isfile(cam_path):
    fail(f"no CAM TIFF at {cam_path}")
with open(cam_path, "rb") as f:
    blob = f.read()
order = {b"II": "<", b"MM": ">"}.get(blob[:2])
if order is None or struct.unpack(order + "H", blob[2:4])[0] != 42:
    fail("the CAM file is not a TIFF")
(ifd,) = struct.unpack(order + "I", blob[4:8])
(count,) = struct.unpack(order + "H", blob[ifd:ifd + 2])
tags = {}
for i in range(count):
    entry = blob[ifd + 2 + 12 * i: ifd + 14 + 12 * i]
    tag, typ, n = struct.unpack(order + "HHI", entry[:8])
    if n == 1 and typ == 3:
        value = struct.unpack(order + "H", entry[8:10])[0]
    elif n == 1 and typ == 4:
        value = struct.unpack(order + "I", entry[8:12])[0]
    else:
        value = None
    tags[tag] = value
width, height = tags.get(256), tags.get(257)
bits, sample_format = tags.get(258), tags.get(339, 1)
if bits != 32 or sample_format != 3:
    fail(f"CAM TIFF has BitsPerSample={bits}, SampleFormat={sample_format}; expected 32-bit float")
if f"{width}x{height}" != info.get("size"):
    fail(f"CAM TIFF is {width}x{height}, the sample is {info.get('size')}")
# Values: inside [0,1], zeros outside the centred square, something non-zero inside.
offset = tags.get(273)
if offset is not None and width and height:
    pixels = struct.unpack(order + f"{width * height}f", blob[offset: offset + 4 * width * height])
    if any(not (0.0 <= v <= 1.0) for v in pixels):
        fail("CAM values outside [0,1]")
    if max(pixels) <= 0:
        fail("the CAM is all zero")
    if pixels[0] != 0 or pixels[-1] != 0:
        fail("CAM is not 0 outside the analysed region (corners)")
print(f"e2e: CAM TIFF OK: {width}x{height} 32-bit float, max {max(pixels) if offset else '?'}")
PY

# ------------------------------------------------------------------ 4. Morphology Map
MAP_CSV="${OUT}/morphology.csv"
MAP_INFO="${OUT}/morphology.txt"
cat >"${WORK}/morphology.ijm" <<EOF
setBatchMode(true);
open("${SAMPLE}");
run("Set Scale...", "distance=4 known=1 unit=um");
sampleId = getImageID();
w = getWidth(); h = getHeight();
n0 = nImages;
run("Morphology Map...", "model=[${FIXTURE_LABEL}] tile_overlap=25 heatmap_opacity=40 table=[per tile] add_overlay");
if (!isOpen("Visual-CCC Morphology Map")) exit("E2E: no Morphology Map table");
Table.save("${MAP_CSV}", "Visual-CCC Morphology Map");
if (nImages != n0 + 2) exit("E2E: expected a class map and a CAM image, have " + (nImages - n0) + " new images");
facts = "";
for (i = n0 + 1; i <= nImages; i++) {
    selectImage(i);
    getPixelSize(unit, pw, ph);
    facts = facts + getTitle() + "=" + bitDepth() + "," + getWidth() + "x" + getHeight() + "," + pw + " " + unit + "\n";
}
selectImage(sampleId);
facts = facts + "overlay=" + Overlay.size + "\nsize=" + w + "x" + h + "\n";
// With a selection: its rectangle is mapped and the overlay drawn there.
makeRectangle(40, 30, 300, 200);
n1 = nImages;
run("Morphology Map...", "model=[${FIXTURE_LABEL}] tile_overlap=25 heatmap_opacity=40 table=[per image] add_overlay");
sizes = "";
for (i = n1 + 1; i <= nImages; i++) { selectImage(i); sizes = sizes + getWidth() + "x" + getHeight() + ";"; }
selectImage(sampleId);
Overlay.getBounds(0, ox, oy, ow, oh);
facts = facts + "selection_maps=" + sizes + "\nselection_overlay=" + ox + "," + oy + "," + ow + "x" + oh + "\n";
File.saveString(facts, "${MAP_INFO}");
print("E2E-MACRO-DONE");
EOF
echo "e2e: running Morphology Map in ImageJ"
run_macro morphology E2E-MACRO-DONE
python3 - "${MAP_CSV}" "${MAP_INFO}" <<'PY'
import csv
import sys

csv_path, info_path = sys.argv[1:3]
rows = list(csv.DictReader(open(csv_path, newline="")))
if len(rows) < 2:
    sys.exit(f"e2e: FAIL: Morphology Map table has {len(rows)} tile rows")
for column in ("Tile", "X", "Y", "Width", "Height", "Class", "P(alloy)"):
    if column not in rows[0]:
        sys.exit(f"e2e: FAIL: Morphology Map table lacks {column}: {list(rows[0])}")
info = dict(line.split("=", 1) for line in open(info_path).read().splitlines() if "=" in line)
maps = {k: v for k, v in info.items() if k.endswith("-ClassMap") or k.endswith("-MorphologyCAM")}
if len(maps) != 2 or info.get("overlay") != "1":
    sys.exit(f"e2e: FAIL: Morphology Map outputs {info}")
for title, facts in maps.items():
    bits, size, scale = facts.split(",")
    want_bits = "8" if title.endswith("-ClassMap") else "32"
    if bits != want_bits or size != info["size"] or scale not in ("0.25 um", "0.25 \u00b5m"):
        sys.exit(f"e2e: FAIL: {title} is {facts}, expected {want_bits}-bit {info['size']} 0.25 um")
if info.get("selection_maps") != "300x200;300x200;" or info.get("selection_overlay") != "40,30,300x200":
    sys.exit(f"e2e: FAIL: Morphology Map with a selection: maps {info.get('selection_maps')}, "
             f"overlay {info.get('selection_overlay')} (want two 300x200 maps, overlay at 40,30)")
print(f"e2e: Morphology Map OK: {len(rows)} tiles, {sorted(maps)}, selection mapped in place")
PY

# ------------------------------------------------------------------ 5. the core's log in ImageJ's Log
# At level info (Visual-CCC Options...) the core's records appear in the Log after a
# command; back at warn they do not. (In batch mode ImageJ's Log is standard output.)
cat >"${WORK}/log.ijm" <<EOF
setBatchMode(true);
open("${SAMPLE}");
run("Visual-CCC Options...", "log_level=info");
print("E2E-LEVEL-INFO");
run("Classify Morphology...", "model=[${FIXTURE_LABEL}] heatmap_opacity=40");
run("Visual-CCC Options...", "log_level=warn");
print("E2E-LEVEL-WARN");
run("Classify Morphology...", "model=[${FIXTURE_LABEL}] heatmap_opacity=40");
print("E2E-MACRO-DONE");
EOF
echo "e2e: core log in ImageJ's Log at the chosen level"
run_macro log E2E-MACRO-DONE
sed -n '/E2E-LEVEL-INFO/,/E2E-LEVEL-WARN/p' "${WORK}/log.log" | grep -q "Visual-CCC info: opened model" \
    || die "at level info the Log lacks the core's 'opened model' line"
if sed -n '/E2E-LEVEL-WARN/,$p' "${WORK}/log.log" | grep -q "Visual-CCC info:"; then
    die "at level warn the Log still shows the core's info lines"
fi
echo "e2e: core log OK (info lines at level info, none at warn)"

# ------------------------------------------------------------------ 6. errors are reported, not fatal
# A missing model file and a too-small image: each must log a Visual-CCC error, abort
# the macro (the line after run() is not reached) and let ImageJ exit normally.
check_error missing_model "open(\"${SAMPLE}\");" "Classify Morphology..." \
    "model_file=${WORK}/no-such-model.onnx heatmap_opacity=40 show_heatmap_image" "no-such-model.onnx does not exist"
check_error too_small 'newImage("tiny", "8-bit ramp", 8, 8, 1);' "Classify Morphology..." \
    "model=[${FIXTURE_LABEL}] heatmap_opacity=40 show_heatmap_image add_overlay" "too small"

ok=1
echo "e2e: PASS"
