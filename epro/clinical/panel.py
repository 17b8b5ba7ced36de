"""What the visit page shows of a visit's clinical indices: each measure's value, and Child-Pugh derived."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from epro.clinical.characteristics import Characteristic, baseline_child_pugh, characteristics_for
from epro.clinical.child_pugh import ChildPugh, child_pugh
from epro.clinical.measures import Measure, MeasureSet, measure_set_for
from epro.clinical.queries import patient_characteristics, visit_values
from epro.models import ClinicalValue, Patient, PatientCharacteristic, Visit
from epro.schedule import Protocol, load_protocol


@dataclass(frozen=True, slots=True)
class PanelLine:
    measure: Measure
    value: ClinicalValue | None

    def text(self, language: str) -> str:
        return "" if self.value is None else self.measure.format(self.value.value, language)


@dataclass(frozen=True, slots=True)
class VisitPanel:
    visit: Visit
    protocol: Protocol
    measure_set: MeasureSet
    lines: tuple[PanelLine, ...]
    child_pugh: ChildPugh | None

    @property
    def coagulation_measure(self) -> Measure | None:
        """The measure whose value gave the coagulation points (INR or PT activity)."""
        return None if self.child_pugh is None else self.measure_set.get(self.child_pugh.coagulation)

    @property
    def preferred_coagulation(self) -> Measure:
        """The criterion the protocol prefers, named on the page even before any value is entered."""
        return self.measure_set.get(self.protocol.child_pugh_coagulation[0])


def visit_panel(db: Session, visit: Visit, patient: Patient) -> VisitPanel | None:
    """None when the patient's protocol collects no clinical measures at this visit."""
    if patient.protocol_code is None:
        return None
    protocol = load_protocol(patient.protocol_code, patient.protocol_version)
    if not protocol.measure_set:
        return None
    measure_set = measure_set_for(protocol)
    measures = measure_set.for_visit(visit.code)
    if not measures:
        return None
    assert visit.id is not None
    values = visit_values(db, visit.id)
    score = child_pugh({code: v.value for code, v in values.items()}, protocol.child_pugh_coagulation)
    return VisitPanel(
        visit=visit,
        protocol=protocol,
        measure_set=measure_set,
        lines=tuple(PanelLine(m, values.get(m.code)) for m in measures),
        child_pugh=score,
    )


@dataclass(frozen=True, slots=True)
class BaselineView:
    characteristics: tuple[Characteristic, ...]
    values: dict[str, PatientCharacteristic]
    child_pugh: ChildPugh | None
    measure_set: MeasureSet | None

    def coagulation_label(self, language: str) -> str:
        if self.child_pugh is None or self.measure_set is None:
            return ""
        return self.measure_set.get(self.child_pugh.coagulation).label(language)


def baseline_view(db: Session, patient: Patient) -> BaselineView | None:
    """None before enrolment (the protocol defines the characteristics)."""
    if patient.protocol_code is None:
        return None
    protocol = load_protocol(patient.protocol_code, patient.protocol_version)
    assert patient.id is not None
    values = patient_characteristics(db, patient.id)
    return BaselineView(
        characteristics=characteristics_for(protocol),
        values=values,
        child_pugh=baseline_child_pugh({code: row.value for code, row in values.items()}, protocol),
        measure_set=measure_set_for(protocol) if protocol.measure_set else None,
    )
