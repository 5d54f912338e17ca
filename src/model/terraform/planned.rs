//! Attributes a provider plans from the configuration: not set in the block, not returned
//! by the cloud, yet known at plan in part. Without this table they would be "known only
//! after apply", and the pattern the provider documents for them would be reported as an
//! apply-time count. Each entry is reviewed against the provider's documentation and says
//! how the planned part is built from the block's own arguments; the rest stays unknown
//! until apply.

use super::expr::{Unknown, Value};
use std::collections::BTreeMap;

/// (resource type, attribute) planned from configuration.
pub const PLANNED: &[(&str, &str)] = &[
    // AWS provider docs, aws_acm_certificate: "domain_validation_options … can be used with
    // for_each": one element per distinct name of `domain_name` and
    // `subject_alternative_names`, whose `domain_name` is known at plan and whose
    // `resource_record_*` are computed.
    ("aws_acm_certificate", "domain_validation_options"),
];

/// The planned value of `attr` of a resource of type `ty` with the evaluated arguments
/// `args`, or `None` when the table has no entry or the arguments it needs are not known.
/// `origin` names the attribute for the parts known only after apply.
pub fn planned(
    ty: &str,
    attr: &str,
    args: &BTreeMap<String, Value>,
    origin: &str,
) -> Option<Value> {
    if !PLANNED.contains(&(ty, attr)) {
        return None;
    }
    match (ty, attr) {
        ("aws_acm_certificate", "domain_validation_options") => {
            let mut names: Vec<String> = vec![args.get("domain_name")?.as_str()?.to_string()];
            if let Some(sans) = args.get("subject_alternative_names") {
                for v in sans.as_list()? {
                    names.push(v.as_str()?.to_string());
                }
            }
            let mut seen = std::collections::HashSet::new();
            names.retain(|n| seen.insert(n.clone()));
            Some(Value::list(
                names
                    .into_iter()
                    .map(|d| {
                        let mut o = BTreeMap::new();
                        for k in [
                            "resource_record_name",
                            "resource_record_type",
                            "resource_record_value",
                        ] {
                            o.insert(
                                k.to_string(),
                                Value::Unknown(Unknown::at_apply(format!("{origin}[\"{d}\"].{k}"))),
                            );
                        }
                        o.insert("domain_name".to_string(), Value::String(d));
                        Value::object(o)
                    })
                    .collect(),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acm_validation_options_have_known_domain_names() {
        let mut args = BTreeMap::new();
        args.insert("domain_name".into(), Value::string("example.com"));
        args.insert(
            "subject_alternative_names".into(),
            Value::list(vec![
                Value::string("*.example.com"),
                Value::string("example.com"),
            ]),
        );
        let v = planned(
            "aws_acm_certificate",
            "domain_validation_options",
            &args,
            "x",
        )
        .unwrap();
        let items = v.as_list().unwrap();
        assert_eq!(items.len(), 2);
        let first = items[0].as_object().unwrap();
        assert_eq!(first["domain_name"], Value::string("example.com"));
        assert!(first["resource_record_name"].is_unknown());
        // Unknown inputs: no planned value.
        args.insert("domain_name".into(), Value::at_apply("var.x"));
        assert!(
            planned(
                "aws_acm_certificate",
                "domain_validation_options",
                &args,
                "x"
            )
            .is_none()
        );
        assert!(planned("aws_acm_certificate", "arn", &args, "x").is_none());
    }
}
