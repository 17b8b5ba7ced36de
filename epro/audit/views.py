"""The audit trail in the UI and on the command line (registered by init_app)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the audit blueprint and CLI commands."""
