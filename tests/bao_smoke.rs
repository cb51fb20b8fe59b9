//! The OpenBao harness itself works: a policy written through the API is read back by
//! `sys/capabilities` as OpenBao decides.

mod support;

use support::bao::Bao;

#[test]
fn dev_server_answers_capabilities() {
    let bao = Bao::start();
    let accepted = bao.put_policy("smoke", "path \"secret/data/ai/openai\" { capabilities = [\"read\"] }\npath \"secret/*\" { capabilities = [\"deny\"] }\n");
    assert_eq!(accepted.status, 204, "{:?}", accepted.body);
    let refused = bao.put_policy("broken", "path \"x\" { capabilities = [\"banana\"] }");
    assert_eq!(refused.status, 400);
    assert!(
        refused.errors().contains("invalid capability \"banana\""),
        "{}",
        refused.errors()
    );
    let token = bao.token_with(&["smoke"]);
    let paths = vec![
        "secret/data/ai/openai".to_string(),
        "secret/data/ai/anthropic".to_string(),
    ];
    let caps = bao.capabilities(&token, &paths);
    assert_eq!(caps["secret/data/ai/openai"], vec!["read"]);
    assert_eq!(caps["secret/data/ai/anthropic"], vec!["deny"]);
}
