terraform {
  required_providers {
    kubectl = {
      source = "gavinbunney/kubectl"
    }
  }
}

variable "cluster_name" {
  type = string
}

variable "region" {
  type = string
}

variable "external_dns_role_arn" {
  type = string
}

variable "eso_role_arn" {
  type = string
}

variable "autoscaler_role_arn" {
  type = string
}

variable "rds_provisioner_role_arn" {
  type    = string
  default = null
}

variable "enable_rds_provisioner" {
  type    = bool
  default = false
}

variable "host_suffix" {
  type = string
}

resource "kubernetes_namespace_v1" "platform_system" {
  metadata {
    name = "platform-system"
  }
}

resource "kubernetes_service_account_v1" "platform_provisioner" {
  count = var.enable_rds_provisioner ? 1 : 0
  metadata {
    name      = "platform-provisioner"
    namespace = kubernetes_namespace_v1.platform_system.metadata[0].name
    annotations = {
      "eks.amazonaws.com/role-arn" = var.rds_provisioner_role_arn
    }
  }
}

resource "helm_release" "external_secrets" {
  name             = "external-secrets"
  repository       = "https://charts.external-secrets.io"
  chart            = "external-secrets"
  namespace        = "external-secrets"
  create_namespace = true
  set {
    name  = "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = var.eso_role_arn
  }
}

resource "helm_release" "external_dns" {
  name       = "external-dns"
  repository = "https://kubernetes-sigs.github.io/external-dns"
  chart      = "external-dns"
  namespace  = "kube-system"
  # Each cluster owns its own TXT records.
  values = [replace(file("${path.module}/values/external-dns.yaml"), "txtOwnerId: goldenpath", "txtOwnerId: ${var.cluster_name}")]
  set {
    name  = "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = var.external_dns_role_arn
  }
  set {
    name  = "domainFilters[0]"
    value = var.host_suffix
  }
}

resource "helm_release" "cluster_autoscaler" {
  name       = "cluster-autoscaler"
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  namespace  = "kube-system"
  set {
    name  = "autoDiscovery.clusterName"
    value = var.cluster_name
  }
  set {
    name  = "awsRegion"
    value = var.region
  }
  set {
    name  = "rbac.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = var.autoscaler_role_arn
  }
}

# The store every ExternalSecret of the cluster reads. kubectl_manifest sends it at apply
# without reading the CRD's schema at plan, so it can follow the chart in one apply.
resource "kubectl_manifest" "cluster_secret_store" {
  yaml_body = yamlencode({
    apiVersion = "external-secrets.io/v1beta1"
    kind       = "ClusterSecretStore"
    metadata = {
      name = "aws-secrets-manager"
    }
    spec = {
      provider = {
        aws = {
          service = "SecretsManager"
          region  = var.region
        }
      }
    }
  })

  depends_on = [helm_release.external_secrets]
}
