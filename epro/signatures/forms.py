"""The signing form: meaning, user name (first signature of a sign-in session), password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import InputRequired, Length

from epro.form_choices import SelectChoice

MEANING_WORDS = {"reviewed": _l("Reviewed"), "approved": _l("Approved")}


class SignForm(FlaskForm):
    meaning = RadioField(
        _l("Meaning of the signature"),
        choices=[SelectChoice(code, label) for code, label in MEANING_WORDS.items()],
        validators=[InputRequired(_l("Choose what your signature means."))],
    )
    username = StringField(
        _l("User name"), validators=[InputRequired(_l("Enter your user name.")), Length(max=64)]
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired(_l("Enter your password.")), Length(max=256)]
    )
    #: The hash of the data the page showed: signing is refused if the data changed since.
    content_sha256 = HiddenField()
