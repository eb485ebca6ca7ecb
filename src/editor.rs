//! The user's `$EDITOR`, for the outbox row edit (TUI `e`, `hailer outbox edit`) and the
//! config file (Settings `e`). The caller owns the terminal: the TUI restores it first.

use std::path::{Path, PathBuf};

/// Run `$VISUAL`, else `$EDITOR`, else `vi` (empty ones skipped) on `path` (through `sh`, so
/// an editor with arguments such as "code -w" works).
pub fn run(path: &Path) -> Result<(), String> {
    // An empty variable counts as unset (`VISUAL= hailer`), as in git and most shells' tools.
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let editor = set("VISUAL")
        .or_else(|| set("EDITOR"))
        .unwrap_or_else(|| "vi".into());
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path)
        .status()
        .map_err(|e| format!("cannot run {editor}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{editor} exited with {status}"))
    }
}

/// `text` in a private temporary file, edited with [`run`], read back; the file is removed
/// whatever happens. `prefix` names the file (the editor shows it).
pub fn edit_text(prefix: &str, text: &str) -> Result<String, String> {
    let (path, mut file) = private_temp_file(prefix)?;
    let written = std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()));
    drop(file);
    let edited = written.and_then(|()| run(&path));
    let read = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read back {}: {e}", path.display()));
    let _ = std::fs::remove_file(&path);
    edited?;
    read
}

/// A new file in the temporary directory that only this user can read (a draft may be
/// private), under a name no one can guess and create first (`create_new`).
fn private_temp_file(prefix: &str) -> Result<(PathBuf, std::fs::File), String> {
    let dir = std::env::temp_dir();
    crate::files::create_unique(
        &dir,
        |n| format!("{prefix}-{}-{n:016x}.txt", std::process::id()),
        0o600,
    )
    .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))
}
