from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class KioskForm(FlaskForm):
    """Every tablet form echoes the session token: a page from another (or an ended) session is refused."""

    token = HiddenField()
