//! Inputs the fuzz targets (`fuzz/`) once crashed on, replayed through the same functions.
//! Each file under `tests/fuzz/` is named after the target and the bug.

use preflight::model::iam::policy::{Policy, Request};
use preflight::source::{FileId, LineIndex};
use std::path::Path;

fn input(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(name);
    String::from_utf8(std::fs::read(path).expect("fuzz input")).expect("UTF-8")
}

/// The `iam` target's body.
fn iam(text: &str) {
    let lines = LineIndex::new(text);
    if preflight::parse::json::parse(FileId(0), text, &lines).is_err() {
        return;
    }
    let Ok(value) = preflight::parse::json::value(text) else {
        return;
    };
    let Some(mut policy) = Policy::from_json(&value) else {
        return;
    };
    let _ = policy.placeholders();
    let _ = policy.statements_missing_resource();
    let _ = policy.evaluate(&Request::new("ec2:DescribeVpcs", "*"));
    let _ = policy.closest(&Request::new("ec2:DescribeVpcs", "*"));
    policy.substitute(&[("aws:PrincipalAccount", "123456789012")]);
    let _ = preflight::model::iam::compare::not_covered(&policy, &policy);
}

/// A multi-byte character right after a word boundary: the placeholder scan sliced the
/// action text inside the character.
#[test]
fn iam_placeholder_scan_inside_a_multibyte_character() {
    iam(&input("iam-placeholder-char-boundary.json"));
    assert!(preflight::model::iam::pattern::placeholders("ec2\u{2fb}escribe").is_empty());
    assert_eq!(
        preflight::model::iam::pattern::placeholders("\u{2fb}ACCOUNT_ID"),
        vec![2..12]
    );
    assert_eq!(
        preflight::model::iam::pattern::placeholders("arn:ACCOUNT_ID:x"),
        vec![4..14]
    );
}
