#!/usr/bin/env python3
"""Calibrates an existing morphology model without retraining it: fits the temperature
(visualccc.temperature) and the unfamiliar threshold (visualccc.unfamiliar) exactly as
train.py does, on the same validation split, and writes them into a copy of the model.

    python3 training/calibrate.py models/morphology.onnx --out /tmp/calibrated.onnx \
        --synth-bin target/release/visual-ccc --synth-cache /tmp/synth

Prints the calibration report (ECE before/after on the held-out set, flagged share per
source) as JSON.
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--out", required=True)
    ap.add_argument("--synth-bin")
    ap.add_argument("--synth-cache")
    ap.add_argument("--data")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--val-frac", type=float, default=0.1)
    ap.add_argument("--test-frac", type=float, default=0.2)
    ap.add_argument("--unfamiliar-quantile", type=float, default=0.95)
    args = ap.parse_args()
    import onnx
    import onnxruntime as ort

    task = train.TASKS["morphology"]
    classes = task["classes"]
    data = train.data_root(args.data)
    binary = train.find_synth_binary(args.synth_bin)
    cache = args.synth_cache or tempfile.mkdtemp(prefix="visualccc-cal-")
    uhcs = train.uhcs_samples(data, {c: 0 for c in train.TASKS["uhcs"]["classes"]})
    uhcs_by_class = train.uhcs_samples(data, {c: i for i, c in enumerate(train.TASKS["uhcs"]["classes"])})
    _, uhcs_test = train.stratified_split(uhcs_by_class, args.test_frac, args.seed)
    test_paths = {s.path for s in uhcs_test}
    emps_train, emps_test = train.stratified_split(train.emps_round_samples(data, 2), args.test_frac, args.seed)
    synth_train = train.synth_samples(binary, os.path.join(cache, "train"), train.SYNTH_TRAIN, 1, classes)
    synth_test = train.synth_samples(binary, os.path.join(cache, "test"), train.SYNTH_TEST,
                                     train.SYNTH_TEST_SEED, classes)
    train_s = [s for s in uhcs if s.path not in test_paths] + emps_train + synth_train
    test_s = [s for s in uhcs if s.path in test_paths] + emps_test + synth_test
    _, val_s = train.stratified_split(train_s, args.val_frac, args.seed + 7)
    model = onnx.load(args.model)
    meta = {p.key: p.value for p in model.metadata_props}
    size = int(meta["visualccc.input_size"])
    tile = int(meta.get("visualccc.tile_source_size", size))
    train.decode_all(val_s + test_s, size, task["crop_scale"][0], tile)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])

    def logits(samples):
        return [sess.run(["logits"], {"input": s.tiles.astype(np.float32)[:, None]})[0].astype(np.float64)
                for s in samples]

    val_l, test_l = logits(val_s), logits(test_s)
    t = train.fit_temperature(val_l, np.array([s.label for s in val_s]))
    threshold = float(np.quantile(train.energy_scores(val_l, t), args.unfamiliar_quantile))
    y = np.array([s.label for s in test_s])
    energy = train.energy_scores(test_l, t)
    report = {
        "temperature": t, "threshold": threshold,
        "ece_before": train.expected_calibration_error(train.whole_probs(test_l, 1.0), y),
        "ece_after": train.expected_calibration_error(train.whole_probs(test_l, t), y),
        "flagged_by_source": {src: float(np.mean([e > threshold for e, s in zip(energy, test_s) if s.source == src]))
                              for src in sorted({s.source for s in test_s})},
        "validation_images": len(val_s),
    }
    meta["visualccc.temperature"] = f"{t:.4f}"
    meta["visualccc.unfamiliar"] = json.dumps({"score": "energy", "threshold": round(threshold, 4),
                                               "quantile": args.unfamiliar_quantile}, sort_keys=True)
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, meta)
    onnx.save(model, args.out)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
