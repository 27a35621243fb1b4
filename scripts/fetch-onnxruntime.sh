#!/usr/bin/env bash
# Provisions the ONNX Runtime shared library (Linux x86_64) from the official PyPI
# wheel, so that nothing but PyPI has to be reachable.
#
#   scripts/fetch-onnxruntime.sh [OUTPUT_DIR]
#
# OUTPUT_DIR defaults to <repo>/build/onnxruntime/linux-x86_64. The wheel is cached in
# ${VISUAL_CCC_CACHE:-$HOME/.cache/visual-ccc}/wheels. Both the wheel and the extracted
# library are checked against the SHA-256 values pinned below; any mismatch is fatal.
# Idempotent: when the library is already in place with the pinned hash, nothing is done.
#
# Only the versioned name libonnxruntime.so.1.22.1 is written; the core's loader looks
# for both that name and libonnxruntime.so. For the `ort` crate directly, point
# ORT_DYLIB_PATH at the printed path.
set -euo pipefail

ORT_VERSION="1.22.1"
WHEEL_NAME="onnxruntime-${ORT_VERSION}-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
# Same value as PyPI's published digest for this file.
WHEEL_SHA256="f6effa1299ac549a05c784d50292e3378dbbf010346ded67400193b09ddc2f04"
LIB_MEMBER="onnxruntime/capi/libonnxruntime.so.${ORT_VERSION}"
LIB_NAME="libonnxruntime.so.${ORT_VERSION}"
# Also recorded in the wheel's RECORD (base64 rZZliHAlR0Fw0-cc0oAh5-gRxb8gG8Nl-VPjSixJicw).
LIB_SHA256="ad9665887025474170d3e71cd28021e7e811c5bf201bc365f953e34a2c4989cc"

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "${SCRIPT_DIR}/.." && pwd -P)"

OUT_DIR="${1:-${REPO_ROOT}/build/onnxruntime/linux-x86_64}"
CACHE_DIR="${VISUAL_CCC_CACHE:-${HOME}/.cache/visual-ccc}/wheels"

die() {
    echo "fetch-onnxruntime: ERROR: $*" >&2
    exit 1
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -- "$1" | cut -d' ' -f1
    else
        python3 -c 'import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
    fi
}

command -v python3 >/dev/null 2>&1 || die "python3 is required"

if [[ "$(uname -s)" != "Linux" || "$(uname -m)" != "x86_64" ]]; then
    echo "fetch-onnxruntime: note: this provides the Linux x86_64 library; this machine is $(uname -s) $(uname -m)" >&2
fi

mkdir -p -- "${OUT_DIR}"
OUT_DIR="$(cd -- "${OUT_DIR}" && pwd -P)"
LIB_PATH="${OUT_DIR}/${LIB_NAME}"

# 1. Already provisioned?
if [[ -f "${LIB_PATH}" ]]; then
    have="$(sha256_of "${LIB_PATH}")"
    if [[ "${have}" == "${LIB_SHA256}" ]]; then
        echo "fetch-onnxruntime: ${LIB_NAME} already present with the pinned SHA-256; nothing to do"
        echo "${LIB_PATH}"
        exit 0
    fi
    echo "fetch-onnxruntime: ${LIB_PATH} has SHA-256 ${have}, expected ${LIB_SHA256}; replacing it" >&2
fi

# 2. Wheel in the cache (download from PyPI when absent or corrupt).
mkdir -p -- "${CACHE_DIR}"
WHEEL_PATH="${CACHE_DIR}/${WHEEL_NAME}"
if [[ -f "${WHEEL_PATH}" && "$(sha256_of "${WHEEL_PATH}")" != "${WHEEL_SHA256}" ]]; then
    echo "fetch-onnxruntime: cached ${WHEEL_NAME} has the wrong SHA-256; downloading it again" >&2
    rm -f -- "${WHEEL_PATH}"
fi
if [[ ! -f "${WHEEL_PATH}" ]]; then
    echo "fetch-onnxruntime: downloading onnxruntime==${ORT_VERSION} wheel into ${CACHE_DIR}" >&2
    python3 -m pip download --disable-pip-version-check --no-input \
        --no-deps --only-binary=:all: \
        --python-version 3.11 --implementation cp \
        --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        "onnxruntime==${ORT_VERSION}" -d "${CACHE_DIR}" >&2 \
        || die "pip download of onnxruntime==${ORT_VERSION} failed"
    [[ -f "${WHEEL_PATH}" ]] || die "pip did not produce ${WHEEL_NAME} in ${CACHE_DIR}; found: $(ls -- "${CACHE_DIR}" | tr '\n' ' ')"
fi
have="$(sha256_of "${WHEEL_PATH}")"
if [[ "${have}" != "${WHEEL_SHA256}" ]]; then
    rm -f -- "${WHEEL_PATH}"
    die "SHA-256 mismatch for ${WHEEL_NAME}: got ${have}, pinned ${WHEEL_SHA256} (file removed from the cache)"
fi

# 3. Extract the library next to its final place, verify, then move it in atomically.
TMP_PATH="$(mktemp "${OUT_DIR}/.${LIB_NAME}.XXXXXX")"
trap 'rm -f -- "${TMP_PATH}"' EXIT
python3 - "${WHEEL_PATH}" "${LIB_MEMBER}" "${TMP_PATH}" <<'PY'
import shutil
import sys
import zipfile

wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as zf:
    try:
        src = zf.open(member)
    except KeyError:
        sys.exit(f"fetch-onnxruntime: ERROR: {member} is not in {wheel}")
    with src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
PY
have="$(sha256_of "${TMP_PATH}")"
[[ "${have}" == "${LIB_SHA256}" ]] \
    || die "SHA-256 mismatch for ${LIB_MEMBER}: got ${have}, pinned ${LIB_SHA256}"
chmod 0755 -- "${TMP_PATH}"
mv -f -- "${TMP_PATH}" "${LIB_PATH}"
trap - EXIT

echo "fetch-onnxruntime: installed ONNX Runtime ${ORT_VERSION} library"
echo "${LIB_PATH}"
