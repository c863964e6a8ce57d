//! The glibc floor of what ships for Linux: the oldest glibc a library loads
//! on, read from the library itself, against what its wheel's tag promises.
//!
//! A library linked on a newer glibc binds some symbols to that glibc's
//! versions (`GLIBC_2.34` for the `pthread_*` functions that moved into libc
//! there, for instance); the dynamic loader refuses it on an older glibc.
//! [`floor`] is the highest `GLIBC_x.y` among the versions the library
//! requires (its `.gnu.version_r` section, read with goblin); a manylinux tag
//! (`manylinux_2_34_x86_64`, or the older `manylinux2014_x86_64`) promises
//! that the wheel loads on that glibc ([`tag_glibc`]). `release-local`
//! fails when a library needs more than its wheel's tag claims: the wheel's
//! own library, and each Linux library `core-jvm` carries.

use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use goblin::elf::Elf;

/// A glibc version, `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Glibc(pub u32, pub u32);

impl fmt::Display for Glibc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// The highest glibc version among the symbol versions that the ELF shared
/// library `lib` requires; `None` when it requires none.
pub fn floor(lib: &Path) -> Result<Option<Glibc>> {
    let bytes = std::fs::read(lib).with_context(|| format!("reading {}", lib.display()))?;
    let elf =
        Elf::parse(&bytes).with_context(|| format!("{} is not an ELF file", lib.display()))?;
    let Some(verneed) = &elf.verneed else {
        return Ok(None);
    };
    let mut highest = None;
    for need in verneed.iter() {
        for aux in need.iter() {
            if let Some(version) = elf.dynstrtab.get_at(aux.vna_name).and_then(parse_version) {
                highest = highest.max(Some(version));
            }
        }
    }
    Ok(highest)
}

/// `GLIBC_2.34` as 2.34; other version names (`GCC_3.0`, `GLIBC_PRIVATE`)
/// are not glibc releases.
fn parse_version(name: &str) -> Option<Glibc> {
    let (major, minor) = name.strip_prefix("GLIBC_")?.split_once('.')?;
    // `GLIBC_2.2.5` (x86-64's first) is 2.2.
    let minor = minor.split('.').next()?;
    Some(Glibc(major.parse().ok()?, minor.parse().ok()?))
}

/// The glibc that a wheel's platform tag promises the wheel loads on, or
/// `None` for a tag that is not manylinux (`macosx_11_0_arm64`,
/// `linux_x86_64`).
pub fn tag_glibc(platform: &str) -> Option<Glibc> {
    if let Some(rest) = platform.strip_prefix("manylinux_") {
        let mut parts = rest.splitn(3, '_');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        return Some(Glibc(major, minor));
    }
    // PEP 600's aliases of the legacy tags.
    [
        ("manylinux2014_", Glibc(2, 17)),
        ("manylinux2010_", Glibc(2, 12)),
        ("manylinux1_", Glibc(2, 5)),
    ]
    .into_iter()
    .find(|(prefix, _)| platform.starts_with(prefix))
    .map(|(_, glibc)| glibc)
}

/// The glibc the wheel at `wheel` promises, from its file name
/// (`name-version-py3-none-PLATFORM[.PLATFORM...].whl`): the oldest of its
/// manylinux platform tags, or `None` when it has none.
pub fn wheel_claim(wheel: &Path) -> Option<(String, Glibc)> {
    let name = wheel.file_name()?.to_str()?.strip_suffix(".whl")?;
    let platforms = name.rsplit('-').next()?;
    platforms
        .split('.')
        .filter_map(|tag| tag_glibc(tag).map(|glibc| (tag.to_owned(), glibc)))
        .min_by_key(|(_, glibc)| *glibc)
}

/// Fails when the library `lib` needs a newer glibc than `claim` (from the
/// tag `tag`); returns its floor. `what` names the library in messages.
pub fn check(lib: &Path, what: &str, tag: &str, claim: Glibc) -> Result<Option<Glibc>> {
    let needed = floor(lib)?;
    match needed {
        Some(needed) if needed > claim => bail!(
            "{what} ({}) needs glibc {needed} (it binds GLIBC_{needed} symbols), but {tag} promises glibc {claim}: \
             build it on a glibc no newer than {claim} (a manylinux container, as the release workflow does)",
            lib.display()
        ),
        Some(needed) => println!("glibc: {what} needs glibc {needed}; {tag} promises {claim}"),
        None => println!("glibc: {what} binds no versioned glibc symbol; {tag} promises {claim}"),
    }
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names() {
        assert_eq!(parse_version("GLIBC_2.34"), Some(Glibc(2, 34)));
        assert_eq!(parse_version("GLIBC_2.2.5"), Some(Glibc(2, 2)));
        assert_eq!(parse_version("GLIBC_PRIVATE"), None);
        assert_eq!(parse_version("GCC_3.0"), None);
        assert!(Glibc(2, 34) > Glibc(2, 4));
    }

    #[test]
    fn manylinux_tags() {
        assert_eq!(tag_glibc("manylinux_2_34_x86_64"), Some(Glibc(2, 34)));
        assert_eq!(tag_glibc("manylinux_2_28_aarch64"), Some(Glibc(2, 28)));
        assert_eq!(tag_glibc("manylinux2014_x86_64"), Some(Glibc(2, 17)));
        assert_eq!(tag_glibc("macosx_11_0_arm64"), None);
        assert_eq!(tag_glibc("linux_x86_64"), None);
    }

    #[test]
    fn a_wheel_claims_its_oldest_manylinux_tag() {
        let wheel = Path::new(
            "dist/matrix_mobile_core-0.1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        );
        assert_eq!(
            wheel_claim(wheel),
            Some(("manylinux_2_17_x86_64".to_owned(), Glibc(2, 17)))
        );
        let single = Path::new("matrix_mobile_core-0.1.0-py3-none-manylinux_2_34_x86_64.whl");
        assert_eq!(wheel_claim(single).map(|(_, g)| g), Some(Glibc(2, 34)));
        let mac = Path::new("matrix_mobile_core-0.1.0-py3-none-macosx_11_0_arm64.whl");
        assert_eq!(wheel_claim(mac), None);
    }

    /// The test binary itself is an ELF on Linux, linked against glibc.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn reads_the_floor_of_an_elf() {
        let exe = std::env::current_exe().unwrap();
        let floor = floor(&exe)
            .unwrap()
            .expect("a glibc program requires GLIBC_ symbols");
        assert!(floor >= Glibc(2, 2), "{floor}");
        let claim = Glibc(2, 1);
        let said = check(&exe, "this test", "manylinux_2_1_x86_64", claim)
            .unwrap_err()
            .to_string();
        assert!(said.contains("promises glibc 2.1"), "{said}");
    }
}
