#!/usr/bin/env bash
# Builds everything (native library, CLI, plugin jar) and runs the main job: real ImageJ
# under Xvfb classifies a generated sample micrograph with the Classify Morphology command
# and saves the results table and the class activation map.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/ensure-deps.sh"
cd "$REPO_ROOT"

out="$REPO_ROOT/build/demo"
rm -rf "$out" && mkdir -p "$out"

echo "==> building the plugin jar (cargo release build of the native library included)"
gradle --offline --quiet jar
echo "==> building the command-line tool"
cargo build --release --locked -p visual-ccc-cli
echo "==> generating a sample micrograph"
./target/release/visual-ccc synth --class dendrite --seed 7 --width 1024 --height 768 --out "$out/sample.png" >/dev/null

home="$out/imagej"
mkdir -p "$home/plugins"
cp build/libs/Visual_CCC.jar "$home/plugins/"
echo "==> running Plugins > Visual-CCC > Classify Morphology... in ImageJ (Xvfb)"
(cd "$home" && xvfb-run -a java -Dplugins.dir="$home" -cp /usr/share/java/ij.jar ij.ImageJ \
    -batch "$REPO_ROOT/tests/e2e/demo.ijm" "$out") > "$out/imagej.log" 2>&1 || {
    cat "$out/imagej.log"; echo "ImageJ failed" >&2; exit 1; }
cat "$out/imagej.log"
for f in classification.csv sample-CAM.tif sample-overlay.png; do
    [ -s "$out/$f" ] || { echo "missing output $out/$f" >&2; exit 1; }
done
echo
echo "Results:"
echo "  table    $out/classification.csv"
echo "  heatmap  $out/sample-CAM.tif (32-bit CAM, heat LUT)"
echo "  overlay  $out/sample-overlay.png"
echo "Model: morphology (alloy / dendrite / spheroid), see docs/models/morphology.md for its accuracy and limits."
