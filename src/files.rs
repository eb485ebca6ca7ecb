//! Files created under a fresh name that no one else can have created first, and output files
//! (`export -o`, `verify --output`) that replace a regular file atomically without ever
//! renaming over a device, a FIFO or a symbolic link.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A new file in `dir`, named by `name` from a random number (tried again on a clash), created
/// with `create_new` (never an existing file or a link planted there) and permission `mode`.
pub fn create_unique(
    dir: &Path,
    name: impl Fn(u64) -> String,
    mode: u32,
) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..16 {
        let path = dir.join(name(fastrand::u64(..)));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// An output file given by the user. A regular file (or a new one) is written under a hidden
/// temporary name beside it, created with [`create_unique`], and takes the name only in
/// [`OutputFile::commit`], with the replaced file's permissions (and owner, when allowed); a
/// symbolic link is followed, so its target is replaced and the link kept; anything else that
/// is not a directory (a character device such as `/dev/stdout` or `/dev/full`, a FIFO, a
/// socket) is opened and written directly, as a shell's `>` would, never renamed over.
/// Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct OutputFile {
    file: File,
    /// The temporary file, while it has not been renamed or removed; `None` when writing
    /// directly.
    tmp: Option<PathBuf>,
    /// Where the output ends up: the given path with its symbolic links resolved.
    target: PathBuf,
}

impl OutputFile {
    /// Opens the output for `path` (see the type).
    pub fn create(path: &Path) -> io::Result<OutputFile> {
        let target = resolve_links(path)?;
        let existing = match std::fs::metadata(&target) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        match &existing {
            Some(m) if m.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "is a directory",
                ));
            }
            Some(m) if !m.is_file() => {
                // A device or a FIFO: written in place, never created or truncated away.
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&target)?;
                return Ok(OutputFile {
                    file,
                    tmp: None,
                    target,
                });
            }
            _ => {}
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        // A new file gets what `File::create` would give (0666 less the umask); a replaced
        // one its own mode below, so nothing is readable in between that was not before.
        let initial = existing.as_ref().map_or(0o666, |m| m.mode() & 0o600);
        let (tmp, file) = create_unique(
            &dir,
            |n| format!(".{base}.{}.{:08x}.tmp", std::process::id(), n as u32),
            initial,
        )?;
        let out = OutputFile {
            file,
            tmp: Some(tmp),
            target,
        };
        if let Some(m) = existing {
            // The owner first (changing it clears set-id bits), then the mode. Giving a file
            // away needs privileges: without them the new file is the writer's, as with any
            // editor that saves by renaming.
            let _ = std::os::unix::fs::fchown(&out.file, Some(m.uid()), Some(m.gid()));
            out.file
                .set_permissions(std::fs::Permissions::from_mode(m.mode() & 0o7777))?;
        }
        Ok(out)
    }

    /// The temporary file being written, until [`OutputFile::commit`]; `None` when the output
    /// is written in place.
    pub fn temp_path(&self) -> Option<&Path> {
        self.tmp.as_deref()
    }

    /// The file the output goes to (symbolic links resolved).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The open file, to write to.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Everything is written: the temporary file is synced and renamed over the target.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        if let Some(tmp) = self.tmp.take() {
            let done = self
                .file
                .sync_all()
                .and_then(|_| std::fs::rename(&tmp, &self.target));
            if let Err(e) = done {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        Ok(())
    }

    /// The output is incomplete but worth keeping: the temporary file is renamed to `name`
    /// (left where it is when that fails). Where the rows are now, or `None` when the output
    /// was written in place.
    pub fn keep_as(mut self, name: &Path) -> Option<PathBuf> {
        let tmp = self.tmp.take()?;
        Some(match std::fs::rename(&tmp, name) {
            Ok(()) => name.to_path_buf(),
            Err(_) => tmp,
        })
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// `path` with its symbolic links followed, also a dangling one (the name it points to is
/// where the file is created).
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    // Linux's own limit on links followed in one lookup.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clash_takes_another_name_and_the_mode_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        // The first name drawn is taken already: a second draw gives a free one.
        std::fs::write(dir.path().join("taken"), "keep").unwrap();
        let draws = std::cell::Cell::new(0);
        let (path, _) = create_unique(
            dir.path(),
            |n| {
                draws.set(draws.get() + 1);
                if draws.get() == 1 {
                    "taken".into()
                } else {
                    format!("f{n}")
                }
            },
            0o600,
        )
        .unwrap();
        assert_eq!(draws.get(), 2);
        assert_ne!(path, dir.path().join("taken"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("taken")).unwrap(),
            "keep"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_regular_file_is_replaced_keeping_its_mode_and_a_link_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        let mut out = OutputFile::create(&link).unwrap();
        assert_eq!(out.target(), real);
        out.write_all(b"new").unwrap();
        // Nothing replaced before the commit.
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "old");
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(names(dir.path()), ["link.csv", "real.csv"]);
    }

    #[test]
    fn an_uncommitted_output_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = OutputFile::create(&dir.path().join("x.csv")).unwrap();
        out.write_all(b"half").unwrap();
        assert!(out.temp_path().is_some());
        drop(out);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn a_fifo_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let mut out = OutputFile::create(&fifo).unwrap();
        assert!(out.temp_path().is_none());
        out.write_all(b"through").unwrap();
        out.commit().unwrap();
        assert_eq!(reader.join().unwrap(), "through");
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &std::fs::symlink_metadata(&fifo).unwrap().file_type()
        ));
    }
}
