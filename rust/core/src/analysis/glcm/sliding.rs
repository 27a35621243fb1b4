//! Feature maps over a sliding window: running column sums of exact integer moments,
//! updated row by row in parallel row bands.

use super::*;

/// Output element of the sliding-window maps.
pub(super) trait Sample: Copy + Default + Send {
    fn from_f64(v: f64) -> Self;
}

impl Sample for f32 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Sample for f64 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// A per-pair quantity summed over windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sum {
    A,
    B,
    Aa,
    Bb,
    Ab,
    Con,
    Dis,
    Hom,
}

/// Everything about one offset that the row workers need.
pub(super) struct OffsetPlan {
    /// Row offset (≥ 0) and column offset of the neighbour.
    pub(super) dr: usize,
    pub(super) dc: isize,
    /// Rows and columns of reference pixels whose neighbour stays in the window.
    pub(super) nh: usize,
    pub(super) nw: usize,
    /// First padded column of reference pixels, `max(0, −dc)`.
    pub(super) x0: usize,
    /// Pairs per window, and matrix total (twice that when symmetric).
    pub(super) pairs: i64,
    pub(super) total: i64,
}

pub(super) struct Plan<'a> {
    pub(super) qp: &'a [u8],
    pub(super) wp: usize,
    pub(super) width: usize,
    pub(super) levels: usize,
    pub(super) symmetric: bool,
    pub(super) offsets: Vec<OffsetPlan>,
    pub(super) sums: Vec<Sum>,
    pub(super) histogram: bool,
    pub(super) features: Vec<Feature>,
    /// round(2^46 / (1 + d²)) by |a − b|.
    pub(super) hom: Vec<i64>,
    /// round(2^40 · n ln n) for n up to the largest matrix total.
    pub(super) ent: Vec<i64>,
    /// Changes of `Σ n²` and of the fixed-point `Σ n ln n` when a cell goes from n to
    /// n + 1: one row of `table_row` entries, plus a second row for diagonal cells in
    /// symmetric mode (see `histogram_row`).
    pub(super) dsq: Vec<i64>,
    pub(super) dent: Vec<i64>,
    pub(super) table_row: usize,
}

pub(super) fn sums_needed(features: &[Feature], symmetric: bool) -> Vec<Sum> {
    let mut sums = Vec::new();
    let mut need = |s: Sum| {
        if !sums.contains(&s) {
            sums.push(s);
        }
    };
    for &f in features {
        match f {
            Feature::Contrast => need(Sum::Con),
            Feature::Dissimilarity => need(Sum::Dis),
            Feature::Homogeneity => need(Sum::Hom),
            Feature::Mean => {
                need(Sum::A);
                if symmetric {
                    need(Sum::B);
                }
            }
            Feature::Variance => {
                need(Sum::A);
                need(Sum::Aa);
                if symmetric {
                    need(Sum::B);
                    need(Sum::Bb);
                }
            }
            Feature::Correlation => {
                for s in [Sum::A, Sum::B, Sum::Aa, Sum::Bb, Sum::Ab] {
                    need(s);
                }
            }
            Feature::Asm | Feature::Energy | Feature::Entropy => {}
        }
    }
    sums
}

/// Computes the maps of a validated parameter set.
pub(super) fn sliding_maps<T: Sample>(
    q: &Quantized,
    params: &TextureParams,
) -> Vec<(MapKey, Vec<T>)> {
    let g = &params.glcm;
    let (width, height) = (q.width, q.height);
    let w = params.window;
    let half = w / 2;
    let wp = width + 2 * half;
    let mut qp = vec![0u8; wp * (height + 2 * half)];
    for (y, row) in q.data.chunks_exact(width).enumerate() {
        let start = (y + half) * wp + half;
        qp[start..start + width].copy_from_slice(row);
    }
    let offsets: Vec<OffsetPlan> = g
        .offsets()
        .into_iter()
        .map(|(_, _, dr, dc)| {
            let (nh, nw) = (w - dr, w - dc.unsigned_abs());
            let pairs = (nh * nw) as i64;
            OffsetPlan {
                dr,
                dc,
                nh,
                nw,
                x0: (-dc).max(0) as usize,
                pairs,
                total: if g.symmetric { 2 * pairs } else { pairs },
            }
        })
        .collect();
    let histogram = g.features.iter().any(|f| f.needs_histogram());
    let max_total = offsets.iter().map(|o| o.total).max().unwrap_or(0) as usize;
    // A cell holds at most `total` (non-symmetric) or `total / 2` (symmetric) pairs.
    let table_row = if histogram { max_total + 1 } else { 0 };
    let ent: Vec<i64> = (0..if histogram { max_total + 3 } else { 0 })
        .map(|n| {
            let n = n as f64;
            if n > 1.0 {
                (n * n.ln() * ENT_SCALE).round() as i64
            } else {
                0
            }
        })
        .collect();
    let (mut dsq, mut dent) = (Vec::new(), Vec::new());
    for n in 0..table_row {
        let n2 = 2 * n as i64 + 1;
        if g.symmetric {
            dsq.push(2 * n2);
            dent.push(2 * (ent[n + 1] - ent[n]));
        } else {
            dsq.push(n2);
            dent.push(ent[n + 1] - ent[n]);
        }
    }
    if g.symmetric {
        for n in 0..table_row {
            dsq.push(4 * (2 * n as i64 + 1));
            dent.push(if 2 * n + 2 < ent.len() {
                ent[2 * n + 2] - ent[2 * n]
            } else {
                0
            });
        }
    }
    let plan = Plan {
        qp: &qp,
        wp,
        width,
        levels: g.levels,
        symmetric: g.symmetric,
        sums: sums_needed(&g.features, g.symmetric),
        histogram,
        features: g.features.clone(),
        hom: (0..g.levels)
            .map(|d| (HOM_SCALE / (1.0 + (d * d) as f64)).round() as i64)
            .collect(),
        dsq,
        dent,
        table_row,
        ent,
        offsets,
    };

    let keys = g.keys();
    let mut outputs: Vec<Vec<T>> = keys
        .iter()
        .map(|_| vec![T::default(); width * height])
        .collect();
    let rows_per_band = height.div_ceil(thread_count(params.threads).clamp(1, height));
    // Cut every output map into the same row bands, one work item per band.
    let mut bands: Vec<Vec<&mut [T]>> = Vec::new();
    for out in outputs.iter_mut() {
        for (b, chunk) in out.chunks_mut(rows_per_band * width).enumerate() {
            if bands.len() <= b {
                bands.push(Vec::new());
            }
            bands[b].push(chunk);
        }
    }
    let (plan, keys_ref, na) = (&plan, &keys, g.angles_deg.len());
    let band_count = bands.len();
    par_blocks(
        bands,
        band_count,
        || (),
        |b, slices, _| {
            let r0 = b * rows_per_band;
            let r1 = (r0 + rows_per_band).min(height);
            Worker::new(plan).run(r0, r1, slices, keys_ref, na)
        },
    );
    keys.into_iter().map(|k| k.0).zip(outputs).collect()
}

/// Row-band state: running column sums, the running matrix and per-row feature buffers.
pub(super) struct Worker<'a> {
    pub(super) plan: &'a Plan<'a>,
    /// Column sums per (offset, sum), then their window sums along the current row.
    pub(super) columns: Vec<Vec<i64>>,
    pub(super) windows: Vec<Vec<i64>>,
    pub(super) cells: Vec<u32>,
    pub(super) bases: Vec<(usize, usize)>,
    /// `Σ n²` and fixed-point `Σ n ln n` of the matrix at each window of the row.
    pub(super) sq: Vec<i64>,
    pub(super) ent_sum: Vec<i64>,
    /// Feature values per (offset, feature) along the current row.
    pub(super) values: Vec<Vec<f64>>,
}

impl<'a> Worker<'a> {
    pub(super) fn new(plan: &'a Plan<'a>) -> Self {
        let (ns, nf, width) = (plan.sums.len(), plan.features.len(), plan.width);
        let mut columns = Vec::new();
        for o in &plan.offsets {
            for _ in 0..ns {
                columns.push(vec![0i64; width + o.nw - 1]);
            }
        }
        let hist_len = if plan.histogram {
            plan.levels * plan.levels
        } else {
            0
        };
        Self {
            plan,
            windows: vec![vec![0i64; width]; columns.len()],
            columns,
            cells: vec![0; hist_len],
            bases: Vec::new(),
            sq: vec![0; if plan.histogram { width } else { 0 }],
            ent_sum: vec![0; if plan.histogram { width } else { 0 }],
            values: vec![vec![0.0; width]; plan.offsets.len() * nf],
        }
    }

    pub(super) fn run<T: Sample>(
        &mut self,
        r0: usize,
        r1: usize,
        mut out: Vec<&mut [T]>,
        keys: &[(MapKey, usize, usize, Option<usize>)],
        na: usize,
    ) {
        let plan = self.plan;
        let (width, nf) = (plan.width, plan.features.len());
        for r in r0..r1 {
            for oi in 0..plan.offsets.len() {
                self.window_sums(oi, r, r == r0);
                if plan.histogram {
                    self.histogram_row(oi, r);
                }
                self.features(oi);
            }
            let row = (r - r0) * width;
            for ((_, fi, di, ai), dst) in keys.iter().zip(out.iter_mut()) {
                let dst = &mut dst[row..row + width];
                match *ai {
                    Some(ai) => {
                        let src = &self.values[(di * na + ai) * nf + fi];
                        for (d, &v) in dst.iter_mut().zip(src) {
                            *d = T::from_f64(v);
                        }
                    }
                    None => {
                        for (c, d) in dst.iter_mut().enumerate() {
                            let sum: f64 = (0..na)
                                .map(|ai| self.values[(di * na + ai) * nf + fi][c])
                                .sum();
                            *d = T::from_f64(sum / na as f64);
                        }
                    }
                }
            }
        }
    }

    /// Updates the column sums of offset `oi` for output row `r` (from scratch on the
    /// band's first row, else by dropping the row that left and adding the one that came
    /// in) and slides them along the row into window sums.
    pub(super) fn window_sums(&mut self, oi: usize, r: usize, fresh: bool) {
        let plan = self.plan;
        let o = &plan.offsets[oi];
        let ns = plan.sums.len();
        for (si, &sum) in plan.sums.iter().enumerate() {
            let col = &mut self.columns[oi * ns + si];
            if fresh {
                col.fill(0);
                for y in r..r + o.nh {
                    accumulate(plan, o, sum, y, col, true);
                }
            } else {
                accumulate(plan, o, sum, r - 1, col, false);
                accumulate(plan, o, sum, r + o.nh - 1, col, true);
            }
            let win = &mut self.windows[oi * ns + si];
            let mut acc: i64 = col[..o.nw].iter().sum();
            win[0] = acc;
            for c in 1..plan.width {
                acc += col[c + o.nw - 1] - col[c - 1];
                win[c] = acc;
            }
        }
    }

    /// Running `Σ n²` and `Σ n ln n` (fixed point) of the matrix of offset `oi` at every
    /// window along output row `r`, for ASM and entropy.
    ///
    /// Non-symmetric: one cell per ordered pair (a, b). Symmetric: one cell per unordered
    /// pair {a, b}; off the diagonal a count n stands for the two equal cells (a, b) and
    /// (b, a) of `C + Cᵀ`, on it for the cell 2n. Either way an update changes the sums by
    /// a table entry picked by index, with no data-dependent branch.
    pub(super) fn histogram_row(&mut self, oi: usize, r: usize) {
        let plan = self.plan;
        let o = &plan.offsets[oi];
        let (l, qp) = (plan.levels, plan.qp);
        let symmetric = plan.symmetric;
        // Start of each window row's reference pixels and of their neighbours, so that
        // column x pairs qp[ra + x] with qp[rb + x].
        self.bases.clear();
        for y in r..r + o.nh {
            let rb = ((y + o.dr) * plan.wp) as isize + o.dc;
            self.bases.push((y * plan.wp, rb as usize));
        }
        let bases = &self.bases[..];
        // cell index and the offset of its row in the update tables.
        let cell = |base: (usize, usize), x: usize| -> (usize, usize) {
            let (a, b) = (qp[base.0 + x] as usize, qp[base.1 + x] as usize);
            if symmetric {
                (
                    a.min(b) * l + a.max(b),
                    usize::from(a == b) * plan.table_row,
                )
            } else {
                (a * l + b, 0)
            }
        };
        let (dsq, dent) = (&plan.dsq[..], &plan.dent[..]);
        let cells = &mut self.cells[..];
        let (mut sq, mut e) = (0i64, 0i64);
        macro_rules! add {
            ($c:expr) => {{
                let (i, t) = $c;
                let n = cells[i] as usize;
                cells[i] += 1;
                sq += dsq[t + n];
                e += dent[t + n];
            }};
        }
        for &base in bases {
            for x in o.x0..o.x0 + o.nw {
                add!(cell(base, x));
            }
        }
        for c in 0..plan.width {
            if c > 0 {
                let leave = c - 1 + o.x0;
                let enter = leave + o.nw;
                for &base in bases {
                    let (i0, t0) = cell(base, leave);
                    let (i1, t1) = cell(base, enter);
                    if i0 != i1 {
                        let n = cells[i0] as usize - 1;
                        cells[i0] -= 1;
                        sq -= dsq[t0 + n];
                        e -= dent[t0 + n];
                        add!((i1, t1));
                    }
                }
            }
            self.sq[c] = sq;
            self.ent_sum[c] = e;
        }
        // Empty the matrix for the next row by removing the last window's pairs.
        let last = plan.width - 1 + o.x0;
        for &base in bases {
            for x in last..last + o.nw {
                cells[cell(base, x).0] -= 1;
            }
        }
    }

    /// Feature values of offset `oi` along the current row. Window sums are bounded by
    /// 2·255²·255² per window, so the moment numerators (≤ ~1.1e15) fit `i64` exactly.
    pub(super) fn features(&mut self, oi: usize) {
        let plan = self.plan;
        let o = &plan.offsets[oi];
        let (ns, nf) = (plan.sums.len(), plan.features.len());
        let windows = &self.windows;
        let empty: &[i64] = &[];
        let sum = |s: Sum| -> &[i64] {
            plan.sums
                .iter()
                .position(|&x| x == s)
                .map_or(empty, |i| &windows[oi * ns + i])
        };
        let (a, b, aa, bb, ab) = (
            sum(Sum::A),
            sum(Sum::B),
            sum(Sum::Aa),
            sum(Sum::Bb),
            sum(Sum::Ab),
        );
        let (pairs, n, total) = (o.pairs as f64, o.pairs, o.total);
        let symmetric = plan.symmetric;
        let t2 = (total * total) as f64;
        let t_ln_t = plan.ent.get(total as usize).copied().unwrap_or(0);
        for (fi, &feature) in plan.features.iter().enumerate() {
            let out = &mut self.values[oi * nf + fi];
            match feature {
                Feature::Contrast => fill(out, sum(Sum::Con), |v| v as f64 / pairs),
                Feature::Dissimilarity => fill(out, sum(Sum::Dis), |v| v as f64 / pairs),
                Feature::Homogeneity => fill(out, sum(Sum::Hom), |v| v as f64 / HOM_SCALE / pairs),
                Feature::Asm => fill(out, &self.sq, |v| v as f64 / t2),
                Feature::Energy => fill(out, &self.sq, |v| (v as f64 / t2).sqrt()),
                Feature::Entropy => fill(out, &self.ent_sum, |v| {
                    (t_ln_t - v) as f64 / ENT_SCALE / total as f64
                }),
                Feature::Mean if symmetric => {
                    for ((d, &x), &y) in out.iter_mut().zip(a).zip(b) {
                        *d = (x + y) as f64 / (2.0 * pairs);
                    }
                }
                Feature::Mean => fill(out, a, |v| v as f64 / pairs),
                Feature::Variance => {
                    let denom = (total * total) as f64;
                    for (c, d) in out.iter_mut().enumerate() {
                        let (s, ss) = if symmetric {
                            (a[c] + b[c], aa[c] + bb[c])
                        } else {
                            (a[c], aa[c])
                        };
                        *d = (total * ss - s * s) as f64 / denom;
                    }
                }
                Feature::Correlation => {
                    for (c, d) in out.iter_mut().enumerate() {
                        *d = if symmetric {
                            let (s, ss) = (a[c] + b[c], aa[c] + bb[c]);
                            let var = 2 * n * ss - s * s;
                            correlation((4 * n * ab[c] - s * s).into(), var.into(), var.into())
                        } else {
                            correlation(
                                (n * ab[c] - a[c] * b[c]).into(),
                                (n * aa[c] - a[c] * a[c]).into(),
                                (n * bb[c] - b[c] * b[c]).into(),
                            )
                        };
                    }
                }
            }
        }
    }
}

#[inline]
pub(super) fn fill(out: &mut [f64], src: &[i64], f: impl Fn(i64) -> f64) {
    for (d, &v) in out.iter_mut().zip(src) {
        *d = f(v);
    }
}

/// Adds (or subtracts) one padded row's pair values of `sum` to the column sums.
pub(super) fn accumulate(
    plan: &Plan,
    o: &OffsetPlan,
    sum: Sum,
    y: usize,
    col: &mut [i64],
    add: bool,
) {
    let n = col.len();
    let a = &plan.qp[y * plan.wp + o.x0..][..n];
    let b = &plan.qp[(y + o.dr) * plan.wp + (o.x0 as isize + o.dc) as usize..][..n];
    let hom = &plan.hom;
    match sum {
        Sum::A => apply(col, a, b, add, |x, _| x as i64),
        Sum::B => apply(col, a, b, add, |_, y| y as i64),
        Sum::Aa => apply(col, a, b, add, |x, _| (x as i64) * (x as i64)),
        Sum::Bb => apply(col, a, b, add, |_, y| (y as i64) * (y as i64)),
        Sum::Ab => apply(col, a, b, add, |x, y| (x as i64) * (y as i64)),
        Sum::Con => apply(col, a, b, add, |x, y| {
            let d = x as i64 - y as i64;
            d * d
        }),
        Sum::Dis => apply(col, a, b, add, |x, y| x.abs_diff(y) as i64),
        Sum::Hom => apply(col, a, b, add, |x, y| hom[x.abs_diff(y) as usize]),
    }
}

#[inline(always)]
pub(super) fn apply(col: &mut [i64], a: &[u8], b: &[u8], add: bool, f: impl Fn(u8, u8) -> i64) {
    if add {
        for ((c, &x), &y) in col.iter_mut().zip(a).zip(b) {
            *c += f(x, y);
        }
    } else {
        for ((c, &x), &y) in col.iter_mut().zip(a).zip(b) {
            *c -= f(x, y);
        }
    }
}
