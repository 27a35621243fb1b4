#!/usr/bin/env bash
# Runs every test: Rust formatting, lints and tests, the Java unit tests against the real
# ImageJ jar and native library, and end-to-end macros in real ImageJ under Xvfb.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/ensure-deps.sh"
cd "$REPO_ROOT"
# A one-off CI build gains nothing from incremental caches, which cost gigabytes of disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --locked
echo "==> C API: the example and the error paths compiled with cc against the header"
bash tests/capi/run_c_api_test.sh
echo "==> fuzz smoke run: decode, model_load, package_import, 20 s each (skips without nightly + cargo-fuzz)"
FUZZ_SEED=1 bash scripts/fuzz.sh 20
echo "==> training pipeline smoke test (skips without PyTorch)"
bash training/smoke_test.sh ./target/debug/visual-ccc
echo "==> gradle jar test (plugin jar; JUnit against ij.jar and the native library)"
rm -rf build/test-results
gradle --offline --quiet jar test
python3 tests/support/junit_summary.py build/test-results
echo "==> end-to-end: ImageJ macros under Xvfb, on a generated micrograph"
sample_dir="$(mktemp -d)"
trap 'rm -rf "$sample_dir"' EXIT
./target/debug/visual-ccc synth --class spheroid --seed 11 --width 640 --height 480 --out "$sample_dir/sample.tif" >/dev/null
SAMPLE_IMAGE="$sample_dir/sample.tif" bash tests/e2e/run_imagej_macro_test.sh "$REPO_ROOT/build/libs/Visual_CCC.jar"
bash tests/e2e/run_analysis_macro_test.sh "$REPO_ROOT/build/libs/Visual_CCC.jar"
bash tests/e2e/run_batch_macro_test.sh "$REPO_ROOT/build/libs/Visual_CCC.jar"
bash tests/e2e/run_analyze_macro_test.sh "$REPO_ROOT/build/libs/Visual_CCC.jar"
bash tests/e2e/run_databar_macro_test.sh "$REPO_ROOT/build/libs/Visual_CCC.jar"
bash tests/e2e/run_train_macro_test.sh "$REPO_ROOT/build/libs/Visual_CCC.jar"
bash tests/e2e/run_install_test.sh
echo "==> SLURM: job array and merge on a local slurmctld/slurmd/munged"
VISUAL_CCC=./target/debug/visual-ccc bash tests/slurm/run.sh
bash tests/e2e/run_conventions_test.sh "$REPO_ROOT/build/libs/Visual_CCC.jar"
echo "==> all tests passed"
