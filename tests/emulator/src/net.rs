//! A TCP listener whose connections a handler can cut, for the `drop` fault.
//!
//! axum serves each connection on its own task and gives handlers no way to close it. So every
//! accepted stream carries a kill switch, handed to handlers through `ConnectInfo`; once it is
//! flipped, the stream fails every read and write, hyper gives the connection up, and the socket is
//! reset. The client sees a connection error with no response, as when a proxy dies mid-request.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use axum::{
    extract::connect_info::Connected,
    serve::{IncomingStream, Listener},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
};

/// Accepts TCP connections that can be dropped on demand.
#[derive(Debug)]
pub(crate) struct DroppableListener(pub TcpListener);

impl Listener for DroppableListener {
    type Io = DroppableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        (DroppableStream { inner: stream, killed: Arc::default() }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A TCP stream that fails all I/O once its kill switch is flipped.
#[derive(Debug)]
pub(crate) struct DroppableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl DroppableStream {
    /// Fails with a reset, and arranges for the socket to send RST rather than FIN when hyper drops
    /// it, so the client cannot mistake the close for the end of a response.
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::Relaxed) {
            // Best effort: without zero linger the client still sees a close with no response.
            let _ = self.inner.set_zero_linger();
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection dropped by fault"));
        }
        Ok(())
    }
}

impl AsyncRead for DroppableStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for DroppableStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// What a handler knows about its connection: who is on the other end, and how to cut it.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub remote: SocketAddr,
    killed: Arc<AtomicBool>,
}

impl Connection {
    /// Makes the connection fail instead of sending the response being prepared.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Relaxed);
    }
}

impl Connected<IncomingStream<'_, DroppableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, DroppableListener>) -> Self {
        Connection { remote: *stream.remote_addr(), killed: stream.io().killed.clone() }
    }
}
