//! What a convolutional network sees, as CNN Explainer draws it: the filters of a convolution as
//! a grid of small images, one per output channel ([`filters_svg`]), and the feature maps of one
//! image at each convolution, a grid of channels per layer under the input image
//! ([`feature_maps_svg`]). Values are drawn in a diverging scale, blue below zero, white at zero
//! and red above, symmetric around zero with one scale per grid, so channels of a layer compare.

use super::ChartError;
use crate::classifier::Picture;
use crate::svg::{escape, svg_start, text_width};
use nabla_core::Tensor;
use std::fmt::Write;

const MARGIN: f64 = 16.0;
const TITLE: f64 = 40.0;
const LINE: f64 = 15.0;
/// Space between the images of a grid.
const GAP: f64 = 4.0;
/// Width of the colour bar of each grid's scale.
const BAR: f64 = 120.0;
/// Most channels drawn per grid (a layer of more shows its first ones, and says so).
pub const MAX_CHANNELS: usize = 64;

/// The diverging scale's ends (ColorBrewer's RdBu) and middle.
const NEGATIVE: [f64; 3] = [33.0, 102.0, 172.0];
const ZERO: [f64; 3] = [247.0, 247.0, 247.0];
const POSITIVE: [f64; 3] = [178.0, 24.0, 43.0];

/// The colour of `v` on a scale from `-limit` (blue) through 0 (white) to `limit` (red).
fn diverging(v: f64, limit: f64) -> [u8; 3] {
    let t = if limit > 0.0 {
        (v / limit).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let end = if t < 0.0 { NEGATIVE } else { POSITIVE };
    let a = t.abs();
    std::array::from_fn(|i| (ZERO[i] + (end[i] - ZERO[i]) * a).round() as u8)
}

/// The largest magnitude of `values` that is finite (1 when there is none).
fn limit(values: &[f64]) -> f64 {
    let m = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    if m > 0.0 { m } else { 1.0 }
}

/// One `height`×`width` plane of `values` in the diverging scale.
fn diverging_picture(values: &[f64], height: usize, width: usize, limit: f64) -> Picture {
    let colours: Vec<[u8; 3]> = values.iter().map(|&v| diverging(v, limit)).collect();
    let pixels = (0..3)
        .flat_map(|c| colours.iter().map(move |rgb| rgb[c]))
        .collect();
    Picture {
        channels: 3,
        height,
        width,
        pixels,
    }
}

/// `picture` with each pixel repeated into a `factor`×`factor` block, so viewers that smooth
/// scaled images (most SVG renderers ignore `image-rendering`) still show sharp pixels.
fn upscale(picture: Picture, factor: usize) -> Picture {
    if factor <= 1 {
        return picture;
    }
    let (h, w) = (picture.height, picture.width);
    let plane = h * w;
    let pixels = (0..picture.channels)
        .flat_map(|c| {
            let data = &picture.pixels[c * plane..(c + 1) * plane];
            (0..h * factor).flat_map(move |y| {
                (0..w * factor).map(move |x| data[(y / factor) * w + x / factor])
            })
        })
        .collect();
    Picture {
        channels: picture.channels,
        height: h * factor,
        width: w * factor,
        pixels,
    }
}

/// An image `[C, H, W]` (1 or 3 channels; others show their mean) stretched to the full grey or
/// colour range, as it was given to the network.
fn input_picture(image: &Tensor) -> Result<Picture, ChartError> {
    let [c, h, w] = *image.shape() else {
        return Err(ChartError(format!(
            "the input image must be [C, H, W], got {:?}",
            image.shape()
        )));
    };
    let values = image.to_f64_vec();
    let (channels, values) = if c == 1 || c == 3 {
        (c, values)
    } else {
        let plane = h * w;
        let mean = (0..plane)
            .map(|i| (0..c).map(|ch| values[ch * plane + i]).sum::<f64>() / c as f64)
            .collect();
        (1, mean)
    };
    let finite = values.iter().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, |a, &b| a.min(b));
    let hi = finite.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let pixels = values
        .iter()
        .map(|&v| (255.0 * ((v - lo) / span).clamp(0.0, 1.0)).round() as u8)
        .collect();
    Ok(Picture {
        channels,
        height: h,
        width: w,
        pixels,
    })
}

/// A grid of pictures with a heading, drawn into an SVG.
struct Grid {
    heading: String,
    note: String,
    pictures: Vec<Picture>,
    /// The scale's limit, drawn as a colour bar (none for the input image).
    limit: Option<f64>,
    /// Pixels of one picture's longer side.
    cell: f64,
    columns: usize,
}

impl Grid {
    fn size(&self) -> (f64, f64) {
        let rows = self.pictures.len().div_ceil(self.columns).max(1);
        let images = self.columns as f64 * (self.cell + GAP);
        let width = images
            .max(text_width(&self.heading) + text_width(&self.note) + 20.0)
            .max(BAR + 160.0);
        let height = 2.0 * LINE + rows as f64 * (self.cell + GAP) + LINE;
        (width, height)
    }

    fn draw(&self, out: &mut String, x: f64, y: f64) -> Result<(), ChartError> {
        let _ = writeln!(
            out,
            "<text x=\"{x}\" y=\"{:.1}\" font-weight=\"bold\">{}<tspan font-weight=\"normal\" \
             fill=\"#6b6b6b\" dx=\"10\">{}</tspan></text>",
            y + LINE,
            escape(&self.heading),
            escape(&self.note)
        );
        if let Some(limit) = self.limit {
            self.colour_bar(out, x, y + LINE + 6.0, limit);
        }
        let top = y + 2.0 * LINE + 4.0;
        for (i, p) in self.pictures.iter().enumerate() {
            let side = p.height.max(p.width);
            let scale = self.cell / side as f64;
            let (w, h) = (p.width as f64 * scale, p.height as f64 * scale);
            let p = upscale(p.clone(), (self.cell as usize / side).max(1));
            let px = x + (i % self.columns) as f64 * (self.cell + GAP);
            let py = top + (i / self.columns) as f64 * (self.cell + GAP);
            let _ = writeln!(
                out,
                "<image x=\"{px:.1}\" y=\"{py:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" \
                 preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"{}\"/>\n\
                 <rect x=\"{px:.1}\" y=\"{py:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" \
                 fill=\"none\" stroke=\"#b0b0b0\" stroke-width=\"0.5\"/>",
                p.png_url()?
            );
        }
        Ok(())
    }

    /// The scale from `-limit` to `limit`, right of the heading's line.
    fn colour_bar(&self, out: &mut String, x: f64, y: f64, limit: f64) {
        let steps = 24;
        let _ = write!(out, "<g>");
        for s in 0..steps {
            let v = -limit + 2.0 * limit * (s as f64 + 0.5) / steps as f64;
            let [r, g, b] = diverging(v, limit);
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.2}\" height=\"6\" \
                 fill=\"rgb({r},{g},{b})\"/>",
                x + 60.0 + BAR * s as f64 / steps as f64,
                BAR / steps as f64 + 0.2
            );
        }
        let label = |v: f64| format!("{v:.3}");
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"10\" \
             fill=\"#6b6b6b\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" \
             fill=\"#6b6b6b\">{}</text></g>",
            x + 56.0,
            y + 6.0,
            escape(&label(-limit)),
            x + 64.0 + BAR,
            y + 6.0,
            escape(&label(limit))
        );
    }
}

/// Grids one above the other under `title`, as a standalone SVG.
fn stack(title: &str, grids: &[Grid]) -> Result<String, ChartError> {
    let sizes: Vec<(f64, f64)> = grids.iter().map(Grid::size).collect();
    let width = sizes
        .iter()
        .map(|s| s.0)
        .fold(text_width(title) * 15.0 / 12.0, f64::max)
        + 2.0 * MARGIN;
    let height = TITLE + sizes.iter().map(|s| s.1).sum::<f64>() + MARGIN;
    let mut out = svg_start(width.ceil(), height.ceil());
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    let mut y = TITLE;
    for (grid, size) in grids.iter().zip(&sizes) {
        grid.draw(&mut out, MARGIN, y)?;
        y += size.1;
    }
    out.push_str("</svg>\n");
    Ok(out)
}

/// Columns of a grid of `n` pictures: close to a 2:1 landscape rectangle, at most 16.
fn columns(n: usize) -> usize {
    let mut c = 1;
    while c < 16 && c * c < 2 * n {
        c += 1;
    }
    c.min(n.max(1))
}

/// Pixels of a picture's longer side so that a grid of `columns` fits about 700 pixels, between
/// 24 and 96.
fn cell(columns: usize, side: usize) -> f64 {
    let fit = (700.0 / columns as f64 - GAP).floor().min(96.0);
    // Whole multiples of the side keep the pixels square and sharp.
    let whole = (fit / side as f64).floor().max(1.0) * side as f64;
    whole.max(24.0)
}

/// The filters of a convolution, `weight` of shape `[C_out, C_in, kH, kW]` (PyTorch's layout),
/// one small image per output channel, under `title`. One-channel filters are drawn in the
/// diverging scale; the first layer of colour images (three input channels) as colour images,
/// each filter stretched to the full range as in AlexNet's pictures; other input counts show
/// each filter's sum over its input channels.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_inspect::diagnostics::filters_svg;
/// // Two 2x2 filters: a vertical edge and its opposite.
/// let w = Tensor::from_vec(vec![1.0f32, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0], &[2, 1, 2, 2]);
/// let svg = filters_svg(&w, "filters of layer 0: Conv2d(1, 2, kernel_size=(2, 2))").unwrap();
/// assert_eq!(svg.matches("data:image/png;base64,").count(), 2);
/// assert!(svg.contains("2 filters of 1×2×2"));
/// ```
pub fn filters_svg(weight: &Tensor, title: &str) -> Result<String, ChartError> {
    let [out_channels, in_channels, kh, kw] = *weight.shape() else {
        return Err(ChartError(format!(
            "filters must be [C_out, C_in, kH, kW], got {:?}",
            weight.shape()
        )));
    };
    let values = weight.to_f64_vec();
    let plane = kh * kw;
    let per_filter = in_channels * plane;
    let shown = out_channels.min(MAX_CHANNELS);
    let colour = in_channels == 3;
    let planes: Vec<Vec<f64>> = (0..shown)
        .map(|o| {
            let filter = &values[o * per_filter..(o + 1) * per_filter];
            if colour || in_channels == 1 {
                filter.to_vec()
            } else {
                (0..plane)
                    .map(|i| (0..in_channels).map(|c| filter[c * plane + i]).sum())
                    .collect()
            }
        })
        .collect();
    let (pictures, limit) = if colour {
        let pictures = planes
            .iter()
            .map(|f| input_picture(&Tensor::from_vec(f.clone(), &[3, kh, kw])))
            .collect::<Result<_, _>>()?;
        (pictures, None)
    } else {
        let limit = limit(&planes.concat());
        let pictures = planes
            .iter()
            .map(|f| diverging_picture(f, kh, kw, limit))
            .collect();
        (pictures, Some(limit))
    };
    let mut note = format!("{out_channels} filters of {in_channels}×{kh}×{kw}");
    if shown < out_channels {
        let _ = write!(note, ", the first {shown} shown");
    }
    if !colour && in_channels > 1 {
        note.push_str(", each summed over its input channels");
    }
    let columns = columns(shown);
    let grid = Grid {
        heading: "weights".to_string(),
        note,
        pictures,
        limit,
        cell: cell(columns, kh.max(kw)),
        columns,
    };
    stack(title, &[grid])
}

/// The feature maps of one image: `image` (`[C, H, W]`, as given to the network) and, for each
/// convolution, its name and its output for that image (`[C, H, W]`), each a grid of its
/// channels on one scale, under `title`.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_inspect::diagnostics::feature_maps_svg;
/// let image = Tensor::from_vec((0..16).map(|v| v as f32).collect(), &[1, 4, 4]);
/// let maps = Tensor::from_vec((0..18).map(|v| v as f32 - 9.0).collect(), &[2, 3, 3]);
/// let svg = feature_maps_svg(&image, &[("0: Conv2d".to_string(), maps)], "feature maps").unwrap();
/// assert_eq!(svg.matches("data:image/png;base64,").count(), 3);
/// assert!(svg.contains("2 channels of 3×3"));
/// ```
pub fn feature_maps_svg(
    image: &Tensor,
    layers: &[(String, Tensor)],
    title: &str,
) -> Result<String, ChartError> {
    let input = input_picture(image)?;
    let side = input.height.max(input.width);
    let mut grids = vec![Grid {
        heading: "input".to_string(),
        note: format!("{:?}", image.shape()),
        pictures: vec![input],
        limit: None,
        cell: ((112 / side).max(1) * side) as f64,
        columns: 1,
    }];
    for (name, maps) in layers {
        let [c, h, w] = *maps.shape() else {
            return Err(ChartError(format!(
                "the feature maps of {name} must be [C, H, W], got {:?}",
                maps.shape()
            )));
        };
        let values = maps.to_f64_vec();
        let shown = c.min(MAX_CHANNELS);
        let limit = limit(&values[..shown * h * w]);
        let pictures = (0..shown)
            .map(|i| diverging_picture(&values[i * h * w..(i + 1) * h * w], h, w, limit))
            .collect();
        let mut note = format!("{c} channels of {h}×{w}");
        if shown < c {
            let _ = write!(note, ", the first {shown} shown");
        }
        let columns = columns(shown);
        grids.push(Grid {
            heading: name.clone(),
            note,
            pictures,
            limit: Some(limit),
            cell: cell(columns, h.max(w)),
            columns,
        });
    }
    stack(title, &grids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_is_white_at_zero_and_saturates_at_the_limit() {
        assert_eq!(diverging(0.0, 2.0), [247, 247, 247]);
        assert_eq!(diverging(2.0, 2.0), [178, 24, 43]);
        assert_eq!(diverging(-5.0, 2.0), [33, 102, 172]);
        assert_eq!(diverging(1.0, 0.0), [247, 247, 247]);
        assert_eq!(limit(&[f64::NAN, -3.0, 2.0]), 3.0);
        assert_eq!(limit(&[0.0]), 1.0);
    }

    #[test]
    fn grids_are_about_twice_as_wide_as_tall() {
        assert_eq!(columns(1), 1);
        assert_eq!(columns(32), 8);
        assert_eq!(columns(64), 12);
        assert_eq!(columns(30), 8);
        assert_eq!(cell(8, 26), 78.0);
        assert_eq!(cell(1, 5), 95.0);
        assert_eq!(cell(12, 11), 44.0);
    }

    #[test]
    fn shapes_other_than_the_layouts_drawn_are_errors_naming_them() {
        let flat = Tensor::zeros(&[4, 9], nabla_core::DType::F32);
        assert_eq!(
            filters_svg(&flat, "t").unwrap_err().to_string(),
            "drawing a chart: filters must be [C_out, C_in, kH, kW], got [4, 9]"
        );
        let image = Tensor::zeros(&[1, 4, 4], nabla_core::DType::F32);
        assert_eq!(
            feature_maps_svg(&image, &[("1: ReLU".into(), flat)], "t")
                .unwrap_err()
                .to_string(),
            "drawing a chart: the feature maps of 1: ReLU must be [C, H, W], got [4, 9]"
        );
    }
}
