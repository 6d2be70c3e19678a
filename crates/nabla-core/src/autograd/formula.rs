//! What a backward rule states about itself ([`Backward::formula`]): how its output reads in
//! its inputs, and for each input either the local derivative it multiplies the upstream
//! gradient by (with the value it computes from the recorded forward values, by the same code
//! its `vjp` runs) or, for a matrix rule, the map it applies to the upstream gradient
//! (`∂L/∂A = ∂L/∂Y·Bᵀ`). Explanations and graph pictures render these with the operands' own
//! names and values, so no front end restates a derivative rule.
//!
//! [`Backward::formula`]: crate::Backward::formula
//!
//! ```
//! use nabla_core::Tensor;
//! use nabla_core::autograd::formula::{At, Local};
//! let w = Tensor::scalar(3.0f64).requires_grad();
//! let x = Tensor::scalar(2.0f64);
//! let y = &w * &x;
//! let at = At { inputs: &[w.detach(), x.clone()], output: &y.detach() };
//! let formula = y.grad_fn().unwrap().formula(Some(&at)).unwrap();
//! let names = ["w", "x"];
//! assert_eq!(formula.output.render_names(&names, "y"), "w*x");
//! let Local::Elementwise { derivative, value } = &formula.inputs[0] else { panic!() };
//! assert_eq!(derivative.render_names(&names, "y"), "x");
//! assert_eq!(value.as_ref().unwrap().item::<f64>(), 2.0);
//! ```

use crate::tensor::Tensor;

/// How tightly a piece of notation holds together, loosest first: an operand binding looser
/// than its place asks for is written in parentheses.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Binding {
    /// `a + b`, `a − b`.
    Sum,
    /// `a*b`, `a/b`, `a·b`.
    Product,
    /// `-a` (a negative number too).
    Prefix,
    /// `a^b`, `aᵀ`.
    Power,
    /// A name, a non-negative number, a call `f(a)`, anything in brackets.
    Atom,
}

/// An operand of a rule's notation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Hole {
    /// The node's input number `i`.
    Input(usize),
    /// The node's output.
    Output,
    /// The gradient of the final result with respect to the node's output (`∂L/∂Y`).
    Grad,
}

/// One piece of notation: literal text, or an operand that needs parentheses when it binds
/// looser than the given [`Binding`].
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Text(String),
    Hole(Hole, Binding),
}

/// Notation with holes for a node's operands, and how tightly the whole binds.
#[derive(Clone, Debug, PartialEq)]
pub struct Notation {
    pub terms: Vec<Term>,
    pub binding: Binding,
}

impl Notation {
    /// Notation from a template: `{0}`, `{1}`… are inputs, `{y}` the output, `{g}` the
    /// upstream gradient; a hole ending in `*` needs at least a product's binding, `-` a
    /// prefix's, `^` an atom's (else it is parenthesised), a bare hole any.
    ///
    /// ```
    /// use nabla_core::autograd::formula::{Binding, Notation};
    /// let n = Notation::parse("{0^}^2", Binding::Power);
    /// assert_eq!(n.render_names(&["a+b"], "y"), "(a+b)^2");
    /// ```
    pub fn parse(template: &str, binding: Binding) -> Notation {
        let mut terms = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                terms.push(Term::Text(rest[..open].to_string()));
            }
            let close = open + rest[open..].find('}').expect("a closed hole");
            let mut hole = &rest[open + 1..close];
            let need = match hole.chars().last() {
                Some('*') => Binding::Product,
                Some('-') => Binding::Prefix,
                Some('^') => Binding::Atom,
                _ => Binding::Sum,
            };
            if need != Binding::Sum {
                hole = &hole[..hole.len() - 1];
            }
            let hole = match hole {
                "y" => Hole::Output,
                "g" => Hole::Grad,
                i => Hole::Input(i.parse().expect("an input number")),
            };
            terms.push(Term::Hole(hole, need));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            terms.push(Term::Text(rest.to_string()));
        }
        Notation { terms, binding }
    }

    /// The notation with each hole filled by `operand(hole)`: its text and binding
    /// (parenthesised where it binds looser than its place asks).
    pub fn render(&self, operand: &dyn Fn(Hole) -> (String, Binding)) -> String {
        let mut out = String::new();
        for term in &self.terms {
            match term {
                Term::Text(text) => out.push_str(text),
                Term::Hole(hole, need) => {
                    let (text, binding) = operand(*hole);
                    if binding < *need {
                        out.push('(');
                        out.push_str(&text);
                        out.push(')');
                    } else {
                        out.push_str(&text);
                    }
                }
            }
        }
        out
    }

    /// [`Notation::render`] with inputs called `inputs` and the output `output` (each taken as
    /// binding like a sum unless it is a plain name), and the upstream gradient `∂L/∂output`
    /// (binding like a product).
    pub fn render_names(&self, inputs: &[&str], output: &str) -> String {
        let bind = |text: &str| {
            if text.chars().all(|c| c.is_alphanumeric() || c == '_') {
                Binding::Atom
            } else {
                Binding::Sum
            }
        };
        self.render(&|hole| match hole {
            Hole::Input(i) => {
                let name = inputs.get(i).copied().unwrap_or("?");
                (name.to_string(), bind(name))
            }
            Hole::Output => (output.to_string(), bind(output)),
            Hole::Grad => (format!("∂L/∂{output}"), Binding::Product),
        })
    }

    /// Whether the notation mentions `hole`.
    pub fn mentions(&self, hole: Hole) -> bool {
        self.terms
            .iter()
            .any(|t| matches!(t, Term::Hole(h, _) if *h == hole))
    }
}

/// How one input's gradient comes from the upstream gradient.
#[derive(Clone, Debug)]
pub enum Local {
    /// Element by element: the input's gradient is the upstream gradient times `derivative`
    /// (`∂output/∂input`), summed over broadcast dims down to the input's shape. `value` is the
    /// derivative at the recorded values, computed by the code the rule's `vjp` runs (`None`
    /// when no values were given).
    Elementwise {
        derivative: Notation,
        value: Option<Tensor>,
    },
    /// A linear map of the upstream gradient, stated by `gradient` (with a [`Hole::Grad`]):
    /// a matrix product, a sum, a reshape.
    Map { gradient: Notation },
    /// The input takes no gradient (indices, a condition).
    None,
}

impl Local {
    /// An elementwise derivative from a template (see [`Notation::parse`]).
    pub fn elementwise(template: &str, binding: Binding, value: Option<Tensor>) -> Local {
        Local::Elementwise {
            derivative: Notation::parse(template, binding),
            value,
        }
    }

    /// A map of the upstream gradient from a template.
    pub fn map(template: &str, binding: Binding) -> Local {
        Local::Map {
            gradient: Notation::parse(template, binding),
        }
    }
}

/// A rule stated: the output in terms of the inputs, the operation's symbol, and each input's
/// [`Local`] part of the chain rule.
#[derive(Clone, Debug)]
pub struct Formula {
    /// How the output reads in its inputs: `{0*}*{1*}`, `sigmoid({0})`.
    pub output: Notation,
    /// The operation as a graph picture draws it: `×`, `+`, `sigmoid`, `matmul`.
    pub symbol: String,
    /// One per input, in the operation's order.
    pub inputs: Vec<Local>,
}

impl Formula {
    /// A formula from templates (see [`Notation::parse`]).
    pub fn new(output: &str, binding: Binding, symbol: &str, inputs: Vec<Local>) -> Formula {
        Formula {
            output: Notation::parse(output, binding),
            symbol: symbol.to_string(),
            inputs,
        }
    }
}

/// The forward values a formula is instantiated at: the operation's inputs (constants
/// included) and its output, as recorded (an observer's `ForwardEvent` holds them). A value
/// missing from `inputs` leaves the derivative unvalued; values of other shapes than the
/// operation ran on are not supported.
#[derive(Copy, Clone)]
pub struct At<'a> {
    pub inputs: &'a [Tensor],
    pub output: &'a Tensor,
}

/// A number in notation: its shortest round-trip text; a negative one binds like a sum, so
/// an operator beside it puts it in parentheses (`2·(-3)`, `1 − (-0.5)`).
pub fn number(v: f64) -> (String, Binding) {
    let binding = if v < 0.0 { Binding::Sum } else { Binding::Atom };
    (format!("{v}"), binding)
}

/// `p` as an exponent: superscript digits for a small whole number (`x²`), else `^p`.
pub(crate) fn exponent(p: f64) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    if p.fract() == 0.0 && p.abs() < 1000.0 {
        let mut out = String::new();
        if p < 0.0 {
            out.push('⁻');
        }
        for d in format!("{}", p.abs() as u64).bytes() {
            out.push(DIGITS[(d - b'0') as usize]);
        }
        out
    } else {
        let (text, binding) = number(p);
        if binding < Binding::Atom {
            format!("^({text})")
        } else {
            format!("^{text}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parenthesise_looser_operands() {
        let n = Notation::parse("{0*}·(1 − {y*})", Binding::Product);
        let text = n.render(&|h| match h {
            Hole::Input(_) => ("a+b".into(), Binding::Sum),
            _ => number(-0.5),
        });
        assert_eq!(text, "(a+b)·(1 − (-0.5))");
        assert_eq!(exponent(2.0), "²");
        assert_eq!(exponent(-12.0), "⁻¹²");
        assert_eq!(exponent(0.5), "^0.5");
        assert_eq!(exponent(-0.5), "^(-0.5)");
        assert_eq!(number(-2.0), ("-2".to_string(), Binding::Sum));
    }
}
