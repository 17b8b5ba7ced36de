"""Clinical indices beside the scores: measures defined as data (laboratory values, weight, diuretic dose,
ascites and encephalopathy grades), entered by nurses at visits, baseline characteristics at enrolment, and
the Child-Pugh score derived from them (never typed)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from epro import db
    from epro.clinical.panel import BaselineView, VisitPanel, baseline_view, visit_panel
    from epro.clinical.routes import bp
    from epro.models import Patient, Visit

    app.register_blueprint(bp)

    def clinical_panel(visit: Visit) -> VisitPanel | None:
        session = db.session()
        patient = session.get(Patient, visit.patient_id)
        return None if patient is None else visit_panel(session, visit, patient)

    def clinical_baseline(patient: Patient) -> BaselineView | None:
        return baseline_view(db.session(), patient)

    app.add_template_global(clinical_panel, "clinical_panel")
    app.add_template_global(clinical_baseline, "clinical_baseline")
