//! How `serve` takes connections: bounded in number and in time, so that clients that connect
//! and then send slowly (or nothing) cannot hold the server (issue 9, defect 8).
//!
//! - At most [`Limits::max_connections`] connections at once, counted from `accept` until the
//!   connection closes (TLS handshake included): beyond it the listener stops accepting, and new
//!   connections wait in the kernel's backlog until a slot frees, rather than costing the
//!   server a task and a file descriptor each.
//! - A TLS handshake must finish within [`Limits::tls_handshake_timeout`].
//! - A request's headers must arrive within [`Limits::header_read_timeout`] (hyper's
//!   `header_read_timeout`, which only works with a timer; it also closes a keep-alive
//!   connection left idle that long), and the whole request (its body included) within
//!   [`Limits::request_timeout`], answered `408 {code, reason, message}`.
//! - HTTP/1.1 only: workstations speak it, and HTTP/2 has no header read timeout in hyper.

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_server::Address;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use hyper_util::rt::TokioTimer;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bounds on connections (see the module docs).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub tls_handshake_timeout: Duration,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A branch has tens of workstations, each with a connection or two; the default
            // file limit (1024) leaves room for the database and logs.
            max_connections: 256,
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            // A full push (a few MiB) over a slow clinic network.
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A listen address whose listener holds at most a bounded number of connections.
#[derive(Debug, Clone)]
pub struct LimitedAddr {
    pub addr: SocketAddr,
    permits: Arc<Semaphore>,
}

impl std::fmt::Display for LimitedAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.addr.fmt(f)
    }
}

impl Address for LimitedAddr {
    type Stream = LimitedStream;
    type Listener = LimitedListener;
}

/// `into_make_service_with_connect_info::<SocketAddr>()` gets the peer's address.
impl axum::extract::connect_info::Connected<LimitedAddr> for SocketAddr {
    fn connect_info(target: LimitedAddr) -> Self {
        target.addr
    }
}

pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
}

impl axum_server::AddrListener<LimitedStream, LimitedAddr> for LimitedListener {
    async fn bind_to(addr: LimitedAddr) -> io::Result<Self> {
        Ok(Self {
            inner: TcpListener::bind(addr.addr).await?,
            permits: addr.permits,
        })
    }

    async fn accept_stream(&self) -> io::Result<(LimitedStream, LimitedAddr)> {
        // Take a slot first: at the cap, connections wait in the backlog, not in the server.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(io::Error::other)?;
        let (stream, peer) = self.inner.accept().await?;
        Ok((
            LimitedStream {
                inner: stream,
                _permit: permit,
            },
            LimitedAddr {
                addr: peer,
                permits: self.permits.clone(),
            },
        ))
    }

    fn get_local_addr(&self) -> io::Result<LimitedAddr> {
        Ok(LimitedAddr {
            addr: self.inner.local_addr()?,
            permits: self.permits.clone(),
        })
    }
}

/// A connection holding its slot until it is dropped.
pub struct LimitedStream {
    inner: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The TLS configuration `serve` uses: the identity's certificate, HTTP/1.1 only.
pub fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<RustlsConfig> {
    let pem = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(io::Error::other);
    let mut config =
        dentpro_sync::tls::server_config(&pem(cert_pem)?, &pem(key_pem)?).map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// An axum-server for `listen` with these limits (TLS, HTTP/1.1): give it a handle and serve.
pub fn server(
    listen: SocketAddr,
    tls: RustlsConfig,
    limits: &Limits,
) -> axum_server::Server<LimitedAddr, RustlsAcceptor> {
    let addr = LimitedAddr {
        addr: listen,
        permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
    };
    let mut server = axum_server::Server::bind(addr)
        .acceptor(RustlsAcceptor::new(tls).handshake_timeout(limits.tls_handshake_timeout))
        .http1_only();
    server
        .http_builder()
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    server
}

/// The router with the whole-request time bound.
pub fn with_request_timeout(router: Router, timeout: Duration) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| async move {
            match tokio::time::timeout(timeout, next.run(req)).await {
                Ok(response) => response,
                Err(_) => request_timed_out(timeout),
            }
        },
    ))
}

fn request_timed_out(timeout: Duration) -> Response {
    let body = dentpro_sync::protocol::ApiError {
        code: "bad_request".into(),
        reason: "request_timeout".into(),
        message: format!("the request did not arrive within {} seconds", timeout.as_secs()),
    };
    (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}
