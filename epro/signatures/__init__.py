"""Investigators' electronic signatures over a patient's data (21 CFR 11.50, 11.70, 11.100, 11.200, 11.300).

For other features:
- ``state_for(db, patient_ids) -> {patient_id: SignatureState}``: unsigned / signed / superseded (with the
  signer's printed name, role, meaning, UTC and clinic time), a few queries for any number of patients;
  the study page calls it. ``templates/signatures/_state.html`` shows one state (variable ``signature``).
- ``signed_content(db, patient_ids)``: the one canonical serialisation of the data a signature covers.
"""

from __future__ import annotations

from flask import Flask

from epro.signatures.content import SignedContent, content_of, signed_content
from epro.signatures.state import SignatureFacts, SignatureState, SignatureStatus, state_for, state_of

__all__ = [
    "SignatureFacts",
    "SignatureState",
    "SignatureStatus",
    "SignedContent",
    "content_of",
    "init_app",
    "signed_content",
    "state_for",
    "state_of",
]


def init_app(app: Flask) -> None:
    from epro.signatures import words
    from epro.signatures.routes import bp

    app.register_blueprint(bp)
    app.jinja_env.globals["signature_words"] = words
