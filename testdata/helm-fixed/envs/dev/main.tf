terraform {
  required_providers {
    helm       = { source = "hashicorp/helm" }
    kubernetes = { source = "hashicorp/kubernetes" }
  }
}

resource "helm_release" "namespaces" {
  name   = "team-namespaces"
  chart  = "${path.module}/../../charts/namespaces"
  values = [yamlencode({ teams = ["payments", "search", "analytics"] })]
}

resource "kubernetes_config_map_v1" "payments" {
  metadata {
    name      = "payments-settings"
    namespace = "payments"
  }
  data = {
    region = "eu-west-2"
  }
  depends_on = [helm_release.namespaces]
}

resource "kubernetes_config_map_v1" "analytics" {
  metadata {
    name      = "analytics-settings"
    namespace = "analytics"
  }
  data = {
    region = "eu-west-2"
  }
  depends_on = [helm_release.namespaces]
}
