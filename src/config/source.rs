//! Reading a configuration file before any parser sees it: only a regular file, at most
//! [`MAX_BYTES`], and UTF-8 text. Anything else is refused with the file's name and, where
//! the text itself is at fault, the line and column (see `docs/configuration.md`, "Limits").
//! A device, a FIFO or a directory is never opened for reading, and a file that is too large
//! is never read past the limit, so a wrong path cannot hang captain or fill its memory.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::ConfigError;

/// The largest configuration file captain reads: 1 MiB, far beyond any real one.
pub const MAX_BYTES: u64 = 1 << 20;

/// The text of the configuration file at `path`.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    let cannot = |e: std::io::Error| ConfigError::new(path, format!("cannot read: {e}"));
    // Asked before opening: opening a FIFO for reading waits for a writer.
    let meta = std::fs::metadata(path).map_err(cannot)?;
    regular(path, &meta)?;
    let file = File::open(path).map_err(cannot)?;
    // Asked again of what was opened, in case the path changed in between.
    let meta = file.metadata().map_err(cannot)?;
    regular(path, &meta)?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_BYTES {
        let size = meta.len().max(bytes.len() as u64);
        let (line, column) = byte_position(&bytes, MAX_BYTES as usize);
        return Err(ConfigError::new(
            path,
            format!("is {size} bytes; at most 1 MiB ({MAX_BYTES} bytes) is read"),
        )
        .at(line, column));
    }
    decode(path, bytes)
}

fn regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), ConfigError> {
    if meta.is_file() {
        return Ok(());
    }
    let what = kind(meta);
    Err(ConfigError::new(
        path,
        format!("is {what}, not a file; expected a regular file"),
    ))
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// `bytes` as UTF-8 text, or an error at the line and column of the first byte that is not.
pub fn decode(origin: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let (line, column) = byte_position(bytes, at);
        let byte = bytes.get(at).copied().unwrap_or_default();
        ConfigError::new(
            origin,
            format!("byte 0x{byte:02x} is not UTF-8; expected UTF-8 text"),
        )
        .at(line, column)
    })
}

/// 1-based line and column (in characters) of `offset` in bytes that may not all be text.
fn byte_position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_byte_that_is_not_utf8_is_named_with_its_line_and_column() {
        let bytes = b"version: 1\nname: caf\xc3\xa9 \xff\n".to_vec();
        let err = decode(Path::new("plan.yml"), bytes).unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(12)), "{err}");
        assert!(err.message.contains("0xff"), "{err}");
    }

    #[test]
    fn a_character_cut_short_is_named_where_it_starts() {
        let err = decode(Path::new("a.toml"), b"a = \"\xe2\x82\"".to_vec()).unwrap_err();
        assert_eq!((err.line, err.column), (Some(1), Some(6)), "{err}");
        assert!(err.message.contains("0xe2"), "{err}");
    }

    #[test]
    fn a_directory_is_refused_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path()).unwrap_err();
        assert!(err.message.contains("a directory"), "{err}");
        assert!(err.message.contains("expected a regular file"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_without_being_read() {
        let err = read(Path::new("/dev/zero")).unwrap_err();
        assert!(err.message.contains("is a device"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("slo.yml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = read(&fifo).unwrap_err();
        assert!(err.message.contains("is a FIFO"), "{err}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        let line = "# padding, padding, padding\n";
        let text = line.repeat((MAX_BYTES as usize) / line.len() + 2);
        std::fs::write(&path, &text).unwrap();
        let err = read(&path).unwrap_err();
        assert!(
            err.message
                .starts_with(&format!("is {} bytes; at most 1 MiB", text.len())),
            "{err}"
        );
        let limit_line = MAX_BYTES as usize / line.len() + 1;
        assert_eq!(err.line, Some(limit_line), "{err}");
    }

    #[test]
    fn a_file_at_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("full.toml");
        std::fs::write(&path, "#".repeat(MAX_BYTES as usize)).unwrap();
        assert_eq!(read(&path).unwrap().len(), MAX_BYTES as usize);
    }
}
