//! Annotations that real SEM images carry, burnt into a finished synthetic image: an
//! instrument data bar (a strip of text fields and a scale bar along the bottom or top,
//! in one of several layouts), a free-standing scale bar with its label, and a panel
//! letter. Drawn last, so the same seed gives the same micrograph with or without them.

use super::rng::Rng;

/// 5 × 7 bitmap glyphs (one 5-bit row per byte, most significant bit on the left) for
/// the characters instrument data bars use.
const FONT: &[(char, [u8; 7])] = &[
    ('0', [14, 17, 19, 21, 25, 17, 14]),
    ('1', [4, 12, 4, 4, 4, 4, 14]),
    ('2', [14, 17, 1, 2, 4, 8, 31]),
    ('3', [30, 1, 1, 14, 1, 1, 30]),
    ('4', [2, 6, 10, 18, 31, 2, 2]),
    ('5', [31, 16, 30, 1, 1, 17, 14]),
    ('6', [6, 8, 16, 30, 17, 17, 14]),
    ('7', [31, 1, 2, 4, 8, 8, 8]),
    ('8', [14, 17, 17, 14, 17, 17, 14]),
    ('9', [14, 17, 17, 15, 1, 2, 12]),
    ('A', [14, 17, 17, 31, 17, 17, 17]),
    ('B', [30, 17, 17, 30, 17, 17, 30]),
    ('D', [30, 17, 17, 17, 17, 17, 30]),
    ('E', [31, 16, 16, 30, 16, 16, 31]),
    ('G', [14, 17, 16, 23, 17, 17, 15]),
    ('H', [17, 17, 17, 31, 17, 17, 17]),
    ('I', [14, 4, 4, 4, 4, 4, 14]),
    ('L', [16, 16, 16, 16, 16, 16, 31]),
    ('M', [17, 27, 21, 21, 17, 17, 17]),
    ('N', [17, 25, 21, 19, 17, 17, 17]),
    ('O', [14, 17, 17, 17, 17, 17, 14]),
    ('S', [15, 16, 16, 14, 1, 1, 30]),
    ('T', [31, 4, 4, 4, 4, 4, 4]),
    ('V', [17, 17, 17, 17, 17, 10, 4]),
    ('W', [17, 17, 17, 21, 21, 21, 10]),
    ('a', [0, 0, 14, 1, 15, 17, 15]),
    ('e', [0, 0, 14, 17, 31, 16, 14]),
    ('g', [0, 15, 17, 17, 15, 1, 14]),
    ('k', [16, 16, 18, 20, 24, 20, 18]),
    ('m', [0, 0, 26, 21, 21, 17, 17]),
    ('n', [0, 0, 22, 25, 17, 17, 17]),
    ('p', [0, 0, 30, 17, 30, 16, 16]),
    ('t', [8, 8, 28, 8, 8, 9, 6]),
    ('u', [0, 0, 17, 17, 17, 19, 13]),
    ('x', [0, 0, 17, 10, 4, 10, 17]),
    ('.', [0, 0, 0, 0, 0, 12, 12]),
    (':', [0, 12, 12, 0, 12, 12, 0]),
    ('=', [0, 0, 31, 0, 31, 0, 0]),
    ('-', [0, 0, 0, 31, 0, 0, 0]),
    ('/', [1, 1, 2, 4, 8, 16, 16]),
];

/// Draws annotations into `data` (grey values in [0, 1]) and clears `mask` beneath them.
pub(super) fn draw(data: &mut [f32], mask: &mut [bool], w: usize, h: usize, rng: &mut Rng) {
    let mut page = Page { data, mask, w, h };
    let layout = rng.below(4);
    // 0, 1: data bar (bottom, or top); 2: scale bar on the image; 3: both, plus a letter.
    if layout != 2 {
        page.data_bar(rng);
    }
    if layout >= 2 {
        page.floating_scale_bar(rng);
    }
    if layout == 3 || rng.chance(0.25) {
        page.panel_letter(rng);
    }
}

struct Page<'a> {
    data: &'a mut [f32],
    mask: &'a mut [bool],
    w: usize,
    h: usize,
}

impl Page<'_> {
    fn fill(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, value: f32) {
        let (x1, y1) = (x1.min(self.w), y1.min(self.h));
        for y in y0..y1 {
            for x in x0.min(x1)..x1 {
                self.data[y * self.w + x] = value;
                self.mask[y * self.w + x] = false;
            }
        }
    }

    /// Writes `text` with its top-left corner at (`x`, `y`), `scale` pixels per font
    /// pixel; returns the x after the last character. Unknown characters leave a gap.
    fn text(&mut self, text: &str, x: usize, y: usize, scale: usize, value: f32) -> usize {
        let mut cx = x;
        for ch in text.chars() {
            if let Some((_, rows)) = FONT.iter().find(|(c, _)| *c == ch) {
                for (ry, bits) in rows.iter().enumerate() {
                    for rx in 0..5 {
                        if bits >> (4 - rx) & 1 == 1 {
                            let (px, py) = (cx + rx * scale, y + ry * scale);
                            self.fill(px, py, px + scale, py + scale, value);
                        }
                    }
                }
            }
            cx += 6 * scale;
            if cx >= self.w {
                break;
            }
        }
        cx
    }

    /// A strip of instrument text fields and a scale bar across the full width.
    fn data_bar(&mut self, rng: &mut Rng) {
        let (w, h) = (self.w, self.h);
        let bar_h = ((h as f32 * rng.range(0.05, 0.14)) as usize).clamp(9, h / 3);
        let top = rng.chance(0.15);
        let (y0, y1) = if top { (0, bar_h) } else { (h - bar_h, h) };
        let dark = rng.chance(0.75);
        let (bg, ink) = if dark {
            (rng.range(0.0, 0.15), rng.range(0.8, 1.0))
        } else {
            (rng.range(0.85, 1.0), rng.range(0.0, 0.2))
        };
        self.fill(0, y0, w, y1, bg);
        // Separator line between the image and the bar, sometimes.
        if rng.chance(0.5) {
            let y = if top { y1 } else { y0.saturating_sub(1) };
            self.fill(0, y, w, y + 1, ink);
        }
        let rows = if bar_h >= 24 && rng.chance(0.5) { 2 } else { 1 };
        let scale = ((bar_h / rows) / 10).max(1);
        let line_h = 8 * scale;
        let fields = [
            format!("HV {:.1} kV", rng.range(1.0, 30.0)),
            format!("WD {:.1} mm", rng.range(2.0, 15.0)),
            format!("Mag {} x", rng.int(100, 100_000)),
            format!("Det {}", if rng.chance(0.5) { "SE" } else { "BSE" }),
            format!("{}:{:02}", rng.int(0, 23), rng.int(0, 59)),
            format!("Spot {:.1}", rng.range(1.0, 6.0)),
            format!("{}/{}/{}", rng.int(1, 28), rng.int(1, 12), rng.int(10, 25)),
            String::from("SEM"),
        ];
        // The scale bar sits at one end of the bar, the text fields fill the rest.
        let bar_len = (w as f32 * rng.range(0.08, 0.25)) as usize;
        let bar_left = rng.chance(0.3);
        let sb_x = if bar_left {
            bar_h / 3
        } else {
            w.saturating_sub(bar_len + bar_h / 3)
        };
        for row in 0..rows {
            let ty = y0 + (bar_h - rows * line_h) / 2 + row * line_h;
            let mut x = if bar_left {
                sb_x + bar_len + 2 * bar_h / 3
            } else {
                bar_h / 3
            };
            let limit = if bar_left {
                w
            } else {
                sb_x.saturating_sub(bar_h / 2)
            };
            loop {
                let field = &fields[rng.below(fields.len())];
                if x + field.chars().count() * 6 * scale > limit {
                    break;
                }
                x = self.text(field, x, ty, scale, ink) + rng.int(2, 5) * 6 * scale;
            }
        }
        let thick = (bar_h / 8).max(1);
        let sb_y = y0 + bar_h / 2 + bar_h / 8;
        self.fill(sb_x, sb_y, sb_x + bar_len, sb_y + thick, ink);
        let label = scale_label(rng);
        let label_y = sb_y.saturating_sub(8 * scale + 1).max(y0);
        let lx = sb_x + bar_len / 2;
        let lw = label.chars().count() * 6 * scale;
        self.text(&label, lx.saturating_sub(lw / 2), label_y, scale, ink);
    }

    /// A scale bar with its label in a corner of the image, sometimes on a backdrop box.
    fn floating_scale_bar(&mut self, rng: &mut Rng) {
        let (w, h) = (self.w, self.h);
        let ink = if rng.chance(0.7) {
            rng.range(0.85, 1.0)
        } else {
            rng.range(0.0, 0.1)
        };
        let len = (w as f32 * rng.range(0.1, 0.3)) as usize;
        let thick = ((h as f32 * rng.range(0.006, 0.02)) as usize).max(1);
        let scale = ((h as f32 * rng.range(0.015, 0.035)) as usize / 7).max(1);
        let margin = (w.min(h) as f32 * 0.04) as usize + 1;
        let x0 = if rng.chance(0.7) {
            w.saturating_sub(len + margin)
        } else {
            margin
        };
        let y0 = h.saturating_sub(margin + thick);
        let label = scale_label(rng);
        let label_y = y0.saturating_sub(9 * scale);
        if rng.chance(0.35) {
            let pad = 2 * scale + 1;
            self.fill(
                x0.saturating_sub(pad),
                label_y.saturating_sub(pad),
                x0 + len + pad,
                y0 + thick + pad,
                1.0 - ink,
            );
        }
        self.fill(x0, y0, x0 + len, y0 + thick, ink);
        let lw = label.chars().count() * 6 * scale;
        self.text(
            &label,
            (x0 + len / 2).saturating_sub(lw / 2),
            label_y,
            scale,
            ink,
        );
    }

    /// A figure-panel letter in the top-left corner, sometimes on a box.
    fn panel_letter(&mut self, rng: &mut Rng) {
        let letters = ["a", "b", "c", "d", "e", "A", "B", "D", "E", "G"];
        let letter = letters[rng.below(letters.len())];
        let scale = ((self.h.min(self.w) as f32 * rng.range(0.03, 0.07)) as usize / 7).max(1);
        let ink = if rng.chance(0.6) { 1.0 } else { 0.0 };
        let m = scale * 2;
        if rng.chance(0.5) {
            self.fill(0, 0, 6 * scale + 2 * m, 7 * scale + 2 * m, 1.0 - ink);
        }
        self.text(letter, m, m, scale, ink);
    }
}

fn scale_label(rng: &mut Rng) -> String {
    let values = [1, 2, 5, 10, 20, 50, 100, 200, 500];
    let unit = ["nm", "um", "mm"][rng.below(3)];
    format!("{} {unit}", values[rng.below(values.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_rows_fit_five_bits() {
        assert!(FONT.iter().all(|(_, rows)| rows.iter().all(|&r| r < 32)));
    }

    #[test]
    fn annotations_clear_the_mask_and_stay_in_range() {
        for seed in 0..20 {
            let (w, h) = (160, 120);
            let mut data = vec![0.5f32; w * h];
            let mut mask = vec![true; w * h];
            draw(&mut data, &mut mask, w, h, &mut Rng::new(seed));
            assert!(data.iter().all(|v| (0.0..=1.0).contains(v)));
            let changed = data.iter().filter(|&&v| v != 0.5).count();
            assert!(changed > 0, "seed {seed}: nothing drawn");
            assert!(
                mask.iter().filter(|&&m| !m).count() >= changed,
                "seed {seed}"
            );
        }
    }
}
