//! Inventory declared in Terraform: auth roles (`vault_kubernetes_auth_backend_role`,
//! `vault_approle_auth_backend_role`, `vault_jwt_auth_backend_role`), identity groups and
//! entities (`vault_identity_group`, `vault_identity_entity`) and mounts (`vault_mount`,
//! `vault_auth_backend`, `vault_jwt_auth_backend`), read into the same specs as `capable.yaml`'s
//! sections with every value's span in the `.tf` file.
//!
//! Decisions:
//! - References between resources of one module (the `.tf` files of one folder) are resolved
//!   when the referenced value is literal: `vault_policy.x.name` (or `.id`) is that policy's
//!   name (as [`super`] names it), `vault_identity_entity.x.id` that entity, `vault_identity_group.x.id`
//!   that group, `vault_auth_backend.x.path` that mount's path (its `type` when `path` is not set).
//!   `"${...}"` around one such reference is the reference.
//! - What Terraform computes (variables, locals, `each`, functions, references to resources
//!   outside the module or to computed attributes) is left out, with a
//!   `terraform-computed-inventory` note at the expression: a computed list item drops that
//!   item, a computed list the whole list. A resource whose key (role name, backend, group or
//!   entity name, mount path) is computed, or that has `count` or `for_each`, is not in the
//!   inventory at all, and the note says so.
//! - An entity id written as a literal string (a UUID made elsewhere) cannot be mapped to an
//!   entity: noted, left out.
//!
//! Cost: O(size of the files) plus O(log resources) per reference.

use std::collections::BTreeMap;
use std::sync::Arc;

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use serde_saphyr::Spanned;

use super::{folder_of, span_of, unwrap_parens};
use crate::diag::{Diagnostic, Severity};
use crate::inventory::{spanned_in, Declared, EntitySpec, GroupSpec, Imported, RoleSpec};
use crate::mounts::Mount;
use crate::source::SourceFile;
use crate::span::Span;

/// Rule id of the note on inventory values Terraform computes.
pub const COMPUTED: &str = "terraform-computed-inventory";

/// The role resources: type, auth method, default backend path.
const ROLE_RESOURCES: &[(&str, &str)] = &[
    ("vault_kubernetes_auth_backend_role", "kubernetes"),
    ("vault_approle_auth_backend_role", "approle"),
    ("vault_jwt_auth_backend_role", "jwt"),
];

/// Every resource of the module whose attributes others may reference:
/// `(folder, type, label)` → its literal attributes.
type Index = BTreeMap<(String, String, String), BTreeMap<&'static str, String>>;

/// The inventory of every file (`files[i]` has source id `i + 1`; `None`: a file that did not
/// parse) and the notes about it, per file.
pub fn extract(
    files: &[(Arc<SourceFile>, Option<&Body>)],
    policy_names: &PolicyNames,
) -> Vec<(Imported, Vec<Diagnostic>)> {
    let index = index_resources(files, policy_names);
    let mut results = Vec::new();
    for (position, (file, body)) in files.iter().enumerate() {
        let mut imported = Imported::default();
        let mut reader = Reader {
            file,
            source_id: position as u32 + 1,
            folder: folder_of(&file.name),
            index: &index,
            notes: Vec::new(),
            out: &mut imported,
        };
        for block in body.iter().flat_map(|body| body.blocks()) {
            reader.block(block);
        }
        let notes = reader.notes;
        results.push((imported, notes));
    }
    results
}

/// `(folder, label)` → the name a `vault_policy` resource stores its policy under.
pub type PolicyNames = BTreeMap<(String, String), String>;

/// The referencable attributes of every resource, by (folder, type, label). Cost: O(blocks).
fn index_resources(
    files: &[(Arc<SourceFile>, Option<&Body>)],
    policy_names: &PolicyNames,
) -> Index {
    let mut index = Index::new();
    for (file, body) in files {
        let folder = folder_of(&file.name);
        for block in body.iter().flat_map(|body| body.blocks()) {
            let Some((kind, label)) = resource_labels(block) else {
                continue;
            };
            let literal = |key: &str| match block
                .body
                .get_attribute(key)
                .map(|a| unwrap_parens(&a.value))
            {
                Some(Expression::String(value)) => Some(value.value().to_string()),
                _ => None,
            };
            let mut attributes = BTreeMap::new();
            match kind.as_str() {
                "vault_policy" => {
                    if let Some(name) = policy_names.get(&(folder.clone(), label.clone())) {
                        attributes.insert("name", name.clone());
                        attributes.insert("id", name.clone());
                    }
                }
                "vault_identity_entity" | "vault_identity_group" => {
                    if let Some(name) = literal("name") {
                        attributes.insert("name", name.clone());
                        attributes.insert("id", name);
                    }
                }
                "vault_auth_backend" | "vault_jwt_auth_backend" | "vault_mount" => {
                    let default = match kind.as_str() {
                        "vault_auth_backend" => literal("type"),
                        "vault_jwt_auth_backend" => {
                            Some(literal("type").unwrap_or_else(|| "jwt".into()))
                        }
                        _ => None,
                    };
                    let path = match block.body.get_attribute("path") {
                        Some(_) => literal("path"),
                        None => default,
                    };
                    if let Some(path) = path {
                        let path = path.trim_matches('/').to_string();
                        attributes.insert("path", path.clone());
                        attributes.insert("id", path);
                    }
                }
                _ if ROLE_RESOURCES.iter().any(|(name, _)| *name == kind) => {
                    if let Some(name) = literal("role_name") {
                        attributes.insert("role_name", name);
                    }
                }
                _ => continue,
            }
            index
                .entry((folder.clone(), kind, label))
                .or_insert(attributes);
        }
    }
    index
}

/// `resource "TYPE" "LABEL"` → (type, label).
fn resource_labels(block: &Block) -> Option<(String, String)> {
    if block.ident.as_str() != "resource" || block.labels.len() != 2 {
        return None;
    }
    Some((
        block.labels[0].as_str().to_string(),
        block.labels[1].as_str().to_string(),
    ))
}

/// Why a value is not known: the span of the expression Terraform computes.
struct Computed(Span);

struct Reader<'a> {
    file: &'a Arc<SourceFile>,
    source_id: u32,
    folder: String,
    index: &'a Index,
    notes: Vec<Diagnostic>,
    out: &'a mut Imported,
}

impl Reader<'_> {
    fn block(&mut self, block: &Block) {
        let Some((kind, label)) = resource_labels(block) else {
            return;
        };
        let what = format!("{kind}.{label}");
        let is_role = ROLE_RESOURCES.iter().find(|(name, _)| *name == kind);
        let known = is_role.is_some()
            || matches!(
                kind.as_str(),
                "vault_identity_group"
                    | "vault_identity_entity"
                    | "vault_mount"
                    | "vault_auth_backend"
                    | "vault_jwt_auth_backend"
            );
        if !known {
            return;
        }
        for repeat in ["for_each", "count"] {
            if let Some(attribute) = block.body.get_attribute(repeat) {
                self.note(
                    span_of(&attribute.key),
                    format!("`{what}` has `{repeat}`: terraform makes its instances, so it is not in the inventory"),
                    "declare the instances in capable.yaml to check them",
                );
                return;
            }
        }
        if let Some((_, method)) = is_role {
            self.role(block, &what, method);
            return;
        }
        match kind.as_str() {
            "vault_identity_group" => self.group(block, &what),
            "vault_identity_entity" => self.entity(block, &what),
            _ => self.mount(block, &what, &kind),
        }
    }

    fn note(&mut self, span: Span, message: String, help: &str) {
        self.notes.push(
            Diagnostic::new(COMPUTED, Severity::Info, span, message)
                .with_label("computed by terraform")
                .with_help(help),
        );
    }

    /// A note on a value Terraform computes: "`what`: <before> `<the expression>`<after>".
    fn note_computed(&mut self, span: Span, what: &str, before: &str, after: &str, help: &str) {
        let shown = self.shown(span);
        self.note(span, format!("`{what}`: {before} `{shown}`{after}"), help);
    }

    fn spanned(&self, value: String, span: Span) -> Spanned<String> {
        spanned_in(value, span, self.file, self.source_id)
    }

    /// A string attribute, statically evaluated: `None` when absent; a note when computed.
    fn string(
        &mut self,
        block: &Block,
        key: &str,
        what: &str,
    ) -> Option<Result<(String, Span), ()>> {
        let attribute = block.body.get_attribute(key)?;
        match self.evaluate(&attribute.value) {
            Ok(value) => Some(Ok((value, span_of(&attribute.value)))),
            Err(Computed(span)) => {
                self.note_computed(
                    span,
                    what,
                    &format!("`{key}` is"),
                    ", computed by terraform",
                    "capable reads literal values and references to resources of the same module",
                );
                Some(Err(()))
            }
        }
    }

    /// The key attribute of a resource: its value, or `None` (with a note) when computed or
    /// missing (then `default` is used when given).
    fn key(
        &mut self,
        block: &Block,
        key: &str,
        what: &str,
        default: Option<&str>,
    ) -> Option<(String, Span)> {
        let Some(attribute) = block.body.get_attribute(key) else {
            return default.map(|value| (value.to_string(), span_of(&block.ident)));
        };
        match self.evaluate(&attribute.value) {
            Ok(value) => Some((value, span_of(&attribute.value))),
            Err(Computed(span)) => {
                let shown = self.shown(span);
                self.note(
                    span,
                    format!("`{what}` is not in the inventory: its `{key}` uses `{shown}`, computed by terraform"),
                    "write the value literally or as a reference to a resource of the same module, or declare it in capable.yaml",
                );
                None
            }
        }
    }

    /// A list of strings: the literal and resolved items; notes for the others.
    fn strings(&mut self, block: &Block, key: &str, what: &str) -> Vec<Spanned<String>> {
        let Some(attribute) = block.body.get_attribute(key) else {
            return Vec::new();
        };
        let value = unwrap_parens(&attribute.value);
        let Expression::Array(items) = value else {
            let span = span_of(value);
            self.note_computed(
                span,
                what,
                &format!("`{key}` is"),
                ", computed by terraform, so it is checked without them",
                "write the list out, or declare the values in capable.yaml",
            );
            return Vec::new();
        };
        let mut found = Vec::new();
        for item in items.iter() {
            match self.evaluate(item) {
                Ok(text) => found.push(self.spanned(text, span_of(item))),
                Err(Computed(span)) => {
                    self.note_computed(
                        span,
                        what,
                        &format!("the `{key}` item"),
                        " is computed by terraform, so it is checked without it",
                        "capable reads literal values and references to resources of the same module",
                    );
                }
            }
        }
        found
    }

    /// Plain strings of a list (no spans needed).
    fn plain_strings(&mut self, block: &Block, key: &str, what: &str) -> Vec<String> {
        self.strings(block, key, what)
            .into_iter()
            .map(|s| s.value)
            .collect()
    }

    /// A map of literal strings (`metadata`, `options`, `bound_claims`).
    fn string_map(&mut self, block: &Block, key: &str, what: &str) -> BTreeMap<String, String> {
        let mut found = BTreeMap::new();
        let Some(attribute) = block.body.get_attribute(key) else {
            return found;
        };
        let value = unwrap_parens(&attribute.value);
        let Expression::Object(object) = value else {
            let span = span_of(value);
            self.note_computed(
                span,
                what,
                &format!("`{key}` is"),
                ", computed by terraform, so it is checked without it",
                "write the map out, or declare the values in capable.yaml",
            );
            return found;
        };
        for (object_key, object_value) in object.iter() {
            let name = match object_key {
                ObjectKey::Ident(ident) => Ok(ident.as_str().to_string()),
                ObjectKey::Expression(expression) => self.evaluate(expression),
            };
            match (name, self.evaluate(object_value.expr())) {
                (Ok(name), Ok(value)) => {
                    found.insert(name, value);
                }
                (Err(Computed(span)), _) | (_, Err(Computed(span))) => {
                    self.note_computed(
                        span,
                        what,
                        &format!("the `{key}` entry"),
                        " is computed by terraform, so it is checked without it",
                        "capable reads literal values and references to resources of the same module",
                    );
                }
            }
        }
        found
    }

    fn boolean(&mut self, block: &Block, key: &str, what: &str) -> bool {
        let Some(attribute) = block.body.get_attribute(key) else {
            return false;
        };
        match unwrap_parens(&attribute.value) {
            Expression::Bool(value) => **value,
            Expression::String(value) if value.value() == "true" || value.value() == "false" => {
                value.value() == "true"
            }
            other => {
                let span = span_of(other);
                let shown = self.shown(span);
                self.note(
                    span,
                    format!(
                        "`{what}`: `{key}` is `{shown}`, computed by terraform: read as `false`"
                    ),
                    "write `true` or `false`",
                );
                false
            }
        }
    }

    fn shown(&self, span: Span) -> String {
        crate::diag::shorten(self.file.slice(span)).into_owned()
    }

    fn namespace(&mut self, block: &Block, what: &str) -> Option<Spanned<String>> {
        match self.string(block, "namespace", what)? {
            Ok((value, span)) => Some(self.spanned(value, span)),
            Err(()) => None,
        }
    }

    fn role(&mut self, block: &Block, what: &str, method: &str) {
        let Some((backend, backend_span)) = self.key(block, "backend", what, Some(method)) else {
            return;
        };
        let Some((name, name_span)) = self.key(block, "role_name", what, None) else {
            if block.body.get_attribute("role_name").is_none() {
                self.note(
                    span_of(&block.ident),
                    format!("`{what}` has no `role_name`, so it is not in the inventory"),
                    "terraform requires `role_name`; add it",
                );
            }
            return;
        };
        let backend = backend.trim_matches('/');
        let backend = backend.strip_prefix("auth/").unwrap_or(backend);
        if backend.is_empty() || name.is_empty() {
            self.note(
                if name.is_empty() {
                    name_span
                } else {
                    backend_span
                },
                format!(
                    "`{what}` has an empty backend or role name, so it is not in the inventory"
                ),
                "write the auth mount path and the role name",
            );
            return;
        }
        let mut policies = self.strings(block, "token_policies", what);
        policies.extend(self.strings(block, "policies", what));
        let auth_type = match (method, self.string(block, "role_type", what)) {
            ("jwt", Some(Ok((role_type, _)))) if role_type == "oidc" => "oidc",
            _ => method,
        };
        let mut spec = RoleSpec {
            namespace: self.namespace(block, what),
            auth_type: Some(self.spanned(auth_type.to_string(), span_of(&block.labels[0]))),
            policies,
            token_no_default_policy: self.boolean(block, "token_no_default_policy", what),
            ..RoleSpec::default()
        };
        match method {
            "kubernetes" => {
                spec.bound_service_account_names =
                    self.plain_strings(block, "bound_service_account_names", what);
                spec.bound_service_account_namespaces =
                    self.plain_strings(block, "bound_service_account_namespaces", what);
            }
            "approle" => {
                spec.role_id = match self.string(block, "role_id", what) {
                    Some(Ok((value, _))) => Some(value),
                    _ => None,
                };
            }
            _ => {
                spec.bound_audiences = self.plain_strings(block, "bound_audiences", what);
                spec.bound_claims = self
                    .string_map(block, "bound_claims", what)
                    .into_iter()
                    .map(|(key, value)| (key, serde_json::Value::String(value)))
                    .collect();
                for (key, slot) in [
                    ("user_claim", &mut spec.user_claim),
                    ("groups_claim", &mut spec.groups_claim),
                ] {
                    if let Some(Ok((value, _))) = self.string(block, key, what) {
                        *slot = Some(value);
                    }
                }
            }
        }
        let role = self.declared(format!("{backend}/{name}"), name_span, what, spec);
        self.out.roles.push(role);
    }

    /// `member_entity_ids` / `member_group_ids` items: references to entities or groups of the
    /// module resolve to their names; a literal id cannot be mapped.
    fn members(
        &mut self,
        block: &Block,
        key: &str,
        what: &str,
        kind: &str,
    ) -> Vec<Spanned<String>> {
        let Some(attribute) = block.body.get_attribute(key) else {
            return Vec::new();
        };
        let Expression::Array(items) = unwrap_parens(&attribute.value) else {
            return self.strings(block, key, what);
        };
        let mut found = Vec::new();
        for item in items.iter() {
            let span = span_of(item);
            if matches!(unwrap_parens(item), Expression::String(_)) {
                let shown = self.shown(span);
                self.note(
                    span,
                    format!("`{what}`: `{shown}` is an {kind} id made outside this module, so it is left out"),
                    &format!("reference the `vault_identity_{kind}` resource (`vault_identity_{kind}.NAME.id`), or declare the membership in capable.yaml"),
                );
                continue;
            }
            match self.evaluate(item) {
                Ok(name) => found.push(self.spanned(name, span)),
                Err(Computed(span)) => {
                    self.note_computed(
                        span,
                        what,
                        &format!("the `{key}` item"),
                        " is computed by terraform, so it is checked without it",
                        "capable reads references to resources of the same module",
                    );
                }
            }
        }
        found
    }

    fn group(&mut self, block: &Block, what: &str) {
        let Some((name, span)) = self.key(block, "name", what, None) else {
            return;
        };
        let group_type = match self.string(block, "type", what) {
            Some(Ok((value, span))) => Some(self.spanned(value, span)),
            _ => None,
        };
        let spec = GroupSpec {
            namespace: self.namespace(block, what),
            group_type,
            policies: self.strings(block, "policies", what),
            member_entities: self.members(block, "member_entity_ids", what, "entity"),
            member_groups: self.members(block, "member_group_ids", what, "group"),
            metadata: self.string_map(block, "metadata", what),
            ..GroupSpec::default()
        };
        let group = self.declared(name, span, what, spec);
        self.out.groups.push(group);
    }

    /// One inventory item declared by a block of this file.
    fn declared<T>(&self, key: String, span: Span, what: &str, spec: T) -> Declared<T> {
        Declared {
            key,
            span,
            source_id: self.source_id,
            what: what.to_string(),
            spec,
        }
    }

    fn entity(&mut self, block: &Block, what: &str) {
        let Some((name, span)) = self.key(block, "name", what, None) else {
            return;
        };
        let spec = EntitySpec {
            namespace: self.namespace(block, what),
            policies: self.strings(block, "policies", what),
            metadata: self.string_map(block, "metadata", what),
            ..EntitySpec::default()
        };
        let entity = self.declared(name, span, what, spec);
        self.out.entities.push(entity);
    }

    /// `vault_mount` (a secrets engine) and `vault_auth_backend` / `vault_jwt_auth_backend`
    /// (an auth method, mounted under `auth/`).
    fn mount(&mut self, block: &Block, what: &str, kind: &str) {
        if let Some(namespace) = block.body.get_attribute("namespace") {
            self.note(
                span_of(&namespace.key),
                format!("`{what}` is mounted in a namespace, which the mount table does not model, so it is left out"),
                "declare the mount's engine under `mounts:` with its full path if lints need it",
            );
            return;
        }
        let engine = match kind {
            "vault_jwt_auth_backend" => match self.string(block, "type", what) {
                Some(Ok((value, _))) => Some(value),
                Some(Err(())) => return,
                None => Some("jwt".to_string()),
            },
            _ => match self.key(block, "type", what, None) {
                Some((value, _)) => Some(value),
                None => return,
            },
        };
        let Some(engine) = engine else { return };
        let default_path = (kind != "vault_mount").then_some(engine.as_str());
        let Some((path, span)) = self.key(block, "path", what, default_path) else {
            return;
        };
        let path = path.trim_matches('/').to_string();
        if path.is_empty() {
            return;
        }
        let (engine, kv_version, path) = if kind == "vault_mount" {
            let options = self.string_map(block, "options", what);
            let (engine, version) = match engine.as_str() {
                "kv-v2" => ("kv".to_string(), Some(2)),
                "kv" => (
                    "kv".to_string(),
                    Some(if options.get("version").map(String::as_str) == Some("2") {
                        2
                    } else {
                        1
                    }),
                ),
                other => (other.to_string(), None),
            };
            (engine, version, format!("{path}/"))
        } else {
            (engine, None, format!("auth/{path}/"))
        };
        let mount = Mount {
            path: path.clone(),
            engine,
            kv_version,
        };
        let mount = self.declared(path, span, what, mount);
        self.out.mounts.push(mount);
    }

    /// The value of a string expression Terraform would know before applying: a literal, a
    /// reference to a literal attribute of a resource of this module, or a template made of
    /// those. Cost: O(size of the expression × log resources).
    fn evaluate(&self, expression: &Expression) -> Result<String, Computed> {
        match unwrap_parens(expression) {
            Expression::String(value) => Ok(value.value().to_string()),
            Expression::Traversal(traversal) => self
                .reference(traversal)
                .ok_or(Computed(span_of(expression))),
            Expression::StringTemplate(template) => {
                let mut text = String::new();
                for element in template.iter() {
                    match element {
                        hcl_edit::template::Element::Literal(literal) => {
                            text.push_str(literal.value())
                        }
                        hcl_edit::template::Element::Interpolation(interpolation) => {
                            text.push_str(&self.evaluate(&interpolation.expr)?)
                        }
                        hcl_edit::template::Element::Directive(_) => {
                            return Err(Computed(span_of(expression)))
                        }
                    }
                }
                Ok(text)
            }
            other => Err(Computed(span_of(other))),
        }
    }

    /// `TYPE.LABEL.ATTRIBUTE` of a resource of this module with that attribute literal.
    fn reference(&self, traversal: &hcl_edit::expr::Traversal) -> Option<String> {
        let Expression::Variable(kind) = &traversal.expr else {
            return None;
        };
        let names: Vec<&str> = traversal
            .operators
            .iter()
            .map(|operator| match operator.value() {
                TraversalOperator::GetAttr(name) => Some(name.as_str()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let [label, attribute] = names.as_slice() else {
            return None;
        };
        self.index
            .get(&(
                self.folder.clone(),
                kind.as_str().to_string(),
                label.to_string(),
            ))?
            .get(attribute)
            .cloned()
    }
}
