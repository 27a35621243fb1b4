#!/usr/bin/env bash
# Captures PNG screenshots of every Visual-CCC dialog and result window in real ImageJ
# under Xvfb into docs/screenshots/ (scripts/screenshots/Screenshots.java drives ImageJ:
# it starts each command as from the menu, captures the dialog, presses OK and captures
# the windows the command opens).
#
#   bash scripts/screenshots.sh [OUT_DIR]     (default docs/screenshots)
#
# Needs build/libs/Visual_CCC.jar (gradle --offline jar), target/debug/visual-ccc
# (cargo build -p visual-ccc-cli), javac, xvfb-run and /usr/share/java/ij.jar.
set -euo pipefail
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
OUT_DIR="$(realpath -m "${1:-${REPO_ROOT}/docs/screenshots}")"
IJ_JAR="${IJ_JAR:-/usr/share/java/ij.jar}"
JAR="${REPO_ROOT}/build/libs/Visual_CCC.jar"
[[ -f "${JAR}" ]] || { echo "screenshots: build the jar first: gradle --offline jar" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf -- "${WORK}"' EXIT
mkdir -p "${WORK}/imagej/plugins" "${WORK}/classes" "${WORK}/in" "${OUT_DIR}"
cp -- "${JAR}" "${WORK}/imagej/plugins/"
"${REPO_ROOT}/target/debug/visual-ccc" synth --class spheroid --seed 5 --width 480 --height 360 \
    --out "${WORK}/sample.tif" >/dev/null
"${REPO_ROOT}/target/debug/visual-ccc" synth --class grains --seed 1 --count 3 --width 128 \
    --out "${WORK}/in/" >/dev/null
for class in dendrite lamellar spheroid; do
    "${REPO_ROOT}/target/debug/visual-ccc" synth --class "${class}" --seed 1 --count 4 --width 400 \
        --out "${WORK}/labelled/${class}/" >/dev/null
done
mkdir -p "${WORK}/models"
javac -d "${WORK}/classes" -cp "${IJ_JAR}" "${REPO_ROOT}/scripts/screenshots/Screenshots.java"
rm -f "${OUT_DIR}"/*.png
(cd "${WORK}/imagej" && timeout 300 xvfb-run -a -s "-screen 0 1600x1200x24" java -Xmx1g \
    -Duser.home="${WORK}/home" -Dplugins.dir="${WORK}/imagej" -Dvisualccc.cache.dir="${WORK}/cache" \
    -cp "${IJ_JAR}:${WORK}/classes" Screenshots "${WORK}/sample.tif" "${WORK}/in" "${WORK}/out" "${OUT_DIR}" \
    "${WORK}/labelled" "${WORK}/models")
echo "screenshots: $(ls "${OUT_DIR}"/*.png | wc -l) PNGs in ${OUT_DIR}"
