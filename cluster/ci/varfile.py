"""Read a Chaos Toolkit var file (``{"configuration": {...}, "secrets": {...}}``, YAML or JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

TARGETS = ("local", "kubernetes")


class VarFileError(ValueError):
    """A var file that cannot be used; the message names the file and the problem."""


def load_configuration(path: Path) -> dict[str, Any]:
    """The ``configuration`` mapping of the var file at ``path`` (validated)."""
    if not path.is_file():
        raise VarFileError(f"--var-file: {path} does not exist or is not a file")
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise VarFileError(f"--var-file: {path} must end in .yaml, .yml or .json (what chaos run reads)")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise VarFileError(f"--var-file: {path} is not valid YAML/JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("configuration", {}), dict):
        raise VarFileError(f'--var-file: {path} must be a mapping {{"configuration": {{...}}}}')
    config: dict[str, Any] = dict(data.get("configuration") or {})
    target = config.get("target", "local")
    if target not in TARGETS:
        raise VarFileError(
            f"--var-file: {path}: configuration.target must be one of {', '.join(TARGETS)}, got {target!r}"
        )
    return config


def env_value(value: Any) -> str | None:
    """A configuration value as an environment string (lists comma-joined); None if not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ",".join(str(v) for v in value)
    return None
