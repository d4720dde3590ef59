"""The bundled demo site: a local replica of the Foshan High-tech Zone disclosure section."""

from .pages import Resource, build
from .server import DemoSite, SiteServer

__all__ = ["DemoSite", "Resource", "SiteServer", "build"]
