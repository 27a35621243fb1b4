//! Hostile inputs (docs/reliability.md): absurd declared sizes refused before
//! allocating, truncated JPEGs refused, absurd model metadata refused at load,
//! overflowing grey ranges refused instead of giving NaN probabilities, package files
//! confined to the package, and a library that is not ONNX Runtime refused cleanly.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use visual_ccc_core::cam::CamTarget;
use visual_ccc_core::image::decode::{decode_bytes, decode_bytes_with, decode_file, DecodeLimits};
use visual_ccc_core::model::bioimageio::import;
use visual_ccc_core::model::runtime::{ensure_initialised, RuntimeConfig};
use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::{ErrorKind, ImageView, Pixels};

fn hostile(name: &str) -> PathBuf {
    common::repo_root()
        .join("tests/fixtures/hostile")
        .join(name)
}

fn options() -> ModelOptions {
    ModelOptions {
        threads: 1,
        runtime: common::runtime_config(),
    }
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(width, height, |x, y| image::Luma([(x ^ y) as u8]));
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
        .unwrap();
    bytes
}

#[test]
fn images_declaring_40000_squared_pixels_are_refused_before_decoding() {
    for name in ["huge-declared.png", "huge-declared.tif"] {
        let err = decode_file(&hostile(name)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        let text = err.to_string();
        assert!(text.contains("40000×40000"), "{text}");
        assert!(text.contains("max_pixels"), "{text}");
        assert!(text.contains("--max-pixels"), "{text}");
    }
}

#[test]
fn limits_are_checked_against_the_declared_size_and_can_be_raised() {
    let bytes = jpeg(300, 200);
    let tight = DecodeLimits {
        max_pixels: 300 * 200 - 1,
        ..DecodeLimits::default()
    };
    let err = decode_bytes_with(&bytes, &tight).unwrap_err().to_string();
    assert!(err.contains("60000 pixels"), "{err}");
    let exact = DecodeLimits {
        max_pixels: 300 * 200,
        ..DecodeLimits::default()
    };
    assert_eq!(decode_bytes_with(&bytes, &exact).unwrap().width, 300);
    let few_bytes = DecodeLimits {
        max_bytes: 1000,
        ..DecodeLimits::default()
    };
    let err = decode_bytes_with(&bytes, &few_bytes)
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_bytes"), "{err}");
}

#[test]
fn a_truncated_jpeg_is_an_error_not_a_padded_image() {
    let whole = jpeg(160, 120);
    assert_eq!(decode_bytes(&whole).unwrap().height, 120);
    for cut in [whole.len() / 2, whole.len() - 2, whole.len() - 1] {
        let err = decode_bytes(&whole[..cut]).unwrap_err().to_string();
        assert!(err.contains("truncated"), "cut at {cut}: {err}");
    }
    // Bytes after the end-of-image marker (as some cameras append) are fine.
    let mut trailing = whole.clone();
    trailing.extend_from_slice(b"\0\0trailer");
    assert!(decode_bytes(&trailing).is_ok());
}

#[test]
fn absurd_model_input_sizes_are_refused_at_load() {
    for name in ["input-size-huge.onnx", "input-size-symbolic.onnx"] {
        let err = Model::open(&hostile(name), &options()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Model, "{err}");
        assert!(err.to_string().contains("over the limit of 4096"), "{err}");
    }
    let err = Model::open(&hostile("input-size-mismatch.onnx"), &options()).unwrap_err();
    assert!(
        err.to_string()
            .contains("fixed at 16×16 but visualccc.input_size is 32"),
        "{err}"
    );
}

#[test]
fn an_overflowing_grey_range_is_an_error_naming_the_cause() {
    let model = common::open("fixture-tiny.onnx");
    let pixels: Vec<f32> = (0..64 * 64)
        .map(|i| if i % 2 == 0 { 3e38 } else { -3e38 })
        .collect();
    let view = ImageView::new(64, 64, Pixels::Gray32(&pixels)).unwrap();
    let err = model.classify(&view, CamTarget::None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains("overflow"), "{err}");
}

/// A fresh folder under the temp folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vccc-hostile-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A copy of the fixture package with `edit` applied to its rdf.yaml.
fn package_copy(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let source = common::repo_root().join("tests/fixtures/bioimageio/tiny-classifier");
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let rdf = dir.join("rdf.yaml");
    std::fs::write(&rdf, edit(std::fs::read_to_string(&rdf).unwrap())).unwrap();
    rdf
}

/// The message of importing `package` into `out`, which must fail.
fn refusal(package: &Path, out: &Path) -> String {
    import(package, out, &options()).unwrap_err().to_string()
}

#[test]
fn package_paths_must_stay_inside_the_package() {
    let scratch = scratch("pkg");
    let outside = scratch.join("outside.npy");
    std::fs::copy(
        common::repo_root().join("tests/fixtures/bioimageio/tiny-classifier/test_input.npy"),
        &outside,
    )
    .unwrap();
    let cases: [(&str, &dyn Fn(String) -> String); 4] = [
        ("etc-passwd", &|t| {
            t.replace("test_input.npy", "/etc/passwd")
        }),
        ("dot-dot", &|t| {
            t.replace("test_input.npy", "../outside.npy")
        }),
        ("cover", &|t| format!("{t}\ncovers: [../../cover.png]\n")),
        ("documentation", &|t| {
            format!("{t}\ndocumentation: /etc/passwd\n")
        }),
    ];
    for (name, edit) in cases {
        let rdf = package_copy(&scratch.join(name), |t| {
            edit(t.replace("documentation:", "x_documentation:"))
        });
        let out = scratch.join(format!("{name}-out"));
        let err = refusal(&rdf, &out);
        assert!(err.contains("outside the package"), "{name}: {err}");
        assert!(!out.exists(), "{name}: wrote {}", out.display());
    }
    // A symbolic link inside the folder that points out is refused too.
    let rdf = package_copy(&scratch.join("link"), |t| t);
    let linked = rdf.with_file_name("test_input.npy");
    std::fs::remove_file(&linked).unwrap();
    std::os::unix::fs::symlink(&outside, &linked).unwrap();
    let err = refusal(&rdf, &scratch.join("link-out"));
    assert!(err.contains("outside the package"), "{err}");
    std::fs::remove_dir_all(&scratch).ok();
}

#[test]
fn zip_symlink_entries_are_refused() {
    let scratch = scratch("zip");
    let zip_path = scratch.join("package.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.add_symlink(
        "test_input.npy",
        "/etc/passwd",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.finish().unwrap();
    let err = refusal(&zip_path, &scratch.join("out"));
    assert!(err.contains("symbolic link"), "{err}");
    std::fs::remove_dir_all(&scratch).ok();
}

/// Loading ONNX Runtime happens once per process, so this runs in a child process of
/// the test binary, which also shows that nothing is printed (no panic message).
#[test]
fn a_library_that_is_not_onnx_runtime_is_refused_without_a_panic() {
    let libz = [
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/x86_64-linux-gnu/libz.so.1",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.exists());
    let Some(libz) = libz else {
        eprintln!("skipped: no libz.so.1 on this machine");
        return;
    };
    if std::env::var_os("VCCC_PROBE_CHILD").is_some() {
        let config = RuntimeConfig {
            library_path: Some(libz.to_path_buf()),
            search_dirs: Vec::new(),
        };
        let err = ensure_initialised(&config).unwrap_err().to_string();
        assert!(err.contains("not ONNX Runtime"), "{err}");
        assert!(err.contains("OrtGetApiBase"), "{err}");
        return;
    }
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_library_that_is_not_onnx_runtime_is_refused_without_a_panic",
            "--test-threads=1",
        ])
        .env("VCCC_PROBE_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(child.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A 234-byte TIFF with an empty SampleFormat tag made the tiff crate panic (found by
/// `fuzz/decode`); the panic is contained and the file is a corrupt-image error.
#[test]
fn a_tiff_that_crashes_the_decoder_is_a_decode_error() {
    let err = decode_file(&hostile("empty-sample-format.tif")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("corrupt"), "{err}");
    let streamed =
        visual_ccc_core::image::decode::TiffRows::open(&hostile("empty-sample-format.tif"));
    assert!(streamed.is_err() || streamed.unwrap().is_none());
}
