//! Wall and CPU time of each preprocessing filter on one image, first call and warm
//! calls in one process (the CLI's `preprocess --timings` op stage is the first call).
//! The median and CLAHE run as the CLI runs them, over a copy of the image that is
//! restored before each call (outside the wall time, inside the CPU time).
//!
//! cargo run --release -p visual-ccc-core --example filter_timing -- IMAGE [REPEATS] [OPS]
//!
//! OPS is a comma-separated list of median,median3,gaussian,bilateral,clahe.

use std::time::Instant;

use visual_ccc_core::analysis::filters::{self, *};
use visual_ccc_core::error::Result;
use visual_ccc_core::image::decode::decode_file;
use visual_ccc_core::image::pixels::OwnedImage;

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
    let mut work = image.clone();
    for op in ops.split(',') {
        // The call's wall time.
        let mut run = || -> f64 {
            let in_place = |work: &mut OwnedImage, f: &dyn Fn(&mut OwnedImage) -> Result<()>| {
                work.clone_from(&image);
                let t = Instant::now();
                f(work).expect("filter runs");
                t.elapsed()
            };
            let t = Instant::now();
            let elapsed = match op {
                "median" => in_place(&mut work, &|im| {
                    filters::median_in_place(im, &MedianParams { radius: 2 })
                }),
                "median3" => in_place(&mut work, &|im| {
                    filters::median_in_place(im, &MedianParams { radius: 1 })
                }),
                "clahe" => in_place(&mut work, &|im| {
                    filters::clahe_in_place(im, &ClaheParams::default())
                }),
                "gaussian" => {
                    filters::gaussian(&view, &GaussianParams { sigma: 2.0 }).expect("filter runs");
                    t.elapsed()
                }
                "bilateral" => {
                    let range_sigma = BilateralParams::default_for(&view).range_sigma;
                    let params = BilateralParams {
                        spatial_sigma: 2.0,
                        range_sigma,
                    };
                    filters::bilateral_same_depth(&view, &params).expect("filter runs");
                    t.elapsed()
                }
                other => panic!("unknown op {other}"),
            };
            elapsed.as_secs_f64() * 1000.0
        };
        let first = run();
        let (mut best, mut total, cpu0) = (f64::MAX, 0.0, cpu_ms());
        for _ in 0..repeats {
            let ms = run();
            best = best.min(ms);
            total += ms;
        }
        let wall = total / repeats as f64;
        let cpu = (cpu_ms() - cpu0) / repeats as f64;
        println!(
            "{op}: first {first:.1} ms, warm best {best:.1} ms, mean {wall:.1} ms, CPU {cpu:.1} ms/call"
        );
    }
}
