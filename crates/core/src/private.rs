//! Files only this OS user may read (issue 9, defect 5). Patient data and keys live in a data
//! dir of mode 0700 whose files are 0600; a key file that others can read is refused, as ssh
//! refuses such a private key, because its secret may already have leaked.

use crate::{CoreError, ErrorCode, Result};
use std::fs;
use std::io::Write;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Creates `dir` (and missing parents) with mode 0700, and narrows an existing `dir` made by an
/// earlier version (0755) to 0700.
pub fn create_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)?;
    restrict(dir, 0o700);
    Ok(())
}

/// Narrows an existing file or dir to `mode` (files of an earlier version were 0644). Best
/// effort: a file owned by someone else is left as it is, with a warning.
pub fn restrict(path: &Path, mode: u32) {
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o777 & !mode != 0
        && let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(mode))
    {
        tracing::warn!(path = %path.display(), error = %e, "could not narrow permissions");
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Options that create a file with mode 0600 (the mode only applies when the file is created).
pub fn options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    #[cfg(unix)]
    options.mode(0o600);
    options
}

/// Creates `path` (0600, it must not exist) holding `bytes`, durably.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = options().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Reads a secret (key) file, refusing one that its group or other users can read or write.
pub fn read_secret(path: &Path) -> Result<String> {
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CoreError::new(
                ErrorCode::KeyStorage,
                format!(
                    "the key file {} can be read by other users (mode {mode:o}); its key may \
                     have leaked. Refusing to use it. If only you had access, fix it with \
                     `chmod 600 {}`",
                    path.display(),
                    path.display()
                ),
            )
            .with("reason", "key_file_permissions")
            .with("path", path.display().to_string())
            .with("mode", format!("{mode:o}")));
        }
    }
    fs::read_to_string(path).map_err(|e| {
        CoreError::new(
            ErrorCode::KeyStorage,
            format!("cannot read the key file {}: {e}", path.display()),
        )
        .with("path", path.display().to_string())
    })
}
