"""Follow-up dates done right: the rules a day 0 or a rescheduled date must keep, correcting day 0 with
a reason, and withdrawing a patient from the study. Pure rules in `rules`, audited changes in `changes`,
pages in `routes`."""

from flask import Flask


def init_app(app: Flask) -> None:
    from epro.followup.routes import bp

    app.register_blueprint(bp)
