//! `confusion.svg`: the confusion matrix as a heat map, true classes as rows and predicted
//! classes as columns, each cell showing its count and shaded by the share of its row.

use super::{LABEL_CHARS, font, label};
use crate::diagnostics::{ChartError, chart_error};
use nabla_nn::report::ConfusionMatrix;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width of one character of the 12 px labels, for sizing the label areas.
const CHAR_PX: u32 = 7;
/// The whole matrix aims at this many pixels a side; cells stay between the two bounds.
const MATRIX_PX: u32 = 520;
const MIN_CELL: u32 = 30;
const MAX_CELL: u32 = 90;
const TITLE_PX: u32 = 44;
const MARGIN: u32 = 16;

/// Blues from white to dark blue at `share` in `0..=1` (matplotlib's `Blues`, two stops).
fn shade(share: f64) -> RGBColor {
    let (light, dark) = ((247.0, 251.0, 255.0), (8.0, 48.0, 107.0));
    let mix = |a: f64, b: f64| (a + (b - a) * share.clamp(0.0, 1.0)).round() as u8;
    RGBColor(
        mix(light.0, dark.0),
        mix(light.1, dark.1),
        mix(light.2, dark.2),
    )
}

/// The confusion matrix as an SVG heat map under `title`: a row per true class and a column
/// per predicted class, named on both axes (names longer than 16 characters are cut, and
/// column names turn vertical when they do not fit their cell); each cell shows its count and
/// is shaded by its share of the row, so every class's recall reads on the diagonal whatever
/// its size; zeros are grey. Readable from 2 to about 20 classes.
///
/// ```
/// use nabla_inspect::classifier::confusion_svg;
/// use nabla_nn::report::ConfusionMatrix;
/// let m = ConfusionMatrix::from_indices(&[0, 0, 1], &[0, 1, 1], vec!["cat".into(), "dog".into()])?;
/// let svg = confusion_svg(&m, "test set").unwrap();
/// assert!(svg.starts_with("<svg") && svg.contains(">\ncat\n</text>"));
/// # Ok::<(), nabla_nn::Error>(())
/// ```
pub fn confusion_svg(matrix: &ConfusionMatrix, title: &str) -> Result<String, ChartError> {
    let classes = matrix.classes();
    let n = classes.len() as u32;
    let cell = (MATRIX_PX / n).clamp(MIN_CELL, MAX_CELL);
    let side = cell * n;
    let names: Vec<String> = classes.iter().map(|c| label(c)).collect();
    let widest = names.iter().map(|s| s.chars().count()).max().unwrap_or(1) as u32;
    let vertical = widest * CHAR_PX + 6 > cell;
    let row_labels = widest * CHAR_PX + 12;
    let column_labels = if vertical { row_labels } else { 22 };
    let left = MARGIN + 22 + row_labels;
    let top = TITLE_PX;
    let width = (left + side + MARGIN).max(2 * MARGIN + LABEL_CHARS as u32 * 9);
    let height = top + side + column_labels + 22 + 2 * MARGIN;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let centred = Pos::new(HPos::Center, VPos::Center);
        let draw_text = |text: &str, at: (u32, u32), style: TextStyle| {
            root.draw(&Text::new(
                text.to_string(),
                (at.0 as i32, at.1 as i32),
                style,
            ))
            .map_err(chart_error)
        };
        draw_text(
            title,
            (width / 2, 14),
            font(17).pos(Pos::new(HPos::Center, VPos::Top)),
        )?;
        draw_text(
            &format!(
                "accuracy {:.2}% of {} samples; shade: share of the true class",
                100.0 * matrix.accuracy(),
                matrix.total()
            ),
            (width / 2, 32),
            font(12).color(&RGBColor(90, 90, 90)).pos(centred),
        )?;
        let count_px = (cell / 3).clamp(12, 16);
        for a in 0..n {
            let support = matrix.support(a as usize).max(1) as f64;
            for p in 0..n {
                let count = matrix.count(a as usize, p as usize);
                let share = count as f64 / support;
                let (x, y) = (left + p * cell, top + a * cell);
                root.draw(&Rectangle::new(
                    [(x as i32, y as i32), ((x + cell) as i32, (y + cell) as i32)],
                    shade(share).filled(),
                ))
                .map_err(chart_error)?;
                let ink = match (count, share > 0.5) {
                    (0, _) => RGBColor(160, 160, 160),
                    (_, true) => WHITE,
                    (_, false) => BLACK,
                };
                draw_text(
                    &count.to_string(),
                    (x + cell / 2, y + cell / 2),
                    font(count_px).color(&ink).pos(centred),
                )?;
            }
        }
        root.draw(&Rectangle::new(
            [
                (left as i32, top as i32),
                ((left + side) as i32, (top + side) as i32),
            ],
            BLACK.stroke_width(1),
        ))
        .map_err(chart_error)?;
        for (i, name) in names.iter().enumerate() {
            let middle = cell * i as u32 + cell / 2;
            draw_text(
                name,
                (left - 6, top + middle),
                font(12).pos(Pos::new(HPos::Right, VPos::Center)),
            )?;
            let below = top + side + 6;
            let style = if vertical {
                font(12)
                    .transform(FontTransform::Rotate90)
                    .pos(Pos::new(HPos::Left, VPos::Center))
            } else {
                font(12).pos(Pos::new(HPos::Center, VPos::Top))
            };
            draw_text(name, (left + middle, below), style)?;
        }
        draw_text(
            "predicted class",
            (left + side / 2, top + side + column_labels + 14),
            font(14).pos(centred),
        )?;
        draw_text(
            "true class",
            (MARGIN + 6, top + side / 2),
            font(14).transform(FontTransform::Rotate270).pos(centred),
        )?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}
