#!/usr/bin/env bash
# Throughput of Batch Process Folder... on 2048x1536 micrographs, next to the time ImageJ
# needs just to decode the same files, in one ImageJ (so the JVM is warm for both):
#
#   bash scripts/bench-batch.sh [COUNT]       (default 12 images; prints a Markdown table)
#
# Needs build/libs/Visual_CCC.jar, target/debug/visual-ccc (or release), xvfb-run, ij.jar.
set -euo pipefail
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
COUNT="${1:-12}"
IJ_JAR="${IJ_JAR:-/usr/share/java/ij.jar}"
SYNTH="${REPO_ROOT}/target/release/visual-ccc"
[[ -x "${SYNTH}" ]] || SYNTH="${REPO_ROOT}/target/debug/visual-ccc"
WORK="$(mktemp -d)"
trap 'rm -rf -- "${WORK}"' EXIT
mkdir -p "${WORK}/imagej/plugins" "${WORK}/in"
cp -- "${REPO_ROOT}/build/libs/Visual_CCC.jar" "${WORK}/imagej/plugins/"
"${SYNTH}" synth --class dendrite --seed 1 --count "${COUNT}" --width 2048 --height 1536 --out "${WORK}/in/" >/dev/null
cat >"${WORK}/bench.ijm" <<EOM
setBatchMode(true);
dir = "${WORK}/in/";
files = getFileList(dir);
// Warm-up: one decode and one batch of a single image (JIT, native library, model).
open(dir + files[0]); close();
File.makeDirectory("${WORK}/warm-in");
File.copy(dir + files[0], "${WORK}/warm-in/" + files[0]);
run("Batch Process Folder...", "input=[${WORK}/warm-in] output=[${WORK}/warm-out] model=morphology k=3 save_heatmaps save_label_images");
t0 = getTime();
for (i = 0; i < files.length; i++) { open(dir + files[i]); close(); }
decode = (getTime() - t0) / 1000;
t0 = getTime();
run("Batch Process Folder...", "input=[" + dir + "] output=[${WORK}/out] model=morphology k=3 save_heatmaps save_label_images");
batch = (getTime() - t0) / 1000;
print("BENCH images=" + files.length + " decode_s=" + d2s(decode, 2) + " batch_s=" + d2s(batch, 2));
EOM
(cd "${WORK}/imagej" && xvfb-run -a java -Xmx4g -Duser.home="${WORK}/home" -Dplugins.dir="${WORK}/imagej" \
    -Dvisualccc.cache.dir="${WORK}/cache" -cp "${IJ_JAR}" ij.ImageJ -batch "${WORK}/bench.ijm") >"${WORK}/log" 2>&1
line="$(grep '^BENCH ' "${WORK}/log")" || { cat "${WORK}/log"; exit 1; }
grep 'time per step' "${WORK}/log" | tail -1
read -r n decode batch < <(echo "${line}" | sed -E 's/.*images=([0-9]+) decode_s=([0-9.]+) batch_s=([0-9.]+)/\1 \2 \3/')
python3 - "$n" "$decode" "$batch" <<'PY'
import sys
n, decode, batch = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print("| step | total (s) | per image (ms) | images/s |")
print("| --- | ---: | ---: | ---: |")
print(f"| decode only (ImageJ `open`) | {decode:.2f} | {1000 * decode / n:.0f} | {n / decode:.2f} |")
print(f"| Batch Process Folder | {batch:.2f} | {1000 * batch / n:.0f} | {n / batch:.2f} |")
print(f"| batch minus decode | {batch - decode:.2f} | {1000 * (batch - decode) / n:.0f} | |")
PY
