"""A container's file system and environment at start: the image's files, the pod's volumes
(ConfigMap, Secret, emptyDir, downwardAPI, projected; `items`, `subPath`, `readOnly`), the
service-account token, /etc/hosts and resolv.conf; and the environment the runtime passes
(the image's ENV, HOSTNAME, the pod's env, Service links, KUBERNETES_*)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

from sandbox.configdata import source_data
from sandbox.resources import CONFIGMAPS, SECRETS, SERVICES
from sandbox.shell.fs import FileSystem
from sandbox.store import Obj, Store

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_OS_RELEASE = {
    "alpine": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
    "debian": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="12"\nID=debian\n',
    "ubuntu": 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\n',
    "busybox": "",
}


def _source_files(store: Store, namespace: str, pod: Obj, volume: Obj) -> tuple[dict[str, str] | None, bool]:
    """(relative path -> text, is tmpfs) for a volume; None when it is not a file source we model."""
    if "configMap" in volume or "secret" in volume:
        is_cm = "configMap" in volume
        src = volume["configMap" if is_cm else "secret"]
        obj = store.find(
            CONFIGMAPS if is_cm else SECRETS,
            namespace,
            src.get("name" if is_cm else "secretName", ""),
            copy=False,
        )
        if obj is None:
            return {}, not is_cm
        data = source_data(obj, secret=not is_cm)
        items = src.get("items")
        if items:
            data = {i.get("path", i.get("key", "")): data[i["key"]] for i in items if i.get("key") in data}
        return data, not is_cm
    if "downwardAPI" in volume:
        return _downward(pod, volume["downwardAPI"].get("items") or []), False
    if "projected" in volume:
        files: dict[str, str] = {}
        for source in volume["projected"].get("sources") or []:
            if "serviceAccountToken" in source:
                files[source["serviceAccountToken"].get("path", "token")] = _token(pod)
                continue
            part, _ = _source_files(store, namespace, pod, source)
            files.update(part or {})
        return files, True
    if "emptyDir" in volume:
        return {}, (volume.get("emptyDir") or {}).get("medium") == "Memory"
    return {}, False


def _downward(pod: Obj, items: list[Obj]) -> dict[str, str]:
    meta = pod.get("metadata") or {}
    out = {}
    for item in items:
        field = (item.get("fieldRef") or {}).get("fieldPath", "")
        if field in ("metadata.labels", "metadata.annotations"):
            pairs = meta.get(field.split(".")[1]) or {}
            out[item.get("path", "")] = "\n".join(f'{k}="{v}"' for k, v in sorted(pairs.items()))
        elif field.startswith("metadata."):
            out[item.get("path", "")] = str(meta.get(field.split(".", 1)[1], ""))
    return out


def _token(pod: Obj) -> str:
    return (
        "eyJhbGciOiJSUzI1NiIsImtpZCI6InNhbmRib3gifQ.sandbox-service-account-token."
        + (pod["metadata"].get("uid") or "")[:8]
    )


def build_fs(
    store: Store, pod: Obj, container: Obj, image_files: Mapping[str, str], base: str, pod_ip: str
) -> tuple[FileSystem, set[str], bool]:
    """(file system, memory-backed mount points, read-only root) for a container at start."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    ns, name = meta.get("namespace", "default"), meta["name"]
    fs = FileSystem(dict(image_files))
    fs.put("/etc/hostname", name + "\n")
    fs.put(
        "/etc/hosts", f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{pod_ip}\t{name}\n"
    )
    fs.put(
        "/etc/resolv.conf",
        f"search {ns}.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\noptions ndots:5\n",
    )
    fs.put(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    )
    if _OS_RELEASE.get(base):
        fs.put("/etc/os-release", _OS_RELEASE[base])
    memory: set[str] = set()
    if spec.get("automountServiceAccountToken", True) is not False:
        fs.mount(
            "/var/run/secrets/kubernetes.io/serviceaccount",
            {"token": _token(pod), "namespace": ns, "ca.crt": "-----BEGIN CERTIFICATE-----\n"},
        )
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        path = mount.get("mountPath", "")
        if volume is None or not path:
            continue
        files, tmpfs = _source_files(store, ns, pod, volume)
        sub = mount.get("subPath")
        readonly = bool(mount.get("readOnly")) or any(
            k in volume for k in ("configMap", "secret", "downwardAPI", "projected")
        )
        if sub:
            content = (files or {}).get(sub)
            if content is not None:
                fs.put(path, content)
            else:
                fs.mkdir(path)
            continue
        fs.mount(path, files or {}, readonly=readonly)
        if tmpfs:
            memory.add(posixpath.normpath(path))
    read_only_root = bool((container.get("securityContext") or {}).get("readOnlyRootFilesystem"))
    return fs, memory, read_only_root


def run_as_user(pod: Obj, container: Obj) -> int:
    """The UID the container runs as (0 unless a securityContext says otherwise)."""
    for ctx in (
        (container.get("securityContext") or {}),
        ((pod.get("spec") or {}).get("securityContext") or {}),
    ):
        if ctx.get("runAsUser") is not None:
            return int(ctx["runAsUser"])
    return 0


def _link_name(service: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", service.upper())


def environment(
    store: Store, pod: Obj, env: Mapping[str, str], image_env: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    """The process environment: image ENV, HOSTNAME, the container's env, Service links, KUBERNETES_*."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    out: dict[str, str] = {"PATH": PATH, "HOSTNAME": meta["name"]}
    out.update(dict(image_env))
    out["HOME"] = "/root"
    if spec.get("enableServiceLinks", True) is not False:
        services, _ = store.list(SERVICES, meta.get("namespace", "default"), copy=False)
        for svc in services:
            s = svc.get("spec") or {}
            ip, ports = s.get("clusterIP"), s.get("ports") or []
            if not ip or ip == "None" or not ports:
                continue
            n, first = _link_name(svc["metadata"]["name"]), ports[0]
            out[f"{n}_SERVICE_HOST"] = ip
            out[f"{n}_SERVICE_PORT"] = str(first.get("port"))
            out[f"{n}_PORT"] = f"tcp://{ip}:{first.get('port')}"
            for p in ports:
                proto = (p.get("protocol") or "TCP").upper()
                key = f"{n}_PORT_{p.get('port')}_{proto}"
                out[key] = f"{proto.lower()}://{ip}:{p.get('port')}"
                out[f"{key}_PROTO"], out[f"{key}_PORT"], out[f"{key}_ADDR"] = (
                    proto.lower(),
                    str(p.get("port")),
                    ip,
                )
                if p.get("name"):
                    out[f"{n}_SERVICE_PORT_{_link_name(p['name'])}"] = str(p.get("port"))
    out.update(
        {
            "KUBERNETES_SERVICE_HOST": "10.96.0.1",
            "KUBERNETES_SERVICE_PORT": "443",
            "KUBERNETES_SERVICE_PORT_HTTPS": "443",
            "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        }
    )
    out.update(env)
    return out
