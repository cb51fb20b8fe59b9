//! The product whose semantics we follow (spec section 8).

use std::fmt;
use std::str::FromStr;

/// Where Vault and OpenBao differ, the chosen target decides, everywhere.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[default]
    Vault,
    #[serde(rename = "openbao")]
    OpenBao,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Vault => "vault",
            Target::OpenBao => "openbao",
        }
    }

    pub fn is_openbao(self) -> bool {
        self == Target::OpenBao
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        match text {
            "vault" => Ok(Target::Vault),
            "openbao" | "bao" => Ok(Target::OpenBao),
            other => Err(format!(
                "unknown target `{other}`, expected `vault` or `openbao`"
            )),
        }
    }
}
