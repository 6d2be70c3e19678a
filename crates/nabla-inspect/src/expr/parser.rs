//! A Pratt parser: each operator has a left and a right binding power, which gives Python's
//! precedence (`-x^2 = -(x^2)`, `2^-1 = 0.5`) and associativity (`2^3^2 = 2^9`) in one loop.

use super::lexer::{Token, TokenKind, tokenize};
use super::{Ast, AstKind, BinaryOp, Expr, FUNCTIONS, syntax_error};
use crate::error::{Error, Result};
use crate::format::clip;
use std::collections::HashSet;

/// Deepest nesting accepted, in parentheses, calls, unary signs and powers alike; a run of
/// `+ -` or of `* /` is one level however long.
const MAX_DEPTH: usize = 200;
/// The binding power of unary minus: looser than `^`, tighter than `*`.
const UNARY: u8 = 5;

/// Parses an expression (see the [module docs](super) for the grammar).
///
/// ```
/// use nabla_inspect::expr;
/// assert_eq!(expr::parse("x*exp(-y)").unwrap().variables(), ["x", "y"]);
/// let error = expr::parse("(x+1").unwrap_err().to_string();
/// assert!(error.starts_with("syntax error at column 5: expected `)` to close the `(` at column 1"));
/// ```
pub fn parse(source: &str) -> Result<Expr> {
    let mut parser = Parser {
        source,
        tokens: tokenize(source)?,
        pos: 0,
        depth: 0,
    };
    let root = parser.expression(0)?;
    let next = parser.peek();
    if next.kind != TokenKind::End {
        let message = match next.kind {
            TokenKind::RParen => "unmatched `)`".to_string(),
            ref other => format!(
                "unexpected {} after a complete expression (is an operator missing?)",
                other.describe()
            ),
        };
        return Err(syntax_error(source, next.span.start, message));
    }
    let mut variables = Vec::new();
    collect_variables(&root, &mut HashSet::new(), &mut variables);
    Ok(Expr {
        source: source.to_string(),
        root,
        variables,
    })
}

fn collect_variables<'a>(ast: &'a Ast, seen: &mut HashSet<&'a str>, out: &mut Vec<String>) {
    match &ast.kind {
        AstKind::Number(_) => {}
        AstKind::Variable(name) => {
            if seen.insert(name) {
                out.push(name.clone());
            }
        }
        AstKind::Neg(operand) => collect_variables(operand, seen, out),
        AstKind::Binary(_, lhs, rhs) => {
            collect_variables(lhs, seen, out);
            collect_variables(rhs, seen, out);
        }
        AstKind::Chain(first, rest) => {
            collect_variables(first, seen, out);
            for (_, operand) in rest {
                collect_variables(operand, seen, out);
            }
        }
        AstKind::Call(_, args) => args.iter().for_each(|a| collect_variables(a, seen, out)),
    }
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if token.kind != TokenKind::End {
            self.pos += 1;
        }
        token
    }

    fn error(&self, at: usize, message: String) -> Error {
        syntax_error(self.source, at, message)
    }

    fn too_deep(&self, at: usize) -> Error {
        self.error(
            at,
            format!("the expression nests deeper than {MAX_DEPTH} levels"),
        )
    }

    /// A node over `children`, refused when it would make the tree too deep.
    fn node(&self, kind: AstKind, span: std::ops::Range<usize>, at: usize) -> Result<Ast> {
        let children: Vec<&Ast> = match &kind {
            AstKind::Neg(operand) => vec![operand],
            AstKind::Binary(_, lhs, rhs) => vec![lhs, rhs],
            AstKind::Chain(first, rest) => std::iter::once(&**first)
                .chain(rest.iter().map(|(_, a)| a))
                .collect(),
            AstKind::Call(_, args) => args.iter().collect(),
            AstKind::Number(_) | AstKind::Variable(_) => Vec::new(),
        };
        let height = children.iter().map(|c| c.height + 1).max().unwrap_or(0);
        if height > MAX_DEPTH {
            return Err(self.too_deep(at));
        }
        let has_variables =
            matches!(kind, AstKind::Variable(_)) || children.iter().any(|c| c.has_variables);
        Ok(Ast {
            kind,
            span,
            has_variables,
            height,
        })
    }

    /// Operands joined by operators that bind at least as tightly as `min_power`.
    fn expression(&mut self, min_power: u8) -> Result<Ast> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep(self.peek().span.start));
        }
        let mut lhs = self.prefix()?;
        // Whether `lhs` is a chain this loop built (a parenthesised one is an operand).
        let mut chain_open = false;
        loop {
            let token = self.peek();
            let (op, left, right) = match token.kind {
                TokenKind::Plus => (BinaryOp::Add, 1, 2),
                TokenKind::Minus => (BinaryOp::Sub, 1, 2),
                TokenKind::Star => (BinaryOp::Mul, 3, 4),
                TokenKind::Slash => (BinaryOp::Div, 3, 4),
                // Right-associative: the right side binds less tightly than the left.
                TokenKind::Caret => (BinaryOp::Pow, 7, 6),
                _ => break,
            };
            if left < min_power {
                break;
            }
            let at = token.span.start;
            self.next();
            let rhs = self.expression(right)?;
            let span = lhs.span.start..rhs.span.end;
            lhs = match lhs.kind {
                AstKind::Chain(first, mut rest) if chain_open && rest[0].0.chains_with(op) => {
                    // One more operand: the chain's height and flag take its, in O(1).
                    let height = lhs.height.max(rhs.height + 1);
                    if height > MAX_DEPTH {
                        return Err(self.too_deep(at));
                    }
                    let has_variables = lhs.has_variables || rhs.has_variables;
                    rest.push((op, rhs));
                    Ast {
                        kind: AstKind::Chain(first, rest),
                        span,
                        has_variables,
                        height,
                    }
                }
                kind if op == BinaryOp::Pow => {
                    let lhs = Ast { kind, ..lhs };
                    self.node(AstKind::Binary(op, Box::new(lhs), Box::new(rhs)), span, at)?
                }
                kind => {
                    let lhs = Ast { kind, ..lhs };
                    self.node(AstKind::Chain(Box::new(lhs), vec![(op, rhs)]), span, at)?
                }
            };
            chain_open = op != BinaryOp::Pow;
        }
        self.depth -= 1;
        Ok(lhs)
    }

    /// A number, variable, call, parenthesised expression, or a unary sign and its operand.
    fn prefix(&mut self) -> Result<Ast> {
        let token = self.next();
        let start = token.span.start;
        match token.kind {
            TokenKind::Number(v) => self.node(AstKind::Number(v), token.span, start),
            TokenKind::Minus => {
                let operand = self.expression(UNARY)?;
                let span = start..operand.span.end;
                self.node(AstKind::Neg(Box::new(operand)), span, start)
            }
            TokenKind::Plus => self.expression(UNARY),
            TokenKind::LParen => {
                let mut inner = self.expression(0)?;
                inner.span = start..self.close(start)?;
                Ok(inner)
            }
            TokenKind::Ident(name) => {
                let function = FUNCTIONS.iter().find(|(_, n, _)| *n == name);
                if self.peek().kind == TokenKind::LParen {
                    let Some(&(function, _, arity)) = function else {
                        let names: Vec<&str> = FUNCTIONS.iter().map(|(_, n, _)| *n).collect();
                        return Err(self.error(
                            start,
                            format!(
                                "unknown function `{}`; the functions are {}",
                                clip(&name),
                                names.join(", ")
                            ),
                        ));
                    };
                    let open = self.next().span.start;
                    let mut args = vec![self.expression(0)?];
                    while self.peek().kind == TokenKind::Comma {
                        self.next();
                        args.push(self.expression(0)?);
                    }
                    let end = self.close(open)?;
                    if args.len() != arity {
                        return Err(self.error(
                            start,
                            format!(
                                "`{name}` takes {arity} argument{}, found {}",
                                if arity == 1 { "" } else { "s" },
                                args.len()
                            ),
                        ));
                    }
                    self.node(AstKind::Call(function, args), start..end, start)
                } else if function.is_some() {
                    Err(self.error(
                        start,
                        format!("`{name}` is a function: call it as {name}(...)"),
                    ))
                } else {
                    self.node(AstKind::Variable(name), token.span, start)
                }
            }
            other => Err(self.error(
                start,
                format!(
                    "expected a number, a variable, a function call or `(`, found {}",
                    other.describe()
                ),
            )),
        }
    }

    /// Consumes the `)` matching the `(` at byte `open`; returns the end of the `)`.
    fn close(&mut self, open: usize) -> Result<usize> {
        let token = self.next();
        if token.kind == TokenKind::RParen {
            return Ok(token.span.end);
        }
        let column = self.source[..open].chars().count() + 1;
        Err(self.error(
            token.span.start,
            format!(
                "expected `)` to close the `(` at column {column}, found {}",
                token.kind.describe()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(op: BinaryOp) -> &'static str {
        match op {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "^",
        }
    }

    /// The tree written with every operation parenthesised.
    fn shape(source: &str) -> String {
        fn show(ast: &Ast) -> String {
            match &ast.kind {
                AstKind::Number(v) => format!("{v}"),
                AstKind::Variable(n) => n.clone(),
                AstKind::Neg(o) => format!("(-{})", show(o)),
                AstKind::Binary(op, l, r) => format!("({}{}{})", show(l), symbol(*op), show(r)),
                AstKind::Chain(first, rest) => {
                    let mut text = show(first);
                    for (op, operand) in rest {
                        text = format!("({text}{}{})", symbol(*op), show(operand));
                    }
                    text
                }
                AstKind::Call(f, args) => {
                    let name = FUNCTIONS.iter().find(|(g, _, _)| g == f).unwrap().1;
                    let args: Vec<String> = args.iter().map(show).collect();
                    format!("{name}({})", args.join(","))
                }
            }
        }
        show(&parse(source).unwrap().root)
    }

    #[test]
    fn precedence_and_associativity_follow_python() {
        assert_eq!(shape("-x^2"), "(-(x^2))");
        assert_eq!(shape("2^3^2"), "(2^(3^2))");
        assert_eq!(shape("2^-3*4"), "((2^(-3))*4)");
        assert_eq!(shape("a-b-c"), "((a-b)-c)");
        assert_eq!(shape("a/b*c"), "((a/b)*c)");
        assert_eq!(shape("-a*b"), "((-a)*b)");
        assert_eq!(shape("a+b*c^d"), "(a+(b*(c^d)))");
        assert_eq!(shape("x**2"), "(x^2)");
        assert_eq!(shape("+x - -y"), "(x-(-y))");
        assert_eq!(
            shape("max(a, b*2) + sigmoid((x))"),
            "(max(a,(b*2))+sigmoid(x))"
        );
    }

    #[test]
    fn spans_and_variables() {
        let e = parse("(w*x + b - 5)^2").unwrap();
        assert_eq!(e.variables(), ["w", "x", "b"]);
        assert_eq!(&e.source()[e.root.span.clone()], "(w*x + b - 5)^2");
        let AstKind::Binary(_, base, exponent) = &e.root.kind else {
            panic!("expected a power");
        };
        assert_eq!(&e.source()[base.span.clone()], "(w*x + b - 5)");
        assert!(base.has_variables && !exponent.has_variables);
    }

    fn error(source: &str) -> (usize, String) {
        match parse(source) {
            Err(Error::Syntax {
                column, message, ..
            }) => (column, message),
            other => panic!("expected a syntax error for {source:?}, got {other:?}"),
        }
    }

    #[test]
    fn errors_point_at_the_column() {
        assert_eq!(
            error("(w*x+"),
            (
                6,
                "expected a number, a variable, a function call or `(`, found the end of the expression"
                    .into()
            )
        );
        assert_eq!(
            error("x + )"),
            (
                5,
                "expected a number, a variable, a function call or `(`, found `)`".into()
            )
        );
        assert_eq!(
            error("2 x"),
            (
                3,
                "unexpected `x` after a complete expression (is an operator missing?)".into()
            )
        );
        assert_eq!(error("x)"), (2, "unmatched `)`".into()));
        assert_eq!(
            error("max(x, (y"),
            (
                10,
                "expected `)` to close the `(` at column 8, found the end of the expression".into()
            )
        );
        assert_eq!(error("1 + foo(x)"), (5, "unknown function `foo`; the functions are exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, max, min".into()));
        assert_eq!(
            error("max(x)"),
            (1, "`max` takes 2 arguments, found 1".into())
        );
        assert_eq!(
            error("exp(x, y)"),
            (1, "`exp` takes 1 argument, found 2".into())
        );
        assert_eq!(
            error("2*exp"),
            (3, "`exp` is a function: call it as exp(...)".into())
        );
        assert_eq!(error(""), (1, "expected a number, a variable, a function call or `(`, found the end of the expression".into()));
    }

    #[test]
    fn nesting_is_bounded_without_overflowing_the_stack() {
        let deep = format!("{}x{}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(
            error(&deep).1,
            "the expression nests deeper than 200 levels"
        );
        // A flat run of one precedence is one level however long.
        let long = vec!["x"; 5000].join("+");
        assert_eq!(parse(&long).unwrap().root.height, 1);
        assert_eq!(shape("a-b+c*d/e-f"), "(((a-b)+((c*d)/e))-f)");
        assert_eq!(shape("(a+b)+c"), "((a+b)+c)");
        assert!(parse(&vec!["x"; 150].join("^")).is_ok());
    }

    #[test]
    fn syntax_errors_display_a_caret_under_the_column() {
        let message = parse("x * (y +)").unwrap_err().to_string();
        assert_eq!(
            message,
            "syntax error at column 9: expected a number, a variable, a function call or `(`, found `)`\n  x * (y +)\n          ^"
        );
    }
}
