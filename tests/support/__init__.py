"""Helpers every test layer shares: waiting on a condition with a deadline, a free local port."""

from support.ports import free_port
from support.waiting import wait_until

__all__ = ["free_port", "wait_until"]
