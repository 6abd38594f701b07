#!/usr/bin/env bash
# Switches the job from the cluster's admin to chaosext's least-privilege identity: applies
# cluster/rbac/ (ServiceAccount chaosext-runner, its Role and RoleBinding in namespace chaosext)
# with the current (admin) kubeconfig, mints a short-lived token for the ServiceAccount with the
# TokenRequest API (`kubectl create token`, bounded by --duration-minutes), and writes a kubeconfig
# whose only context (--context-name, default <current context>-runner, e.g. kind-chaosext-runner)
# is that identity on the same API server. Deploying needs the admin; the experiments, their
# rollbacks and `chaosext cleanup`'s marker undo run as the runner.
#
# The token is never printed, logged or put on a command line: it goes from kubectl's stdout into a
# shell variable and from there, with printf (a bash builtin), into the kubeconfig, mode 0600, in a
# fresh private folder under RUNNER_TEMP (else TMPDIR, /tmp): never inside the run folder, which is
# uploaded as evidence.
#
# Before it returns, the identity is checked against the API server: it is the ServiceAccount
# (SelfSubjectReview), its Role is in force (it may delete pods in chaosext; waited for, bounded)
# and it is not an admin (it may not do everything everywhere).
#
# --namespace NS (repeatable): the same Role and a RoleBinding to the same ServiceAccount in NS
# too, for an application of your own deployed outside namespace chaosext (the workflow's
# app-namespaces input). Every NS must exist; all are checked before anything is applied.
#
# Output: step outputs kubeconfig, context and admin-kubeconfig (GITHUB_OUTPUT when set); in GitHub
# Actions KUBECONFIG is switched to the new file for the next steps (GITHUB_ENV). The last line is
# KUBECONFIG=<path>, for a shell: export "$(scripts/ci-runner-identity.sh | tail -1)"
# Usage: scripts/ci-runner-identity.sh [--duration-minutes N] [--context-name NAME] [--namespace NS ...]
# Exit: 0, 1 when the identity cannot be set up or checked, 2 on bad arguments.
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-runner-identity.sh [--duration-minutes N] [--context-name NAME] [--namespace NS ...]"

namespace=chaosext
account=chaosext-runner
duration_min=120
context_name=""
app_namespaces=()
while (($#)); do
  case "$1" in
    --duration-minutes) ci_need_value "$1" "${2:-}"; ci_positive_int "$1" "$2"; duration_min="$2"; shift 2 ;;
    --context-name) ci_need_value "$1" "${2:-}"; context_name="$2"; shift 2 ;;
    --namespace)
      ci_need_value "$1" "${2:-}"
      # a Kubernetes namespace name: an RFC 1123 label
      [[ "$2" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || ci_usage_error "--namespace: '$2' is not a namespace name (RFC 1123 label)"
      [[ "$2" == "$namespace" ]] || app_namespaces+=("$2")
      shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
# the TokenRequest API refuses tokens shorter than 10 minutes
((duration_min >= 10)) || duration_min=10
command -v kubectl >/dev/null 2>&1 || ci_die "kubectl not found"
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

admin_kubeconfig="${KUBECONFIG:-$HOME/.kube/config}"
admin_context="$(kubectl config current-context 2>/dev/null)" \
  || fail "no current kube context in $admin_kubeconfig: create the cluster first"
context_name="${context_name:-$admin_context-runner}"
user="system:serviceaccount:$namespace:$account"

for ns in "${app_namespaces[@]}"; do
  kubectl get namespace "$ns" >/dev/null 2>&1 \
    || fail "namespace $ns (--namespace) does not exist: deploy the application before switching identity; nothing was applied"
done
ci_step "applying cluster/rbac (ServiceAccount $namespace/$account, Role and RoleBinding) as $admin_context"
# the Role lives in the stack's namespace; with deploy-stack false it may not exist yet
kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace" >/dev/null
kubectl apply -k "$ci_root/cluster/rbac"
for ns in "${app_namespaces[@]}"; do
  ci_step "applying the Role and a RoleBinding for $namespace/$account in namespace $ns"
  # cluster/rbac's Role and RoleBinding (labels included) moved to NS; the binding's subject
  # stays the ServiceAccount in $namespace
  kubectl kustomize "$ci_root/cluster/rbac" | "$(ci_tool python)" -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] in ("Role", "RoleBinding")]
for doc in docs:
    doc["metadata"]["namespace"] = sys.argv[1]
yaml.safe_dump_all(docs, sys.stdout)' "$ns" | kubectl apply -f -
done

# the API server and its CA exactly as the admin's context reaches them (--flatten turns a CA file
# into data, so the new kubeconfig needs no file of the admin's)
view() { kubectl config view --minify --flatten -o "jsonpath=$1"; }
server="$(view '{.clusters[0].cluster.server}')"
ca_data="$(view '{.clusters[0].cluster.certificate-authority-data}')"
tls_server_name="$(view '{.clusters[0].cluster.tls-server-name}')"
insecure="$(view '{.clusters[0].cluster.insecure-skip-tls-verify}')"
[[ -n "$server" ]] || fail "the current context $admin_context names no API server"

ci_step "token for $user from the TokenRequest API, valid ${duration_min} minutes"
token="$(kubectl create token "$account" --namespace "$namespace" --duration "${duration_min}m")" \
  || fail "kubectl create token $account failed (above)"
[[ -n "$token" ]] || fail "kubectl create token $account returned nothing"

base="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
mkdir -p "$base"
dir="$(mktemp -d "$base/chaosext-runner.XXXXXX")"
chmod 700 "$dir"
out="$dir/kubeconfig"
(
  umask 077
  {
    printf 'apiVersion: v1\nkind: Config\n'
    printf 'clusters:\n- name: "%s"\n  cluster:\n    server: "%s"\n' "$context_name" "$server"
    if [[ -n "$ca_data" ]]; then printf '    certificate-authority-data: "%s"\n' "$ca_data"; fi
    if [[ -n "$tls_server_name" ]]; then printf '    tls-server-name: "%s"\n' "$tls_server_name"; fi
    if [[ "$insecure" == true ]]; then printf '    insecure-skip-tls-verify: true\n'; fi
    printf 'users:\n- name: "%s"\n  user:\n    token: "%s"\n' "$account" "$token"
    printf 'contexts:\n- name: "%s"\n  context:\n    cluster: "%s"\n    user: "%s"\n    namespace: "%s"\n' \
      "$context_name" "$context_name" "$account" "$namespace"
    printf 'current-context: "%s"\n' "$context_name"
  } >"$out"
)
unset token

ci_step "checking the identity of $out against the API server"
as_runner() { KUBECONFIG="$out" kubectl --request-timeout=20s "$@"; }
seen="$(as_runner auth whoami -o 'jsonpath={.status.userInfo.username}')" \
  || fail "the runner kubeconfig is refused by the API server (above)"
[[ "$seen" == "$user" ]] || fail "the runner kubeconfig authenticates as '$seen', not $user"
# the RoleBinding was just applied: wait, bounded, until the authorizer grants the Role
deadline=$((SECONDS + 60))
until [[ "$(as_runner auth can-i delete pods --namespace "$namespace" 2>/dev/null)" == yes ]]; do
  ((SECONDS < deadline)) || fail "$user still may not delete pods in $namespace 60s after cluster/rbac was applied"
  sleep 1
done
for ns in "${app_namespaces[@]}"; do
  deadline=$((SECONDS + 60))
  until [[ "$(as_runner auth can-i delete pods --namespace "$ns" 2>/dev/null)" == yes ]]; do
    ((SECONDS < deadline)) || fail "$user still may not delete pods in $ns 60s after its Role was applied there"
    sleep 1
  done
done
if [[ "$(as_runner auth can-i '*' '*' --all-namespaces 2>/dev/null)" == yes ]]; then
  fail "$user may do anything anywhere: something else (a ClusterRoleBinding?) grants it more than cluster/rbac"
fi
ci_step "acting as $user (context $context_name): the Role of cluster/rbac in ${namespace}${app_namespaces[*]:+ ${app_namespaces[*]}}, nothing more"

ci_output kubeconfig "$out"
ci_output context "$context_name"
ci_output admin-kubeconfig "$admin_kubeconfig"
if [[ -n "${GITHUB_ENV:-}" ]]; then
  printf 'KUBECONFIG=%s\n' "$out" >>"$GITHUB_ENV"
  # a context pinned by name would name the admin's context, absent from the new kubeconfig
  if [[ -n "${KUBERNETES_CONTEXT:-}" ]]; then printf 'KUBERNETES_CONTEXT=\n' >>"$GITHUB_ENV"; fi
fi
printf 'KUBECONFIG=%s\n' "$out"
