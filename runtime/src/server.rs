//! Start-up, the per-message pipeline and shutdown.
//!
//! The generated crate implements [`Script`] and calls [`run`]. Every received message goes
//! through [`handle`]: parse (malformed messages are dropped and counted), the checks Kamailio
//! does before the script, then `request_route` for requests, or `reply_route` and the
//! stateless relay by Via for replies.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use bytes::Bytes;
use tokio::sync::watch;

use crate::config::{Command, Config, USAGE};
use crate::context::{CoreReply, Ctx, Flow, MsgEnv, ReplyCx, Request, RequestCx};
use crate::dns::Resolver;
use crate::modules::tm::{Routes, Tm};
use crate::sip::{HeaderName, Message, Method, Transport};
use crate::transport::tcp::{self, TcpSender};
use crate::transport::{ConnId, Io, UdpEndpoint, udp};

/// What the generated code provides.
pub trait Script: 'static {
    /// Instance-wide state: `$shv` variables, the lock set, resolved `forward()` targets.
    type Shared: Send + Sync + 'static;
    /// Per-worker state: `$var` variables.
    type Worker: 'static;
    /// Whether sl is loaded: its ACK filter then runs before the script.
    const SL_ACK_FILTER: bool = false;
    /// Whether tm is loaded: replies are then matched to transactions first.
    const TM: bool = false;
    /// failure_route, onreply_route and branch_route by number.
    const TM_ROUTES: Routes<Self::Shared, Self::Worker> = Routes::NONE;

    /// The config's global parameters.
    fn config() -> Config;
    /// Builds the shared state once, after the sockets are open.
    fn shared(globals: &'static Globals) -> Result<Self::Shared, String>;
    /// Builds one worker's state (`varset` values).
    fn worker(shared: &Self::Shared) -> Self::Worker;
    /// `request_route`.
    fn request(cx: &mut RequestCx<'_, Self::Shared, Self::Worker>) -> Flow;
    /// `reply_route`, if the config has one.
    fn reply(_cx: &mut ReplyCx<'_, Self::Shared, Self::Worker>) -> Option<Flow> {
        None
    }
}

/// Counters of what was dropped before the script.
#[derive(Debug, Default)]
pub struct Stats {
    pub malformed: AtomicU64,
    pub incomplete: AtomicU64,
    pub acks_absorbed: AtomicU64,
    /// UDP datagrams the kernel refused to send.
    pub send_failures: AtomicU64,
}

/// Instance-wide runtime state, alive for the whole run.
pub struct Globals {
    pub config: Config,
    pub(crate) udp: Vec<UdpEndpoint>,
    pub(crate) tcp: TcpSender,
    pub dns: Resolver,
    pub stats: Stats,
    /// 32 hex chars: sl's To-tag prefix (sip-behaviour.md §3.3).
    pub(crate) sl_tag_base: [u8; 32],
    /// tm's transactions and timers.
    pub tm: Tm,
}

impl Globals {
    pub(crate) fn tcp_local(&self, to: &SocketAddr) -> Option<(SocketAddr, Option<(String, u16)>)> {
        self.tcp.locals.iter().find(|(local, _)| local.is_ipv4() == to.is_ipv4()).cloned()
    }

    /// Every local listen address, for `myself`.
    pub fn listen_addrs(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.udp.iter().map(|e| e.local).chain(self.tcp.locals.iter().map(|(a, _)| *a))
    }
}

/// Where a message came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Received {
    pub(crate) src: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) proto: Transport,
    pub(crate) conn: Option<ConnId>,
}

/// Shorter datagrams are keep-alives; Kamailio ignores them.
const MIN_MESSAGE: usize = 16;

/// Runs the pipeline for one received message.
pub(crate) fn handle<S: Script>(
    data: Bytes,
    meta: Received,
    io: &Io,
    shared: &'static S::Shared,
    worker: &mut S::Worker,
) {
    let stats = &io.globals.stats;
    if data.len() <= MIN_MESSAGE || meta.src.port() == 0 {
        return;
    }
    let mut msg = match Message::parse(data) {
        Ok(msg) => msg,
        Err(e) => {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("dropping malformed message from {}: {e}", meta.src);
            return;
        }
    };
    if !has_required_headers(&msg) {
        stats.incomplete.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("dropping message from {} without Via, From, To, Call-ID or CSeq", meta.src);
        return;
    }
    let mut env = MsgEnv::new(meta.src, meta.local, meta.proto);
    env.conn = meta.conn;
    if io.globals.config.force_rport {
        env.force_rport = true;
    }
    if msg.is_request() {
        if S::SL_ACK_FILTER && msg.method() == Method::Ack && crate::modules::sl::absorb_ack(&msg, io) {
            stats.acks_absorbed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("sl absorbed the ACK of a stateless reply from {}", meta.src);
            return;
        }
        let mut cx: Ctx<'_, Request, _, _> = Ctx::new(&mut msg, &mut env, shared, worker, io);
        let flow = S::request(&mut cx);
        if let Flow::Return(v) | Flow::Exit(v) = flow
            && v < 0
        {
            tracing::debug!("request_route ended with {v}");
        }
        if S::TM {
            crate::modules::tm::request_done(&mut env, io);
        }
    } else {
        let relay = {
            let mut cx: Ctx<'_, CoreReply, _, _> = Ctx::new(&mut msg, &mut env, shared, worker, io);
            match S::reply(&mut cx) {
                None => true,
                Some(Flow::Drop) => false,
                // A final value of 0 or below blocks the relay; plain `exit` (1) does not.
                Some(flow) => flow.value() > 0,
            }
        };
        if relay && !(S::TM && crate::modules::tm::reply_received::<S>(&mut msg, &mut env, io, shared, worker)) {
            crate::core::reply::relay(&mut msg, &env, io);
        }
    }
}

/// Kamailio drops messages without these before the script.
fn has_required_headers(msg: &Message) -> bool {
    msg.top_via().is_ok()
        && [HeaderName::From, HeaderName::To, HeaderName::CallId, HeaderName::CSeq]
            .iter()
            .all(|name| msg.header(*name).is_some())
        && msg.cseq().is_ok()
}

/// Parses the command line, opens the sockets, starts the workers and waits for SIGINT or
/// SIGTERM.
pub fn run<S: Script>() -> ExitCode {
    let mut config = S::config();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match config.apply_args(&args) {
        Ok(Command::Run) => {}
        Ok(Command::Version) => {
            println!("sipcfg {} proxy built from {}", env!("CARGO_PKG_VERSION"), config.source);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    crate::log::init(config.debug);
    match start::<S>(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn start<S: Script>(config: Config) -> Result<(), String> {
    if let Some(problem) = config.problems.first() {
        return Err(problem.clone());
    }
    // Open every socket first: a port in use is reported before anything runs.
    let mut udp_sockets = Vec::new();
    let mut endpoints = Vec::new();
    let mut tcp_listeners = Vec::new();
    let mut tcp_locals = Vec::new();
    for listen in &config.listen {
        match listen.proto {
            Transport::Udp => {
                let first = udp::bind(listen.addr).map_err(|e| format!("cannot listen on udp:{}: {e}", listen.addr))?;
                let local = first.local_addr().map_err(|e| e.to_string())?;
                let sender = first.try_clone().map_err(|e| e.to_string())?;
                let index = endpoints.len();
                endpoints.push(UdpEndpoint::new(local, listen.advertise.clone(), sender));
                udp_sockets.push((index, first));
                for _ in 1..config.children {
                    let socket = udp::bind(local).map_err(|e| format!("cannot listen on udp:{local}: {e}"))?;
                    udp_sockets.push((index, socket));
                }
            }
            Transport::Tcp => {
                let listener =
                    bind_tcp(listen.addr).map_err(|e| format!("cannot listen on tcp:{}: {e}", listen.addr))?;
                let local = listener.local_addr().map_err(|e| e.to_string())?;
                tcp_locals.push((local, listen.advertise.clone()));
                tcp_listeners.push(listener);
            }
            other => return Err(format!("transport {other:?} is not supported")),
        }
    }
    let first_listen = endpoints.first().map(|e| e.local).or(tcp_locals.first().map(|(a, _)| *a));
    let (tcp_sender, tcp_input) = TcpSender::new(tcp_locals);
    let tm = Tm::new(config.tm.clone(), first_listen, S::TM);
    let globals: &'static Globals = Box::leak(Box::new(Globals {
        sl_tag_base: crate::modules::sl::tag_base(first_listen),
        tm,
        config,
        udp: endpoints,
        tcp: tcp_sender,
        dns: Resolver::new(),
        stats: Stats::default(),
    }));
    let shared: &'static S::Shared = Box::leak(Box::new(S::shared(globals)?));

    let (stop, stopped) = watch::channel(false);
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    for (n, (endpoint, socket)) in udp_sockets.into_iter().enumerate() {
        let stopped = stopped.clone();
        let handle = std::thread::Builder::new()
            .name(format!("udp-worker-{n}"))
            .spawn(move || {
                if let Err(e) = udp::run_worker::<S>(socket, endpoint, globals, shared, stopped) {
                    tracing::error!("udp worker stopped: {e}");
                }
            })
            .map_err(|e| e.to_string())?;
        threads.push(handle);
    }
    if S::TM {
        let handle = std::thread::Builder::new()
            .name("tm-timer".into())
            .spawn(move || crate::modules::tm::run_timers::<S>(globals, shared))
            .map_err(|e| e.to_string())?;
        threads.push(handle);
    }
    if let Some(input) = tcp_input {
        let stopped = stopped.clone();
        let handle = std::thread::Builder::new()
            .name("tcp".into())
            .spawn(move || {
                if let Err(e) = tcp::run::<S>(tcp_listeners, input, globals, shared, stopped) {
                    tracing::error!("tcp thread stopped: {e}");
                }
            })
            .map_err(|e| e.to_string())?;
        threads.push(handle);
    }
    let addresses: Vec<String> = globals
        .udp
        .iter()
        .map(|e| format!("udp:{}", e.local))
        .chain(globals.tcp.locals.iter().map(|(a, _)| format!("tcp:{a}")))
        .collect();
    tracing::info!("listening on {} ({} workers per UDP socket)", addresses.join(" "), globals.config.children);
    eprintln!("sipcfg proxy from {} listening on {}", globals.config.source, addresses.join(" "));

    wait_for_signal().map_err(|e| format!("cannot wait for signals: {e}"))?;
    tracing::info!("stopping");
    let _ = stop.send(true);
    globals.tm.stop();
    for thread in threads {
        let _ = thread.join();
    }
    eprintln!("sipcfg proxy stopped: {} transactions in the table", globals.tm.transactions());
    Ok(())
}

fn bind_tcp(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

fn wait_for_signal() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    })
}

/// An [`Io`] over real UDP sockets on loopback, for unit tests of code that needs the
/// instance's addresses (`myself`, Via, Record-Route).
#[cfg(test)]
pub(crate) fn test_io(config: Config) -> Io {
    let mut endpoints = Vec::new();
    for listen in config.listen.iter().filter(|l| l.proto == Transport::Udp) {
        // SO_REUSEPORT, as the workers bind: tests running in parallel share addresses.
        let socket = udp::bind(listen.addr).expect("test socket");
        let local = socket.local_addr().expect("bound");
        endpoints.push(UdpEndpoint::new(local, listen.advertise.clone(), socket));
    }
    let first = endpoints.first().map(|e| e.local);
    let (tcp, _) = TcpSender::new(Vec::new());
    let globals: &'static Globals = Box::leak(Box::new(Globals {
        sl_tag_base: crate::modules::sl::tag_base(first),
        tm: Tm::new(config.tm.clone(), first, true),
        config,
        udp: endpoints,
        tcp,
        dns: Resolver::new(),
        stats: Stats::default(),
    }));
    Io::new(globals, Some(0))
}
