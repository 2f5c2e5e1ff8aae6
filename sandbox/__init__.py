"""An embedded Kubernetes cluster: API server on loopback, controllers, kubelet simulation, faults."""
