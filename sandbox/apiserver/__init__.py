"""The sandbox's Kubernetes REST API server: `ApiServer(store, registry, ...)`.start() -> URL."""

from sandbox.apiserver.server import ApiServer

__all__ = ["ApiServer"]
