"""The yardstick of the tablet benchmark: a bare Flask-WTF app with one page holding one form with CSRF,
and its POST (validate, redirect back), rendered from a Jinja template like epro's pages.

    gunicorn 'bench.bare_app:create_app()'
"""

from __future__ import annotations

from flask import Flask, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from jinja2 import DictLoader
from wtforms import HiddenField, RadioField

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Question</title></head>
<body><form method="post" action="{{ url_for('question') }}">
{{ form.csrf_token }}{{ form.token }}
{% for option in form.value %}<label>{{ option }} {{ option.label.text }}</label>{% endfor %}
<button type="submit">Next</button>
</form></body></html>"""


class QuestionForm(FlaskForm):
    token = HiddenField()
    value = RadioField(choices=[(str(n), f"Option {n}") for n in range(5)])


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench-bare-app", WTF_CSRF_TIME_LIMIT=None)
    app.jinja_loader = DictLoader({"question.html": PAGE})  # compiled once, cached like epro's
    CSRFProtect(app)

    @app.route("/question", methods=["GET", "POST"])
    def question():  # type: ignore[no-untyped-def]
        form = QuestionForm(token="bench")
        if form.validate_on_submit():
            return redirect(url_for("question"))
        return render_template("question.html", form=form)

    return app
