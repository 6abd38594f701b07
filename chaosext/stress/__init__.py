"""Resource stress: CPU and memory pressure inside a replica's own limits (stress-ng)."""
