//! Where the processes of a run execute: the server under test alone on one CPU, the load
//! (this process, sipp, the downstream servers) on another. Left to the scheduler, the same
//! pair of processes lands on one core in one run and on two in the next, and the server's
//! CPU per request moved by a quarter from run to run: sipcfg's cost under the Rust
//! generator came out 30% below its cost under sipp in one 5-round run, and within 4% of it
//! with this placement.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// The CPU of the server under test.
const SERVER_CPU: usize = 1;
/// The CPU of everything else (below `SERVER_CPU`).
const LOAD_CPU: usize = 0;

/// Whether the machine has the two CPUs the placement needs.
fn placement_possible() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > SERVER_CPU)
}

/// Puts this process, and so every process it starts afterwards, on the load CPU.
pub fn pin_load() -> Result<(), String> {
    if !placement_possible() {
        return Ok(());
    }
    pin(LOAD_CPU).map_err(|e| format!("cannot pin the load to CPU {LOAD_CPU}: {e}"))
}

/// Makes `command` start on the server CPU (its children inherit it).
#[allow(unsafe_code)]
pub fn on_server_cpu(command: &mut Command) {
    if !placement_possible() {
        return;
    }
    // SAFETY: sched_setaffinity is async-signal-safe, so it may run between fork and exec;
    // the closure allocates nothing.
    unsafe {
        command.pre_exec(|| pin(SERVER_CPU));
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
        if !placement_possible() {
            return;
        }
        let mut command = Command::new("grep");
        command.args(["Cpus_allowed_list", "/proc/self/status"]);
        on_server_cpu(&mut command);
        let output = command.output().expect("grep runs");
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(text.split_whitespace().nth(1), Some(SERVER_CPU.to_string().as_str()), "{text}");
    }
}
