"""docker/ is kept correct by reading (no Docker engine here); these checks read it as a
machine would: the compose file parses, every secret it asks for is in .env.example, every
setting it gives the app is one the app reads, every file it mounts or builds exists, and
the app containers are exactly Varnish's backends."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from service.core.settings import Settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_every_variable_compose_asks_for_is_in_the_example_env() -> None:
    asked = set(re.findall(r"\$\{([A-Z_]+)[:?}-]", (DOCKER / "compose.yaml").read_text()))
    example = (DOCKER / ".env.example").read_text()
    given = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    defaulted = set(re.findall(r"\$\{([A-Z_]+):-", (DOCKER / "compose.yaml").read_text()))
    assert asked - defaulted <= given, sorted(asked - defaulted - given)


def test_every_setting_given_to_the_app_is_one_it_reads() -> None:
    known = {f"REGISTRY_{name.upper()}" for name in Settings.model_fields}
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        known |= set(getattr(alias, "choices", []) or [])
    env = COMPOSE["x-registry-env"]
    assert set(env) <= known, sorted(set(env) - known)


def test_mounted_and_built_files_exist_and_scripts_run() -> None:
    for name, service in COMPOSE["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.startswith("./backups"):
                path = DOCKER / source
                assert path.exists(), (name, source)
                if path.suffix == ".sh":
                    assert os.access(path, os.X_OK), (name, source)
        build = service.get("build")
        if build:
            context = DOCKER / build["context"]
            assert (context / build.get("dockerfile", "Dockerfile")).exists(), name


def test_the_app_containers_are_varnish_s_backends() -> None:
    apps = {name for name, s in COMPOSE["services"].items() if s.get("command", [""])[0] == "serve"}
    vcl = (DOCKER / "varnish" / "default.vcl").read_text()
    hosts = set(re.findall(r'\.host = "([^"]+)"', vcl))
    directed = set(re.findall(r"apps\.add_backend\((\w+)\)", vcl))
    declared = set(re.findall(r"^backend (\w+)", vcl, re.MULTILINE))
    assert apps and hosts == apps and directed == declared
