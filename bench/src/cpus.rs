//! Where the processes of a run execute: the server under test alone on one CPU, the load
//! (this process, sipp, the downstream servers) on another. Left to the scheduler, the same
//! pair of processes lands on one core in one run and on two in the next, and the server's
//! CPU per request moved by a quarter from run to run: sipcfg's cost under the Rust
//! generator came out 30% below its cost under sipp in one 5-round run, and within 4% of it
//! with this placement.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::OnceLock;

/// The CPUs of a run: the server's and the load's, the first two this process may use when
/// it first asks (before it pins itself); `None` with fewer than two.
fn placement() -> Option<Placement> {
    static PLACEMENT: OnceLock<Option<Placement>> = OnceLock::new();
    *PLACEMENT.get_or_init(|| {
        let mut allowed = allowed_cpus().into_iter();
        Some(Placement { load: allowed.next()?, server: allowed.next()? })
    })
}

#[derive(Clone, Copy, Debug)]
struct Placement {
    load: usize,
    server: usize,
}

/// Puts the calling thread, and every thread and process it starts afterwards, on the load
/// CPU.
pub fn pin_load() -> Result<(), String> {
    let Some(placement) = placement() else { return Ok(()) };
    pin(placement.load).map_err(|e| format!("cannot pin the load to CPU {}: {e}", placement.load))
}

/// Makes `command` start on the server CPU (its children inherit it).
#[allow(unsafe_code)]
pub fn on_server_cpu(command: &mut Command) {
    let Some(placement) = placement() else { return };
    // SAFETY: sched_setaffinity is async-signal-safe, so it may run between fork and exec;
    // the closure allocates nothing.
    unsafe {
        command.pre_exec(move || pin(placement.server));
    }
}

/// The CPUs this process may run on.
#[allow(unsafe_code)]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data, filled by sched_getaffinity and read by CPU_ISSET.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&cpu| libc::CPU_ISSET(cpu, &set)).collect()
    }
}

/// Binds the calling process (thread) to `cpu`.
#[allow(unsafe_code)]
fn pin(cpu: usize) -> std::io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET write inside it, and
    // sched_setaffinity reads it.
    let result = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set)
    };
    if result == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_started_on_its_cpu_runs_only_there() {
        let Some(placement) = placement() else { return };
        let mut command = Command::new("grep");
        command.args(["Cpus_allowed_list", "/proc/self/status"]);
        on_server_cpu(&mut command);
        let output = command.output().expect("grep runs");
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(text.split_whitespace().nth(1), Some(placement.server.to_string().as_str()), "{text}");
    }

    #[test]
    fn after_the_load_is_pinned_a_server_still_starts_on_the_server_cpu() {
        let Some(placement) = placement() else { return };
        // In a thread of its own: affinity is per thread, and the other tests share the process.
        let seen = std::thread::spawn(move || {
            pin_load().expect("pinned");
            let mut command = Command::new("grep");
            command.args(["Cpus_allowed_list", "/proc/self/status"]);
            on_server_cpu(&mut command);
            String::from_utf8_lossy(&command.output().expect("grep runs").stdout).into_owned()
        })
        .join()
        .expect("thread");
        assert_eq!(seen.split_whitespace().nth(1), Some(placement.server.to_string().as_str()), "{seen}");
    }
}
