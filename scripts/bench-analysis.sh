#!/usr/bin/env bash
# Builds the release CLI, then runs scripts/bench-analysis.py: the image-analysis commands
# (preprocess, texture, cluster, analyze) against scikit-image / scikit-learn / OpenCV on
# the same images. Arguments go to the Python script, e.g.
#   scripts/bench-analysis.sh --images 3 --update-docs
# Needs Python 3 with numpy, scipy, scikit-image, scikit-learn, pillow and
# opencv-python-headless (pip install opencv-python-headless).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p visual-ccc-cli
exec python3 scripts/bench-analysis.py "$@"
