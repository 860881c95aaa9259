//! What a server process costs: CPU time over a window and peak memory, for a process and
//! every process it forked (Kamailio runs as a tree of processes sharing memory).
//!
//! CPU comes from two sources read over the same window: utime+stime from /proc (clock
//! ticks, 10 ms here, so only a coarse check on short windows) and `perf stat -e task-clock`
//! attached to the processes (nanoseconds), used for the ratios when perf is installed.
//! Memory is the sum of the proportional set sizes (Pss) of the tree, so memory shared
//! between Kamailio's processes is counted once; it is sampled and the peak kept.
//! Wake-ups are the voluntary context switches of every thread: a server blocked in a
//! receive call switches out once per wake-up, so requests per wake-up says how tightly a
//! load generator's requests arrive.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// `pid` and all its descendants.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            if let Some(parent) = stat_fields(child).and_then(|f| f.get(1).and_then(|p| p.parse().ok())) {
                parents.push((child, parent));
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parents.iter().filter(|(_, p)| *p == parent).map(|(c, _)| *c));
        i += 1;
    }
    tree
}

/// Fields of /proc/PID/stat after the command name (state is field 0).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &text[text.rfind(')')? + 2..];
    Some(after_name.split_whitespace().map(str::to_string).collect())
}

/// utime + stime of the processes, in seconds.
pub fn cpu_ticks_seconds(pids: &[u32]) -> f64 {
    // USER_HZ, the unit of /proc's times, is 100 on x86_64 Linux whatever the kernel's HZ.
    const TICKS_PER_SECOND: f64 = 100.0;
    let ticks: u64 = pids
        .iter()
        .filter_map(|&pid| stat_fields(pid))
        // utime and stime are fields 14 and 15 of stat, 11 and 12 after the name.
        .map(|f| {
            f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
                + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
        })
        .sum();
    ticks as f64 / TICKS_PER_SECOND
}

/// Voluntary context switches of every thread of the processes.
pub fn voluntary_switches(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_dir(format!("/proc/{pid}/task")).ok())
        .flat_map(|tasks| tasks.flatten())
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .filter_map(|status| {
            let line = status.lines().find(|l| l.starts_with("voluntary_ctxt_switches:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}

/// Sum of Pss over the processes, in bytes.
pub fn pss_bytes(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|text| {
            let line = text.lines().find(|l| l.starts_with("Pss:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum::<u64>()
        * 1024
}

/// A measurement window over a set of processes.
pub struct Window {
    pids: Vec<u32>,
    ticks_at_start: f64,
    switches_at_start: u64,
    perf: Option<Child>,
    sampler: Option<(Arc<AtomicBool>, Arc<AtomicU64>, JoinHandle<()>)>,
}

/// What a window measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cost {
    /// CPU seconds from /proc ticks.
    pub cpu_ticks: f64,
    /// CPU seconds from perf's task-clock, when perf could attach.
    pub cpu_perf: Option<f64>,
    pub peak_pss: u64,
    /// Voluntary context switches of all the server's threads over the window; `None` in
    /// reports written before they were counted.
    pub wakeups: Option<u64>,
}

impl Cost {
    /// The most precise CPU figure available.
    pub fn cpu(&self) -> f64 {
        self.cpu_perf.unwrap_or(self.cpu_ticks)
    }
}

impl Window {
    pub fn open(root: u32) -> Window {
        let pids = process_tree(root);
        let list = pids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let perf = Command::new("perf")
            .args(["stat", "-x", ",", "-e", "task-clock", "-p", &list])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .ok();
        // perf needs a moment to attach before the load starts.
        if perf.is_some() {
            std::thread::sleep(Duration::from_millis(150));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(pss_bytes(&pids)));
        let sampler = {
            let (stop, peak, pids) = (stop.clone(), peak.clone(), pids.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(pss_bytes(&pids), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let ticks_at_start = cpu_ticks_seconds(&pids);
        let switches_at_start = voluntary_switches(&pids);
        Window { pids, ticks_at_start, switches_at_start, perf, sampler: Some((stop, peak, sampler)) }
    }

    pub fn close(mut self) -> Cost {
        let cpu_ticks = cpu_ticks_seconds(&self.pids) - self.ticks_at_start;
        let wakeups = Some(voluntary_switches(&self.pids).saturating_sub(self.switches_at_start));
        let cpu_perf = self.perf.take().and_then(stop_perf);
        let mut peak_pss = 0;
        if let Some((stop, peak, handle)) = self.sampler.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
            peak_pss = peak.load(Ordering::Relaxed).max(pss_bytes(&self.pids));
        }
        Cost { cpu_ticks, cpu_perf, peak_pss, wakeups }
    }
}

/// Stops `perf stat` with SIGINT and reads the task-clock total (msec) it prints.
fn stop_perf(mut perf: Child) -> Option<f64> {
    let _ = Command::new("kill").args(["-INT", &perf.id().to_string()]).status();
    let mut text = String::new();
    perf.stderr.take()?.read_to_string(&mut text).ok()?;
    let _ = perf.wait();
    text.lines().find(|l| l.contains("task-clock")).and_then(|line| {
        let value = line.split(',').next()?;
        value.parse::<f64>().ok().map(|ms| ms / 1000.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_tree_holds_the_children() {
        let mut child = Command::new("sleep").arg("5").spawn().expect("sleep");
        let tree = process_tree(std::process::id());
        assert!(tree.contains(&child.id()), "{tree:?}");
        assert!(pss_bytes(&[std::process::id()]) > 0);
        let before = voluntary_switches(&[std::process::id()]);
        // Sleeping blocks this thread: one voluntary switch at least.
        std::thread::sleep(Duration::from_millis(5));
        assert!(voluntary_switches(&[std::process::id()]) > before);
        let _ = child.kill();
        let _ = child.wait();
    }
}
