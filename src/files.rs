//! Files created under a fresh name that no one else can have created first.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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
}
