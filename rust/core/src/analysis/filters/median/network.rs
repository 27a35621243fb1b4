//! Selection networks for the 3×3 and 5×5 medians, run on vector lanes (one register of
//! pixels per wire), for 8-, 16- and 32-bit keys alike.
//!
//! 3×3: the median of 9 for every pixel. 5×5: two output rows at a time share the four
//! middle rows of their windows, and neighbouring windows share columns, so that work
//! is done once (after Adams, "Fast median filters using separable sorting networks",
//! 2021): each column's four shared values are sorted once, adjacent sorted columns
//! merged in pairs once, then each pair of outputs merges one column and two pairs into
//! the six values that can still be the median (ranks 7–12 of 20, which the sides
//! of the window cannot move past), and each output merges its own fifth row with those
//! six. About 77 min/max operations per pixel against 202 for a median-of-25 network.
//!
//! The networks are written out as comparator lists ([`network_9`] and the others), so
//! that the kernels are straight-line code with their wires in registers; tests check
//! them against the builder they came from and, by the 0–1 principle, on every binary
//! input.

use super::super::source_rows::{for_row_bands_in_place, ImageRows, SourceRows};
use super::super::{for_row_bands, reflect, Sample};
use super::Lane;

/// Radii up to this use a selection network; its size grows with the window area.
pub(super) const NETWORK_MAX_RADIUS: usize = 2;

/// Median of (2r+1)² windows, r = 1 or 2, `L` pixels at a time: pixels `T` compared as
/// keys `K` (the pixels themselves, or [`super::FloatKey`]s of floats), written as `O`.
pub(super) fn network_median<T: Copy + Sync, K: Lane + From<T>, O: From<K> + Sample>(
    pixels: &[T],
    w: usize,
    h: usize,
    r: usize,
    out: &mut [O],
) {
    let source = ImageRows { pixels, w, h };
    for_row_bands(out, w, |y0, rows| {
        network_rows::<T, K, O, _>(&source, w, r, y0, rows)
    });
}

/// [`network_median`] written over its input.
pub(super) fn network_median_in_place<T: Sample + From<K>, K: Lane + From<T>>(
    data: &mut [T],
    w: usize,
    r: usize,
) {
    for_row_bands_in_place(data, w, r, |y0, rows, source| {
        network_rows::<T, K, T, _>(source, w, r, y0, rows)
    });
}

/// The output rows from `y0`, in registers of as many lanes as the CPU has for `K`.
fn network_rows<T: Copy, K: Lane + From<T>, O: From<K> + Sample, S: SourceRows<T, O>>(
    source: &S,
    w: usize,
    r: usize,
    y0: usize,
    rows: &mut [O],
) {
    // One register of lanes per wire: 512 bits with AVX-512, else 256.
    let wide = super::super::simd::has_avx512();
    macro_rules! run {
        ($lanes:literal) => {
            super::super::simd::dispatch(NetworkRows::<T, K, O, S, $lanes> {
                source,
                w,
                r,
                y0,
                rows,
                key: std::marker::PhantomData,
            })
        };
    }
    match (std::mem::size_of::<K>(), wide) {
        (1, true) => run!(64),
        (1, false) | (2, true) => run!(32),
        (2, false) | (_, true) => run!(16),
        _ => run!(8),
    }
}

/// Output rows from `y0` of [`network_median`], `L` keys to a register.
struct NetworkRows<'a, T, K, O, S, const L: usize> {
    source: &'a S,
    w: usize,
    r: usize,
    y0: usize,
    rows: &'a mut [O],
    key: std::marker::PhantomData<(T, K)>,
}

impl<T: Copy, K: Lane + From<T>, O: From<K> + Sample, S: SourceRows<T, O>, const L: usize>
    super::super::simd::Kernel for NetworkRows<'_, T, K, O, S, L>
{
    type Output = ();

    #[inline(always)]
    fn run(self, avx2: bool) {
        // `avx2`: compiled with AVX2 (`simd::dispatch`), where `network_rows` fills
        // 256-bit registers.
        if avx2 {
            self.run_with::<true>()
        } else {
            self.run_with::<false>()
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn run_avx512(self) {
        self.run_with::<true>()
    }
}

/// The source rows a band's windows reach, reflected at the sides and converted to keys,
/// with `r` columns more on each side and a pass's worth more on the right so every
/// pass reads whole lanes; in a ring of `len` rows, so each output row pads its new
/// source rows (in cache) instead of the whole image up front. Padded row `py` holds
/// source row `py − r` and padded column `px` source column `px − r`.
struct RowRing<K> {
    w: usize,
    r: usize,
    /// Padded row length.
    pw: usize,
    len: usize,
    keys: Vec<K>,
}

impl<K: Lane> RowRing<K> {
    fn new(w: usize, r: usize, len: usize, lanes: usize) -> Self {
        let pw = w + 2 * r + lanes;
        Self {
            w,
            r,
            pw,
            len,
            keys: vec![K::default(); len * pw],
        }
    }

    /// Pads row `py` from source row `py − r` of `source` (`band`: the output rows).
    #[inline(always)]
    fn pad<T: Copy, O>(&mut self, py: usize, source: &impl SourceRows<T, O>, band: &[O])
    where
        K: From<T>,
    {
        let (w, r) = (self.w, self.r);
        let src = source.row(py as isize - r as isize, band);
        let dst = &mut self.keys[(py % self.len) * self.pw..][..self.pw];
        for i in 0..r {
            dst[i] = K::from(src[reflect(i as isize - r as isize, w)]);
            dst[r + w + i] = K::from(src[reflect((w + i) as isize, w)]);
        }
        for (d, &s) in dst[r..r + w].iter_mut().zip(src) {
            *d = K::from(s);
        }
    }

    #[inline(always)]
    fn row(&self, py: usize) -> &[K] {
        &self.keys[(py % self.len) * self.pw..][..self.pw]
    }
}

/// Runs `$body` once for each listed `$k`, bound as a constant, so that arrays of wires
/// are indexed by constants and stay in registers: with plain loops the 5×5 kernel took
/// 1.4–1.6× as long (8-bit 1.6 → 2.5 ms, 32-bit 8.1 → 11 ms single thread).
macro_rules! unrolled {
    ($k:ident in $($n:literal)* => $body:expr) => {
        $({
            const $k: usize = $n;
            $body;
        })*
    };
}

/// Applies written-out comparators `lo hi keep` to the array of wires `$w`: `B` keeps
/// both outputs, `m` only the min (on wire `lo`), `M` only the max (on wire `hi`).
macro_rules! compare_exchange {
    ($w:ident; $($lo:literal $hi:literal $keep:ident),* $(,)?) => {
        $(compare_exchange!(@ $w, $lo, $hi, $keep);)*
    };
    (@ $w:ident, $lo:literal, $hi:literal, B) => {{
        let (s, t) = ($w[$lo], $w[$hi]);
        $w[$lo] = lanes_lo::<_, L, REGISTERS>(s, t);
        $w[$hi] = lanes_hi::<_, L, REGISTERS>(s, t);
    }};
    (@ $w:ident, $lo:literal, $hi:literal, m) => {
        $w[$lo] = lanes_lo::<_, L, REGISTERS>($w[$lo], $w[$hi]);
    };
    (@ $w:ident, $lo:literal, $hi:literal, M) => {
        $w[$hi] = lanes_hi::<_, L, REGISTERS>($w[$lo], $w[$hi]);
    };
}

// The written networks: each macro calls `$then!($($args)*; lo hi keep, ...)` with its
// comparators, and its constant names the wires that hold the outputs. The test
// `written_networks_are_the_built_ones` rebuilds each from [`tests::Builder`].
/// Comparators for the median of 9 (wires 0–8: a 3×3 window); [`MEDIAN_9`] holds it.
macro_rules! network_9 {
    ($then:ident!($($args:tt)*)) => { $then!($($args)*;
        0 1 B, 2 3 B, 0 2 B, 1 3 B, 1 2 B, 4 5 B, 7 8 B, 6 7 B, 8 7 B, 4 6 B, 5 8 B,
        7 6 B, 5 7 B, 8 6 B, 0 4 M, 1 5 M, 2 7 m, 3 8 m, 6 4 m, 2 6 M, 3 5 m, 3 6 M
    ) };
}
const MEDIAN_9: usize = 6;

/// Comparators that sort 4 wires; [`SORT_4`] holds them in order.
macro_rules! network_sort_4 {
    ($then:ident!($($args:tt)*)) => { $then!($($args)*;
        0 1 B, 2 3 B, 0 2 B, 1 3 B, 1 2 B
    ) };
}
const SORT_4: [usize; 4] = [0, 1, 2, 3];

/// Comparators that merge sorted wires 0–3 and 4–7; [`MERGE_4_4`] holds them in order.
macro_rules! network_merge_4_4 {
    ($then:ident!($($args:tt)*)) => { $then!($($args)*;
        0 4 B, 1 5 B, 2 6 B, 3 7 B, 2 4 B, 3 5 B, 1 2 B, 3 4 B, 5 6 B
    ) };
}
const MERGE_4_4: [usize; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

/// Comparators that give ranks 7–12 of a sorted column (wires 0–3) and two sorted
/// pairs of columns (4–11, 12–19); [`CORE_20`] holds them in order.
macro_rules! network_core_20 {
    ($then:ident!($($args:tt)*)) => { $then!($($args)*;
        0 4 B, 1 5 B, 2 6 B, 3 7 B, 8 4 B, 9 5 B, 10 6 B, 11 7 B, 2 8 B, 3 9 B, 10 4
        B, 11 5 B, 1 2 B, 3 8 B, 9 10 B, 11 4 B, 5 6 B, 0 12 M, 1 13 M, 2 14 M, 3 15
        M, 8 16 B, 9 17 B, 10 18 m, 11 19 m, 4 12 B, 5 13 B, 6 14 m, 7 15 m, 8 4 M,
        9 5 M, 10 6 B, 11 7 B, 16 12 m, 17 13 m, 10 4 M, 11 5 B, 6 16 B, 7 17 m, 11
        4 B, 5 6 B, 7 16 B
    ) };
}
const CORE_20: [usize; 6] = [11, 4, 5, 6, 7, 16];

/// Comparators that select rank 5 of six sorted wires (0–5) and five unsorted ones
/// (6–10); [`SELECT_11`] holds it.
macro_rules! network_select_11 {
    ($then:ident!($($args:tt)*)) => { $then!($($args)*;
        6 7 B, 9 10 B, 8 9 B, 10 9 B, 6 8 B, 7 10 B, 9 8 B, 7 9 B, 10 8 B, 0 6 M, 1
        7 M, 2 9 M, 3 10 m, 4 8 m, 4 6 M, 5 7 m, 3 5 M, 9 6 m, 5 9 m
    ) };
}
const SELECT_11: usize = 5;

impl<T: Copy, K: Lane + From<T>, O: From<K> + Sample, S: SourceRows<T, O>, const L: usize>
    NetworkRows<'_, T, K, O, S, L>
{
    /// The kernel for the radius; `REGISTERS`: min and max on whole registers
    /// ([`Lane::lo_registers`]), only where the CPU has the instructions for them.
    #[inline(always)]
    fn run_with<const REGISTERS: bool>(self) {
        if self.r == 1 {
            self.median_3x3::<REGISTERS>()
        } else {
            self.median_5x5::<REGISTERS>()
        }
    }

    /// 3×3: the median-of-9 network for every pixel.
    #[inline(always)]
    fn median_3x3<const REGISTERS: bool>(self) {
        let (source, w, y0, rows) = (self.source, self.w, self.y0, self.rows);
        let mut ring = RowRing::<K>::new(w, 1, 3, L);
        for py in y0..y0 + 2 {
            ring.pad(py, source, rows);
        }
        for i in 0..rows.len() / w {
            let y = y0 + i;
            // Source row y + 1 is padded before output row y is written: in place, it
            // is still the input.
            ring.pad(y + 2, source, rows);
            let out_row = &mut rows[i * w..][..w];
            let (r0, r1, r2) = (ring.row(y), ring.row(y + 1), ring.row(y + 2));
            for x0 in (0..w).step_by(L) {
                let mut wires = [
                    lanes::<K, L>(r0, x0),
                    lanes(r0, x0 + 1),
                    lanes(r0, x0 + 2),
                    lanes(r1, x0),
                    lanes(r1, x0 + 1),
                    lanes(r1, x0 + 2),
                    lanes(r2, x0),
                    lanes(r2, x0 + 1),
                    lanes(r2, x0 + 2),
                ];
                network_9!(compare_exchange!(wires));
                store(out_row, x0, wires[MEDIAN_9]);
            }
        }
    }

    /// 5×5: two output rows at a time, sharing their four middle window rows (module docs).
    #[inline(always)]
    fn median_5x5<const REGISTERS: bool>(self) {
        let (source, w, y0, rows) = (self.source, self.w, self.y0, self.rows);
        let mut ring = RowRing::<K>::new(w, 2, 6, L);
        // Planes over a strip of padded columns, small enough to stay in the L1 cache:
        // `sorted[k]` holds, at column px, the k-th smallest of the four shared rows in that
        // column; `pairs[k]` the k-th smallest of columns px − 1 and px together.
        let strip = STRIP_REGISTERS * L;
        let plane = strip + 4 + L;
        let mut sorted = vec![K::default(); 4 * plane];
        let mut pairs = vec![K::default(); 8 * plane];
        for py in y0..y0 + 4 {
            ring.pad(py, source, rows);
        }
        for i in 0..rows.len().div_ceil(2 * w) {
            // Output rows y and y + 1 have windows on padded rows y..=y + 4 and y + 1..=y + 5;
            // source rows y + 2 and y + 3 are padded before rows y and y + 1 are written.
            let y = y0 + 2 * i;
            ring.pad(y + 4, source, rows);
            if 2 * (i + 1) * w <= rows.len() {
                // Only a second output row reads padded row y + 5, which for a band's
                // last odd row lies beyond the rows an in-place source holds.
                ring.pad(y + 5, source, rows);
            }
            let pair_end = (2 * i * w + 2 * w).min(rows.len());
            let (top_out, bottom_out) = rows[2 * i * w..pair_end].split_at_mut(w);
            for x_start in (0..w).step_by(strip) {
                let x_end = (x_start + strip).min(w);
                // The strip's padded columns, from x_start: its windows reach x_end + 4.
                let shared = [
                    &ring.row(y + 1)[x_start..],
                    &ring.row(y + 2)[x_start..],
                    &ring.row(y + 3)[x_start..],
                    &ring.row(y + 4)[x_start..],
                ];
                let (top, bottom) = (&ring.row(y)[x_start..], &ring.row(y + 5)[x_start..]);
                let columns = x_end - x_start + 4;
                for px in (0..columns).step_by(L) {
                    let mut wires = [
                        lanes::<K, L>(shared[0], px),
                        lanes(shared[1], px),
                        lanes(shared[2], px),
                        lanes(shared[3], px),
                    ];
                    network_sort_4!(compare_exchange!(wires));
                    unrolled!(K in 0 1 2 3 => put(&mut sorted[K * plane..], px, wires[SORT_4[K]]));
                }
                for px in (2..columns).step_by(L) {
                    let mut wires = [
                        lanes::<K, L>(&sorted, px - 1),
                        lanes(&sorted[plane..], px - 1),
                        lanes(&sorted[2 * plane..], px - 1),
                        lanes(&sorted[3 * plane..], px - 1),
                        lanes(&sorted, px),
                        lanes(&sorted[plane..], px),
                        lanes(&sorted[2 * plane..], px),
                        lanes(&sorted[3 * plane..], px),
                    ];
                    network_merge_4_4!(compare_exchange!(wires));
                    unrolled!(K in 0 1 2 3 4 5 6 7 =>
                        put(&mut pairs[K * plane..], px, wires[MERGE_4_4[K]]));
                }
                for x in (0..x_end - x_start).step_by(L) {
                    // Window of output x: padded columns x..=x + 4; column x alone, then
                    // the pairs ending at x + 2 and x + 4.
                    let mut core = [[K::default(); L]; 20];
                    unrolled!(K in 0 1 2 3 => core[K] = lanes(&sorted[K * plane..], x));
                    unrolled!(K in 0 1 2 3 4 5 6 7 => {
                        core[4 + K] = lanes(&pairs[K * plane..], x + 2);
                        core[12 + K] = lanes(&pairs[K * plane..], x + 4);
                    });
                    network_core_20!(compare_exchange!(core));
                    let mut candidates = [[K::default(); L]; 6];
                    unrolled!(K in 0 1 2 3 4 5 => candidates[K] = core[CORE_20[K]]);
                    let out_x = x_start + x;
                    store(
                        &mut top_out[..x_end],
                        out_x,
                        select_median::<K, L, REGISTERS>(&candidates, top, x),
                    );
                    if !bottom_out.is_empty() {
                        let row = &mut bottom_out[..x_end];
                        store(
                            row,
                            out_x,
                            select_median::<K, L, REGISTERS>(&candidates, bottom, x),
                        );
                    }
                }
            }
        }
    }
}

/// Registers of lanes per strip of the 5×5 kernel: 12 planes of 32 registers (24 KiB
/// with AVX-512) stay in the L1 cache; whole image rows did not (1.3× slower).
const STRIP_REGISTERS: usize = 32;

/// The median of a 5×5 window from the six candidates of its shared rows and its own
/// fifth row (padded columns `x0..x0 + 5` of `row`).
#[inline(always)]
fn select_median<K: Lane, const L: usize, const REGISTERS: bool>(
    candidates: &[[K; L]; 6],
    row: &[K],
    x0: usize,
) -> [K; L] {
    let mut wires = [[K::default(); L]; 11];
    unrolled!(K in 0 1 2 3 4 5 => wires[K] = candidates[K]);
    unrolled!(K in 0 1 2 3 4 => wires[6 + K] = lanes(row, x0 + K));
    network_select_11!(compare_exchange!(wires));
    wires[SELECT_11]
}

/// Writes `values` to `plane` from `start`.
#[inline(always)]
fn put<K: Copy, const L: usize>(plane: &mut [K], start: usize, values: [K; L]) {
    let to: &mut [K; L] = (&mut plane[start..start + L]).try_into().expect("L values");
    *to = values;
}

/// Writes the lanes that fall inside the row from `x0`.
#[inline(always)]
fn store<K: Copy, O: From<K>, const L: usize>(row: &mut [O], x0: usize, values: [K; L]) {
    let n = (row.len() - x0).min(L);
    row[x0..x0 + n]
        .iter_mut()
        .zip(values)
        .for_each(|(o, v)| *o = O::from(v));
}

/// `L` values from `start`.
#[inline(always)]
fn lanes<T: Copy, const L: usize>(values: &[T], start: usize) -> [T; L] {
    values[start..start + L].try_into().expect("L values")
}

/// Lane-wise min: on whole registers where `REGISTERS` says so (the CPU has the
/// instructions for their width).
#[inline(always)]
fn lanes_lo<T: Lane, const L: usize, const REGISTERS: bool>(a: [T; L], b: [T; L]) -> [T; L] {
    #[cfg(target_arch = "x86_64")]
    if REGISTERS {
        // SAFETY: kernels with REGISTERS run only where the CPU has the instructions.
        return unsafe { T::lo_registers(a, b) };
    }
    let mut out = a;
    for l in 0..L {
        out[l] = T::lo(a[l], b[l]);
    }
    out
}

/// Lane-wise max, as [`lanes_lo`].
#[inline(always)]
fn lanes_hi<T: Lane, const L: usize, const REGISTERS: bool>(a: [T; L], b: [T; L]) -> [T; L] {
    #[cfg(target_arch = "x86_64")]
    if REGISTERS {
        // SAFETY: as in `lanes_lo`.
        return unsafe { T::hi_registers(a, b) };
    }
    let mut out = a;
    for l in 0..L {
        out[l] = T::hi(a[l], b[l]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which outputs of a compare–exchange are still needed.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Keep {
        Both,
        Min,
        Max,
    }

    /// Wire `lo` receives the smaller value and wire `hi` the larger.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct CompareExchange {
        lo: usize,
        hi: usize,
        keep: Keep,
    }

    /// Builds comparator networks on numbered wires from Batcher's odd–even merge.
    #[derive(Default)]
    pub(super) struct Builder {
        ops: Vec<(usize, usize)>,
    }

    impl Builder {
        /// Merges the sorted wires `a` and `b` (Batcher's odd–even merge of two lists
        /// padded to a power of two with +∞, the padding resolved while building);
        /// returns the wires in sorted order.
        fn merge(&mut self, a: &[usize], b: &[usize]) -> Vec<usize> {
            let p = a.len().max(b.len()).next_power_of_two();
            let mut wire: Vec<Option<usize>> = vec![None; 2 * p];
            for (i, &x) in a.iter().enumerate() {
                wire[i] = Some(x);
            }
            for (i, &x) in b.iter().enumerate() {
                wire[p + i] = Some(x);
            }
            let mut k = p;
            while k >= 1 {
                let mut j = k % p;
                while j + k < 2 * p {
                    for i in 0..k.min(2 * p - j - k) {
                        let (lo, hi) = (i + j, i + j + k);
                        match (wire[lo], wire[hi]) {
                            // +∞ on the high side: nothing moves.
                            (_, None) => {}
                            // +∞ moves up; only the labels change.
                            (None, Some(_)) => wire.swap(lo, hi),
                            (Some(x), Some(y)) => self.ops.push((x, y)),
                        }
                    }
                    j += 2 * k;
                }
                k /= 2;
            }
            wire.into_iter().flatten().collect()
        }

        /// Sorts `wires` by merging sorted halves; returns them in sorted order.
        fn sort(&mut self, wires: &[usize]) -> Vec<usize> {
            if wires.len() <= 1 {
                return wires.to_vec();
            }
            let (a, b) = wires.split_at(wires.len() / 2);
            let (a, b) = (self.sort(a), self.sort(b));
            self.merge(&a, &b)
        }

        /// The comparators that `outputs` depend on, keeping only the min or the max
        /// where only one is used.
        fn pruned(&self, outputs: &[usize]) -> Vec<CompareExchange> {
            let wires = self
                .ops
                .iter()
                .map(|&(a, b)| a.max(b) + 1)
                .max()
                .unwrap_or(0);
            let mut live = vec![false; wires.max(outputs.iter().max().map_or(0, |&o| o + 1))];
            for &o in outputs {
                live[o] = true;
            }
            let mut kept = Vec::new();
            for &(lo, hi) in self.ops.iter().rev() {
                let keep = match (live[lo], live[hi]) {
                    (false, false) => continue,
                    (true, true) => Keep::Both,
                    (true, false) => Keep::Min,
                    (false, true) => Keep::Max,
                };
                live[lo] = true;
                live[hi] = true;
                kept.push(CompareExchange { lo, hi, keep });
            }
            kept.reverse();
            kept
        }
    }

    /// The written networks' sources: name, output wires, comparators.
    fn built() -> Vec<(&'static str, Vec<usize>, Vec<CompareExchange>)> {
        let range = |a: usize, b: usize| (a..b).collect::<Vec<_>>();
        let mut nets = Vec::new();
        let mut b = Builder::default();
        let out = vec![b.sort(&range(0, 9))[4]];
        nets.push(("network_9", out.clone(), b.pruned(&out)));
        let mut b = Builder::default();
        let out = b.sort(&range(0, 4));
        nets.push(("network_sort_4", out.clone(), b.pruned(&out)));
        let mut b = Builder::default();
        let out = b.merge(&range(0, 4), &range(4, 8));
        nets.push(("network_merge_4_4", out.clone(), b.pruned(&out)));
        // One sorted column (wires 0–3) and two sorted pairs of columns (4–11, 12–19):
        // ranks 7–12 of the 20, the only ones that can be the median of 25.
        let mut b = Builder::default();
        let three = b.merge(&range(0, 4), &range(4, 12));
        let out = b.merge(&three, &range(12, 20))[7..13].to_vec();
        nets.push(("network_core_20", out.clone(), b.pruned(&out)));
        // Those six, sorted (wires 0–5), and the window's fifth row (6–10): rank 5.
        let mut b = Builder::default();
        let row = b.sort(&range(6, 11));
        let out = vec![b.merge(&range(0, 6), &row)[5]];
        nets.push(("network_select_11", out.clone(), b.pruned(&out)));
        nets
    }

    macro_rules! listed {
        (; $($lo:literal $hi:literal $keep:ident),* $(,)?) => {
            vec![$(($lo, $hi, stringify!($keep))),*]
        };
    }

    #[test]
    fn written_networks_are_the_built_ones() {
        type Listed = Vec<(usize, usize, &'static str)>;
        let written: Vec<(&str, Vec<usize>, Listed)> = vec![
            ("network_9", vec![MEDIAN_9], network_9!(listed!())),
            (
                "network_sort_4",
                SORT_4.to_vec(),
                network_sort_4!(listed!()),
            ),
            (
                "network_merge_4_4",
                MERGE_4_4.to_vec(),
                network_merge_4_4!(listed!()),
            ),
            (
                "network_core_20",
                CORE_20.to_vec(),
                network_core_20!(listed!()),
            ),
            (
                "network_select_11",
                vec![SELECT_11],
                network_select_11!(listed!()),
            ),
        ];
        let name = |k: Keep| match k {
            Keep::Both => "B",
            Keep::Min => "m",
            Keep::Max => "M",
        };
        for ((built_name, out, ops), (written_name, written_out, written_ops)) in
            built().into_iter().zip(written)
        {
            let ops: Vec<(usize, usize, &str)> =
                ops.iter().map(|c| (c.lo, c.hi, name(c.keep))).collect();
            assert_eq!(built_name, written_name);
            assert_eq!((out, ops), (written_out, written_ops), "{built_name}");
        }
    }

    /// Runs `network` on one input of zeros and ones.
    fn run_binary(network: &[CompareExchange], input: &[u8]) -> Vec<u8> {
        let mut wires = input.to_vec();
        for op in network {
            let (u, v) = (wires[op.lo], wires[op.hi]);
            if op.keep != Keep::Max {
                wires[op.lo] = u.min(v);
            }
            if op.keep != Keep::Min {
                wires[op.hi] = u.max(v);
            }
        }
        wires
    }

    /// The kernels `simd::dispatch` does not pick on this CPU: 256-bit registers (AVX2)
    /// and lane by lane, for every key type and both radii, against selection.
    #[test]
    fn every_kernel_variant_equals_selection() {
        use super::super::super::simd::{has_fma, Kernel};
        use super::super::{histogram::selection_median, tests::random_values, FloatKey};
        let (w, h) = (70, 9);
        let values: Vec<f32> = random_values(w, h, 3)
            .into_iter()
            .map(|v| (v / 8.0).rem_euclid(256.0).floor())
            .collect();
        let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
        let words: Vec<u16> = values.iter().map(|&v| v as u16).collect();
        fn kernel<T: Copy + Sync, K: Lane + From<T>, const L: usize>(
            pixels: &[T],
            w: usize,
            h: usize,
            r: usize,
            registers: bool,
        ) -> Vec<f32>
        where
            f32: From<K>,
        {
            let mut out = vec![0f32; w * h];
            let source = ImageRows { pixels, w, h };
            let rows = NetworkRows::<T, K, f32, _, L> {
                source: &source,
                w,
                r,
                y0: 0,
                rows: &mut out,
                key: std::marker::PhantomData,
            };
            rows.run(registers);
            out
        }
        for r in 1..=NETWORK_MAX_RADIUS {
            let mut expected = vec![0f32; w * h];
            selection_median(&values, w, h, r, &mut expected);
            for registers in [false, has_fma()] {
                let floats = kernel::<f32, FloatKey, 8>(&values, w, h, r, registers);
                let from_words = kernel::<u16, u16, 16>(&words, w, h, r, registers);
                let from_bytes = kernel::<u8, u8, 32>(&bytes, w, h, r, registers);
                for out in [floats, from_words, from_bytes] {
                    assert_eq!(out, expected, "r = {r}, registers: {registers}");
                }
            }
        }
    }

    /// A sorted run of `n` zeros and ones with `ones` ones.
    fn sorted_binary(n: usize, ones: usize) -> Vec<u8> {
        (0..n).map(|i| (i >= n - ones) as u8).collect()
    }

    /// By the 0–1 principle a comparator network sorts or selects ranks of every input
    /// (meeting its precondition: which wires arrive sorted) if it does for every such
    /// input of zeros and ones; each network is checked on all of those.
    #[test]
    fn networks_give_their_ranks_on_every_binary_input() {
        let nets = built();
        let rank_of = |input: &[u8], rank: usize| {
            let mut sorted = input.to_vec();
            sorted.sort();
            sorted[rank]
        };
        let binary = |n: usize| -> Vec<Vec<u8>> {
            (0u32..1 << n)
                .map(|b| (0..n).map(|i| (b >> i & 1) as u8).collect())
                .collect()
        };
        for (name, out, ops) in &nets {
            let (inputs, ranks): (Vec<Vec<u8>>, Vec<usize>) = match *name {
                "network_9" => (binary(9), vec![4]),
                "network_sort_4" => (binary(4), (0..4).collect()),
                "network_merge_4_4" => {
                    let runs = (0..=4).flat_map(|a| {
                        (0..=4).map(move |b| [sorted_binary(4, a), sorted_binary(4, b)].concat())
                    });
                    (runs.collect(), (0..8).collect())
                }
                "network_core_20" => {
                    let runs = (0..=4).flat_map(|a| {
                        (0..=8).flat_map(move |b| {
                            (0..=8).map(move |c| {
                                [
                                    sorted_binary(4, a),
                                    sorted_binary(8, b),
                                    sorted_binary(8, c),
                                ]
                                .concat()
                            })
                        })
                    });
                    (runs.collect(), (7..13).collect())
                }
                "network_select_11" => {
                    let runs = (0..=6).flat_map(|a| {
                        binary(5)
                            .into_iter()
                            .map(move |row| [sorted_binary(6, a), row].concat())
                    });
                    (runs.collect(), vec![5])
                }
                _ => unreachable!("every built network is checked: {name}"),
            };
            for input in &inputs {
                let wires = run_binary(ops, input);
                for (&wire, &rank) in out.iter().zip(&ranks) {
                    assert_eq!(wires[wire], rank_of(input, rank), "{name} on {input:?}");
                }
            }
        }
    }

    /// The six candidates of the shared rows and the fifth row give the median of 25
    /// (ranks 0–6 of the shared 20 lie below the median and 13–19 above it, whatever
    /// the fifth row holds): checked on binary windows, all 2^25 through the 0–1
    /// principle would be slow, so every window whose shared rows hold a given number of
    /// ones in each sorted group, with every fifth row.
    #[test]
    fn candidates_and_fifth_row_give_the_median_of_25() {
        let nets = built();
        let (core_out, core) = (&nets[3].1, &nets[3].2);
        let (select_out, select) = (&nets[4].1, &nets[4].2);
        for a in 0..=4 {
            for b in 0..=8 {
                for c in 0..=8 {
                    let shared = [
                        sorted_binary(4, a),
                        sorted_binary(8, b),
                        sorted_binary(8, c),
                    ]
                    .concat();
                    let wires = run_binary(core, &shared);
                    for row in (0u32..1 << 5).map(|b| (0..5).map(move |i| (b >> i & 1) as u8)) {
                        let row: Vec<u8> = row.collect();
                        let input: Vec<u8> = core_out
                            .iter()
                            .map(|&o| wires[o])
                            .chain(row.iter().copied())
                            .collect();
                        let median = run_binary(select, &input)[select_out[0]];
                        let ones = shared.iter().chain(&row).filter(|&&v| v == 1).count();
                        assert_eq!(median, (ones > 12) as u8, "{shared:?} {row:?}");
                    }
                }
            }
        }
    }
}
