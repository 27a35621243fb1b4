"""scripts/import-bioimageio.py against the tiny BioImage Model Zoo package in
tests/fixtures/bioimageio (written by its make_package.py).

    python3 -m unittest tests/support/test_import_bioimageio.py

Skips when numpy, onnx, onnxruntime or PyYAML is missing.
"""
import contextlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import zipfile

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    import yaml
except ImportError as missing:  # pragma: no cover
    raise unittest.SkipTest(f"needs numpy, onnx, onnxruntime and PyYAML: {missing}")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE = os.path.join(REPO, "tests", "fixtures", "bioimageio", "tiny-classifier")
spec = importlib.util.spec_from_file_location("importer", os.path.join(REPO, "scripts", "import-bioimageio.py"))
importer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(importer)


def run_importer(*args):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = importer.main(list(args))
    return code, err.getvalue()


class ImportBioimageio(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def copy_package(self, edit):
        """A copy of the package whose RDF `edit` changes in place."""
        folder = os.path.join(self.tmp, "package")
        shutil.copytree(PACKAGE, folder)
        path = os.path.join(folder, "rdf.yaml")
        with open(path) as f:
            rdf = yaml.safe_load(f)
        edit(rdf)
        with open(path, "w") as f:
            yaml.safe_dump(rdf, f)
        return path

    def imported(self, out="out"):
        return onnx.load(os.path.join(self.tmp, out, "tiny-classifier.onnx"))

    def test_package_becomes_a_contract_model_that_reproduces_its_test_output(self):
        code, err = run_importer(os.path.join(PACKAGE, "rdf.yaml"), "--out", os.path.join(self.tmp, "out"))
        self.assertEqual(code, 0, err)
        model = self.imported()
        meta = {p.key: p.value for p in model.metadata_props}
        self.assertEqual(json.loads(meta["visualccc.classes"]), ["ferrite", "pearlite", "martensite"])
        self.assertEqual(meta["visualccc.input_size"], "48")
        self.assertEqual([i.name for i in model.graph.input], ["input"])
        self.assertEqual([o.name for o in model.graph.output], ["logits"])
        cli = os.path.join(REPO, "target", "debug", "visual-ccc")
        if os.path.exists(cli):
            image = os.path.join(self.tmp, "grey.tif")
            pixels = (np.arange(96 * 80) % 251).astype(np.uint8).reshape(80, 96)
            _write_tiff(image, pixels)
            result = subprocess.run([cli, "classify", "--model", os.path.join(self.tmp, "out", "tiny-classifier.onnx"),
                                     image], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn(json.loads(result.stdout)["class"], ["ferrite", "pearlite", "martensite"])

    def test_zip_packages_are_read(self):
        archive = os.path.join(self.tmp, "package.zip")
        with zipfile.ZipFile(archive, "w") as z:
            for name in os.listdir(PACKAGE):
                z.write(os.path.join(PACKAGE, name), name)
        code, err = run_importer(archive, "--out", os.path.join(self.tmp, "zip"))
        self.assertEqual(code, 0, err)

    def test_per_sample_normalisations_match_numpy(self):
        steps = [{"id": "zero_mean_unit_variance", "kwargs": {"axes": ["y", "x"]}},
                 {"id": "scale_range", "kwargs": {"min_percentile": 1.0, "max_percentile": 99.0}},
                 {"id": "clip", "kwargs": {"min": 0.0, "max": 1.0}}]

        def edit(rdf):
            rdf["inputs"][0]["preprocessing"] = steps
            rdf["outputs"][0].pop("test_tensor")
            rdf["outputs"][0]["test_tensor"] = {"source": "test_output.npy"}

        path = self.copy_package(edit)
        raw = np.load(os.path.join(PACKAGE, "test_input.npy")).astype(np.float64)
        x = (raw - raw.mean()) / (raw.std() + 1e-6)
        flat = np.sort(x.ravel())
        n = flat.size
        lo = flat[n - max(1, int(np.ceil(0.99 * n)))]
        hi = flat[n - max(1, int(np.ceil(0.01 * n)))]
        x = np.clip((x - lo) / (hi - lo + 1e-6), 0, 1).astype(np.float32)
        original = ort.InferenceSession(os.path.join(PACKAGE, "model.onnx"), providers=["CPUExecutionProvider"])
        expected = original.run(None, {"raw": x})[0]
        np.save(os.path.join(os.path.dirname(path), "test_output.npy"), expected)
        code, err = run_importer(path, "--out", os.path.join(self.tmp, "out"))
        self.assertEqual(code, 0, err)

    def test_wrong_test_output_is_caught(self):
        path = self.copy_package(lambda rdf: None)
        np.save(os.path.join(os.path.dirname(path), "test_output.npy"), np.zeros((1, 3), np.float32))
        code, err = run_importer(path, "--out", os.path.join(self.tmp, "out"))
        self.assertEqual(code, 2)
        self.assertIn("not reproduced", err)

    def test_non_classifiers_and_unsupported_packages_are_refused_with_reasons(self):
        cases = [
            (lambda r: r["inputs"][0]["axes"][1].update(channel_names=["r", "g", "b"]), "3 channels"),
            (lambda r: r["outputs"][0]["axes"].extend([{"type": "space", "id": "y", "size": 48}]),
             "not an image classifier"),
            (lambda r: r["weights"].pop("onnx"), "no ONNX weights"),
            (lambda r: r["inputs"][0]["preprocessing"].append({"id": "binarize", "kwargs": {"threshold": 0.5}}),
             "'binarize' is not supported"),
            (lambda r: r.update(format_version="0.4.10"), "only RDF 0.5"),
        ]
        for edit, message in cases:
            with self.subTest(message):
                shutil.rmtree(os.path.join(self.tmp, "package"), ignore_errors=True)
                code, err = run_importer(self.copy_package(edit), "--out", os.path.join(self.tmp, "out"))
                self.assertEqual(code, 2, err)
                self.assertIn(message, err)


def _write_tiff(path, pixels):
    """A minimal uncompressed 8-bit grey TIFF."""
    import struct

    height, width = pixels.shape
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, 8 + 2 + 12 * 9 + 4), (277, 3, 1), (278, 4, height), (279, 4, width * height)]
    with open(path, "wb") as f:
        f.write(b"II*\0" + struct.pack("<IH", 8, len(tags)))
        for tag, kind, value in tags:
            packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
            f.write(struct.pack("<HHI", tag, kind, 1) + packed)
        f.write(struct.pack("<I", 0) + pixels.tobytes())


if __name__ == "__main__":
    unittest.main()
