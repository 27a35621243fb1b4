#!/usr/bin/env python3
"""Imports a BioImage Model Zoo image classifier (RDF v0.5, ONNX weights) as a Visual-CCC
model (docs/model-format.md).

    python3 scripts/import-bioimageio.py PACKAGE.zip|rdf.yaml|bioimageio.yaml --out DIR

Checks that the package is an ONNX image classifier: one input with axes
[batch, channel (1), y, x] and a square test tensor, one output with axes
[batch, channel]. Wraps the network into one ONNX file that follows our contract:

  input  `input` [N,1,S,S] grey values in [0, 1] (Visual-CCC's convention: 8-bit / 255)
         -> x * 255 (the raw 8-bit range the package's preprocessing expects)
         -> the package's preprocessing as ONNX operators:
            scale_linear, fixed_zero_mean_unit_variance, zero_mean_unit_variance and
            scale_range (per tile, over y and x; percentiles other than 0/100 by nearest
            rank), clip, ensure_dtype float32
         -> the network
  output `logits` [N,C]: the network's output, or its log when the package's
         postprocessing is a softmax (so that our softmax returns its probabilities)

S is the test tensor's size; class names come from the output's channel_names.
Then it runs the package's test input through the wrapped model (input / 255) and
compares with the test output (|diff| <= 1e-4 + 1e-3 |expected|), and writes
DIR/<name>.onnx with visualccc.* metadata. The network has no `features` output, so
Visual-CCC classifies with it but cannot draw class activation maps; it says so.

Needs numpy, onnx, onnxruntime and PyYAML. Exit code 2 with a message on any problem.
"""
import argparse
import os
import re
import sys
import tempfile
import zipfile

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

RAW_SCALE = 255.0
EPS = 1e-6


class ImportError_(Exception):
    pass


def fail(message):
    raise ImportError_(message)


def load_rdf(path, workdir):
    """The RDF dict and the folder its relative sources refer to."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            z.extractall(workdir)
        for name in ("rdf.yaml", "bioimageio.yaml"):
            candidate = os.path.join(workdir, name)
            if os.path.isfile(candidate):
                path = candidate
                break
        else:
            fail("the zip holds no rdf.yaml or bioimageio.yaml at its top level")
    with open(path) as f:
        rdf = yaml.safe_load(f)
    if not isinstance(rdf, dict):
        fail(f"{path} is not a YAML mapping")
    return rdf, os.path.dirname(os.path.abspath(path))


def source(entry, root, what):
    src = entry.get("source") if isinstance(entry, dict) else entry
    if not isinstance(src, str) or re.match(r"^[a-z]+://", src):
        fail(f"{what}: only files inside the package are supported, not {src!r}")
    path = os.path.join(root, src)
    if not os.path.isfile(path):
        fail(f"{what}: {src} is not in the package")
    return path


def axis_types(tensor):
    return [a.get("type") for a in tensor.get("axes", [])]


def check_classifier(rdf):
    if rdf.get("type") != "model":
        fail(f"not a model RDF (type: {rdf.get('type')!r})")
    if not str(rdf.get("format_version", "")).startswith("0.5"):
        fail(f"format_version {rdf.get('format_version')!r}: only RDF 0.5 is supported")
    if "onnx" not in (rdf.get("weights") or {}):
        fail(f"no ONNX weights (weights: {sorted(rdf.get('weights') or {})}); export the model to ONNX")
    inputs, outputs = rdf.get("inputs") or [], rdf.get("outputs") or []
    if len(inputs) != 1 or len(outputs) != 1:
        fail(f"expected one input and one output, found {len(inputs)} and {len(outputs)}")
    inp, out = inputs[0], outputs[0]
    if axis_types(inp) != ["batch", "channel", "space", "space"]:
        fail(f"input axes {axis_types(inp)}: expected [batch, channel, space y, space x]")
    channel = inp["axes"][1]
    channels = len(channel.get("channel_names", [])) or channel.get("size", 1)
    if channels != 1:
        fail(f"the input has {channels} channels; Visual-CCC feeds one grey channel")
    if axis_types(out) != ["batch", "channel"]:
        fail(f"output axes {axis_types(out)}: not an image classifier (expected [batch, channel])")
    return inp, out


class GraphBuilder:
    """Collects the ONNX nodes and constants of the preprocessing."""

    def __init__(self, opset):
        self.opset, self.nodes, self.inits, self.count = opset, [], [], 0

    def _name(self, prefix):
        self.count += 1
        return f"bmz_{prefix}_{self.count}"

    def const(self, value, dtype=np.float32):
        name = self._name("const")
        self.inits.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
        return name

    def op(self, kind, inputs, outputs=1, **attrs):
        """Adds a node; returns its output name (the first if it has several)."""
        names = [self._name(kind.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(kind, inputs, names, **attrs))
        return names[0]

    def reduce(self, kind, x, axes=(2, 3)):
        """Reduction over `axes` keeping them (opset 18 moved `axes` to an input)."""
        if self.opset >= 18:
            return self.op(kind, [x, self.const(list(axes), np.int64)], keepdims=1)
        return self.op(kind, [x], axes=list(axes), keepdims=1)

    def percentile(self, x, q):
        """Per-sample q-th percentile over y and x: exact min/max for 0 and 100, else the
        nearest rank (the ceil((1 - q/100) n)-th largest value, via TopK)."""
        if q <= 0:
            return self.reduce("ReduceMin", x)
        if q >= 100:
            return self.reduce("ReduceMax", x)
        flat = self.op("Reshape", [x, self.const([0, 1, -1], np.int64)])
        n = self.op("Cast", [self.op("Gather", [self.op("Shape", [flat]), self.const([2], np.int64)])],
                    to=TensorProto.FLOAT)
        k = self.op("Ceil", [self.op("Mul", [n, self.const(1.0 - q / 100.0)])])
        k = self.op("Cast", [self.op("Max", [k, self.const([1.0])])], to=TensorProto.INT64)
        top = self.op("TopK", [flat, k], outputs=2, axis=2, largest=1)
        return self.op("Reshape", [self.reduce("ReduceMin", top, (2,)), self.const([0, 1, 1, 1], np.int64)])


def scalar(kwargs, key, default=None):
    value = kwargs.get(key, default)
    if isinstance(value, list):
        if len(value) != 1:
            fail(f"{key}={value}: per-channel values need one channel")
        value = value[0]
    if value is None:
        fail(f"missing {key}")
    return float(value)


def preprocessing_nodes(steps, x, opset):
    """ONNX nodes applying the package's preprocessing to tensor `x` (raw values)."""
    g = GraphBuilder(opset)
    for step in steps or []:
        kind, kwargs = step.get("id"), step.get("kwargs") or {}
        eps = lambda: g.const(float(kwargs.get("eps", EPS)))  # noqa: E731
        if kind == "scale_linear":
            scaled = g.op("Mul", [x, g.const(scalar(kwargs, "gain", 1.0))])
            x = g.op("Add", [scaled, g.const(scalar(kwargs, "offset", 0.0))])
        elif kind == "fixed_zero_mean_unit_variance":
            centred = g.op("Sub", [x, g.const(scalar(kwargs, "mean"))])
            x = g.op("Div", [centred, g.op("Add", [g.const(scalar(kwargs, "std")), eps()])])
        elif kind == "zero_mean_unit_variance":
            centred = g.op("Sub", [x, g.reduce("ReduceMean", x)])
            std = g.op("Sqrt", [g.reduce("ReduceMean", g.op("Mul", [centred, centred]))])
            x = g.op("Div", [centred, g.op("Add", [std, eps()])])
        elif kind == "scale_range":
            lo = g.percentile(x, float(kwargs.get("min_percentile", 0.0)))
            hi = g.percentile(x, float(kwargs.get("max_percentile", 100.0)))
            span = g.op("Add", [g.op("Sub", [hi, lo]), eps()])
            x = g.op("Div", [g.op("Sub", [x, lo]), span])
        elif kind == "clip":
            x = g.op("Clip", [x, g.const(scalar(kwargs, "min")), g.const(scalar(kwargs, "max"))])
        elif kind == "ensure_dtype":
            if kwargs.get("dtype", "float32") != "float32":
                fail(f"ensure_dtype {kwargs.get('dtype')}: only float32 inputs are supported")
        else:
            fail(f"preprocessing '{kind}' is not supported (supported: scale_linear, "
                 "fixed_zero_mean_unit_variance, zero_mean_unit_variance, scale_range, clip, ensure_dtype)")
    return g.nodes, g.inits, x


def wrap(model, inp, out, size, classes, description):
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    original_in = graph.input[0].name
    original_out = graph.output[0].name
    raw = helper.make_node("Mul", ["input", "bmz_raw_scale"], ["bmz_raw"])
    nodes, inits, pre = preprocessing_nodes(inp.get("preprocessing"), "bmz_raw", opset)
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == original_in:
                node.input[i] = pre
    tail = helper.make_node("Log" if has_softmax(out) else "Identity", [original_out], ["logits"])
    all_nodes = [raw] + nodes + list(graph.node) + [tail]
    del graph.node[:]
    graph.node.extend(all_nodes)
    graph.initializer.extend([numpy_helper.from_array(np.array(RAW_SCALE, dtype=np.float32), "bmz_raw_scale")] + inits)
    del graph.input[:]
    graph.input.extend([helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, size, size])])
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(classes)])])
    del graph.value_info[:]
    del model.metadata_props[:]
    for key, value in {
        "visualccc.format": "1",
        "visualccc.classes": "[" + ",".join('"' + c.replace('"', "'") + '"' for c in classes) + "]",
        "visualccc.input_size": str(size),
        "visualccc.preprocessing": "center-crop",
        "visualccc.kind": "trained",
        "visualccc.description": description,
    }.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model


def has_softmax(out):
    return any(s.get("id") == "softmax" for s in out.get("postprocessing") or [])


def validate(model_bytes, test_input, test_output, probabilities):
    """Max |difference| between the wrapped model on the test input and the test output
    (probabilities when the package ends in a softmax, compared with exp(logits))."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    logits = session.run(["logits"], {"input": (test_input / RAW_SCALE).astype(np.float32)})[0]
    got = np.exp(logits.astype(np.float64)) if probabilities else logits.astype(np.float64)
    expected = test_output.reshape(got.shape).astype(np.float64)
    if not np.allclose(got, expected, rtol=1e-3, atol=1e-4):
        fail(f"the package's test output is not reproduced: expected {expected.ravel()[:6]}, "
             f"got {got.ravel()[:6]}")
    return float(np.max(np.abs(got - expected)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", help="PACKAGE.zip, rdf.yaml or bioimageio.yaml")
    parser.add_argument("--out", required=True, help="folder for <name>.onnx (e.g. a models folder)")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as work:
            rdf, root = load_rdf(args.package, work)
            inp, out = check_classifier(rdf)
            test_input = np.load(source(inp.get("test_tensor"), root, "input test tensor"))
            test_output = np.load(source(out.get("test_tensor"), root, "output test tensor"))
            if test_input.ndim != 4 or test_input.shape[2] != test_input.shape[3]:
                fail(f"test input has shape {test_input.shape}; Visual-CCC needs a square [1,1,S,S] input")
            size = int(test_input.shape[2])
            channel = out["axes"][1]
            count = int(np.prod(test_output.shape[1:]))
            classes = list(channel.get("channel_names") or [f"class_{i}" for i in range(count)])
            if len(classes) != count:
                fail(f"{len(classes)} channel names for {count} outputs")
            model = onnx.load(source(rdf["weights"]["onnx"], root, "ONNX weights"))
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(rdf.get("name", "bioimageio-model"))).strip("-")
            description = f"{rdf.get('name', name)} (BioImage Model Zoo {rdf.get('id', 'package')}): " \
                          f"{rdf.get('description', '')}".strip()
            wrapped = wrap(model, inp, out, size, classes, description)
            data = wrapped.SerializeToString()
            error = validate(data, test_input, test_output, has_softmax(out))
            os.makedirs(args.out, exist_ok=True)
            target = os.path.join(args.out, name + ".onnx")
            with open(target, "wb") as f:
                f.write(data)
    except ImportError_ as e:
        print(f"import-bioimageio: {e}", file=sys.stderr)
        return 2
    print(f"import-bioimageio: wrote {target}: {len(classes)} classes {classes}, input {size}x{size}, "
          f"test output reproduced (max |diff| {error:.2e}); no 'features' output, so no CAM "
          f"(Visual-CCC offers classification only for this model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
