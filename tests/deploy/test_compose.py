"""docker-compose.yml is valid for Docker Compose and has the scale-out shape of DESIGN.md, and
deploy/nginx.conf proxies to the web replicas with keep-alive (and passes `nginx -t` where nginx
happens to be installed). Compose validates without a Docker daemon.

`make test` sets LORAFACE_TEST_REQUIRE_COMPOSE=1 (and `make system-deps` installs docker-compose),
so there a missing Compose fails instead of skipping."""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SHARED_ENV = ("LORAFACE_DATABASE_URL", "LORAFACE_DATA_DIR", "LORAFACE_SECRET_KEY")


def _runs(command: list[str]) -> bool:
    try:
        return subprocess.run([*command, "version"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def compose() -> list[str]:
    """`docker compose` (the CLI plugin) if it works, else `docker-compose` (Debian ships 1.29)."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if _runs(command):
            return command
    reason = "neither `docker compose` nor `docker-compose` works here (`make system-deps` installs one)"
    if os.environ.get("LORAFACE_TEST_REQUIRE_COMPOSE") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _config(compose: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*compose, "-f", str(COMPOSE_FILE), "config", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def services(compose) -> dict:
    """The services as Compose resolved them (anchors merged, defaults filled in)."""
    result = _config(compose)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE items
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _command(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def test_compose_file_is_valid(compose):
    result = _config(compose, "-q")
    assert result.returncode == 0, f"{' '.join(compose)} config -q: {result.stderr}"


def test_compose_has_the_scale_out_shape(services):
    assert {"postgres", "migrate", "web", "proxy", "worker"} <= set(services)
    web, worker = services["web"], services["worker"]
    assert web["deploy"]["replicas"] == 2
    assert _env(web)["LORAFACE_WORKER"] == "off"  # training belongs to the worker service
    assert _command(worker)[:2] == ["loraface", "worker"]
    assert _command(services["migrate"])[:2] == ["loraface", "migrate"]
    for name in ("postgres", "web", "proxy"):
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"


def test_compose_starts_things_in_order_on_shared_state(services):
    def condition(service: str, on: str) -> str:
        return services[service]["depends_on"][on]["condition"]

    assert condition("migrate", "postgres") == "service_healthy"
    assert condition("web", "migrate") == condition("worker", "migrate") == "service_completed_successfully"
    assert condition("proxy", "web") == "service_healthy"
    # Web processes, workers and the migration see one database and one data directory.
    apps = [services[name] for name in ("migrate", "web", "worker")]
    assert len({tuple(_env(s).get(key) for key in SHARED_ENV) for s in apps}) == 1
    assert "@postgres:" in _env(services["web"])["LORAFACE_DATABASE_URL"]
    data_dir = _env(services["web"])["LORAFACE_DATA_DIR"]
    for service in apps:
        mounts = [
            v if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}" for v in service["volumes"]
        ]
        assert any(m.split(":")[1] == data_dir and m.split(":")[0] == "data" for m in mounts), mounts
    proxy_mounts = [v if isinstance(v, str) else v.get("source", "") for v in services["proxy"]["volumes"]]
    assert any("deploy/nginx.conf" in m for m in proxy_mounts)


def test_nginx_proxies_to_the_web_replicas_with_keepalive():
    conf = NGINX_CONF.read_text()
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)
    assert upstream, "no upstream block"
    name, block = upstream.groups()
    assert re.search(r"^\s*server\s+web:8000\b", block, re.M), "the upstream is not the web service's port"
    assert re.search(r"^\s*keepalive\s+\d+;", block, re.M)
    assert re.search(rf"proxy_pass\s+http://{name};", conf)
    # Keep-alive to the upstream needs HTTP/1.1 and an empty Connection header.
    assert re.search(r"proxy_http_version\s+1\.1;", conf)
    assert re.search(r'proxy_set_header\s+Connection\s+"";', conf)
    size = re.search(r"client_max_body_size\s+(\d+)([km]?);", conf)
    assert size, "no client_max_body_size: nginx would refuse uploads over 1 MB"
    limit = int(size.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[size.group(2)]
    assert limit >= Settings.model_fields["max_upload_bytes"].default


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed here")
def test_nginx_accepts_the_config(tmp_path):
    # nginx -t resolves upstream names, and `web` exists only inside Compose's network.
    (tmp_path / "default.conf").write_text(NGINX_CONF.read_text().replace("server web:", "server 127.0.0.1:"))
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include {tmp_path}/default.conf;\n}}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
