"""Typed errors of the library; the CLI turns each into one clear line."""

from __future__ import annotations


class GovArchiveError(Exception):
    """Base class: an expected failure with a message fit for the user."""


class EmptyArchive(GovArchiveError):
    """The data directory holds no database yet."""


class UnknownURL(GovArchiveError):
    """The archive has never seen this URL."""


class UnknownVersion(GovArchiveError):
    """The page has no version with this number."""


class BadQuery(GovArchiveError):
    """A search query the index cannot answer."""


class SiteProfileError(GovArchiveError):
    """A site profile is missing or invalid."""
