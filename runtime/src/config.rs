//! The proxy's settings: what the config's global parameters say (filled in by generated
//! code) and what the command line overrides, Kamailio style (`-l`, `-n`, `-E`, `-d`, `-V`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::sip::Transport;

/// One socket to listen on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    pub proto: Transport,
    pub addr: SocketAddr,
    /// `advertise host:port`: what goes into Via and Record-Route instead of the address.
    pub advertise: Option<(String, u16)>,
}

/// Settings of a generated proxy.
#[derive(Clone, Debug)]
pub struct Config {
    /// Name of the config file the proxy was built from (for `-V` and logs).
    pub source: &'static str,
    pub listen: Vec<Listen>,
    /// `port`: the default port of listen addresses that give none.
    pub port: u16,
    /// Workers per UDP listen socket (`children`).
    pub children: usize,
    /// Log level (`debug`): -5..=3, 0 = warnings.
    pub debug: i32,
    pub log_stderror: bool,
    /// Extra names and addresses that are "myself" (`alias`).
    pub aliases: Vec<(String, Option<u16>)>,
    /// Add a `Server:` header to local replies (`server_signature`).
    pub server_signature: bool,
    /// `server_header` text, without the `Server: ` prefix.
    pub server_header: Option<String>,
    /// `force_rport`: behave as if every Via had `rport`.
    pub force_rport: bool,
    /// Settings that cannot be used; start-up stops on them.
    pub problems: Vec<String>,
    /// tm's module parameters.
    pub tm: crate::modules::tm::Settings,
    /// rr's module parameters.
    pub rr: crate::modules::rr::Settings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: "",
            listen: Vec::new(),
            port: 5060,
            children: 8,
            debug: 0,
            log_stderror: false,
            aliases: Vec::new(),
            server_signature: true,
            server_header: None,
            force_rport: false,
            problems: Vec::new(),
            tm: crate::modules::tm::Settings::default(),
            rr: crate::modules::rr::Settings::default(),
        }
    }
}

/// A command-line problem.
#[derive(Debug, PartialEq, Eq)]
pub struct ArgError(pub String);

impl std::fmt::Display for ArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run,
    Version,
    Help,
}

pub const USAGE: &str = "usage: PROXY [-l ADDRESS]... [-n CHILDREN] [-E] [-d]... [--max-transactions N] [-V] [-h]

  -l ADDRESS  listen on [proto:]address[:port] instead of the config's listen lines (repeatable)
  -n N        worker threads per UDP listen socket
  -E          log to stderr (the proxy always logs to stderr; accepted for Kamailio parity)
  -d          one more level of log detail (repeatable)
  -D          stay in the foreground (the proxy always does; accepted for Kamailio parity)
  --max-transactions N
              tm's table holds at most N transactions; new requests then get 503
  -V          print the version and exit
  -h          print this help and exit";

impl Config {
    /// A `listen=` line of the config (`port` must be set before); a bad one stops start-up.
    pub fn add_listen(&mut self, text: &str, advertise: Option<(&str, u16)>) {
        match parse_listen(text, self.port) {
            Ok(listens) => self.listen.extend(listens.into_iter().map(|mut listen| {
                listen.advertise = advertise.map(|(host, port)| (host.to_string(), port));
                listen
            })),
            Err(e) => self.problems.push(format!("listen: {}", e.0)),
        }
    }

    /// Applies Kamailio-style flags.
    pub fn apply_args(&mut self, args: &[String]) -> Result<Command, ArgError> {
        let mut listens = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            let mut value = || {
                i += 1;
                args.get(i).cloned().ok_or_else(|| ArgError(format!("{arg} needs a value")))
            };
            match arg {
                "-l" => listens.extend(parse_listen(&value()?, self.port)?),
                "-n" => {
                    let text = value()?;
                    self.children = text
                        .parse()
                        .ok()
                        .filter(|n| (1..=1024).contains(n))
                        .ok_or_else(|| ArgError(format!("-n {text}: give a number from 1 to 1024")))?;
                }
                "-E" => self.log_stderror = true,
                "--max-transactions" => {
                    let text = value()?;
                    self.tm.max_transactions = text
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| ArgError(format!("--max-transactions {text}: give a positive number")))?;
                }
                "-d" => self.debug = (self.debug + 1).min(3),
                "-D" | "-DD" => {}
                "-V" | "--version" => return Ok(Command::Version),
                "-h" | "--help" => return Ok(Command::Help),
                other => return Err(ArgError(format!("unknown option `{other}`"))),
            }
            i += 1;
        }
        if !listens.is_empty() {
            self.listen = listens;
        }
        if self.listen.is_empty() {
            // Without listen lines, serve the loopback address on both transports.
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port);
            self.listen = vec![
                Listen { proto: Transport::Udp, addr, advertise: None },
                Listen { proto: Transport::Tcp, addr, advertise: None },
            ];
        }
        Ok(Command::Run)
    }
}

/// `[proto:]address[:port]`, as in `listen=` and `-l`. Without a protocol both UDP and TCP
/// are served, as Kamailio does.
pub fn parse_listen(text: &str, default_port: u16) -> Result<Vec<Listen>, ArgError> {
    let bad = || ArgError(format!("`{text}` is not [proto:]address[:port]"));
    let (proto, rest) = match text.split_once(':') {
        Some((p, rest)) if p.eq_ignore_ascii_case("udp") => (Some(Transport::Udp), rest),
        Some((p, rest)) if p.eq_ignore_ascii_case("tcp") => (Some(Transport::Tcp), rest),
        Some((p, _)) if p.eq_ignore_ascii_case("tls") || p.eq_ignore_ascii_case("sctp") => {
            return Err(ArgError(format!("`{text}`: {p} is not supported yet (udp and tcp are)")));
        }
        _ => (None, text),
    };
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => default_port,
            None => return Err(bad()),
        };
        (host, port)
    } else {
        match rest.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| bad())?),
            None => (rest, default_port),
        }
    };
    let ip: IpAddr = match host {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        "*" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        _ => host
            .parse()
            .map_err(|_| ArgError(format!("`{host}`: listen addresses must be IP addresses (or `localhost`)")))?,
    };
    let addr = SocketAddr::new(ip, port);
    Ok(match proto {
        Some(proto) => vec![Listen { proto, addr, advertise: None }],
        None => vec![
            Listen { proto: Transport::Udp, addr, advertise: None },
            Listen { proto: Transport::Tcp, addr, advertise: None },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn listen_forms() {
        let l = parse_listen("udp:127.0.0.1:5070", 5060).expect("ok");
        assert_eq!(
            l,
            vec![Listen { proto: Transport::Udp, addr: "127.0.0.1:5070".parse().expect("addr"), advertise: None }]
        );
        assert_eq!(parse_listen("127.0.0.2", 5060).expect("ok").len(), 2, "udp and tcp");
        assert_eq!(parse_listen("tcp:[::1]:5061", 5060).expect("ok")[0].addr, "[::1]:5061".parse().expect("addr"));
        assert!(parse_listen("tls:127.0.0.1", 5060).is_err());
        assert!(parse_listen("udp:example.com", 5060).is_err());
    }

    #[test]
    fn command_line_overrides() {
        let mut config = Config::default();
        assert_eq!(
            config.apply_args(&args(&["-l", "udp:127.0.0.1:5080", "-n", "2", "-E", "-d", "-d"])),
            Ok(Command::Run)
        );
        assert_eq!(config.children, 2);
        assert_eq!(config.debug, 2);
        assert_eq!(config.listen.len(), 1);
        assert_eq!(Config::default().apply_args(&args(&["-V"])), Ok(Command::Version));
        assert!(Config::default().apply_args(&args(&["-x"])).is_err());
        assert!(Config::default().apply_args(&args(&["-n", "0"])).is_err());
        let mut defaults = Config::default();
        assert_eq!(defaults.apply_args(&[]), Ok(Command::Run));
        assert_eq!(defaults.listen.len(), 2, "loopback on UDP and TCP");
    }
}
