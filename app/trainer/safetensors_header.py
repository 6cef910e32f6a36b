"""Read a .safetensors file's tensor names from its JSON header, without reading any weights."""

import json
from pathlib import Path

from app.trainer.errors import BaseModelError

_HEADER_LIMIT = 100_000_000  # a safetensors header is JSON; anything larger is not one


def safetensors_keys(path: Path) -> list[str]:
    """Tensor names from a .safetensors header (no weights are read)."""
    try:
        with open(path, "rb") as fh:
            length = int.from_bytes(fh.read(8), "little")
            if not 0 < length < _HEADER_LIMIT:
                raise ValueError("bad header length")
            header = json.loads(fh.read(length))
        if not isinstance(header, dict):
            raise ValueError("header is not a table")
    except (OSError, ValueError, UnicodeDecodeError):
        raise BaseModelError(f"{path} is not a model: it is not a readable .safetensors file") from None
    return [k for k in header if k != "__metadata__"]
