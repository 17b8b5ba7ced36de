"""Investigator outputs: exports (routes and CLI commands registered by init_app)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprint and CLI commands."""
