from __future__ import annotations

from functools import cache

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.i18n import messages_path


@cache
def _wtforms_translations(locale: str) -> support.Translations | support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class KioskForm(FlaskForm):
    """Every tablet form echoes the session token: a page from another (or an ended) session is refused."""

    token = HiddenField()

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: FlaskForm) -> support.Translations | support.NullTranslations:
            # Flask-WTF reads WTForms' catalogue from disk for every form; the tablet loads it once.
            return _wtforms_translations(str(get_locale()))
