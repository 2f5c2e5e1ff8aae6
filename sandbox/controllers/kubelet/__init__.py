"""A simulated kubelet for every node: runs bound pods through their lifecycle and reports pod status.

Per container: resolve env (CreateContainerConfigError), pull the image (ErrImagePull /
ImagePullBackOff with back-off), create and start it, then let the program's `Plan` decide
what happens (exit, OOM kill, listening, failing requests); restart with CrashLoopBackOff
back-off (10s doubling to 5m); run readiness/liveness/startup probes only when their outcome
can change or is failing (so a healthy cluster costs nothing per tick). Pod conditions,
phase, IPs, QoS and container statuses are written through the status subresource.
"""

from sandbox.controllers.kubelet.kubelet import Kubelet

__all__ = ["Kubelet"]
