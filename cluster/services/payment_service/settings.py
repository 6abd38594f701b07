"""payment-service configuration from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.env import EnvError, env_file, env_flag, env_str
from servicekit.service import BaseSettings, base_settings

SERVICE = "payment-service"
DEFAULT_PORT = 8444

# unavailable_ratio: the share of /charge requests answered 503 (a dependency that fails
# intermittently, as the guide's "third-party API returning 503s"); flipped by a config reload.
TUNABLE_DEFAULTS: dict[str, int | float] = {"unavailable_ratio": 0.0}


@dataclass(frozen=True)
class Settings:
    base: BaseSettings
    tls_cert_file: str | None
    tls_key_file: str | None
    redis_url: str
    ready_fail: bool


def load_settings() -> Settings:
    cert, key = env_file("TLS_CERT_FILE"), env_file("TLS_KEY_FILE")
    if (cert is None) != (key is None):
        raise EnvError("TLS_CERT_FILE and TLS_KEY_FILE must be set together (or both unset for plain HTTP)")
    redis_url = env_str("REDIS_URL", "redis://127.0.0.1:16379/0")
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise EnvError(f"REDIS_URL must be a redis:// URL, got {redis_url!r}")
    return Settings(
        base=base_settings(SERVICE, DEFAULT_PORT),
        tls_cert_file=cert,
        tls_key_file=key,
        redis_url=redis_url,
        ready_fail=env_flag("READY_FAIL"),
    )
