//! Running sipp (Debian package sip-tester) as the moderate-rate load and as the servers of
//! the stateful workload, and reading its final screen.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Counters from sipp's final screen.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SippCounts {
    pub successful: u64,
    pub failed: u64,
    /// Retransmissions over every message of the scenario.
    pub retransmissions: u64,
    pub unexpected: u64,
}

/// Starts sipp with `args`, its screen written to `log`.
pub fn start(args: &[String], log: &Path) -> Result<Child, String> {
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let dir = log.parent().unwrap_or(Path::new("."));
    Command::new("sipp")
        .args(args)
        .args(["-nostdin", "-timeout", "120s", "-timeout_error"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(out)
        .spawn()
        .map_err(|e| format!("cannot run sipp ({e}); install the sip-tester package"))
}

/// Waits for sipp to end (at most `limit`) and reads its counters.
pub fn finish(mut child: Child, log: &Path, limit: Duration) -> Result<SippCounts, String> {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("sipp did not finish in {limit:?}; see {}", log.display()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let screen = std::fs::read_to_string(log).map_err(|e| e.to_string())?;
    parse_screen(&screen).ok_or_else(|| format!("no statistics in {}", log.display()))
}

/// Reads the last statistics and message screens sipp printed.
pub fn parse_screen(screen: &str) -> Option<SippCounts> {
    let cumulative = |name: &str| -> Option<u64> {
        let line = screen.lines().rev().find(|l| l.trim_start().starts_with(name))?;
        line.rsplit('|').map(str::trim).find(|f| !f.is_empty())?.parse().ok()
    };
    let mut counts = SippCounts {
        successful: cumulative("Successful call")?,
        failed: cumulative("Failed call")?,
        ..SippCounts::default()
    };
    // The message screen: "INVITE ---------->  1000  3  0" (messages, retrans, timeout,
    // unexpected); take the last one printed.
    let start = screen.rfind("Messages  Retrans")?;
    for line in screen[start..].lines().skip(1) {
        if line.contains("-----") && !line.contains("->") && !line.contains("<-") {
            break;
        }
        let Some(arrow) = line.find("->").or_else(|| line.find("<-")) else { continue };
        let numbers: Vec<u64> = line[arrow..].split_whitespace().filter_map(|w| w.parse().ok()).collect();
        if line.contains("->") {
            // Sent: messages, retransmissions, timeouts.
            counts.retransmissions += numbers.get(1).copied().unwrap_or(0);
        } else {
            // Received: messages, retransmissions, timeouts, unexpected.
            counts.retransmissions += numbers.get(1).copied().unwrap_or(0);
            counts.unexpected += numbers.get(3).copied().unwrap_or(0);
        }
    }
    Some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_screen_is_read() {
        let screen = "\
                                 Messages  Retrans   Timeout   Unexpected-Msg
      INVITE ---------->         1200      1         0
         100 <----------         1138      0         0         0
         200 <----------  E-RTD1 1200      2         0         3
         ACK ---------->         1200      1
         BYE ---------->         1200      71        0
------------------------------ Test Terminated --------------------------------
  Successful call        |        0                  |     1197
  Failed call            |        0                  |        3
";
        let counts = parse_screen(screen).expect("counts");
        assert_eq!(counts, SippCounts { successful: 1197, failed: 3, retransmissions: 75, unexpected: 3 });
    }
}
