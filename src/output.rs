//! Writing what vplc produces without losing it: files are replaced atomically (a full
//! disk leaves the old file, never a truncated one) and standard output that cannot be
//! written (a closed pipe, `/dev/full`) is a message and an exit status, not a panic.
//! Before a run, the directories of the files its plan writes are made.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use vpl_compiler::plan::Plan;

/// Makes the directory of every file the plan writes (its elements' output roles), so
/// that `file("out/a.mp4")` runs without an `out/` made first.
pub fn make_directories(plan: &Plan) -> Result<(), String> {
    for path in plan
        .elements
        .iter()
        .filter_map(|e| e.role.as_ref()?.output())
    {
        if let Some(dir) = Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    Ok(())
}

/// Replaces `path` with `bytes`: writes a temporary file in the same directory, syncs
/// it, gives it the old file's permissions and renames it over the old one. On any
/// failure the old file is untouched and the temporary file removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vplc".into());
    let (tmp, mut file) = create_temp(&dir, &name)?;
    let written = (|| {
        file.write_all(bytes)?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for attempt in 0..100u32 {
        let tmp = dir.join(format!(".{name}.vplc-{}-{attempt}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// Writes `text` to standard output and flushes it. The error, worded for the user,
/// when it cannot be written.
pub fn stdout(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            io::ErrorKind::BrokenPipe => {
                "vplc: standard output was closed before everything was written (broken pipe)"
                    .to_string()
            }
            _ => format!("vplc: cannot write to standard output: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::write_atomically;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = std::env::temp_dir().join(format!("vplc-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("a.vpl");
        std::fs::write(&path, "old").expect("write");
        write_atomically(&path, b"new text").expect("replace");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new text");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.vpl")]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        // The directory is not writable: no temporary file can be made, the old text stays.
        let path = std::path::Path::new("/proc/version");
        let before = std::fs::read_to_string(path).expect("read");
        assert!(write_atomically(path, b"x").is_err());
        assert_eq!(std::fs::read_to_string(path).expect("read"), before);
    }
}
