# Shared by the end-to-end ImageJ tests; sourced, never run on its own:
#
#   E2E_NAME=e2e-something
#   source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh" "$@"
#
# Arguments: [PLUGIN_JAR] [IJ_JAR], defaulting to build/libs/Visual_CCC.jar (build it
# first: gradle --offline jar; nothing is built here) and /usr/share/java/ij.jar.
# Environment: KEEP_E2E=1 keeps the temporary directory (it is always kept on failure);
# E2E_TIMEOUT=secs limits each ImageJ run (default 300).
#
# Provides: REPO_ROOT, JAR, IJ_JAR, TIMEOUT; WORK (a temporary directory, removed on exit
# once the caller has set ok=1), IJ_HOME (a throw-away ImageJ folder holding
# plugins/<jar>, with its own user.home and native cache), OUT (for outputs); and the
# functions die, require_cli, run_imagej, run_macro, draw_sample and check_error below.

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)"
JAR="${1:-${REPO_ROOT}/build/libs/Visual_CCC.jar}"
IJ_JAR="${2:-/usr/share/java/ij.jar}"
TIMEOUT="${E2E_TIMEOUT:-300}"
E2E_NAME="${E2E_NAME:-e2e}"

die() {
    echo "${E2E_NAME}: FAIL: $*" >&2
    exit 1
}

[[ -f "${JAR}" ]] || die "plugin jar ${JAR} not found (build it with: gradle --offline jar)"
[[ -f "${IJ_JAR}" ]] || die "ImageJ jar ${IJ_JAR} not found"
for tool in java xvfb-run python3 timeout; do
    command -v "${tool}" >/dev/null 2>&1 || die "${tool} is required"
done
JAR="$(cd -- "$(dirname -- "${JAR}")" && pwd -P)/$(basename -- "${JAR}")"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/visual-ccc-${E2E_NAME}.XXXXXX")"
ok=0
cleanup() {
    if [[ "${ok}" == 1 && "${KEEP_E2E:-0}" != 1 ]]; then
        rm -rf -- "${WORK}"
    else
        echo "${E2E_NAME}: files kept in ${WORK}" >&2
    fi
}
trap cleanup EXIT

IJ_HOME="${WORK}/imagej"
OUT="${WORK}/out"
mkdir -p "${IJ_HOME}/plugins" "${WORK}/home" "${WORK}/cache" "${OUT}"
cp -- "${JAR}" "${IJ_HOME}/plugins/"

# require_cli: sets SYNTH to the command-line tool target/debug/visual-ccc, which must
# be built (cargo build -p visual-ccc-cli).
require_cli() {
    SYNTH="${REPO_ROOT}/target/debug/visual-ccc"
    [[ -x "${SYNTH}" ]] || die "${SYNTH} not built (cargo build -p visual-ccc-cli)"
}

# run_imagej MACRO LOG: runs an ImageJ macro file in batch mode under Xvfb; its output
# goes to LOG and, indented, to stdout.
run_imagej() {
    local macro="$1" log="$2" rc=0
    (cd "${IJ_HOME}" && timeout "${TIMEOUT}" xvfb-run -a java -Xmx2g \
        -Duser.home="${WORK}/home" \
        -Dplugins.dir="${IJ_HOME}" \
        -Dvisualccc.cache.dir="${WORK}/cache" \
        -cp "${IJ_JAR}" ij.ImageJ -batch "${macro}") >"${log}" 2>&1 || rc=$?
    sed 's/^/    | /' "${log}"
    return "${rc}"
}

# run_macro NAME MARKER: runs ${WORK}/NAME.ijm with run_imagej (output in
# ${WORK}/NAME.log); ImageJ must exit normally and the macro must print MARKER at its end.
run_macro() {
    local name="$1" marker="$2"
    run_imagej "${WORK}/${name}.ijm" "${WORK}/${name}.log" || die "ImageJ exited with an error in ${name}.ijm"
    grep -q "${marker}" "${WORK}/${name}.log" \
        || die "the macro ${name}.ijm did not finish (see the ImageJ output above)"
}

# draw_sample PATH WIDTH HEIGHT: draws an 8-bit sample micrograph with ImageJ (three
# particles of different grey on a grey background, with noise) and saves it as TIFF,
# for runs that are given no sample image and cannot generate one.
draw_sample() {
    local path="$1" w="$2" h="$3"
    cat >"${WORK}/draw_sample.ijm" <<EOF
newImage("sample", "8-bit black", ${w}, ${h}, 1);
setColor(60); fillRect(0, 0, ${w}, ${h});
setColor(200); fillOval(${w} / 8, ${h} / 6, ${w} * 9 / 32, ${h} / 3);
setColor(140); fillOval(${w} * 19 / 32, ${h} / 2, ${w} / 4, ${h} / 3);
setColor(230); fillOval(${w} * 11 / 16, ${h} / 12, ${w} * 5 / 32, ${h} * 5 / 24);
run("Add Specified Noise...", "standard=10");
saveAs("Tiff", "${path}");
EOF
    run_imagej "${WORK}/draw_sample.ijm" "${WORK}/draw_sample.log" || die "ImageJ could not draw the sample"
    [[ -f "${path}" ]] || die "the sample macro did not write ${path}"
}

# check_error NAME SETUP COMMAND OPTIONS EXPECT: runs SETUP (macro code opening an
# image) and then run(COMMAND, OPTIONS); the command must log "Visual-CCC error: ...EXPECT"
# and abort the macro (the line after run() is not reached) while ImageJ exits normally.
check_error() {
    local name="$1" setup="$2" command="$3" options="$4" expect="$5"
    cat >"${WORK}/${name}.ijm" <<EOF
setBatchMode(true);
${setup}
run("${command}", "${options}");
print("E2E-NOT-ABORTED");
EOF
    echo "${E2E_NAME}: error case '${name}'"
    run_imagej "${WORK}/${name}.ijm" "${WORK}/${name}.log" || die "ImageJ failed (exit status) in error case '${name}'"
    grep -q "Visual-CCC error: .*${expect}" "${WORK}/${name}.log" \
        || die "error case '${name}': no 'Visual-CCC error: ...${expect}...' in the output"
    if grep -q "E2E-NOT-ABORTED" "${WORK}/${name}.log"; then
        die "error case '${name}': the macro went on after the error"
    fi
}
