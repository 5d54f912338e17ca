//! The identity and ownership rules on the bundled example: the broken form has one case of
//! each (a cluster name without its suffix, an ExternalDNS filter that is no zone, an
//! ExternalSecret key Terraform does not create, a secret two roots of dev create, an
//! access entry EKS already made); the fixed form has none.

use std::process::Command;

/// The identity rules, from the registry.
fn identity_rules() -> Vec<&'static str> {
    preflight::rules::domain("identity")
        .iter()
        .map(|r| r.meta().id)
        .collect()
}

type Row = (String, String, String, u64);

fn findings(fixture: &str) -> Vec<(Row, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", fixture, "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules = identity_rules();
    let mut found: Vec<(Row, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| rules.contains(&f["rule"].as_str().unwrap_or_default()))
        .map(|f| {
            (
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["severity"].as_str().unwrap().to_string(),
                    f["file"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                ),
                f["help"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn broken_platform_has_one_case_of_each_rule() {
    let found = findings("testdata/platform-broken");
    let rows: Vec<(&str, &str, &str, u64)> = found
        .iter()
        .map(|((r, s, f, l), _)| (r.as_str(), s.as_str(), f.as_str(), *l))
        .collect();
    let mut want = vec![
        (
            "hardcoded-identity",
            "error",
            "gitops/helm/aws-load-balancer-controller/values/dev.yaml",
            2,
        ),
        (
            "unknown-domain-filter",
            "warning",
            "gitops/helm/external-dns/values/dev.yaml",
            6,
        ),
        (
            "unmanaged-secret",
            "warning",
            "gitops/helm/keycloak/values/dev.yaml",
            22,
        ),
        (
            "duplicate-physical-name",
            "error",
            "envs/dev-rds/main.tf",
            22,
        ),
        (
            "duplicate-access-entry",
            "error",
            "envs/dev-rds/main.tf",
            28,
        ),
        (
            "policy-resource-gap",
            "error",
            "gitops/kustomize/bases/platform-provisioner/keycloak-db-credentials.yaml",
            17,
        ),
    ];
    want.sort();
    assert_eq!(rows, want);
    // Each help names the value to use.
    let help = |rule: &str| {
        found
            .iter()
            .find(|((r, ..), _)| r == rule)
            .map(|(_, h)| h.clone())
            .unwrap()
    };
    assert!(help("hardcoded-identity").contains("goldenpath-dev-eks"));
    assert!(help("unknown-domain-filter").contains("goldenpathidp.io"));
    assert!(help("unmanaged-secret").contains("goldenpath/dev/keycloak/postgres"));
    assert!(help("duplicate-physical-name").contains("data \"aws_secretsmanager_secret\""));
    assert!(help("policy-resource-gap").contains("secret:platform/dev/keycloak/postgres-*"));
    assert!(help("duplicate-access-entry").contains("bootstrap_cluster_creator_admin_permissions"));
}

#[test]
fn fixed_platform_has_none() {
    assert_eq!(findings("testdata/platform-fixed"), vec![]);
}
