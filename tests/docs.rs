//! The README documents every rule, and every rule's page is reachable with `explain`.

use std::process::Command;

fn rule_ids() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .arg("rules")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn readme_lists_every_rule() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let ids = rule_ids();
    assert!(ids.len() >= 20, "{ids:?}");
    for id in ids {
        assert!(
            readme.contains(&format!("| `{id}` |")),
            "README's rule tables lack `{id}`"
        );
    }
}

#[test]
fn every_rule_has_a_page() {
    for id in rule_ids() {
        let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args(["explain", &id])
            .output()
            .unwrap();
        assert!(out.status.success(), "explain {id}");
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(page.starts_with(&format!("# {id}")), "{id}");
        // Every page states its severities against the contract in the README.
        assert!(page.contains("\n**Severity:** "), "{id}: no severity line");
        assert!(
            page.contains("Severity follows preflight's contract"),
            "{id}: the severity contract is not stated"
        );
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("rules/{id}.md"))
                .is_file()
        );
    }
}
