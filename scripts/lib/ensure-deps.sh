# Sourced by demo.sh and test.sh: installs what a fresh Debian 12 machine with only
# Rust, Java 17 and Python 3 lacks, and fetches ONNX Runtime. Safe to run repeatedly.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

need_apt=()
command -v gradle >/dev/null 2>&1 || need_apt+=(gradle)
[ -f /usr/share/java/ij.jar ] || need_apt+=(libij-java)
[ -f /usr/share/java/junit4.jar ] || need_apt+=(junit4)
command -v xvfb-run >/dev/null 2>&1 || need_apt+=(xvfb)
command -v xauth >/dev/null 2>&1 || need_apt+=(xauth)
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "==> installing Debian packages: ${need_apt[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

echo "==> ONNX Runtime"
bash "$REPO_ROOT/scripts/fetch-onnxruntime.sh" "$REPO_ROOT/build/onnxruntime/linux-x86_64"
