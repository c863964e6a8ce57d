//! Open files on macOS and iOS, asked of the kernel through libproc (part of
//! libSystem): `proc_pidinfo(PROC_PIDLISTFDS)` lists the descriptors, and
//! `proc_pidfdinfo(PROC_PIDFDVNODEPATHINFO)` gives each vnode's path.
//!
//! This cannot be built on the project's Linux machines; the macOS and iOS
//! workflows build and run it (`.github/workflows/apple.yml`). The layouts are
//! those of `<sys/proc_info.h>`, checked by size at compile time.

use std::ffi::{c_int, c_void, CStr};
use std::path::PathBuf;

/// `PROC_PIDLISTFDS`: the process's descriptors, as `proc_fdinfo` records.
const PROC_PIDLISTFDS: c_int = 1;
/// `PROC_PIDFDVNODEPATHINFO`: a vnode descriptor's `vnode_fdinfowithpath`.
const PROC_PIDFDVNODEPATHINFO: c_int = 2;
/// `PROX_FDTYPE_VNODE`: a descriptor on a file.
const PROX_FDTYPE_VNODE: u32 = 1;
/// `MAXPATHLEN`.
const MAXPATHLEN: usize = 1024;

/// `struct proc_fdinfo`.
#[repr(C)]
#[derive(Clone, Copy)]
struct ProcFdInfo {
    proc_fd: i32,
    proc_fdtype: u32,
}

/// `struct vnode_fdinfowithpath`: a `proc_fileinfo` (24 bytes) and a
/// `vnode_info` (152 bytes), then the path. Only the path is read.
#[repr(C)]
struct VnodeFdInfoWithPath {
    head: [u64; 22],
    path: [u8; MAXPATHLEN],
}

const _: () = assert!(std::mem::size_of::<ProcFdInfo>() == 8);
// PROC_PIDFDVNODEPATHINFO_SIZE in <sys/proc_info.h>.
const _: () = assert!(std::mem::size_of::<VnodeFdInfoWithPath>() == 1200);

extern "C" {
    fn proc_pidinfo(
        pid: c_int,
        flavor: c_int,
        arg: u64,
        buffer: *mut c_void,
        buffersize: c_int,
    ) -> c_int;
    fn proc_pidfdinfo(
        pid: c_int,
        fd: c_int,
        flavor: c_int,
        buffer: *mut c_void,
        buffersize: c_int,
    ) -> c_int;
}

/// The path of every file descriptor of this process that is on a file.
pub(super) fn open_file_paths() -> Option<Vec<PathBuf>> {
    let pid = std::process::id() as c_int;
    let entry = std::mem::size_of::<ProcFdInfo>();
    // SAFETY: a null buffer asks for the size the list needs.
    let needed = unsafe { proc_pidinfo(pid, PROC_PIDLISTFDS, 0, std::ptr::null_mut(), 0) };
    if needed <= 0 {
        return None;
    }
    // Room for descriptors opened between the two calls.
    let capacity = needed as usize / entry + 32;
    let mut fds = vec![
        ProcFdInfo {
            proc_fd: 0,
            proc_fdtype: 0
        };
        capacity
    ];
    let bytes = (capacity * entry) as c_int;
    // SAFETY: `fds` holds `bytes` writable bytes of `proc_fdinfo` records.
    let written = unsafe { proc_pidinfo(pid, PROC_PIDLISTFDS, 0, fds.as_mut_ptr().cast(), bytes) };
    if written <= 0 {
        return None;
    }
    fds.truncate(written as usize / entry);
    let mut paths = Vec::new();
    for fd in fds.iter().filter(|f| f.proc_fdtype == PROX_FDTYPE_VNODE) {
        let mut info = VnodeFdInfoWithPath {
            head: [0; 22],
            path: [0; MAXPATHLEN],
        };
        let size = std::mem::size_of::<VnodeFdInfoWithPath>() as c_int;
        // SAFETY: `info` is a writable `vnode_fdinfowithpath` of `size` bytes.
        let got = unsafe {
            proc_pidfdinfo(
                pid,
                fd.proc_fd,
                PROC_PIDFDVNODEPATHINFO,
                (&mut info as *mut VnodeFdInfoWithPath).cast(),
                size,
            )
        };
        // A descriptor closed since the listing answers 0: skip it.
        if got != size {
            continue;
        }
        if let Ok(path) = CStr::from_bytes_until_nul(&info.path) {
            paths.push(PathBuf::from(path.to_string_lossy().into_owned()));
        }
    }
    Some(paths)
}
