//! The Debian trixie root with Swift 6 in which the Swift tests run on Linux.
//!
//! The host is Debian bookworm, whose libc is too old for trixie's `swiftlang`
//! (Swift 6.0.3). So the toolchain lives in a `debootstrap`ed trixie root
//! under the user cache, outside the repository, built once and reused. The
//! repository is bind-mounted into the root at its own absolute path, so every
//! path (package, build directory, cdylib) means the same thing on both sides.
//! The root shares the host's network namespace, so a homeserver listening on
//! the host's loopback is reachable from the tests.

use crate::ctx::{self, Ctx};
use anyhow::{bail, Context, Result};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Debian packages installed into the root; a change is installed into an
/// existing root on the next run. `ca-certificates`: the core's TLS verifier
/// fails to build its HTTP client without a system CA store, even for `http`.
const ROOT_PACKAGES: &[&str] = &[
    "swiftlang",
    "libc6-dev",
    "libstdc++-14-dev",
    "ca-certificates",
];
/// Written last into a complete root; its content names what was installed.
const MARKER: &str = ".mmc-swift-root";
const SUITE: &str = "trixie";
const MIRROR: &str = "http://deb.debian.org/debian";
const CHROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Returns a trixie root with Swift installed, building it on first use.
///
/// The root is complete when this returns: it is built in a temporary
/// directory and renamed into place only after its marker is written, so an
/// interrupted build is never mistaken for a usable root.
pub fn ensure_root(ctx: &Ctx) -> Result<PathBuf> {
    let cache = ctx.user_cache();
    let root = cache.join(format!("swift-{SUITE}"));
    let stamp = marker_contents();
    if is_ready(&root, &stamp) {
        return Ok(root);
    }
    require_superuser()?;
    if root.join(MARKER).exists() {
        // A complete root from an older package list: install the new list.
        match install_packages(&cache, &root) {
            Ok(()) => {
                fs::write(root.join(MARKER), &stamp)?;
                return Ok(root);
            }
            Err(err) => eprintln!(
                "swift: updating {} failed ({err:#}); rebuilding it",
                root.display()
            ),
        }
    }
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    remove_root_dir(&root)?;
    for stale in stale_temp_roots(&cache)? {
        remove_root_dir(&stale)?;
    }
    ensure_debootstrap()?;

    let tmp = cache.join(format!("swift-{SUITE}.tmp-{}", std::process::id()));
    let started = Instant::now();
    let mut debootstrap = Command::new("debootstrap");
    debootstrap
        .args(["--variant=minbase", SUITE])
        .arg(&tmp)
        .arg(MIRROR);
    run_logged(&mut debootstrap, &cache.join("debootstrap.log"))?;
    eprintln!(
        "swift: debootstrap {SUITE} took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    install_packages(&cache, &tmp)?;

    fs::write(tmp.join(MARKER), &stamp)?;
    if let Err(err) = fs::rename(&tmp, &root) {
        // Another run finished first: use its root and drop ours.
        if is_ready(&root, &stamp) {
            remove_root_dir(&tmp)?;
        } else {
            return Err(err)
                .with_context(|| format!("renaming {} to {}", tmp.display(), root.display()));
        }
    }
    Ok(root)
}

/// Installs [`ROOT_PACKAGES`] into `root` with the root's own apt.
fn install_packages(cache: &Path, root: &Path) -> Result<()> {
    let started = Instant::now();
    let mut mounts = Mounts::new(root)?;
    mounts.bind(Path::new("/proc"))?;
    let install = format!(
        "apt-get update -qq && apt-get install -y -qq --no-install-recommends {}",
        ROOT_PACKAGES.join(" ")
    );
    let mut apt = chroot(root);
    apt.env("DEBIAN_FRONTEND", "noninteractive")
        .args(["sh", "-c", &install]);
    run_logged(&mut apt, &cache.join("apt.log"))?;
    ctx::run(chroot(root).args(["swift", "--version"]))?;
    eprintln!(
        "swift: apt-get install took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs `cmd` with its output going to `log`; on failure, the error carries
/// the log's last lines.
fn run_logged(cmd: &mut Command, log: &Path) -> Result<()> {
    let file = fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    cmd.stdout(file.try_clone()?).stderr(file);
    if let Err(err) = ctx::run(cmd) {
        let text = fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(err.context(format!(
            "last lines of {}:\n{}",
            log.display(),
            tail.join("\n")
        )));
    }
    Ok(())
}

/// A `chroot ROOT` command with a clean, minimal environment.
pub(super) fn chroot(root: &Path) -> Command {
    let mut cmd = Command::new("chroot");
    cmd.arg(root)
        .env_clear()
        .env("PATH", CHROOT_PATH)
        .env("HOME", "/root")
        .env("LANG", "C.UTF-8");
    cmd
}

fn marker_contents() -> String {
    format!("{SUITE} {}\n", ROOT_PACKAGES.join(" "))
}

fn is_ready(root: &Path, stamp: &str) -> bool {
    fs::read_to_string(root.join(MARKER)).is_ok_and(|s| s == stamp)
}

fn require_superuser() -> Result<()> {
    let uid = fs::metadata("/proc/self")
        .context("reading /proc/self")?
        .uid();
    if uid != 0 {
        bail!(
            "building the Swift root needs root (debootstrap, chroot, mount); running as uid {uid}"
        );
    }
    Ok(())
}

fn ensure_debootstrap() -> Result<()> {
    if ctx::have_tool("debootstrap") || Path::new("/usr/sbin/debootstrap").exists() {
        return Ok(());
    }
    ctx::run(Command::new("apt-get").arg("update").arg("-qq"))?;
    ctx::run(Command::new("apt-get").args(["install", "-y", "-qq", "debootstrap"]))
}

fn stale_temp_roots(cache: &Path) -> Result<Vec<PathBuf>> {
    let prefix = format!("swift-{SUITE}.tmp-");
    let mut stale = Vec::new();
    for entry in fs::read_dir(cache)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            stale.push(entry.path());
        }
    }
    Ok(stale)
}

/// Removes a (partial) root, after undoing any mount left inside it by an
/// interrupted run, so that deleting it can never reach into the host.
fn remove_root_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    unmount_all_under(dir)?;
    if !mount_points_under(dir)?.is_empty() {
        bail!("{} still has mounts inside; not deleting it", dir.display());
    }
    fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))
}

/// Mount points at or below `dir`, deepest first, from /proc/self/mountinfo.
fn mount_points_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let info = fs::read_to_string("/proc/self/mountinfo")?;
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mount_path(p)))
        .filter(|p| p.starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    Ok(points)
}

/// mountinfo writes space, tab, newline and backslash as `\ooo` octal.
fn unescape_mount_path(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(char::from(c));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn unmount_all_under(dir: &Path) -> Result<()> {
    for point in mount_points_under(dir)? {
        unmount(&point);
    }
    Ok(())
}

fn unmount(point: &Path) {
    let ok = Command::new("umount")
        .arg(point)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        // Busy (a process still inside): detach it now, freed when unused.
        let _ = Command::new("umount").arg("-l").arg(point).status();
    }
}

/// Bind mounts into a root, each undone (deepest first) when this is dropped.
pub(super) struct Mounts {
    root: PathBuf,
    points: Vec<PathBuf>,
}

impl Mounts {
    /// Starts from a clean root: mounts left by an interrupted run are undone.
    pub(super) fn new(root: &Path) -> Result<Self> {
        unmount_all_under(root)?;
        Ok(Self {
            root: root.to_path_buf(),
            points: Vec::new(),
        })
    }

    /// Bind-mounts the host directory `host` at the same path inside the root.
    pub(super) fn bind(&mut self, host: &Path) -> Result<()> {
        let relative = host
            .strip_prefix("/")
            .with_context(|| format!("{} is not absolute", host.display()))?;
        let point = self.root.join(relative);
        fs::create_dir_all(&point).with_context(|| format!("creating {}", point.display()))?;
        ctx::run(Command::new("mount").arg("--bind").arg(host).arg(&point))?;
        self.points.push(point);
        Ok(())
    }
}

impl Mounts {
    /// Binds the host file `host` over the root's own file `inside` (an
    /// absolute path in the root), which must exist.
    pub(super) fn bind_file(&mut self, host: &Path, inside: &Path) -> Result<()> {
        let relative = inside
            .strip_prefix("/")
            .with_context(|| format!("{} is not absolute", inside.display()))?;
        let point = self.root.join(relative);
        if !point.is_file() {
            bail!("{} is not a file of the root", point.display());
        }
        ctx::run(Command::new("mount").arg("--bind").arg(host).arg(&point))?;
        self.points.push(point);
        Ok(())
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        while let Some(point) = self.points.pop() {
            unmount(&point);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_octal_escapes_are_decoded() {
        assert_eq!(unescape_mount_path(r"/a\040b/c\134d"), "/a b/c\\d");
        assert_eq!(unescape_mount_path("/plain"), "/plain");
        assert_eq!(unescape_mount_path(r"/bad\9"), r"/bad\9");
    }
}
