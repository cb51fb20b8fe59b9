//! The findings entries of one build in one file (`findings-<build>.pack`), read once per run
//! and written once at its end ([`super::flush`]): a warm `check` of N files opens one cache
//! file instead of N.
//!
//! Layout: a format line, the number of entries, one index line per entry
//! (`<key> <offset> <length> <checksum>`, the key and the SHA-256 of key and payload in
//! hex, the offset counted from the end of the index), then the payloads. A run verifies only
//! the entries it uses, so a one-file `check` on a big tree costs one read of the pack, the
//! parse of its index and one checksum. An entry that fails its checksum (a damaged pack)
//! is a miss and is left out when the pack is written again; a pack that cannot be read as a
//! whole (wrong format line, torn index) counts as empty.
//!
//! Cost: loading O(pack size) for the read plus O(entries) for the index; a lookup
//! O(payload); writing O(pack size) with a checksum of every kept entry.

use std::collections::HashMap;

use ring::digest::{Context, SHA256};

use super::hex;

const MAGIC: &str = "capable findings pack 1";

/// A pack as read, with the entries this run added.
#[derive(Debug, Default)]
pub(super) struct Pack {
    /// The file as read (empty when missing or unreadable).
    bytes: Vec<u8>,
    /// Key → (payload range in `bytes`, checksum), from the index.
    index: HashMap<String, (std::ops::Range<usize>, String)>,
    /// Entries this run computed, by key.
    added: HashMap<String, Vec<u8>>,
}

impl Pack {
    /// The pack in `bytes`; an unreadable layout gives an empty pack.
    pub(super) fn read(bytes: Vec<u8>) -> Pack {
        let index = parse_index(&bytes).unwrap_or_default();
        Pack {
            bytes,
            index,
            added: HashMap::new(),
        }
    }

    /// The payload stored under `key`, if present and sound.
    pub(super) fn get(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(payload) = self.added.get(key) {
            return Some(payload.clone());
        }
        self.verified(key).map(<[u8]>::to_vec)
    }

    /// Records `payload` under `key` for the next [`Pack::write`].
    pub(super) fn insert(&mut self, key: String, payload: Vec<u8>) {
        self.added.insert(key, payload);
    }

    /// Whether this run added entries (the pack must be written again).
    pub(super) fn changed(&self) -> bool {
        !self.added.is_empty()
    }

    /// The pack's new contents: every sound entry read, and those added, by key.
    pub(super) fn write(&self) -> Vec<u8> {
        let mut entries: Vec<(&str, &[u8])> = self
            .index
            .keys()
            .filter(|key| !self.added.contains_key(*key))
            .filter_map(|key| Some((key.as_str(), self.verified(key)?)))
            .chain(
                self.added
                    .iter()
                    .map(|(key, payload)| (key.as_str(), payload.as_slice())),
            )
            .collect();
        entries.sort_unstable_by_key(|(key, _)| *key);
        let mut head = format!("{MAGIC}\n{}\n", entries.len());
        let mut offset = 0;
        for (key, payload) in &entries {
            head.push_str(&format!(
                "{key} {offset} {} {}\n",
                payload.len(),
                checksum(key, payload)
            ));
            offset += payload.len();
        }
        let mut bytes = head.into_bytes();
        for (_, payload) in entries {
            bytes.extend_from_slice(payload);
        }
        bytes
    }

    /// The payload of a read entry whose checksum matches.
    fn verified(&self, key: &str) -> Option<&[u8]> {
        let (range, expected) = self.index.get(key)?;
        let payload = self.bytes.get(range.clone())?;
        (checksum(key, payload) == *expected).then_some(payload)
    }
}

/// The index of a pack: `None` when the format line, the count or any index line is wrong.
fn parse_index(bytes: &[u8]) -> Option<HashMap<String, (std::ops::Range<usize>, String)>> {
    let mut lines = bytes.split(|byte| *byte == b'\n');
    if lines.next()? != MAGIC.as_bytes() {
        return None;
    }
    let count_line = lines.next()?;
    let count: usize = std::str::from_utf8(count_line).ok()?.parse().ok()?;
    let mut consumed = MAGIC.len() + 1 + count_line.len() + 1;
    // Each index line holds at least a 64-digit key: the count cannot exceed what is there.
    if count > bytes.len() / 64 {
        return None;
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let line = lines.next()?;
        consumed += line.len() + 1;
        let line = std::str::from_utf8(line).ok()?;
        let mut fields = line.split(' ');
        let (key, offset, length, sum) = (
            fields.next()?,
            fields.next()?.parse::<usize>().ok()?,
            fields.next()?.parse::<usize>().ok()?,
            fields.next()?,
        );
        if fields.next().is_some() {
            return None;
        }
        entries.push((key.to_string(), offset, length, sum.to_string()));
    }
    let mut index = HashMap::with_capacity(count);
    for (key, offset, length, sum) in entries {
        let start = consumed.checked_add(offset)?;
        let end = start.checked_add(length)?;
        if end > bytes.len() {
            return None;
        }
        index.insert(key, (start..end, sum));
    }
    Some(index)
}

/// The SHA-256 of `key` and `payload`, in hex: a damaged key fails it as a damaged payload does.
fn checksum(key: &str, payload: &[u8]) -> String {
    let mut context = Context::new(&SHA256);
    context.update(key.as_bytes());
    context.update(b"\n");
    context.update(payload);
    hex(context.finish().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut pack = Pack::default();
        pack.insert("b".repeat(64), b"second".to_vec());
        pack.insert("a".repeat(64), b"first payload".to_vec());
        pack.write()
    }

    #[test]
    fn a_written_pack_reads_back_every_entry() {
        let pack = Pack::read(sample());
        assert_eq!(pack.get(&"a".repeat(64)).unwrap(), b"first payload");
        assert_eq!(pack.get(&"b".repeat(64)).unwrap(), b"second");
        assert!(pack.get(&"c".repeat(64)).is_none());
        assert!(!pack.changed());
        assert_eq!(pack.write(), sample(), "rewriting changed the pack");
    }

    #[test]
    fn every_damaged_byte_loses_entries_but_never_misreads_one() {
        let whole = sample();
        for at in 0..whole.len() {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut damaged = whole.clone();
                damaged[at] ^= flip;
                let pack = Pack::read(damaged);
                for (key, payload) in [("a", &b"first payload"[..]), ("b", b"second")] {
                    if let Some(found) = pack.get(&key.repeat(64)) {
                        assert_eq!(found, payload, "byte {at} ^ {flip:#x} misread `{key}`");
                    }
                }
                let rewritten = Pack::read(pack.write());
                assert!(rewritten.index.len() <= 2);
            }
        }
        for cut in 0..whole.len() {
            let pack = Pack::read(whole[..cut].to_vec());
            assert!(
                pack.get(&"b".repeat(64)).is_none(),
                "a pack cut at {cut} read"
            );
        }
    }
}
