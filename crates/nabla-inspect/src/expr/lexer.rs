//! Splits an expression into tokens, each with the byte range it came from so errors can point
//! at its column.

use super::syntax_error;
use crate::error::Result;
use crate::format::clip;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    Number(f64),
    Ident(String),
    Plus,
    Minus,
    Star,
    Slash,
    /// `^`, or Python's `**`.
    Caret,
    LParen,
    RParen,
    Comma,
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) span: Range<usize>,
}

impl TokenKind {
    /// How the token reads in a message.
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenKind::Number(v) => format!("the number {v}"),
            TokenKind::Ident(name) => format!("`{}`", clip(name)),
            TokenKind::Plus => "`+`".into(),
            TokenKind::Minus => "`-`".into(),
            TokenKind::Star => "`*`".into(),
            TokenKind::Slash => "`/`".into(),
            TokenKind::Caret => "`^`".into(),
            TokenKind::LParen => "`(`".into(),
            TokenKind::RParen => "`)`".into(),
            TokenKind::Comma => "`,`".into(),
            TokenKind::End => "the end of the expression".into(),
        }
    }
}

/// The tokens of `source`, ending with [`TokenKind::End`].
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = source[i..].chars().next().expect("i is on a char boundary");
        let simple = match c {
            '+' => Some(TokenKind::Plus),
            '-' => Some(TokenKind::Minus),
            '*' if bytes.get(i + 1) == Some(&b'*') => {
                i += 1;
                Some(TokenKind::Caret)
            }
            '*' => Some(TokenKind::Star),
            '/' => Some(TokenKind::Slash),
            '^' => Some(TokenKind::Caret),
            '(' => Some(TokenKind::LParen),
            ')' => Some(TokenKind::RParen),
            ',' => Some(TokenKind::Comma),
            _ => None,
        };
        if let Some(kind) = simple {
            i += 1;
            tokens.push(Token {
                kind,
                span: start..i,
            });
        } else if c.is_whitespace() {
            i += c.len_utf8();
        } else if c.is_ascii_digit() || c == '.' {
            i = number_end(source, start)?;
            let text = &source[start..i];
            let value = text.parse::<f64>().map_err(|_| {
                syntax_error(source, start, format!("malformed number `{}`", clip(text)))
            })?;
            tokens.push(Token {
                kind: TokenKind::Number(value),
                span: start..i,
            });
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token {
                kind: TokenKind::Ident(source[start..i].to_string()),
                span: start..i,
            });
        } else {
            return Err(syntax_error(
                source,
                start,
                format!("unexpected character `{c}`"),
            ));
        }
    }
    tokens.push(Token {
        kind: TokenKind::End,
        span: bytes.len()..bytes.len(),
    });
    Ok(tokens)
}

/// The end of the number starting at `start`: digits, an optional fraction, an optional
/// exponent (`e`, optional sign, digits).
fn number_end(source: &str, start: usize) -> Result<usize> {
    let bytes = source.as_bytes();
    let digits = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    let whole = i > start;
    if bytes.get(i) == Some(&b'.') {
        let after = digits(i + 1);
        if !whole && after == i + 1 {
            return Err(syntax_error(
                source,
                start,
                "a `.` must be next to digits, as in 0.5 or .5".into(),
            ));
        }
        i = after;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let end = digits(j);
        if end == j {
            return Err(syntax_error(
                source,
                start,
                format!(
                    "malformed number `{}`: the exponent needs digits",
                    clip(&source[start..j])
                ),
            ));
        }
        i = end;
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn numbers_identifiers_and_operators() {
        use TokenKind::*;
        assert_eq!(
            kinds("2.5e-3*w1 ** .5-(x_2,1E2)"),
            vec![
                Number(2.5e-3),
                Star,
                Ident("w1".into()),
                Caret,
                Number(0.5),
                Minus,
                LParen,
                Ident("x_2".into()),
                Comma,
                Number(100.0),
                RParen,
                End
            ]
        );
        let tokens = tokenize("  x +1").unwrap();
        assert_eq!(tokens[0].span, 2..3);
        assert_eq!(tokens[2].span, 5..6);
        assert_eq!(tokens[3].span, 6..6);
    }

    #[test]
    fn malformed_input_names_the_column() {
        let column = |s: &str| match tokenize(s) {
            Err(crate::Error::Syntax {
                column, message, ..
            }) => (column, message),
            other => panic!("expected a syntax error, got {other:?}"),
        };
        assert_eq!(
            column("x + 1e"),
            (5, "malformed number `1e`: the exponent needs digits".into())
        );
        // Columns count characters, not bytes: the no-break space is two bytes.
        assert_eq!(
            column("\u{a0}x + $"),
            (6, "unexpected character `$`".into())
        );
        assert_eq!(column("x + é"), (5, "unexpected character `é`".into()));
        assert_eq!(
            column("2 * ."),
            (5, "a `.` must be next to digits, as in 0.5 or .5".into())
        );
    }
}
