//! Self-contained SVG rendering of a [`Graph`] with nabla's own layered layout (no Graphviz),
//! drawn as the textbook draws computational graphs: operations as blue boxes titled by their
//! symbol (`×`, `+`, `sigmoid`) and their step `[n]` of the backward pass, leaves as green
//! rounded boxes, constants dashed; each node with its value and, in red beneath it, its
//! gradient; each edge carrying, when they are single numbers, the value flowing forward over
//! the gradient sent back (red). Edge labels are placed where they overlap no node and no other
//! label, the layers spread further apart until they fit; the canvas is fitted to the drawing.
//! Each node is one `<g class="node">` group, with `data-step="n"` when it has a step `[n]`, so
//! a page can find the node of an explanation's step.

use crate::dot::{GRAD_COLOUR, colours};
use crate::graph::{Graph, GraphEdge, LineRole, NodeKind, RankDir};
use crate::layout::{Layout, Spacing, layered};
use std::fmt::Write;

/// Advance of one character of the 12 px monospace font; labels are sized from it.
pub(crate) const CHAR_WIDTH: f64 = 7.3;
const LINE_HEIGHT: f64 = 15.0;
const PADDING_X: f64 = 10.0;
const PADDING_Y: f64 = 6.0;
pub(crate) const SPACING: Spacing = Spacing {
    gap_x: 28.0,
    gap_y: 46.0,
    margin: 16.0,
    dummy_width: 14.0,
};
/// Edge labels: font size, line height, and the clearance kept around boxes.
const LABEL_FONT: f64 = 11.0;
const LABEL_LINE: f64 = 13.0;
const CLEARANCE: f64 = 2.0;
/// Times the layers are spread further apart to make room for edge labels.
const SPREADS: usize = 6;
const LEGEND: [&str; 2] = [
    "black: value (forward) · red: gradient ∂L/∂… (backward)",
    "[n]: step n of the backward pass, as --explain numbers it",
];

/// An axis-aligned box: left, top, width, height.
type Rect = (f64, f64, f64, f64);

fn overlaps(a: Rect, b: Rect) -> bool {
    a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3
}

fn grown(r: Rect, by: f64) -> Rect {
    (r.0 - by, r.1 - by, r.2 + 2.0 * by, r.3 + 2.0 * by)
}

/// A placed edge label: its box and its lines (text, whether it is the gradient).
struct Label {
    rect: Rect,
    lines: Vec<(String, bool)>,
}

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
    /// assert!(svg.contains(">[1] ×</text>") && svg.contains(">[2] w</text>"));
    /// assert!(svg.contains(">grad 6</text>") && !svg.contains("scalar"));
    /// ```
    pub fn to_svg(&self) -> String {
        let across = self.options.rankdir == RankDir::LeftRight;
        let labels: Vec<Vec<(LineRole, String)>> =
            self.nodes.iter().map(|n| self.lines(n)).collect();
        let sizes: Vec<(f64, f64)> = labels
            .iter()
            .map(|lines| box_size(lines.iter().map(|(_, l)| l.as_str())))
            .collect();
        let edges: Vec<(usize, usize)> = self.edges.iter().map(|e| (e.from, e.to)).collect();
        let texts: Vec<Vec<(String, bool)>> =
            self.edges.iter().map(|e| self.edge_texts(e)).collect();
        let mut spacing = SPACING;
        if across {
            spacing.gap_y = 70.0;
        }
        // The closest layers at which every label fits off the curves, else at which every
        // label fits, else the widest spread tried.
        let mut tries = (0..=SPREADS).map(|spread| {
            let mut spaced = spacing;
            spaced.gap_y += spread as f64 * 24.0;
            let layout = lay_out(&sizes, &edges, spaced, across);
            let (placed, left_out, on_curves) =
                place_labels(&layout, &sizes, &texts, &edges, across);
            (layout, placed, left_out, on_curves)
        });
        let mut fallback = None;
        let (layout, placed, left_out) = loop {
            match tries.next() {
                Some((layout, placed, 0, 0)) => break (layout, placed, 0),
                Some((layout, placed, left_out, _)) => {
                    if fallback.as_ref().is_none_or(|(_, _, l)| left_out < *l) {
                        fallback = Some((layout, placed, left_out));
                    }
                }
                None => break fallback.expect("at least one layout was tried"),
            }
        };

        let mut notes: Vec<String> = LEGEND.iter().map(|l| l.to_string()).collect();
        notes.extend(self.omitted_note());
        if left_out > 0 {
            notes.push(format!(
                "{left_out} edge label{} left out for want of room (the nodes show every value and gradient)",
                if left_out == 1 { "" } else { "s" }
            ));
        }
        // The canvas: the nodes, the labels and the notes, with a margin.
        let mut right = layout.width - SPACING.margin;
        let mut bottom = layout.height - SPACING.margin;
        for label in placed.iter().flatten() {
            right = right.max(label.rect.0 + label.rect.2);
            bottom = bottom.max(label.rect.1 + label.rect.3);
        }
        let notes_top = bottom + LINE_HEIGHT + 6.0;
        let notes_width = notes.iter().map(|n| text_width(n)).fold(0.0, f64::max);
        let width = (right.max(SPACING.margin + notes_width) + SPACING.margin).ceil();
        let height = (notes_top + (notes.len() as f64 - 1.0) * LINE_HEIGHT + SPACING.margin).ceil();

        let mut out = svg_start(width, height);
        out.push_str(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555555\"/></marker></defs>\n",
        );
        for route in &layout.routes {
            let mut d = format!("M{:.1},{:.1}", route[0].0, route[0].1);
            for pair in route.windows(2) {
                let [c0, c1, end] = bezier(pair[0], pair[1], across);
                let _ = write!(
                    d,
                    " C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                    c0.0, c0.1, c1.0, c1.1, end.0, end.1
                );
            }
            let _ = writeln!(
                out,
                "<path d=\"{d}\" fill=\"none\" stroke=\"#555555\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"/>"
            );
        }
        for label in placed.iter().flatten() {
            let (x, y, w, _) = label.rect;
            for (j, (text, grad)) in label.lines.iter().enumerate() {
                let colour = if *grad { GRAD_COLOUR } else { "#1a1a1a" };
                let _ = writeln!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{colour}\" font-size=\"{LABEL_FONT}\" \
                     stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                    x + w / 2.0,
                    y + (j as f64 + 1.0) * LABEL_LINE - 3.0,
                    escape(text)
                );
            }
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
            let step = node
                .step
                .map_or_else(String::new, |n| format!(" data-step=\"{n}\""));
            let _ = writeln!(out, "<g class=\"node\"{step}>");
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
                    LineRole::Name | LineRole::Shape => ("", "#6b6b6b"),
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
            out.push_str("</g>\n");
        }
        for (j, note) in notes.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{:.1}\" fill=\"#6b6b6b\">{}</text>",
                SPACING.margin,
                notes_top + j as f64 * LINE_HEIGHT,
                escape(note)
            );
        }
        out.push_str("</svg>\n");
        out
    }

    /// An edge's label lines: the value flowing forward, then the gradient sent back (red).
    fn edge_texts(&self, edge: &GraphEdge) -> Vec<(String, bool)> {
        let mut lines = Vec::new();
        if let Some(value) = self.edge_value(edge) {
            lines.push((value, false));
        }
        if let Some(grad) = self.edge_label(edge) {
            lines.push((grad, true));
        }
        lines
    }
}

/// The size of a node's box holding `lines` of the 12 px monospace font, padding included.
pub(crate) fn box_size<'a>(lines: impl ExactSizeIterator<Item = &'a str>) -> (f64, f64) {
    let count = lines.len() as f64;
    let widest = lines.map(text_width).fold(0.0, f64::max);
    (
        widest + 2.0 * PADDING_X,
        count * LINE_HEIGHT + 2.0 * PADDING_Y,
    )
}

/// The layered layout, turned a quarter for left-to-right graphs (layers become columns).
pub(crate) fn lay_out(
    sizes: &[(f64, f64)],
    edges: &[(usize, usize)],
    spacing: Spacing,
    across: bool,
) -> Layout {
    if !across {
        return layered(sizes, edges, spacing);
    }
    let turned: Vec<(f64, f64)> = sizes.iter().map(|&(w, h)| (h, w)).collect();
    let mut gaps = spacing;
    gaps.gap_x = 16.0;
    let layout = layered(&turned, edges, gaps);
    Layout {
        centres: layout.centres.iter().map(|&(x, y)| (y, x)).collect(),
        routes: layout
            .routes
            .iter()
            .map(|r| r.iter().map(|&(x, y)| (y, x)).collect())
            .collect(),
        width: layout.height,
        height: layout.width,
    }
}

/// The control points and end of the curve from `a` to `b`, leaving and entering along the
/// direction values flow.
fn bezier(a: (f64, f64), b: (f64, f64), across: bool) -> [(f64, f64); 3] {
    if across {
        let bend = (b.0 - a.0) / 2.0;
        [(a.0 + bend, a.1), (b.0 - bend, b.1), b]
    } else {
        let bend = (b.1 - a.1) / 2.0;
        [(a.0, a.1 + bend), (b.0, b.1 - bend), b]
    }
}

/// The point at `t` of the curve from `a` to `b`.
fn point_on(a: (f64, f64), b: (f64, f64), t: f64, across: bool) -> (f64, f64) {
    let [c0, c1, end] = bezier(a, b, across);
    let u = 1.0 - t;
    let mix = |p: f64, q: f64, r: f64, s: f64| {
        u * u * u * p + 3.0 * u * u * t * q + 3.0 * u * t * t * r + t * t * t * s
    };
    (mix(a.0, c0.0, c1.0, end.0), mix(a.1, c0.1, c1.1, end.1))
}

/// Places each edge's label beside its curve where it overlaps no node and no label placed
/// before it (and, where it can, no curve), trying points along the curve from the middle out
/// and both sides of it (the
/// outer side first for parallel edges, so each label sits by its own curve); returns the
/// labels (`None` for an edge without one or without room), how many found no room, and how
/// many lie on a curve.
fn place_labels(
    layout: &Layout,
    sizes: &[(f64, f64)],
    texts: &[Vec<(String, bool)>],
    edges: &[(usize, usize)],
    across: bool,
) -> (Vec<Option<Label>>, usize, usize) {
    let mut taken: Vec<Rect> = layout
        .centres
        .iter()
        .zip(sizes)
        .map(|(&(cx, cy), &(w, h))| grown((cx - w / 2.0, cy - h / 2.0, w, h), CLEARANCE))
        .collect();
    // Points along every curve: a label covering none of them sits beside the lines, not on them.
    let curve: Vec<(f64, f64)> = layout
        .routes
        .iter()
        .flat_map(|route| {
            route.windows(2).flat_map(|pair| {
                (1..16).map(move |k| point_on(pair[0], pair[1], k as f64 / 16.0, across))
            })
        })
        .collect();
    let on_a_curve = |r: Rect| {
        curve
            .iter()
            .any(|&(x, y)| x > r.0 && x < r.0 + r.2 && y > r.1 && y < r.1 + r.3)
    };
    let (mut left_out, mut on_curves) = (0, 0);
    let placed = texts
        .iter()
        .zip(&layout.routes)
        .enumerate()
        .map(|(e, (lines, route))| {
            if lines.is_empty() {
                return None;
            }
            let siblings: Vec<usize> = (0..edges.len()).filter(|&o| edges[o] == edges[e]).collect();
            let rank = siblings.iter().position(|&o| o == e).unwrap_or(0);
            // Parallel edges leave their source spread out, the first ones to the left (top):
            // each label goes on the outer side of its own curve.
            let parallel = siblings.len() > 1;
            let (first_left, first_below) = (2 * rank < siblings.len(), 2 * rank >= siblings.len());
            let flip = usize::from(parallel && if across { first_below } else { first_left });
            let w = lines
                .iter()
                .map(|(l, _)| l.chars().count() as f64 * CHAR_WIDTH * LABEL_FONT / 12.0)
                .fold(0.0, f64::max);
            let h = lines.len() as f64 * LABEL_LINE;
            let candidates = route.windows(2).rev().flat_map(|pair| {
                [0.5, 0.35, 0.65, 0.2, 0.8].into_iter().flat_map(move |t| {
                    let (x, y) = point_on(pair[0], pair[1], t, across);
                    let sides: [Rect; 2] = if across {
                        [
                            (x - w / 2.0, y - h - 3.0, w, h),
                            (x - w / 2.0, y + 3.0, w, h),
                        ]
                    } else {
                        [
                            (x + 5.0, y - h / 2.0, w, h),
                            (x - 5.0 - w, y - h / 2.0, w, h),
                        ]
                    };
                    [sides[flip], sides[1 - flip]]
                })
            });
            // Off every curve if possible, else on one (its white halo keeps it readable), but
            // never over a node or another label.
            let clear: Vec<Rect> = candidates
                .filter(|r| r.0 >= 0.0 && r.1 >= 0.0)
                .filter(|r| taken.iter().all(|t| !overlaps(grown(*r, CLEARANCE), *t)))
                .collect();
            let off = clear.iter().find(|r| !on_a_curve(**r)).copied();
            if off.is_none() && !clear.is_empty() {
                on_curves += 1;
            }
            let free = off.or(clear.first().copied());
            match free {
                Some(rect) => {
                    taken.push(rect);
                    Some(Label {
                        rect,
                        lines: lines.clone(),
                    })
                }
                None => {
                    left_out += 1;
                    None
                }
            }
        })
        .collect();
    (placed, left_out, on_curves)
}
