//! The root-protected paths (spec 6) as region pieces, so the diff can carve them exactly.
//!
//! A request path is routed to the longest of the mounts with a root-path table (`sys/`,
//! `auth/token/`, every PKI mount); within it, only the longest table key prefixing the path
//! counts: a prefix entry protects the path, an exact entry only the path equal to it. As
//! pieces: each exact key `K` is the literal `K`; each prefix key `K` is `K*` minus every
//! longer key of its table extending `K` (whose own piece decides those paths); every piece
//! excludes the longer routed mounts it contains. [`protected_pieces`] is checked against
//! [`crate::acl::builtin::requires_sudo_with_mounts`] path by path in the tests below.
//!
//! Cost: O(E² × L) for E table entries of length L, once per side (E is under 40).

use crate::acl::builtin::sudo_patterns;
use crate::namespace::Namespaces;
use crate::query::lang::{Seq, Token};
use crate::query::reach::Piece;
use crate::target::Target;

/// The mounts capable assumes hold a PKI engine: the mount table's `pki` mounts and `pki/`
/// (as the `sudo-unneeded` lint does).
pub fn pki_mounts(mounts: &crate::config::Mounts) -> Vec<String> {
    let mut found: Vec<String> = crate::acl::builtin::pki_mount_paths(mounts)
        .into_iter()
        .map(str::to_string)
        .collect();
    found.push(crate::acl::builtin::DEFAULT_PKI_MOUNT.to_string());
    found.sort();
    found.dedup();
    found
}

/// One root-path table entry: the key (pattern minus a trailing `*`) and whether it is a
/// prefix entry.
#[derive(Clone, Debug)]
struct Entry {
    key: String,
    prefix: bool,
}

/// The protected request paths of `target` with PKI engines at `pki_mounts`.
pub fn protected_pieces(target: Target, pki_mounts: &[String]) -> Vec<Piece> {
    let patterns = sudo_patterns(target);
    let mut tables: Vec<(String, Vec<Entry>)> = Vec::new();
    let entry = |pattern: &str, mount: &str, pki: &str| {
        let absolute = format!("{mount}{}", &pattern[pki.len()..]);
        match absolute.strip_suffix('*') {
            Some(key) => Entry {
                key: key.to_string(),
                prefix: true,
            },
            None => Entry {
                key: absolute,
                prefix: false,
            },
        }
    };
    for mount in ["sys/", "auth/token/"] {
        let entries = patterns
            .iter()
            .filter(|pattern| pattern.starts_with(mount))
            .map(|pattern| entry(pattern, mount, mount))
            .collect();
        tables.push((mount.to_string(), entries));
    }
    for mount in pki_mounts {
        let mount = format!("{}/", mount.trim_matches('/'));
        let entries = patterns
            .iter()
            .filter(|pattern| pattern.starts_with("pki/"))
            .map(|pattern| entry(pattern, &mount, "pki/"))
            .collect();
        tables.push((mount, entries));
    }
    let mounts: Vec<String> = tables.iter().map(|(mount, _)| mount.clone()).collect();
    let mut pieces = Vec::new();
    for (mount, entries) in &tables {
        let longer_mounts: Vec<Seq> = mounts
            .iter()
            .filter(|other| other.len() > mount.len() && other.starts_with(mount.as_str()))
            .map(|other| Seq::literal(other).then(Token::Any))
            .collect();
        for entry in entries {
            let mut exclude = longer_mounts.clone();
            if !entry.prefix {
                pieces.push(Piece {
                    include: Seq::literal(&entry.key),
                    exclude,
                });
                continue;
            }
            exclude.extend(
                entries
                    .iter()
                    .filter(|other| {
                        other.key.len() > entry.key.len() && other.key.starts_with(&entry.key)
                    })
                    .map(|other| Seq::literal(&other.key).then(Token::Any)),
            );
            pieces.push(Piece {
                include: Seq::literal(&entry.key).then(Token::Any),
                exclude,
            });
        }
    }
    pieces
}

/// The protected full paths of a namespace tree: in each namespace `N`, its protected
/// relative paths after `N`, except below a child namespace of `N` (a path is routed to the
/// deepest namespace it falls into, docs/namespaces.md rule 5). With only the root
/// namespace, `pieces` themselves. Cost: O(namespaces × pieces × children).
pub fn in_namespaces(pieces: Vec<Piece>, namespaces: &Namespaces) -> Vec<Piece> {
    if namespaces.is_flat() {
        return pieces;
    }
    let prefixed = |namespace: &str, seq: &Seq| {
        let mut tokens = Seq::literal(namespace).0;
        tokens.extend_from_slice(&seq.0);
        Seq(tokens)
    };
    let mut out = Vec::new();
    for namespace in namespaces.iter() {
        let children: Vec<Seq> = namespaces
            .children(namespace)
            .map(|child| Seq::literal(child).then(Token::Any))
            .collect();
        for piece in &pieces {
            let mut exclude: Vec<Seq> = piece
                .exclude
                .iter()
                .map(|seq| prefixed(namespace, seq))
                .collect();
            exclude.extend(children.iter().cloned());
            out.push(Piece {
                include: prefixed(namespace, &piece.include),
                exclude,
            });
        }
    }
    out
}

/// Whether `path` is in one of the pieces.
pub fn contains(pieces: &[Piece], path: &str) -> bool {
    pieces.iter().any(|piece| {
        piece.include.matches(path) && !piece.exclude.iter().any(|seq| seq.matches(path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::builtin::requires_sudo_with_mounts;

    /// Every protected pattern's key with short continuations, checked both ways.
    #[test]
    fn pieces_agree_with_the_router() {
        let mounts = vec![
            "pki/".to_string(),
            "pki-int/".to_string(),
            "sys/pki/".to_string(),
        ];
        let mount_refs: Vec<&str> = mounts.iter().map(String::as_str).collect();
        for target in [Target::Vault, Target::OpenBao] {
            let pieces = protected_pieces(target, &mounts);
            let mut paths = vec![
                "sys".to_string(),
                "sys/".to_string(),
                "auth/token".to_string(),
            ];
            for pattern in sudo_patterns(target) {
                let key = pattern.trim_end_matches('*');
                for mount in ["pki/", "pki-int/", "sys/pki/"] {
                    let key = match key.strip_prefix("pki/") {
                        Some(rest) => format!("{mount}{rest}"),
                        None => key.to_string(),
                    };
                    for suffix in ["", "/", "x", "/x", "x/y", "/keyring", "/root"] {
                        paths.push(format!("{key}{suffix}"));
                    }
                    let trimmed = key.trim_end_matches('/');
                    paths.push(trimmed.to_string());
                }
            }
            for path in &paths {
                assert_eq!(
                    contains(&pieces, path),
                    requires_sudo_with_mounts(target, path, &mount_refs),
                    "{target} `{path}`"
                );
            }
            // In a namespace tree, a path is judged relative to its deepest namespace.
            let tree = Namespaces::new(["admin/team-a/", "pki/"]);
            let spread = in_namespaces(pieces.clone(), &tree);
            for namespace in ["", "admin/", "admin/team-a/", "pki/", "admin/team-b/"] {
                for path in &paths {
                    let full = format!("{namespace}{path}");
                    let (_, relative) = tree.split(&full);
                    assert_eq!(
                        contains(&spread, &full),
                        requires_sudo_with_mounts(target, relative, &mount_refs),
                        "{target} `{full}`"
                    );
                }
            }
        }
    }
}
