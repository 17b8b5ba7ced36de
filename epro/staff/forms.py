from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length


class SignInForm(FlaskForm):
    username = StringField(
        _l("User name"), validators=[InputRequired(_l("Enter your user name.")), Length(max=64)]
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired(_l("Enter your password.")), Length(max=256)]
    )


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""
