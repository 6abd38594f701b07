"""A request the API server's authorizer refused (HTTP 403), read back into the permission it lacks.

chaosext runs on real clusters as a least-privilege identity (cluster/rbac/): when a call is outside
its Role the API server answers 403 with a message of the authorizer's fixed form (Kubernetes'
``forbiddenMessage``)::

    pods "x" is forbidden: User "system:serviceaccount:chaosext:chaosext-runner" cannot delete
    resource "pods" in API group "" in the namespace "other"

(``at the cluster scope`` instead of a namespace; ``cannot get path "/x"`` for non-resource URLs).
:func:`permission_refused` turns that into :class:`PermissionRefused`, an ``ActivityFailed`` whose
message and attributes name the identity, the verb, the resource, the API group and the namespace,
so a journal says which rule is missing instead of a raw HTTP dump. The same message reaches
WebSocket requests (pods/exec) inside the client's handshake error, with its quotes escaped.

A 403 that is not an authorization refusal (admission: PodSecurity, quota...) does not match and is
left to the caller's generic message.
"""

from __future__ import annotations

import json
import re

from chaoslib.exceptions import ActivityFailed
from kubernetes.client.rest import ApiException

__all__ = ["PermissionRefused", "permission_refused"]

# a quoted Go %q value, its quotes possibly backslash-escaped (the message inside a JSON string
# inside the repr of the WebSocket handshake's body)
_Q = r'\\*"(?P<{}>[^"\\]*)\\*"'
_RESOURCE = re.compile(
    "User " + _Q.format("user") + r" cannot (?P<verb>\S+) resource " + _Q.format("resource")
    + " in API group " + _Q.format("group")
    + r"(?: in the namespace " + _Q.format("namespace") + r"| at the cluster scope)"
)
_PATH = re.compile("User " + _Q.format("user") + r" cannot (?P<verb>\S+) path " + _Q.format("path"))

RULES_HINT = "chaosext's own rules: cluster/rbac/role.yaml"


class PermissionRefused(ActivityFailed):
    """The API server refused a request because the identity lacks a permission (RBAC or another
    authorizer). ``namespace`` is None for a cluster-scoped request; ``path`` is set instead of
    ``resource`` for a non-resource URL."""

    def __init__(self, what: str, user: str, verb: str, resource: str | None, api_group: str | None,
                 namespace: str | None, path: str | None = None) -> None:
        self.what = what
        self.user = user
        self.verb = verb
        self.resource = resource
        self.api_group = api_group
        self.namespace = namespace
        self.path = path
        super().__init__(self._message())

    @property
    def scope(self) -> str:
        return f"in namespace {self.namespace!r}" if self.namespace else "at the cluster scope"

    def _message(self) -> str:
        if self.path is not None:
            missing = f"{self.verb!r} on the non-resource URL {self.path!r}"
        else:
            group = f"API group {self.api_group!r}" if self.api_group else "the core API group"
            missing = f"{self.verb!r} on {self.resource!r} ({group}) {self.scope}"
        return (f"{self.what}: refused by the API server (403 Forbidden): identity {self.user!r} "
                f"lacks the permission {missing}. Grant it to that identity with a Role or "
                f"ClusterRole ({RULES_HINT}) or run as an identity that has it; "
                "the refused request changed nothing")


def _server_text(exc: ApiException) -> str:
    """Where the authorizer's message is: the Status body's ``message`` (HTTP requests), else the
    whole body or reason (a WebSocket handshake error carries the body inside its reason)."""
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or exc.body or exc.reason or "")


def permission_refused(exc: ApiException, what: str) -> PermissionRefused | None:
    """The missing permission behind ``exc``, or None when ``exc`` is not an authorization refusal."""
    text = _server_text(exc)
    status = exc.status or 0
    # HTTP answers carry the status; a refused WebSocket upgrade is status 0 with "403" in its reason
    if status != 403 and not (status == 0 and "403" in str(exc.reason or "")):
        return None
    found = _RESOURCE.search(text)
    if found:
        return PermissionRefused(what, found["user"], found["verb"], found["resource"], found["group"],
                                 found["namespace"] or None)
    found = _PATH.search(text)
    if found:
        return PermissionRefused(what, found["user"], found["verb"], None, None, None, path=found["path"])
    return None
