//! Self-contained SVG rendering of a [`Graph`] with nabla's own layered layout (no Graphviz):
//! operations as blue boxes, leaves as green rounded boxes, constants dashed; values flow down,
//! and each edge carries, in red, the gradient sent back along it (when a single number).

use crate::dot::{GRAD_COLOUR, colours};
use crate::graph::{Graph, LineRole, NodeKind};
use crate::layout::{Spacing, layered};
use std::fmt::Write;

/// Advance of one character of the 12 px monospace font; labels are sized from it.
pub(crate) const CHAR_WIDTH: f64 = 7.3;
const LINE_HEIGHT: f64 = 15.0;
const PADDING_X: f64 = 10.0;
const PADDING_Y: f64 = 6.0;
const SPACING: Spacing = Spacing {
    gap_x: 28.0,
    gap_y: 46.0,
    margin: 16.0,
    dummy_width: 14.0,
};
const LEGEND: &str =
    "values flow down (= value); gradients flow up (grad; on an edge, what was sent back along it)";

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

/// The opening of a standalone SVG document of `width` x `height` pixels in the 12 px monospace
/// font, with a white background: how every hand-written picture of this crate starts.
pub(crate) fn svg_start(width: f64, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" \
         font-size=\"12\">\n<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n"
    )
}

impl Graph {
    /// The graph as a standalone SVG document.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_inspect::{Graph, GraphOptions, Trace};
    /// let w = Tensor::scalar(3.0f64).requires_grad();
    /// let (y, trace) = Trace::new().with_name(&w, "w").record(|| {
    ///     let y = &w * &w;
    ///     y.backward();
    ///     y
    /// });
    /// let svg = Graph::of(&y, &trace, GraphOptions::default()).to_svg();
    /// assert!(svg.contains(">w</text>") && svg.contains(">grad 6</text>"));
    /// ```
    pub fn to_svg(&self) -> String {
        let labels: Vec<Vec<(LineRole, String)>> =
            self.nodes.iter().map(|n| self.lines(n)).collect();
        let sizes: Vec<(f64, f64)> = labels
            .iter()
            .map(|lines| {
                let widest = lines.iter().map(|(_, l)| text_width(l)).fold(0.0, f64::max);
                (
                    widest + 2.0 * PADDING_X,
                    lines.len() as f64 * LINE_HEIGHT + 2.0 * PADDING_Y,
                )
            })
            .collect();
        let edges: Vec<(usize, usize)> = self.edges.iter().map(|e| (e.from, e.to)).collect();
        let layout = layered(&sizes, &edges, SPACING);

        let mut notes = vec![LEGEND.to_string()];
        notes.extend(self.omitted_note());
        let notes_width = notes.iter().map(|n| text_width(n)).fold(0.0, f64::max);
        let width = layout.width.max(notes_width + 2.0 * SPACING.margin).ceil();
        let height = (layout.height + notes.len() as f64 * LINE_HEIGHT + 4.0).ceil();

        let mut out = svg_start(width, height);
        out.push_str(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555555\"/></marker></defs>\n",
        );

        for route in &layout.routes {
            let mut d = format!("M{:.1},{:.1}", route[0].0, route[0].1);
            for pair in route.windows(2) {
                let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
                let bend = (y1 - y0) / 2.0;
                let _ = write!(
                    d,
                    " C{x0:.1},{:.1} {x1:.1},{:.1} {x1:.1},{y1:.1}",
                    y0 + bend,
                    y1 - bend
                );
            }
            let _ = writeln!(
                out,
                "<path d=\"{d}\" fill=\"none\" stroke=\"#555555\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"/>"
            );
        }
        for (edge, route) in self.edges.iter().zip(&layout.routes) {
            let Some(label) = self.edge_label(edge) else {
                continue;
            };
            let (x0, y0) = route[route.len() - 2];
            let (x1, y1) = route[route.len() - 1];
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{GRAD_COLOUR}\" font-size=\"11\" stroke=\"white\" \
                 stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                (x0 + x1) / 2.0 + 5.0,
                (y0 + y1) / 2.0 + 4.0,
                escape(&label)
            );
        }
        for (i, (node, lines)) in self.nodes.iter().zip(&labels).enumerate() {
            let (cx, cy) = layout.centres[i];
            let (w, h) = sizes[i];
            let (fill, stroke) = colours(node.kind);
            let (rx, dash) = match node.kind {
                NodeKind::Op => (3.0, ""),
                NodeKind::Leaf => (12.0, ""),
                NodeKind::Constant => (3.0, " stroke-dasharray=\"4 3\""),
            };
            let stroke_width = if i == 0 { 2.5 } else { 1.2 };
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"{rx}\" \
                 fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{stroke_width}\"{dash}/>",
                cx - w / 2.0,
                cy - h / 2.0
            );
            let top = cy - h / 2.0 + PADDING_Y + LINE_HEIGHT - 4.0;
            for (j, (role, text)) in lines.iter().enumerate() {
                let (weight, colour) = match role {
                    LineRole::Title => (" font-weight=\"bold\"", "#1a1a1a"),
                    LineRole::Shape => ("", "#6b6b6b"),
                    LineRole::Value => ("", "#1a1a1a"),
                    LineRole::Grad => ("", GRAD_COLOUR),
                };
                let _ = writeln!(
                    out,
                    "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\"{weight} fill=\"{colour}\">{}</text>",
                    top + j as f64 * LINE_HEIGHT,
                    escape(text)
                );
            }
        }
        for (j, note) in notes.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{:.1}\" fill=\"#6b6b6b\">{}</text>",
                SPACING.margin,
                layout.height + j as f64 * LINE_HEIGHT,
                escape(note)
            );
        }
        out.push_str("</svg>\n");
        out
    }
}
