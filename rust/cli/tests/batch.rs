//! `visual-ccc batch` and `merge`: shards merge into the unsharded summary, a killed run
//! resumes without duplicates or half-written outputs, and merge refuses missing or
//! unfinished shards. Images are small because debug builds are slow.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{repo, Scratch};

fn fixture_model() -> String {
    repo()
        .join("tests/fixtures/models/fixture-tiny.onnx")
        .display()
        .to_string()
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_visual-ccc"));
    command.args(args);
    command
}

fn run(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

fn ok(args: &[&str]) -> Output {
    let output = run(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A scratch directory named `name` whose folder `in` (the returned path) holds
/// `count` synthetic micrographs of two classes.
fn scratch_with_images(name: &str, count: usize) -> (Scratch, String) {
    let scratch = Scratch::new(name);
    let input = scratch.path("in");
    images(&input, count);
    (scratch, input)
}

/// `count` synthetic micrographs of two classes in `dir`.
fn images(dir: &str, count: usize) {
    let half = (count / 2).to_string();
    let rest = (count - count / 2).to_string();
    for (class, n) in [("spheroid", &half), ("dendrite", &rest)] {
        if n == "0" {
            continue;
        }
        ok(&[
            "synth", "--class", class, "--out", dir, "--count", n, "--width", "48",
        ]);
    }
}

fn batch_args<'a>(input: &'a str, out: &'a str, model: &'a str) -> Vec<&'a str> {
    vec![
        "batch",
        input,
        "--out",
        out,
        "--model",
        model,
        "--save-labels",
        "--save-heatmaps",
    ]
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir` whose name starts with `.part-`.
fn part_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".part-")
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[test]
fn shards_merge_into_the_unsharded_summary() {
    let (scratch, input) = scratch_with_images("batch-shards", 7);
    let model = fixture_model();
    let whole = scratch.path("whole");
    let mut args = batch_args(&input, &whole, &model);
    args.extend(["--jobs", "2"]);
    ok(&args);
    let expected = read(&Path::new(&whole).join("visual-ccc-summary.csv"));
    assert_eq!(expected.lines().count(), 8, "{expected}");

    let sharded = scratch.path("sharded");
    for shard in ["0/3", "2/3"] {
        let mut args = batch_args(&input, &sharded, &model);
        args.extend(["--shard", shard]);
        ok(&args);
    }
    let missing = run(&["merge", &sharded]);
    assert_eq!(missing.status.code(), Some(1));
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(message.contains("shard 1/3 is missing"), "{message}");

    let mut args = batch_args(&input, &sharded, &model);
    args.extend(["--shard", "1/3"]);
    ok(&args);
    ok(&["merge", &sharded]);
    let merged = read(&Path::new(&sharded).join("visual-ccc-summary.csv"));
    assert_eq!(merged, expected);
    for shard in 0..3 {
        let part = read(&Path::new(&sharded).join(format!("parts/summary-{shard}-of-3.csv")));
        // Shard i holds the sorted files i, i+3, …
        let files: Vec<&str> = part
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        let all: Vec<&str> = expected
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        let owned: Vec<&str> = all.iter().skip(shard).step_by(3).copied().collect();
        assert_eq!(files, owned);
    }
}

#[test]
fn a_killed_run_resumes_with_every_image_once() {
    let (scratch, input) = scratch_with_images("batch-kill", 10);
    let model = fixture_model();
    let out = scratch.path("out");
    let summary = Path::new(&out).join("parts/summary-0-of-1.csv");
    let mut args = batch_args(&input, &out, &model);
    args.extend(["--jobs", "2", "--shard", "0/1"]);
    let mut child = command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL) once a few images are done, in the middle of the others.
    let start = Instant::now();
    loop {
        let rows =
            std::fs::read_to_string(&summary).map_or(0, |t| t.lines().count().saturating_sub(1));
        if rows >= 3 || start.elapsed() > Duration::from_secs(300) {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = read(&summary);
    let before = partial.lines().count() - 1;
    assert!(before < 10, "the run finished before it was killed");
    let refused = run(&["merge", &out]);
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("shard 0/1 is incomplete"), "{message}");

    ok(&args);
    ok(&["merge", &out]);
    let merged = read(&Path::new(&out).join("visual-ccc-summary.csv"));
    let mut files: Vec<String> = merged
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(files.len(), 10, "{merged}");
    files.dedup();
    assert_eq!(files.len(), 10, "an image is listed twice: {merged}");
    assert!(part_files(Path::new(&out)).is_empty());
    // Every listed output exists and is a whole TIFF.
    for line in merged.lines().skip(1) {
        for output in line.rsplit(',').take(2) {
            let path = Path::new(&out).join(output);
            let decoded = visual_ccc_core::image::decode::decode_file(&path);
            assert!(decoded.is_ok(), "{}: {decoded:?}", path.display());
        }
    }
}

#[test]
fn bad_settings_are_refused_by_name() {
    let scratch = Scratch::new("batch-bad");
    let input = scratch.path("in");
    std::fs::create_dir_all(&input).unwrap();
    let model = fixture_model();
    for (extra, expected) in [
        (vec!["--shard", "3/3"], "shard"),
        (vec!["--k", "1"], "k:"),
        (vec!["--pattern", "*.{tif"], "pattern"),
    ] {
        let mut args = batch_args(&input, &input, &model);
        args[3] = "out-elsewhere";
        args.extend(extra);
        let output = run(&args);
        assert_eq!(output.status.code(), Some(3), "{args:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains(expected), "{args:?}: {message}");
    }
    let same = run(&batch_args(&input, &input, &model));
    assert!(String::from_utf8_lossy(&same.stderr).contains("must differ"));
}

#[test]
fn analyze_and_batch_report_the_same_numbers() {
    let (scratch, input) = scratch_with_images("batch-analyze", 1);
    let image = std::fs::read_dir(&input)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let model = fixture_model();
    let out = scratch.path("out");
    ok(&batch_args(&input, &out, &model));
    let summary = read(&Path::new(&out).join("visual-ccc-summary.csv"));
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| -> f64 {
        row[header.iter().position(|h| *h == name).unwrap()]
            .parse()
            .unwrap()
    };

    let analyzed = ok(&[
        "analyze",
        image.to_str().unwrap(),
        "--model",
        &model,
        "--out-dir",
        &scratch.path("analyze"),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&analyzed.stdout).unwrap();
    // Batch prints six significant digits.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs().max(1e-3);
    let clusters = json["clustering"]["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 3);
    for (i, cluster) in clusters.iter().enumerate() {
        let fraction = cluster["area_fraction"].as_f64().unwrap();
        assert!(
            close(fraction, column(&format!("Fraction cluster {i}"))),
            "cluster {i}"
        );
    }
    for feature in json["texture"]["image_features"].as_array().unwrap() {
        let name = feature["feature"].as_str().unwrap();
        let value = feature["value"].as_f64().unwrap();
        assert!(
            close(value, column(name)),
            "{name}: {value} vs {}",
            column(name)
        );
    }
    let class = json["classification"]["class"].as_str().unwrap();
    assert_eq!(
        row[header.iter().position(|h| *h == "Class").unwrap()],
        class
    );
}

/// An 8-bit grey TIFF as ImageJ saves a calibrated image: `unit=micron` in the
/// description and 2 pixels per µm in the resolution tags (pixels of 0.5 µm).
fn imagej_calibrated_tiff(path: &Path, width: u32, height: u32) {
    use tiff::encoder::{colortype, Rational, TiffEncoder};
    use tiff::tags::{ResolutionUnit, Tag};
    let pixels: Vec<u8> = (0..width * height)
        .map(|i| if i % width < width / 2 { 40 } else { 200 })
        .collect();
    let mut file = std::fs::File::create(path).unwrap();
    let mut encoder = TiffEncoder::new(&mut file).unwrap();
    let mut image = encoder
        .new_image::<colortype::Gray8>(width, height)
        .unwrap();
    image
        .encoder()
        .write_tag(Tag::ImageDescription, "ImageJ=1.53t\nunit=micron\n")
        .unwrap();
    image.resolution(ResolutionUnit::None, Rational { n: 2, d: 1 });
    image.write_data(&pixels).unwrap();
}

#[test]
fn a_calibrated_tiff_gives_areas_in_its_own_unit() {
    let scratch = Scratch::new("batch-calibrated");
    let input = scratch.path("in");
    std::fs::create_dir_all(&input).unwrap();
    let tif = Path::new(&input).join("calibrated.tif");
    imagej_calibrated_tiff(&tif, 48, 40);
    let out = scratch.path("out");
    ok(&batch_args(&input, &out, &fixture_model()));
    let summary = read(&Path::new(&out).join("visual-ccc-summary.csv"));
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("Area unit"), "\u{b5}m^2");
    let total: f64 = (0..3)
        .map(|i| cell(&format!("Area cluster {i}")).parse::<f64>().unwrap())
        .sum();
    // 48 × 40 pixels of 0.5 µm × 0.5 µm
    assert!((total - 480.0).abs() < 1e-2, "total area {total}");

    // The single-image commands read the same calibration unless told otherwise.
    let labels = scratch.path("labels.png");
    let area_unit = |extra: &[&str]| {
        let mut args = vec![
            "cluster",
            tif.to_str().unwrap(),
            "--k",
            "2",
            "--labels-out",
            &labels,
        ];
        args.extend_from_slice(extra);
        let json: serde_json::Value = serde_json::from_slice(&ok(&args).stdout).unwrap();
        json["area_unit"].clone()
    };
    assert_eq!(area_unit(&[]), "\u{b5}m\u{b2}");
    assert_eq!(
        area_unit(&["--pixel-size", "1", "--unit", "nm"]),
        "nm\u{b2}"
    );
}
