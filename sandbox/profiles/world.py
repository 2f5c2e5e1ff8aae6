"""The cluster as a container's programs see it over the network: DNS and TCP/HTTP connections.

Names resolve like cluster DNS with the pod's search path (`svc`, `svc.ns`, `svc.ns.svc`,
`svc.ns.svc.cluster.local`, StatefulSet pods `pod.headless-svc`); public names (a known TLD)
resolve and answer. A connection to a Service's ClusterIP reaches a Ready backend matching its
selector on the target port if something listens there; with no ready backend kube-proxy rejects
it (connection refused); a port the Service does not declare is silently dropped (timeout).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sandbox.resources import PODS, SERVICES
from sandbox.selectors import selector_from_spec
from sandbox.shell.net import Endpoint
from sandbox.shell.process import Listener
from sandbox.store import Obj, Store

ListenerLookup = Callable[[str, str, int], Listener | None]  # (namespace, pod, port)
PUBLIC_TLDS = frozenset(
    "com org net io dev app co uk de fr eu us info biz cloud ai sh me tv ly gg xyz edu gov".split()  # noqa: SIM905
)
_PUBLIC = Listener(443, "web", lambda method, path: (200, "<!doctype html><html><body>OK</body></html>\n"))
# The API server's Service (default/kubernetes): it exists in every cluster even when the store lacks it.
_API = Listener(443, "https", lambda method, path: (403, '{"kind":"Status","reason":"Forbidden","code":403}'))
API_IP = "10.96.0.1"


def _public_ip(host: str) -> str:
    digest = hashlib.sha256(host.encode()).digest()
    return f"{93 + digest[0] % 80}.{digest[1]}.{digest[2]}.{1 + digest[3] % 250}"


@dataclass(frozen=True, eq=False)  # identity: one network per pod start
class ClusterNetwork:
    """`sandbox.shell.net.Network` for one pod, backed by the store and the kubelet's listeners."""

    store: Store
    namespace: str
    pod: str
    pod_ip: str
    listener: ListenerLookup  # (namespace, pod, port) -> what listens there now
    ready: Mapping[str, Mapping[str, dict]]  # namespace -> ready pod -> its labels

    # --- DNS --------------------------------------------------------------------------------

    def _service(self, host: str) -> Obj | None:
        labels = host.rstrip(".").split(".")
        if labels[-2:] == ["cluster", "local"]:
            labels = labels[:-2]
        if len(labels) >= 3 and labels[2] != "svc":
            return None
        name, ns = labels[0], labels[1] if len(labels) > 1 else self.namespace
        if len(labels) > 3:
            return None
        return self.store.find(SERVICES, ns, name, copy=False)

    def _stateful_pod(self, host: str) -> Obj | None:
        labels = host.rstrip(".").split(".")
        if len(labels) < 2:
            return None
        ns = labels[2] if len(labels) > 2 and labels[2] != "svc" else self.namespace
        pod = self.store.find(PODS, ns, labels[0], copy=False)
        if pod is None or (pod.get("spec") or {}).get("subdomain") != labels[1]:
            return None
        return pod

    def resolve(self, host: str) -> tuple[str, str] | None:
        """(FQDN, IP) of a name, or None (NXDOMAIN)."""
        host = host.rstrip(".")
        if host in ("localhost", "127.0.0.1", "::1"):
            return host, "127.0.0.1"
        if host.replace(".", "").isdigit():
            return host, host
        svc = self._service(host)
        if svc is not None:
            ns = svc["metadata"]["namespace"]
            fqdn = f"{svc['metadata']['name']}.{ns}.svc.cluster.local"
            spec = svc.get("spec") or {}
            if spec.get("type") == "ExternalName":
                return fqdn, _public_ip(spec.get("externalName", ""))
            ip = spec.get("clusterIP") or ""
            if ip in ("", "None"):
                backends = self._backends(svc)
                if not backends:
                    return None  # a headless Service without ready pods has no A records
                ip = ((backends[0].get("status") or {}).get("podIP")) or ""
            return fqdn, ip
        if self._is_api_service(host):
            return "kubernetes.default.svc.cluster.local", API_IP
        pod = self._stateful_pod(host)
        if pod is not None and (pod.get("status") or {}).get("podIP"):
            return f"{host}.svc.cluster.local", pod["status"]["podIP"]
        if "." in host and host.rsplit(".", 1)[-1] in PUBLIC_TLDS:
            return host, _public_ip(host)
        return None

    def _is_api_service(self, host: str) -> bool:
        labels = host.removesuffix(".cluster.local").split(".")
        ns = labels[1] if len(labels) > 1 else self.namespace
        return labels[0] == "kubernetes" and ns == "default" and labels[2:] in ([], ["svc"])

    # --- connections --------------------------------------------------------------------------

    def _backends(self, svc: Obj) -> list[Obj]:
        selector = (svc.get("spec") or {}).get("selector")
        ns = svc["metadata"]["namespace"]
        if not selector:
            return []
        match = selector_from_spec({"matchLabels": selector})
        names = sorted(n for n, labels in (self.ready.get(ns) or {}).items() if match.matches(labels))
        pods = [self.store.find(PODS, ns, n, copy=False) for n in names]
        return [p for p in pods if p is not None]

    def _pod_by_ip(self, ip: str) -> Obj | None:
        pods, _ = self.store.list(
            PODS, None, lambda p: (p.get("status") or {}).get("podIP") == ip, copy=False
        )
        return pods[0] if pods else None

    def connect(self, host: str, port: int) -> Endpoint:
        """Connect to host:port the way kube-proxy and the pod network route it."""
        found = self.resolve(host)
        if found is None:
            return Endpoint(host, "", port, "unresolved")
        fqdn, ip = found
        if ip in ("127.0.0.1", self.pod_ip):
            return self._at(host, ip, port, self.namespace, self.pod)
        if ip == API_IP and self._service(host) is None:
            return Endpoint(host, ip, port, "ok" if port == 443 else "timeout", _API if port == 443 else None)
        svc = self._service(host)
        if svc is not None and (svc.get("spec") or {}).get("clusterIP") not in (None, "", "None"):
            spec = svc.get("spec") or {}
            if spec.get("type") == "ExternalName":
                return Endpoint(host, ip, port, "ok", _PUBLIC)
            entry = next((p for p in spec.get("ports") or [] if int(p.get("port", 0)) == port), None)
            if entry is None:
                return Endpoint(host, ip, port, "timeout")
            for pod in self._backends(svc):
                target = _target_port(pod, entry.get("targetPort", entry.get("port")))
                if target is None:
                    continue
                ep = self._at(host, ip, target, pod["metadata"]["namespace"], pod["metadata"]["name"])
                return Endpoint(host, ip, port, ep.outcome, ep.listener)
            return Endpoint(host, ip, port, "refused")
        by_ip = self._pod_by_ip(ip)
        if by_ip is not None:
            return self._at(host, ip, port, by_ip["metadata"]["namespace"], by_ip["metadata"]["name"])
        if fqdn.rsplit(".", 1)[-1] in PUBLIC_TLDS:
            return Endpoint(host, ip, port, "ok" if port in (80, 443) else "timeout", _PUBLIC)
        return Endpoint(host, ip, port, "timeout")

    def _at(self, host: str, ip: str, port: int, namespace: str, pod: str) -> Endpoint:
        listener = self.listener(namespace, pod, port)
        return Endpoint(host, ip, port, "ok" if listener else "refused", listener)


def _target_port(pod: Obj, target: object) -> int | None:
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return int(p.get("containerPort", 0))
    return None
