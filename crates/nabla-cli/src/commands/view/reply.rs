//! Responses, written whole to the connection with `Connection: close`. tiny_http keeps a
//! thread of its pool on each open connection, and a browser keeps idle connections open; a
//! connection closed after each answer gives its thread back at once, so a burst of requests
//! is never left waiting on connections that stay idle. (tiny_http's own responses cannot say
//! `Connection: close`.)

use std::io::Write;

/// The page's content security policy: scripts, styles and data from this server alone
/// (styles and images may be inline: charts and graphs are drawn as SVG), nothing sent
/// elsewhere, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A response whose body is in memory.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    /// A body of `content_type`; every response is `nosniff` and sends no referrer.
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", content_type.to_string()),
                ("X-Content-Type-Options", "nosniff".to_string()),
                ("Referrer-Policy", "no-referrer".to_string()),
            ],
            body,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    /// An embedded file; a page also gets the content security policy.
    pub fn file(content_type: &str, bytes: &[u8]) -> Reply {
        let reply =
            Reply::new(200, content_type, bytes.to_vec()).with_header("Cache-Control", "no-cache");
        match content_type.starts_with("text/html") {
            true => reply.with_header("Content-Security-Policy", CSP),
            false => reply,
        }
    }

    /// A JSON body.
    pub fn json(status: u16, body: String) -> Reply {
        Reply::new(status, "application/json", body.into_bytes())
            .with_header("Cache-Control", "no-store")
    }

    /// `value` as a JSON body with status 200, or 500 naming `what` could not be written.
    pub fn serialized<T: serde::Serialize + ?Sized>(value: &T, what: &str) -> Reply {
        match serde_json::to_string(value) {
            Ok(body) => Reply::json(200, body),
            Err(e) => Reply::error(500, &format!("cannot write {what} as JSON: {e}")),
        }
    }

    /// `{"error": message}`.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, serde_json::json!({ "error": message }).to_string())
    }

    /// A line of plain text.
    pub fn text(status: u16, message: &str) -> Reply {
        Reply::new(
            status,
            "text/plain; charset=utf-8",
            format!("{message}\n").into_bytes(),
        )
    }

    /// Writes the status line, the headers and the body.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

/// The reason phrase of the statuses this server sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_written_whole_and_closes_the_connection() {
        let mut out = Vec::new();
        Reply::text(404, "not found").write_to(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(text.ends_with("Content-Length: 10\r\nConnection: close\r\n\r\nnot found\n"));
    }

    #[test]
    fn a_value_that_cannot_be_written_is_a_500_naming_it() {
        struct Broken;
        impl serde::Serialize for Broken {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no form"))
            }
        }
        let reply = Reply::serialized(&Broken, "the run list");
        assert_eq!(reply.status, 500);
        let body = String::from_utf8(reply.body).unwrap();
        assert_eq!(
            body,
            r#"{"error":"cannot write the run list as JSON: no form"}"#
        );
        assert_eq!(Reply::serialized(&[1], "a list").status, 200);
    }
}
