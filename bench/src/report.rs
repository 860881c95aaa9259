//! bench/RESULTS.md and bench/results.svg from the samples of one run.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::harness::{Plan, Sample, WORKLOADS};
use crate::measure::Cost;

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// Samples of one workload, kind and side, by round.
fn pick<'a>(samples: &'a [Sample], workload: &str, kind: &str, side: &str) -> Vec<&'a Sample> {
    samples.iter().filter(|s| s.workload == workload && s.kind == kind && s.side == side).collect()
}

/// The per-round ratios of `value` (sipcfg over `anchor`), rounds paired.
fn ratios(samples: &[Sample], workload: &str, kind: &str, anchor: &str, value: impl Fn(&Sample) -> f64) -> Vec<f64> {
    let ours = pick(samples, workload, kind, "sipcfg");
    let theirs = pick(samples, workload, kind, anchor);
    ours.iter().filter_map(|o| theirs.iter().find(|t| t.round == o.round).map(|t| value(o) / value(t))).collect()
}

/// The median wake-ups per request or call of `samples`, "-" when none were counted.
fn wakeups(samples: &[&Sample]) -> String {
    let counted: Vec<f64> = samples.iter().filter_map(|s| s.wakeups_per_completed()).collect();
    if counted.is_empty() { "-".to_string() } else { format!("{:.2}", median(counted)) }
}

fn list(values: &[f64], precision: usize) -> String {
    values.iter().map(|v| format!("{v:.precision$}")).collect::<Vec<_>>().join(" / ")
}

/// The markdown report.
pub fn markdown(samples: &[Sample], plan: &Plan, machine: &str, command: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# sipcfg vs Kamailio: side-by-side benchmark\n");
    let _ = writeln!(out, "Regenerate with `{command}` (writes this file and `bench/results.svg`).\n");
    let _ = writeln!(out, "{machine}\n");
    let _ = writeln!(
        out,
        "Method: every run starts the server fresh on 127.0.0.1:5060 with `children=1` (`-n 1`), \
         warms it up, then measures. Sides are interleaved (Kamailio, sipcfg, Kamailio, sipcfg...) \
         for {} rounds. Kamailio runs in the foreground with `-x tlsf`. CPU is the proxy's \
         task-clock from `perf stat -p` over every process of the server (user + system time, \
         nanosecond resolution; /proc utime+stime ticks are recorded beside it as a check), divided \
         by the requests or calls completed in the window. Memory is the peak of the summed Pss of \
         the server's processes (Kamailio's shared memory counted once). Wake-ups are the \
         voluntary context switches of all the server's threads: a server blocked in a receive \
         call switches out once per wake-up, and the fewer wake-ups per request, the more requests \
         it found waiting and the cheaper each one. Ratios are sipcfg / anchor per round pair; the \
         tables give the median and every round.\n",
        plan.rounds
    );
    let _ = writeln!(
        out,
        "## Moderate rate (sipp, {} requests/s or {} calls/s for {} s)\n",
        plan.rate, plan.call_rate, plan.seconds
    );
    let _ = writeln!(
        out,
        "| workload | Kamailio µs CPU/req | sipcfg µs CPU/req | sipcfg/Kamailio (median; rounds) | failed K/s | retrans K/s | peak MB K/s | wake-ups/req K/s |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---|---|---|---|");
    for workload in WORKLOADS {
        let kam = pick(samples, workload.name, "moderate", "kamailio");
        let ours = pick(samples, workload.name, "moderate", "sipcfg");
        if kam.is_empty() || ours.is_empty() {
            continue;
        }
        let unit = if workload.name == "stateful-lb" { " (per call)" } else { "" };
        let r = ratios(samples, workload.name, "moderate", "kamailio", Sample::cpu_us);
        let _ = writeln!(
            out,
            "| {}{unit} | {:.2} | {:.2} | **{:.2}** ({}) | {}/{} | {}/{} | {:.1}/{:.1} | {}/{} |",
            workload.name,
            median(kam.iter().map(|s| s.cpu_us()).collect()),
            median(ours.iter().map(|s| s.cpu_us()).collect()),
            median(r.clone()),
            list(&r, 2),
            kam.iter().map(|s| s.failed).sum::<u64>(),
            ours.iter().map(|s| s.failed).sum::<u64>(),
            kam.iter().map(|s| s.retransmissions).sum::<u64>(),
            ours.iter().map(|s| s.retransmissions).sum::<u64>(),
            median(kam.iter().map(|s| s.cost.peak_pss as f64 / 1e6).collect()),
            median(ours.iter().map(|s| s.cost.peak_pss as f64 / 1e6).collect()),
            wakeups(&kam),
            wakeups(&ours),
        );
    }
    let floor = pick(samples, "200-always", "moderate", "floor");
    if !floor.is_empty() {
        let r = ratios(samples, "200-always", "moderate", "floor", Sample::cpu_us);
        let _ = writeln!(
            out,
            "\nFloor (echo mode: Via/From/To/Call-ID/CSeq copied into a 200, same batched socket \
             loop as the runtime), 200-always under the same sipp load: **{:.2} µs** CPU per request; \
             sipcfg/floor **{:.2}** ({}).",
            median(floor.iter().map(|s| s.cpu_us()).collect()),
            median(r.clone()),
            list(&r, 2)
        );
    }
    let paced: Vec<(&str, f64)> = ["kamailio", "sipcfg", "floor"]
        .into_iter()
        .filter_map(|side| {
            let values: Vec<f64> = pick(samples, "200-always", "paced", side).iter().map(|s| s.cpu_us()).collect();
            (!values.is_empty()).then(|| (side, median(values)))
        })
        .collect();
    if paced.len() == 3 {
        let vs_kamailio = ratios(samples, "200-always", "paced", "kamailio", Sample::cpu_us);
        let vs_floor = ratios(samples, "200-always", "paced", "floor", Sample::cpu_us);
        let _ = writeln!(
            out,
            "\nPaced (the Rust generator at the same rate, one request per wake-up of the server, \
             which sipp's bursts are not): Kamailio **{:.2} µs**, sipcfg **{:.2} µs**, floor \
             **{:.2} µs** per request; sipcfg/Kamailio **{:.2}** ({}), sipcfg/floor **{:.2}** ({}).",
            paced[0].1,
            paced[1].1,
            paced[2].1,
            median(vs_kamailio.clone()),
            list(&vs_kamailio, 2),
            median(vs_floor.clone()),
            list(&vs_floor, 2)
        );
    }
    let check_k = pick(samples, "200-always", "loadgen-check", "kamailio");
    let check_s = pick(samples, "200-always", "loadgen-check", "sipcfg");
    if !check_k.is_empty() && !check_s.is_empty() {
        // (CPU with the generator, CPU with sipp, requests per wake-up with each).
        let versus = |side: &str, checks: &[&Sample]| {
            let sipp = pick(samples, "200-always", "moderate", side);
            let cpu = |of: &[&Sample]| median(of.iter().map(|s| s.cpu_us()).collect());
            let per_wakeup = |of: &[&Sample]| median(of.iter().filter_map(|s| s.requests_per_wakeup()).collect());
            (cpu(checks), cpu(&sipp), per_wakeup(checks), per_wakeup(&sipp))
        };
        let (kg, ks, kgw, ksw) = versus("kamailio", &check_k);
        let (sg, ss, sgw, ssw) = versus("sipcfg", &check_s);
        let wakeups = if [kgw, ksw, sgw, ssw].iter().all(|w| w.is_finite()) {
            format!(
                " Requests per wake-up of the server (median): Kamailio {kgw:.2} with the generator vs \
                 {ksw:.2} with sipp, sipcfg {sgw:.2} vs {ssw:.2}."
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\nLoad generator cross-check (200-always at the same rate; each round, the generator sends \
             its requests in bursts sized, after a {} s trial, to give the server the requests per \
             wake-up that sipp gave it): Kamailio {kg:.2} µs/req with the Rust generator vs {ks:.2} with sipp ({:+.1}%); \
             sipcfg {sg:.2} vs {ss:.2} ({:+.1}%).{wakeups}",
            crate::harness::CALIBRATION_SECONDS,
            (kg / ks - 1.0) * 100.0,
            (sg / ss - 1.0) * 100.0
        );
    }

    let _ = writeln!(
        out,
        "\n## Saturation (Rust load generator, children=1; {} requests with 256 in flight, then a \
         rate search)\n",
        plan.saturation_requests
    );
    let _ = writeln!(out, "| workload | side | µs CPU/req | throughput /s | highest clean rate /s | peak MB |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    let mut summary: BTreeMap<&str, String> = BTreeMap::new();
    for workload in WORKLOADS.iter().filter(|w| w.saturation.is_some()) {
        for side in ["kamailio", "sipcfg", "floor"] {
            let saturated = pick(samples, workload.name, "saturation", side);
            let clean = pick(samples, workload.name, "clean-rate", side);
            if saturated.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "| {} | {side} | {:.2} ({}) | {:.0} | {:.0} ({}) | {:.1} |",
                workload.name,
                median(saturated.iter().map(|s| s.cpu_us()).collect()),
                list(&saturated.iter().map(|s| s.cpu_us()).collect::<Vec<_>>(), 2),
                median(saturated.iter().map(|s| s.rate).collect()),
                median(clean.iter().map(|s| s.rate).collect()),
                list(&clean.iter().map(|s| s.rate).collect::<Vec<_>>(), 0),
                median(saturated.iter().chain(&clean).map(|s| s.cost.peak_pss as f64 / 1e6).collect()),
            );
        }
        let cpu = ratios(samples, workload.name, "saturation", "kamailio", Sample::cpu_us);
        let rate = ratios(samples, workload.name, "clean-rate", "kamailio", |s| s.rate);
        let memory = ratios(samples, workload.name, "saturation", "kamailio", |s| s.cost.peak_pss as f64);
        summary.insert(
            workload.name,
            format!(
                "- {}: CPU/req sipcfg/Kamailio **{:.2}** ({}); highest clean rate **{:.2}×** Kamailio's ({}); peak memory **{:.2}** ({})",
                workload.name,
                median(cpu.clone()),
                list(&cpu, 2),
                median(rate.clone()),
                list(&rate, 2),
                median(memory.clone()),
                list(&memory, 2)
            ),
        );
    }
    if !summary.is_empty() {
        let _ = writeln!(out, "\nRatios per round pair:\n");
        for line in summary.values() {
            let _ = writeln!(out, "{line}");
        }
    }
    let floor_sat = ratios(samples, "200-always", "saturation", "floor", Sample::cpu_us);
    if !floor_sat.is_empty() {
        let _ = writeln!(
            out,
            "- 200-always at saturation, sipcfg / floor (fixed reply): **{:.2}** ({})",
            median(floor_sat.clone()),
            list(&floor_sat, 2)
        );
    }
    let kernel = pick(samples, "200-always", "kernel-path", "floor");
    if !kernel.is_empty() {
        let anchor = pick(samples, "200-always", "saturation", "kamailio");
        let share: Vec<f64> = kernel
            .iter()
            .filter_map(|k| anchor.iter().find(|a| a.round == k.round).map(|a| k.cpu_us() / a.cpu_us()))
            .collect();
        let kamailio = median(anchor.iter().map(|a| a.cpu_us()).collect());
        let _ = writeln!(
            out,
            "- The kernel path alone (the generator's request sent over loopback and received, 64 per \
             `sendmmsg`/`recvmmsg`, in one thread, no server logic, no wake-up): **{:.2} µs** per \
             datagram ({}), **{:.2}×** Kamailio's CPU per request at saturation ({}). A server \
             receives one datagram and sends one per request, so no server on this machine's UDP \
             path costs less than this; 0.25× Kamailio's median is {:.2} µs.",
            median(kernel.iter().map(|k| k.cpu_us()).collect()),
            list(&kernel.iter().map(|k| k.cpu_us()).collect::<Vec<_>>(), 2),
            median(share.clone()),
            list(&share, 2),
            kamailio * 0.25
        );
    }
    // Enough digits that `sipcfg-bench report` renders the same figures again.
    let _ = writeln!(out, "\n## Every run\n");
    let _ = writeln!(
        out,
        "| round | workload | kind | side | done | failed | retrans | CPU s (perf) | CPU s (/proc) | µs/req | rate /s | peak MB | wake-ups |"
    );
    let _ = writeln!(out, "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in samples {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {:.3} | {} |",
            s.round,
            s.workload,
            s.kind,
            s.side,
            s.completed,
            s.failed,
            s.retransmissions,
            s.cost.cpu_perf.map_or("-".to_string(), |c| format!("{c:.6}")),
            s.cost.cpu_ticks,
            s.cpu_us(),
            s.rate,
            s.cost.peak_pss as f64 / 1e6,
            s.cost.wakeups.map_or("-".to_string(), |w| w.to_string())
        );
    }
    out
}

/// The samples of a report's "Every run" table, to render the report again without
/// re-running the load (`sipcfg-bench report`).
pub fn parse_runs(markdown: &str) -> Vec<Sample> {
    let start = markdown.find("## Every run").unwrap_or(markdown.len());
    let text = &markdown[start..];
    let end = text[1..].find("\n## ").map_or(text.len(), |e| e + 1);
    let interned = |word: &str| -> Option<&'static str> {
        ["moderate", "paced", "loadgen-check", "saturation", "clean-rate", "kernel-path", "kamailio", "sipcfg", "floor"]
            .into_iter()
            .find(|known| *known == word)
    };
    text[..end]
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            // Reports written before wake-ups were counted have one column less.
            let (row, wakeups) = match cells[..] {
                [ref row @ .., wakeups] if cells.len() == 13 => (row, wakeups.parse().ok()),
                ref row => (row, None),
            };
            let [round, workload, kind, side, done, failed, retrans, perf, ticks, _, rate, peak] = row[..] else {
                return None;
            };
            Some(Sample {
                workload: workload.to_string(),
                kind: interned(kind)?,
                side: interned(side)?,
                round: round.parse().ok()?,
                completed: done.parse().ok()?,
                failed: failed.parse().ok()?,
                retransmissions: retrans.parse().ok()?,
                cost: Cost {
                    cpu_ticks: ticks.parse().ok()?,
                    cpu_perf: perf.parse().ok(),
                    peak_pss: (peak.parse::<f64>().ok()? * 1e6) as u64,
                    wakeups,
                },
                rate: rate.parse().ok()?,
            })
        })
        .collect()
}

/// One group of bars: a label and (side, value, text shown beside the bar).
type Group = (String, Vec<(&'static str, f64, String)>);

/// Two bar charts: CPU per request relative to Kamailio for every workload and load (the
/// µs beside each bar), and the highest clean rate at saturation.
pub fn svg(samples: &[Sample]) -> String {
    let sides = ["kamailio", "sipcfg", "floor"];
    let mut cpu: Vec<Group> = Vec::new();
    for workload in WORKLOADS {
        for (kind, caption) in [("moderate", "sipp"), ("paced", "paced"), ("saturation", "saturation")] {
            // At saturation, the kernel path alone beside the sides (measured on 200-always).
            let kernel = (kind == "saturation").then_some(("kernel-path", "kernel-path", "floor"));
            let medians: Vec<(&'static str, f64)> = sides
                .into_iter()
                .map(|side| (side, kind, side))
                .chain(kernel)
                .filter_map(|(bar, kind, side)| {
                    let values: Vec<f64> =
                        pick(samples, workload.name, kind, side).iter().map(|s| s.cpu_us()).collect();
                    (!values.is_empty()).then(|| (bar, median(values)))
                })
                .collect();
            let Some(&(_, anchor)) = medians.iter().find(|(side, _)| *side == "kamailio") else { continue };
            if medians.len() < 2 {
                continue;
            }
            let unit = if workload.name == "stateful-lb" { "µs/call" } else { "µs" };
            let bars = medians
                .iter()
                .map(|&(side, v)| (side, v / anchor, format!("{v:.2} {unit} ({:.2})", v / anchor)))
                .collect();
            cpu.push((format!("{} {caption}", workload.name), bars));
        }
    }
    let mut rates: Vec<Group> = Vec::new();
    for workload in WORKLOADS {
        let bars: Vec<(&'static str, f64, String)> = sides
            .into_iter()
            .filter_map(|side| {
                let values: Vec<f64> =
                    pick(samples, workload.name, "clean-rate", side).iter().map(|s| s.rate).collect();
                (!values.is_empty()).then(|| {
                    let m = median(values);
                    (side, m, format!("{:.0}k/s", m / 1000.0))
                })
            })
            .collect();
        if !bars.is_empty() {
            rates.push((workload.name.to_string(), bars));
        }
    }
    let colour = |side: &str| match side {
        "kamailio" => "#d9534f",
        "sipcfg" => "#2a7ab9",
        "kernel-path" => "#d0d0d0",
        _ => "#8c8c8c",
    };
    let (label_width, bar_height, plot_width) = (200.0, 15.0, 480.0);
    let panel_height =
        |groups: &[Group]| 40.0 + groups.iter().map(|(_, b)| b.len() as f64 * bar_height + 12.0).sum::<f64>();
    let width = label_width + plot_width + 170.0;
    let height = 50.0 + panel_height(&cpu) + panel_height(&rates);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let mut legend_x = 10.0;
    let measured_kernel = samples.iter().any(|s| s.kind == "kernel-path");
    for side in sides.into_iter().chain(measured_kernel.then_some("kernel-path")) {
        let _ = writeln!(
            out,
            r#"<rect x="{legend_x}" y="10" width="12" height="12" fill="{}"/><text x="{}" y="20">{side}</text>"#,
            colour(side),
            legend_x + 16.0
        );
        legend_x += 90.0;
    }
    let mut y = 50.0;
    let mut panel = |out: &mut String, title: &str, groups: &[Group]| {
        let _ = writeln!(out, r#"<text x="10" y="{y}" font-size="14" font-weight="bold">{title}</text>"#);
        y += 14.0;
        let max = groups.iter().flat_map(|(_, b)| b.iter().map(|(_, v, _)| *v)).fold(f64::MIN_POSITIVE, f64::max);
        for (label, bars) in groups {
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" text-anchor="end">{label}</text>"#,
                label_width - 8.0,
                y + bars.len() as f64 * bar_height / 2.0 + 4.0
            );
            for (side, value, text) in bars {
                let w = value / max * plot_width;
                let _ = writeln!(
                    out,
                    r#"<rect x="{label_width}" y="{y}" width="{w:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{}" font-size="11">{text}</text>"#,
                    bar_height - 2.0,
                    colour(side),
                    label_width + w + 4.0,
                    y + bar_height - 4.0
                );
                y += bar_height;
            }
            y += 12.0;
        }
        y += 26.0;
    };
    panel(&mut out, "CPU per request, ratio of the medians to Kamailio's (shorter is better)", &cpu);
    panel(&mut out, "Highest rate served with every request answered, children=1 (longer is better)", &rates);
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(side: &'static str, round: u32, cpu: f64) -> Sample {
        Sample {
            workload: "200-always".to_string(),
            kind: "moderate",
            side,
            round,
            completed: 16000,
            failed: 0,
            retransmissions: 0,
            cost: Cost { cpu_ticks: 0.2, cpu_perf: Some(cpu), peak_pss: 2_500_000, wakeups: Some(8000) },
            rate: 0.0,
        }
    }

    #[test]
    fn a_report_renders_again_from_its_own_table() {
        let check = |side, round, cpu, wakeups| Sample {
            kind: "loadgen-check",
            cost: Cost { wakeups: Some(wakeups), ..sample(side, round, cpu).cost },
            ..sample(side, round, cpu)
        };
        let samples = vec![
            sample("kamailio", 1, 0.2143),
            sample("sipcfg", 1, 0.1399),
            check("kamailio", 1, 0.2, 16000),
            check("sipcfg", 1, 0.14, 6400),
            sample("kamailio", 2, 0.2),
            sample("sipcfg", 2, 0.15),
            check("kamailio", 2, 0.2, 16000),
            check("sipcfg", 2, 0.14, 9600),
        ];
        let plan =
            Plan { rounds: 2, rate: 2000, seconds: 8, call_rate: 200, saturation_requests: 1000, workloads: vec![] };
        let first = markdown(&samples, &plan, "Machine: test", "cargo xtask bench");
        let parsed = parse_runs(&first);
        assert_eq!(parsed.len(), 8);
        assert_eq!(markdown(&parsed, &plan, "Machine: test", "cargo xtask bench"), first);
        // 16000 requests over 6400 and 9600 wake-ups; sipp's samples woke sipcfg 8000 times.
        assert!(first.contains("Kamailio 1.00 with the generator vs 2.00 with sipp, sipcfg 2.08 vs 2.00."), "{first}");
        // Median of the per-round ratios 0.653 and 0.75; 8000 wake-ups for 16000 requests.
        assert!(first.contains("**0.70** (0.65 / 0.75) | 0/0 | 0/0 | 2.5/2.5 | 0.50/0.50 |"), "{first}");
        let chart = svg(&samples);
        assert!(chart.contains(">200-always sipp</text>"), "{chart}");
        assert!(chart.contains("12.95 µs (1.00)") && chart.contains("9.06 µs (0.70)"), "{chart}");
    }

    #[test]
    fn the_kernel_path_is_set_against_kamailio_at_saturation_and_renders_again() {
        let run = |kind, side, round, cpu: f64, wakeups| Sample {
            kind,
            completed: 300_000,
            cost: Cost { cpu_ticks: cpu, cpu_perf: Some(cpu), peak_pss: 0, wakeups },
            ..sample(side, round, cpu)
        };
        // Kamailio 8 and 10 µs per request; the kernel path 3.2 and 3.5 µs per datagram.
        let samples = vec![
            run("saturation", "kamailio", 1, 2.4, Some(60)),
            run("kernel-path", "floor", 1, 0.96, None),
            run("saturation", "kamailio", 2, 3.0, Some(60)),
            run("kernel-path", "floor", 2, 1.05, None),
        ];
        let plan =
            Plan { rounds: 2, rate: 2000, seconds: 8, call_rate: 200, saturation_requests: 300_000, workloads: vec![] };
        let report = markdown(&samples, &plan, "Machine: test", "cargo xtask bench");
        assert!(report.contains("**3.35 µs** per datagram (3.20 / 3.50), **0.38×**"), "{report}");
        assert!(report.contains("(0.40 / 0.35)") && report.contains("median is 2.25 µs."), "{report}");
        let parsed = parse_runs(&report);
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[1].cost.wakeups, None);
        assert_eq!(markdown(&parsed, &plan, "Machine: test", "cargo xtask bench"), report);
        let chart = svg(&samples);
        assert!(chart.contains(">kernel-path</text>") && chart.contains("3.35 µs (0.37)"), "{chart}");
    }

    #[test]
    fn a_report_from_before_wakeups_were_counted_still_parses() {
        let old = "## Every run\n\n\
                   | round | workload | kind | side | done | failed | retrans | CPU s (perf) | CPU s (/proc) | µs/req | rate /s | peak MB |\n\
                   |---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n\
                   | 1 | 200-always | moderate | sipcfg | 16000 | 0 | 0 | 0.196670 | 0.20 | 12.29 | 0 | 2.415 |\n";
        let parsed = parse_runs(old);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].cost.wakeups, None);
        assert_eq!(parsed[0].requests_per_wakeup(), None);
        let plan =
            Plan { rounds: 1, rate: 2000, seconds: 8, call_rate: 200, saturation_requests: 1, workloads: vec![] };
        let kamailio = Sample { side: "kamailio", ..parsed[0].clone() };
        let report = markdown(&[kamailio, parsed[0].clone()], &plan, "Machine: test", "cargo xtask bench");
        assert!(report.contains("| 2.4/2.4 | -/- |"), "{report}");
        assert!((parsed[0].cpu_us() - 12.29).abs() < 0.01);
    }
}
