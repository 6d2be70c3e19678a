//! Graph capture and rendering: what a trace records, the graph of a tensor with values and
//! gradients, DOT text, SVG that parses as XML with the expected labels and no overlapping
//! boxes, and the node cap on large graphs.

use nabla_core::{DType, Tensor};
use nabla_inspect::{Graph, GraphOptions, Input, NodeKind, Trace};

/// The apple example, traced forward and backward: (the total, the trace).
fn apple() -> (Tensor, Trace) {
    let apple = Tensor::scalar(100.0f64).requires_grad();
    let count = Tensor::scalar(2.0f64).requires_grad();
    let tax = Tensor::scalar(1.1f64).requires_grad();
    let trace = Trace::new()
        .with_name(&apple, "apple")
        .with_name(&count, "count")
        .with_name(&tax, "tax");
    trace.record(|| {
        let total = &(&apple * &count) * &tax;
        total.backward();
        total
    })
}

fn labels(graph: &Graph) -> Vec<String> {
    graph.nodes.iter().map(|n| n.title.clone()).collect()
}

#[test]
fn the_trace_records_values_gradients_and_sources() {
    let (total, trace) = apple();
    let top = total.grad_fn().unwrap();
    let record = trace.op(&top).unwrap();
    assert_eq!(record.output.item::<f64>(), 220.00000000000003);
    let Input::Node(inner) = &record.inputs[0] else {
        panic!("apple*count is a node");
    };
    assert_eq!(trace.op(inner).unwrap().output.item::<f64>(), 200.0);
    let Input::Node(tax) = &record.inputs[1] else {
        panic!("tax reaches the graph through its AccumulateGrad");
    };
    assert_eq!(trace.name_of(tax.variable().unwrap()), Some("tax"));
    let step = trace.step(&top).unwrap();
    assert_eq!(step.grad_output.item::<f64>(), 1.0);
    let sent: Vec<f64> = step
        .grad_inputs
        .iter()
        .map(|g| g.as_ref().unwrap().item::<f64>())
        .collect();
    assert_eq!(sent, [1.1, 200.0]);
    let order: Vec<&str> = trace.steps().iter().map(|s| s.node.name()).collect();
    assert_eq!(
        order,
        [
            "MulBackward",
            "AccumulateGrad",
            "MulBackward",
            "AccumulateGrad",
            "AccumulateGrad"
        ]
    );
    assert_eq!(trace.step(tax).unwrap().grad_output.item::<f64>(), 200.0);
}

#[test]
fn constants_and_named_results_are_recorded() {
    let x = Tensor::scalar(2.0f64).requires_grad();
    let five = Tensor::scalar(5.0f64);
    let (y, mut trace) = Trace::new().record(|| &x - &five);
    assert!(
        matches!(&trace.op(&y.grad_fn().unwrap()).unwrap().inputs[1],
        Input::Constant(c) if c.same_as(&five))
    );
    trace.name(&y, "h");
    trace.name(&five, "five");
    assert_eq!(trace.name_of(&y), Some("h"));
    let graph = Graph::of(&y, &trace, GraphOptions::default());
    assert_eq!(labels(&graph), ["−\nh", "leaf", "five"]);
    assert_eq!(graph.nodes[2].kind, NodeKind::Constant);
    // Nothing ran backward: no gradients anywhere.
    assert!(graph.nodes.iter().all(|n| n.grad.is_none()));
}

#[test]
fn the_graph_holds_values_gradients_and_edges() {
    let (total, trace) = apple();
    let graph = Graph::of(&total, &trace, GraphOptions::default());
    assert_eq!(
        labels(&graph),
        ["[1] ×", "[3] ×", "[2] tax", "[4] apple", "[5] count"]
    );
    let kinds: Vec<NodeKind> = graph.nodes.iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        [
            NodeKind::Op,
            NodeKind::Op,
            NodeKind::Leaf,
            NodeKind::Leaf,
            NodeKind::Leaf
        ]
    );
    let grads: Vec<f64> = graph
        .nodes
        .iter()
        .map(|n| n.grad.as_ref().unwrap().item::<f64>())
        .collect();
    assert_eq!(grads, [1.0, 1.1, 200.0, 2.2, 110.00000000000001]);
    let edges: Vec<(usize, usize, f64)> = graph
        .edges
        .iter()
        .map(|e| (e.from, e.to, e.grad.as_ref().unwrap().item::<f64>()))
        .collect();
    assert_eq!(
        edges,
        [
            (1, 0, 1.1),
            (2, 0, 200.0),
            (3, 1, 2.2),
            (4, 1, 110.00000000000001)
        ]
    );
    assert_eq!(graph.omitted, 0);
}

#[test]
fn dot_lists_every_node_and_edge() {
    let (total, trace) = apple();
    let dot = Graph::of(&total, &trace, GraphOptions::default()).to_dot();
    assert!(dot.starts_with("digraph nabla {\n"));
    assert!(dot.ends_with("}\n"));
    assert!(dot.contains(
        "  n0 [label=\"[1] ×\\n= 220\\ngrad 1\", style=\"filled\", fillcolor=\"#dbe9f8\", color=\"#3b6ea5\", penwidth=2];"
    ));
    assert!(dot.contains(
        "  n3 [label=\"[4] apple\\n= 100\\ngrad 2.2\", style=\"rounded,filled\", fillcolor=\"#d8f0d2\", color=\"#3c8d2f\"];"
    ));
    assert!(dot.contains("  n4 -> n1 [label=<2<br/><font color=\"#c0392b\">110</font>>];"));
    assert_eq!(dot.matches(" -> ").count(), 4);
}

/// Every `<rect>` of a node (skipping the background) as (x, y, width, height).
fn boxes(doc: &roxmltree::Document) -> Vec<(f64, f64, f64, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("rx").is_some())
        .map(|n| {
            let a = |name: &str| n.attribute(name).unwrap().parse::<f64>().unwrap();
            (a("x"), a("y"), a("width"), a("height"))
        })
        .collect()
}

fn texts(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn svg_is_well_formed_and_labelled() {
    let (total, trace) = apple();
    let svg = Graph::of(&total, &trace, GraphOptions::default()).to_svg();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts = texts(&doc);
    for expected in [
        "[1] ×",
        "[3] ×",
        "[4] apple",
        "[5] count",
        "[2] tax",
        "= 220",
        "= 200",
        "= 100",
        "= 2",
        "= 1.1",
        "grad 1",
        "grad 1.1",
        "grad 200",
        "grad 2.2",
        "grad 110",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected} in {texts:?}"
        );
    }
    assert!(!texts.iter().any(|t| t == "scalar"), "{texts:?}");
    // Edge labels: the value flowing forward over the gradient sent back along each edge.
    let edge_labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("font-size") == Some("11"))
        .map(|n| n.text().unwrap())
        .collect();
    assert_eq!(
        edge_labels,
        ["200", "1.1", "1.1", "200", "100", "2.2", "2", "110"]
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("path") && n.attribute("marker-end").is_some())
            .count(),
        4
    );
    let boxes = boxes(&doc);
    assert_eq!(boxes.len(), 5);
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let apart =
                a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
            assert!(apart, "{a:?} overlaps {b:?}");
        }
    }
}

#[test]
fn text_is_escaped() {
    let x = Tensor::scalar(1.0f64).requires_grad();
    let trace = Trace::new().with_name(&x, "a<b & \"c\"");
    let svg = Graph::of(&x.exp(), &trace, GraphOptions::default()).to_svg();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(texts(&doc).iter().any(|t| t == "a<b & \"c\""));
    let dot = Graph::of(&x.exp(), &trace, GraphOptions::default()).to_dot();
    assert!(dot.contains("label=\"a<b & \\\"c\\\"\\n= 1\""));
}

#[test]
fn large_tensors_show_shapes_not_values() {
    let w = Tensor::ones(&[2, 4], DType::F64).requires_grad();
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[4, 1]);
    let (y, trace) = Trace::new().with_name(&w, "W").record(|| {
        let y = w.matmul(&x).sum();
        y.backward();
        y
    });
    let graph = Graph::of(&y, &trace, GraphOptions::default());
    assert_eq!(labels(&graph), ["[1] Σ", "[2] matmul", "[3] W", "const"]);
    let svg = graph.to_svg();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts = texts(&doc);
    for expected in [
        "[2, 4]",
        "[2, 1] → []",
        "[2, 4] → [2, 1]",
        "= [[10], [10]]",
        "grad [[1], [1]]",
        "[4, 1]",
        "= 20",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected} in {texts:?}"
        );
    }
    // W has 8 elements: more than the 6 shown, so neither its value nor its gradient appears.
    assert!(!texts.iter().any(|t| t.starts_with("= [[1, 1")));
    assert!(!texts.iter().any(|t| t.starts_with("grad [[1, 2")));
}

#[test]
fn large_graphs_are_capped_with_a_note() {
    let x = Tensor::from_vec(vec![0.1f64, 0.2], &[2]).requires_grad();
    let mut y = x.clone();
    for _ in 0..300 {
        y = y.sin();
    }
    let options = GraphOptions {
        max_nodes: 50,
        ..GraphOptions::default()
    };
    let graph = Graph::of(&y, &Trace::new(), options);
    assert_eq!((graph.nodes.len(), graph.omitted), (50, 251));
    assert_eq!(graph.edges.len(), 49);
    let svg = graph.to_svg();
    roxmltree::Document::parse(&svg).unwrap();
    assert!(svg.contains(">251 more nodes not shown (max_nodes = 50)</text>"));
    assert!(
        graph
            .to_dot()
            .contains("omitted [shape=note, label=\"251 more nodes not shown (max_nodes = 50)\"]")
    );
    // The default cap keeps 200 nodes.
    let graph = Graph::of(&y, &Trace::new(), GraphOptions::default());
    assert_eq!((graph.nodes.len(), graph.omitted), (200, 101));
}

#[test]
fn leaves_and_constants_alone_are_one_node_graphs() {
    let x = Tensor::scalar(3.0f64).requires_grad();
    let graph = Graph::of(
        &x,
        &Trace::new().with_name(&x, "x"),
        GraphOptions::default(),
    );
    assert_eq!(labels(&graph), ["x"]);
    assert_eq!(graph.nodes[0].kind, NodeKind::Leaf);
    let c = Tensor::scalar(2.5f64);
    let graph = Graph::of(&c, &Trace::new(), GraphOptions::default());
    assert_eq!(labels(&graph), ["2.5"]);
    assert_eq!(graph.nodes[0].kind, NodeKind::Constant);
    roxmltree::Document::parse(&graph.to_svg()).unwrap();
}

#[test]
fn a_convolution_and_a_pool_show_their_input_and_output_shapes() {
    use nabla_core::ops::window::{ConvOptions, PoolOptions};
    let x = Tensor::ones(&[2, 1, 8, 8], DType::F32);
    let w = Tensor::ones(&[4, 1, 3, 3], DType::F32).requires_grad();
    let (y, trace) = Trace::new().with_name(&w, "weight").record(|| {
        let y = x
            .conv2d(&w, None, &ConvOptions::default())
            .max_pool2d(&PoolOptions::new([2, 2]))
            .sum();
        y.backward();
        y
    });
    let graph = Graph::of(&y, &trace, GraphOptions::default());
    let dot = graph.to_dot();
    assert!(dot.contains("[2, 1, 8, 8] → [2, 4, 6, 6]"), "{dot}");
    assert!(dot.contains("[2, 4, 6, 6] → [2, 4, 3, 3]"), "{dot}");
    let svg = graph.to_svg();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert!(
        texts(&doc)
            .iter()
            .any(|t| t == "[2, 1, 8, 8] → [2, 4, 6, 6]")
    );
}

/// The box a `<text>` element covers, from its position, anchor, font size and characters
/// (the monospace advance is 0.6 of the size; ascent 0.8, descent 0.25).
fn text_box(n: roxmltree::Node) -> (f64, f64, f64, f64) {
    let a = |name: &str| n.attribute(name).unwrap().parse::<f64>().unwrap();
    let size = n
        .attribute("font-size")
        .map_or(12.0, |s| s.parse().unwrap());
    let width = n.text().unwrap_or_default().chars().count() as f64 * size * 0.6083;
    let left = match n.attribute("text-anchor") {
        Some("middle") => a("x") - width / 2.0,
        _ => a("x"),
    };
    (left, a("y") - 0.8 * size, width, 1.05 * size)
}

fn apart(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1
}

/// Graphs with fan-out (one value feeding several operations) and parallel edges (`x*x`),
/// both directions.
#[test]
fn no_two_text_boxes_overlap_and_labels_stay_off_the_nodes() {
    use nabla_inspect::RankDir;
    use nabla_inspect::expr;
    let cases: [(&str, &[f64]); 6] = [
        ("x*x + sin(x)", &[2.0]),
        ("apple*count*tax", &[100.0, 2.0, 1.1]),
        ("(w*x+b-5)^2", &[3.0, 2.0, 1.0]),
        ("x*x*x + x*y + y*y", &[1.5, -0.25]),
        ("sigmoid(w*x+b)*x + exp(x)/x", &[0.5, 2.0, -1.0]),
        ("max(x, y)*min(x, y) + x^y", &[1.25, 2.5]),
    ];
    for (source, values) in cases {
        let e = expr::parse(source).unwrap();
        let recording = expr::record(&e, values).unwrap();
        for rankdir in [RankDir::TopBottom, RankDir::LeftRight] {
            let options = GraphOptions {
                rankdir,
                ..GraphOptions::default()
            };
            let svg = recording.graph(options).to_svg();
            let doc = roxmltree::Document::parse(&svg).unwrap();
            let root = doc.root_element();
            let size = |name: &str| root.attribute(name).unwrap().parse::<f64>().unwrap();
            let (width, height) = (size("width"), size("height"));
            let texts: Vec<_> = doc
                .descendants()
                .filter(|n| n.has_tag_name("text"))
                .map(|n| (n.attribute("font-size") == Some("11"), text_box(n)))
                .collect();
            let nodes = boxes(&doc);
            for (i, (edge_label, a)) in texts.iter().enumerate() {
                assert!(
                    a.0 >= 0.0 && a.1 >= 0.0 && a.0 + a.2 <= width && a.1 + a.3 <= height,
                    "{source} {rankdir:?}: {a:?} outside {width}x{height}"
                );
                for (_, b) in &texts[i + 1..] {
                    assert!(
                        apart(*a, *b),
                        "{source} {rankdir:?}: text {a:?} overlaps {b:?}\n{svg}"
                    );
                }
                if *edge_label {
                    for node in &nodes {
                        assert!(
                            apart(*a, *node),
                            "{source} {rankdir:?}: label {a:?} on node {node:?}"
                        );
                    }
                }
            }
            // Every edge got its label: the value, over the gradient unless it comes from a
            // constant.
            let labels = texts.iter().filter(|(edge, _)| *edge).count();
            let edges = doc
                .descendants()
                .filter(|n| n.has_tag_name("path") && n.attribute("marker-end").is_some())
                .count();
            let constants = source.matches(|c: char| c.is_ascii_digit()).count();
            assert!(labels >= 2 * edges - constants, "{source} {rankdir:?}");
            assert!(!svg.contains("left out"), "{source} {rankdir:?}");
        }
    }
}

#[test]
fn each_svg_node_is_a_group_carrying_its_explanation_step() {
    let (total, trace) = apple();
    let svg = Graph::of(&total, &trace, GraphOptions::default()).to_svg();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let groups: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("node"))
        .collect();
    assert_eq!(groups.len(), 5);
    // Each group holds its box and its lines, the first of which is its title `[n] …`.
    for g in &groups {
        let step = g.attribute("data-step").unwrap();
        assert!(g.children().any(|c| c.has_tag_name("rect")));
        let title = g.descendants().find(|c| c.has_tag_name("text")).unwrap();
        assert!(
            title.text().unwrap().starts_with(&format!("[{step}] ")),
            "{step}: {:?}",
            title.text()
        );
    }
    let explained = nabla_inspect::explanation(&trace, Default::default()).unwrap();
    let mut steps: Vec<usize> = groups
        .iter()
        .map(|g| g.attribute("data-step").unwrap().parse().unwrap())
        .collect();
    steps.sort();
    let numbers: Vec<usize> = explained.steps.iter().map(|s| s.number).collect();
    assert_eq!(steps, numbers);
}
