//! bench/RESULTS.md and bench/results.svg from the samples of one run.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::harness::{Plan, Sample, WORKLOADS};

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
         the server's processes (Kamailio's shared memory counted once). Ratios are sipcfg / \
         anchor per round pair; the tables give the median and every round.\n",
        plan.rounds
    );
    let _ = writeln!(
        out,
        "## Moderate rate (sipp, {} requests/s or {} calls/s for {} s)\n",
        plan.rate, plan.call_rate, plan.seconds
    );
    let _ = writeln!(
        out,
        "| workload | Kamailio µs CPU/req | sipcfg µs CPU/req | sipcfg/Kamailio (median; rounds) | failed K/s | retrans K/s | peak MB K/s |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---|---|---|");
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
            "| {}{unit} | {:.2} | {:.2} | **{:.2}** ({}) | {}/{} | {}/{} | {:.1}/{:.1} |",
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
    let check_k = pick(samples, "200-always", "loadgen-check", "kamailio");
    let check_s = pick(samples, "200-always", "loadgen-check", "sipcfg");
    if !check_k.is_empty() && !check_s.is_empty() {
        let versus = |side: &str, checks: &[&Sample]| {
            let sipp: Vec<f64> = pick(samples, "200-always", "moderate", side).iter().map(|s| s.cpu_us()).collect();
            let generated: Vec<f64> = checks.iter().map(|s| s.cpu_us()).collect();
            (median(generated), median(sipp))
        };
        let (kg, ks) = versus("kamailio", &check_k);
        let (sg, ss) = versus("sipcfg", &check_s);
        let _ = writeln!(
            out,
            "\nLoad generator cross-check (200-always at the same rate, paced one request at a time): \
             Kamailio {kg:.2} µs/req with the Rust generator vs {ks:.2} with sipp ({:+.1}%); sipcfg \
             {sg:.2} vs {ss:.2} ({:+.1}%).",
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
                median(rate.iter().map(|r| r.to_owned()).collect()),
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
    let _ = writeln!(out, "\n## Every run\n");
    let _ = writeln!(
        out,
        "| round | workload | kind | side | done | failed | retrans | CPU s (perf) | CPU s (/proc) | µs/req | rate /s | peak MB |"
    );
    let _ = writeln!(out, "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in samples {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {:.1} |",
            s.round,
            s.workload,
            s.kind,
            s.side,
            s.completed,
            s.failed,
            s.retransmissions,
            s.cost.cpu_perf.map_or("-".to_string(), |c| format!("{c:.4}")),
            s.cost.cpu_ticks,
            s.cpu_us(),
            s.rate,
            s.cost.peak_pss as f64 / 1e6
        );
    }
    out
}

/// A bar chart of the median CPU per request, moderate rate and saturation, per workload and
/// side.
pub fn svg(samples: &[Sample]) -> String {
    let mut groups: Vec<(String, Vec<(&str, f64)>)> = Vec::new();
    for workload in WORKLOADS {
        for kind in ["moderate", "saturation"] {
            let bars: Vec<(&str, f64)> = ["kamailio", "sipcfg", "floor"]
                .into_iter()
                .filter_map(|side| {
                    let values: Vec<f64> =
                        pick(samples, workload.name, kind, side).iter().map(|s| s.cpu_us()).collect();
                    (!values.is_empty()).then(|| (side, median(values)))
                })
                .collect();
            if bars.len() >= 2 {
                let unit = if workload.name == "stateful-lb" { " /call" } else { "" };
                groups.push((format!("{} {kind}{unit}", workload.name), bars));
            }
        }
    }
    let colour = |side: &str| match side {
        "kamailio" => "#d9534f",
        "sipcfg" => "#2a7ab9",
        _ => "#8c8c8c",
    };
    let max = groups.iter().flat_map(|(_, b)| b.iter().map(|(_, v)| *v)).fold(1.0_f64, f64::max);
    let (label_width, bar_height, plot_width) = (230.0, 16.0, 520.0);
    let group_height = |bars: usize| bars as f64 * bar_height + 14.0;
    let height = 70.0 + groups.iter().map(|(_, b)| group_height(b.len())).sum::<f64>();
    let width = label_width + plot_width + 90.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="20" font-size="15" font-weight="bold">CPU per request (µs, median of rounds; shorter is better)</text>"#
    );
    let mut legend_x = 10.0;
    for side in ["kamailio", "sipcfg", "floor"] {
        let _ = writeln!(
            out,
            r#"<rect x="{legend_x}" y="32" width="12" height="12" fill="{}"/><text x="{}" y="42">{side}</text>"#,
            colour(side),
            legend_x + 16.0
        );
        legend_x += 90.0;
    }
    let mut y = 60.0;
    for (label, bars) in &groups {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{label}</text>"#,
            label_width - 8.0,
            y + bars.len() as f64 * bar_height / 2.0 + 4.0
        );
        for (side, value) in bars {
            let w = value / max * plot_width;
            let _ = writeln!(
                out,
                r#"<rect x="{label_width}" y="{y}" width="{w:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{}">{value:.2}</text>"#,
                bar_height - 2.0,
                colour(side),
                label_width + w + 4.0,
                y + bar_height - 4.0
            );
            y += bar_height;
        }
        y += 14.0;
    }
    out.push_str("</svg>\n");
    out
}
