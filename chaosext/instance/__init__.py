"""Instance faults: kill or stop processes (local stack) or pods (Kubernetes)."""
