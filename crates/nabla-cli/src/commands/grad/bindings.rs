//! The `--at` values: `NAME=VALUE` pairs separated by commas, in one or several flags.

use crate::CliResult;
use nabla_inspect::clip;

/// The pairs of every `--at` flag, in order; a name given twice is an error.
pub(super) fn parse(flags: &[String]) -> CliResult<Vec<(String, f64)>> {
    let mut pairs: Vec<(String, f64)> = Vec::new();
    for part in flags.iter().flat_map(|f| f.split(',')) {
        let part = part.trim();
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("--at: `{}` is not NAME=VALUE", clip(part)).into());
        };
        let (name, value) = (name.trim(), value.trim());
        let mut chars = name.chars();
        let is_name = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_name {
            return Err(format!("--at: `{}` is not a variable name", clip(name)).into());
        }
        let value: f64 = value.parse().map_err(|_| {
            format!(
                "--at: the value of {}, `{}`, is not a number",
                clip(name),
                clip(value)
            )
        })?;
        if pairs.iter().any(|(n, _)| n == name) {
            return Err(format!("--at: {} is given twice", clip(name)).into());
        }
        pairs.push((name.to_string(), value));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pairs_from_one_or_several_flags() {
        let pairs = parse(&flags(&["x=2, w = -3e-1", "b=1"])).unwrap();
        assert_eq!(
            pairs,
            [("x".into(), 2.0), ("w".into(), -0.3), ("b".into(), 1.0)]
        );
        assert!(parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn malformed_pairs_are_named() {
        let error = |list: &[&str]| parse(&flags(list)).unwrap_err().to_string();
        assert_eq!(error(&["x=1,,y=2"]), "--at: `` is not NAME=VALUE");
        assert_eq!(error(&["x2"]), "--at: `x2` is not NAME=VALUE");
        assert_eq!(error(&["2x=1"]), "--at: `2x` is not a variable name");
        assert_eq!(
            error(&["x=abc"]),
            "--at: the value of x, `abc`, is not a number"
        );
        assert_eq!(error(&["x=1", "x=2"]), "--at: x is given twice");
    }
}
