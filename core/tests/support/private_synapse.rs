//! A Synapse of a test's own, which the test may kill or pause without
//! disturbing the suite's shared homeserver.
//!
//! Started through `harness/synapse_harness.py` with the Python that
//! `cargo xtask test` passes in `MMC_HARNESS_PYTHON` (else the repository's
//! `.venv`). The harness's watchdog stops it if the test process dies.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running private Synapse. Guarantee: dropping it resumes the process if
/// it was paused and stops it (the harness's `stop`), whatever the test did.
pub struct PrivateSynapse {
    /// `https://127.0.0.1:PORT`, with a certificate of the run's CA.
    pub url: String,
    pid: u32,
    python: PathBuf,
    state: TempDir,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the core crate sits in the repository")
        .to_owned()
}

fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("MMC_HARNESS_PYTHON") {
        return python.into();
    }
    let venv = repo_root().join(".venv").join("bin").join("python");
    assert!(
        venv.exists(),
        "no Python with Synapse: run the suite with `cargo xtask test`, or set MMC_HARNESS_PYTHON"
    );
    venv
}

fn harness() -> PathBuf {
    repo_root().join("harness").join("synapse_harness.py")
}

impl PrivateSynapse {
    /// Starts a fresh Synapse and waits until it answers.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A fresh Synapse whose access tokens, when issued with a refresh
    /// token, expire after `secs` (`refreshable_access_token_lifetime`).
    pub fn with_token_lifetime(secs: u64) -> Self {
        Self::start_with(&["--access-token-lifetime-s", &secs.to_string()])
    }

    /// Starts a fresh Synapse with the harness's extra `start` arguments.
    fn start_with(extra: &[&str]) -> Self {
        let python = python();
        let state = TempDir::new().unwrap();
        let mut command = Command::new(&python);
        command
            .arg(harness())
            .args(["start", "--state-dir"])
            .arg(state.path())
            .args(["--owner-pid", &std::process::id().to_string()])
            .args(extra);
        // The run's CA signs this Synapse's certificate too, so that the
        // clients of the test trust it as they trust the shared one.
        if let Some(ca_dir) = std::env::var_os("MMC_TLS_DIR") {
            command.arg("--ca-dir").arg(ca_dir);
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .expect("run the Synapse harness");
        assert!(
            output.status.success(),
            "the harness could not start a private Synapse"
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        Self {
            url: json["homeserver_url"].as_str().unwrap().to_owned(),
            pid: json["pid"].as_u64().unwrap() as u32,
            python,
            state,
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {}", self.pid);
    }

    /// SIGKILL, then waits until the port refuses connections.
    pub fn kill(&self) {
        self.signal("KILL");
        let address = self
            .url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&address).is_ok() {
            assert!(
                Instant::now() < deadline,
                "Synapse still answers after SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGSTOP: the kernel still accepts connections; nothing answers.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// SIGCONT.
    pub fn resume(&self) {
        self.signal("CONT");
    }
}

impl Drop for PrivateSynapse {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.pid.to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new(&self.python)
            .arg(harness())
            .args(["stop", "--state-dir"])
            .arg(self.state.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
