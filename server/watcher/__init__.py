"""The watcher: Kubernetes watch streams -> anomaly detection -> storm folding -> incidents."""
