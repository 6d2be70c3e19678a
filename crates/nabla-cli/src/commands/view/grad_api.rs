//! `/api/grad`: the expression `nabla grad --view` was started with (`GET`), and the stepper's
//! data for an expression and values the page sends (`POST`).

use super::reply::Reply;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::io::Read;
use tiny_http::Request;

/// Largest request body accepted: an expression and its values are a few hundred bytes.
pub const MAX_BODY: usize = 64 << 10;

/// An expression and the values of its variables, in the order given.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Start {
    pub expression: String,
    #[serde(default, deserialize_with = "in_order")]
    pub at: Vec<(String, f64)>,
}

impl Serialize for Start {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Values<'a>(&'a [(String, f64)]);
        impl Serialize for Values<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("expression", &self.expression)?;
        map.serialize_entry("at", &Values(&self.at))?;
        map.end()
    }
}

/// A JSON object of numbers as `(name, value)` pairs in the object's order.
fn in_order<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<(String, f64)>, D::Error> {
    struct Pairs;
    impl<'de> Visitor<'de> for Pairs {
        type Value = Vec<(String, f64)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of numbers, {\"name\": value, ...}")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = map.next_entry::<String, f64>()? {
                pairs.push(pair);
            }
            Ok(pairs)
        }
    }
    deserializer.deserialize_map(Pairs)
}

/// `GET /api/grad`: the expression being served, or 404 when none is.
pub fn start(grad: Option<&Start>) -> Reply {
    match grad {
        Some(start) => Reply::serialized(start, "the expression"),
        None => Reply::error(
            404,
            "this server shows runs, not an expression (start it with nabla grad EXPR --at ... \
             --view)",
        ),
    }
}

/// `POST /api/grad`: the stepper's data for the body's expression and values, 400 with the
/// message `nabla grad` gives for a bad one, 413 for a body over [`MAX_BODY`], 415 for one
/// not sent as `application/json` (which a page of another site cannot send without asking).
pub fn step(request: &mut Request) -> Reply {
    let content_type = super::server::header(request, "Content-Type");
    let json = content_type.is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json {
        return Reply::error(
            415,
            &format!(
                "the body must be sent as Content-Type: application/json (got {})",
                content_type.unwrap_or("none")
            ),
        );
    }
    if request.body_length().is_some_and(|n| n > MAX_BODY) {
        return too_large();
    }
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body);
    if let Err(e) = read {
        return Reply::error(400, &format!("cannot read the request body: {e}"));
    }
    if body.len() > MAX_BODY {
        return too_large();
    }
    let asked: Start = match serde_json::from_slice(&body) {
        Ok(asked) => asked,
        Err(e) => {
            return Reply::error(
                400,
                &format!(
                    "the body must be {{\"expression\": \"...\", \"at\": {{\"name\": value, \
                     ...}}}}: {e}"
                ),
            );
        }
    };
    stepper(&asked)
}

fn too_large() -> Reply {
    Reply::error(
        413,
        &format!("the request body is over {} KiB", MAX_BODY >> 10),
    )
}

/// The stepper's data, computed by nabla-inspect; a bad expression or value is a 400 with the
/// message `nabla grad` gives for it.
fn stepper(asked: &Start) -> Reply {
    match nabla_inspect::expr::stepper(&asked.expression, &asked.at) {
        Ok(stepper) => Reply::serialized(&stepper, "the stepper's data"),
        Err(e) => Reply::error(400, &e.to_string()),
    }
}
