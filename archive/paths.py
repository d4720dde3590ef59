"""Where a data directory keeps things: its location, its WARC files, its database file."""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "govarchive.db"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the data directory: the argument, $GOVARCHIVE_DATA, or ./archive-data."""
    return Path(path or os.environ.get("GOVARCHIVE_DATA") or "archive-data")


def warc_dir(data: Path) -> Path:
    """Return where the WARC files of a data directory live."""
    return data / "warcs"
