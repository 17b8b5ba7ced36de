"""Locale chain and formatting: patient's session language -> staff preference -> chosen language ->
Accept-Language -> Korean. Dates are shown in the clinic's time zone."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel
from flask_login import current_user

from epro.questionnaires.patient_mode import shown_language


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    kiosk_language = shown_language()
    if kiosk_language is not None and kiosk_language in languages:
        return kiosk_language
    if getattr(current_user, "is_authenticated", False) and current_user.preferred_language in languages:
        return current_user.preferred_language
    chosen = session.get("language")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["CLINIC_TIMEZONE"]


babel = Babel()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/../translations"))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
