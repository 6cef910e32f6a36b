"""Settings read from the environment (prefix LORAFACE_), see CONTRACT.md."""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set; each field maps to LORAFACE_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="LORAFACE_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str = ""  # empty: SQLite inside data_dir
    base_model: str | None = None  # unset: the tiny demo SDXL, built locally
    worker: Literal["thread", "off"] = "thread"
    # How workers learn of waiting jobs: `procrastinate` (PostgreSQL only) delivers each job
    # through procrastinate's queue; `database` polls training_jobs. auto: procrastinate on
    # PostgreSQL, database on SQLite. Either way training_jobs decides who runs what.
    queue: Literal["auto", "database", "procrastinate"] = "auto"
    secret_key: str = ""  # empty: generated once into data_dir/secret_key

    # Sessions and sign-in.
    session_max_age_days: int = 14
    cookie_secure: Literal["auto", "always", "never"] = "auto"  # auto: Secure when served over https
    hsts_seconds: int = 31_536_000  # Strict-Transport-Security max-age on https answers; 0: not sent
    login_max_failures_per_account: int = 5  # within login_window_minutes, then 429
    login_max_failures_per_address: int = 20
    login_window_minutes: int = 15

    # What one training job may need (see app.trainer.limits); set it to the GPU's memory.
    job_memory_budget_gb: float = 24.0

    # Uploads.
    max_upload_bytes: int = Field(default=100 * 1024 * 1024)  # one request, all files together
    # Training photos are deleted this many days after a job last used their dataset (the default choice).
    photo_retention_days: int = Field(default=30, ge=0)
    # How often a running server looks for photos whose period ended (app/datasets/retention_clock.py).
    retention_check_seconds: float = Field(default=3600, gt=0)

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'loraface.db'}"
        return self

    @property
    def uses_procrastinate(self) -> bool:
        """Whether jobs are delivered through procrastinate (needs PostgreSQL)."""
        is_pg = self.database_url.startswith("postgresql")
        if self.queue == "procrastinate" and not is_pg:
            raise ValueError("LORAFACE_QUEUE=procrastinate needs a PostgreSQL LORAFACE_DATABASE_URL")
        return self.queue == "procrastinate" or (self.queue == "auto" and is_pg)

    def ensure_data_dir(self) -> Path:
        """Create the data directory if needed and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.ensure_data_dir() / "secret_key"
        if not path.exists():
            # O_EXCL so two processes starting together agree on one key.
            try:
                with open(path, "x") as fh:
                    fh.write(secrets.token_urlsafe(48))
                path.chmod(0o600)
            except FileExistsError:
                pass
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own Settings and pass them to create_app)."""
    return Settings()
