//! Role-level lints: what only shows once a role's policies are merged into one ACL
//! (`overridden-deny`, `parameters-narrowed-by-merge`, `unresolved-template`, and the catalog's
//! security rules judged against the role's merged ACL). `crate::check::check_inventory` runs
//! them over a workspace.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::{Inventory, InventoryError, Subject};
use crate::acl::{Acl, AclError, AclOptions};
use crate::lint::rules::unresolved_template::EntityShape;
use crate::lint::rules::{overridden_deny, parameters_narrowed_by_merge, unresolved_template};
use crate::lint::{codes, Category, PolicyIndex, RoleContext, Rule};
use crate::mounts::Mounts;
use crate::policy::Policy;
use crate::target::Target;

/// A role-level finding (see [`crate::lint::RoleFinding`]).
pub type Finding = crate::lint::RoleFinding;

/// The role-level findings of an inventory, merged across subjects. Each policy's index (and
/// its findings alone) is built once, for the first subject that holds it. Subjects whose
/// findings cannot differ (same key) are linted once and share the result. The
/// distinct subjects are linted on all cores; the findings keep the subjects' order.
/// Groups are left out (no rule applies to them); entities are linted per group closure and
/// shape of their identity (see `lint_entities`). Cost: O(distinct roles × rules of their
/// policies × merged rules) work, spread over the cores, plus O(roles × effective policies
/// per role) for the keys (names borrowed, hashed once), and for a role with a templated
/// policy O(its identity) to build and hash that; entities: see `lint_entities`.
pub fn lint_inventory(inventory: &Inventory, target: Target, mounts: &Mounts) -> Vec<Finding> {
    lint_inventory_with(inventory, target, mounts, None)
}

/// Where a subject's role-level findings are kept between runs (the findings cache, which
/// `crate::check` hands in; this layer knows no cache). A key is the hex SHA-256 of
/// everything the findings depend on; a finding names its file by name.
pub trait RoleFindingsStore: Sync {
    /// The findings kept under `key` (`None` inside: the subject's ACL could not be built).
    fn get(&self, key: &str) -> Option<StoredFindings>;
    /// Keeps `findings` under `key`.
    fn put(&self, key: &str, findings: StoredFindings);
}

/// A subject's role-level findings as a [`RoleFindingsStore`] keeps them: each with the name
/// of the file it points into; `None` when the subject's ACL cannot be built.
pub type StoredFindings = Option<Vec<(String, crate::diag::Diagnostic)>>;

/// [`lint_inventory`], taking each distinct subject's findings from `store` when it holds
/// them under the subject's key and keeping those it computes. A warm run of an unchanged
/// tree then builds no merged ACL. Cost: as [`lint_inventory`] for the subjects missed, plus
/// for every distinct subject one SHA-256 of its key, and once per policy a serialization
/// and SHA-256 of its model.
pub fn lint_inventory_with(
    inventory: &Inventory,
    target: Target,
    mounts: &Mounts,
    store: Option<&dyn RoleFindingsStore>,
) -> Vec<Finding> {
    let alone_cache = AloneCache::default();
    let store_keys = store.map(|_| StoreKeys::new(inventory, target, mounts));
    // A group is not a token: no role-level rule applies to it (see `lint_subject`), so its
    // ACL is never built. A chain of `d` groups would otherwise merge d²/2 policies.
    let subjects: Vec<Subject> = inventory
        .subjects()
        .into_iter()
        .filter(|subject| !matches!(subject, Subject::Group(_)))
        .collect();
    // Entities are linted apart, by closure and shape (see `lint_entities`).
    let stored = store.zip(store_keys.as_ref());
    let entities: Vec<&str> = subjects
        .iter()
        .filter_map(|subject| match subject {
            Subject::Entity(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let mut entity_findings = lint_entities(inventory, &entities, target, stored).into_iter();
    // `None` for an entity.
    let keyed: Vec<Option<Option<SubjectKeys>>> = subjects
        .par_iter()
        .map(|subject| match subject {
            Subject::Entity(_) => None,
            _ => Some(SubjectKeys::of(inventory, subject, store_keys.as_ref())),
        })
        .collect();
    // The entities take their findings in their order among the subjects.
    let prepared: Vec<Prepared> = keyed
        .into_iter()
        .map(|keys| match keys {
            Some(keys) => Prepared::Keyed(keys),
            None => Prepared::Linted(entity_findings.next().flatten()),
        })
        .collect();
    // The first subject of each key is linted; the others take its findings.
    let mut first_of: HashMap<LintKey, usize> = HashMap::new();
    let linted_by: Vec<usize> = prepared
        .iter()
        .enumerate()
        .map(|(at, prepared)| match prepared {
            Prepared::Keyed(Some(keys)) => *first_of.entry(keys.lint).or_insert(at),
            _ => at,
        })
        .collect();
    let distinct: Vec<usize> = (0..subjects.len())
        .filter(|&at| linted_by[at] == at && matches!(prepared[at], Prepared::Keyed(_)))
        .collect();
    let mut found: HashMap<usize, Option<Arc<Vec<Finding>>>> = distinct
        .into_par_iter()
        .map(|at| {
            let lint = || lint_subject(inventory, &subjects[at], target, mounts, &alone_cache);
            let stored_key = match &prepared[at] {
                Prepared::Keyed(Some(keys)) => keys.store.as_deref(),
                _ => None,
            };
            let found = match (stored, stored_key) {
                (Some((store, store_keys)), Some(key)) => stored_or(store, key, store_keys, lint),
                _ => lint(),
            };
            (at, found.map(Arc::new))
        })
        .collect();
    for (at, prepared) in prepared.into_iter().enumerate() {
        if let Prepared::Linted(findings) = prepared {
            found.insert(at, findings);
        }
    }
    let per_subject: Vec<(Subject, Vec<Finding>)> = subjects
        .into_iter()
        .enumerate()
        .filter_map(|(at, subject)| {
            let findings = found.get(&linted_by[at])?.as_ref()?;
            Some((subject, Vec::clone(findings)))
        })
        .collect();
    merge_subjects(per_subject)
}

/// What a subject's role-level findings depend on besides its name: its kind, its effective
/// policies in order, its namespace, and its identity when a policy is templated (templates
/// are the only place the rules read the identity), as a SHA-256 of them: 1,000 entities at
/// the bottom of a 10,000-group chain keep 32 bytes each, not 10,000 names and groups each.
/// Findings name their subjects through `{subjects}`, filled in when they are merged, so two
/// subjects with one key get the same findings.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct LintKey([u8; 32]);

/// A subject after the first pass: an entity already linted, any other with its keys.
enum Prepared {
    Linted(Option<Arc<Vec<Finding>>>),
    Keyed(Option<SubjectKeys>),
}

/// A subject's [`LintKey`], and with a store its entry's key ([`StoreKeys::key_of`]).
struct SubjectKeys {
    lint: LintKey,
    store: Option<String>,
}

impl SubjectKeys {
    /// `None` when the keys cannot be known (the subject is linted alone, never stored).
    /// Cost: O(effective policies + identity) for the subject.
    fn of(
        inventory: &Inventory,
        subject: &Subject,
        store_keys: Option<&StoreKeys>,
    ) -> Option<SubjectKeys> {
        let kind: u8 = match subject {
            Subject::Role(_) => 0,
            Subject::Entity(_) => 1,
            Subject::Group(_) => 2,
            Subject::Policies(_) => return None,
        };
        let policies = inventory.effective_names(subject).ok()?;
        // A built-in (`default`) has no templates; any other name not among the workspace's
        // policies counts as templated, so its subject is never merged on a guess.
        let templated = policies.iter().any(|name| {
            inventory
                .policies()
                .get(name.as_ref())
                .map_or(name != "default", |policy| policy.templated)
        });
        let identity = match templated {
            true => Some(inventory.identity_for(subject).ok()?),
            false => None,
        };
        let namespace = inventory.namespace_of(subject);
        SubjectKeys::from_parts(kind, &policies, &namespace, identity.as_ref(), store_keys)
    }

    /// The keys of a subject with these parts (`identity` as far as it matters: `None` when
    /// no policy reads it). `None` when a policy cannot be serialized for the store key.
    fn from_parts(
        kind: u8,
        policies: &[Cow<'_, str>],
        namespace: &str,
        identity: Option<&Option<crate::acl::Identity>>,
        store_keys: Option<&StoreKeys>,
    ) -> Option<SubjectKeys> {
        let mut hasher = Sha256Hasher::default();
        (kind, policies, namespace, identity).hash(&mut hasher);
        let lint = LintKey(hasher.finish_digest());
        let store = match store_keys {
            Some(store_keys) => Some(store_keys.key_of(&lint, policies)?),
            None => None,
        };
        Some(SubjectKeys { lint, store })
    }
}

/// A [`Hasher`] feeding SHA-256: `Hash` writes strings with a terminator and sequences with
/// their length, so equal digests mean equal values (short of a SHA-256 collision).
struct Sha256Hasher(ring::digest::Context);

impl Default for Sha256Hasher {
    fn default() -> Self {
        Sha256Hasher(ring::digest::Context::new(&ring::digest::SHA256))
    }
}

impl Sha256Hasher {
    fn finish_digest(self) -> [u8; 32] {
        let mut digest = [0; 32];
        digest.copy_from_slice(self.0.finish().as_ref());
        digest
    }
}

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Not used: [`Sha256Hasher::finish_digest`] gives the digest.
    fn finish(&self) -> u64 {
        0
    }
}

/// The findings `store` keeps under `key` when each names a file of the workspace's
/// policies; else `lint`'s, then kept.
fn stored_or(
    store: &dyn RoleFindingsStore,
    key: &str,
    store_keys: &StoreKeys,
    lint: impl FnOnce() -> Option<Vec<Finding>>,
) -> Option<Vec<Finding>> {
    if let Some(stored) = store.get(key) {
        let restored = match stored {
            None => Some(None),
            Some(findings) => findings
                .into_iter()
                .map(|(file, diagnostic)| {
                    Some((
                        Arc::clone(store_keys.sources.get(file.as_str())?),
                        diagnostic,
                    ))
                })
                .collect::<Option<Vec<Finding>>>()
                .map(Some),
        };
        // A finding in a file the workspace no longer has: the entry is not this tree's.
        if let Some(found) = restored {
            return found;
        }
    }
    let found = lint();
    let kept = found.as_ref().map(|findings| {
        findings
            .iter()
            .map(|(file, diagnostic)| (file.name.clone(), diagnostic.clone()))
            .collect()
    });
    store.put(key, kept);
    found
}

/// The store keys of an inventory's subjects: a SHA-256 of the target, the mount table, the
/// namespace tree and the subject's [`LintKey`], then the digest of each policy's model (file
/// name and every field, spans included, as serialized), so an edited policy, mount or
/// namespace misses. Digests are made once per policy name, on first use. Cost: O(size of
/// the policy's model) once per policy, O(effective policies) per subject.
struct StoreKeys<'i> {
    inventory: &'i Inventory,
    target: Target,
    /// The policies' files by name: where a stored finding points.
    sources: HashMap<&'i str, &'i Arc<crate::source::SourceFile>>,
    /// The target, mounts and namespace tree, digested once.
    context: [u8; 32],
    /// Per policy name: its model's digest, `None` when it has none (unknown name).
    policies: Mutex<HashMap<String, Option<[u8; 32]>>>,
}

impl<'i> StoreKeys<'i> {
    fn new(inventory: &'i Inventory, target: Target, mounts: &Mounts) -> StoreKeys<'i> {
        let context = format!(
            "capable role findings 1\0{}\0{mounts:?}\0{:?}",
            target.name(),
            inventory.namespaces()
        );
        StoreKeys {
            inventory,
            target,
            context: sha256(&[context.as_bytes()]),
            sources: inventory
                .policies()
                .values()
                .map(|policy| (policy.source.name.as_str(), &policy.source))
                .collect(),
            policies: Mutex::default(),
        }
    }

    /// The key of one subject's findings, from its [`LintKey`] and its effective policies;
    /// `None` when a policy cannot be serialized.
    fn key_of(&self, lint: &LintKey, policies: &[Cow<'_, str>]) -> Option<String> {
        let mut parts: Vec<[u8; 32]> = vec![self.context, lint.0];
        for name in policies {
            parts.push(self.policy_digest(name)?.unwrap_or_default());
        }
        let refs: Vec<&[u8]> = parts.iter().map(|part| part.as_slice()).collect();
        Some(hex(&sha256(&refs)))
    }

    /// The part of an entity's entry key its class decides (see [`lint_entities`]): its
    /// effective policies (names and models), its namespace and its identity's groups.
    /// `None` when a policy cannot be serialized. Cost: O(effective policies + groups).
    fn class_digest(
        &self,
        policies: &[Cow<'_, str>],
        namespace: &str,
        groups: &[crate::acl::Group],
    ) -> Option<[u8; 32]> {
        let mut hasher = Sha256Hasher::default();
        ("entity class", policies, namespace, groups).hash(&mut hasher);
        for name in policies {
            self.policy_digest(name)?
                .unwrap_or_default()
                .hash(&mut hasher);
        }
        Some(hasher.finish_digest())
    }

    /// The key of the findings of the entities of a class (its [`StoreKeys::class_digest`])
    /// with one [`EntityShape`]. Cost: O(shape).
    fn entity_key_of(&self, class: &[u8; 32], shape: &EntityShape) -> String {
        let mut hasher = Sha256Hasher::default();
        shape.hash(&mut hasher);
        let shape = hasher.finish_digest();
        hex(&sha256(&[&self.context, b"entity", class, &shape]))
    }

    /// The digest of the model `name` stands for; `Some(None)` for a name with no policy.
    fn policy_digest(&self, name: &str) -> Option<Option<[u8; 32]>> {
        if let Some(digest) = self.lock().get(name) {
            return Some(*digest);
        }
        let digest = match self.inventory.policy_named(name, self.target) {
            Ok(policy) => {
                let model = serde_json::to_vec(policy.as_ref()).ok()?;
                Some(sha256(&[policy.source.name.as_bytes(), &model]))
            }
            Err(_) => None,
        };
        self.lock().insert(name.to_string(), digest);
        Some(digest)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<[u8; 32]>>> {
        self.policies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The SHA-256 of `parts`, each length-prefixed so that no two lists of parts collide.
fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_le_bytes());
        context.update(part);
    }
    let mut digest = [0; 32];
    digest.copy_from_slice(context.finish().as_ref());
    digest
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// One subject's role-level findings; `None` when its ACL cannot be built (reported elsewhere).
fn lint_subject<'i>(
    inventory: &'i Inventory,
    subject: &Subject,
    target: Target,
    mounts: &Mounts,
    alone_cache: &AloneCache<'i>,
) -> Option<Vec<Finding>> {
    let is_group = matches!(subject, Subject::Group(_));
    let policies = inventory.policy_set(subject, target).ok()?;
    let identity = inventory.identity_for(subject).ok()?;
    let namespace = inventory.namespace_of(subject);
    let rebased = rebase(&policies, &namespace, inventory.namespaces());
    // OpenBao refuses a whole token whose template substitutes a forbidden value: its
    // template is still reported (from an ACL without the identity), its access is not.
    let built = match &rebased {
        Some((policies, options)) => {
            let refs: Vec<&Policy> = policies.iter().collect();
            Acl::with_options(&refs, target, identity.as_ref(), options)
                .map_err(InventoryError::Acl)
        }
        None => inventory.acl_for(subject, target),
    };
    let rebased_view = rebased.is_some();
    let policies = rebased.map(|(policies, _)| policies).unwrap_or(policies);
    let (acl, token_refused) = match built {
        Ok(acl) => (acl, false),
        Err(InventoryError::Acl(AclError::TemplatedPolicy { .. })) => {
            let refs: Vec<&Policy> = policies.iter().collect();
            (Acl::new(&refs, target, None).ok()?, true)
        }
        Err(_) => return None,
    };
    let ctx = RoleContext {
        policies: &policies,
        acl: &acl,
        identity: identity.as_ref(),
        target,
        mounts,
    };
    let mut found = Vec::new();
    // A group is not a token: its entity templates never resolve, by construction.
    if !is_group {
        unresolved_template::check_role(&ctx, &mut found);
    }
    if matches!(subject, Subject::Role(_)) && !token_refused {
        overridden_deny::check_role(&ctx, &mut found);
        parameters_narrowed_by_merge::check_role(&ctx, &mut found);
        if rebased_view {
            // Rebased policies are not the inventory's: judged alone afresh, not cached.
            let own = |name: &str| policies.iter().find(|p| p.qualified_name() == name);
            security_rules_on_merged_acl(&ctx, own, &AloneCache::default(), &mut found);
        } else {
            let shared = |name: &str| inventory.policies().get(name);
            security_rules_on_merged_acl(&ctx, shared, alone_cache, &mut found);
        }
    }
    Some(found)
}

/// The role-level findings of `entities`, in their order: only `unresolved-template`
/// applies to an entity (it is not a role), and it needs no merged ACL, so none is built.
///
/// An entity's findings depend on its effective policies and its identity's groups, which
/// its namespace, own policies and direct groups decide (its class,
/// [`Inventory::entity_closure_key`]), and on its own fields only as far as its class's
/// templated policies read them ([`EntityShape`]). So the work of a class (its names, its
/// policies, its identity's groups, their digests for the store) is done once, by its first
/// entity, and each distinct (class, shape) is linted once, with the whole identity of its
/// first entity: 1,000 entities at the bottom of one 10,000-group chain, named alike as far
/// as `/`, `*` and `+` go, cost one lint of 10,000 policies, not 1,000. An entry of `store`
/// is kept per (class, shape). `None` for an entity whose ACL cannot be built even without
/// the identity (`root` with other policies), as [`lint_subject`] says. Cost: per class,
/// O(effective policies + closure); per entity, O(its own fields + the directives its
/// class's templated policies read); per distinct shape, O(closure) for its identity and
/// O(size of the templated policies); spread over the cores.
fn lint_entities(
    inventory: &Inventory,
    entities: &[&str],
    target: Target,
    stored: Option<(&dyn RoleFindingsStore, &StoreKeys)>,
) -> Vec<Option<Arc<Vec<Finding>>>> {
    let mut first_of_class: HashMap<super::resolve::EntityClosureKey<'_>, usize> = HashMap::new();
    let mut firsts: Vec<&str> = Vec::new();
    let class_of: Vec<Option<usize>> = entities
        .iter()
        .map(|&name| {
            let key = inventory.entity_closure_key(name)?;
            Some(*first_of_class.entry(key).or_insert_with(|| {
                firsts.push(name);
                firsts.len() - 1
            }))
        })
        .collect();
    let store_keys = stored.map(|(_, store_keys)| store_keys);
    let classes: Vec<Option<EntityClass>> = firsts
        .par_iter()
        .map(|&name| EntityClass::new(inventory, name, target, store_keys))
        .collect();
    // Per entity: its class and shape, `None` when it is not linted.
    let shapes: Vec<Option<(usize, EntityShape)>> = entities
        .par_iter()
        .zip(&class_of)
        .map(|(&name, &class)| {
            let class = class?;
            let reads = &classes[class].as_ref()?.reads;
            Some((class, reads.shape(&inventory.entity_own_identity(name))))
        })
        .collect();
    let mut first_of_shape: HashMap<&(usize, EntityShape), usize> = HashMap::new();
    let linted_by: Vec<Option<usize>> = shapes
        .iter()
        .enumerate()
        .map(|(at, shape)| Some(*first_of_shape.entry(shape.as_ref()?).or_insert(at)))
        .collect();
    let found: HashMap<usize, Option<Arc<Vec<Finding>>>> = first_of_shape
        .into_iter()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|((class, shape), at)| {
            let class = classes[*class].as_ref();
            let found =
                class.and_then(|class| class.lint(inventory, entities[at], shape, target, stored));
            (at, found.map(Arc::new))
        })
        .collect();
    linted_by
        .iter()
        .map(|first| found.get(&(*first)?).cloned().flatten())
        .collect()
}

/// What the entities of one class share (see [`lint_entities`]).
struct EntityClass<'i> {
    /// The policies `unresolved-template` judges (templated, from files), in merge order.
    judged: Vec<Cow<'i, Policy>>,
    /// What those read of an entity's own fields.
    reads: unresolved_template::EntityReads,
    /// With a store: the digest of the class's part of the entries' keys, `None` when a
    /// policy cannot be serialized (then nothing is stored).
    store_digest: Option<[u8; 32]>,
}

impl<'i> EntityClass<'i> {
    /// The class of entity `name`; `None` when its policies cannot make an ACL even
    /// without the identity. Cost: O(effective policies + closure), and with a store a
    /// digest of them and of the groups.
    fn new(
        inventory: &'i Inventory,
        name: &str,
        target: Target,
        store_keys: Option<&StoreKeys>,
    ) -> Option<EntityClass<'i>> {
        let subject = Subject::Entity(name.to_string());
        let names = inventory.effective_names(&subject).ok()?;
        let policies = names
            .iter()
            .map(|name| inventory.policy_named(name, target))
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        if policies.len() > 1 && policies.iter().any(|policy| policy.name == "root") {
            return None;
        }
        let judged: Vec<Cow<'i, Policy>> = policies
            .into_iter()
            .filter(|policy| unresolved_template::is_judged(policy))
            .collect();
        let reads = unresolved_template::EntityReads::of(judged.iter().map(|p| p.as_ref()));
        let store_digest = store_keys.and_then(|store_keys| {
            let identity = inventory.identity_for(&subject).ok()??;
            let namespace = inventory.namespace_of(&subject);
            store_keys.class_digest(&names, &namespace, &identity.groups)
        });
        Some(EntityClass {
            judged,
            reads,
            store_digest,
        })
    }

    /// The findings of entity `name` of this class, whose shape is `shape`: from the store
    /// when it holds them, else linted with the entity's whole identity (and kept).
    fn lint(
        &self,
        inventory: &Inventory,
        name: &str,
        shape: &EntityShape,
        target: Target,
        stored: Option<(&dyn RoleFindingsStore, &StoreKeys)>,
    ) -> Option<Vec<Finding>> {
        let lint = || {
            let subject = Subject::Entity(name.to_string());
            let identity = inventory.identity_for(&subject).ok()?;
            let mut found = Vec::new();
            let policies = self.judged.iter().map(|policy| policy.as_ref());
            unresolved_template::check_subject(policies, identity.as_ref(), target, &mut found);
            Some(found)
        };
        match (stored, &self.store_digest) {
            (Some((store, store_keys)), Some(digest)) => {
                let key = store_keys.entity_key_of(digest, shape);
                stored_or(store, &key, store_keys, lint)
            }
            _ => lint(),
        }
    }
}

/// A subject of a child namespace `N` as the rules see it: its policies and ACL relative to
/// `N` (each policy's patterns are already relative to its namespace, and the child
/// namespaces of `N` become top-level ones), so the rules compare the patterns the user wrote
/// with the merged ones. `None` in the root namespace, or when some policy lives in another
/// namespace (a Vault group's in an ancestor), whose rules are then judged on full paths.
fn rebase(
    policies: &[Policy],
    namespace: &str,
    tree: &crate::namespace::Namespaces,
) -> Option<(Vec<Policy>, AclOptions)> {
    if namespace.is_empty() || policies.iter().any(|p| p.namespace != namespace) {
        return None;
    }
    let rebased = policies
        .iter()
        .map(|policy| Policy {
            namespace: String::new(),
            ..policy.clone()
        })
        .collect();
    let below: Vec<&str> = tree
        .iter()
        .filter_map(|path| path.strip_prefix(namespace))
        .filter(|path| !path.is_empty())
        .collect();
    let options = AclOptions {
        namespaces: crate::namespace::Namespaces::new(below),
        ..AclOptions::default()
    };
    Some((rebased, options))
}

/// The catalog's security rules, run for each of the role's policies with the role's merged
/// ACL (templates resolved for the role's identity). A finding is kept only when no policy of
/// the role produces the same one alone (without identity): those are already reported per
/// policy, and a merged rule would otherwise blame every policy that shares its pattern.
/// What remains is what the role adds, e.g. a template that resolves to a broad pattern.
fn security_rules_on_merged_acl<'i>(
    ctx: &RoleContext<'_>,
    lookup: impl Fn(&str) -> Option<&'i Policy>,
    alone_cache: &AloneCache<'i>,
    out: &mut Vec<Finding>,
) {
    let security = security_rules();
    let mut alone_findings: BTreeSet<(String, String)> = BTreeSet::new();
    let mut merged_findings: Vec<Finding> = Vec::new();
    for policy in ctx.file_policies() {
        let name = policy.qualified_name();
        let alone = alone_cache.get_or_build(&name, || Alone::new(lookup(&name), ctx));

        alone_findings.extend(alone.findings.iter().cloned());
        let Some(index) = &alone.index else {
            continue;
        };
        let merged_ctx = index.context_with_acl(ctx.acl, ctx.mounts);
        for rule in &security {
            let mut merged = Vec::new();
            rule.check_policy(&merged_ctx, &mut merged);
            merged_findings.extend(merged.into_iter().map(|d| (policy.source.clone(), d)));
        }
    }
    for (file, mut diagnostic) in merged_findings {
        if alone_findings.contains(&(diagnostic.rule.to_string(), diagnostic.message.clone())) {
            continue;
        }
        diagnostic.message = format!(
            "{} (for {{subjects}}, with its identity and other policies)",
            diagnostic.message
        );
        out.push((file, diagnostic));
    }
}

/// Per policy name: its index and its security findings (rule id, message) alone, the same
/// for every role holding the policy, so computed once per policy, not once per role. Shared
/// by the threads linting subjects; two threads may build the same entry at once, and the
/// first one stored is kept (both are equal).
#[derive(Default)]
struct AloneCache<'i> {
    by_name: Mutex<HashMap<String, Arc<Alone<'i>>>>,
}

impl<'i> AloneCache<'i> {
    fn get_or_build(&self, name: &str, build: impl FnOnce() -> Alone<'i>) -> Arc<Alone<'i>> {
        if let Some(alone) = self.lock().get(name) {
            return Arc::clone(alone);
        }
        // Built outside the lock: an index costs an ACL build and a lint pass.
        let built = Arc::new(build());
        Arc::clone(self.lock().entry(name.to_string()).or_insert(built))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Alone<'i>>>> {
        // A panic in another thread's rule is already an internal error; the map stays valid.
        self.by_name
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One policy as the security rules see it alone.
struct Alone<'i> {
    /// `None` when the policy's own ACL cannot be built.
    index: Option<PolicyIndex<'i>>,
    findings: BTreeSet<(String, String)>,
}

impl<'i> Alone<'i> {
    fn new(policy: Option<&'i Policy>, ctx: &RoleContext<'_>) -> Alone<'i> {
        let index = policy.and_then(|policy| PolicyIndex::new(policy, ctx.target).ok());
        let mut found = Vec::new();
        if let Some(index) = &index {
            let alone_ctx = index.context(ctx.mounts);
            for rule in security_rules() {
                rule.check_policy(&alone_ctx, &mut found);
            }
        }
        let findings = found
            .into_iter()
            .map(|d| (d.rule.into_owned(), d.message))
            .collect();
        Alone { index, findings }
    }
}

fn security_rules() -> Vec<&'static dyn Rule> {
    codes::RULES
        .iter()
        .copied()
        .filter(|rule| rule.meta().category == Category::Security)
        .collect()
}

/// One finding per (file, rule, span, message); the subjects are named in the message.
fn merge_subjects(per_subject: Vec<(Subject, Vec<Finding>)>) -> Vec<Finding> {
    type Key = (String, String, usize, usize, String);
    let mut order: Vec<Key> = Vec::new();
    let mut merged: BTreeMap<Key, (Finding, BTreeSet<String>)> = BTreeMap::new();
    for (subject, findings) in per_subject {
        for (file, diagnostic) in findings {
            let key = (
                file.name.clone(),
                diagnostic.rule.to_string(),
                diagnostic.span.start,
                diagnostic.span.end,
                diagnostic.message.clone(),
            );
            let entry = merged.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                ((file, diagnostic), BTreeSet::new())
            });
            entry.1.insert(subject.to_string());
        }
    }
    order
        .into_iter()
        .filter_map(|key| merged.remove(&key))
        .map(|((file, mut diagnostic), subjects)| {
            let subjects: Vec<String> = subjects.into_iter().collect();
            diagnostic.message = diagnostic
                .message
                .replace("{subjects}", &subjects.join(", "));
            (file, diagnostic)
        })
        .collect()
}
