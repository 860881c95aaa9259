//! Building a proxy from config text and running it for a test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sipcfg_compiler::build::{BuildError, Layout, Profile, cargo_build, write_crate};
use sipcfg_compiler::diagnostics::render_human;
use sipcfg_compiler::{Options, check_file};

use crate::repo_root;

/// Builds `config` (written to `target/e2e/<name>.cfg`) into `target/e2e/<name>`, exactly as
/// `cargo xtask build` does. Builds share one cargo target directory, so they run one at a
/// time.
pub fn build(name: &str, config: &str) -> PathBuf {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = repo_root().join("target/e2e");
    std::fs::create_dir_all(&dir).expect("target/e2e");
    let path = dir.join(format!("{name}.cfg"));
    std::fs::write(&path, config).expect("write config");
    let frontend = check_file(&path, &Options::default()).expect("readable config");
    assert!(!frontend.has_errors(), "{}", render_human(&frontend.sources, &frontend.diagnostics));
    let layout = Layout::detect();
    let binary = dir.join(name);
    let built = write_crate(&frontend, &path, &layout)
        .and_then(|crate_dir| cargo_build(&crate_dir, &path, Profile::Release, &layout, &binary));
    match built {
        Ok(()) => binary,
        Err(BuildError::NotImplemented(d)) => panic!("{}", render_human(&frontend.sources, &d)),
        Err(e) => panic!("building {name}: {e}"),
    }
}

/// A running proxy, killed when dropped. Its stderr is collected for failure messages.
pub struct Proxy {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Starts `binary` with `args` (add `-l` to pick its address) and waits until it says it
    /// is listening.
    pub fn start(binary: &Path, args: &[&str]) -> Proxy {
        let mut child = Command::new(binary)
            .args(args)
            .arg("-E")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready, is_ready) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = Arc::clone(&log);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = ready.send(());
                }
                lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        let mut proxy = Proxy { child, log, reader: Some(reader) };
        if is_ready.recv_timeout(Duration::from_secs(10)).is_err() {
            let status = proxy.child.try_wait();
            panic!("{} did not start ({status:?}):\n{}", binary.display(), proxy.log());
        }
        proxy
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the proxy wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).join("\n")
    }

    /// Sends SIGTERM and waits for the exit status; returns it with everything logged.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..250 {
            if let Ok(Some(status)) = self.child.try_wait() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return (status, self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the proxy did not stop on SIGTERM:\n{}", self.log());
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
