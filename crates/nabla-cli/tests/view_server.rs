//! `nabla view`: the server's own guarantees, over real HTTP on loopback: it binds 127.0.0.1
//! only, refuses other hosts and climbing paths, streams a run's log as server-sent events
//! (complete lines only, resumable, live), reports a deleted run folder, answers many page
//! loads at once, and refuses bad folders and a busy port with one readable line.

mod common;

use common::TempDir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUN_EVENT: &str = r#"{"type":"run","format":1,"name":"train-1","started":1.5,"task":"classification","epochs":2,"steps_per_epoch":1,"batch_size":4,"vanishing_below":1e-7,"exploding_above":1e3,"gradient_alarm":"first_over_last","config":{}}"#;
const EPOCH_1: &str =
    r#"{"type":"epoch","epoch":1,"lr":0.1,"train_loss":0.5,"seconds":1,"samples_per_second":4}"#;
const EPOCH_2: &str =
    r#"{"type":"epoch","epoch":2,"lr":0.1,"train_loss":0.25,"seconds":1,"samples_per_second":4}"#;

/// A running `nabla view`, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `nabla view` with `args` and reads the address it prints.
fn serve(args: &[&str]) -> Server {
    let (server, _) = start(&[&["view"], args].concat());
    server
}

/// Starts `nabla` with `args`, reads its output up to the line that gives the address it
/// serves at, and returns the server and the rest of its output.
fn start(args: &[&str]) -> (Server, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let url = loop {
        let mut line = String::new();
        assert_ne!(
            output.read_line(&mut line).unwrap(),
            0,
            "no address in {printed:?}"
        );
        printed.push_str(&line);
        if line.starts_with("viewing ") {
            break line
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .unwrap_or_else(|| panic!("no address in {line:?}"))
                .to_string();
        }
    };
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (Server { child, addr }, output)
}

/// Sends Ctrl-C (SIGINT) to the server and waits for it to exit; whether it succeeded.
fn interrupt(mut server: Server) -> bool {
    let pid = server.child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    server.child.wait().unwrap().success()
}

/// The body of a response.
fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A run folder holding `events` as its events.jsonl.
fn run_folder(dir: &TempDir, name: &str, events: &str) -> String {
    let path = dir.path(name);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("events.jsonl"), events).unwrap();
    path.display().to_string()
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// The address this machine would send from to another host (no packet is sent), when it
/// has one that is not loopback.
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Sends a request with the `Host` the server expects and reads the whole response.
fn get(server: &Server, target: &str) -> (u16, String) {
    request(
        server,
        &format!("GET {target} HTTP/1.1\r\nHost: {}\r\n", server.addr),
    )
}

/// Sends `head` (request line and headers, each ending in CRLF) and reads the response.
fn request(server: &Server, head: &str) -> (u16, String) {
    send(server, head, b"")
}

/// Sends `head` then `body` and reads the response.
fn send(server: &Server, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(format!("{head}Connection: close\r\n\r\n").as_bytes())
        .unwrap();
    // A refused body may be left unread: the server can close before it is all sent.
    let _ = stream.write_all(body);
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    (status, response)
}

/// Loads the page as a browser does: the connection is kept alive (no `Connection: close` in
/// the request), the response read to its `Content-Length`, then the connection closed.
fn load_page(server: &Server) -> u16 {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!("GET / HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    stream.write_all(head.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let (mut length, mut closes) = (0, false);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.trim().parse().unwrap();
        }
        closes |= line == "Connection: close\r\n";
        if line == "\r\n" {
            break;
        }
    }
    // The browser is told to close, so no idle connection holds a thread of the server.
    assert!(closes);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    assert!(String::from_utf8_lossy(&body).contains("<html"));
    status_line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// An open event stream, read as it arrives.
struct Events {
    stream: TcpStream,
    received: String,
}

impl Events {
    fn open(server: &Server, target: &str, extra: &str) -> Events {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let head = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\n{extra}\r\n",
            server.addr
        );
        stream.write_all(head.as_bytes()).unwrap();
        Events {
            stream,
            received: String::new(),
        }
    }

    /// Reads until `text` has arrived or `limit` passes; whether it arrived.
    fn wait_for(&mut self, text: &str, limit: Duration) -> bool {
        let start = Instant::now();
        let mut buffer = [0u8; 4096];
        while !self.received.contains(text) && start.elapsed() < limit {
            match self.stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => self
                    .received
                    .push_str(&String::from_utf8_lossy(&buffer[..n])),
                Err(_) => continue,
            }
        }
        self.received.contains(text)
    }
}

/// The SSE form of a line of the log ending at byte `end`.
fn event(line: &str, end: usize) -> String {
    format!("id: {end}\ndata: {line}\n\n")
}

#[test]
fn binds_loopback_only_and_answers_only_its_own_host_names() {
    let dir = TempDir::new("view-host");
    let run = run_folder(&dir, "run", &format!("{RUN_EVENT}\n"));
    let server = serve(&[&run]);
    assert_eq!(server.addr.ip().to_string(), "127.0.0.1");
    // The machine's own address on its network, if it has one: the port is closed there.
    if let Some(ip) = non_loopback_address() {
        let other = SocketAddr::new(ip, server.addr.port());
        assert!(
            TcpStream::connect_timeout(&other, Duration::from_secs(2)).is_err(),
            "{other} answered"
        );
    }
    let port = server.addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
    ] {
        let (status, _) = request(&server, &format!("GET / HTTP/1.1\r\nHost: {host}\r\n"));
        assert_eq!(status, 200, "{host}");
    }
    for head in [
        format!("GET / HTTP/1.1\r\nHost: evil.example:{port}\r\n"),
        format!("GET / HTTP/1.1\r\nHost: [::1]:{port}\r\n"),
        format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n",
            port.wrapping_add(1)
        ),
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_string(),
        "GET / HTTP/1.0\r\n".to_string(),
    ] {
        let (status, body) = request(&server, &head);
        assert_eq!(status, 403, "{head}");
        assert!(body.contains("this server answers only requests for 127.0.0.1:"));
    }
    let host = format!("Host: 127.0.0.1:{port}\r\n");
    for (extra, expected) in [
        ("Sec-Fetch-Site: none\r\n".to_string(), 200),
        (format!("Origin: http://localhost:{port}\r\n"), 200),
        ("Sec-Fetch-Site: same-site\r\n".to_string(), 403),
        ("Origin: null\r\n".to_string(), 403),
        (format!("Origin: https://127.0.0.1:{port}\r\n"), 403),
    ] {
        for target in ["/", "/api/runs/0/events"] {
            let head = format!("GET {target} HTTP/1.1\r\n{host}{extra}");
            if expected == 200 && target != "/" {
                continue;
            }
            let (status, body) = request(&server, &head);
            assert_eq!(status, expected, "{head}");
            if expected == 403 {
                assert!(
                    body.contains("requests from other sites are refused"),
                    "{body}"
                );
            }
        }
    }
}

#[test]
fn serves_pages_and_the_run_list_and_refuses_climbing_paths() {
    let dir = TempDir::new("view-paths");
    let run = run_folder(
        &dir,
        "train-7",
        &format!(
            "{RUN_EVENT}\n{EPOCH_1}\n{{\"type\":\"end\",\"status\":\"finished\",\"message\":\"done\",\"epoch\":1}}\n"
        ),
    );
    let server = serve(&[&run]);
    let (status, page) = get(&server, "/");
    assert_eq!(status, 200);
    assert!(
        page.contains("Content-Type: text/html; charset=utf-8"),
        "{page}"
    );
    assert!(page.contains("Content-Security-Policy: default-src 'self'"));
    let (status, list) = get(&server, "/api/runs");
    assert_eq!(status, 200);
    let runs: serde_json::Value = serde_json::from_str(body(&list)).unwrap();
    assert_eq!(
        runs,
        serde_json::json!([{"id": 0, "name": "train-7", "path": run, "format": "events",
            "status": "finished", "problem": null}])
    );
    for target in [
        "/../Cargo.toml",
        "/static/../../Cargo.toml",
        "/static/%2e%2e/%2e%2e/Cargo.toml",
        "/static/%2E%2E%2FCargo.toml",
        "/static/..%5c..%5cCargo.toml",
        "/static/..\\..\\Cargo.toml",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/etc/passwd",
        "/static/no-such-file.js",
        "/api/runs/1/events",
        "/api/grad",
    ] {
        let (status, body) = get(&server, target);
        assert_eq!(status, 404, "{target}: {body}");
        assert!(
            !body.contains("[package]") && !body.contains("root:"),
            "{target}"
        );
    }
    let (status, _) = request(
        &server,
        &format!("DELETE / HTTP/1.1\r\nHost: {}\r\n", server.addr),
    );
    assert_eq!(status, 405);
    let (status, body) = get(&server, "/api/runs/0/events?from=x");
    assert_eq!(status, 400);
    assert!(body.contains("?from= takes a byte offset"), "{body}");
}

#[test]
fn streams_complete_lines_then_appended_ones_and_resumes_from_an_offset() {
    let dir = TempDir::new("view-stream");
    let partial = r#"{"type":"epoch","epo"#;
    let run = run_folder(&dir, "run", &format!("{RUN_EVENT}\n{EPOCH_1}\n{partial}"));
    let log = dir.path("run/events.jsonl");
    let server = serve(&[&run]);
    let first_end = RUN_EVENT.len() + 1;
    let second_end = first_end + EPOCH_1.len() + 1;
    let mut events = Events::open(&server, "/api/runs/0/events", "");
    assert!(events.wait_for(&event(EPOCH_1, second_end), Duration::from_secs(10)));
    assert!(events.received.contains("Content-Type: text/event-stream"));
    assert!(events.received.contains(&event(RUN_EVENT, first_end)));
    // The partial last line is held back until its newline arrives, then sent whole within 2 s.
    assert!(!events.wait_for("epo\n", Duration::from_millis(600)));
    append(&log, &EPOCH_2[partial.len()..]);
    assert!(!events.wait_for("\"epoch\":2", Duration::from_millis(600)));
    append(&log, "\n");
    let third_end = second_end + EPOCH_2.len() + 1;
    assert!(events.wait_for(&event(EPOCH_2, third_end), Duration::from_secs(2)));
    // A reconnecting browser sends the last id it saw; ?from= does the same for a page.
    let mut resumed = Events::open(
        &server,
        "/api/runs/0/events",
        &format!("Last-Event-ID: {first_end}\r\n"),
    );
    assert!(resumed.wait_for(&event(EPOCH_2, third_end), Duration::from_secs(10)));
    assert!(!resumed.received.contains(RUN_EVENT));
    assert!(resumed.received.contains(&event(EPOCH_1, second_end)));
    let (status, refused) = request(
        &server,
        &format!(
            "GET /api/runs/0/events HTTP/1.1\r\nHost: {}\r\nLast-Event-ID: x1\r\n",
            server.addr
        ),
    );
    assert_eq!(status, 400);
    assert!(
        body(&refused).contains("Last-Event-ID takes a byte offset of the run's log, got `x1`"),
        "{refused}"
    );
    let mut from = Events::open(
        &server,
        &format!("/api/runs/0/events?from={second_end}"),
        "",
    );
    assert!(from.wait_for(&event(EPOCH_2, third_end), Duration::from_secs(10)));
    assert!(!from.received.contains(EPOCH_1));
}

#[test]
fn a_malformed_line_and_a_deleted_run_folder_are_problem_events() {
    let dir = TempDir::new("view-problems");
    let run = run_folder(&dir, "run", &format!("{RUN_EVENT}\nnot json\n{EPOCH_1}\n"));
    let server = serve(&[&run]);
    let mut events = Events::open(&server, "/api/runs/0/events", "");
    assert!(events.wait_for(EPOCH_1, Duration::from_secs(10)));
    assert!(
        events
            .received
            .contains("event: problem\ndata: {\"message\":\""),
        "{}",
        events.received
    );
    assert!(
        events
            .received
            .contains("events.jsonl line 2: not an event")
    );
    std::fs::remove_dir_all(&run).unwrap();
    assert!(events.wait_for("was deleted while it was served", Duration::from_secs(2)));
    let (_, list) = get(&server, "/api/runs");
    assert!(list.contains("\"status\":\"missing\""), "{list}");
    assert!(list.contains("no longer exists"), "{list}");
}

#[test]
fn an_older_run_with_metrics_only_is_streamed_as_run_and_epoch_events() {
    let dir = TempDir::new("view-metrics");
    let path = dir.path("old");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join("config.json"),
        r#"{"epochs": 1, "batch_size": 32}"#,
    )
    .unwrap();
    let metrics = r#"{"epoch":1,"lr":0.001,"train_loss":0.5,"train_acc":0.9}"#;
    std::fs::write(path.join("metrics.jsonl"), format!("{metrics}\n")).unwrap();
    let server = serve(&[&path.display().to_string()]);
    let (_, list) = get(&server, "/api/runs");
    assert!(list.contains("\"format\":\"metrics-only\""), "{list}");
    assert!(list.contains("\"status\":\"finished\""), "{list}");
    let mut events = Events::open(&server, "/api/runs/0/events", "");
    let epoch = format!("{{\"type\":\"epoch\",{}", &metrics[1..]);
    assert!(events.wait_for(&event(&epoch, metrics.len() + 1), Duration::from_secs(10)));
    let run_line = events
        .received
        .lines()
        .find(|l| l.starts_with("data: {") && l.contains("\"type\":\"run\""))
        .expect("a synthesised run event");
    let run: serde_json::Value = serde_json::from_str(&run_line[6..]).unwrap();
    assert_eq!(run["name"], "old");
    assert_eq!(run["epochs"], 1);
    assert_eq!(run["task"], "classification");
    assert_eq!(run["synthesised_from"], "metrics.jsonl");
}

#[test]
fn fifty_concurrent_page_loads_are_answered_while_streams_are_open() {
    let dir = TempDir::new("view-load");
    let run = run_folder(&dir, "run", &format!("{RUN_EVENT}\n"));
    let server = serve(&[&run]);
    let mut streams: Vec<Events> = (0..8)
        .map(|_| Events::open(&server, "/api/runs/0/events", ""))
        .collect();
    for stream in &mut streams {
        assert!(
            stream.wait_for(RUN_EVENT, Duration::from_secs(10)),
            "{:?}",
            stream.received
        );
    }
    let server = &server;
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let loads: Vec<_> = (0..50)
            .map(|_| scope.spawn(move || load_page(server)))
            .collect();
        loads.into_iter().map(|l| l.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![200; 50]);
}

/// Runs `nabla view` expecting it to fail; its stderr.
fn refused(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .arg("view")
        .args(args)
        .output()
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn bad_folders_and_a_busy_port_get_one_readable_line() {
    let dir = TempDir::new("view-refused");
    let empty = dir.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let empty = empty.display().to_string();
    assert_eq!(
        refused(&[&empty]),
        format!(
            "error: {empty} is not a run folder (it has neither events.jsonl nor metrics.jsonl)\n"
        )
    );
    let missing = dir.arg("missing");
    assert_eq!(
        refused(&[&missing]),
        format!("error: {missing}: no such folder\n")
    );
    let run = run_folder(&dir, "run", &format!("{RUN_EVENT}\n"));
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    assert_eq!(
        refused(&[&run, "--port", &port]),
        format!(
            "error: port {port} is in use on 127.0.0.1; choose another with --port (0 picks a \
             free one)\n"
        )
    );
    let file = dir.path("run/events.jsonl").display().to_string();
    assert_eq!(
        refused(&[&file]),
        format!("error: {file} is a file, not a run folder\n")
    );
    let message = refused(&[&run, "--port", "abc"]);
    assert!(
        message.starts_with("error: invalid value 'abc' for '--port <PORT>'"),
        "{message}"
    );
    let train = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(["train", "--port", "8080"])
        .output()
        .unwrap();
    assert!(!train.status.success());
    let message = String::from_utf8(train.stderr).unwrap();
    assert!(
        message.starts_with("error: the following required arguments were not provided:\n  --view"),
        "{message}"
    );
    let message = refused(&[&run, "--port", "70000"]);
    assert!(
        message.starts_with("error: invalid value '70000' for '--port <PORT>'"),
        "{message}"
    );
}

#[test]
fn train_view_serves_the_run_from_before_its_first_epoch_until_ctrl_c() {
    let dir = TempDir::new("view-train");
    let out = dir.arg("run");
    let (server, mut output) = start(&[
        "train",
        "--data",
        "moons",
        "--samples",
        "64",
        "--layers",
        "linear 8, relu, linear",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        &out,
        "--view",
    ]);
    let mut rest = String::new();
    while !rest.contains("still serving it at") {
        let mut line = String::new();
        assert_ne!(output.read_line(&mut line).unwrap(), 0, "{rest}");
        rest.push_str(&line);
    }
    assert!(
        rest.contains("epoch  1/2"),
        "the address comes first: {rest}"
    );
    assert!(rest.contains("press Ctrl-C to stop"), "{rest}");
    let (status, list) = get(&server, "/api/runs");
    assert_eq!(status, 200);
    let runs: serde_json::Value = serde_json::from_str(body(&list)).unwrap();
    assert_eq!(runs[0]["name"], "run");
    assert_eq!(runs[0]["status"], "finished", "{runs}");
    let mut events = Events::open(&server, "/api/runs/0/events", "");
    assert!(events.wait_for("\"epoch\":2", Duration::from_secs(10)));
    assert!(interrupt(server));
}

#[test]
fn grad_view_serves_the_expression_and_refuses_bad_requests() {
    let (server, _) = start(&[
        "grad",
        "apple*count*tax",
        "--at",
        "apple=100,count=2,tax=1.1",
        "--view",
    ]);
    let (status, start) = get(&server, "/api/grad");
    assert_eq!(status, 200);
    assert_eq!(
        body(&start),
        r#"{"expression":"apple*count*tax","at":{"apple":100.0,"count":2.0,"tax":1.1}}"#
    );
    let post_with = |headers: &str, body: &[u8]| {
        let head = format!(
            "POST /api/grad HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\n",
            server.addr,
            body.len()
        );
        send(&server, &head, body)
    };
    let post = |body: &[u8]| post_with("Content-Type: application/json\r\n", body);
    let (status, stepped) =
        post(br#"{"expression":"apple*count*tax","at":{"apple":100,"count":2,"tax":1.1}}"#);
    assert_eq!(status, 200, "{stepped}");
    assert!(
        body(&stepped)
            .contains(r#""gradients":{"apple":2.2,"count":110.00000000000001,"tax":200.0}"#),
        "{stepped}"
    );
    let (status, refused) = post(br#"{"expression":"x*y","at":{"x":1}}"#);
    assert_eq!(status, 400);
    assert_eq!(
        body(&refused),
        r#"{"error":"no value for the variable `y`"}"#
    );
    let (status, page) = get(&server, "/grad");
    assert_eq!(status, 200);
    assert!(page.contains("Content-Type: text/html; charset=utf-8"));
    let (status, refused) = post(b"{\"expression\": 3}");
    assert_eq!(status, 400, "{refused}");
    assert!(
        body(&refused).starts_with("{\"error\":\"the body must be"),
        "{refused}"
    );
    let asked = br#"{"expression":"x","at":{"x":1}}"#;
    let (status, same_site) = post_with(
        &format!(
            "Content-Type: application/json; charset=utf-8\r\nOrigin: http://{}\r\n\
             Sec-Fetch-Site: same-origin\r\n",
            server.addr
        ),
        asked,
    );
    assert_eq!(status, 200, "{same_site}");
    for (headers, message) in [
        (
            "",
            "the body must be sent as Content-Type: application/json (got none)",
        ),
        (
            "Content-Type: text/plain\r\n",
            "the body must be sent as Content-Type: application/json (got text/plain)",
        ),
    ] {
        let (status, refused) = post_with(headers, asked);
        assert_eq!(status, 415, "{refused}");
        assert_eq!(body(&refused), format!("{{\"error\":\"{message}\"}}"));
    }
    let (status, refused) = post_with(
        "Content-Type: application/json\r\nOrigin: http://evil.example\r\n",
        asked,
    );
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        body(&refused),
        format!(
            "requests from other sites are refused (Origin: http://evil.example; this server is \
             http://{})\n",
            server.addr
        )
    );
    let (status, refused) = post_with(
        "Content-Type: application/json\r\nSec-Fetch-Site: cross-site\r\n",
        asked,
    );
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        body(&refused),
        "requests from other sites are refused (Sec-Fetch-Site: cross-site)\n"
    );
    let (status, refused) = post(&[b' '; 65 << 10]);
    assert_eq!(status, 413, "{refused}");
    assert!(body(&refused).contains("the request body is over 64 KiB"));
    let (status, _) = request(
        &server,
        &format!("PUT /api/grad HTTP/1.1\r\nHost: {}\r\n", server.addr),
    );
    assert_eq!(status, 405);
    assert!(interrupt(server));
}
