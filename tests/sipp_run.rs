//! Running sipp (Debian package sip-tester) from tests: its screen goes to
//! `target/e2e/<log>.log`, scenarios live in `tests/sipp/`.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::repo_root;

/// Starts sipp with `args`; it gives up on its own after `timeout` (sipp syntax, `30s`).
pub fn start(log: &str, args: &[&str], timeout: &str) -> Child {
    let dir = repo_root().join("target/e2e");
    std::fs::create_dir_all(&dir).expect("target/e2e");
    let out = std::fs::File::create(dir.join(format!("{log}.log"))).expect("sipp log");
    Command::new("sipp")
        .args(args)
        // Never wait for keyboard input; a hung call fails the run instead of blocking it.
        .args(["-nostdin", "-timeout", timeout, "-timeout_error", "-trace_err"])
        // -trace_err writes <scenario>_<pid>_errors.log here.
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log handle"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sipp ({e}); install the sip-tester package"))
}

/// Waits for sipp to finish (at most `limit`).
pub fn wait(child: &mut Child, log: &str, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("sipp status") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sipp ({log}) did not finish:\n{}", screen(log));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What sipp printed.
pub fn screen(log: &str) -> String {
    std::fs::read_to_string(repo_root().join("target/e2e").join(format!("{log}.log"))).unwrap_or_default()
}

/// The cumulative value of a counter in sipp's last statistics screen.
pub fn cumulative(screen: &str, counter: &str) -> Option<u64> {
    let line = screen.lines().rev().find(|l| l.trim_start().starts_with(counter))?;
    line.rsplit('|').next()?.trim().parse().ok()
}

/// How many times a message of the scenario was sent or received (`"ACK"`, `"200"`): the
/// highest count on the scenario screen lines of that message (a scenario may list it more
/// than once, for optional copies).
pub fn messages(screen: &str, message: &str) -> Option<u64> {
    screen
        .lines()
        .filter(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.contains(&message) && words.iter().any(|w| w.starts_with("---"))
        })
        .filter_map(|l| l.split_whitespace().skip_while(|w| *w != message).find_map(|w| w.parse().ok()))
        .max()
}

/// A scenario file of `tests/sipp/`.
pub fn scenario(name: &str) -> String {
    repo_root().join("tests/sipp").join(name).display().to_string()
}
