//! Time per classification + CAM through the core against a bare ONNX Runtime
//! `session.run` of the same model, in one process with the same thread settings.
//!
//! cargo run --release -p visual-ccc-core --example overhead -- MODEL [ITERATIONS] [THREADS]
//! cargo run --release -p visual-ccc-core --example overhead -- --bare-only MODEL N THREADS
//!
//! `--bare-only` runs just the bare loop, for timing a whole process against the CLI.
//! Both sides run in alternating rounds and each reports its fastest round, so that load
//! from other processes on the machine inflates neither side more than the other.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use visual_ccc_core::cam::CamTarget;
use visual_ccc_core::model::runtime::{self, RuntimeConfig};
use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::{ImageView, Pixels};

fn runtime_config() -> RuntimeConfig {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    RuntimeConfig {
        library_path: None,
        search_dirs: vec![root.join("build/onnxruntime/linux-x86_64")],
    }
}

/// A deterministic textured test image.
fn test_image(size: usize) -> Vec<u8> {
    (0..size * size)
        .map(|i| {
            let (x, y) = (i % size, i / size);
            ((x * 7 + y * 13 + (x * y) % 31) % 256) as u8
        })
        .collect()
}

/// A bare ONNX Runtime session with the same settings the core uses.
fn bare_session(model: &Path, threads: usize) -> Session {
    Session::builder()
        .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3))
        .and_then(|b| b.with_inter_threads(1))
        .and_then(|b| b.with_intra_threads(threads))
        .and_then(|b| b.commit_from_file(model))
        .expect("bare session")
}

fn bare_run(session: &mut Session, input: &[f32], size: usize) {
    let tensor = Tensor::from_array(([1usize, 1, size, size], input.to_vec())).unwrap();
    let outputs = session.run(ort::inputs!["input" => tensor]).unwrap();
    let (_, logits) = outputs["logits"].try_extract_tensor::<f32>().unwrap();
    std::hint::black_box(logits[0]);
}

/// Mean time per call of `run` over `iterations` calls.
fn time_per_call(iterations: usize, mut run: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        run();
    }
    start.elapsed() / iterations as u32
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bare_only = args.first().is_some_and(|a| a == "--bare-only");
    let rest = if bare_only { &args[1..] } else { &args[..] };
    let model_path = PathBuf::from(
        rest.first()
            .expect("usage: overhead MODEL [ITERATIONS] [THREADS]"),
    );
    let iterations: usize = rest.get(1).map_or(50, |v| v.parse().expect("iterations"));
    let threads: usize = rest.get(2).map_or(2, |v| v.parse().expect("threads"));
    runtime::ensure_initialised(&runtime_config()).expect("ONNX Runtime");
    let mut session = bare_session(&model_path, threads);
    if bare_only {
        let input: Vec<f32> = test_image(256).iter().map(|&v| v as f32 / 255.0).collect();
        let bare = time_per_call(iterations, || bare_run(&mut session, &input, 256));
        println!("bare_ms {:.3}", bare.as_secs_f64() * 1e3);
        return;
    }
    let options = ModelOptions {
        threads,
        runtime: runtime_config(),
    };
    let model = Model::open(&model_path, &options).expect("model");
    let size = model.info().input_size;
    let pixels = test_image(size);
    let view = ImageView::new(size, size, Pixels::Gray8(&pixels)).unwrap();
    let input: Vec<f32> = pixels.iter().map(|&v| v as f32 / 255.0).collect();
    let mut classify = || {
        let result = model.classify(&view, CamTarget::Predicted).unwrap();
        std::hint::black_box(result.cam.unwrap().data[0]);
    };
    time_per_call(5, &mut classify);
    time_per_call(5, || bare_run(&mut session, &input, size));
    let rounds = 10;
    let per_round = iterations.div_ceil(rounds).max(1);
    let (mut bare, mut wrapper) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        wrapper = wrapper.min(time_per_call(per_round, &mut classify));
        bare = bare.min(time_per_call(per_round, || {
            bare_run(&mut session, &input, size)
        }));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "model {} input {size}x{size}, {threads} threads, best of {rounds} rounds of {per_round}",
        model_path.display()
    );
    println!("bare session.run          {:8.3} ms", ms(bare));
    println!("core classify + CAM       {:8.3} ms", ms(wrapper));
    println!(
        "overhead                  {:8.1} %",
        (ms(wrapper) / ms(bare) - 1.0) * 100.0
    );
}
