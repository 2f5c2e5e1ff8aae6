"""I/O adapters: Kubernetes, Prometheus, Git/GitHub and notification clients."""
