//! Namespaces (Vault Enterprise, HCP Vault, OpenBao 2.x): the tree `capable.yaml` declares and
//! the path arithmetic the products do. The rules, each established on OpenBao 2.7.2, are in
//! `docs/namespaces.md`; in short:
//!
//! - a namespace path is `""` for the root namespace, else its segments with a trailing `/`
//!   (`admin/team-a/`);
//! - a policy's rules apply to its namespace's path plus the pattern (spec 1.5 step 5), so an
//!   ACL works on full paths, and a request in namespace `N` for path `p` asks about `N` + `p`.
//!
//! Cost: every lookup is O(path length) (a hash probe per `/` of the path).

use std::collections::BTreeSet;

/// Segment names the products refuse as a namespace name (OpenBao 2.7.2: "is a reserved path
/// and cannot be used as a namespace name").
pub const RESERVED_NAMES: &[&str] = &["sys", "auth", "root", "cubbyhole", "identity"];

/// Normalises a namespace path as a user writes it: `admin/team-a`, `/admin/team-a/` and
/// `admin/team-a/` are `admin/team-a/`; `""`, `/` and `root` are the root namespace `""`.
/// Errors name the offending segment, in OpenBao's words.
pub fn normalize(text: &str) -> Result<String, String> {
    let trimmed = text.trim_matches('/');
    if trimmed.is_empty() || trimmed == "root" {
        return Ok(String::new());
    }
    let mut out = String::with_capacity(trimmed.len() + 1);
    for segment in trimmed.split('/') {
        check_segment(segment)?;
        out.push_str(segment);
        out.push('/');
    }
    Ok(out)
}

fn check_segment(segment: &str) -> Result<(), String> {
    if segment.is_empty() {
        return Err("a namespace path has an empty segment (`//`)".into());
    }
    if RESERVED_NAMES.contains(&segment) {
        return Err(format!(
            "`{segment}/` is a reserved path and cannot be used as a namespace name"
        ));
    }
    if let Some(wildcard) = segment.chars().find(|c| matches!(c, '*' | '+')) {
        return Err(format!(
            "`{segment}` contains wildcard characters that cannot be used in a namespace name: `{wildcard}`"
        ));
    }
    if segment.chars().any(char::is_whitespace) {
        return Err(format!(
            "`{segment}` contains space characters that cannot be used in a namespace name"
        ));
    }
    Ok(())
}

/// The full path a request in `namespace` asks about: the namespace path, then the path as
/// given. Observed on OpenBao 2.7.2: in a child namespace a leading `/` is kept (`admin/` with
/// `/x` asks about `admin//x`); only the root namespace strips it (spec 3.1).
pub fn join(namespace: &str, path: &str) -> String {
    format!("{namespace}{path}")
}

/// The display name of a namespace: `root` for `""`, else its path.
pub fn display(namespace: &str) -> &str {
    if namespace.is_empty() {
        "root"
    } else {
        namespace
    }
}

/// Whether `namespace` is `ancestor` or lies below it (`HasParent`, or equal).
pub fn is_within(namespace: &str, ancestor: &str) -> bool {
    namespace.starts_with(ancestor)
}

/// The parent of a non-root namespace (`admin/team-a/` → `admin/`); `None` for the root.
pub fn parent(namespace: &str) -> Option<&str> {
    if namespace.is_empty() {
        return None;
    }
    let inner = &namespace[..namespace.len() - 1];
    Some(match inner.rfind('/') {
        Some(at) => &namespace[..at + 1],
        None => "",
    })
}

/// The declared namespace tree. The root namespace is always present; declaring
/// `admin/team-a/` declares `admin/` too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespaces {
    paths: BTreeSet<String>,
}

impl Default for Namespaces {
    /// Only the root namespace.
    fn default() -> Namespaces {
        Namespaces::new([])
    }
}

impl Namespaces {
    /// The tree of these normalised paths and all their ancestors. Cost: O(total length).
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Namespaces {
        let mut all = BTreeSet::new();
        all.insert(String::new());
        for path in paths {
            let mut current = Some(path);
            while let Some(namespace) = current {
                if !all.insert(namespace.to_string()) {
                    break;
                }
                current = parent(namespace);
            }
        }
        Namespaces { paths: all }
    }

    /// Whether only the root namespace exists.
    pub fn is_flat(&self) -> bool {
        self.paths.len() == 1
    }

    pub fn contains(&self, namespace: &str) -> bool {
        self.paths.contains(namespace)
    }

    /// Every namespace, root (`""`) first, parents before children.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }

    /// Whether `namespace` has a child namespace. Cost: O(log n + length).
    pub fn has_children(&self, namespace: &str) -> bool {
        self.paths
            .range::<str, _>((
                std::ops::Bound::Excluded(namespace),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|next| next.starts_with(namespace))
    }

    /// The direct children of `namespace`, in order.
    pub fn children<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.paths
            .iter()
            .filter(move |path| parent(path) == Some(namespace))
            .map(String::as_str)
    }

    /// The deepest declared namespace a full path falls into, and the path relative to it
    /// (`admin/team-a/sys/mounts` → (`admin/team-a/`, `sys/mounts`)): where the products route
    /// the request. Cost: O(path length).
    pub fn split<'p>(&self, full_path: &'p str) -> (&'p str, &'p str) {
        let mut deepest = 0;
        for (at, _) in full_path.match_indices('/') {
            if !self.paths.contains(&full_path[..at + 1]) {
                break;
            }
            deepest = at + 1;
        }
        full_path.split_at(deepest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_bad_names_are_refused() {
        assert_eq!(normalize("admin/team-a").unwrap(), "admin/team-a/");
        assert_eq!(normalize("/admin/").unwrap(), "admin/");
        assert_eq!(normalize("").unwrap(), "");
        assert_eq!(normalize("root").unwrap(), "");
        assert!(normalize("admin/sys").unwrap_err().contains("reserved"));
        assert!(normalize("a+b").unwrap_err().contains("wildcard"));
        assert!(normalize("a b").unwrap_err().contains("space"));
        assert!(normalize("a//b").unwrap_err().contains("empty"));
    }

    #[test]
    fn the_tree_knows_parents_children_and_routes_paths() {
        let tree = Namespaces::new(["admin/team-a/deep/", "admin/team-b/"]);
        assert!(tree.contains("admin/") && tree.contains("admin/team-a/"));
        assert!(tree.has_children("") && tree.has_children("admin/"));
        assert!(!tree.has_children("admin/team-b/"));
        assert_eq!(
            tree.children("admin/").collect::<Vec<_>>(),
            ["admin/team-a/", "admin/team-b/"]
        );
        assert_eq!(
            tree.split("admin/team-a/sys/mounts"),
            ("admin/team-a/", "sys/mounts")
        );
        assert_eq!(tree.split("admin/team-c/x"), ("admin/", "team-c/x"));
        assert_eq!(tree.split("sys/mounts"), ("", "sys/mounts"));
        assert_eq!(parent("admin/team-a/"), Some("admin/"));
        assert_eq!(parent("admin/"), Some(""));
        assert!(is_within("admin/team-a/", "admin/") && is_within("x/", ""));
        assert!(!is_within("admin/", "admin/team-a/"));
        assert!(Namespaces::default().is_flat());
        assert_eq!(join("admin/", "/x"), "admin//x");
        assert_eq!(join("", "/x"), "/x");
    }
}
