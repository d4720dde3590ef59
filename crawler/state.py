"""The crawl's read-only view of the archive (archive/state.py), one per crawler.

Which implementation answers is a setting, ``GOVARCHIVE_STATE``: the data directory's database by
default, a Redis snapshot for a cluster worker (archive/cluster.py).
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object

from archive.state import ArchiveState


def archive_state(crawler: Crawler) -> ArchiveState:
    """The ArchiveState of this crawl (made on first use, shared by the spider and the middlewares)."""
    state = getattr(crawler, "_govarchive_state", None)
    if state is None:
        state = load_object(crawler.settings["GOVARCHIVE_STATE"]).from_settings(crawler.settings)
        crawler._govarchive_state = state
    return state
