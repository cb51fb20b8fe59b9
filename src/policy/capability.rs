//! Capabilities and capability sets (spec section 1.4).

use std::fmt;

use crate::target::Target;

/// A capability name valid in some product's policy text.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Capability {
    Deny,
    Create,
    Read,
    Update,
    Delete,
    List,
    Sudo,
    Patch,
    /// OpenBao only.
    Scan,
    /// Vault only.
    Subscribe,
    /// Vault only.
    Recover,
}

impl Capability {
    pub const ALL: [Capability; 11] = [
        Capability::Deny,
        Capability::Create,
        Capability::Read,
        Capability::Update,
        Capability::Delete,
        Capability::List,
        Capability::Sudo,
        Capability::Patch,
        Capability::Scan,
        Capability::Subscribe,
        Capability::Recover,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Deny => "deny",
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Delete => "delete",
            Capability::List => "list",
            Capability::Sudo => "sudo",
            Capability::Patch => "patch",
            Capability::Scan => "scan",
            Capability::Subscribe => "subscribe",
            Capability::Recover => "recover",
        }
    }

    /// Parses a capability name as written in policy text (case-sensitive), for a target.
    pub fn parse(name: &str, target: Target) -> Option<Capability> {
        let capability = Capability::ALL.into_iter().find(|c| c.name() == name)?;
        capability.valid_for(target).then_some(capability)
    }

    /// Whether the target accepts this capability in policy text.
    pub fn valid_for(self, target: Target) -> bool {
        match self {
            Capability::Scan => target == Target::OpenBao,
            Capability::Subscribe | Capability::Recover => target == Target::Vault,
            _ => true,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of capabilities as a bitmap (Vault's `capabilitiesBitmap`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct CapSet(u16);

impl CapSet {
    pub const EMPTY: CapSet = CapSet(0);

    pub fn only(capability: Capability) -> CapSet {
        CapSet(capability.bit())
    }

    pub fn of(capabilities: &[Capability]) -> CapSet {
        capabilities
            .iter()
            .fold(CapSet::EMPTY, |set, c| set.with(*c))
    }

    pub fn with(self, capability: Capability) -> CapSet {
        CapSet(self.0 | capability.bit())
    }

    pub fn union(self, other: CapSet) -> CapSet {
        CapSet(self.0 | other.0)
    }

    /// The capabilities in both sets.
    pub fn intersection(self, other: CapSet) -> CapSet {
        CapSet(self.0 & other.0)
    }

    pub fn contains(self, capability: Capability) -> bool {
        self.0 & capability.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn is_deny(self) -> bool {
        self.contains(Capability::Deny)
    }

    pub fn bits(self) -> u16 {
        self.0
    }

    /// Capabilities in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    /// What `sys/capabilities` reports for this bitmap: the names sorted alphabetically,
    /// `["deny"]` when the deny bit is set or nothing is granted (spec 3.8).
    pub fn sys_capabilities(self) -> Vec<&'static str> {
        if self.is_deny() || self.is_empty() {
            return vec!["deny"];
        }
        let mut names: Vec<&'static str> = self.iter().map(Capability::name).collect();
        names.sort_unstable();
        names
    }
}

impl fmt::Display for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Capability::name).collect();
        write!(f, "[{}]", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_decides_product_specific_capabilities() {
        assert_eq!(
            Capability::parse("scan", Target::OpenBao),
            Some(Capability::Scan)
        );
        assert_eq!(Capability::parse("scan", Target::Vault), None);
        assert_eq!(Capability::parse("subscribe", Target::OpenBao), None);
        assert_eq!(Capability::parse("Read", Target::Vault), None);
        assert_eq!(Capability::parse("write", Target::Vault), None);
    }

    #[test]
    fn sys_capabilities_sorts_and_reports_deny() {
        let set = CapSet::of(&[Capability::Update, Capability::Read, Capability::Create]);
        assert_eq!(set.sys_capabilities(), vec!["create", "read", "update"]);
        assert_eq!(CapSet::EMPTY.sys_capabilities(), vec!["deny"]);
        assert_eq!(set.with(Capability::Deny).sys_capabilities(), vec!["deny"]);
    }
}
