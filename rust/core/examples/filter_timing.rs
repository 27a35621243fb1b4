//! Wall and CPU time of each preprocessing filter on one image, first call and warm
//! calls in one process (the CLI's `preprocess --timings` op stage is the first call).
//!
//! cargo run --release -p visual-ccc-core --example filter_timing -- IMAGE [REPEATS] [OPS]
//!
//! OPS is a comma-separated list of median,median3,gaussian,bilateral,clahe.

use std::time::Instant;

use visual_ccc_core::analysis::filters::{self, *};
use visual_ccc_core::image::decode::decode_file;

/// CPU time of this process (all threads), from `/proc/self/stat`, in ms.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 after the name.
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) * 10.0,
        _ => 0.0,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: filter_timing IMAGE [REPEATS] [OPS]");
    let repeats: usize = args.get(2).map_or(10, |s| s.parse().unwrap());
    let ops = args
        .get(3)
        .cloned()
        .unwrap_or("median,median3,gaussian,bilateral,clahe".into());
    let image = decode_file(path.as_ref()).expect("image decodes");
    let view = image.view();
    for op in ops.split(',') {
        let run =
            || -> usize {
                match op {
                    "median" => filters::median_same_depth(&view, &MedianParams { radius: 2 })
                        .map(|o| o.width),
                    "median3" => filters::median_same_depth(&view, &MedianParams { radius: 1 })
                        .map(|o| o.width),
                    "gaussian" => {
                        filters::gaussian(&view, &GaussianParams { sigma: 2.0 }).map(|o| o.width)
                    }
                    "bilateral" => filters::bilateral_same_depth(
                        &view,
                        &BilateralParams {
                            spatial_sigma: 2.0,
                            range_sigma: BilateralParams::default_for(&view).range_sigma,
                        },
                    )
                    .map(|o| o.width),
                    "clahe" => {
                        filters::clahe_same_depth(&view, &ClaheParams::default()).map(|o| o.width)
                    }
                    other => panic!("unknown op {other}"),
                }
                .expect("filter runs")
            };
        let t = Instant::now();
        run();
        let first = t.elapsed().as_secs_f64() * 1000.0;
        let (mut best, cpu0, t0) = (f64::MAX, cpu_ms(), Instant::now());
        for _ in 0..repeats {
            let t = Instant::now();
            run();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        let wall = t0.elapsed().as_secs_f64() * 1000.0 / repeats as f64;
        let cpu = (cpu_ms() - cpu0) / repeats as f64;
        println!(
            "{op}: first {first:.1} ms, warm best {best:.1} ms, mean {wall:.1} ms, CPU {cpu:.1} ms/call"
        );
    }
}
