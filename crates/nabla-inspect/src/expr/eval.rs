//! Evaluation: an [`Expr`] becomes nabla operations on tensors, so running it records a graph
//! (or carries tangents) like any other nabla code.

use super::{Ast, AstKind, BinaryOp, Expr, Function};
use crate::error::{Error, Result};
use nabla_core::Tensor;

impl Expr {
    /// Builds the expression on tensors, asking `value_of` for each variable's tensor. Constants
    /// are 0-d `f64` tensors outside the graph.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_inspect::expr;
    /// let e = expr::parse("x^2 + 2^x").unwrap();
    /// let x = Tensor::scalar(3.0f64).requires_grad();
    /// let y = e.eval(&|_| Some(x.clone())).unwrap();
    /// y.backward();
    /// assert_eq!(y.item::<f64>(), 17.0);
    /// assert!((x.grad().unwrap().item::<f64>() - (6.0 + 8.0 * 2f64.ln())).abs() < 1e-12);
    /// ```
    pub fn eval(&self, value_of: &dyn Fn(&str) -> Option<Tensor>) -> Result<Tensor> {
        self.eval_visiting(value_of, &mut |_, _| {})
    }

    /// Like [`Expr::eval`], also calling `visit` with the source text and result of every
    /// operation (not of bare numbers and variables), innermost first.
    pub fn eval_visiting(
        &self,
        value_of: &dyn Fn(&str) -> Option<Tensor>,
        visit: &mut dyn FnMut(&str, &Tensor),
    ) -> Result<Tensor> {
        let mut evaluator = Evaluator {
            source: &self.source,
            value_of,
            visit,
        };
        evaluator.eval(&self.root)
    }
}

struct Evaluator<'a> {
    source: &'a str,
    value_of: &'a dyn Fn(&str) -> Option<Tensor>,
    visit: &'a mut dyn FnMut(&str, &Tensor),
}

impl Evaluator<'_> {
    fn eval(&mut self, ast: &Ast) -> Result<Tensor> {
        let result = match &ast.kind {
            AstKind::Number(v) => return Ok(Tensor::scalar(*v)),
            AstKind::Variable(name) => {
                return (self.value_of)(name).ok_or_else(|| Error::Unbound { name: name.clone() });
            }
            AstKind::Neg(operand) => self.eval(operand)?.try_neg()?,
            AstKind::Binary(BinaryOp::Pow, base, exponent) if !exponent.has_variables => {
                let p = self.eval(exponent)?.try_item::<f64>()?;
                self.eval(base)?.powf(p)
            }
            AstKind::Binary(op, lhs, rhs) => {
                let (a, b) = (self.eval(lhs)?, self.eval(rhs)?);
                apply(*op, &a, &b)?
            }
            AstKind::Chain(first, rest) => {
                // A loop, not recursion: each partial result is visited with its text.
                let mut acc = self.eval(first)?;
                for (i, (op, operand)) in rest.iter().enumerate() {
                    acc = apply(*op, &acc, &self.eval(operand)?)?;
                    if i + 1 < rest.len() {
                        let text = &self.source[first.span.start..operand.span.end];
                        (self.visit)(without_parens(text), &acc);
                    }
                }
                acc
            }
            AstKind::Call(function, args) => {
                let x = self.eval(&args[0])?;
                match function {
                    Function::Exp => x.try_exp()?,
                    Function::Log => x.try_log()?,
                    Function::Sqrt => x.try_sqrt()?,
                    Function::Abs => x.try_abs()?,
                    Function::Sin => x.try_sin()?,
                    Function::Cos => x.try_cos()?,
                    Function::Tanh => x.try_tanh()?,
                    Function::Sigmoid => x.try_sigmoid()?,
                    Function::Relu => x.try_relu()?,
                    Function::Max => x.try_maximum(&self.eval(&args[1])?)?,
                    Function::Min => x.try_minimum(&self.eval(&args[1])?)?,
                }
            }
        };
        (self.visit)(without_parens(&self.source[ast.span.clone()]), &result);
        Ok(result)
    }
}

fn apply(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(match op {
        BinaryOp::Add => a.try_add(b)?,
        BinaryOp::Sub => a.try_sub(b)?,
        BinaryOp::Mul => a.try_mul(b)?,
        BinaryOp::Div => a.try_div(b)?,
        BinaryOp::Pow => a.try_pow(b)?,
    })
}

/// `text` without parentheses around all of it: `(a+b)` → `a+b`, but `(a)+(b)` stays.
fn without_parens(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
        return text;
    };
    let mut depth = 0usize;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return text,
            ')' => depth -= 1,
            _ => {}
        }
    }
    without_parens(inner.trim())
}

#[cfg(test)]
mod tests {
    use crate::expr::parse;
    use nabla_core::Tensor;

    fn value(source: &str, x: f64) -> f64 {
        parse(source)
            .unwrap()
            .eval(&|_| Some(Tensor::scalar(x)))
            .unwrap()
            .item::<f64>()
    }

    #[test]
    fn every_construct_evaluates() {
        assert_eq!(value("-x^2", 3.0), -9.0);
        assert_eq!(value("2^3^2", 0.0), 512.0);
        assert_eq!(value("2^-1", 0.0), 0.5);
        assert_eq!(value("x/4 - 1e1 + .5", 2.0), -9.0);
        assert_eq!(value("max(x, 1) + min(x, 1)", 3.0), 4.0);
        assert_eq!(value("relu(x) + abs(x)", -2.0), 2.0);
        assert!((value("exp(log(x)) * sqrt(x^2)", 2.5) - 6.25).abs() < 1e-14);
        assert_eq!(value("sigmoid(x) + tanh(x)", 0.0), 0.5);
        assert!((value("sin(x)^2 + cos(x)^2", 1.2) - 1.0).abs() < 1e-15);
        assert_eq!(value("x^x", 2.0), 4.0);
    }

    #[test]
    fn constant_exponents_use_powf_and_variable_ones_pow() {
        let x = Tensor::scalar(2.0f64).requires_grad();
        let node = |source: &str| {
            let y = parse(source).unwrap().eval(&|_| Some(x.clone())).unwrap();
            (
                y.grad_fn().unwrap().name(),
                y.grad_fn().unwrap().next_functions().len(),
            )
        };
        assert_eq!(node("x^(1+1)"), ("PowBackward", 1));
        assert_eq!(node("x^x"), ("PowBackward", 2));
        assert_eq!(node("3^x"), ("PowBackward", 2));
    }

    #[test]
    fn unbound_variables_are_named_and_operations_visited() {
        let e = parse("a*b + 1").unwrap();
        let error = e
            .eval(&|n| (n == "a").then(|| Tensor::scalar(1.0f64)))
            .unwrap_err();
        assert_eq!(error.to_string(), "no value for the variable `b`");
        let mut seen = Vec::new();
        e.eval_visiting(&|_| Some(Tensor::scalar(2.0f64)), &mut |text, t| {
            seen.push((text.to_string(), t.item::<f64>()))
        })
        .unwrap();
        assert_eq!(
            seen,
            [("a*b".to_string(), 4.0), ("a*b + 1".to_string(), 5.0)]
        );
        let mut texts = Vec::new();
        parse("((a+1))*(a)+(a-1)")
            .unwrap()
            .eval_visiting(&|_| Some(Tensor::scalar(2.0f64)), &mut |text, _| {
                texts.push(text.to_string())
            })
            .unwrap();
        assert_eq!(texts, ["a+1", "((a+1))*(a)", "a-1", "((a+1))*(a)+(a-1)"]);
    }
}
