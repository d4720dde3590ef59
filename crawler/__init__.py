"""govarchive's Scrapy project: spiders, middlewares, the archive extension, settings."""
