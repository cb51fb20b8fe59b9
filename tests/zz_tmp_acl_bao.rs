//! TEMPORARY hand check of the ACL against OpenBao (deleted after use).
mod support;
use std::sync::Arc;
use capable::acl::{Acl};
use capable::policy::{CapSet, Capability, PathPattern, Policy, Rule};
use capable::source::SourceFile;
use capable::span::{Span, Spanned};
use capable::target::Target;
use support::bao::Bao;

struct Lcg(u64);
impl Lcg { fn next(&mut self) -> u64 { self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); self.0 >> 33 } fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str { xs[(self.next() as usize) % xs.len()] } fn below(&mut self, n: u64) -> u64 { self.next() % n } }

fn rule(raw: &str, capabilities: CapSet) -> Rule {
    Rule { raw_pattern: raw.to_string(), pattern_span: Span::default(), block_span: Span::default(),
        pattern: Some(PathPattern::parse(raw).unwrap()), template_vars: Vec::new(), capabilities,
        capability_list: capabilities.iter().map(|c| Spanned::new(c, Span::default())).collect(),
        capabilities_span: None, old_policy: None, allowed_parameters: None, denied_parameters: None,
        required_parameters: Vec::new(), min_wrapping_ttl: None, max_wrapping_ttl: None, mfa_methods: Vec::new(),
        control_group: None, subscribe_event_types: Vec::new(), pagination_limit: None, expiration: None,
        expired: false, list_scan_response_keys_filter_path: None }
}

#[test]
fn tmp_diff() {
    let bao = Bao::start();
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7);
    let mut rng = Lcg(seed);
    let segs = ["a", "b", "ab", "", "+", "+", "a*b", "sys"];
    let caps_pool = [Capability::Read, Capability::List, Capability::Update, Capability::Sudo, Capability::Scan, Capability::Create];
    let mut mismatches = 0;
    for round in 0..40 {
        let mut policies = Vec::new();
        let mut names = Vec::new();
        for pi in 0..(1 + rng.below(3)) {
            let mut text = String::new();
            let mut rules = Vec::new();
            for _ in 0..(1 + rng.below(6)) {
                let n = 1 + rng.below(3);
                let mut p: Vec<&str> = (0..n).map(|_| rng.pick(&segs)).collect();
                let mut s = p.join("/");
                match rng.below(5) { 1 => s.push('/'), 2 => s.push('*'), 3 => { s.push('/'); s.push_str(rng.pick(&["a", "b", ""])); s.push('*'); } _ => {} }
                if rng.below(6) == 0 { s.insert(0, '/'); }
                p.clear();
                if PathPattern::parse(&s).is_err() { continue; }
                let caps = match rng.below(8) { 0 => CapSet::EMPTY, 1 => CapSet::only(Capability::Deny), _ => { let mut c = CapSet::EMPTY; for _ in 0..(1 + rng.below(3)) { c = c.with(caps_pool[rng.below(caps_pool.len() as u64) as usize]); } c } };
                let names: Vec<String> = caps.iter().map(|c| format!("\"{}\"", c.name())).collect();
                text.push_str(&format!("path \"{}\" {{ capabilities = [{}] }}\n", s, names.join(",")));
                rules.push(rule(&s, caps));
            }
            if rules.is_empty() { continue; }
            let name = format!("r{round}p{pi}");
            let ans = bao.put_policy(&name, &text);
            assert_eq!(ans.status, 204, "{text} {:?}", ans.body);
            policies.push(Policy { name: name.clone(), source: Arc::new(SourceFile::new("x", "")), declared_name: None, rules, templated: false });
            names.push(name);
        }
        if names.is_empty() { continue; }
        let refs: Vec<&Policy> = policies.iter().collect();
        let acl = Acl::new(&refs, Target::OpenBao, None).unwrap();
        let nref: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let token = bao.token_with(&nref);
        let psegs = ["a", "b", "ab", "abb", "a*b", "+", ""];
        let paths: Vec<String> = (0..60).map(|_| { let n = rng.below(5); let mut s = (0..n).map(|_| rng.pick(&psegs)).collect::<Vec<_>>().join("/"); if rng.below(3) == 0 { s.push('/'); } if s.is_empty() { s.push('a'); } s }).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let answers = bao.capabilities(&token, &paths);
        for path in &paths {
            let ours: Vec<String> = acl.capabilities(path).0.iter().map(|s| s.to_string()).collect();
            if ours != answers[path] { mismatches += 1; eprintln!("MISMATCH {path:?}: ours {ours:?} bao {:?}\n{:#?}", answers[path], policies.iter().flat_map(|p| p.rules.iter().map(|r| (r.raw_pattern.clone(), r.capabilities))).collect::<Vec<_>>()); }
        }
    }
    assert_eq!(mismatches, 0);
}
