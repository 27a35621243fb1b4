//! Reducing grey values to the matrix's levels.

use super::*;

/// An image of grey levels `0..levels`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantized {
    pub width: usize,
    pub height: usize,
    pub levels: usize,
    pub data: Vec<u8>,
}

/// Maps an image to `levels` grey levels (see [`Quantization`]). Fails on NaN or infinite
/// pixels, and for [`Quantization::Direct`] on values that are not levels.
pub fn quantize(view: &ImageView, levels: usize, mode: Quantization) -> Result<Quantized> {
    validate_levels(levels)?;
    view.ensure_finite()?;
    let (width, height) = (view.width(), view.height());
    let n = width * height;
    let top = levels - 1;
    let data: Vec<u8> = match (mode, view.pixels()) {
        (Quantization::Direct, Pixels::Gray8(p)) if p.iter().all(|&v| (v as usize) < levels) => {
            p.to_vec()
        }
        (Quantization::Direct, _) => {
            let mut data = Vec::with_capacity(n);
            for i in 0..n {
                let v = view.gray_at(i);
                if v < 0.0 || v > top as f32 || v.fract() != 0.0 {
                    return Err(Error::invalid(format!(
                        "pixel ({}, {}) has value {v}, not a grey level 0–{top}; direct \
                         quantisation needs integer levels below {levels}",
                        i % width,
                        i / width
                    )));
                }
                data.push(v as u8);
            }
            data
        }
        (Quantization::Auto, Pixels::Gray8(p)) => p
            .iter()
            .map(|&v| (v as usize * levels / 256) as u8)
            .collect(),
        (Quantization::Auto, Pixels::PackedRgb(_)) => (0..n)
            .map(|i| {
                let v = view.gray_at(i) as f64;
                ((v * levels as f64 / 256.0).floor() as usize).min(top) as u8
            })
            .collect(),
        _ => {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for i in 0..n {
                let v = view.gray_at(i) as f64;
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi == lo {
                vec![0; n]
            } else {
                let range = hi - lo;
                (0..n)
                    .map(|i| {
                        let v = view.gray_at(i) as f64;
                        ((((v - lo) / range) * levels as f64).floor() as usize).min(top) as u8
                    })
                    .collect()
            }
        }
    };
    Ok(Quantized {
        width,
        height,
        levels,
        data,
    })
}
