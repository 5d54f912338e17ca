//! Comparing the permissions two policies grant (documented vs live), by evaluation rather
//! than by JSON text: every action/resource pattern one allows is asked of the other.

use super::policy::{Decision, Effect, Policy, PolicyKind, Request, Selector};

/// An action/resource pair one policy allows, asked of the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The statement of the asking policy.
    pub statement: usize,
    /// The index of the action in that statement's `Action` list.
    pub action_index: usize,
    pub action: String,
    pub resource: String,
    /// `Denied`: the other policy does not allow it; `CannotTell`: it could not be decided.
    pub decision: Decision,
}

/// What `from` allows that `other` does not (or cannot be shown to) allow. Statements with
/// `NotAction`/`NotResource` cannot be enumerated and are returned as `CannotTell`.
pub fn not_covered(from: &Policy, other: &Policy) -> Vec<Difference> {
    let mut out = Vec::new();
    for (si, st) in from.statements.iter().enumerate() {
        if st.effect != Effect::Allow || st.principal {
            continue;
        }
        let actions = match &st.actions {
            Some(Selector::In(a)) => a,
            Some(Selector::NotIn(_)) => {
                out.push(Difference {
                    statement: si,
                    action_index: 0,
                    action: "NotAction".into(),
                    resource: String::new(),
                    decision: Decision::CannotTell(format!(
                        "{} uses `NotAction`, whose actions cannot be listed",
                        st.label(si)
                    )),
                });
                continue;
            }
            None => continue,
        };
        let resources: Vec<String> = match &st.resources {
            Some(Selector::In(r)) => r.iter().map(|i| i.text.clone()).collect(),
            Some(Selector::NotIn(_)) => vec!["*".into()],
            None => continue,
        };
        for (ai, action) in actions.iter().enumerate() {
            for resource in &resources {
                let e = other.evaluate(&Request::patterns(&action.text, resource));
                if e.decision != Decision::Allowed {
                    out.push(Difference {
                        statement: si,
                        action_index: ai,
                        action: action.text.clone(),
                        resource: resource.clone(),
                        decision: e.decision,
                    });
                }
            }
        }
    }
    out
}

/// The union of several identity policies (a role's attached and inline policies): one
/// policy whose statements are all of theirs. Also returns, per statement, the index of the
/// policy it came from.
pub fn union(policies: &[Policy]) -> (Policy, Vec<usize>) {
    let mut statements = Vec::new();
    let mut origin = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        for st in &p.statements {
            statements.push(st.clone());
            origin.push(i);
        }
    }
    (
        Policy {
            statements,
            kind: PolicyKind::Identity,
            span: None,
            problems: Vec::new(),
            compiled: Default::default(),
        },
        origin,
    )
}

/// 12-digit account ids written in a policy's resources.
pub fn accounts_in(policy: &Policy) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (si, st) in policy.statements.iter().enumerate() {
        for sel in [&st.resources].into_iter().flatten() {
            for item in sel.items() {
                if let Some(acct) = item.text.split(':').nth(4)
                    && acct.len() == 12
                    && acct.bytes().all(|b| b.is_ascii_digit())
                    && !out.iter().any(|(a, _)| a == acct)
                {
                    out.push((acct.to_string(), si));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_role_missing_create_policy_differs_by_that_action_only() {
        let documented = Policy::from_json(&json!({"Statement": [
            {"Sid": "IAM", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:CreatePolicy", "iam:GetRole"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::state", "arn:aws:s3:::state/*"]}
        ]}))
        .unwrap();
        let live = Policy::from_json(&json!({"Statement": [
            {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:Get*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::state*"}
        ]}))
        .unwrap();
        let missing = not_covered(&documented, &live);
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].action, "iam:CreatePolicy");
        assert_eq!((missing[0].statement, missing[0].action_index), (0, 1));
        assert_eq!(missing[0].decision, Decision::Denied);
        let extra = not_covered(&live, &documented);
        // `iam:Get*` is wider than `iam:GetRole`; `state*` wider than the two state ARNs.
        assert_eq!(extra.len(), 2, "{extra:?}");
    }

    #[test]
    fn the_same_permissions_written_differently_are_equal() {
        let a = Policy::from_json(&json!({"Statement": [
            {"Effect": "Allow", "Action": ["ec2:DescribeVpcs", "EC2:describeSubnets"], "Resource": "*"}
        ]}))
        .unwrap();
        let b = Policy::from_json(&json!({"Statement": [
            {"Effect": "Allow", "Action": "ec2:DescribeSubnets", "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["ec2:DescribeVpcs"], "Resource": "*"}
        ]}))
        .unwrap();
        assert!(not_covered(&a, &b).is_empty());
        assert!(not_covered(&b, &a).is_empty());
        let (u, origin) = union(&[a.clone(), b]);
        assert_eq!(u.statements.len(), 3);
        assert_eq!(origin, [0, 1, 1]);
    }

    #[test]
    fn account_ids_in_resources() {
        let p = Policy::from_json(&json!({"Statement": [
            {"Effect": "Allow", "Action": "iam:*", "Resource": ["arn:aws:iam::123456789012:role/x", "arn:aws:iam::*:policy/y"]}
        ]}))
        .unwrap();
        assert_eq!(accounts_in(&p), [("123456789012".to_string(), 0)]);
    }
}
