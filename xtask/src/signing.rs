//! The OpenPGP key that signs the Maven artifacts, and `gpg --verify`.
//!
//! Maven Central wants a detached `.asc` beside every file of a deployment;
//! JReleaser writes them (`jreleaser.rs`), with `gpg` and the key named here,
//! and `central::validate` checks each with [`Signer::verify`].
//! `release-local` signs with a throwaway key made for the run in a temporary
//! `GNUPGHOME` (so the directory it writes is checked exactly as a signed one
//! would be); with `MMC_SIGNING_KEY` set (always with `--publish`), with the
//! release key that the caller imported into its own keyring.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::ctx::have_tool;

/// Who signs: a key in a keyring, reachable by `gpg` with `GNUPGHOME` (when
/// set) and the key's fingerprint or id.
///
/// Guarantee: a `Signer` that exists names a secret key that `gpg` can sign
/// with, without a passphrase prompt for a throwaway key.
pub struct Signer {
    /// The keyring of a throwaway key; `None` for the caller's own keyring.
    home: Option<tempfile::TempDir>,
    /// The fingerprint (or id) of the signing key.
    key: String,
}

impl Signer {
    /// Makes a new RSA signing key that lives as long as the `Signer`, in a
    /// temporary `GNUPGHOME` (`gpg --batch --quick-gen-key`, about 2 s).
    pub fn throwaway() -> Result<Self> {
        require_gpg()?;
        let home = tempfile::Builder::new()
            .prefix("mmc-gnupg-")
            .tempdir()
            .context("creating a temporary GNUPGHOME")?;
        // gpg wants its home private.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))?;
        }
        let output = Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args([
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "matrix-mobile-core release-local (throwaway) <release-local@invalid>",
                "rsa3072",
                "sign",
                "never",
            ])
            .output()
            .context("could not run gpg --quick-gen-key")?;
        if !output.status.success() {
            bail!(
                "gpg --quick-gen-key failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let listing = Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args(["--batch", "--with-colons", "--list-secret-keys"])
            .output()
            .context("could not run gpg --list-secret-keys")?;
        let listing = String::from_utf8_lossy(&listing.stdout);
        let key = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').find(|field| !field.is_empty()))
            .context("gpg made a key but lists no fingerprint")?
            .to_owned();
        Ok(Self {
            home: Some(home),
            key,
        })
    }

    /// The key `key_id` in the caller's keyring (its default `GNUPGHOME`).
    pub fn from_keyring(key_id: &str) -> Result<Self> {
        require_gpg()?;
        let status = Command::new("gpg")
            .args(["--batch", "--list-secret-keys", key_id])
            .output()
            .context("could not run gpg --list-secret-keys")?
            .status;
        if !status.success() {
            bail!("the keyring has no secret key `{key_id}` to sign with");
        }
        Ok(Self {
            home: None,
            key: key_id.to_owned(),
        })
    }

    /// The key's fingerprint or id, as `gpg --local-user` takes it.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The `GNUPGHOME` of a throwaway key.
    pub fn gnupg_home(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.path().to_path_buf())
    }

    /// Whether the key was made for this run.
    pub fn is_throwaway(&self) -> bool {
        self.home.is_some()
    }

    /// A `gpg` command on this key's keyring.
    pub fn gpg(&self) -> Command {
        let mut cmd = Command::new("gpg");
        if let Some(home) = &self.home {
            cmd.env("GNUPGHOME", home.path());
        }
        cmd.arg("--batch");
        cmd
    }

    /// Writes `file.asc`, a detached ASCII-armoured signature of `file` (the
    /// tests' bundles; JReleaser signs the real ones).
    #[cfg(test)]
    pub fn sign(&self, file: &Path) -> Result<()> {
        let output = self
            .gpg()
            .args([
                "--yes",
                "--local-user",
                &self.key,
                "--armor",
                "--detach-sign",
            ])
            .arg(file)
            .output()
            .context("could not run gpg --detach-sign")?;
        if !output.status.success() {
            bail!(
                "gpg could not sign {}: {}",
                file.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Checks that `signature` is a good signature of `file` by a key of this
    /// keyring; the error carries gpg's own words.
    pub fn verify(&self, signature: &Path, file: &Path) -> Result<()> {
        let output = self
            .gpg()
            .arg("--verify")
            .arg(signature)
            .arg(file)
            .output()
            .context("could not run gpg --verify")?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            let reason = said
                .lines()
                .find(|l| l.contains("BAD signature") || l.contains("no valid OpenPGP"))
                .or_else(|| said.lines().last())
                .unwrap_or("no output");
            bail!("{reason}");
        }
        Ok(())
    }
}

fn require_gpg() -> Result<()> {
    if !have_tool("gpg") {
        bail!("`gpg` is not on PATH: Maven Central's artifacts are signed with GnuPG (apt-get install gnupg)");
    }
    Ok(())
}
