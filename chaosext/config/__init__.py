"""Config reload mid-traffic: flip a timeout or pool size of a running service, then restore."""
