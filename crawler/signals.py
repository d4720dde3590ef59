"""govarchive's own Scrapy signals (sent with ``crawler.signals.send_catch_log``)."""

# A download failed for good (after retries): request, exception. The archive extension records it.
fetch_failed = object()
# The browser received a response while rendering a page: exchange (archive.warc.Exchange), request
# (the page's).
# Receivers return a pipelines.links.Discovery of where it leads.
browser_response = object()
