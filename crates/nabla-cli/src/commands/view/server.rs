//! The HTTP server: bound to 127.0.0.1 only, answering only requests addressed to it by name
//! (the `Host` check against DNS rebinding), each request on a thread of its own (at most
//! [`MAX_ACTIVE`] at once, so a slow client or an event stream never holds up another
//! request), not to pages of other sites (`Sec-Fetch-Site`, `Origin`), and only `GET`, or
//! `POST /api/grad` of JSON.

use super::grad_api;
use super::reply::Reply;
use super::routes::{self, Route};
use super::runs::Run;
use super::stream;
use crate::CliResult;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tiny_http::{Method, Request};

/// Requests handled at once; beyond, a request is answered 503 at once.
const MAX_ACTIVE: usize = 256;

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
    ];
    let shared = Arc::new((site, hosts, addr));
    std::thread::Builder::new()
        .name("view-server".into())
        .spawn(move || accept(server, shared))?;
    Ok(addr)
}

/// Hands each request to a thread of its own.
fn accept(server: tiny_http::Server, shared: Arc<(Site, [String; 2], SocketAddr)>) {
    let active = Arc::new(AtomicUsize::new(0));
    for request in server.incoming_requests() {
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_ACTIVE {
            active.fetch_sub(1, Ordering::SeqCst);
            respond(request, Reply::text(503, "the server is busy; try again"));
            continue;
        }
        let (shared, done) = (shared.clone(), active.clone());
        let spawned = std::thread::Builder::new()
            .name("view-request".into())
            .spawn(move || {
                let (site, hosts, addr) = &*shared;
                handle(request, site, hosts, *addr);
                done.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Answers one request.
fn handle(mut request: Request, site: &Site, hosts: &[String; 2], addr: SocketAddr) {
    let host = header(&request, "Host");
    if !host.is_some_and(|h| hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(h))) {
        let message = format!("this server answers only requests for {}", hosts[0]);
        respond(request, Reply::text(403, &message));
        return;
    }
    if let Some(refusal) = cross_site(&request, hosts) {
        respond(request, Reply::text(403, &refusal));
        return;
    }
    let route = routes::route(request.url());
    let response = match (request.method(), route) {
        (_, Route::NotFound) => Reply::text(404, "not found"),
        (_, Route::BadQuery(message)) => Reply::error(400, &message),
        (Method::Get, Route::Asset(asset)) => Reply::file(asset.content_type, asset.bytes),
        (Method::Get, Route::Runs) => {
            let listing: Vec<_> = site.runs.iter().map(Run::listing).collect();
            Reply::serialized(&listing, "the run list")
        }
        (Method::Get, Route::Events { id, from }) => match events_from(&request, id, from, site) {
            Ok((run, from)) => {
                nudge(addr);
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
    respond(request, response);
}

/// Why a request sent by a page of another site is refused, if it is one: a browser says so
/// in `Sec-Fetch-Site` (anything but `same-origin`, or `none` for an address typed in), and
/// names the page's origin in `Origin`, which must be this server's. A page elsewhere can
/// still send a request to 127.0.0.1 (a form's `POST`, an `EventSource`); this keeps it from
/// being answered.
fn cross_site(request: &Request, hosts: &[String; 2]) -> Option<String> {
    if let Some(site) = header(request, "Sec-Fetch-Site")
        && !matches!(site.trim(), "same-origin" | "none")
    {
        return Some(format!(
            "requests from other sites are refused (Sec-Fetch-Site: {site})"
        ));
    }
    let origin = header(request, "Origin")?;
    let ours = hosts.iter().any(|host| {
        origin
            .trim()
            .strip_prefix("http://")
            .is_some_and(|o| o.eq_ignore_ascii_case(host))
    });
    (!ours).then(|| {
        format!(
            "requests from other sites are refused (Origin: {origin}; this server is http://{})",
            hosts[0]
        )
    })
}

/// Writes `reply` to the request's connection (see [`Reply`] for why tiny_http's own
/// responses are not used).
fn respond(request: Request, reply: Reply) {
    let mut out = request.into_writer();
    let _ = reply.write_to(&mut out);
}

fn method_not_allowed(allowed: &str) -> Reply {
    Reply::text(405, &format!("method not allowed (only {allowed})")).with_header("Allow", allowed)
}

/// Opens and at once closes a connection to this server, which makes tiny_http's connection
/// pool run again. Each open connection holds one of the pool's threads (an event stream for
/// as long as it lasts), and when several connections arrive at once the pool may queue one
/// without waking a thread for it, to be taken up only when another connection ends; the
/// connection opened here ends at once, so its thread goes on to the queued ones. Called as
/// each event stream starts, so a burst of streams cannot leave one of them unanswered.
///
/// An event stream's connection has no write timeout: tiny_http does not hand out its socket,
/// so a client that stops reading holds its thread (one of [`MAX_ACTIVE`]) until the
/// operating system gives up on the connection.
fn nudge(addr: SocketAddr) {
    let _ = std::net::TcpStream::connect(addr);
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
        .ok_or_else(|| Reply::error(404, &format!("no run {id} is served")))?;
    match header(request, "Last-Event-ID").map(str::trim) {
        Some(last) if !last.is_empty() => {
            let offset = last.parse::<u64>().map_err(|_| {
                Reply::error(
                    400,
                    &format!("Last-Event-ID takes a byte offset of the run's log, got `{last}`"),
                )
            })?;
            Ok((run, offset))
        }
        _ => Ok((run, from.unwrap_or(0))),
    }
}

/// The value of the request's header `name`.
pub(super) fn header<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}
