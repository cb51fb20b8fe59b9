//! The resolved inventory as text records, one role, group, entity or auth mount accessor
//! per line, so that the cache ([`crate::cache::inventory`]) hands a one-subject query only
//! the records that subject needs instead of resolving all 10,000 roles again.
//!
//! Each record is `\n<tag> <key> <value>`: the tag is `R` (role), `G` (group), `E` (entity)
//! or `A` (accessor of an auth mount), the key and the value compact JSON. serde_json
//! escapes every newline inside a string, so a record never spans lines and the bytes
//! `\n<tag> <key> ` (the key written the same canonical way) find it, and only it: the key
//! is the first JSON value of its line. Lookups are one `memmem` scan of the records each
//! (no parse of the others).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use memchr::memmem;

use super::resolve::{EntityInfo, GroupInfo, Inventory, LoginEntity, RoleInfo};
use super::Subject;
use crate::namespace::Namespaces;
use crate::policy::Policy;

const ROLE: u8 = b'R';
const GROUP: u8 = b'G';
const ENTITY: u8 = b'E';
const ACCESSOR: u8 = b'A';

/// What an inventory made from records is given besides them.
pub struct Beside {
    pub policies: std::sync::Arc<BTreeMap<String, Policy>>,
    pub unloaded: BTreeSet<String>,
    pub namespaces: Namespaces,
}

impl Inventory {
    /// Every role, group, entity and accessor as records (see the module documentation);
    /// the policies, unloaded names and namespaces are not in them. Cost: O(inventory).
    pub fn records(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (key, info) in &self.roles {
            push_record(&mut out, ROLE, key, info);
        }
        for (key, info) in &self.groups {
            push_record(&mut out, GROUP, key, info);
        }
        for (key, info) in &self.entities {
            push_record(&mut out, ENTITY, key, info);
        }
        for (mount, accessor) in &self.accessors {
            push_record(&mut out, ACCESSOR, mount, accessor);
        }
        out
    }

    /// The inventory of [`Inventory::records`], whole; `beside` back when a record does not
    /// read back (a damaged or foreign entry). Cost: O(records).
    pub fn from_records(records: &[u8], beside: Beside) -> Result<Inventory, Beside> {
        let mut inventory = empty(beside);
        match read_all(records, &mut inventory) {
            Some(()) => Ok(inventory),
            None => Err(given_back(inventory)),
        }
    }

    /// The part of the inventory of [`Inventory::records`] that answers about `subject`:
    /// the role (or every role a bare name matches, so that [`Inventory::find_role`] says
    /// the same), its entity, the entity's groups and their parents, and every accessor. A
    /// question about this subject gets the answers the whole inventory gives; listing the
    /// subjects ([`Inventory::subjects`]) does not. `beside` back when a record does not
    /// read back. Cost: one scan of the records per role, entity and group read (a bare role
    /// name: one pass over the role records).
    pub fn from_records_for(
        records: &[u8],
        subject: &Subject,
        beside: Beside,
    ) -> Result<Inventory, Beside> {
        let mut inventory = empty(beside);
        match read_for(records, subject, &mut inventory) {
            Some(()) => Ok(inventory),
            None => Err(given_back(inventory)),
        }
    }
}

/// Every record into `inventory`.
fn read_all(records: &[u8], inventory: &mut Inventory) -> Option<()> {
    for line in records.split(|byte| *byte == b'\n').skip(1) {
        let (&tag, rest) = line.split_first()?;
        let (key, value) = split_record(rest.strip_prefix(b" ")?)?;
        match tag {
            ROLE => insert(&mut inventory.roles, key, value)?,
            GROUP => insert(&mut inventory.groups, key, value)?,
            ENTITY => insert(&mut inventory.entities, key, value)?,
            ACCESSOR => insert(&mut inventory.accessors, key, value)?,
            _ => return None,
        }
    }
    Some(())
}

/// One record's value, read into its map; `None` when it does not read.
fn insert<T: serde::de::DeserializeOwned>(
    map: &mut BTreeMap<String, T>,
    key: String,
    value: &[u8],
) -> Option<()> {
    map.insert(key, serde_json::from_slice(value).ok()?);
    Some(())
}

/// The records `subject` needs into `inventory` (see [`Inventory::from_records_for`]).
fn read_for(records: &[u8], subject: &Subject, inventory: &mut Inventory) -> Option<()> {
    for line in find_all(records, ACCESSOR) {
        let (key, value) = split_record(line)?;
        insert(&mut inventory.accessors, key, value)?;
    }
    let mut entities = Vec::new();
    let mut groups = Vec::new();
    match subject {
        Subject::Role(name) => {
            for (key, info) in find_roles(records, name)? {
                if let LoginEntity::Declared(entity) | LoginEntity::Alias(entity) = &info.login {
                    entities.push(entity.clone());
                }
                inventory.roles.insert(key, info);
            }
        }
        Subject::Entity(name) => entities.push(name.clone()),
        Subject::Group(name) => groups.push(name.clone()),
        Subject::Policies(_) => {}
    }
    for name in entities {
        let Some(value) = find(records, ENTITY, &name)? else {
            continue;
        };
        let info: EntityInfo = serde_json::from_slice(value).ok()?;
        groups.extend(info.groups.iter().cloned());
        inventory.entities.insert(name, info);
    }
    let mut queue: VecDeque<String> = groups.into();
    while let Some(name) = queue.pop_front() {
        if inventory.groups.contains_key(&name) {
            continue;
        }
        let Some(value) = find(records, GROUP, &name)? else {
            continue;
        };
        let info: GroupInfo = serde_json::from_slice(value).ok()?;
        queue.extend(info.parents.iter().cloned());
        inventory.groups.insert(name, info);
    }
    Some(())
}

/// What an inventory was given besides its records.
fn given_back(inventory: Inventory) -> Beside {
    Beside {
        policies: inventory.policies,
        unloaded: inventory.unloaded,
        namespaces: inventory.namespaces,
    }
}

fn empty(beside: Beside) -> Inventory {
    Inventory {
        policies: beside.policies,
        unloaded: beside.unloaded,
        roles: BTreeMap::new(),
        groups: BTreeMap::new(),
        entities: BTreeMap::new(),
        accessors: BTreeMap::new(),
        namespaces: beside.namespaces,
        narrowed_default: None,
        set_aside: Vec::new(),
        graph: std::sync::OnceLock::new(),
    }
}

fn push_record(out: &mut Vec<u8>, tag: u8, key: &str, value: &impl serde::Serialize) {
    out.push(b'\n');
    out.push(tag);
    out.push(b' ');
    // Writing a string or a derived struct into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, key);
    out.push(b' ');
    let _ = serde_json::to_writer(&mut *out, value);
}

/// The key and the value bytes of a record's `<key> <value>`. Cost: O(key).
fn split_record(rest: &[u8]) -> Option<(String, &[u8])> {
    let mut keys = serde_json::Deserializer::from_slice(rest).into_iter::<String>();
    let key = keys.next()?.ok()?;
    let value = rest.get(keys.byte_offset()..)?.strip_prefix(b" ")?;
    Some((key, value))
}

/// The value of the record `tag` `key`: `Some(None)` when there is none. Cost: one scan.
fn find<'a>(records: &'a [u8], tag: u8, key: &str) -> Option<Option<&'a [u8]>> {
    let mut needle = vec![b'\n', tag, b' '];
    serde_json::to_writer(&mut needle, key).ok()?;
    needle.push(b' ');
    let Some(at) = memmem::find(records, &needle) else {
        return Some(None);
    };
    let start = at + needle.len();
    let end = memchr::memchr(b'\n', &records[start..]).map_or(records.len(), |n| start + n);
    Some(Some(&records[start..end]))
}

/// The `<key> <value>` part of every record of `tag`. Cost: one scan.
fn find_all(records: &[u8], tag: u8) -> impl Iterator<Item = &[u8]> {
    let finder = memmem::Finder::new(&[b'\n', tag, b' ']).into_owned();
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = from + finder.find(&records[from..])?;
        let start = at + 3;
        let end = memchr::memchr(b'\n', &records[start..]).map_or(records.len(), |n| start + n);
        from = end;
        Some(&records[start..end])
    })
}

/// The roles [`Inventory::find_role`] would consider for `name`: the role keyed `name`,
/// else every role whose bare name (after the last `/`) is `name`. Cost: one scan, and for
/// a bare name one pass over the role records (only those containing it are parsed).
fn find_roles(records: &[u8], name: &str) -> Option<Vec<(String, RoleInfo)>> {
    if let Some(value) = find(records, ROLE, name)? {
        return Some(vec![(
            name.to_string(),
            serde_json::from_slice(value).ok()?,
        )]);
    }
    if name.contains('/') {
        return Some(Vec::new());
    }
    // The name as it appears inside a JSON string (escaped the same way as the keys).
    let quoted = serde_json::to_string(name).ok()?;
    let bare = memmem::Finder::new(&quoted.as_bytes()[1..quoted.len() - 1]);
    let mut found = Vec::new();
    for line in find_all(records, ROLE) {
        if bare.find(line).is_none() {
            continue;
        }
        let (key, value) = split_record(line)?;
        if key.rsplit_once('/').is_some_and(|(_, last)| last == name) {
            found.push((key, serde_json::from_slice(value).ok()?));
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::source::SourceFile;

    const CONFIG: &str = r#"target: vault
roles:
  userpass/alice:
    policies: [dev]
  kubernetes/app:
    policies: [dev, "we\"ird"]
    entity: svc
  approle/app:
    policies: [ops]
    token_no_default_policy: true
  userpass/bob:
    policies: [ops]
    accessor: auth_userpass_real
groups:
  team:
    policies: [ops]
    member_entities: [alice]
  parent:
    policies: [dev]
    member_groups: [team]
  lonely: {}
entities:
  alice:
    metadata: {team: a}
    aliases:
      - {mount: userpass, name: alice}
  svc:
    groups: [team]
"#;

    fn whole() -> (Config, Inventory, BTreeSet<String>) {
        let source = Arc::new(SourceFile::new("capable.yaml", CONFIG));
        let config = Config::from_text(source, ".".into()).unwrap();
        let names: BTreeSet<String> = ["dev", "ops", "we\"ird"].map(String::from).into();
        let inventory = Inventory::with_unloaded(&config, &Default::default(), &names).unwrap();
        (config, inventory, names)
    }

    fn beside(config: &Config, names: &BTreeSet<String>) -> Beside {
        Beside {
            policies: Default::default(),
            unloaded: names.clone(),
            namespaces: config.namespaces.clone(),
        }
    }

    #[test]
    fn records_read_back_whole() {
        let (config, inventory, names) = whole();
        let records = inventory.records();
        assert_eq!(
            records.iter().filter(|b| **b == b'\n').count(),
            4 + 3 + 2 + 3
        );
        let back = Inventory::from_records(&records, beside(&config, &names))
            .ok()
            .unwrap();
        assert_eq!(format!("{back:?}"), format!("{inventory:?}"));
        assert!(Inventory::from_records(b"\nX \"a\" 1", beside(&config, &names)).is_err());
        assert!(Inventory::from_records(b"\nR \"a\" {", beside(&config, &names)).is_err());
    }

    #[test]
    fn one_subject_reads_only_its_records_and_answers_the_same() {
        let (config, inventory, names) = whole();
        let records = inventory.records();
        let subjects = [
            Subject::Role("userpass/alice".into()),
            Subject::Role("kubernetes/app".into()),
            Subject::Role("alice".into()),
            Subject::Role("bob".into()),
            Subject::Role("app".into()),
            Subject::Role("nobody".into()),
            Subject::Role("x/nobody".into()),
            Subject::Entity("svc".into()),
            Subject::Entity("alice".into()),
            Subject::Entity("nobody".into()),
            Subject::Group("team".into()),
            Subject::Group("lonely".into()),
            Subject::Group("nobody".into()),
            Subject::Policies(vec!["dev".into()]),
        ];
        for subject in subjects {
            let part = Inventory::from_records_for(&records, &subject, beside(&config, &names))
                .ok()
                .unwrap();
            assert_eq!(
                part.effective_policies(&subject),
                inventory.effective_policies(&subject),
                "{subject:?}"
            );
            assert_eq!(
                part.identity_for(&subject),
                inventory.identity_for(&subject),
                "{subject:?}"
            );
            assert_eq!(
                part.namespace_of(&subject),
                inventory.namespace_of(&subject)
            );
            assert!(
                part.roles.len() <= 2 && part.entities.len() <= 1,
                "{subject:?}"
            );
        }
        // The ambiguous bare name lists both keys, as the whole inventory does.
        let app = Subject::Role("app".into());
        let part = Inventory::from_records_for(&records, &app, beside(&config, &names))
            .ok()
            .unwrap();
        assert_eq!(part.roles.len(), 2);
        assert!(matches!(
            part.effective_policies(&app),
            Err(crate::inventory::InventoryError::AmbiguousRole(_, keys)) if keys.len() == 2
        ));
        // The group's parent is read with it.
        let team = Subject::Group("team".into());
        let part = Inventory::from_records_for(&records, &team, beside(&config, &names))
            .ok()
            .unwrap();
        assert_eq!(part.groups.len(), 2);
    }
}
