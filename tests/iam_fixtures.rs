//! The IAM rules on the platform fixtures: the broken form has the seed's gaps (the CI policy
//! lost `iam:CreatePolicy`; the `goldenpath-idp-*` IRSA roles escape the `goldenpath-dev-*`
//! teardown patterns); the fixed form has no error or warning from them.

use std::process::Command;

fn findings(fixture: &str) -> Vec<(String, String, String, u64)> {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", fixture, "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut found: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            matches!(
                f["rule"].as_str(),
                Some("ci-policy-gap" | "teardown-coverage")
            )
        })
        .filter(|f| f["severity"] != "note")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn broken_platform_has_the_seed_policy_gap_and_orphaned_idp_roles() {
    let f = |rule: &str, line: u64| {
        (
            rule.to_string(),
            "error".to_string(),
            "modules/iam/main.tf".to_string(),
            line,
        )
    };
    let mut want = vec![
        f("ci-policy-gap", 81),
        f("teardown-coverage", 61),
        f("teardown-coverage", 67),
        f("teardown-coverage", 74),
        f("teardown-coverage", 81),
        f("teardown-coverage", 107),
        f("teardown-coverage", 128),
    ];
    want.sort();
    assert_eq!(findings("testdata/platform-broken"), want);
}

#[test]
fn fixed_platform_has_no_iam_errors_or_warnings() {
    assert_eq!(findings("testdata/platform-fixed"), []);
}
