//! The secret scopes a fresh emulator starts with (listed in the module docs of `secrets`).

use serde_json::json;

use super::{Scope, Secrets};
use crate::{config::Seed, workspace::DEFAULT_USER};

const DAY_MS: u64 = 86_400_000;

pub(crate) fn populate(secrets: &mut Secrets, seed: Seed, now: u64) {
    if seed == Seed::Empty {
        return;
    }
    let mut add = |name: &str, keys: &[(&str, &str, u64)], acls: &[(&str, &str)]| {
        let mut scope = Scope { backend_type: "DATABRICKS".into(), ..Scope::default() };
        for (key, value, age_days) in keys {
            scope.secrets.insert((*key).into(), (value.as_bytes().to_vec(), now.saturating_sub(age_days * DAY_MS)));
        }
        for (principal, permission) in acls {
            scope.acls.insert((*principal).into(), (*permission).into());
        }
        secrets.scopes.insert(name.into(), scope);
    };
    add(
        "test-scope",
        &[("db-password", "hunter2", 7), ("api-key", "sk-test-123", 1)],
        &[(DEFAULT_USER, "MANAGE"), ("users", "READ")],
    );
    if seed == Seed::Demo {
        add(
            "etl-prod",
            &[
                ("warehouse-jdbc-password", "Pr0d-Wh-9f2k", 30),
                ("s3-access-key", "AKIAEXAMPLE123", 90),
                ("s3-secret-key", "wJalrXUtnFEMI/EXAMPLEKEY", 90),
            ],
            &[("data-engineers", "WRITE"), ("etl-service-principal", "READ"), (DEFAULT_USER, "MANAGE")],
        );
        add(
            "ml-training",
            &[("openai-api-key", "sk-demo-abc", 3), ("huggingface-token", "hf_demo_xyz", 12)],
            &[("ml-team", "MANAGE")],
        );
        add("alice-personal", &[("github-pat", "ghp_demo_123", 60)], &[("alice.chen@example.com", "MANAGE")]);
        secrets.scopes.insert(
            "azure-kv-shared".into(),
            Scope {
                backend_type: "AZURE_KEYVAULT".into(),
                keyvault: Some(json!({"resource_id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/shared-kv", "dns_name": "https://shared-kv.vault.azure.net/"})),
                acls: [("users".to_owned(), "READ".to_owned())].into(),
                ..Scope::default()
            },
        );
    }
}
