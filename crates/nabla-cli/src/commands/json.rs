//! JSON written field by field, so objects keep the order they are given in (serde_json's maps
//! sort their keys): `nabla grad --json`, `nabla predict --json`, `nabla evaluate --json`.

use nabla_inspect::shortest;

/// A JSON number in the shortest text that reads back as the same `f64`; JSON has no NaN or
/// infinity, so those are the strings `"inf"`, `"-inf"` and `"nan"` (as Python's `float()`
/// reads them back).
pub fn number(v: f64) -> String {
    if v.is_finite() {
        shortest(v)
    } else if v.is_nan() {
        "\"nan\"".into()
    } else if v > 0.0 {
        "\"inf\"".into()
    } else {
        "\"-inf\"".into()
    }
}

/// A JSON string.
pub fn string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// `"key": value`, with `value` already JSON.
pub fn field(key: &str, value: impl AsRef<str>) -> String {
    format!("{}: {}", string(key), value.as_ref())
}

/// `{field, field, ...}` from fields made by [`field`].
pub fn object(fields: Vec<String>) -> String {
    format!("{{{}}}", fields.join(", "))
}

/// `[item, item, ...]` from items already JSON.
pub fn array(items: Vec<String>) -> String {
    format!("[{}]", items.join(", "))
}
