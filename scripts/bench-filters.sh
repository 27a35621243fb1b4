#!/usr/bin/env bash
# Builds the release CLI, then runs scripts/bench-filters.py (ours vs OpenCV vs
# scikit-image, 8- and 16-bit, 2 threads) and prints the filter table for
# docs/benchmarks.md. Arguments go to the Python script, e.g. --repeats 7.
# Needs: pip install opencv-python-headless scikit-image
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p visual-ccc-cli
exec taskset -c 0-1 python3 scripts/bench-filters.py "$@"
