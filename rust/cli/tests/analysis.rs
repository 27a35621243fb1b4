//! The image-analysis commands end to end: preprocess, threshold, texture, cluster and
//! analyze, run as the `visual-ccc` binary on generated images. Images are small because
//! debug builds of the k-means dependencies are slow.

mod common;

use std::process::Command;

use common::{repo, write_float_tiff, Scratch};
use serde_json::Value;

const COMMANDS: [&str; 5] = ["preprocess", "threshold", "texture", "cluster", "analyze"];

struct Run {
    code: i32,
    json: Option<Value>,
    stderr: String,
}

/// Runs `visual-ccc` with the whitespace-separated words of `line` (test paths have no
/// spaces).
fn visual_ccc(line: &str) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
        .args(line.split_whitespace())
        // No installed model may leak into `analyze` from the environment.
        .env("VISUAL_CCC_MODELS", "/nonexistent")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    Run {
        code: output.status.code().unwrap(),
        json: serde_json::from_str(stdout.trim()).ok(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs a command that must succeed and returns its JSON.
fn ok(line: &str) -> Value {
    let run = visual_ccc(line);
    assert_eq!(run.code, 0, "{line}: {}", run.stderr);
    run.json.expect("one JSON object on stdout")
}

/// Runs a command that must fail cleanly, with one of the documented exit codes (1 input,
/// 2 setup, 3 usage; `exit_codes_tell_input_from_usage_failures` checks which) and a
/// message containing `expected`.
fn fails(line: &str, expected: &str) {
    let run = visual_ccc(line);
    assert!(
        (1..=3).contains(&run.code),
        "{line} should fail with exit code 1, 2 or 3, got {}: {}",
        run.code,
        run.stderr
    );
    assert!(run.json.is_none(), "{line} printed a result");
    assert!(
        run.stderr.to_lowercase().contains(&expected.to_lowercase()),
        "{line}: expected '{expected}' in: {}",
        run.stderr
    );
}

/// A grey image with three brightness regions and some texture.
fn write_three_phase(path: &str, width: u32, height: u32) {
    image::GrayImage::from_fn(width, height, |x, y| {
        let base = match (x * 3 / width, y * 2 / height) {
            (0, _) => 40,
            (1, 0) => 120,
            _ => 210,
        };
        image::Luma([base + ((x * 7 + y * 13) % 9) as u8])
    })
    .save(path)
    .unwrap();
}

/// Reads a TIFF's size and samples as f64, with its bit depth.
fn read_tiff(path: &str) -> (u32, u32, u8, Vec<f64>) {
    use tiff::decoder::{Decoder, DecodingResult};
    let mut decoder = Decoder::new(std::fs::File::open(path).unwrap()).unwrap();
    let (w, h) = decoder.dimensions().unwrap();
    let (bits, values) = match decoder.read_image().unwrap() {
        DecodingResult::U8(v) => (8, v.into_iter().map(f64::from).collect()),
        DecodingResult::U16(v) => (16, v.into_iter().map(f64::from).collect()),
        DecodingResult::F32(v) => (32, v.into_iter().map(f64::from).collect()),
        _ => panic!("unexpected TIFF sample type"),
    };
    (w, h, bits, values)
}

fn read_gray8(path: &str) -> image::GrayImage {
    match image::open(path).unwrap() {
        image::DynamicImage::ImageLuma8(img) => img,
        other => panic!("{path} is {:?}, not 8-bit grey", other.color()),
    }
}

fn f(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

fn numbers(value: &Value) -> Vec<f64> {
    value.as_array().expect("an array").iter().map(f).collect()
}

#[test]
fn every_command_has_help() {
    for command in COMMANDS {
        let output = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
            .args([command, "--help"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{command}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(
            text.starts_with(&format!("usage: visual-ccc {command}")),
            "{text}"
        );
    }
    let text = String::from_utf8(
        Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
            .arg("help")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for command in COMMANDS {
        assert!(text.contains(command), "{command} missing from: {text}");
    }
}

#[test]
fn threshold_reports_classes_fractions_and_labels() {
    let dir = Scratch::new("threshold");
    let image = dir.path("three.png");
    write_three_phase(&image, 60, 40);
    let labels = dir.path("labels.png");
    let json = ok(&format!("threshold {image} --classes 3 --out {labels}"));
    assert_eq!(json["classes"], 3);
    // Phases at 40–48, 120–128 and 210–218; a class holds values ≤ its threshold.
    assert_eq!(numbers(&json["thresholds"]), [48.0, 128.0]);
    assert!(json["definition"].as_str().unwrap().contains("value > t"));
    let fractions = numbers(&json["area_fractions"]);
    assert!((fractions.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!((fractions[0] - 1.0 / 3.0).abs() < 1e-9, "{fractions:?}");
    let img = read_gray8(&labels);
    assert_eq!(img.dimensions(), (60, 40));
    assert_eq!(img.get_pixel(0, 0)[0], 0);
    assert_eq!(img.get_pixel(30, 5)[0], 1);
    assert_eq!(img.get_pixel(59, 39)[0], 2);

    let json = ok(&format!("threshold {image} --timings"));
    assert_eq!(json["thresholds"].as_array().unwrap().len(), 1);
    assert!(f(&json["timings_ms"]["threshold"]) >= 0.0);
    assert!(json.get("labels").is_none());
}

#[test]
fn preprocess_keeps_bit_depth_or_writes_float() {
    let dir = Scratch::new("preprocess");
    let image = dir.path("in.png");
    write_three_phase(&image, 48, 32);
    let ops = [
        "median --radius 1",
        "gaussian --sigma 1.5",
        "bilateral --sigma 1 --sigma-range 20",
        "clahe --tiles 4x2 --clip-limit 3",
        "background --radius 10 --light",
        "background --radius 10 --create-background",
        "stretch --saturated 1",
    ];
    for (i, op) in ops.iter().enumerate() {
        let out = dir.path(&format!("{i}.png"));
        let json = ok(&format!("preprocess {image} --op {op} --out {out}"));
        assert_eq!(json["op"], op.split(' ').next().unwrap());
        assert_eq!(json["bit_depth"], 8, "{json}");
        assert_eq!(read_gray8(&out).dimensions(), (48, 32));
    }
    let json = ok(&format!(
        "preprocess {image} --op stretch --out {}",
        dir.path("s.png")
    ));
    assert_eq!((f(&json["min"]), f(&json["max"])), (0.0, 255.0));

    // 16-bit in, 16-bit out; 32-bit float on request.
    let deep = dir.path("deep.png");
    image::ImageBuffer::<image::Luma<u16>, _>::from_fn(40, 30, |x, y| {
        image::Luma([(x * 1000 + y * 37) as u16])
    })
    .save(&deep)
    .unwrap();
    let out16 = dir.path("deep.tif");
    ok(&format!("preprocess {deep} --op gaussian --out {out16}"));
    let (w, h, bits, _) = read_tiff(&out16);
    assert_eq!((w, h, bits), (40, 30, 16));
    let out32 = dir.path("deep32.tif");
    let json = ok(&format!(
        "preprocess {deep} --op median --out {out32} --bit-depth 32"
    ));
    assert_eq!(json["bit_depth"], 32);
    assert_eq!(read_tiff(&out32).2, 32);

    // Float in stays float, which PNG cannot hold.
    let float = dir.0.join("float.tif");
    let values: Vec<f32> = (0..20 * 10).map(|i| i as f32 * 0.01).collect();
    write_float_tiff(&float, 20, 10, &values);
    let float = float.display();
    let outf = dir.path("float-out.tif");
    ok(&format!(
        "preprocess {float} --op gaussian --sigma 1 --out {outf}"
    ));
    assert_eq!(read_tiff(&outf).2, 32);
    let png = dir.path("x.png");
    for (args, expected) in [
        (
            format!("{float} --op gaussian --out {png}"),
            "only be written as TIFF",
        ),
        (
            format!("{image} --op median --sigma 2 --out {png}"),
            "--sigma does not apply to --op median",
        ),
        (
            format!("{image} --op sharpen --out {png}"),
            "--op must be one of",
        ),
        (
            format!("{image} --op median --radius 0 --out {png}"),
            "median radius",
        ),
        (format!("{image} --op median"), "--out is required"),
        (
            format!("{image} --op median --out {}", dir.path("x.jpg")),
            "must end in",
        ),
        (
            format!("{image} --op median --out {png} --bit-depth 12"),
            "--bit-depth",
        ),
    ] {
        fails(&format!("preprocess {args}"), expected);
    }
}

#[test]
fn texture_maps_and_whole_image_features() {
    let dir = Scratch::new("texture");
    let image = dir.path("tex.png");
    write_three_phase(&image, 40, 30);
    let maps = dir.path("maps");
    let json = ok(&format!(
        "texture {image} --features contrast,ASM,entropy --window 7 --levels 16 \
         --distances 1,2 --angles 0,90 --per-angle --out-dir {maps}"
    ));
    assert_eq!(json["mode"], "custom");
    let listed = json["maps"].as_array().unwrap();
    assert_eq!(listed.len(), 3 * 2 * 2);
    assert_eq!(json["image_features"].as_array().unwrap().len(), 3 * 2 * 2);
    for map in listed {
        let file = map["file"].as_str().unwrap();
        let (w, h, bits, values) = read_tiff(file);
        assert_eq!((w, h, bits), (40, 30, 32));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((mean - f(&map["mean"])).abs() < 1e-6, "{file}");
    }
    assert!(dir.0.join("maps/tex-asm-d2-a90.tif").is_file());

    let json = ok(&format!("texture {image} --features all --average-angles"));
    let listed = json["maps"].as_array().unwrap();
    assert_eq!(listed.len(), 9);
    assert!(listed
        .iter()
        .all(|m| m["angle"] == "mean" && m.get("file").is_none()));
    assert_eq!(json["image_features"][0]["angle"], "mean");

    let json = ok(&format!("texture {image} --reference --out-dir {maps}"));
    assert_eq!(json["mode"], "reference");
    assert_eq!(
        (json["window"].as_u64(), json["levels"].as_u64()),
        (Some(5), Some(2))
    );
    assert!(json["otsu_threshold"].is_number());
    let (_, _, _, contrast) = read_tiff(&format!("{maps}/tex-reference-contrast.tif"));
    // A 0/1 mask's contrast is the fraction of unequal pairs, within [0, 1].
    assert!(contrast.iter().all(|&c| (0.0..=1.0).contains(&c)));
    assert!(contrast.iter().any(|&c| c > 0.0));

    for (args, expected) in [
        (
            "--reference --window 7",
            "cannot be combined with --reference",
        ),
        ("--angles 30", "angle 30"),
        ("--distances 0", "at least 1"),
        ("--window 5 --distances 5", "smaller than the window"),
        ("--quantization log", "--quantization"),
    ] {
        fails(&format!("texture {image} {args}"), expected);
    }
}

#[test]
fn cluster_labels_statistics_and_suggestion() {
    let dir = Scratch::new("cluster");
    let image = dir.path("c.png");
    write_three_phase(&image, 36, 24);
    let labels = dir.path("labels.tif");
    let json = ok(&format!(
        "cluster {image} --k 3 --features grey,smoothed:1,variance:1 --n-init 1 --seed 7 \
         --pixel-size 0.5 --unit um --labels-out {labels}"
    ));
    assert_eq!(json["k"], 3);
    assert_eq!(json["features"].as_array().unwrap().len(), 3);
    assert_eq!(json["area_unit"], "um²");
    assert!(f(&json["inertia"]) > 0.0);
    let clusters = json["clusters"].as_array().unwrap();
    let counts: Vec<f64> = clusters.iter().map(|c| f(&c["pixel_count"])).collect();
    assert_eq!(counts.iter().sum::<f64>(), 36.0 * 24.0);
    for (c, &count) in clusters.iter().zip(&counts) {
        assert!((f(&c["area"]) - count * 0.25).abs() < 1e-9);
        assert!((f(&c["area_fraction"]) - count / 864.0).abs() < 1e-12);
        assert_eq!(c["feature_means"].as_object().unwrap().len(), 3);
    }
    let greys: Vec<f64> = clusters.iter().map(|c| f(&c["mean_grey"])).collect();
    assert!(
        greys.windows(2).all(|w| w[0] < w[1]),
        "labels ordered by grey: {greys:?}"
    );
    let (w, h, bits, values) = read_tiff(&labels);
    assert_eq!((w, h, bits), (36, 24, 8));
    for (label, &count) in counts.iter().enumerate() {
        assert_eq!(
            values.iter().filter(|&&v| v == label as f64).count() as f64,
            count
        );
    }
    // Dark left third, bright bottom right.
    assert_eq!((values[0], values[values.len() - 1]), (0.0, 2.0));

    let small = dir.path("small.png");
    write_three_phase(&small, 24, 16);
    let out = dir.path("s.png");
    let json = ok(&format!(
        "cluster {small} --k 2 --features grey --n-init 1 --suggest-k --labels-out {out}"
    ));
    assert_eq!(json["k"], 2, "the suggestion is never applied");
    assert_eq!(json["suggested_k"]["applied"], false);
    assert_eq!(json["suggested_k"]["best_k"], 3);
    assert_eq!(json["suggested_k"]["scores"].as_array().unwrap().len(), 7);

    for (args, expected) in [
        ("--reference --n-init 2", "cannot be combined"),
        ("--features x", "x and y"),
        ("--position-weight 2", "x,y"),
        ("--pixel-size 0.5", "--unit"),
        ("--pixel-size -1 --unit um", "greater than 0"),
        ("--pixel-size 1,2,3 --unit um", "one value"),
        ("--sample 10", "at least 100"),
    ] {
        fails(
            &format!("cluster {small} --k 3 --labels-out {out} {args}"),
            expected,
        );
    }
    fails(
        &format!("cluster {small} --labels-out {out}"),
        "--k is required",
    );
    fails(
        &format!("cluster {small} --k 3"),
        "--labels-out is required",
    );
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "reference mode clusters every pixel of a 512-px-wide copy 10 times: minutes in \
              a debug build; run with `cargo test --release -p visual-ccc-cli`"
)]
fn cluster_reference_mode_writes_labels_at_the_original_size() {
    let dir = Scratch::new("reference");
    let image = dir.path("r.png");
    write_three_phase(&image, 60, 40);
    let labels = dir.path("labels.png");
    let json = ok(&format!(
        "cluster {image} --k 3 --reference --labels-out {labels}"
    ));
    assert_eq!(json["mode"], "reference");
    assert_eq!(json["reference_width"], 512);
    assert_eq!(json["analysed_size"][0], 512);
    let img = read_gray8(&labels);
    assert_eq!(img.dimensions(), (60, 40));
    assert_eq!(img.get_pixel(0, 0)[0], 0);
    assert_eq!(img.get_pixel(59, 39)[0], 2);
}

#[test]
fn analyze_writes_every_result_and_a_summary() {
    let dir = Scratch::new("analyze");
    let image = dir.path("sample.png");
    write_three_phase(&image, 48, 40);
    let out = dir.0.join("out");
    let model = repo().join("tests/fixtures/models/fixture-tiny.onnx");
    let json = ok(&format!(
        "analyze {image} --model {} --out-dir {} --timings",
        model.display(),
        out.display()
    ));
    assert_eq!(json["resolution"], "full");
    let classification = &json["classification"];
    assert_eq!(classification["skipped"], false);
    assert_eq!(classification["model_kind"], "fixture");
    assert!(classification["note"]
        .as_str()
        .unwrap()
        .contains("untrained"));
    assert!(classification["class"].is_string());
    for name in [
        "sample-cam.tif",
        "sample-cam.png",
        "sample-otsu.png",
        "sample-reference-contrast.tif",
        "sample-clusters.png",
        "sample-cluster-2.png",
        "summary.json",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let otsu = read_gray8(out.join("sample-otsu.png").to_str().unwrap());
    assert_eq!(otsu.dimensions(), (48, 40));
    assert!(otsu.pixels().all(|p| p[0] == 0 || p[0] == 255));
    let labels = read_gray8(out.join("sample-clusters.png").to_str().unwrap());
    assert_eq!(labels.dimensions(), (48, 40), "full resolution");
    assert!(labels.pixels().all(|p| p[0] < 3));
    let clustering = &json["clustering"];
    assert_eq!(clustering["k"], 3);
    let target = &clustering["target_cluster"];
    assert_eq!(target["label"], 2);
    assert!(f(&target["area_fraction"]) > 0.0);
    assert_eq!(
        json["texture"]["image_features"].as_array().unwrap().len(),
        4
    );
    assert!(json["otsu"]["thresholds"][0].is_number());
    let saved = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&saved).unwrap(),
        json,
        "summary.json is what was printed"
    );
    for stage in [
        "decode",
        "classify",
        "otsu",
        "texture",
        "texture_maps",
        "cluster",
        "total",
    ] {
        assert!(json["timings_ms"][stage].is_number(), "{stage}");
    }

    // No model: classification is skipped with a note, the rest still runs.
    let out2 = dir.path("out2");
    let json = ok(&format!(
        "analyze {image} --k 2 --target-cluster 0 --no-model --out-dir {out2}"
    ));
    assert_eq!(json["classification"]["skipped"], true);
    assert!(json["classification"]["note"]
        .as_str()
        .unwrap()
        .contains("--no-model"));
    assert!(!dir.0.join("out2/sample-cam.tif").exists());
    assert!(dir.0.join("out2/sample-cluster-0.png").is_file());
    assert_eq!(
        json["clustering"]["target_cluster"]["chosen"],
        "--target-cluster"
    );

    for (args, expected) in [
        (
            format!("--k 3 --target-cluster 3 --out-dir {out2}"),
            "does not exist",
        ),
        (String::new(), "--out-dir is required"),
        (
            format!("--model no-such-model --out-dir {out2}"),
            "no-such-model",
        ),
        (
            format!("--no-model --model x --out-dir {out2}"),
            "cannot be combined",
        ),
    ] {
        fails(&format!("analyze {image} {args}"), expected);
    }
}

/// The parameter and input errors every command must reject with exit code 2.
#[test]
fn bad_parameters_and_inputs_fail_cleanly() {
    let dir = Scratch::new("errors");
    let image = dir.path("ok.png");
    write_three_phase(&image, 24, 16);
    let empty = dir.path("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let nan = dir.0.join("nan.tif");
    let mut values: Vec<f32> = (0..24 * 16).map(|i| i as f32).collect();
    values[3] = f32::NAN;
    write_float_tiff(&nan, 24, 16, &values);
    let nan = nan.display().to_string();
    let missing = dir.path("missing.png");
    let out = dir.path("o.png");
    let out_dir = dir.path("outdir");
    // The smallest valid invocation of each command, IMAGE standing for the input.
    for line in [
        format!("preprocess IMAGE --op median --out {out}"),
        "threshold IMAGE".to_string(),
        "texture IMAGE".to_string(),
        format!("cluster IMAGE --k 2 --labels-out {out}"),
        format!("analyze IMAGE --no-model --out-dir {out_dir}"),
    ] {
        let on = |input: &str| line.replace("IMAGE", input);
        fails(&on(&empty), "empty (0 bytes)");
        fails(&on(&nan), "1 NaN");
        // Unusable pixels are an input failure (exit 1), not a usage error.
        assert_eq!(visual_ccc(&on(&nan)).code, 1, "{}", on(&nan));
        fails(&on(&missing), "missing.png");
        fails(&on(&format!("{image} {image}")), "one image at a time");
        fails(&on(""), "no image given");
        fails(
            &format!("{} --bogus 1", on(&image)),
            "unknown option --bogus",
        );
        fails(&format!("{} --bogus", on(&image)), "unknown option --bogus");
        assert_eq!(visual_ccc(&on(&image)).code, 0, "{line} on a good image");
    }
    for (line, expected) in [
        // k < 2
        (
            format!("cluster {image} --k 1 --labels-out {out}"),
            "between 2 and 255",
        ),
        (
            format!("analyze {image} --k 1 --out-dir {out_dir}"),
            "between 2 and 255",
        ),
        (
            format!("cluster {image} --k two --labels-out {out}"),
            "cannot read 'two'",
        ),
        // even window, levels out of range
        (format!("texture {image} --window 4"), "odd number"),
        (format!("texture {image} --levels 1"), "between 2 and 256"),
        (format!("texture {image} --levels 300"), "between 2 and 256"),
        // unknown features
        (
            format!("texture {image} --features contrast,shininess"),
            "unknown texture feature",
        ),
        (
            format!("cluster {image} --k 2 --features grey,shininess --labels-out {out}"),
            "unknown clustering feature",
        ),
        // classes out of range
        (format!("threshold {image} --classes 6"), "between 2 and 5"),
        (format!("threshold {image} --classes 1"), "between 2 and 5"),
        // texture window, distances and angles
        (format!("texture {image} --window 1"), "odd number"),
        (format!("texture {image} --distances 0"), "at least 1"),
        (
            format!("texture {image} --angles 30"),
            "use 0, 45, 90 or 135",
        ),
        // clustering options
        (
            format!("cluster {image} --k 400 --labels-out {out}"),
            "between 2 and 255",
        ),
        (
            format!("cluster {image} --k 2 --sample 10 --labels-out {out}"),
            "at least 100 pixels",
        ),
        (
            format!("cluster {image} --k 2 --n-init 0 --labels-out {out}"),
            "n_init",
        ),
        (
            format!("cluster {image} --k 2 --features smoothed:0 --labels-out {out}"),
            "sigma must be a finite number greater than 0",
        ),
        (
            format!("cluster {image} --k 2 --features variance:0 --labels-out {out}"),
            "window radius must be between 1",
        ),
        (
            format!("cluster {image} --k 2 --threads x --labels-out {out}"),
            "--threads: cannot read 'x'",
        ),
        (
            format!("analyze {image} --no-model --out-dir {out_dir} --target-cluster 5"),
            "does not exist",
        ),
        // filter parameters
        (
            format!("preprocess {image} --op median --radius 0 --out {out}"),
            "median radius must be between 1",
        ),
        (
            format!("preprocess {image} --op gaussian --sigma -1 --out {out}"),
            "greater than 0",
        ),
        (
            format!("preprocess {image} --op gaussian --sigma nan --out {out}"),
            "finite number",
        ),
        (
            format!("preprocess {image} --op bilateral --sigma 0 --out {out}"),
            "bilateral spatial sigma",
        ),
        (
            format!("preprocess {image} --op clahe --tiles 0 --out {out}"),
            "tiles across",
        ),
        (
            format!("preprocess {image} --op background --radius 0 --out {out}"),
            "background radius",
        ),
        (
            format!("preprocess {image} --op stretch --saturated 120 --out {out}"),
            "below 50",
        ),
        (
            format!("preprocess {image} --op blur --out {out}"),
            "--op must be one of",
        ),
    ] {
        fails(&line, expected);
    }
}

/// The documented exit codes: 1 for a bad input file, 3 for a bad command line.
#[test]
fn exit_codes_tell_input_from_usage_failures() {
    let dir = Scratch::new("exit-codes");
    let empty = dir.path("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let input = visual_ccc(&format!("threshold {empty}"));
    assert_eq!(input.code, 1, "{}", input.stderr);
    let usage = visual_ccc(&format!("threshold {empty} --bogus"));
    assert_eq!(usage.code, 3, "{}", usage.stderr);
    let unknown = visual_ccc("no-such-command");
    assert_eq!(unknown.code, 3, "{}", unknown.stderr);
    // A valid option that this image cannot take is the image's failure: a range σ
    // whose scaled grey values overflow f32, a tile grid finer than the image.
    let png = dir.path("small.png");
    write_three_phase(&png, 6, 5);
    let out = dir.path("out.png");
    for options in ["bilateral --sigma-range 1e-40", "clahe --tiles 8x8"] {
        let run = visual_ccc(&format!("preprocess {png} --op {options} --out {out}"));
        assert_eq!(run.code, 1, "{options}: {}", run.stderr);
    }
    let bad_option = visual_ccc(&format!(
        "preprocess {png} --op clahe --clip-limit 0 --out {out}"
    ));
    assert_eq!(bad_option.code, 3, "{}", bad_option.stderr);
    let help = visual_ccc("threshold --help");
    assert_eq!(help.code, 0);
    assert!(
        String::from_utf8(
            Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
                .args(["threshold", "--help"])
                .output()
                .unwrap()
                .stdout
        )
        .unwrap()
        .contains("3  usage"),
        "--help documents the exit codes"
    );
}
