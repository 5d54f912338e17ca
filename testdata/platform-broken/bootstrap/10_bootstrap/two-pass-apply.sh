#!/usr/bin/env bash
# v4 bootstrap: envs/<env> is applied twice. Pass 1 builds the VPC and the EKS cluster;
# pass 2 the Kubernetes resources, once the cluster exists and the providers can read it.
set -euo pipefail

ENV="${ENV:-dev}"
root="envs/${ENV}"

terraform -chdir="$root" init -input=false
terraform -chdir="$root" apply -input=false -auto-approve -var enable_k8s_resources=false
terraform -chdir="$root" apply -input=false -auto-approve -var enable_k8s_resources=true
