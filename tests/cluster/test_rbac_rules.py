"""The least-privilege Role (cluster/rbac/role.yaml) against the code, with no cluster: every
Kubernetes API method chaosext calls has a row in cluster/rbac/api-calls.yaml, each row's
permission is the one the kubernetes client's own request needs (HTTP method and path read from
the client), the Role grants every namespaced row and no rule is left that no row needs. A new API
call without a rule fails here; its refusal by a real API server is tested in
tests/kube/test_rbac_kube.py."""

from __future__ import annotations

import ast
import inspect
import json
import re
from functools import cache
from typing import Any

import kubernetes.client
import pytest
from chaoslib.exceptions import ActivityFailed
from cluster.helpers import REPO, load_yaml, render
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.faults import guardrails
from chaosext.kube_permissions import PermissionRefused

RBAC = REPO / "cluster" / "rbac"
# the test control plane (chaosext/localkube) runs as that control plane's own admin: it creates
# nodes and reads ServiceAccounts for the tests, never for an experiment
NOT_ACTIVITIES = ("chaosext/localkube/",)
SCOPES = ("namespace", "cluster")
# the verb the API server authorizes for each kind of generated client method (the method's prefix)
VERB_OF_PREFIX = {
    "list": "list",
    "read": "get",
    "create": "create",
    "patch": "patch",
    "replace": "update",
    "delete_collection": "deletecollection",
    "delete": "delete",
}
# connect_* methods: the client's WebSocket upgrade to exec/attach/portforward is a GET, authorized
# as get and, since Kubernetes 1.35 (AuthorizePodWebsocketUpgradeCreatePermission), also as
# create; a proxied request by its HTTP method
STREAMING_SUBRESOURCES = ("exec", "attach", "portforward")
VERB_OF_HTTP = {"GET": "get", "HEAD": "get", "OPTIONS": "get", "POST": "create", "PUT": "update",
                "PATCH": "patch", "DELETE": "delete"}


@cache
def api_operations() -> dict[str, list[str]]:
    """Every API operation of the kubernetes client: method name -> the *Api classes that have it.
    An operation is a method with a generated ``_<name>_serialize`` (helpers such as ``close`` are not)."""
    found: dict[str, list[str]] = {}
    for name, cls in inspect.getmembers(kubernetes.client, inspect.isclass):
        if not (name.endswith("Api") and cls.__module__.startswith("kubernetes.client.api.")):
            continue
        for method in vars(cls):
            if not method.startswith("_") and hasattr(cls, f"_{method}_serialize"):
                found.setdefault(method, []).append(name)
    return found


def calls_in(source: str, where: str) -> dict[str, list[str]]:
    """API operations named in SOURCE (called, or passed on as kubernetes.stream does with exec):
    method name -> ["<where>:<line>", ...]."""
    operations = api_operations()
    found: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in operations:
            found.setdefault(node.attr, []).append(f"{where}:{node.lineno}")
        # getattr(api, "patch_namespaced_x") or a name built at run time would hide a call
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in operations:
            found.setdefault(node.value, []).append(f"{where}:{node.lineno}")
    return found


@cache
def chaosext_calls() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((REPO / "chaosext").rglob("*.py")):
        where = str(path.relative_to(REPO))
        if where.startswith(NOT_ACTIVITIES):
            continue
        for method, sites in calls_in(path.read_text(encoding="utf-8"), where).items():
            found.setdefault(method, []).extend(sites)
    return found


@cache
def table() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = load_yaml(RBAC / "api-calls.yaml")["calls"]
    return rows


def rows_by_method() -> dict[str, dict[str, Any]]:
    return {str(row["method"]).split(".", 1)[1]: row for row in table()}


def request_of(api_class: str, method: str) -> tuple[str, str]:
    """The HTTP method and path template the client sends for API_CLASS.METHOD, from its generated
    serializer."""
    source = inspect.getsource(getattr(getattr(kubernetes.client, api_class), f"_{method}_serialize"))
    http = re.search(r"method='(\w+)'", source)
    path = re.search(r"resource_path='([^']+)'", source)
    assert http and path, f"{api_class}.{method}: no method/resource_path in its serializer"
    return http[1], path[1]


def permission_of(method: str, http: str, path: str) -> tuple[list[str], str, str, str]:
    """(verbs, API group, resource[/subresource], scope) the API server authorizes the request with."""
    parts = path.strip("/").split("/")
    if parts[0] == "api":  # /api/v1/...
        group, rest = "", parts[2:]
    else:  # /apis/<group>/<version>/...
        group, rest = parts[1], parts[3:]
    scope = "cluster"
    if rest[:2] == ["namespaces", "{namespace}"] and len(rest) > 2:
        scope, rest = "namespace", rest[2:]
    resource = rest[0]
    if len(rest) >= 3 and rest[1] == "{name}":
        resource = f"{resource}/{rest[2]}"
    if method.startswith("connect_"):
        streaming = resource.split("/")[-1] in STREAMING_SUBRESOURCES
        verbs = [VERB_OF_HTTP[http], "create"] if streaming and http == "GET" else [VERB_OF_HTTP[http]]
    else:
        prefix = next(p for p in sorted(VERB_OF_PREFIX, key=len, reverse=True) if method.startswith(f"{p}_"))
        verbs = [VERB_OF_PREFIX[prefix]]
    return verbs, group, resource, scope


@cache
def role() -> dict[str, Any]:
    doc: dict[str, Any] = load_yaml(RBAC / "role.yaml")
    return doc


def granted(verb: str, group: str, resource: str) -> bool:
    return any(group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]
               for rule in role()["rules"])


def group_of(row: dict[str, Any]) -> str:
    return "" if str(row["method"]).startswith("CoreV1Api.") else "apps"


def test_the_scan_finds_chaosext_calls_and_a_new_call_without_a_row() -> None:
    """The scanner is not vacuous: it sees calls chaosext is known to make (including exec, passed
    to kubernetes.stream uncalled), and a call chaosext does not make yet has no row."""
    calls = chaosext_calls()
    assert any(site.startswith("chaosext/instance/kubernetes.py:") for site in calls["delete_namespaced_pod"])
    assert any(site.startswith("chaosext/stress/kubernetes.py:") for site in calls["connect_get_namespaced_pod_exec"])
    new = calls_in("def f(core):\n    core.delete_namespaced_secret('x', 'ns')\n", "new.py")
    assert new == {"delete_namespaced_secret": ["new.py:2"]}
    assert "delete_namespaced_secret" not in rows_by_method()
    assert calls_in("getattr(apps, 'patch_namespaced_daemon_set')(n, ns, body)\n", "dyn.py") == {
        "patch_namespaced_daemon_set": ["dyn.py:1"]}


def test_every_kubernetes_call_in_chaosext_has_a_row() -> None:
    rows = rows_by_method()
    missing = {method: sites for method, sites in chaosext_calls().items() if method not in rows}
    assert not missing, (
        "Kubernetes API calls with no row in cluster/rbac/api-calls.yaml (add the row and, if it is "
        f"namespaced, the rule in cluster/rbac/role.yaml): {missing}")


def test_every_row_is_still_called() -> None:
    stale = sorted(set(rows_by_method()) - set(chaosext_calls()))
    assert not stale, f"rows of cluster/rbac/api-calls.yaml no code calls any more (remove them and their rules): {stale}"


@pytest.mark.parametrize("row", table(), ids=lambda row: str(row["method"]))
def test_each_row_is_the_permission_the_clients_request_needs(row: dict[str, Any]) -> None:
    api_class, method = str(row["method"]).split(".", 1)
    assert api_class in api_operations().get(method, []), f"{row['method']} is not a kubernetes client API method"
    assert row["scope"] in SCOPES and row.get("used_by"), row
    verbs, group, resource, scope = permission_of(method, *request_of(api_class, method))
    assert (row["verbs"], row["resource"], row["scope"]) == (verbs, resource, scope)
    assert group == group_of(row)


def test_the_role_grants_every_namespaced_row_and_no_cluster_row() -> None:
    for row in table():
        for verb in row["verbs"]:
            allowed = granted(verb, group_of(row), row["resource"])
            if row["scope"] == "namespace":
                assert allowed, f"{row['method']} needs {verb} {row['resource']}: no rule of role.yaml grants it"
    # cluster-scoped rows (chaosext cleanup's sweep) need a ClusterRole; the runner gets none
    kinds = [doc["kind"] for doc in render(RBAC)]
    assert sorted(kinds) == ["Role", "RoleBinding", "ServiceAccount"]


def test_every_rule_is_needed_by_a_row() -> None:
    needed = {(group_of(r), r["resource"], verb) for r in table() if r["scope"] == "namespace" for verb in r["verbs"]}
    unused = [(group, resource, verb)
              for rule in role()["rules"] for group in rule["apiGroups"]
              for resource in rule["resources"] for verb in rule["verbs"]
              if (group, resource, verb) not in needed]
    assert not unused, f"role.yaml grants what no call in api-calls.yaml needs: {unused}"


def test_each_rule_says_which_activities_need_it() -> None:
    lines = (RBAC / "role.yaml").read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith("- apiGroups:")]
    assert len(starts) == len(role()["rules"])
    for i in starts:
        assert lines[i - 1].strip().startswith("#"), f"role.yaml line {i + 1}: a rule without a comment above it"


def test_the_role_has_no_wildcard_escalation_or_secret_listing() -> None:
    for rule in role()["rules"]:
        for key in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[key], rule
        assert not {"escalate", "bind", "impersonate", "watch", "update", "deletecollection"} & set(rule["verbs"]), rule
        assert not {"nodes", "namespaces", "roles", "rolebindings", "serviceaccounts"} & set(rule["resources"]), rule
        if "secrets" in rule["resources"]:
            # only the TLS Secrets the certificate experiments name, never listed
            assert rule.get("resourceNames") and "list" not in rule["verbs"], rule
    binding = load_yaml(RBAC / "rolebinding.yaml")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "chaosext-runner"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "chaosext-runner", "namespace": "chaosext"}]


def test_the_kind_var_file_allows_only_the_runner_context() -> None:
    target = load_yaml(REPO / "cluster" / "targets" / "kind.yaml")["configuration"]
    assert target["allowed_contexts"] == ["kind-chaosext-runner"]


def test_the_workflow_switches_to_the_runner_after_deploying_and_before_the_experiments() -> None:
    steps = load_yaml(REPO / ".github" / "workflows" / "chaos.yml")["jobs"]["chaos"]["steps"]
    names = [s.get("name") for s in steps]
    identity = names.index("Act as the least-privilege identity")
    assert names.index("Cluster and stack up") < identity < names.index("Run, gate and report")
    assert "scripts/ci-runner-identity.sh" in steps[identity]["run"]
    evidence = steps[names.index("Evidence, cleanup and verdict")]
    assert evidence["with"]["admin-kubeconfig"] == "${{ steps.identity.outputs.admin-kubeconfig }}"


def test_the_runner_identity_script_never_puts_the_token_on_a_command_line_or_output() -> None:
    """The token only travels through a variable into printf (a builtin) and the kubeconfig."""
    text = (REPO / "scripts" / "ci-runner-identity.sh").read_text(encoding="utf-8")
    uses = [line.strip() for line in text.splitlines() if "$token" in line or "${token" in line]
    assert uses, "the script no longer reads the token: update this test"
    for line in uses:
        assert line.startswith(("printf 'users:", '[[ -n "$token" ]]')), f"the token reaches: {line}"
    assert "unset token" in text



def test_allowed_contexts_come_from_the_var_file_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """ci-run-experiments.sh exports the var file's allowed_contexts as CHAOSEXT_ALLOWED_CONTEXTS:
    experiments that do not declare the key are held to it; one that declares it keeps its own."""
    monkeypatch.setenv("CHAOSEXT_ALLOWED_CONTEXTS", "kind-chaosext-runner")
    guardrails.check_context("kind-chaosext-runner", {"target": "kubernetes"})
    with pytest.raises(ActivityFailed, match=r"kube context 'kind-chaosext' is not in allowed_contexts"):
        guardrails.check_context("kind-chaosext", {"target": "kubernetes"})
    guardrails.check_context("kind-chaosext", {"allowed_contexts": ["kind-chaosext"]})


def test_a_403_that_is_not_an_authorization_refusal_keeps_the_servers_message() -> None:
    """Admission (PodSecurity, quota) also answers 403: that is no missing permission, and is not
    reported as one."""
    body = json.dumps({"kind": "Status", "code": 403, "reason": "Forbidden", "message":
                       'pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged'})
    error = kube.api_error(ApiException(status=403, reason="Forbidden", body=body), "creating pod ns/x")
    assert not isinstance(error, PermissionRefused)
    assert str(error) == ('creating pod ns/x: the API server answered 403: pods "x" is forbidden: '
                          'violates PodSecurity "restricted:latest": privileged')
