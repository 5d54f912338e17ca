//! Reading files of a repository that may be hostile.
//!
//! A checked-out pull request can hold symbolic links to anything (`/etc/passwd`, a token
//! file, `/dev/zero`, a FIFO) and files of any size. Every read of a repository file goes
//! through [`read_in_root`]: a link is followed only when what it finally names is a regular
//! file inside the repository root; the file is opened without following a last link and
//! without blocking (a FIFO or device swapped in after the check is refused, not waited on),
//! checked again to be a regular file on the open handle, and read up to a byte limit.
//! [`read_regular`] is the same without the root confinement, for files the user named on
//! the command line and for git's own files.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A link whose target is outside the root (the resolved target, shown to the user).
    OutsideRoot(String),
    /// Not a regular file (a folder, FIFO, device, socket).
    NotRegular(&'static str),
    /// Larger than the limit (its size).
    TooLarge(u64),
    /// Missing, a link loop, a permission error.
    Io(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::OutsideRoot(t) => write!(
                f,
                "is a link to {t}, outside the repository; links are followed only inside it"
            ),
            Refusal::NotRegular(what) => write!(f, "is not a regular file but {what}"),
            Refusal::TooLarge(n) => write!(f, "is {n} bytes"),
            Refusal::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

fn kind_of(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "something else"
    }
}

/// Where `path` finally points when every link is resolved, if that is a regular file
/// inside `root` (which must itself be canonical).
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<PathBuf, Refusal> {
    let real = path
        .canonicalize()
        .map_err(|e| Refusal::Io(e.to_string()))?;
    if !real.starts_with(root) {
        return Err(Refusal::OutsideRoot(real.display().to_string()));
    }
    Ok(real)
}

/// Whether a relative path named by a file of the repository stays inside it, lexically:
/// not absolute, no drive or root, and no `..` that climbs above the start.
pub fn is_confined_rel(rel: &str) -> bool {
    use std::path::Component;
    let mut depth = 0usize;
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    !rel.contains('\\')
}

/// Read a file of the repository: `rel` below the canonical `root`, at most `limit` bytes.
pub fn read_in_root(root: &Path, rel: &str, limit: u64) -> Result<Vec<u8>, Refusal> {
    RootReader::new(root).read(rel, limit)
}

/// Reads many files below one canonical root: [`read_in_root`] with the root opened once.
///
/// On Linux a path with no link anywhere in it is opened in one step below the root's
/// handle (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`): the kernel refuses any
/// link and any way out of the root, so nothing needs resolving first. A path the kernel
/// refuses that way (it holds a link), or a kernel without `openat2`, takes the general
/// way: every link resolved, the target checked to be inside the root, then opened.
pub struct RootReader {
    root: PathBuf,
    #[cfg(target_os = "linux")]
    dir: Option<std::os::fd::OwnedFd>,
}

impl RootReader {
    pub fn new(root: &Path) -> RootReader {
        RootReader {
            root: root.to_path_buf(),
            #[cfg(target_os = "linux")]
            dir: open_dir(root),
        }
    }

    pub fn read(&self, rel: &str, limit: u64) -> Result<Vec<u8>, Refusal> {
        #[cfg(target_os = "linux")]
        if let Some(dir) = &self.dir
            && let Some(file) = open_beneath(dir, rel)
        {
            return read_open(file, limit);
        }
        let real = resolve_in_root(&self.root, &self.root.join(rel))?;
        read_regular(&real, limit)
    }
}

#[cfg(target_os = "linux")]
fn open_dir(root: &Path) -> Option<std::os::fd::OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(root)
        .ok()
        .map(std::os::fd::OwnedFd::from)
}

/// `rel` opened below `dir` when no component of it is a link (see [`RootReader`]);
/// `None` when the kernel will not open it that way (a link, no `openat2`, an error the
/// general way reports in its own words).
#[cfg(target_os = "linux")]
fn open_beneath(dir: &std::os::fd::OwnedFd, rel: &str) -> Option<File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let path = std::ffi::CString::new(rel).ok()?;
    // SAFETY: `open_how` is plain data; zeroed is its documented "no options" value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: the path is NUL-terminated and outlives the call; `how` is a valid
    // `open_how` of the size passed; the returned descriptor is owned by the `File`.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: a fresh descriptor the kernel just returned, owned by nothing else.
    Some(unsafe { File::from_raw_fd(fd as i32) })
}

/// Read an opened file if it is a regular file of at most `limit` bytes.
fn read_open(file: File, limit: u64) -> Result<Vec<u8>, Refusal> {
    let meta = file.metadata().map_err(|e| Refusal::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(Refusal::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte past the limit tells a file that grew since the check.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Refusal::Io(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Open `path` for reading without blocking and without following a last link, and read
/// it if it is a regular file of at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
    let meta = std::fs::metadata(path).map_err(|e| Refusal::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(Refusal::TooLarge(meta.len()));
    }
    let file = open_nonblocking(path).map_err(|e| Refusal::Io(e.to_string()))?;
    read_open(file, limit)
}

/// [`read_regular`] as UTF-8 text (lossy conversion is the caller's business: this fails).
pub fn read_regular_text(path: &Path, limit: u64) -> Result<String, Refusal> {
    let bytes = read_regular(path, limit)?;
    String::from_utf8(bytes).map_err(|_| Refusal::Io("not UTF-8 text".into()))
}

/// [`read_in_root`] as UTF-8 text.
pub fn read_in_root_text(root: &Path, rel: &str, limit: u64) -> Result<String, Refusal> {
    let bytes = read_in_root(root, rel, limit)?;
    String::from_utf8(bytes).map_err(|_| Refusal::Io("not UTF-8 text".into()))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// Whether writing `path` would write through a link: the path itself is a link, or one of
/// its folders resolves outside `root`. `--fix` never writes such a file.
pub fn write_refusal(root: &Path, path: &Path) -> Option<String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Some(format!(
                "{} is a symbolic link; preflight does not write through links",
                path.display()
            ));
        }
        Ok(m) if !m.is_file() => {
            return Some(format!("{} is not a regular file", path.display()));
        }
        Ok(_) => {}
        Err(e) => return Some(format!("{}: {e}", path.display())),
    }
    let parent = path.parent()?;
    match parent.canonicalize() {
        Ok(p) if p.starts_with(root) => None,
        Ok(p) => Some(format!(
            "{} is in {}, outside the repository",
            path.display(),
            p.display()
        )),
        Err(e) => Some(format!("{}: {e}", path.display())),
    }
}

/// Write `bytes` over the regular file `path` inside `root`, never through a link.
pub fn write_in_root(root: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(why) = write_refusal(root, path) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            why,
        ));
    }
    #[cfg(unix)]
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)?
    };
    #[cfg(not(unix))]
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    use std::io::Write;
    file.write_all(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_inside_the_root_are_read_and_others_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("repo/shared")).unwrap();
        std::fs::write(root.join("repo/shared/common.tf"), "x").unwrap();
        std::fs::write(root.join("outside.txt"), "secret").unwrap();
        let repo = root.join("repo");
        std::os::unix::fs::symlink("shared/common.tf", repo.join("in.tf")).unwrap();
        std::os::unix::fs::symlink("../outside.txt", repo.join("out.tf")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", repo.join("zero.tf")).unwrap();
        std::os::unix::fs::symlink("shared", repo.join("dir")).unwrap();
        assert_eq!(read_in_root(&repo, "in.tf", 10).unwrap(), b"x");
        assert!(matches!(
            read_in_root(&repo, "out.tf", 10),
            Err(Refusal::OutsideRoot(_))
        ));
        assert!(matches!(
            read_in_root(&repo, "zero.tf", 10),
            Err(Refusal::OutsideRoot(_))
        ));
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 10),
            Err(Refusal::NotRegular("a device"))
        ));
        assert!(matches!(
            read_in_root(&repo, "dir", 10),
            Err(Refusal::NotRegular("a directory"))
        ));
        assert!(matches!(
            read_in_root(&repo, "shared/common.tf", 0),
            Err(Refusal::TooLarge(1))
        ));
    }

    /// A folder link out of the root is refused however the file below it is named, and
    /// a folder link inside it is followed: the one-step open below the root's handle
    /// refuses every link, and the general way judges where it leads.
    #[test]
    fn folder_links_are_judged_by_where_they_lead() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("repo/shared")).unwrap();
        std::fs::create_dir_all(root.join("elsewhere")).unwrap();
        std::fs::write(root.join("repo/shared/common.tf"), "x").unwrap();
        std::fs::write(root.join("elsewhere/token.tf"), "secret").unwrap();
        let repo = root.join("repo");
        std::os::unix::fs::symlink("../elsewhere", repo.join("out")).unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), repo.join("abs")).unwrap();
        std::os::unix::fs::symlink("shared", repo.join("in")).unwrap();
        let reader = RootReader::new(&repo);
        for rel in ["out/token.tf", "abs/token.tf", "shared/../out/token.tf"] {
            assert!(
                matches!(reader.read(rel, 10), Err(Refusal::OutsideRoot(_))),
                "{rel} was not refused"
            );
        }
        assert!(reader.read("../elsewhere/token.tf", 10).is_err());
        assert_eq!(reader.read("in/common.tf", 10).unwrap(), b"x");
        assert_eq!(reader.read("shared/common.tf", 10).unwrap(), b"x");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let fifo = root.join("pipe.tf");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        assert!(matches!(
            read_in_root(&root, "pipe.tf", 10),
            Err(Refusal::NotRegular("a FIFO"))
        ));
    }

    #[test]
    fn writes_never_go_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("repo")).unwrap();
        std::fs::write(root.join("target.tf"), "keep").unwrap();
        let repo = root.join("repo");
        std::os::unix::fs::symlink("../target.tf", repo.join("main.tf")).unwrap();
        assert!(write_in_root(&repo, &repo.join("main.tf"), b"changed").is_err());
        assert_eq!(std::fs::read(root.join("target.tf")).unwrap(), b"keep");
        std::fs::write(repo.join("plain.tf"), "a").unwrap();
        write_in_root(&repo, &repo.join("plain.tf"), b"b").unwrap();
        assert_eq!(std::fs::read(repo.join("plain.tf")).unwrap(), b"b");
    }
}
