"""Build step that ships the sample stack's services and the guide's experiments in the wheel.

They live outside the package in the repository (``cluster/services``, ``experiments``: the images
and the guide use them there), so the wheel gets a copy under ``chaosext/_bundle`` laid out like the
repository. At run time :mod:`chaosext.bundle` uses the checkout when there is one, else that copy:
one source, never a second copy in git. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# repository path -> (path under chaosext/_bundle, files to take)
BUNDLED: dict[str, tuple[str, tuple[str, ...]]] = {
    "experiments": ("experiments", ("*.json", "demos/*.json")),
    "cluster/services": (
        "cluster/services",
        ("requirements.txt", "checkout_api/*.py", "order_consumer/*.py", "payment_service/*.py", "servicekit/*.py"),
    ),
}


def bundled_files() -> dict[Path, str]:
    """Every file the wheel bundles: repository path -> its path under ``chaosext/_bundle``."""
    files: dict[Path, str] = {}
    for source, (target, patterns) in BUNDLED.items():
        root = HERE / source
        if not root.is_dir():
            raise SystemExit(f"setup.py: {root} is missing: build from a checkout or a full sdist")
        for pattern in patterns:
            for path in sorted(root.glob(pattern)):
                files[path] = f"{target}/{path.relative_to(root).as_posix()}"
    return files


class BuildWithBundle(build_py):
    """``build_py`` that also copies :data:`BUNDLED` into ``chaosext/_bundle`` of the build."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install runs from the checkout, which has them
            return
        bundle = Path(self.build_lib) / "chaosext" / "_bundle"
        if bundle.exists():
            shutil.rmtree(bundle)
        for source, target in bundled_files().items():
            dest = bundle / target
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)


setup(cmdclass={"build_py": BuildWithBundle})
