"""Test harness: a fresh database per run (SQLite or PostgreSQL), the real app, clients per role,
and a real browser against a real server.

Pick the backend with LORAFACE_TEST_DATABASE=sqlite|postgresql (make test runs both)."""

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Base
from app.main import create_app
from app.models import import_all_models
from app.seed import seed_all
from tests import factories
from tests.databases import fresh_database

BACKEND = os.environ.get("LORAFACE_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get("LORAFACE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHROMIUM = os.environ.get("LORAFACE_TEST_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def pytest_report_header(config):
    return f"loraface test database: {BACKEND}"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("loraface-data")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    """A brand-new database for this run, migrated with Alembic (so migrations are tested too)."""
    if BACKEND not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"unknown LORAFACE_TEST_DATABASE {BACKEND!r}")
    admin_url = PG_ADMIN_URL if BACKEND == "postgresql" else None
    with fresh_database(pg_admin_url=admin_url, data_dir=data_dir, prefix="loraface_test") as url:
        yield url


@pytest.fixture(scope="session")
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        worker="off",
        secret_key="test-secret-key-not-for-production",
    )


@pytest.fixture(scope="session")
def app(settings: Settings):
    return create_app(settings, start_worker=False)


def _truncate_all(app) -> None:
    import_all_models()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    engine = app.state.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # procrastinate's deliveries and workers too (its tables are not in our metadata).
            tables += [
                "procrastinate_events",
                "procrastinate_periodic_defers",
                "procrastinate_jobs",
                "procrastinate_workers",
            ]
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def _fresh_state(request, settings: Settings):
    """Each test starts from an empty, seeded database and an empty data directory."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    _truncate_all(app)
    shutil.rmtree(settings.data_dir / "users", ignore_errors=True)
    with app.state.sessionmaker() as db:
        seed_all(db=db, settings=settings)
        db.commit()
    yield


@pytest.fixture
def db(app) -> Iterator[Session]:
    with app.state.sessionmaker() as session:
        yield session


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    """An anonymous browser-like client (cookies kept, no redirects followed)."""
    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token a page hands this client, read from its hidden form field."""
    response = client.get(path)
    match = CSRF_INPUT.search(response.text)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def login(client: TestClient, email: str, password: str = factories.PASSWORD):
    """Sign in through the real form, as a browser does."""
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def client_as(app, db) -> Iterator[Callable[..., TestClient]]:
    """client_as("reviewer") -> a signed-in browser client for a new user of that role.
    The client has `.user` and `.csrf` (for X-CSRF-Token on unsafe requests)."""
    opened: list[TestClient] = []

    def make(role: str = "learner", **kwargs) -> TestClient:
        user = factories.make_user(db, role=role, **kwargs)
        db.commit()
        c = TestClient(app, follow_redirects=False)
        opened.append(c)
        response = login(c, user.email)
        assert response.status_code == 303, response.text
        c.user = user
        c.csrf = csrf_token(c, "/account")
        c.headers["X-CSRF-Token"] = c.csrf
        return c

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def api_as(app, db) -> Iterator[Callable[..., TestClient]]:
    """api_as("learner") -> a client that authenticates with a Bearer token, like a script."""
    opened: list[TestClient] = []

    def make(role: str = "learner", **kwargs) -> TestClient:
        user = factories.make_user(db, role=role, **kwargs)
        raw = factories.make_token(db, user)
        db.commit()
        c = TestClient(app, follow_redirects=False, headers={"Authorization": f"Bearer {raw}"})
        opened.append(c)
        c.user = user
        c.token = raw
        return c

    yield make
    for c in opened:
        c.close()


# ---- real server + real browser ----


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The app served by uvicorn on a free port, in a thread of this process."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (no browser download; the network is closed)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}; `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) with the live server as its base URL."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    pg = context.new_page()
    yield pg
    context.close()
