"""The deployment kit: the image runs as a non-root user with a data volume and a health
check; the compose file has a database, a one-shot migration, two workers and a proxy.

`docker compose config` validates the file where Docker's compose plugin is installed; the
image is not built here (no registry access in CI)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]


def test_the_image_runs_unprivileged_with_a_volume_and_a_health_check() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert "USER qualiopi" in lines
    assert any(line.startswith("VOLUME") and "/data" in line for line in lines)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert 'CMD ["qualiopi-bot", "health"]' in lines, "health asked on the configured port"
    assert not [line for line in lines if "urlopen" in line], "no port written in the check"
    assert lines[-1] == 'CMD ["qualiopi-bot", "run"]'


def test_metrics_are_never_published_with_the_webhook() -> None:
    """The proxy publishes the webhook only; /health and /metrics are on another port that
    no service publishes (scraped inside the compose network)."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("worker1", "worker2"):
        env = services[name]["environment"]
        assert env["HEALTH_PORT"] != env["WEBHOOK_PORT"]
        assert "ports" not in services[name]
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert published == ["8080:8080"], "only the proxy"
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "location /telegram" in nginx
    for exposed in ("/metrics", "/health", "9090"):
        assert exposed not in nginx
    for timeout in ("client_header_timeout", "client_body_timeout"):
        assert timeout in nginx


def test_compose_runs_two_workers_on_postgresql_after_one_migration() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "migrate", "worker1", "worker2", "proxy"} <= set(services)
    assert services["migrate"]["command"] == ["qualiopi-bot", "migrate"]
    for name in ("worker1", "worker2"):
        worker = services[name]
        assert worker["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert worker["environment"]["MIGRATE_ON_START"] == "false"
        assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "worker1:8443" in nginx
    assert "worker2:8443" in nginx


def _compose() -> list[str] | None:
    """Docker Compose v2, which reads the Compose Specification the file is written in (the
    legacy Python ``docker-compose`` 1.x, end of life since 2023, refuses ``name:`` and an
    optional ``env_file``)."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(command[0]):
            continue
        probe = subprocess.run(
            [*command, "version"], capture_output=True, text=True, check=False, timeout=30
        )
        major = re.search(r"version v?(\d+)\.", probe.stdout)
        if probe.returncode == 0 and major and int(major.group(1)) >= 2:
            return command
    return None


@pytest.mark.skipif(_compose() is None, reason="Docker Compose v2 is not installed here")
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=x\nTELEGRAM_BOT_TOKEN=1:x\n")
    command = _compose()
    assert command is not None
    done = subprocess.run(
        [*command, "-f", str(ROOT / "compose.yaml"), "--env-file", str(env), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def _docker_daemon() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _docker_daemon(), reason="no Docker daemon here")
def test_the_image_builds_and_answers_in_its_terminal_mode() -> None:
    tag = "qualiopi-bot:ci"
    built = subprocess.run(
        ["docker", "build", "-q", "-t", tag, str(ROOT)],
        capture_output=True, text=True, check=False, timeout=1200,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    ran = subprocess.run(
        ["docker", "run", "--rm", "-i", tag, "qualiopi-bot", "evaluate", "-"],
        input='{"role": "employed_trainer"}', capture_output=True, text=True, check=False,
        timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert '"verdict": "not_required"' in ran.stdout


def _locked(path: Path) -> dict[str, list[tuple[str, str, int]]]:
    """name → [(version, marker, hashes)] of a ``uv pip compile --generate-hashes`` file."""
    found: dict[str, list[tuple[str, str, int]]] = {}
    entry = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
    current: list[tuple[str, str, int]] | None = None
    for line in path.read_text().splitlines():
        match = entry.match(line)
        if match:
            name = match.group(1).lower().replace("_", "-")
            current = found.setdefault(name, [])
            current.append((match.group(2), (match.group(3) or "").strip(), 0))
        elif line.strip().startswith("--hash=sha256:") and current:
            version, marker, hashes = current[-1]
            current[-1] = (version, marker, hashes + 1)
    return found


def test_the_lock_files_pin_every_dependency_with_hashes() -> None:
    """requirements.lock (the image) and requirements-dev.lock (CI, ``make``) hold every
    dependency of pyproject.toml at a version its range allows, each with its hashes, and
    agree with each other; ``make lock`` writes them again."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _locked(ROOT / "requirements.lock")
    dev = _locked(ROOT / "requirements-dev.lock")
    assert len(runtime) >= 40, "the whole tree, not only the direct dependencies"
    for name, entries in runtime.items():
        for version, _, hashes in entries:
            assert hashes >= 1, name
            assert (version, hashes) in [(v, h) for v, _, h in dev[name]], name
    for spec in (*project["dependencies"], *project["optional-dependencies"]["dev"]):
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        pins = dev[name] if spec in project["optional-dependencies"]["dev"] else runtime[name]
        for version, _, _ in pins:
            assert requirement.specifier.contains(version, prereleases=True), (spec, version)
    docker = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in docker
    assert "--require-hashes -r requirements-dev.lock" in (ROOT / "Makefile").read_text()


def test_the_alert_rules_name_only_metrics_the_bot_exports() -> None:
    """deploy/alerts.yml: well-formed Prometheus rules whose every ``qualiopi_`` metric is
    one the bot exports (a renamed metric would leave an alert that never fires)."""
    from bot import metrics

    rules = yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text())
    exported = set()
    for family in metrics.REGISTRY.collect():
        exported |= {sample.name for sample in family.samples} | {family.name}
        if family.type == "counter":  # a labelled counter has no sample before its first use
            exported.add(f"{family.name}_total")
    named = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule
            assert rule["labels"]["severity"] in ("page", "ticket")
            for name in re.findall(r"\bqualiopi_[a-z0-9_]+", rule["expr"]):
                named += 1
                assert name in exported, (rule["alert"], name)
    assert named >= 10
    promtool = shutil.which("promtool")
    if promtool:
        done = subprocess.run(
            [promtool, "check", "rules", str(ROOT / "deploy" / "alerts.yml")],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_compose_yaml_follows_the_compose_specification() -> None:
    """compose.yaml against the Compose Specification's own JSON Schema (vendored, see
    deploy/schema/README.md), on any machine, Docker or not."""
    import json

    import jsonschema

    schema = json.loads((ROOT / "deploy" / "schema" / "compose-spec.json").read_text())
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    validator = jsonschema.Draft7Validator(schema)  # what its "$schema" names
    validator.validate(compose)
    misspelt = {**compose, "servics": compose["services"]}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(misspelt)
