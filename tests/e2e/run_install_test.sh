#!/usr/bin/env bash
# Installation test: `gradle installFiji` into a fake Fiji.app (just ij.jar and an empty
# plugins/ folder), then ImageJ started from that folder the way Fiji's launcher does
# (java.library.path = Fiji.app/lib/linux64) runs a macro: About Visual-CCC must report
# the natives from lib/linux64 (not the copies inside the jar), Model Manager must install
# a model with its card and a BioImage Model Zoo zip into models/visual-ccc/, and Classify
# Morphology must use the model.
# Last, the documented uninstall leaves no Visual-CCC file behind.
#
#   tests/e2e/run_install_test.sh [PLUGIN_JAR] [IJ_JAR]    (the jar is rebuilt by gradle)
set -euo pipefail

E2E_NAME=e2e-install
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"

FIJI="${WORK}/Fiji.app"
mkdir -p "${FIJI}/plugins"
cp -- "${IJ_JAR}" "${FIJI}/ij.jar"
(cd "${REPO_ROOT}" && gradle --offline --quiet installFiji -PfijiDir="${FIJI}" ${GRADLE_ARGS:-}) \
    || die "gradle installFiji failed"
for f in plugins/Visual_CCC.jar lib/linux64/libvisual_ccc.so lib/linux64/libonnxruntime.so; do
    [[ -f "${FIJI}/${f}" ]] || die "installFiji did not install ${f}"
done

cp -- "${REPO_ROOT}/tests/fixtures/models/fixture-tiny.onnx" "${WORK}/my-model.onnx"
printf '# my-model\nA copy of the test fixture, with a card.\n' >"${WORK}/my-model.md"
python3 -c 'import pathlib, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w") as z:
    for f in sorted(pathlib.Path(sys.argv[1]).iterdir()):
        z.write(f, f.name)' "${REPO_ROOT}/tests/fixtures/bioimageio/tiny-classifier" "${WORK}/tiny-classifier.zip"
cat >"${WORK}/install.ijm" <<EOM
setBatchMode(true);
run("About Visual-CCC");
run("Model Manager...", "action=[Install model file] file=[${WORK}/my-model.onnx]");
run("Model Manager...", "action=[Show model card] model=my-model.onnx");
run("Model Manager...", "action=[Install model file] file=[${WORK}/tiny-classifier.zip]");
newImage("blobs", "8-bit ramp", 256, 256, 1);
run("Classify Morphology...", "model=my-model.onnx heatmap_opacity=40");
print("model-column=" + Table.getString("Model", 0, "Visual-CCC Classification"));
print("E2E-INSTALL-DONE");
EOM
(cd "${FIJI}" && timeout "${TIMEOUT}" xvfb-run -a java -Xmx1g -Duser.home="${WORK}/home" \
    -Djava.library.path="${FIJI}/lib/linux64" -Dplugins.dir="${FIJI}" \
    -cp "${FIJI}/ij.jar" ij.ImageJ -batch "${WORK}/install.ijm") >"${WORK}/install.log" 2>&1 || true
sed 's/^/    | /' "${WORK}/install.log"
grep -q "E2E-INSTALL-DONE" "${WORK}/install.log" || die "the macro did not finish"
grep -q "^Native library file: ${FIJI}/lib/linux64/libvisual_ccc.so" "${WORK}/install.log" \
    || die "the native library was not loaded from lib/linux64"
grep -q "^ONNX Runtime: version 1.22.1 required; library ${FIJI}/lib/linux64/libonnxruntime.so" \
    "${WORK}/install.log" || die "ONNX Runtime was not found in lib/linux64"
[[ -f "${FIJI}/models/visual-ccc/my-model.onnx" && -f "${FIJI}/models/visual-ccc/my-model.md" ]] \
    || die "Model Manager did not install the model and its card"
[[ -f "${FIJI}/models/visual-ccc/tiny-classifier.onnx" ]] \
    || die "Model Manager did not install the BioImage Model Zoo zip"
grep -q "A copy of the test fixture, with a card." "${WORK}/install.log" || die "the model card was not shown"
grep -q "^model-column=my-model" "${WORK}/install.log" || die "Classify Morphology did not use the installed model"
[[ ! -e "${WORK}/home/.cache/visual-ccc/natives" ]] || die "natives were extracted although lib/linux64 has them"

# Uninstall as the README says; nothing of Visual-CCC may remain.
rm -f "${FIJI}/plugins/Visual_CCC.jar" "${FIJI}/lib/linux64/libvisual_ccc.so" "${FIJI}/lib/linux64/libonnxruntime.so"
rm -rf "${FIJI}/models/visual-ccc"
left="$(cd "${FIJI}" && find . -type f ! -name ij.jar ! -name IJ_Prefs.txt)"
[[ -z "${left}" ]] || die "left after uninstalling: ${left}"
ok=1
echo "e2e-install: PASS"
