//! The HTTP server: bound to 127.0.0.1 only, answering only requests addressed to it by name
//! (the `Host` check against DNS rebinding), each request on a thread of its own (at most
//! [`MAX_ACTIVE`] at once, so a slow client or an event stream never holds up another
//! request), and only `GET`, or `POST /api/grad`.

use super::assets::Asset;
use super::grad_api;
use super::routes::{self, Route};
use super::runs::Run;
use super::stream;
use crate::CliResult;
use std::io::Cursor;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tiny_http::{Header, Method, Request, Response};

/// Requests handled at once; beyond, a request is answered 503 at once.
const MAX_ACTIVE: usize = 256;

/// The page's content security policy: scripts, styles and data from this server alone
/// (styles and images may be inline: charts and graphs are drawn as SVG), nothing sent
/// elsewhere, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What a server shows: run folders, an expression for the stepper, or both.
pub struct Site {
    pub runs: Vec<Run>,
    pub grad: Option<grad_api::Start>,
}

/// Starts serving `site` on 127.0.0.1:`port` (0: a free port) on a thread of its own, and
/// returns the address it listens on. A port in use is an error saying so.
pub fn start(site: Site, port: u16) -> CliResult<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "port {port} is in use on 127.0.0.1; choose another with --port (0 picks a free \
                 one)"
            )
        } else {
            format!("cannot listen on 127.0.0.1:{port}: {e}")
        }
    })?;
    let addr = listener.local_addr()?;
    let server = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| format!("cannot serve on {addr}: {e}"))?;
    let hosts = [
        format!("127.0.0.1:{}", addr.port()),
        format!("localhost:{}", addr.port()),
        format!("[::1]:{}", addr.port()),
    ];
    let shared = Arc::new((site, hosts));
    std::thread::Builder::new()
        .name("view-server".into())
        .spawn(move || accept(server, shared))?;
    Ok(addr)
}

/// Hands each request to a thread of its own.
fn accept(server: tiny_http::Server, shared: Arc<(Site, [String; 3])>) {
    let active = Arc::new(AtomicUsize::new(0));
    for request in server.incoming_requests() {
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_ACTIVE {
            active.fetch_sub(1, Ordering::SeqCst);
            let _ = request.respond(text(503, "the server is busy; try again"));
            continue;
        }
        let (shared, done) = (shared.clone(), active.clone());
        let spawned = std::thread::Builder::new()
            .name("view-request".into())
            .spawn(move || {
                let (site, hosts) = &*shared;
                handle(request, site, hosts);
                done.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Answers one request.
fn handle(mut request: Request, site: &Site, hosts: &[String; 3]) {
    let host = header(&request, "Host");
    if !host.is_some_and(|h| hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(h))) {
        let message = format!("this server answers only requests for {}", hosts[0]);
        let _ = request.respond(text(403, &message));
        return;
    }
    let route = routes::route(request.url());
    let response = match (request.method(), route) {
        (_, Route::NotFound) => text(404, "not found"),
        (_, Route::BadQuery(message)) => json_error(400, &message),
        (Method::Get, Route::Asset(asset)) => asset_response(asset),
        (Method::Get, Route::Runs) => {
            let listing: Vec<_> = site.runs.iter().map(Run::listing).collect();
            json(200, &serde_json::to_string(&listing).unwrap_or_default())
        }
        (Method::Get, Route::Events { id, from }) => match events_from(&request, id, from, site) {
            Ok((run, from)) => {
                nudge(hosts);
                let mut out = request.into_writer();
                let _ = stream::stream(&mut out, run, from);
                return;
            }
            Err(response) => response,
        },
        (Method::Get, Route::Grad) => grad_api::start(site.grad.as_ref()),
        (Method::Post, Route::Grad) => grad_api::step(&mut request),
        (_, Route::Grad) => method_not_allowed("GET, POST"),
        (_, _) => method_not_allowed("GET"),
    };
    let _ = request.respond(response);
}

/// Opens and at once closes a connection to this server, which makes tiny_http's connection
/// pool run again. Each open connection holds one of the pool's threads (an event stream for
/// as long as it lasts), and when several connections arrive at once the pool may queue one
/// without waking a thread for it, to be taken up only when another connection ends; the
/// connection opened here ends at once, so its thread goes on to the queued ones. Called as
/// each event stream starts, so a burst of streams cannot leave one of them unanswered.
fn nudge(hosts: &[String; 3]) {
    if let Ok(addr) = hosts[0].parse::<SocketAddr>() {
        let _ = std::net::TcpStream::connect(addr);
    }
}

/// The run an event stream follows and the byte offset it starts at: `Last-Event-ID` when a
/// browser reconnects, else `?from=`, else 0.
fn events_from<'a>(
    request: &Request,
    id: usize,
    from: Option<u64>,
    site: &'a Site,
) -> Result<(&'a Run, u64), Reply> {
    let run = site
        .runs
        .get(id)
        .ok_or_else(|| json_error(404, &format!("no run {id} is served")))?;
    match header(request, "Last-Event-ID").map(str::trim) {
        Some(last) if !last.is_empty() => {
            let offset = last.parse::<u64>().map_err(|_| {
                json_error(
                    400,
                    &format!("Last-Event-ID takes a byte offset of the run's log, got `{last}`"),
                )
            })?;
            Ok((run, offset))
        }
        _ => Ok((run, from.unwrap_or(0))),
    }
}

/// A response whose body is in memory.
pub type Reply = Response<Cursor<Vec<u8>>>;

/// An embedded file with its type; a page also gets the content security policy.
fn asset_response(asset: Asset) -> Reply {
    let mut response = with_type(
        Response::from_data(asset.bytes.to_vec()),
        asset.content_type,
    )
    .with_header(header_line("Cache-Control", "no-cache"));
    if asset.content_type.starts_with("text/html") {
        response = response.with_header(header_line("Content-Security-Policy", CSP));
    }
    response
}

/// A JSON body.
pub fn json(status: u16, body: &str) -> Reply {
    with_type(
        Response::from_data(body.as_bytes().to_vec()),
        "application/json",
    )
    .with_status_code(status)
    .with_header(header_line("Cache-Control", "no-store"))
}

/// `{"error": message}`.
pub fn json_error(status: u16, message: &str) -> Reply {
    json(status, &serde_json::json!({ "error": message }).to_string())
}

/// A plain-text body.
fn text(status: u16, message: &str) -> Reply {
    with_type(
        Response::from_data(format!("{message}\n").into_bytes()),
        "text/plain; charset=utf-8",
    )
    .with_status_code(status)
}

fn method_not_allowed(allowed: &str) -> Reply {
    text(405, &format!("method not allowed (only {allowed})"))
        .with_header(header_line("Allow", allowed))
}

/// Sets the content type and the headers every response carries.
fn with_type(response: Reply, content_type: &str) -> Reply {
    response
        .with_header(header_line("Content-Type", content_type))
        .with_header(header_line("X-Content-Type-Options", "nosniff"))
        .with_header(header_line("Referrer-Policy", "no-referrer"))
}

fn header_line(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

/// The value of the request's header `name`.
fn header<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}
