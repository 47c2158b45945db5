"""The build backend of luminal-photon (PEP 517), standard library only.

pip builds a wheel from ./protocol/python without fetching anything: `requires` is empty, so an
offline machine (no setuptools and wheel from the package index) builds and installs it too. It
packs the one package the project table names, with its py.typed, into a pure-Python wheel.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tomllib
import zipfile
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "luminal_photon"


def _project() -> dict[str, Any]:
    """The [project] table of pyproject.toml."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def _metadata(project: dict[str, Any]) -> str:
    """METADATA (core metadata 2.1) for the project table."""
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}",
             f"Summary: {project['description']}", f"Requires-Python: {project['requires-python']}",
             f"License: {project['license']['text']}"]
    lines += [f"Classifier: {classifier}" for classifier in project.get("classifiers", [])]
    return "\n".join(lines) + "\n"


def _record_line(name: str, data: bytes) -> str:
    """A RECORD row: the path, its sha256 (urlsafe base64, no padding) and its size."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    """Nothing beyond this file is needed to build."""
    return []


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    """Writes the wheel into `wheel_directory` and returns its file name."""
    project = _project()
    distribution = re.sub(r"[-_.]+", "_", project["name"]).lower()
    info = f"{distribution}-{project['version']}.dist-info"
    files: list[tuple[str, bytes]] = []
    package = os.path.join(ROOT, PACKAGE)
    for name in sorted(os.listdir(package)):
        if name.endswith(".py") or name == "py.typed":
            with open(os.path.join(package, name), "rb") as file:
                files.append((f"{PACKAGE}/{name}", file.read()))
    files.append((f"{info}/METADATA", _metadata(project).encode()))
    files.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: photon_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
    record = [_record_line(name, data) for name, data in files] + [f"{info}/RECORD,,"]
    files.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    wheel_name = f"{distribution}-{project['version']}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            wheel.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return wheel_name
