//! The findings cache: `.capable_cache/` at the workspace root, as ruff keeps `.ruff_cache/`.
//!
//! `check` keeps each file's own findings ([`Cache::findings_or`]: parse, validation and
//! lints; the per-file lints cost far more than the parse), so a repeated `check` on an
//! unchanged tree parses each file but lints only the edited ones. A policy file's entry is
//! keyed as well by the file's name, namespace and template switches and by the lint
//! settings (`rules`, mounts, namespaces, accessors); a Terraform file's, and that of a file
//! its `file()` reads, by a digest of its parse (the extracted models and the Terraform
//! findings, so a changed variable or an unreadable `file()` misses too). The role-level
//! findings of each distinct subject are kept as well (`Cache` is the
//! [`crate::inventory::lints::RoleFindingsStore`]), keyed by the digests of its policies'
//! models, its identity where templates read it (for entities, the identity's shape as the
//! templates see it: one entry serves every entity of a group closure with that shape), the
//! target, mounts and namespaces.
//!
//! Parsed models are not kept: parsing and lowering a policy runs near serde_json's pace on
//! the text, while an entry holding the model with every span is about ten times the text,
//! so reading it back was slower than parsing (the corpus: 12.1 against 11.5 ms of CPU;
//! `who-can` on 10,000 policies: 2.4 against 1.5 s). The configuration's inventory sections
//! are kept ([`inventory`]).
//!
//! - **Key**: SHA-256 of the entry format, capable's version and build (the executable's size
//!   and modification time, so a rebuilt development binary never reads an older build's
//!   entries), the target, the context above and the file's text, so an edited file, another
//!   target, other settings or another capable misses.
//! - **Not cached**: texts whose meaning depends on the clock (OpenBao's `expiration`).
//! - **One file**: the findings entries of a build share one pack (`cache/pack.rs`), read once per
//!   run and written once at its end ([`flush`]) when the run added entries, so a warm
//!   `check` of N files opens one cache file, not N. Packs of other builds are removed then.
//! - **Safe under concurrent runs**: a pack or entry is written to a temporary file in the
//!   cache folder and renamed into place, so a reader sees a whole one or none (two runs that
//!   add entries at once keep one run's additions; the other's miss next time). Each entry
//!   carries a SHA-256 of its payload; an entry that is truncated, corrupt or of another
//!   format is ignored and written again, never an error.
//! - **Contents**: the findings as `check` reports them (messages and spans, no file text);
//!   agent configurations (which may hold secrets) have no entries.
//! - **Where**: `<folder of capable.yaml>/.capable_cache/`, or `$CAPABLE_CACHE_DIR`. Without
//!   a `capable.yaml` (a file or folder checked on its own) there is no cache unless
//!   `CAPABLE_CACHE_DIR` names one: capable does not write into a folder it was not
//!   configured for. The folder holds a `.gitignore` of `*`, so it is never committed.
//! - **Off**: `--no-cache` (`check`, `test`), `cache: false` in `capable.yaml`, or
//!   `CAPABLE_NO_CACHE=1`. A cache folder that cannot be created or written is skipped.
//!
//! Entries are JSON (serde_json, already a dependency): the format is inspectable.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ring::digest::{digest, Context, SHA256};

use crate::config::Config;
use crate::diag::Diagnostic;
use crate::source::SourceFile;
use crate::target::Target;

/// The folder name at the workspace root.
pub const DIR_NAME: &str = ".capable_cache";

/// Bump when the entry layout changes (the model's fields are covered by the build).
const FORMAT: &str = "capable findings cache 3";

/// Whether this process's workspace loads may use the cache (see [`enable`]).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether they may also keep findings in it (see [`enable`]).
static FINDINGS: AtomicBool = AtomicBool::new(false);

/// Lets the workspace loads of this process use the cache, unless `no_cache` (the
/// command's `--no-cache`) or `CAPABLE_NO_CACHE` (set, not empty and not `0`) says not to.
/// The CLI's `check` and `test` call it; library users and other commands never touch the
/// disk for it.
pub fn enable(no_cache: bool) {
    enable_inventory(no_cache);
    FINDINGS.store(ENABLED.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// [`enable`] for the configuration and the inventory only ([`inventory`]), not for
/// findings: what the queries (`explain`, `caps`, `reach`, `who-can`) use.
pub fn enable_inventory(no_cache: bool) {
    let off_by_env =
        std::env::var_os("CAPABLE_NO_CACHE").is_some_and(|value| !value.is_empty() && value != "0");
    ENABLED.store(!no_cache && !off_by_env, Ordering::Relaxed);
    FINDINGS.store(false, Ordering::Relaxed);
}

/// The cache of this process's first workspace load ([`Cache::for_config`]).
static OPENED: std::sync::OnceLock<Option<Cache>> = std::sync::OnceLock::new();

/// An open cache folder.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    /// Hashed in front of every key: format, version and build.
    salt: Vec<u8>,
    /// The findings pack, read on first use and shared by the clones of this cache.
    pack: Arc<Mutex<Option<pack::Pack>>>,
}

/// What one entry records about a file.
#[derive(serde::Serialize, serde::Deserialize)]
enum Entry {
    /// The findings `check` reports for one file on its own (parse, validation, lints).
    Findings(Vec<Diagnostic>),
    /// The role-level findings of one subject ([`crate::inventory::lints::lint_inventory_with`]).
    RoleFindings(crate::inventory::lints::StoredFindings),
    /// The byte ranges of a `capable.yaml`'s inventory sections, `None` when the text must
    /// be read whole, and the accessors they declare ([`inventory::load_config`]).
    Sections {
        sections: Option<Vec<(usize, usize)>>,
        accessors: std::collections::BTreeSet<String>,
    },
}

impl Cache {
    /// The cache of a workspace with this configuration, if it has one (see the module
    /// documentation). The first workspace a process loads decides the folder for all:
    /// `check --new-since` loads the tree at a git revision in a temporary folder, and its
    /// unchanged files are the same entries. Cost: one `stat` of the executable; the folder
    /// is created when the first entry is written.
    pub fn for_config(config: &Config) -> Option<Cache> {
        if !FINDINGS.load(Ordering::Relaxed) {
            return None;
        }
        Cache::for_config_inventory(config)
    }

    /// [`Cache::for_config`] for the configuration and inventory entries ([`inventory`]):
    /// open after [`enable_inventory`] too.
    pub fn for_config_inventory(config: &Config) -> Option<Cache> {
        if !config.cache {
            return None;
        }
        Cache::for_root(&config.root, config.source.is_some())
    }

    /// The cache of the configuration file at `path`, before it is parsed (for
    /// [`inventory::load_config`]): the same folder [`Cache::for_config`] opens for it.
    pub fn for_config_file(path: &Path) -> Option<Cache> {
        let root = path.parent().filter(|p| !p.as_os_str().is_empty());
        Cache::for_root(root.unwrap_or(Path::new(".")), true)
    }

    /// `CAPABLE_CACHE_DIR`, else `<root>/.capable_cache` when there is a config file.
    fn for_root(root: &Path, has_config: bool) -> Option<Cache> {
        if !ENABLED.load(Ordering::Relaxed) {
            return None;
        }
        OPENED
            .get_or_init(|| {
                let dir = match std::env::var_os("CAPABLE_CACHE_DIR") {
                    Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                    _ if has_config => root.join(DIR_NAME),
                    _ => return None,
                };
                Some(Cache::at(&dir, &build_salt()?))
            })
            .clone()
    }

    /// The cache this process opened, if it opened one.
    fn opened() -> Option<Cache> {
        OPENED.get().cloned().flatten()
    }

    /// The cache in `dir`, created (with its `.gitignore`) if needed; `salt` tells builds
    /// apart. `None` when the folder cannot be created.
    pub fn open(dir: &Path, salt: &[u8]) -> Option<Cache> {
        let cache = Cache::at(dir, salt);
        cache.create()?;
        Some(cache)
    }

    /// The cache in `dir`, not created until an entry is written ([`Cache::create`]): a run
    /// that only reads (or finds `cache: false` once `capable.yaml` is read) leaves no
    /// folder behind.
    fn at(dir: &Path, salt: &[u8]) -> Cache {
        let mut full_salt = FORMAT.as_bytes().to_vec();
        full_salt.push(0);
        full_salt.extend_from_slice(salt);
        Cache {
            dir: dir.to_path_buf(),
            salt: full_salt,
            pack: Arc::default(),
        }
    }

    /// Creates the folder and its `.gitignore` if missing. Cost: one `stat` when present.
    fn create(&self) -> Option<()> {
        let ignore = self.dir.join(".gitignore");
        if !ignore.is_file() {
            std::fs::create_dir_all(&self.dir).ok()?;
            let text = "# Automatically created by capable: the findings cache.\n*\n";
            write_atomically(&self.dir, &ignore, text.as_bytes())?;
        }
        Some(())
    }

    /// The findings of one file (see [`crate::lint::engine::check_file`]), from the cache
    /// when it has a sound entry, else from `check` (then kept for [`Cache::flush`]).
    /// `context` is everything else they depend on besides the text and target: the file's
    /// name, its policy's namespace and template switches, and a fingerprint of the lint
    /// settings ([`settings_fingerprint`]). Cost: one SHA-256 of the text and of the entry,
    /// plus on the first call one read of the findings pack and on a miss `check`.
    pub fn findings_or(
        &self,
        source: &SourceFile,
        target: Target,
        context: &str,
        check: impl FnOnce() -> Vec<Diagnostic>,
    ) -> Vec<Diagnostic> {
        if source.text.contains("expiration") {
            return check();
        }
        let key = self.key(&["findings", target.name(), context], &source.text);
        let stored = self.with_pack(|pack| pack.get(&key));
        let found = stored.and_then(|payload| serde_json::from_slice(&payload).ok());
        if let Some(Entry::Findings(findings)) = found {
            return findings;
        }
        let findings = Entry::Findings(check());
        if let Ok(payload) = serde_json::to_vec(&findings) {
            self.with_pack(|pack| pack.insert(key, payload));
        }
        match findings {
            Entry::Findings(findings) => findings,
            _ => Vec::new(),
        }
    }

    /// Writes the findings pack when this run added entries: every sound entry it held and
    /// the new ones, atomically; packs of other builds are removed then (a rebuilt capable
    /// never reads them). Cost: O(pack size).
    pub fn flush(&self) {
        // The pack in memory becomes the one written: a second flush writes only what
        // was added after the first.
        let bytes = self.with_pack(|pack| {
            let bytes = pack.changed().then(|| pack.write())?;
            *pack = pack::Pack::read(bytes.clone());
            Some(bytes)
        });
        let Some(bytes) = bytes else {
            return;
        };
        if self.create().is_none() {
            return;
        }
        let path = self.pack_path();
        if write_atomically(&self.dir, &path, &bytes).is_none() {
            return;
        }
        let Ok(listing) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in listing.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let stale = name.starts_with("findings-") && name.ends_with(".pack");
            if stale && entry.path() != path {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Runs `work` on the findings pack, read from disk on first use.
    fn with_pack<T>(&self, work: impl FnOnce(&mut pack::Pack) -> T) -> T {
        let mut guard = self
            .pack
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let pack = guard.get_or_insert_with(|| {
            pack::Pack::read(std::fs::read(self.pack_path()).unwrap_or_default())
        });
        work(pack)
    }

    /// `findings-<SHA-256 of the salt, 16 hex digits>.pack`: one pack per build.
    fn pack_path(&self) -> PathBuf {
        let build = hex(digest(&SHA256, &self.salt).as_ref());
        self.dir.join(format!("findings-{}.pack", &build[..16]))
    }

    /// The key of `parts` (NUL-separated) and `text` under this build's salt, in hex.
    fn key(&self, parts: &[&str], text: &str) -> String {
        let mut key = Context::new(&SHA256);
        key.update(&self.salt);
        for part in parts {
            key.update(b"\0");
            key.update(part.as_bytes());
        }
        key.update(b"\0");
        key.update(text.as_bytes());
        hex(key.finish().as_ref())
    }

    /// The entry file for `parts` (NUL-separated) and `text`, under this build's salt.
    fn key_path(&self, parts: &[&str], text: &str) -> PathBuf {
        self.dir.join(self.key(parts, text))
    }

    /// The entry at `path` if it is whole and sound.
    fn load(&self, path: &Path) -> Option<Entry> {
        serde_json::from_slice(&self.load_payload(path)?).ok()
    }

    /// Writes an entry as JSON ([`Cache::store_payload`]).
    fn store(&self, path: &Path, entry: &Entry) {
        if let Ok(bytes) = serde_json::to_vec(entry) {
            self.store_payload(path, bytes);
        }
    }

    /// The payload of the entry at `path`, if the entry is whole and its checksum matches.
    /// Cost: one file read and one SHA-256 of it.
    fn load_payload(&self, path: &Path) -> Option<Vec<u8>> {
        let mut bytes = std::fs::read(path).ok()?;
        let split = bytes.len().checked_sub(65)?;
        let (payload, trailer) = bytes.split_at(split);
        let checksum = trailer.strip_prefix(b"\n")?;
        if checksum != hex(digest(&SHA256, payload).as_ref()).as_bytes() {
            return None;
        }
        bytes.truncate(split);
        Some(bytes)
    }

    /// Writes an entry: its payload, a newline and the SHA-256 of the payload (64 hex
    /// digits), atomically ([`write_atomically`]).
    fn store_payload(&self, path: &Path, mut bytes: Vec<u8>) {
        if self.create().is_none() {
            return;
        }
        let checksum = hex(digest(&SHA256, &bytes).as_ref());
        bytes.push(b'\n');
        bytes.extend_from_slice(checksum.as_bytes());
        let _ = write_atomically(&self.dir, path, &bytes);
    }
}

/// Role-level findings live in the findings pack beside the files' findings, under the key
/// [`crate::inventory::lints`] makes (a digest of the subject, its policies' models, the
/// target, mounts and namespaces), salted with this build.
impl crate::inventory::lints::RoleFindingsStore for Cache {
    fn get(&self, key: &str) -> Option<crate::inventory::lints::StoredFindings> {
        let key = self.key(&["role findings"], key);
        let payload = self.with_pack(|pack| pack.get(&key))?;
        match serde_json::from_slice(&payload).ok()? {
            Entry::RoleFindings(findings) => Some(findings),
            _ => None,
        }
    }

    fn put(&self, key: &str, findings: crate::inventory::lints::StoredFindings) {
        let key = self.key(&["role findings"], key);
        if let Ok(payload) = serde_json::to_vec(&Entry::RoleFindings(findings)) {
            self.with_pack(|pack| pack.insert(key, payload));
        }
    }
}

/// A digest of everything in the lint settings, for [`Cache::findings_or`]'s context.
/// Cost: O(size of the settings).
pub fn settings_fingerprint(settings: &crate::lint::settings::LintSettings<'_>) -> String {
    let text = format!(
        "{:?}\0{:?}\0{:?}\0{:?}",
        settings.rules, settings.mounts, settings.namespaces, settings.accessors
    );
    hex(digest(&SHA256, text.as_bytes()).as_ref())
}

/// Writes the findings pack of this process's cache, if one is open and this run added
/// entries ([`Cache::flush`]). `check` calls it once its findings are known.
pub fn flush() {
    if let Some(cache) = Cache::opened() {
        cache.flush();
    }
}

/// The SHA-256 of `parts` (each length-prefixed, so no two lists of parts collide), in hex:
/// a short stand-in for them in a [`Cache::findings_or`] context. Cost: O(their size).
pub fn digest_hex(parts: &[Vec<u8>]) -> String {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_le_bytes());
        context.update(part);
    }
    hex(context.finish().as_ref())
}

/// Writes `bytes` to a temporary file in `dir`, then renames it to `path`: readers see the
/// old file or the new one, never a part. Unlike [`crate::atomic_write`] there is no
/// `fsync`: an entry lost or torn by a crash fails its checksum and is written again.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Option<()> {
    let mut file = tempfile::NamedTempFile::new_in(dir).ok()?;
    file.write_all(bytes).ok()?;
    file.persist(path).ok()?;
    Some(())
}

/// The build's part of the key: capable's version and the executable's size and
/// modification time. `None` when the executable cannot be found (then no cache).
fn build_salt() -> Option<Vec<u8>> {
    let exe = std::env::current_exe().ok()?;
    let metadata = std::fs::metadata(exe).ok()?;
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(
        format!(
            "{}\0{}\0{}.{}",
            env!("CARGO_PKG_VERSION"),
            metadata.len(),
            modified.as_secs(),
            modified.subsec_nanos()
        )
        .into_bytes(),
    )
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

pub mod inventory;
mod pack;

#[cfg(test)]
mod tests;
