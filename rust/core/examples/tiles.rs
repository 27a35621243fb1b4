//! Tiles per second of whole-image classification against the bare forward bound: a
//! bare ONNX Runtime `session.run` on batches of the same tiles, same thread settings.
//!
//! cargo run --release -p visual-ccc-core --example tiles -- MODEL [SIDE] [THREADS] [BATCH]
//!
//! The image is a SIDE×SIDE synthetic 8-bit texture tiled without overlap. Both sides run
//! in alternating rounds and keep their fastest round, so that load from other processes
//! inflates neither side more than the other.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use visual_ccc_core::cam::CamTarget;
use visual_ccc_core::model::runtime::{self, RuntimeConfig};
use visual_ccc_core::model::tiling::{classify_whole, TilingOptions, ViewRows};
use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::{ImageView, Pixels};

fn runtime_config() -> RuntimeConfig {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    RuntimeConfig {
        library_path: None,
        search_dirs: vec![root.join("build/onnxruntime/linux-x86_64")],
    }
}

fn timed(run: impl FnOnce()) -> Duration {
    let start = Instant::now();
    run();
    start.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_path = PathBuf::from(
        args.first()
            .expect("usage: tiles MODEL [SIDE] [THREADS] [BATCH]"),
    );
    let side: usize = args.get(1).map_or(2048, |v| v.parse().expect("side"));
    let threads: usize = args.get(2).map_or(2, |v| v.parse().expect("threads"));
    let batch: usize = args.get(3).map_or(8, |v| v.parse().expect("batch"));
    runtime::ensure_initialised(&runtime_config()).expect("ONNX Runtime");
    let options = ModelOptions {
        threads,
        runtime: runtime_config(),
    };
    let model = Model::open(&model_path, &options).expect("model");
    let size = model.info().input_size;
    let mut session = Session::builder()
        .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3))
        .and_then(|b| b.with_inter_threads(1))
        .and_then(|b| b.with_intra_threads(threads))
        .and_then(|b| b.commit_from_file(&model_path))
        .expect("bare session");

    let pixels: Vec<u8> = (0..side * side)
        .map(|i| {
            let (x, y) = (i % side, i / side);
            ((x * 7 + y * 13 + (x * y) % 31) % 256) as u8
        })
        .collect();
    let view = ImageView::new(side, side, Pixels::Gray8(&pixels)).unwrap();
    let tiles = (side / size).pow(2);
    // The bare bound: the same number of tiles as ready-made batches, nothing else.
    let input: Vec<f32> = (0..batch * size * size)
        .map(|i| pixels[i % pixels.len()] as f32 / 255.0)
        .collect();
    let mut bare = |n: usize| {
        let tensor =
            Tensor::from_array(([n, 1, size, size], input[..n * size * size].to_vec())).unwrap();
        let outputs = session.run(ort::inputs!["input" => tensor]).unwrap();
        let (_, logits) = outputs["logits"].try_extract_tensor::<f32>().unwrap();
        std::hint::black_box(logits[0]);
    };
    let whole = |cam: CamTarget| {
        let options = TilingOptions {
            overlap: 0,
            batch,
            cam,
            ..TilingOptions::default()
        };
        let result = classify_whole(&model, &mut ViewRows::new(view).unwrap(), &options).unwrap();
        assert_eq!(result.tiles.len(), tiles);
    };
    whole(CamTarget::None);
    let rounds = 5;
    let mut best = [Duration::MAX; 4];
    for _ in 0..rounds {
        best[0] = best[0].min(timed(|| (0..tiles).for_each(|_| bare(1))));
        best[1] = best[1].min(timed(|| {
            (0..tiles.div_ceil(batch)).for_each(|_| bare(batch))
        }));
        best[2] = best[2].min(timed(|| whole(CamTarget::None)));
        best[3] = best[3].min(timed(|| whole(CamTarget::Predicted)));
    }
    let batched_tiles = tiles.div_ceil(batch) * batch;
    let rate = |d: Duration, n: usize| n as f64 / d.as_secs_f64();
    println!(
        "model {} tile {size}x{size}, image {side}x{side} = {tiles} tiles, {threads} threads, \
         batch {batch}, best of {rounds} rounds",
        model_path.display()
    );
    let rows = [
        ("bare session.run, batch 1".to_string(), best[0], tiles),
        (
            format!("bare session.run, batch {batch:<2}"),
            best[1],
            batched_tiles,
        ),
        ("classify_whole".to_string(), best[2], tiles),
        ("classify_whole + stitched CAM".to_string(), best[3], tiles),
    ];
    for (label, time, count) in rows {
        println!("{label:<32} {:8.1} tiles/s", rate(time, count));
    }
}
