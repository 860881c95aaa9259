//! Name resolution inside the static binary, with no C library resolver: hickory-resolver
//! reads /etc/resolv.conf and /etc/hosts itself. The script is synchronous, like Kamailio's, so a
//! lookup blocks the worker while a dedicated thread resolves it.

use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use hickory_resolver::TokioAsyncResolver;

use crate::sip::Transport;

type Reply = mpsc::Sender<Result<SocketAddr, String>>;

struct Query {
    host: String,
    port: Option<u16>,
    proto: Transport,
    reply: Reply,
}

/// Hands lookups to the resolver thread, started on first use.
#[derive(Default)]
pub struct Resolver {
    queries: OnceLock<Mutex<mpsc::Sender<Query>>>,
}

impl Resolver {
    pub fn new() -> Self {
        Resolver::default()
    }

    /// `host` to an address: an IP literal as is; a name with a port by A/AAAA; a name
    /// without a port by SRV (`_sip._udp.` / `_sip._tcp.`) first, then A/AAAA on port 5060.
    pub fn resolve(&self, host: &str, port: Option<u16>, proto: Transport) -> Result<SocketAddr, String> {
        if let Some(ip) = crate::core::keywords::parse_dotted_quad(host.as_bytes()) {
            return Ok(SocketAddr::new(IpAddr::V4(ip), port.unwrap_or(default_port(proto))));
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, port.unwrap_or(default_port(proto))));
        }
        let (reply, answer) = mpsc::channel();
        let sender = self.queries.get_or_init(|| Mutex::new(spawn()));
        let sent = sender.lock().map_err(|_| "resolver unavailable".to_string())?.send(Query {
            host: host.to_string(),
            port,
            proto,
            reply,
        });
        sent.map_err(|_| "resolver thread stopped".to_string())?;
        answer.recv_timeout(Duration::from_secs(5)).map_err(|_| format!("no answer resolving {host}"))?
    }
}

fn default_port(proto: Transport) -> u16 {
    if proto == Transport::Tls { 5061 } else { 5060 }
}

fn spawn() -> mpsc::Sender<Query> {
    let (tx, rx) = mpsc::channel::<Query>();
    let started = std::thread::Builder::new().name("dns".into()).spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        let resolver = match TokioAsyncResolver::tokio_from_system_conf() {
            Ok(resolver) => resolver,
            Err(e) => {
                tracing::error!("cannot read the resolver configuration: {e}");
                for query in rx {
                    let _ = query.reply.send(Err("no resolver configuration".into()));
                }
                return;
            }
        };
        for query in rx {
            let answer = runtime.block_on(lookup(&resolver, &query));
            let _ = query.reply.send(answer);
        }
    });
    if let Err(e) = started {
        tracing::error!("cannot start the resolver thread: {e}");
    }
    tx
}

async fn lookup(resolver: &TokioAsyncResolver, query: &Query) -> Result<SocketAddr, String> {
    let (host, port) = match query.port {
        Some(port) => (query.host.clone(), port),
        None => {
            let service = match query.proto {
                Transport::Tcp => "_sip._tcp.",
                Transport::Tls => "_sips._tcp.",
                _ => "_sip._udp.",
            };
            match resolver.srv_lookup(format!("{service}{}", query.host)).await {
                Ok(srv) => match srv.iter().min_by_key(|r| (r.priority(), std::cmp::Reverse(r.weight()))) {
                    Some(record) => (record.target().to_utf8().trim_end_matches('.').to_string(), record.port()),
                    None => (query.host.clone(), default_port(query.proto)),
                },
                Err(_) => (query.host.clone(), default_port(query.proto)),
            }
        }
    };
    let ips = resolver.lookup_ip(host.as_str()).await.map_err(|e| format!("cannot resolve {host}: {e}"))?;
    ips.iter().next().map(|ip| SocketAddr::new(ip, port)).ok_or_else(|| format!("{host} has no address"))
}
