#!/usr/bin/env bash
# End-to-end test of data-bar exclusion in real ImageJ 1.x under Xvfb: a macro draws a
# micrograph with an instrument data bar (black strip, white text, scale bar) along the
# bottom, runs Threshold and Cluster with and without `exclude_data_bar`, and Python
# checks that the excluded rows are reported ("Excluded rows"), labelled 255 and left out
# of the pixel counts and fractions; Classify Morphology and Morphology Map (bundled
# fixture) must report them too.
#
#   tests/e2e/run_databar_macro_test.sh [PLUGIN_JAR] [IJ_JAR]
#
# PLUGIN_JAR defaults to build/libs/Visual_CCC.jar (build it first: gradle --offline jar).
set -euo pipefail

E2E_NAME=e2e-databar
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"

WIDTH=320
HEIGHT=240
BAR=40

cat >"${WORK}/databar.ijm" <<EOF
setBatchMode(true);
newImage("bar", "8-bit black", ${WIDTH}, ${HEIGHT}, 1);
setColor(70); fillRect(0, 0, ${WIDTH}, ${HEIGHT});
setColor(170); fillOval(40, 30, 110, 90); fillOval(180, 90, 100, 90);
run("Add Specified Noise...", "standard=12");
setColor(0); fillRect(0, ${HEIGHT} - ${BAR}, ${WIDTH}, ${BAR});
setColor(255);
setFont("SansSerif", 12);
drawString("SEI  5.0kV  X10,000  WD 8.1mm", 6, ${HEIGHT} - 22);
fillRect(220, ${HEIGHT} - 14, 80, 3);
saveAs("Tiff", "${OUT}/bar.tif");
bar = getImageID();

run("Threshold (Otsu / multi-Otsu)...", "classes=2 exclude_data_bar");
saveAs("Tiff", "${OUT}/otsu-excluded.tif");
Table.save("${OUT}/threshold-excluded.csv", "Visual-CCC Threshold");
close("Visual-CCC Threshold");
selectImage(bar);
run("Threshold (Otsu / multi-Otsu)...", "classes=2");
saveAs("Tiff", "${OUT}/otsu-kept.tif");
Table.save("${OUT}/threshold-kept.csv", "Visual-CCC Threshold");
selectImage(bar);
run("Cluster (k-means)...", "k=2 grey sigma=2 variance_radius=3 position_weight=0 feature_image=None seed=42 n_init=4 max_iterations=300 tolerance=1.00E-4 target_cluster=1 exclude_data_bar");
saveAs("Tiff", "${OUT}/clusters.tif");
Table.save("${OUT}/clusters.csv", "Visual-CCC Clusters");
selectImage(bar);
run("Classify Morphology...", "model=[fixture-tiny (untrained test fixture)] heatmap_opacity=40 exclude_data_bar");
Table.save("${OUT}/classify.csv", "Visual-CCC Classification");
selectImage(bar);
run("Morphology Map...", "model=[fixture-tiny (untrained test fixture)] tile_overlap=25 heatmap_opacity=40 table=[per image] exclude_data_bar");
Table.save("${OUT}/map.csv", "Visual-CCC Morphology Map");
print("E2E-DATABAR-DONE");
EOF

echo "e2e-databar: running the macro"
run_macro databar E2E-DATABAR-DONE

python3 - "${OUT}" "${WIDTH}" "${HEIGHT}" "${BAR}" <<'PY'
import csv, sys
out, width, height, bar = sys.argv[1], *map(int, sys.argv[2:])

def fail(message):
    print(f"e2e-databar: FAIL: {message}", file=sys.stderr)
    sys.exit(1)

def table(name):
    with open(f"{out}/{name}", newline="") as f:
        return list(csv.DictReader(f))

def label_pixels(name):
    # ImageJ writes uncompressed 8-bit TIFFs with the pixels as the file's last w*h bytes.
    data = open(f"{out}/{name}", "rb").read()
    return data[-width * height:]

kept = width * (height - bar)
row = table("threshold-excluded.csv")[0]
if int(float(row["Excluded rows"])) != bar:
    fail(f"Threshold reported {row['Excluded rows']} excluded rows, expected {bar}")
pixels = int(float(row["Pixels 0"])) + int(float(row["Pixels 1"]))
if pixels != kept:
    fail(f"Threshold counted {pixels} pixels, expected the {kept} above the bar")
if abs(float(row["Fraction 0"]) + float(row["Fraction 1"]) - 1) > 1e-6:
    fail("Threshold fractions do not sum to 1")
if label_pixels("otsu-excluded.tif").count(255) != width * bar:
    fail("the bar's pixels are not labelled 255 in the threshold label image")
row = table("threshold-kept.csv")[0]
if int(float(row["Excluded rows"])) != 0 or int(float(row["Pixels 0"])) + int(float(row["Pixels 1"])) != width * height:
    fail(f"without exclude_data_bar every pixel must count: {row}")
print(f"e2e-databar: Threshold OK ({bar} rows excluded, {kept} pixels counted)")

rows = table("clusters.csv")
if any(int(float(r["Excluded rows"])) != bar for r in rows):
    fail(f"Cluster rows do not report {bar} excluded rows: {rows}")
pixels = sum(int(float(r["Pixels"])) for r in rows)
if pixels != kept:
    fail(f"Cluster counted {pixels} pixels, expected {kept}")
if label_pixels("clusters.tif").count(255) != width * bar:
    fail("the bar's pixels are not labelled 255 in the cluster label image")
print(f"e2e-databar: Cluster OK ({bar} rows excluded)")

for name, command in (("classify.csv", "Classify Morphology"), ("map.csv", "Morphology Map")):
    rows = table(name)
    if not rows or int(float(rows[-1]["Excluded rows"])) != bar:
        fail(f"{command} does not report {bar} excluded rows: {rows}")
print(f"e2e-databar: Classify Morphology and Morphology Map OK ({bar} rows excluded)")
PY

ok=1
echo "e2e-databar: PASS"
