//! # pondsocket-test-server
//!
//! A small PondSocket server (crates.io `pondsocket` + `pondsocket-axum`
//! 0.1.4) used by pondsocket-wasm's integration tests and browser demo.
//!
//! ```text
//! pondsocket-test-server [--port N] [--host 127.0.0.1] [--static DIR]
//! ```
//!
//! * `--port` defaults to 0 (OS-chosen). `--host` must be a loopback address.
//! * Once bound, exactly one line is printed to stdout and flushed:
//!   `LISTENING http://127.0.0.1:<port>`. Diagnostics go to stderr.
//! * `--static DIR` serves DIR at `/` (`.wasm` as `application/wasm`,
//!   `.js`/`.mjs` as `text/javascript`, `Cache-Control: no-store`).
//! * `GET /health` answers `ok`. SIGINT/SIGTERM close all sockets and exit 0.
//!
//! ## Endpoint `/socket` (WebSocket)
//!
//! Accepted when the query has `token=good` or `token=demo`; the other query
//! parameters (e.g. `name`) become string assigns. Any other token: the HTTP
//! upgrade still succeeds (101), then the server sends a Close frame without
//! a status code (that is pondsocket-axum's behaviour). An accepted socket
//! first receives `CONNECT`/`CONNECTION` on channel `GATEWAY`.
//!
//! ## Channels
//!
//! | channel          | join behaviour                                                   |
//! |------------------|------------------------------------------------------------------|
//! | `/chat/:room`    | accepted; presence tracked = join params + `id` (connection id)  |
//! | `/private/:room` | declined: `SYSTEM`/`UNAUTHORIZED` `{code: 403, message: "private room"}` |
//! | `/silent/:room`  | never answered                                                   |
//! | anything else    | `SYSTEM`/`NOT_FOUND` `{channel}` (from the library)              |
//!
//! ## Events on `/chat/:room` (client `BROADCAST` with this event name)
//!
//! "reply" = `SYSTEM` frame to the sender only, `requestId` = the request's.
//!
//! | event              | payload          | effect                                                    |
//! |--------------------|------------------|-----------------------------------------------------------|
//! | `echo`             | any              | reply `echo`, same payload                                |
//! | `ping`             | any              | reply `pong`, same payload                                |
//! | `late`             | `{delayMs}`      | reply `late`, same payload, after delayMs (≤ 60000)       |
//! | `reply-as`         | `{event}`        | reply with that event name, payload `{ok: true}`          |
//! | `broadcast`        | any              | `BROADCAST` `message` to everyone incl. sender            |
//! | `message`          | any              | same as `broadcast` (used by the demo chat)               |
//! | `broadcast-others` | any              | `BROADCAST` `message` to everyone except the sender       |
//! | `status`           | object           | merge into sender's presence → `PRESENCE`/`UPDATE`        |
//! | `evict`            | `{reason?}`      | `SYSTEM`/`EVICTED` `{reason}` (default "evicted by request") |
//! | `flood`            | `{count, size?}` | `count` (≤ 1e6) `BROADCAST` `flood` `{i, data: "x"*size}` to sender, in order |
//! | `whoami`           | any              | reply `whoami`, `{node: "rust", id: <connection id>}` (the Python server names its node) |
//! | `item/<id>`        | any              | reply with the event name as received, payload `{id: <id URI-decoded>, payload}` |
//! | `note/<id>`        | any              | `BROADCAST` to everyone incl. sender, event `note/<id>` (still encoded; a received `?query` dropped) + `?<payload.query>` when that is a string, same payload |
//!
//! `item/<id>` and `note/<id>` are route patterns (`item/:id`, `note/:id`):
//! `<id>` is one URI-encoded segment, optionally followed by `?query`
//! (e.g. `item/a%20b?x=1` → id `a b`). The id is decoded like Python's
//! `urllib.parse.unquote` (UTF-8), not by the library (see `ItemReply`).
//! pondsocket 0.1.4's route parser panics on a `%` followed by a non-ASCII
//! character (`item/%aé`, and already `echo?%aé` for any event): that
//! connection then answers nothing more (the Python server replies).
//!
//! Malformed payloads (missing field, wrong type) get a reply with event
//! `error` and `{message}`. Unknown event names get the library's
//! `SYSTEM`/`NOT_FOUND` `{channel, event}`. Observed wire frames are recorded
//! in `tests/server/PROTOCOL-OBSERVED.md`.

mod channels;

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use pondsocket::PondSocket;
use pondsocket_axum::RequestParts;
use tokio_util::task::TaskTracker;
use tower_http::services::ServeDir;

const USAGE: &str = "usage: pondsocket-test-server [--port N] [--host 127.0.0.1] [--static DIR]";

/// Upper bound for each shutdown phase (draining HTTP connections, then the
/// sockets' close handshakes).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct Args {
    host: IpAddr,
    port: u16,
    static_dir: Option<PathBuf>,
}

impl Args {
    /// Parses the command line: `Ok(None)` means help was requested, `Err`
    /// carries the message to print.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let mut parsed = Args {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            static_dir: None,
        };
        while let Some(arg) = args.next() {
            // Accept both `--flag value` and `--flag=value`.
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            if flag == "-h" || flag == "--help" {
                return Ok(None);
            }
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--port" => {
                    let v = value()?;
                    parsed.port = v.parse().map_err(|_| format!("invalid port {v:?}"))?;
                }
                "--host" => {
                    let v = value()?;
                    let ip = if v == "localhost" {
                        IpAddr::V4(Ipv4Addr::LOCALHOST)
                    } else {
                        v.parse().map_err(|_| format!("invalid host {v:?}"))?
                    };
                    if !ip.is_loopback() {
                        return Err(format!("refusing to bind non-loopback address {ip}"));
                    }
                    parsed.host = ip;
                }
                "--static" => parsed.static_dir = Some(PathBuf::from(value()?)),
                _ => return Err(format!("unknown argument {flag:?}\n{USAGE}")),
            }
        }
        Ok(Some(parsed))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pondsocket-test-server: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> std::io::Result<()> {
    if let Some(dir) = &args.static_dir
        && !dir.is_dir()
    {
        return Err(std::io::Error::other(format!(
            "--static {}: not a directory",
            dir.display()
        )));
    }

    let pond = channels::build().await;
    let sockets = TaskTracker::new();
    let state = AppState {
        pond: pond.clone(),
        sockets: sockets.clone(),
    };
    let app = router(state, args.static_dir.as_deref());

    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.host, args.port)).await?;
    let addr = listener.local_addr()?;
    // The one line scripts wait for; `SocketAddr` formats IPv6 with brackets.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "LISTENING http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    if let Some(dir) = &args.static_dir {
        eprintln!("serving static files from {}", dir.display());
    }

    let (signalled_tx, mut signalled_rx) = tokio::sync::watch::channel(false);
    let shutdown = {
        let pond = pond.clone();
        async move {
            shutdown_signal().await;
            let _ = signalled_tx.send(true);
            // Queues a Close frame for every socket. Upgraded sockets are not
            // tracked by axum's graceful shutdown, hence `sockets` below.
            let _ = pond.close().await;
        }
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown);

    // Bound the graceful phase: a browser holding a keep-alive connection
    // open must not keep the process alive.
    let grace_expired = async move {
        let _ = signalled_rx.wait_for(|signalled| *signalled).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result?,
        () = grace_expired => {}
    }

    // Returning from `main` drops the runtime and with it the per-socket
    // writer tasks, possibly before the Close frames above are flushed. Let
    // each socket finish its closing handshake first (bounded).
    sockets.close();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, sockets.wait()).await;
    Ok(())
}

/// Shared state of the HTTP routes.
#[derive(Clone)]
struct AppState {
    pond: Arc<PondSocket>,
    /// Every upgraded socket's session, so shutdown can wait for them.
    sockets: TaskTracker,
}

fn router(state: AppState, static_dir: Option<&Path>) -> Router {
    let mut app = Router::new()
        .route(channels::SOCKET_PATH, get(socket))
        .route("/health", get(|| async { "ok" }))
        .with_state(state);
    if let Some(dir) = static_dir {
        let files = Router::new()
            .fallback_service(ServeDir::new(dir))
            .layer(middleware::from_fn(static_headers));
        app = app.fallback_service(files);
    }
    app
}

/// `GET /socket`: hand the upgraded socket to the PondSocket adapter, which
/// runs the endpoint's connection handler (token check) after the upgrade.
async fn socket(
    State(AppState { pond, sockets }): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let request = RequestParts {
        path: channels::SOCKET_PATH.to_owned(),
        cookies: parse_cookies(&headers),
        headers: headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect(),
        query,
        address: peer.to_string(),
    };
    ws.on_upgrade(move |socket| {
        sockets.track_future(pondsocket_axum::handle_socket(pond, socket, request))
    })
}

fn parse_cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Forces the MIME types browsers are strict about (`WebAssembly
/// .instantiateStreaming` needs `application/wasm`; module scripts need a
/// JavaScript type) and disables caching so rebuilt bundles are always
/// picked up.
async fn static_headers(request: Request, next: Next) -> Response {
    let content_type = match Path::new(request.uri().path())
        .extension()
        .and_then(|ext| ext.to_str())
    {
        Some("wasm") => Some("application/wasm"),
        Some("js" | "mjs") => Some("text/javascript; charset=utf-8"),
        _ => None,
    };
    let mut response = next.run(request).await;
    // Only retype the file itself, not e.g. a 404 for a missing bundle.
    let is_file = response.status().is_success();
    let headers = response.headers_mut();
    if let Some(content_type) = content_type
        && is_file
    {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
