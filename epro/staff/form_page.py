"""The one way a staff form fails: the page that holds the form is rendered again, with the user's input
and translated errors beside the fields, and a 4xx status (400 invalid input, 409 a state conflict).
Never a redirect with an error status (browsers do not follow it and the input is lost).

Usage in a view:  ``return form_page("staff/x.html", form=form, **context)`` — the status is 200 unless a
form in the context carries errors (then 400, or the ``status`` given). ``add_error`` attaches a message
from a domain exception to a field (or to the form as a whole, shown above its fields).
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_wtf import FlaskForm

INVALID = 400
CONFLICT = 409


def add_error(form: FlaskForm, message: str, field: str | None = None) -> None:
    """Attach a translated message to one field, or to the form as a whole (form.form_errors)."""
    if field is None:
        form.form_errors = [*form.form_errors, message]
        return
    target = form[field]
    target.errors = [*target.errors, message]


def has_errors(form: FlaskForm) -> bool:
    return bool(form.form_errors) or any(field.errors for field in form)


def form_page(template: str, *, status: int | None = None, **context: Any) -> tuple[str, int]:
    """Render the page of the form(s); 400 (or `status`) when any form in the context has errors."""
    failed = any(isinstance(value, FlaskForm) and has_errors(value) for value in context.values())
    return render_template(template, **context), (status or INVALID) if failed else 200
