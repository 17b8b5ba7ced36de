"""Parts of the tablet's pages that depend only on the page language and on data shipped with the code (an
item's question and options, the text-size control, the idle warning), rendered once per process and
reused: the question page renders only what changes per request around them. Profiled, these parts were
about half of a question page's time (11 Korean options, a dozen catalogue look-ups, escaping).

The cache is bounded by what ships: templates x languages x items x choices. With template auto-reload on
(development) every fragment is rendered afresh."""

from __future__ import annotations

from collections.abc import Hashable

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup

from epro.kiosk import bp
from epro.questionnaires.steps import Step

_rendered: dict[tuple[Hashable, ...], Markup] = {}


def fragment(template: str, key: tuple[Hashable, ...] = (), **context: object) -> Markup:
    """`template` rendered with `context` in the page language; `key` names all that `context` changes in
    the output (the same key must always mean the same output)."""
    cache_key = (template, str(get_locale()), *key)
    html = _rendered.get(cache_key)
    if html is None or current_app.jinja_env.auto_reload:
        html = _rendered[cache_key] = Markup(render_template(template, **context))
    return html


@bp.app_template_global("kiosk_fragment")
def static_fragment(template: str) -> Markup:
    """A fragment without data (the text-size control, the idle warning): only the language changes it."""
    return fragment(template)


def question_fieldset(step: Step, chosen: int | None) -> Markup:
    """A question's text and its choices, `chosen` checked."""
    key = (step.instrument.code, step.instrument.version, step.item.code, chosen)
    return fragment("kiosk/_question_fieldset.html", key, step=step, chosen=chosen)
