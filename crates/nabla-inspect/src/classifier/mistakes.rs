//! `mistakes.svg`: a gallery of misclassified images, each embedded as a PNG and captioned
//! with its true class, the predicted class with its probability, and its name.

use super::label;
use crate::diagnostics::{ChartError, colour};
use crate::svg::{CHAR_WIDTH, escape, svg_start, text_width};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use image::ImageEncoder;
use image::codecs::png::PngEncoder;
use std::fmt::Write;

/// The most images a gallery shows.
pub const MAX_SHOWN: usize = 32;
const COLUMNS: usize = 6;
/// Pixels of the longer side of a drawn image.
const IMAGE_PX: f64 = 96.0;
const LINE: f64 = 15.0;
const PAD: f64 = 10.0;
const MARGIN: f64 = 16.0;
const TITLE: f64 = 40.0;

/// An image as bytes: `channels` planes (1 grayscale, 3 RGB) of `height` rows of `width`
/// pixels, laid out as the `[C, H, W]` features are.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
}

impl Picture {
    /// The image as a PNG file in a `data:` URL.
    pub(crate) fn png_url(&self) -> Result<String, ChartError> {
        let (c, h, w) = (self.channels, self.height, self.width);
        let wrong = |why: String| ChartError(format!("a {c}x{h}x{w} picture {why}"));
        let colour_type = match c {
            1 => image::ExtendedColorType::L8,
            3 => image::ExtendedColorType::Rgb8,
            _ => return Err(wrong("has neither 1 nor 3 channels".into())),
        };
        if h == 0 || w == 0 || c * h * w != self.pixels.len() {
            return Err(wrong(format!("with {} bytes", self.pixels.len())));
        }
        let plane = h * w;
        let interleaved: Vec<u8> = (0..plane)
            .flat_map(|i| (0..c).map(move |ch| ch * plane + i))
            .map(|i| self.pixels[i])
            .collect();
        let mut png = Vec::new();
        let size = |n: usize| u32::try_from(n).map_err(|_| wrong("is too large".into()));
        PngEncoder::new(&mut png)
            .write_image(&interleaved, size(w)?, size(h)?, colour_type)
            .map_err(|e| wrong(e.to_string()))?;
        Ok(format!("data:image/png;base64,{}", STANDARD.encode(png)))
    }
}

/// One misclassified sample: its image, true and predicted class names, the probability the
/// model gave its prediction, and a name for the sample (file name or index).
#[derive(Clone, Debug, PartialEq)]
pub struct Mistake {
    pub picture: Picture,
    pub actual: String,
    pub predicted: String,
    pub probability: f64,
    pub name: String,
}

impl Mistake {
    fn captions(&self) -> [String; 3] {
        [
            format!("true {}", label(&self.actual)),
            format!(
                "predicted {} {:.1}%",
                label(&self.predicted),
                100.0 * self.probability
            ),
            label(&self.name),
        ]
    }
}

/// The first [`MAX_SHOWN`] of `mistakes` (give them in the order to show, e.g. the most
/// confident first) as a gallery under `title`, six to a row, each image drawn with its
/// longer side 96 pixels (pixels kept sharp) above three lines: `true CLASS`, `predicted
/// CLASS P%` in red, and the sample's name. A note under the title counts them: `total`
/// misclassified in all (at least those given), or none.
/// ```
/// use nabla_inspect::classifier::{Mistake, Picture, mistakes_svg};
/// let seven = Mistake {
///     picture: Picture { channels: 1, height: 2, width: 2, pixels: vec![0, 255, 255, 0] },
///     actual: "7".into(),
///     predicted: "1".into(),
///     probability: 0.93,
///     name: "test[12]".into(),
/// };
/// let svg = mistakes_svg("misclassified", &[seven], 1).unwrap();
/// assert!(svg.contains("data:image/png;base64,") && svg.contains(">predicted 1 93.0%</text>"));
/// ```
pub fn mistakes_svg(title: &str, mistakes: &[Mistake], total: usize) -> Result<String, ChartError> {
    let shown = &mistakes[..mistakes.len().min(MAX_SHOWN)];
    let captions: Vec<[String; 3]> = shown.iter().map(Mistake::captions).collect();
    let cell_width = captions
        .iter()
        .flatten()
        .map(|c| text_width(c))
        .fold(IMAGE_PX, f64::max)
        + 2.0 * PAD;
    let cell_height = IMAGE_PX + 3.0 * LINE + 2.0 * PAD;
    let columns = shown.len().clamp(1, COLUMNS);
    let rows = shown.len().div_ceil(COLUMNS).max(1);
    let note = match (total.max(mistakes.len()), shown.len()) {
        (0, _) => "no misclassified images".to_string(),
        (all, n) if all > n => format!("{n} of {all} misclassified images"),
        (all, _) => format!("{all} misclassified images"),
    };
    let heading = |t: &str, size: f64| t.chars().count() as f64 * CHAR_WIDTH * size / 12.0;
    let width = (2.0 * MARGIN + columns as f64 * cell_width)
        .max(2.0 * MARGIN + heading(title, 15.0))
        .max(2.0 * MARGIN + heading(&note, 12.0))
        .ceil();
    let height = (TITLE + LINE + rows as f64 * cell_height + MARGIN).ceil();

    let mut out = svg_start(width, height);
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{}\" fill=\"#6b6b6b\">{}</text>",
        TITLE + 2.0,
        escape(&note)
    );
    let wrong = colour(3);
    for (i, (mistake, lines)) in shown.iter().zip(&captions).enumerate() {
        let p = &mistake.picture;
        let x = MARGIN + (i % COLUMNS) as f64 * cell_width;
        let y = TITLE + LINE + (i / COLUMNS) as f64 * cell_height;
        let scale = IMAGE_PX / p.height.max(p.width) as f64;
        let (w, h) = (p.width as f64 * scale, p.height as f64 * scale);
        let image_x = x + (cell_width - w) / 2.0;
        let image_y = y + PAD + (IMAGE_PX - h) / 2.0;
        let _ = writeln!(
            out,
            "<g><image x=\"{image_x:.1}\" y=\"{image_y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" \
             preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"{}\"/>",
            p.png_url()?
        );
        let _ = writeln!(
            out,
            "<rect x=\"{image_x:.1}\" y=\"{image_y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" \
             fill=\"none\" stroke=\"#b0b0b0\"/>"
        );
        let fills = [
            "#1a1a1a".to_string(),
            format!("#{:02x}{:02x}{:02x}", wrong.0, wrong.1, wrong.2),
            "#6b6b6b".to_string(),
        ];
        for (j, (line, fill)) in lines.iter().zip(&fills).enumerate() {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{fill}\">{}</text>",
                x + cell_width / 2.0,
                y + PAD + IMAGE_PX + LINE * (j as f64 + 1.0),
                escape(line)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    Ok(out)
}
