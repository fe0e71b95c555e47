//! The state key and the keyed hashes made with it.
//!
//! Petitioner ids, places and content are stored only as
//! HMAC-SHA256 values under a secret key. The key comes from the
//! `TRIAGE_STATE_KEY` environment variable (any string of at least 16
//! bytes) or from a key file (32 random bytes, hex) created with mode
//! 0600 on first use beside the store. The key never goes into the
//! database; the store keeps only a check value (the HMAC of a fixed
//! label) so that a run with another key is refused instead of silently
//! finding no history.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The environment variable that holds the key.
pub const KEY_ENV: &str = "TRIAGE_STATE_KEY";

/// A secret key for the keyed hashes.
#[derive(Clone)]
pub struct StateKey {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(…)")
    }
}

/// Which hash: the domain is part of the message, so a petitioner id and
/// a place with the same spelling get different keys.
#[derive(Debug, Clone, Copy)]
pub enum Domain {
    /// A petitioner id.
    Petitioner,
    /// A location.
    Place,
    /// The content of a case.
    Content,
    /// The check value kept in the store.
    Check,
    /// Seeds of the MinHash permutations.
    Sketch,
}

impl Domain {
    fn label(self) -> &'static [u8] {
        match self {
            Domain::Petitioner => b"petitioner\0",
            Domain::Place => b"place\0",
            Domain::Content => b"content\0",
            Domain::Check => b"check\0",
            Domain::Sketch => b"sketch\0",
        }
    }
}

impl StateKey {
    /// A key from raw bytes (tests, or a key read elsewhere).
    pub fn from_bytes(bytes: &[u8]) -> StateKey {
        StateKey {
            bytes: bytes.to_vec(),
        }
    }

    /// The key from `TRIAGE_STATE_KEY`, else from `key_file` (created with
    /// 32 random bytes and mode 0600 when missing).
    pub fn load(key_file: &Path) -> std::io::Result<StateKey> {
        if let Ok(k) = std::env::var(KEY_ENV)
            && !k.is_empty()
        {
            if k.len() < 16 {
                return Err(std::io::Error::other(format!(
                    "{KEY_ENV} 太短：至少 16 个字符"
                )));
            }
            return Ok(StateKey::from_bytes(k.trim().as_bytes()));
        }
        match std::fs::read(key_file) {
            Ok(raw) => std::str::from_utf8(&raw)
                .ok()
                .and_then(|text| decode_hex(text.trim()))
                .filter(|b| b.len() >= 16)
                .map(|b| StateKey { bytes: b })
                .ok_or_else(|| {
                    std::io::Error::other(format!(
                        "密钥文件 {} 内容无效：应是建库时写入的十六进制文本（至少 32 个字符）",
                        key_file.display()
                    ))
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(key_file),
            Err(e) => Err(std::io::Error::new(
                e.kind(),
                format!("无法读取密钥文件 {}：{e}", key_file.display()),
            )),
        }
    }

    /// The key read as hexadecimal text, the way a key file holds it
    /// (`None` when it is not such text): what a key given as the
    /// contents of a key file means.
    pub fn hex_reading(&self) -> Option<StateKey> {
        let text = std::str::from_utf8(&self.bytes).ok()?;
        decode_hex(text.trim())
            .filter(|b| b.len() >= 16)
            .map(|bytes| StateKey { bytes })
    }

    /// HMAC-SHA256 of `data` in `domain`.
    pub fn hash(&self, domain: Domain, data: &[u8]) -> [u8; 32] {
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.bytes) else {
            // HMAC takes keys of any length; this branch is never taken.
            return [0; 32];
        };
        mac.update(domain.label());
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The keyed hash of a petitioner id after [`normalise_id`]; `None`
    /// for an id that normalises to nothing.
    pub fn petitioner(&self, id: &str) -> Option<[u8; 32]> {
        let n = normalise_id(id);
        (!n.is_empty()).then(|| self.hash(Domain::Petitioner, n.as_bytes()))
    }

    /// The keyed hash of a location (spaces removed).
    pub fn place(&self, location: &str) -> Option<[u8; 32]> {
        let n: String = location.chars().filter(|c| !c.is_whitespace()).collect();
        (!n.is_empty()).then(|| self.hash(Domain::Place, n.as_bytes()))
    }

    /// The check value kept in the store.
    pub fn check_value(&self) -> [u8; 32] {
        self.hash(Domain::Check, b"petition-triage state key")
    }

    /// Seeds for the MinHash permutations, derived from the key so the
    /// stored sketches cannot be compared with anyone else's.
    pub fn sketch_seed(&self) -> u64 {
        let h = self.hash(Domain::Sketch, b"minhash");
        u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
    }
}

/// Normalise a petitioner id: full-width forms to ASCII, spaces and
/// separators removed, letters upper-case (so 身份证号 with a final x or X,
/// or written with spaces, gives one key).
pub fn normalise_id(id: &str) -> String {
    id.chars()
        .filter_map(|c| {
            let c = match c {
                '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
                '\u{3000}' => ' ',
                c => c,
            };
            (!c.is_whitespace() && !matches!(c, '-' | '_' | '.' | '·')).then_some(c)
        })
        .flat_map(char::to_uppercase)
        .collect()
}

/// The default key file beside a store: `history.key` in its folder.
pub fn default_key_file(store: &Path) -> PathBuf {
    store.with_extension("key")
}

fn create_key_file(path: &Path) -> std::io::Result<StateKey> {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::util::create_private_dir(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("无法创建密钥文件 {}：{e}", path.display()),
        )
    })?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    f.write_all(hex.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(StateKey {
        bytes: bytes.to_vec(),
    })
}

fn fill_random(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .map_err(|e| std::io::Error::new(e.kind(), format!("无法读取随机数：{e}")))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_normalise_before_hashing() {
        let k = StateKey::from_bytes(b"0123456789abcdef");
        assert_eq!(
            k.petitioner("43012319800101123x"),
            k.petitioner(" 43012319800101123X ")
        );
        assert_eq!(k.petitioner("Ｑ００１"), k.petitioner("Q001"));
        assert_ne!(k.petitioner("Q001"), k.petitioner("Q002"));
        assert_eq!(k.petitioner("  "), None);
        let other = StateKey::from_bytes(b"fedcba9876543210");
        assert_ne!(k.petitioner("Q001"), other.petitioner("Q001"));
        assert_ne!(
            k.petitioner("Q001").unwrap(),
            k.hash(Domain::Place, b"Q001")
        );
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s").join("history.key");
        // Without the variable (tests do not set it).
        if std::env::var(KEY_ENV).is_ok() {
            return;
        }
        let a = StateKey::load(&p).unwrap();
        let b = StateKey::load(&p).unwrap();
        assert_eq!(a.check_value(), b.check_value());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // Raw bytes instead of the hexadecimal text: refused, saying what
        // the file should hold.
        std::fs::write(&p, [0xffu8; 32]).unwrap();
        let e = StateKey::load(&p).err().unwrap().to_string();
        assert!(e.contains("十六进制"), "{e}");
    }

    #[test]
    fn a_key_given_as_a_key_files_text_reads_as_its_bytes() {
        let k = StateKey::from_bytes(b"000102030405060708090a0b0c0d0e0f\n");
        let hex = k.hex_reading().unwrap();
        assert_eq!(hex.bytes, (0u8..16).collect::<Vec<_>>());
        assert!(
            StateKey::from_bytes(b"not hexadecimal text")
                .hex_reading()
                .is_none()
        );
        assert!(
            StateKey::from_bytes(b"0a0b").hex_reading().is_none(),
            "too short"
        );
    }
}
