"""LB and VS from the clinical core: one record per value entered, in the unit it was entered in.

Measures the measure set files under "SPONSOR" (ICG R15, diuretic doses, ascites and encephalopathy grades)
have no LB/VS test code and are left out of the package (they are in the long export). Missed visits are in
SV (SVOCCUR = N); no NOT DONE records are made for laboratory values, which are not due at every visit.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

from sqlmodel import Session

from epro.clinical.measures import load_measure_set
from epro.clinical.queries import StudyValue, study_values
from epro.exports.columns import iso_date
from epro.exports.definitions import visit_label
from epro.sdtm.common import StudyFacts, ascii_text, flag_baseline, sdtm_day

DOMAINS = ("LB", "VS")


def clinical_rows(db: Session, facts: StudyFacts) -> dict[str, list[dict[str, object]]]:
    """domain -> records, subject by subject, each subject's numbered and flagged on its own."""
    found: dict[str, list[dict[str, object]]] = {domain: [] for domain in DOMAINS}
    values = (v for v in study_values(db) if v.procedure_date is not None)
    for _subject, group in groupby(values, key=lambda v: v.study_id):
        subject = list(group)
        for domain in DOMAINS:
            records = list(_records(subject, domain, facts))
            if not records:
                continue
            flag_baseline(records, subject[0].procedure_date, domain)  # type: ignore[arg-type]
            for sequence, record in enumerate(records, start=1):
                record[f"{domain}SEQ"] = sequence
            found[domain].extend(records)
    return found


def _records(subject: list[StudyValue], domain: str, facts: StudyFacts) -> Iterator[dict[str, object]]:
    p = domain
    for value in subject:
        measure = load_measure_set(value.measure_set).get(value.measure_code)
        if measure.domain != domain:
            continue
        text = measure.format(value.value, "en")
        unit = value.unit or None
        assert value.protocol_code and value.protocol_version and value.procedure_date
        yield {
            "STUDYID": facts.studyid,
            "DOMAIN": domain,
            "USUBJID": facts.usubjid(value.study_id),
            f"{p}TESTCD": measure.code,
            f"{p}TEST": ascii_text(measure.test),
            f"{p}ORRES": text,
            f"{p}ORRESU": unit,
            f"{p}STRESC": text,
            f"{p}STRESN": float(value.value_number) if value.value_number is not None else None,
            f"{p}STRESU": unit,
            f"{p}STAT": None,
            f"{p}REASND": None,
            "VISITNUM": value.visit_number,
            "VISIT": ascii_text(
                visit_label(value.protocol_code, value.protocol_version, value.visit_code, "en")
            ),
            f"{p}DTC": iso_date(value.sample_date),
            f"{p}DY": sdtm_day(value.procedure_date, value.sample_date),
        }
