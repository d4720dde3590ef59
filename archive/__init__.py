"""govarchive's archive: WARC files (the record of truth), the SQLite history built from them, queries."""

__version__ = "0.1.0"


def __getattr__(name: str):  # lazy, so `import archive.warc` stays light
    if name == "Archive":
        from .api import Archive

        return Archive
    raise AttributeError(name)
