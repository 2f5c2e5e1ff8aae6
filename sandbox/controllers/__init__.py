"""The cluster's control loops: deployment, replicaset, scheduler, node and a simulated kubelet."""
