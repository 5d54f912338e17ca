//! Kubernetes knowledge shared by the Terraform and GitOps sides: which kinds the API server
//! serves itself, and the reviewed facts about well-known charts (`rules/charts.toml`,
//! embedded and parsed once).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub const TABLE_TEXT: &str = include_str!("../../rules/charts.toml");

/// The annotation limit of client-side apply: `last-applied-configuration` holds the whole
/// object, and annotations may total at most 256 KiB.
pub const CLIENT_SIDE_APPLY_LIMIT: usize = 262_144;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartFacts {
    #[serde(default)]
    pub crd_groups: Vec<String>,
    #[serde(default)]
    pub crds_value: Option<String>,
    #[serde(default)]
    pub crds_default: Option<bool>,
    #[serde(default)]
    pub large_crds: bool,
    #[serde(default)]
    pub service_accounts: Option<Vec<[String; 2]>>,
    #[serde(default)]
    pub volume_claims: bool,
}

impl ChartFacts {
    /// The (create key, name key) pairs of the chart's service accounts.
    pub fn service_account_keys(&self) -> Vec<(String, String)> {
        match &self.service_accounts {
            Some(v) => v.iter().map(|[c, n]| (c.clone(), n.clone())).collect(),
            None => vec![("serviceAccount.create".into(), "serviceAccount.name".into())],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    builtin: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    chart: BTreeMap<String, ChartFacts>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| toml::from_str(TABLE_TEXT).expect("rules/charts.toml is valid"))
}

/// `cert-manager.io/v1` → `cert-manager.io`; `v1` → `` (the core group).
pub fn api_group(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((g, _)) => g,
        None => "",
    }
}

/// Whether the API server serves `kind` of `api_version` without a CRD.
pub fn is_builtin(api_version: &str, kind: &str) -> bool {
    table()
        .builtin
        .get(api_group(api_version))
        .is_some_and(|kinds| kinds.iter().any(|k| k == kind))
}

/// Whether the group is one the API server serves itself (whatever the kind).
pub fn is_builtin_group(group: &str) -> bool {
    table().builtin.contains_key(group)
}

/// The reviewed facts of a chart, by name (`jetstack/cert-manager`, `oci://…/karpenter`
/// and `cert-manager` all name `cert-manager`).
pub fn chart(name: &str) -> Option<&'static ChartFacts> {
    let base = name
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(name);
    table().chart.get(base)
}

/// The service-account keys of a chart: the reviewed ones, or the common
/// `serviceAccount.create` / `serviceAccount.name`.
pub fn service_account_keys(chart_name: &str) -> Vec<(String, String)> {
    chart(chart_name)
        .map(ChartFacts::service_account_keys)
        .unwrap_or_else(|| ChartFacts::default().service_account_keys())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_knows_the_core_kinds() {
        assert!(is_builtin("v1", "ConfigMap"));
        assert!(is_builtin("apps/v1", "StatefulSet"));
        assert!(is_builtin("networking.k8s.io/v1", "Ingress"));
        assert!(is_builtin(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition"
        ));
        assert!(!is_builtin("cert-manager.io/v1", "ClusterIssuer"));
        assert!(!is_builtin("apps/v1", "Rollout"));
        assert!(!is_builtin("v1", "Certificate"));
        let cm = chart("jetstack/cert-manager").expect("cert-manager is known");
        assert!(cm.crd_groups.iter().any(|g| g == "cert-manager.io"));
        assert!(
            chart("oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack")
                .is_some_and(|c| c.large_crds)
        );
        assert_eq!(
            service_account_keys("cluster-autoscaler"),
            [(
                "rbac.serviceAccount.create".to_string(),
                "rbac.serviceAccount.name".to_string()
            )]
        );
        assert_eq!(
            service_account_keys("unknown")[0].0,
            "serviceAccount.create"
        );
    }

    #[test]
    fn every_builtin_kind_list_is_sorted_and_unique() {
        for (g, kinds) in &table().builtin {
            let mut s = kinds.clone();
            s.sort();
            s.dedup();
            assert_eq!(&s, kinds, "group `{g}`");
        }
    }
}
