//! The classifier pictures parsed as XML: one cell per class pair with its count in the
//! confusion matrix, one embedded PNG per shown mistake with its captions, and the decision
//! regions and points of a boundary picture.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nabla_inspect::classifier::{
    DecisionMap, Mistake, Picture, confusion_svg, decision_boundary_svg, mistakes_svg,
};
use nabla_nn::report::ConfusionMatrix;
use roxmltree::{Document, Node};

fn texts<'a>(doc: &'a Document) -> Vec<&'a str> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect()
}

fn elements<'a, 'i>(doc: &'a Document<'i>, tag: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants().filter(|n| n.has_tag_name(tag)).collect()
}

fn number(node: &Node, attribute: &str) -> f64 {
    node.attribute(attribute).unwrap().parse().unwrap()
}

/// Rectangles `side` pixels square: the cells of the matrix.
fn cells<'a, 'i>(doc: &'a Document<'i>) -> Vec<Node<'a, 'i>> {
    let squares: Vec<_> = elements(doc, "rect")
        .into_iter()
        .filter(|r| {
            r.attribute("fill") != Some("none") && number(r, "width") == number(r, "height")
        })
        .collect();
    let side = number(&squares[squares.len() - 1], "width");
    squares
        .into_iter()
        .filter(|r| number(r, "width") == side)
        .collect()
}

fn matrix(n: usize) -> ConfusionMatrix {
    // Sample i of class i % n is predicted as class (i + i / 5n) % n: distinct counts per row.
    let (mut actual, mut predicted) = (Vec::new(), Vec::new());
    for i in 0..n * 5 * n {
        actual.push((i % n) as i64);
        predicted.push(((i % n + (i / (5 * n)) * (i % 3)) % n) as i64);
    }
    let classes = (0..n).map(|c| format!("class {c}")).collect();
    ConfusionMatrix::from_indices(&actual, &predicted, classes).unwrap()
}

#[test]
fn confusion_has_one_cell_per_class_pair_with_its_count() {
    for n in [2, 3, 10, 20] {
        let m = matrix(n);
        let svg = confusion_svg(&m, "test set").unwrap();
        let doc = Document::parse(&svg).unwrap();
        let cells = cells(&doc);
        assert_eq!(cells.len(), n * n, "{n} classes");
        // Row-major from the top left: x grows along a row, y down the rows.
        let (x0, y0, side) = (
            number(&cells[0], "x"),
            number(&cells[0], "y"),
            number(&cells[0], "width"),
        );
        for (k, cell) in cells.iter().enumerate() {
            assert_eq!(number(cell, "x"), x0 + (k % n) as f64 * side);
            assert_eq!(number(cell, "y"), y0 + (k / n) as f64 * side);
        }
        let text = texts(&doc);
        // The counts, in the same order as the cells.
        let counts: Vec<&str> = text
            .iter()
            .copied()
            .skip_while(|t| !t.starts_with("accuracy"))
            .skip(1)
            .take(n * n)
            .collect();
        let expected: Vec<String> = (0..n * n)
            .map(|k| m.count(k / n, k % n).to_string())
            .collect();
        assert_eq!(counts, expected, "{n} classes");
        for c in 0..n {
            let name = format!("class {c}");
            assert_eq!(
                text.iter().filter(|t| **t == name).count(),
                2,
                "{name} on both axes"
            );
        }
        assert!(text.contains(&"true class") && text.contains(&"predicted class"));
    }
}

#[test]
fn confusion_shades_by_the_share_of_the_true_class() {
    // Class a: 9 right, 1 wrong; class b: 1 right, 0 wrong.
    let mut actual = vec![0; 10];
    actual.push(1);
    let mut predicted = vec![0; 9];
    predicted.extend([1, 1]);
    let m =
        ConfusionMatrix::from_indices(&actual, &predicted, vec!["a".into(), "b".into()]).unwrap();
    let svg = confusion_svg(&m, "t").unwrap();
    let doc = Document::parse(&svg).unwrap();
    let fills: Vec<&str> = cells(&doc)
        .iter()
        .map(|c| c.attribute("fill").unwrap())
        .collect();
    // (a, a) 90%, (a, b) 10%, (b, a) 0%, (b, b) 100%: the darkest is b's diagonal, white is none.
    assert_eq!(fills[3], "#08306B");
    assert_eq!(fills[2], "#F7FBFF");
    assert!(fills[0] != fills[1] && fills[0] != fills[3]);
}

#[test]
fn long_class_names_are_cut_and_turned() {
    let classes = vec!["an extremely long class name".to_string(), "b".to_string()];
    let m = ConfusionMatrix::from_indices(&[0, 1], &[0, 1], classes).unwrap();
    let svg = confusion_svg(&m, "t").unwrap();
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(
        texts(&doc)
            .iter()
            .filter(|t| **t == "an extremely lon…")
            .count(),
        2
    );
    let turned = elements(&doc, "text")
        .into_iter()
        .filter(|t| {
            t.attribute("transform")
                .is_some_and(|r| r.starts_with("rotate(90"))
        })
        .count();
    assert_eq!(turned, 2, "column names turn vertical when they do not fit");
}

fn mistake(i: usize, channels: usize) -> Mistake {
    let (h, w) = (4 + i % 3, 5);
    Mistake {
        picture: Picture {
            channels,
            height: h,
            width: w,
            pixels: (0..channels * h * w).map(|k| (k * 7 + i) as u8).collect(),
        },
        actual: format!("class{i}"),
        predicted: "cat & <dog>".into(),
        probability: 0.5 + i as f64 / 200.0,
        name: format!("test[{i}]"),
    }
}

/// The PNG behind an `<image>`: its width, height and colour type from the IHDR chunk.
fn png_header(node: &Node) -> (u32, u32, u8) {
    let href = node.attribute("href").unwrap();
    let png = STANDARD
        .decode(href.strip_prefix("data:image/png;base64,").unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20), png[25])
}

#[test]
fn gallery_has_one_captioned_image_per_mistake() {
    let mistakes: Vec<Mistake> = (0..7)
        .map(|i| mistake(i, if i % 2 == 0 { 1 } else { 3 }))
        .collect();
    let svg = mistakes_svg("misclassified", &mistakes, 7).unwrap();
    let doc = Document::parse(&svg).unwrap();
    let images = elements(&doc, "image");
    assert_eq!(images.len(), 7);
    for (i, (image, m)) in images.iter().zip(&mistakes).enumerate() {
        // PNG colour type 0 is grayscale, 2 is RGB.
        let kind = if m.picture.channels == 1 { 0 } else { 2 };
        assert_eq!(
            png_header(image),
            (5, 4 + i as u32 % 3, kind),
            "mistake {i}"
        );
        let captions: Vec<&str> = image
            .parent()
            .unwrap()
            .children()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        let expected = format!("predicted cat & <dog> {:.1}%", 100.0 * m.probability);
        assert_eq!(
            captions,
            [
                format!("true class{i}").as_str(),
                &expected,
                &format!("test[{i}]")
            ]
        );
    }
    assert!(texts(&doc).contains(&"7 misclassified images"));
}

#[test]
fn gallery_shows_at_most_32() {
    let mistakes: Vec<Mistake> = (0..40).map(|i| mistake(i, 1)).collect();
    let svg = mistakes_svg("m", &mistakes, 40).unwrap();
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(elements(&doc, "image").len(), 32);
    assert!(texts(&doc).contains(&"32 of 40 misclassified images"));
    // The caller may give only those shown, with the total.
    let svg = mistakes_svg("m", &mistakes[..3], 57).unwrap();
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(elements(&doc, "image").len(), 3);
    assert!(texts(&doc).contains(&"3 of 57 misclassified images"));
    let empty = mistakes_svg("m", &[], 0).unwrap();
    let doc = Document::parse(&empty).unwrap();
    assert!(elements(&doc, "image").is_empty());
    assert!(texts(&doc).contains(&"no misclassified images"));
}

#[test]
fn gallery_refuses_a_picture_that_is_not_its_size() {
    let mut bad = mistake(0, 3);
    bad.picture.pixels.pop();
    assert_eq!(
        mistakes_svg("m", &[bad], 1).unwrap_err().to_string(),
        "drawing a chart: a 3x4x5 picture with 59 bytes"
    );
    let mut two = mistake(0, 1);
    two.picture.channels = 2;
    assert_eq!(
        mistakes_svg("m", &[two], 1).unwrap_err().to_string(),
        "drawing a chart: a 2x4x5 picture has neither 1 nor 3 channels"
    );
}

fn halves(side: usize) -> DecisionMap {
    let x = [-3.0, 5.0];
    let y = [10.0, 20.0];
    let regions: Vec<usize> = DecisionMap::grid(x, y, side)
        .iter()
        .map(|[px, _]| usize::from(*px > 1.0))
        .collect();
    let confidence = vec![1.0; regions.len()];
    let points = (0..30)
        .map(|i| {
            let px = -2.5 + 7.0 * i as f64 / 29.0;
            ([px, 11.0 + (i % 9) as f64], usize::from(px > 1.0))
        })
        .collect();
    DecisionMap {
        classes: vec!["west".into(), "east".into()],
        axes: ["longitude".into(), "latitude".into()],
        x,
        y,
        side,
        regions,
        confidence,
        points,
    }
}

#[test]
fn boundary_draws_regions_points_and_raw_axes() {
    let map = halves(40);
    let svg = decision_boundary_svg(&map, "halves").unwrap();
    let doc = Document::parse(&svg).unwrap();
    // Each row is two runs (west, then east) in the two light shades.
    let light = ["#BCD6E9", "#FFD9B7"];
    let regions: Vec<&str> = elements(&doc, "rect")
        .iter()
        .filter_map(|r| r.attribute("fill"))
        .filter(|f| light.contains(f))
        .collect();
    assert_eq!(regions.len(), 2 * 40);
    // One dot per point, in the class's full colour.
    let dots = elements(&doc, "circle");
    assert_eq!(dots.len(), 30);
    for (dot, (_, class)) in dots.iter().zip(
        map.points
            .iter()
            .filter(|p| p.1 == 0)
            .chain(map.points.iter().filter(|p| p.1 == 1)),
    ) {
        let fill = ["#1F77B4", "#FF7F0E"][*class];
        assert_eq!(dot.attribute("fill"), Some(fill));
    }
    let text = texts(&doc);
    for wanted in [
        "longitude",
        "latitude",
        "west",
        "east",
        "halves",
        "-3.00",
        "20.00",
    ] {
        assert!(text.contains(&wanted), "{wanted} in {text:?}");
    }
}

#[test]
fn boundary_refuses_a_grid_of_the_wrong_size_or_classes() {
    let mut map = halves(4);
    map.regions.pop();
    assert_eq!(
        decision_boundary_svg(&map, "t").unwrap_err().to_string(),
        "drawing a chart: decision boundary: 15 regions for a 4x4 grid"
    );
    let mut map = halves(4);
    map.points[0].1 = 2;
    assert_eq!(
        decision_boundary_svg(&map, "t").unwrap_err().to_string(),
        "drawing a chart: decision boundary: class 2 of 2 classes"
    );
}

#[test]
fn a_small_mlp_fits_the_spiral_and_its_boundary_is_drawn() {
    use nabla_core::{DType, Generator};
    use nabla_nn::data::{DataLoader, DataSpec, Source, ToySet};
    use nabla_nn::layers::{Linear, ReLU};
    use nabla_nn::module::{Module, Sequential};
    use nabla_nn::optim::{Adam, Optim};
    use nabla_nn::train::{FitOptions, evaluate, fit};

    let spec = DataSpec {
        source: Source::Toy {
            set: ToySet::Spiral,
            samples: 500,
            noise: 0.02,
        },
        val_split: None,
        train_subset: None,
    };
    let splits = spec.load(0).unwrap();
    let mut rng = Generator::new(0);
    let mut model = Sequential::new();
    model.push(Box::new(Linear::new(2, 32, DType::F32, &mut rng)));
    model.push(Box::new(ReLU));
    model.push(Box::new(Linear::new(32, 32, DType::F32, &mut rng)));
    model.push(Box::new(ReLU));
    model.push(Box::new(Linear::new(32, 2, DType::F32, &mut rng)));
    let mut optimizer = Optim::new(model.named_parameters(), Adam::new(), 0.01).unwrap();
    let loader = DataLoader::new(splits.train.clone(), 32)
        .unwrap()
        .shuffle(0);
    let options = FitOptions::new(splits.schema.task.clone(), 200);
    fit(&mut model, &loader, &mut optimizer, &options, &mut []).unwrap();
    let accuracy = evaluate(&model, &splits.train, &splits.schema.task)
        .unwrap()
        .accuracy
        .unwrap();
    assert!(accuracy >= 0.97, "training accuracy {accuracy}");

    let map = DecisionMap::of(&model, &splits.train, &splits.schema).unwrap();
    assert_eq!(map.points.len(), 500);
    assert_eq!(map.regions.len(), map.side * map.side);
    assert_eq!(map.confidence.len(), map.regions.len());
    // A class's probability is at least 1/classes where it is the predicted one.
    assert!(
        map.confidence
            .iter()
            .all(|&p| (1.0 / 3.0..=1.0).contains(&p))
    );
    // The model's regions agree with the classes of the training points they hold.
    let cell = |[x, y]: [f64; 2]| {
        let column = ((x - map.x[0]) / (map.x[1] - map.x[0]) * map.side as f64) as usize;
        let row = ((y - map.y[0]) / (map.y[1] - map.y[0]) * map.side as f64) as usize;
        map.regions[row * map.side + column]
    };
    let agree = map.points.iter().filter(|(p, c)| cell(*p) == *c).count();
    assert!(
        agree as f64 >= 0.95 * 500.0,
        "{agree} of 500 points in their class's region"
    );
    let svg = decision_boundary_svg(&map, "spiral").unwrap();
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(elements(&doc, "circle").len(), 500);
}
