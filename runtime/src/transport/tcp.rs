//! TCP: one thread with its own runtime accepts connections, frames messages by
//! Content-Length, runs the script for them (with its own worker state), and owns every
//! connection, so other workers send through it by message.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use super::{ConnId, Destination, Io, SendError};
use crate::server::{Globals, Received, Script, handle};
use crate::sip::{Framing, Limits, Transport, frame_stream};

/// Kamailio's default TCP read buffer: a bigger message closes the connection.
const MAX_TCP_MESSAGE: usize = 16 * 1024;

enum Command {
    Send { to: Destination, data: Bytes },
}

/// How other threads reach the TCP thread.
#[derive(Debug, Default)]
pub(crate) struct TcpSender {
    tx: Option<mpsc::UnboundedSender<Command>>,
    /// (listen address, advertised address) per TCP listen, for Via/Record-Route.
    pub(crate) locals: Vec<(SocketAddr, Option<(String, u16)>)>,
}

impl TcpSender {
    pub(crate) fn new(locals: Vec<(SocketAddr, Option<(String, u16)>)>) -> (TcpSender, Option<TcpThreadInput>) {
        if locals.is_empty() {
            return (TcpSender { tx: None, locals }, None);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        (TcpSender { tx: Some(tx), locals }, Some(TcpThreadInput { rx }))
    }

    pub(crate) fn send(&self, to: &Destination, data: Bytes) -> Result<(), SendError> {
        let tx = self.tx.as_ref().ok_or(SendError::NoSocket)?;
        tx.send(Command::Send { to: *to, data })
            .map_err(|_| SendError::Io(io::Error::new(io::ErrorKind::BrokenPipe, "the TCP thread has stopped")))
    }
}

pub(crate) struct TcpThreadInput {
    rx: mpsc::UnboundedReceiver<Command>,
}

/// Open connections, by id and by peer address.
#[derive(Default)]
struct Connections {
    next: ConnId,
    writers: HashMap<ConnId, mpsc::UnboundedSender<Bytes>>,
    by_peer: HashMap<SocketAddr, ConnId>,
}

type Shared = Rc<RefCell<Connections>>;

/// Runs the TCP thread until `shutdown` flips.
pub(crate) fn run<S: Script>(
    listeners: Vec<std::net::TcpListener>,
    input: TcpThreadInput,
    globals: &'static Globals,
    shared: &'static S::Shared,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let connections: Shared = Rc::default();
        let worker = Rc::new(RefCell::new(S::worker(shared)));
        let io = Rc::new(Io::new(globals, None));
        for listener in listeners {
            listener.set_nonblocking(true)?;
            let listener = TcpListener::from_std(listener)?;
            let (connections, worker, io) = (connections.clone(), worker.clone(), io.clone());
            tokio::task::spawn_local(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, peer)) => {
                            let _ = stream.set_nodelay(true);
                            adopt::<S>(stream, peer, &connections, worker.clone(), io.clone(), shared);
                        }
                        Err(e) => tracing::warn!("tcp accept: {e}"),
                    }
                }
            });
        }
        let mut rx = input.rx;
        loop {
            let command = tokio::select! {
                command = rx.recv() => command,
                _ = shutdown.changed() => return Ok(()),
            };
            let Some(Command::Send { to, data }) = command else { return Ok(()) };
            let existing = {
                let table = connections.borrow();
                to.conn
                    .and_then(|id| table.writers.get(&id))
                    .or_else(|| table.by_peer.get(&to.addr).and_then(|id| table.writers.get(id)))
                    .cloned()
            };
            match existing {
                Some(writer) if writer.send(data.clone()).is_ok() => {}
                _ => {
                    // No open connection to that peer: open one, then send.
                    let (connections, worker, io) = (connections.clone(), worker.clone(), io.clone());
                    tokio::task::spawn_local(async move {
                        match TcpStream::connect(to.addr).await {
                            Ok(stream) => {
                                let _ = stream.set_nodelay(true);
                                let writer = adopt::<S>(stream, to.addr, &connections, worker, io, shared);
                                let _ = writer.send(data);
                            }
                            Err(e) => tracing::warn!("tcp connect to {}: {e}", to.addr),
                        }
                    });
                }
            }
        }
    })
}

/// Registers a connection and starts its reader and writer; returns the writer's queue.
fn adopt<S: Script>(
    stream: TcpStream,
    peer: SocketAddr,
    connections: &Shared,
    worker: Rc<RefCell<S::Worker>>,
    io: Rc<Io>,
    shared: &'static S::Shared,
) -> mpsc::UnboundedSender<Bytes> {
    let local = stream.local_addr().unwrap_or(peer);
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    let id = {
        let mut table = connections.borrow_mut();
        table.next += 1;
        let id = table.next;
        table.writers.insert(id, tx.clone());
        table.by_peer.insert(peer, id);
        id
    };
    tokio::task::spawn_local(async move {
        while let Some(data) = rx.recv().await {
            if writer.write_all(&data).await.is_err() {
                break;
            }
        }
    });
    let connections = connections.clone();
    tokio::task::spawn_local(async move {
        let mut buf = BytesMut::with_capacity(4096);
        let limits = Limits { max_message: MAX_TCP_MESSAGE, ..Limits::default() };
        'read: loop {
            match reader.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            loop {
                match frame_stream(&buf, &limits) {
                    Ok(Framing::Complete(len)) => {
                        let data = buf.split_to(len).freeze();
                        let meta = Received { src: peer, local, proto: Transport::Tcp, conn: Some(id) };
                        let mut worker = worker.borrow_mut();
                        handle::<S>(data, meta, &io, shared, &mut worker);
                    }
                    Ok(Framing::KeepAlive(len)) => {
                        // A CRLFCRLF ping gets a CRLF pong (RFC 5626 §3.5.1).
                        if buf.len() >= 4 && &buf[..4] == b"\r\n\r\n" {
                            let pong = connections.borrow().writers.get(&id).cloned();
                            if let Some(pong) = pong {
                                let _ = pong.send(Bytes::from_static(b"\r\n"));
                            }
                        }
                        buf.advance(len);
                    }
                    Ok(Framing::Partial) => break,
                    Err(e) => {
                        tracing::info!("closing tcp connection from {peer}: {e}");
                        break 'read;
                    }
                }
            }
        }
        let mut table = connections.borrow_mut();
        table.writers.remove(&id);
        if table.by_peer.get(&peer) == Some(&id) {
            table.by_peer.remove(&peer);
        }
    });
    tx
}
