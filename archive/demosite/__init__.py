"""The bundled demo site: a local replica of the Foshan High-tech Zone disclosure section."""

from .pages import build
from .server import DemoSite

__all__ = ["DemoSite", "build"]
