//! The physical size of a pixel, and reading it from a TIFF's own tags, as ImageJ does:
//! ImageJ's `unit=` in the image description with the resolution tags, or a resolution
//! in pixels per centimetre.

use std::path::Path;

use crate::error::{Error, Result};

/// Physical size of a pixel, for calibrated areas.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub pixel_width: f64,
    pub pixel_height: f64,
    /// Length unit of `pixel_width` and `pixel_height` (areas are in unit²).
    pub unit: String,
}

impl Default for Calibration {
    fn default() -> Self {
        Self {
            pixel_width: 1.0,
            pixel_height: 1.0,
            unit: "pixel".into(),
        }
    }
}

impl Calibration {
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("width", self.pixel_width), ("height", self.pixel_height)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(format!(
                    "pixel {name} must be a finite number greater than 0, got {v}"
                )));
            }
        }
        Ok(())
    }

    /// The calibration a TIFF file records, or `None`: not a TIFF, unreadable, no
    /// resolution, or only a print resolution (pixels per inch, or no unit), which says
    /// nothing about the specimen. Only the tags are read, not the pixels.
    pub fn from_tiff_file(path: &Path) -> Option<Self> {
        let file = std::fs::File::open(path).ok()?;
        Self::from_tiff(std::io::BufReader::new(file))
    }

    /// [`Calibration::from_tiff_file`] for a reader of a TIFF file.
    pub fn from_tiff<R: std::io::Read + std::io::Seek>(reader: R) -> Option<Self> {
        // The TIFF decoder panics on some corrupt files; decoding the pixels reports
        // those, so here they only mean "no calibration".
        crate::panics::contain(|| Ok(Self::read_tags(reader)), Error::Decode)
            .ok()
            .flatten()
    }

    fn read_tags<R: std::io::Read + std::io::Seek>(reader: R) -> Option<Self> {
        use tiff::decoder::Decoder;
        use tiff::tags::Tag;
        let mut decoder = Decoder::new(reader).ok()?;
        use tiff::decoder::ifd::Value;
        let per_unit = |decoder: &mut Decoder<R>, tag| {
            let value = match decoder.find_tag(tag).ok()?? {
                Value::Rational(n, d) if d != 0 => f64::from(n) / f64::from(d),
                Value::Double(v) => v,
                Value::Float(v) => f64::from(v),
                _ => return None,
            };
            (value.is_finite() && value > 0.0).then_some(value)
        };
        let x = per_unit(&mut decoder, Tag::XResolution)?;
        let y = per_unit(&mut decoder, Tag::YResolution).unwrap_or(x);
        let imagej_unit = decoder
            .get_tag_ascii_string(Tag::ImageDescription)
            .ok()
            .filter(|d| d.starts_with("ImageJ="))
            .and_then(|d| {
                d.lines()
                    .find_map(|l| l.strip_prefix("unit=").map(|u| u.trim().to_string()))
            });
        let calibration = match imagej_unit {
            Some(unit) => {
                let unit = match unit.as_str() {
                    "micron" | "um" | "\\u00B5m" | "\u{b5}m" => "\u{b5}m".to_string(),
                    "pixel" | "pixels" | "" => return None,
                    _ => unit,
                };
                Self {
                    pixel_width: 1.0 / x,
                    pixel_height: 1.0 / y,
                    unit,
                }
            }
            // ResolutionUnit 3: pixels per centimetre, as scanners and some microscope
            // software write it; stated in micrometres, the scale of micrographs.
            None if decoder
                .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
                .ok()
                .flatten()
                == Some(3) =>
            {
                Self {
                    pixel_width: 1e4 / x,
                    pixel_height: 1e4 / y,
                    unit: "\u{b5}m".into(),
                }
            }
            None => return None,
        };
        calibration.validate().ok().map(|()| calibration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use tiff::encoder::{colortype, Rational, TiffEncoder};
    use tiff::tags::{ResolutionUnit, Tag};

    fn tiff(description: Option<&str>, unit: ResolutionUnit, per_unit: (u32, u32)) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        let mut encoder = TiffEncoder::new(&mut bytes).unwrap();
        let mut image = encoder.new_image::<colortype::Gray8>(4, 3).unwrap();
        if let Some(d) = description {
            image.encoder().write_tag(Tag::ImageDescription, d).unwrap();
        }
        image.resolution_unit(unit);
        image.x_resolution(Rational {
            n: per_unit.0,
            d: per_unit.1,
        });
        image.y_resolution(Rational {
            n: per_unit.0,
            d: 2 * per_unit.1,
        });
        image.write_data(&[0u8; 12]).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn imagej_unit_and_resolution_give_the_pixel_size() {
        let bytes = tiff(
            Some("ImageJ=1.53t\nunit=micron\n"),
            ResolutionUnit::None,
            (40, 1),
        );
        let c = Calibration::from_tiff(Cursor::new(bytes)).unwrap();
        assert_eq!(c.unit, "\u{b5}m");
        assert!((c.pixel_width - 0.025).abs() < 1e-12);
        assert!((c.pixel_height - 0.05).abs() < 1e-12);
        let bytes = tiff(
            Some("ImageJ=1.53t\nunit=nm\n"),
            ResolutionUnit::None,
            (1, 4),
        );
        let c = Calibration::from_tiff(Cursor::new(bytes)).unwrap();
        assert_eq!((c.unit.as_str(), c.pixel_width), ("nm", 4.0));
    }

    #[test]
    fn pixels_per_centimetre_are_stated_in_micrometres() {
        let c = Calibration::from_tiff(Cursor::new(tiff(
            None,
            ResolutionUnit::Centimeter,
            (20000, 1),
        )))
        .unwrap();
        assert_eq!(c.unit, "\u{b5}m");
        assert!((c.pixel_width - 0.5).abs() < 1e-12);
    }

    #[test]
    fn print_resolutions_and_other_files_are_uncalibrated() {
        for bytes in [
            tiff(None, ResolutionUnit::Inch, (72, 1)),
            tiff(None, ResolutionUnit::None, (1, 1)),
            tiff(
                Some("ImageJ=1.53t\nunit=pixel\n"),
                ResolutionUnit::None,
                (1, 1),
            ),
            tiff(
                Some("not ImageJ\nunit=micron\n"),
                ResolutionUnit::Inch,
                (300, 1),
            ),
            b"\x89PNG\r\n\x1a\n".to_vec(),
            Vec::new(),
        ] {
            assert_eq!(Calibration::from_tiff(Cursor::new(bytes)), None);
        }
        let zero = tiff(
            Some("ImageJ=1.53t\nunit=micron\n"),
            ResolutionUnit::None,
            (0, 1),
        );
        assert_eq!(Calibration::from_tiff(Cursor::new(zero)), None);
    }
}
