"""The yardsticks of the tablet benchmark: a bare Flask-WTF app rendered from a Jinja template like epro's
pages, with CSRF.

- `/question`: one page holding one form; its POST validates and redirects back (no database).
- `/answer`: the same page after reading one row from SQLite; its POST validates the form and commits one
  row to SQLite with exactly epro's settings (WAL, epro's synchronous level, BEGIN IMMEDIATE, epro's busy
  timeout), then redirects back. The database file is `BENCH_BARE_DATABASE` (default: a temporary file).

    BENCH_BARE_DATABASE=/tmp/bare.sqlite3 gunicorn 'bench.bare_app:create_app()'
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading

from flask import Flask, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from jinja2 import DictLoader
from wtforms import HiddenField, RadioField

from epro.db import BUSY_TIMEOUT_MS, SYNCHRONOUS

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Question</title></head>
<body><form method="post" action="{{ url_for(endpoint) }}">
{{ form.csrf_token }}{{ form.token }}
{% for option in form.value %}<label>{{ option }} {{ option.label.text }}</label>{% endfor %}
<button type="submit">Next</button>{% if last is not none %}<p>{{ last }}</p>{% endif %}
</form></body></html>"""


class QuestionForm(FlaskForm):
    token = HiddenField()
    value = RadioField(choices=[(str(n), f"Option {n}") for n in range(5)])


def _connect(path: str) -> sqlite3.Connection:
    """A connection set up as epro sets up its own (epro.db)."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    return connection


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench-bare-app", WTF_CSRF_TIME_LIMIT=None)
    app.jinja_loader = DictLoader({"question.html": PAGE})  # compiled once, cached like epro's
    CSRFProtect(app)
    path = os.environ.get("BENCH_BARE_DATABASE") or os.path.join(tempfile.mkdtemp(), "bare.sqlite3")
    setup = _connect(path)
    setup.execute("CREATE TABLE IF NOT EXISTS answer (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    setup.close()
    local = threading.local()

    def database() -> sqlite3.Connection:
        if getattr(local, "pid", None) != os.getpid():  # one connection per thread and worker process
            local.connection, local.pid = _connect(path), os.getpid()
        return local.connection

    @app.route("/question", methods=["GET", "POST"])
    def question() -> ResponseReturnValue:
        form = QuestionForm(token="bench")
        if form.validate_on_submit():
            return redirect(url_for("question"))
        return render_template("question.html", form=form, endpoint="question", last=None)

    @app.route("/answer", methods=["GET", "POST"])
    def answer() -> ResponseReturnValue:
        form = QuestionForm(token="bench")
        connection = database()
        if form.validate_on_submit():
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute("INSERT INTO answer (value) VALUES (?)", (int(form.value.data),))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            return redirect(url_for("answer"))
        connection.execute("BEGIN")
        row = connection.execute("SELECT value FROM answer ORDER BY id DESC LIMIT 1").fetchone()
        connection.execute("COMMIT")
        return render_template("question.html", form=form, endpoint="answer", last=row and row[0])

    return app
