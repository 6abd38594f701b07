"""Rolling updates: restart or update a workload under traffic, a rollout that stalls, undo."""
