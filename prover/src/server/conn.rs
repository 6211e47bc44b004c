//! Connections: how many the server holds, and how long one may stay silent.
//!
//! tonic bounds requests, not connections: a peer that opens TCP connections and sends nothing
//! (or half an HTTP/2 preface, or a TLS hello and no more) would hold a socket, a task and
//! memory for ever. Here every accepted connection:
//! - holds one of `limits.max_connections` permits for its whole life; past the limit a new
//!   connection is closed at once (and logged, at most once a minute);
//! - is closed when the peer sends no byte for `limits.idle_timeout_secs`. A live client never
//!   is: the server pings every `limits.http2_keepalive_interval_secs` (shorter, checked by the
//!   config) and a live HTTP/2 client answers every ping;
//! - has TCP keepalive on, so a peer that vanished without a FIN is noticed by the kernel.
//!
//! Per-connection stream limits (HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS`, requests in flight)
//! are tonic's, set from the same `[limits]` in `server::mod`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;
use tokio_stream::Stream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// TCP keepalive: first probe after this much silence.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// How the listener bounds its connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// Connections held at once.
    pub max_connections: usize,
    /// A connection whose peer sends nothing for this long is closed.
    pub idle_timeout: Duration,
}

/// One accepted connection: closed when its peer is silent for the idle timeout; frees its
/// permit when dropped.
pub struct Conn {
    io: Pin<Box<TimeoutStream<TcpStream>>>,
    _permit: OwnedSemaphorePermit,
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.get_ref().connect_info()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// The accepted connections of `listener`, within `limits`, as tonic's incoming stream.
pub fn incoming(
    listener: TcpListener,
    limits: ConnLimits,
) -> impl Stream<Item = io::Result<Conn>> + Send + 'static {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut last_warning: Option<Instant> = None;
    async_stream(listener, move |tcp| {
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                last_warning = Some(Instant::now());
                tracing::warn!(
                    max = limits.max_connections,
                    "connection refused: limits.max_connections reached"
                );
            }
            return None;
        };
        if let Err(e) = socket2::SockRef::from(&tcp)
            .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE))
        {
            tracing::debug!(error = %e, "could not set TCP keepalive");
        }
        let _ = tcp.set_nodelay(true);
        let mut io = TimeoutStream::new(tcp);
        io.set_read_timeout(Some(limits.idle_timeout));
        Some(Conn {
            io: Box::pin(io),
            _permit: permit,
        })
    })
}

/// Accepts from `listener` until the server stops, yielding what `admit` makes of each
/// connection (`None` drops it, closing it). Accept errors that concern one connection (it was
/// reset before it was accepted) are skipped; others (out of file descriptors) are logged and
/// followed by a pause, so the loop does not spin.
fn async_stream(
    listener: TcpListener,
    mut admit: impl FnMut(TcpStream) -> Option<Conn> + Send + 'static,
) -> impl Stream<Item = io::Result<Conn>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = tx.closed() => return, // the server stopped
            };
            let conn = match accepted {
                Ok((tcp, _)) => admit(tcp),
                Err(e) if is_per_connection(&e) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    None
                }
            };
            if let Some(conn) = conn
                && tx.send(Ok(conn)).await.is_err()
            {
                return;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
