#!/usr/bin/env bash
# Regenerate preflight's provider knowledge (data/provider-schemas/*.schema.z) from
# `terraform providers schema -json`.
#
# Usage: scripts/gen-provider-schemas.sh [PROVIDER...]   (default: all four below)
#
# Each provider is installed in a scratch folder with `terraform init -backend=false`, using
# the Terraform CLI configuration in effect (TF_CLI_CONFIG_FILE, ~/.terraformrc): point it at
# a filesystem mirror to work offline, e.g.
#   provider_installation { filesystem_mirror { path = "/opt/tf-plugins" } }
# A provider that cannot be installed is skipped and its data, if any, is left as it was.
# The versions used are written to data/provider-schemas/VERSIONS.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
# PREFLIGHT_SCHEMA_OUT writes elsewhere (the reproducibility test compares with the data).
out="${PREFLIGHT_SCHEMA_OUT:-$here/data/provider-schemas}"
mkdir -p "$out"

# name  source  version constraint (the newest release matching it is used)
providers=(
  "aws        hashicorp/aws          5.100.0"
  "kubernetes hashicorp/kubernetes   ~>2.0"
  "helm       hashicorp/helm         ~>2.0"
  "kubectl    gavinbunney/kubectl    ~>1.0"
)

want=("$@")
command -v terraform >/dev/null || { echo "terraform is not on the PATH" >&2; exit 2; }
tf_version="$(terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')"

for entry in "${providers[@]}"; do
  read -r name source constraint <<<"$entry"
  if ((${#want[@]})) && [[ ! " ${want[*]} " == *" $name "* ]]; then
    continue
  fi
  scratch="$(mktemp -d)"
  cat >"$scratch/main.tf" <<TF
terraform {
  required_providers {
    $name = {
      source  = "$source"
      version = "$constraint"
    }
  }
}
TF
  if ! (cd "$scratch" && terraform init -backend=false -input=false -no-color >init.log 2>&1); then
    echo "$name ($source $constraint): not available, skipped" >&2
    sed 's/^/  /' "$scratch/init.log" | tail -5 >&2
    rm -rf "$scratch"
    continue
  fi
  full="registry.terraform.io/$source"
  version="$(cd "$scratch" && terraform version -json | python3 -c "import json,sys; print(json.load(sys.stdin)['provider_selections']['$full'])")"
  (cd "$scratch" && terraform providers schema -json) |
    python3 "$here/scripts/provider-schema-compact.py" "$full" "$version" >"$out/$name.schema.z"
  # VERSIONS: one line per provider: name, source, version, terraform version used.
  touch "$out/VERSIONS"
  grep -v "^$name " "$out/VERSIONS" >"$out/VERSIONS.new" || true
  echo "$name $full $version terraform-$tf_version" >>"$out/VERSIONS.new"
  sort "$out/VERSIONS.new" >"$out/VERSIONS"
  rm -f "$out/VERSIONS.new"
  echo "$name: $full $version -> data/provider-schemas/$name.schema.z ($(wc -c <"$out/$name.schema.z") bytes)"
  rm -rf "$scratch"
done
