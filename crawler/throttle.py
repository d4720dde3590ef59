"""AutoThrottle that counts a 304 as a healthy answer.

Scrapy's AutoThrottle never lowers the delay on a non-200 response (error pages are small and fast,
and would otherwise speed a crawl into a failing server). A 304 Not Modified is the normal answer
of a recrawl with conditional requests; without this, an unchanged site is recrawled at the start
delay's pace.
"""

from __future__ import annotations

from scrapy.extensions.throttle import AutoThrottle


class ConditionalAutoThrottle(AutoThrottle):
    """AutoThrottle, with 304 treated like 200 when adjusting the delay."""

    def _adjust_delay(self, slot, latency, response) -> None:  # noqa: ANN001 - Scrapy's signature
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
