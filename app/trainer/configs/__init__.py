"""Model configs shipped with the project, so base models load with no model hub."""

from pathlib import Path

from app.trainer.configs.generate import ensure_tokenizers

CONFIGS = Path(__file__).resolve().parent


def shipped_configs() -> Path:
    """The shipped config folders, with their tokenizers built on first use."""
    ensure_tokenizers()
    return CONFIGS
