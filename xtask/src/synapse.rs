//! The test homeserver, driven through `harness/synapse_harness.py`.
//!
//! [`start`] gives a running Synapse on 127.0.0.1 with open registration, over
//! HTTPS with a throwaway CA made for the run; dropping the [`Synapse`] stops it.
//! A watchdog started by the harness also stops it when this process dies
//! without running `Drop` (Ctrl-C, a killed CI job).
//!
//! Every suite trusts that CA the way its platform does: [`start`] exports
//! `SSL_CERT_FILE` (the system's bundle plus the CA; rustls-platform-verifier,
//! OpenSSL and so Python read it on Linux) and `MMC_TLS_DIR` (the CA and the
//! bad certificates of the TLS tests) into this process, so every command that
//! xtask runs afterwards inherits them; the JVM and the Swift root, which do not
//! read `SSL_CERT_FILE`, are given the CA in their own ways (`kotlin.rs`,
//! `swift/`).

use crate::ctx::Ctx;
use crate::python;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Set this variable to keep a stopped Synapse's state folder (logs, database).
const KEEP_STATE_VAR: &str = "MMC_KEEP_SYNAPSE_STATE";

/// The folder of the run's CA (`ca.pem`, `ca.key`) and test certificates.
pub const TLS_DIR_VAR: &str = "MMC_TLS_DIR";

/// A running Synapse. Guarantee: when `Drop` returns, the harness has stopped the
/// Synapse process (SIGTERM, SIGKILL after 10 s) or an error naming the state
/// folder was printed; `Drop` never panics.
pub struct Synapse {
    /// `https://127.0.0.1:PORT`, what `MMC_HOMESERVER_URL` carries.
    pub url: String,
    /// The system's CA bundle followed by the run's CA: `SSL_CERT_FILE`.
    pub trust_file: PathBuf,
    /// The folder with its config, SQLite database and `synapse.log`.
    pub state_dir: PathBuf,
    python: PathBuf,
    harness: PathBuf,
}

/// Starts a fresh Synapse (new state under `target/synapse/`) and waits until it
/// answers `/_matrix/client/versions`.
pub fn start(ctx: &Ctx) -> Result<Synapse> {
    let (synapse, tls_dir) = launch(ctx, &[])?;
    // xtask is single-threaded here, and every child it starts from now on
    // needs the run's CA.
    std::env::set_var("SSL_CERT_FILE", &synapse.trust_file);
    std::env::set_var(TLS_DIR_VAR, tls_dir);
    eprintln!("synapse: running at {}", synapse.url);
    Ok(synapse)
}

/// Lifetime of an access token on the refresh Synapse, in seconds.
pub const REFRESH_TOKEN_LIFETIME_S: u64 = 5;

/// What carries the refresh Synapse's URL to the Kotlin and Swift tests.
pub const REFRESH_URL_VAR: &str = "MMC_REFRESH_HOMESERVER_URL";

/// What carries [`REFRESH_TOKEN_LIFETIME_S`] to the Kotlin and Swift tests.
pub const REFRESH_LIFETIME_VAR: &str = "MMC_REFRESH_TOKEN_LIFETIME_S";

/// A second Synapse, started after [`start`], whose access tokens (when
/// issued with a refresh token) expire after [`REFRESH_TOKEN_LIFETIME_S`]
/// seconds, for the tests of sessions that refresh. Its certificate is
/// signed by the run's CA (`MMC_TLS_DIR`), so everything that trusts the
/// first Synapse trusts it; it changes no environment variable.
pub fn start_refresh(ctx: &Ctx) -> Result<Synapse> {
    let ca_dir = std::env::var(TLS_DIR_VAR)
        .with_context(|| format!("{TLS_DIR_VAR} is unset: start the main Synapse first"))?;
    let lifetime = REFRESH_TOKEN_LIFETIME_S.to_string();
    let (synapse, _) = launch(
        ctx,
        &["--ca-dir", &ca_dir, "--access-token-lifetime-s", &lifetime],
    )?;
    eprintln!(
        "synapse: refresh Synapse (tokens expire after {lifetime} s) at {}",
        synapse.url
    );
    Ok(synapse)
}

/// Runs the harness's `start` with `extra` arguments in a new state folder;
/// returns the running Synapse and its `tls_dir`.
fn launch(ctx: &Ctx, extra: &[&str]) -> Result<(Synapse, String)> {
    let python = python::ensure_venv(ctx)?;
    let harness = python::harness_script(ctx);
    let parent = ctx.target_dir().join("synapse");
    remove_stopped_runs(&parent);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let state_dir = parent.join(format!("run-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("creating {}", state_dir.display()))?;

    let status = Command::new(&python)
        .arg(&harness)
        .arg("start")
        .arg("--state-dir")
        .arg(&state_dir)
        .arg("--owner-pid")
        .arg(std::process::id().to_string())
        .args(extra)
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("could not run {}", harness.display()))?;
    if !status.success() {
        bail!(
            "the Synapse harness failed to start ({status}); its state is in {}",
            state_dir.display()
        );
    }
    let state = read_state(&state_dir)?;
    let field = |name: &str| -> Result<String> {
        state[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("harness.json has no string `{name}`"))
    };
    let synapse = Synapse {
        url: field("homeserver_url")?,
        trust_file: field("trust_file")?.into(),
        state_dir,
        python,
        harness,
    };
    let tls_dir = field("tls_dir")?;
    Ok((synapse, tls_dir))
}

impl Synapse {
    fn stop(&self) -> Result<()> {
        let status = Command::new(&self.python)
            .arg(&self.harness)
            .arg("stop")
            .arg("--state-dir")
            .arg(&self.state_dir)
            .stdout(Stdio::null())
            .status()
            .context("could not run the harness")?;
        if !status.success() {
            bail!("the harness could not stop Synapse ({status})");
        }
        Ok(())
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            eprintln!("synapse: {err:#}; see {}", self.state_dir.display());
            return;
        }
        if std::env::var_os(KEEP_STATE_VAR).is_none() {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

/// `cargo xtask synapse`: runs Synapse in the foreground until Ctrl-C or stdin EOF.
///
/// The harness itself waits and stops Synapse, so Ctrl-C (which reaches the whole
/// foreground process group) cannot leave it running. The state folder is
/// `target/synapse/foreground`, wiped at each start.
pub fn run_foreground(ctx: &Ctx) -> Result<()> {
    let python = python::ensure_venv(ctx)?;
    let state_dir = ctx.target_dir().join("synapse").join("foreground");
    if state_dir.join("harness.json").exists() {
        // A previous foreground run that was killed outright: stop what it left.
        let _ = Command::new(&python)
            .arg(python::harness_script(ctx))
            .arg("stop")
            .arg("--state-dir")
            .arg(&state_dir)
            .status();
    }
    let _ = std::fs::remove_dir_all(&state_dir);
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("creating {}", state_dir.display()))?;
    crate::ctx::run(
        Command::new(&python)
            .arg(python::harness_script(ctx))
            .arg("run")
            .arg("--state-dir")
            .arg(&state_dir),
    )
}

fn read_state(state_dir: &Path) -> Result<serde_json::Value> {
    let path = state_dir.join("harness.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Removes state folders of earlier runs whose Synapse is stopped (no `harness.json`)
/// and whose xtask process is gone.
fn remove_stopped_runs(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("run-")
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let path = entry.path();
        if !path.join("harness.json").exists() && !process_alive(pid) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Whether a process with this pid exists; true where that cannot be told.
fn process_alive(pid: &str) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid).exists()
}
