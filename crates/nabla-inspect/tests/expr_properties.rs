//! Properties of the expression language on random input: a random well-formed expression
//! parses and evaluates to what a direct evaluation of the same tree in `f64` gives, and any
//! string at all either parses or gets a syntax error; nothing panics.

use nabla_core::Tensor;
use nabla_inspect::expr::{self, Mode};
use proptest::prelude::*;

/// A tree written two ways: as source text, and as the value it denotes at `x`, `y`.
#[derive(Clone, Debug)]
enum Tree {
    Number(f64),
    X,
    Y,
    Neg(Box<Tree>),
    Op(char, Box<Tree>, Box<Tree>),
    Call(&'static str, Box<Tree>),
}

impl Tree {
    /// Fully parenthesised source, so precedence is not under test here.
    fn source(&self) -> String {
        match self {
            Tree::Number(v) => format!("{v:?}"),
            Tree::X => "x".into(),
            Tree::Y => "y".into(),
            Tree::Neg(a) => format!("(-{})", a.source()),
            Tree::Op(op, a, b) => format!("({} {op} {})", a.source(), b.source()),
            Tree::Call(f, a) => format!("{f}({})", a.source()),
        }
    }

    fn value(&self, x: f64, y: f64) -> f64 {
        match self {
            Tree::Number(v) => *v,
            Tree::X => x,
            Tree::Y => y,
            Tree::Neg(a) => -a.value(x, y),
            Tree::Op(op, a, b) => {
                let (a, b) = (a.value(x, y), b.value(x, y));
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    '/' => a / b,
                    _ => unreachable!("only + - * / are generated"),
                }
            }
            Tree::Call(f, a) => {
                let a = a.value(x, y);
                match *f {
                    "exp" => a.exp(),
                    "sin" => a.sin(),
                    "cos" => a.cos(),
                    "tanh" => a.tanh(),
                    "abs" => a.abs(),
                    _ => unreachable!("only these functions are generated"),
                }
            }
        }
    }
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (-100.0f64..100.0).prop_map(Tree::Number),
        Just(Tree::X),
        Just(Tree::Y),
    ];
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| Tree::Neg(Box::new(a))),
            (
                prop::sample::select(vec!['+', '-', '*', '/']),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| Tree::Op(op, Box::new(a), Box::new(b))),
            (
                prop::sample::select(vec!["exp", "sin", "cos", "tanh", "abs"]),
                inner
            )
                .prop_map(|(f, a)| Tree::Call(f, Box::new(a))),
        ]
    })
}

/// Equal to a few ulps, or both NaN.
fn agree(got: f64, want: f64) -> bool {
    got == want
        || (got.is_nan() && want.is_nan())
        || (got - want).abs() <= 1e-12 * got.abs().max(want.abs())
}

proptest! {
    #[test]
    fn well_formed_expressions_evaluate_as_written(
        t in tree(),
        x in -3.0f64..3.0,
        y in -3.0f64..3.0,
    ) {
        let source = t.source();
        let e = expr::parse(&source).unwrap();
        let got = e
            .eval(&|name| match name {
                "x" => Some(Tensor::scalar(x)),
                "y" => Some(Tensor::scalar(y)),
                _ => None,
            })
            .unwrap()
            .item::<f64>();
        let want = t.value(x, y);
        prop_assert!(agree(got, want), "{source} at x={x}, y={y}: {got} against {want}");
        // Reverse and forward mode agree on the value as well.
        let at: Vec<(&str, f64)> = e
            .variables()
            .iter()
            .map(|n| (n.as_str(), if n == "x" { x } else { y }))
            .collect();
        let values = expr::bind(&e, &at).unwrap();
        let reverse = expr::gradient(&e, &values, Mode::Reverse).unwrap();
        let forward = expr::gradient(&e, &values, Mode::Forward).unwrap();
        prop_assert!(agree(reverse.value, want) && agree(forward.value, want));
    }

    #[test]
    fn any_string_parses_or_is_a_syntax_error(source in "\\PC{0,40}") {
        if let Ok(e) = expr::parse(&source) {
            let at: Vec<(&str, f64)> = e.variables().iter().map(|n| (n.as_str(), 0.5)).collect();
            let values = expr::bind(&e, &at).unwrap();
            let _ = expr::gradient(&e, &values, Mode::Reverse);
            let _ = expr::gradient(&e, &values, Mode::Forward);
        }
    }

    #[test]
    fn strings_of_the_language_alphabet_never_panic(
        source in "[-+*/^(),.e0-9xy ]{0,40}|(exp|max|sin|relu|x|y|1|\\(|\\)|,|\\+|\\*|\\^|-){0,30}",
    ) {
        if let Ok(e) = expr::parse(&source) {
            let at: Vec<(&str, f64)> = e.variables().iter().map(|n| (n.as_str(), 1.5)).collect();
            let values = expr::bind(&e, &at).unwrap();
            if let Ok(recording) = expr::record(&e, &values) {
                let _ = recording.explain();
            }
            let _ = expr::hessian(&e, &values, Mode::Forward);
            let _ = expr::hessian(&e, &values, Mode::Reverse);
        }
    }
}
