//! IAM policy documents: JSON loading with spans, the policy model, and evaluation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::model::iam::policy::{Policy, Request};
use preflight::source::{FileId, LineIndex};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
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
    for (action, resource) in [
        ("iam:CreatePolicy", "arn:aws:iam::123456789012:policy/x"),
        ("s3:GetObject", "arn:aws:s3:::bucket/key"),
        ("ec2:DescribeVpcs", "*"),
    ] {
        let _ = policy.evaluate(&Request::new(action, resource));
        let _ = policy.closest(&Request::new(action, resource));
    }
    policy.substitute(&[("aws:PrincipalAccount", "123456789012")]);
    let _ = preflight::model::iam::compare::not_covered(&policy, &policy);
});
