//! The single seeded random stream of a synthesis.

use std::f32::consts::TAU;

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

// ---------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------

/// The single random stream; every draw goes through it in program order.
pub(super) struct Rng {
    pub(super) inner: Xoshiro256PlusPlus,
    pub(super) spare: Option<f32>,
}

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            inner: Xoshiro256PlusPlus::seed_from_u64(seed),
            spare: None,
        }
    }

    #[inline]
    pub(super) fn u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in [0, 1).
    #[inline]
    pub(super) fn unit(&mut self) -> f32 {
        (self.u64() >> 40) as f32 * (1.0 / 16_777_216.0)
    }

    #[inline]
    pub(super) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Log-uniform in [lo, hi] (both positive).
    pub(super) fn log_range(&mut self, lo: f32, hi: f32) -> f32 {
        self.range(lo.ln(), hi.ln()).exp()
    }

    /// Uniform integer in [0, n).
    #[inline]
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((self.u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform integer in [lo, hi].
    pub(super) fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    #[inline]
    pub(super) fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    /// With probability `p` a value uniform in [lo, hi), otherwise `otherwise`: one draw
    /// for the chance, then one for the value only when it is taken.
    pub(super) fn range_or(&mut self, p: f32, (lo, hi): (f32, f32), otherwise: f32) -> f32 {
        if self.chance(p) {
            self.range(lo, hi)
        } else {
            otherwise
        }
    }

    pub(super) fn sign(&mut self) -> f32 {
        if self.chance(0.5) {
            1.0
        } else {
            -1.0
        }
    }

    pub(super) fn angle(&mut self) -> f32 {
        self.range(0.0, TAU)
    }

    /// Standard normal (Box–Muller).
    pub(super) fn normal(&mut self) -> f32 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let u1 = (self.unit() + 1.0 / 33_554_432.0).min(1.0);
        let u2 = self.unit();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (TAU * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }

    /// Approximately normal (Irwin–Hall of four uniforms, unit variance), for
    /// per-pixel noise where speed matters more than tails.
    #[inline]
    pub(super) fn fast_normal(&mut self) -> f32 {
        let v = self.u64();
        let sum = (v & 0xffff) + ((v >> 16) & 0xffff) + ((v >> 32) & 0xffff) + (v >> 48);
        (sum as f32 * (1.0 / 65_536.0) - 2.0) * 1.732_050_8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_helpers_stay_in_range() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(rng.below(7) < 7);
            let n = rng.fast_normal();
            assert!(n.abs() < 3.5);
        }
    }
}
