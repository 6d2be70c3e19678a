//! What a request's target names. A path is decoded once and refused (as not found) when it
//! holds anything a file path could climb or escape with: a `.` or `..` segment, an empty
//! segment, a backslash, a NUL, an encoded `/` or `\`, or a malformed `%` escape. Only names
//! of the embedded table and the fixed API paths are ever answered, so no path reaches the
//! file system.

use super::assets::{self, Asset};

/// A request's target, resolved.
#[derive(Debug)]
pub enum Route {
    /// An embedded file: `/` (the run page), `/grad` (the stepper) or `/static/<name>`.
    Asset(Asset),
    /// `GET /api/runs`.
    Runs,
    /// `GET /api/runs/<id>/events`, from the byte offset `?from=` gives (or the start).
    Events { id: usize, from: Option<u64> },
    /// `GET` or `POST /api/grad`.
    Grad,
    /// Anything else, including every refused path.
    NotFound,
    /// A known path with a malformed query: the message says what is wrong.
    BadQuery(String),
}

/// The route of a request target (`/static/app.js`, `/api/runs/0/events?from=120`).
pub fn route(target: &str) -> Route {
    let (raw_path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(path) = clean_path(raw_path) else {
        return Route::NotFound;
    };
    let page = |name: &str| assets::get(name).map_or(Route::NotFound, Route::Asset);
    match path.as_str() {
        "/" | "/index.html" => return page("index.html"),
        "/grad" => return page("grad.html"),
        "/api/runs" => return Route::Runs,
        "/api/grad" => return Route::Grad,
        _ => {}
    }
    if let Some(name) = path.strip_prefix("/static/") {
        return page(name);
    }
    let events = path
        .strip_prefix("/api/runs/")
        .and_then(|rest| rest.strip_suffix("/events"))
        .and_then(|id| id.parse::<usize>().ok().filter(|_| is_decimal(id)));
    match events {
        Some(id) => match from_offset(query) {
            Ok(from) => Route::Events { id, from },
            Err(message) => Route::BadQuery(message),
        },
        None => Route::NotFound,
    }
}

/// The `from=` byte offset of a query string, if it has one.
fn from_offset(query: &str) -> Result<Option<u64>, String> {
    let mut from = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some(value) = pair.strip_prefix("from=") {
            let offset = value
                .parse::<u64>()
                .ok()
                .filter(|_| is_decimal(value))
                .ok_or_else(|| {
                    format!("?from= takes a byte offset of events.jsonl, got `{value}`")
                })?;
            from = Some(offset);
        }
    }
    Ok(from)
}

/// Digits only: no sign, no space.
fn is_decimal(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The decoded path, or `None` when it is refused (see the module's documentation).
fn clean_path(raw: &str) -> Option<String> {
    if !raw.starts_with('/') {
        return None;
    }
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            let byte = u8::from_str_radix(hex, 16).ok()?;
            if matches!(byte, b'/' | b'\\') {
                return None;
            }
            decoded.push(byte);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let path = String::from_utf8(decoded).ok()?;
    if path.contains(['\\', '\0']) {
        return None;
    }
    if path == "/" {
        return Some(path);
    }
    let climbs = path[1..]
        .split('/')
        .any(|segment| matches!(segment, "" | "." | ".."));
    (!climbs).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_api_and_static_files() {
        assert!(matches!(route("/"), Route::Asset(_)));
        assert!(matches!(route("/static/index.html"), Route::Asset(_)));
        assert!(matches!(route("/api/runs"), Route::Runs));
        assert!(matches!(route("/api/grad"), Route::Grad));
        assert!(matches!(
            route("/api/runs/3/events"),
            Route::Events { id: 3, from: None }
        ));
        assert!(matches!(
            route("/api/runs/0/events?from=120"),
            Route::Events {
                id: 0,
                from: Some(120)
            }
        ));
        assert!(matches!(
            route("/api/runs/0/events?from=-1"),
            Route::BadQuery(_)
        ));
        assert!(matches!(route("/api/runs/+1/events"), Route::NotFound));
    }

    #[test]
    fn climbing_and_encoded_paths_are_refused() {
        for target in [
            "/static/../Cargo.toml",
            "/static/%2e%2e/Cargo.toml",
            "/static/%2E%2E%2fCargo.toml",
            "/static/..%5cCargo.toml",
            "/static\\..\\Cargo.toml",
            "/static//etc/passwd",
            "/static/./index.html",
            "/static/%00",
            "/static/%zz",
            "/static/%2",
            "//etc/passwd",
            "static/index.html",
            "/etc/passwd",
            "/static/index.html/..",
        ] {
            assert!(matches!(route(target), Route::NotFound), "{target}");
        }
    }
}
