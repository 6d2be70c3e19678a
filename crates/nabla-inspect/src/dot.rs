//! Graphviz DOT export of a [`Graph`]: the same labels and colours as the SVG rendering, for
//! `dot -Tpng` and friends.

use crate::graph::{Graph, NodeKind, RankDir};
use std::fmt::Write;

/// Node styles shared by the DOT and SVG renderings: (fill, stroke).
pub(crate) fn colours(kind: NodeKind) -> (&'static str, &'static str) {
    match kind {
        NodeKind::Op => ("#dbe9f8", "#3b6ea5"),
        NodeKind::Leaf => ("#d8f0d2", "#3c8d2f"),
        NodeKind::Constant => ("#f2f2f2", "#999999"),
    }
}

/// The colour gradients are written in.
pub(crate) const GRAD_COLOUR: &str = "#c0392b";

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Graph {
    /// The graph in Graphviz DOT, values flowing top to bottom (or left to right), each edge
    /// labelled, when they are single numbers, with the value flowing along it over the
    /// gradient sent back (red).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_inspect::{Graph, GraphOptions, Trace};
    /// let x = Tensor::scalar(2.0f64).requires_grad();
    /// let (y, trace) = Trace::new().with_name(&x, "x").record(|| {
    ///     let y = x.sin();
    ///     y.backward();
    ///     y
    /// });
    /// let dot = Graph::of(&y, &trace, GraphOptions::default()).to_dot();
    /// assert!(dot.starts_with("digraph nabla {"));
    /// assert!(dot.contains("n1 -> n0"));
    /// ```
    pub fn to_dot(&self) -> String {
        let rankdir = match self.options.rankdir {
            RankDir::TopBottom => "TB",
            RankDir::LeftRight => "LR",
        };
        let mut out = format!("digraph nabla {{\n  rankdir={rankdir};\n");
        out.push_str("  node [fontname=\"monospace\", fontsize=11, shape=box];\n");
        let _ = writeln!(
            out,
            "  edge [fontname=\"monospace\", fontsize=10, fontcolor=\"#1a1a1a\"];"
        );
        for (i, node) in self.nodes.iter().enumerate() {
            let label: Vec<String> = self.lines(node).into_iter().map(|(_, l)| l).collect();
            let (fill, stroke) = colours(node.kind);
            let style = match node.kind {
                NodeKind::Op => "filled",
                NodeKind::Leaf => "rounded,filled",
                NodeKind::Constant => "dashed,filled",
            };
            let _ = writeln!(
                out,
                "  n{i} [label={}, style=\"{style}\", fillcolor=\"{fill}\", color=\"{stroke}\"{}];",
                quoted(&label.join("\n")),
                if i == 0 { ", penwidth=2" } else { "" }
            );
        }
        for edge in &self.edges {
            let _ = write!(out, "  n{} -> n{}", edge.from, edge.to);
            let value = self.edge_value(edge);
            let grad = self
                .edge_label(edge)
                .map(|g| format!("<font color=\"{GRAD_COLOUR}\">{g}</font>"));
            let lines: Vec<String> = value.into_iter().chain(grad).collect();
            if !lines.is_empty() {
                let _ = write!(out, " [label=<{}>]", lines.join("<br/>"));
            }
            out.push_str(";\n");
        }
        if let Some(note) = self.omitted_note() {
            let _ = writeln!(out, "  omitted [shape=note, label={}];", quoted(&note));
        }
        out.push_str("}\n");
        out
    }
}
