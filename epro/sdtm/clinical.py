"""LB, VS, CM and FA from the clinical core: one record per value entered, in the unit it was entered in, and
SUPPLB/SUPPVS/SUPPCM/SUPPFA for a value confirmed outside its usual range or corrected after entry.

Where each measure goes (the reasons are in epro/exports/README.md, "The SDTM package"):
- LB and VS measures under their codes (CDISC codes where the measure set says so);
- ICGR15 in LB under the sponsor-defined LBTESTCD ICGR15 (no CDISC code exists);
- the diuretic daily doses (SPIRDOSE, FUROSEMIDE) as pre-specified concomitant medications in CM
  (CMPRESP = Y, CMOCCUR = Y with CMDOSTOT in mg, or N for a dose of 0), CMSPID = the measure code;
- the ascites and encephalopathy grades as findings about the condition in FA (FATESTCD = SEV,
  FAOBJ = the condition), FASTRESC = the sponsor's grade code.
Missed visits are in SV (SVOCCUR = N); no NOT DONE records are made for clinical values, which are not due at
every visit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from sqlmodel import Session

from epro.clinical.measures import Measure, load_measure_set
from epro.clinical.queries import StudyValue, study_values
from epro.exports.columns import iso_date
from epro.sdtm.common import StudyFacts, ascii_text, flag_baseline, sdtm_day
from epro.visit_labels import visit_label

DOMAINS = ("LB", "VS", "CM", "FA")
#: The supplemental qualifiers of a clinical record, per domain prefix: QNAM suffix -> (QLABEL, QORIG).
CLINICAL_QUALIFIERS = {
    "OORCF": ("Out-of-Usual-Range Value Confirmed", "Collected"),
    "CORR": ("Corrected After Entry", "Derived"),
}
#: FA's test: the severity (grade) of the condition named in FAOBJ.
FA_TEST = ("SEV", "Severity/Intensity")
#: CM: the dose unit of a daily dose (CMDOSTOT is a total daily dose, so mg/day is written mg).
DAILY_UNITS = {"mg/day": "mg"}


@dataclass(frozen=True, slots=True)
class Home:
    """Where a measure goes in SDTM: its domain and, for CM and FA, the treatment or the condition."""

    domain: str
    treatment: str | None = None
    condition: str | None = None


#: Homes of the measures the measure set files under "SPONSOR" (no LB/VS test code in CDISC CT).
SPONSOR_HOMES = {
    "ICGR15": Home("LB"),
    "SPIRDOSE": Home("CM", treatment="SPIRONOLACTONE"),
    "FURODOSE": Home("CM", treatment="FUROSEMIDE"),
    "ASCITES": Home("FA", condition="ASCITES"),
    "ENCEPH": Home("FA", condition="HEPATIC ENCEPHALOPATHY"),
}


def home(measure: Measure) -> Home | None:
    """The SDTM home of a measure; None for a sponsor measure with none (left out, listed as a warning)."""
    if measure.domain in ("LB", "VS"):
        return Home(measure.domain)
    return SPONSOR_HOMES.get(measure.code)


@dataclass(slots=True)
class ClinicalRows:
    #: domain -> records; domain -> SUPP rows; measure codes left out (no home).
    records: dict[str, list[dict[str, object]]]
    supp: dict[str, list[dict[str, object]]]
    left_out: set[str]


def clinical_rows(db: Session, facts: StudyFacts) -> ClinicalRows:
    """domain -> records, subject by subject, each subject's numbered and flagged on its own."""
    found = ClinicalRows({d: [] for d in DOMAINS}, {d: [] for d in DOMAINS}, set())
    values = (v for v in study_values(db) if v.procedure_date is not None)
    for _subject, group in groupby(values, key=lambda v: v.study_id):
        subject = list(group)
        for domain in DOMAINS:
            made = list(_records(subject, domain, facts, found.left_out))
            if not made:
                continue
            records = [record for record, _value in made]
            day0 = subject[0].procedure_date
            if domain != "CM" and day0 is not None:
                flag_baseline(records, day0, domain)
            for sequence, (record, value) in enumerate(made, start=1):
                record[f"{domain}SEQ"] = sequence
                found.supp[domain].extend(_supp(domain, record, value))
            found.records[domain].extend(records)
    return found


def _supp(domain: str, record: dict[str, object], value: StudyValue) -> Iterator[dict[str, object]]:
    qualifiers = []
    if value.out_of_range:
        qualifiers.append("OORCF")
    if value.corrected:
        qualifiers.append("CORR")
    for suffix in qualifiers:
        label, origin = CLINICAL_QUALIFIERS[suffix]
        yield {
            "STUDYID": record["STUDYID"],
            "RDOMAIN": domain,
            "USUBJID": record["USUBJID"],
            "IDVAR": f"{domain}SEQ",
            "IDVARVAL": str(record[f"{domain}SEQ"]),
            "QNAM": f"{domain}{suffix}",
            "QLABEL": label,
            "QVAL": "Y",
            "QORIG": origin,
            "QEVAL": None,
        }


def _records(
    subject: list[StudyValue], domain: str, facts: StudyFacts, left_out: set[str]
) -> Iterator[tuple[dict[str, object], StudyValue]]:
    for value in subject:
        measure = load_measure_set(value.measure_set).get(value.measure_code)
        where = home(measure)
        if where is None:
            left_out.add(measure.code)
            continue
        if where.domain != domain:
            continue
        assert value.protocol_code and value.protocol_version and value.procedure_date
        common = {
            "STUDYID": facts.studyid,
            "DOMAIN": domain,
            "USUBJID": facts.usubjid(value.study_id),
        }
        visit = {
            "VISITNUM": value.visit_number,
            "VISIT": ascii_text(
                visit_label(value.protocol_code, value.protocol_version, value.visit_code).en
            ),
            f"{domain}DTC": iso_date(value.sample_date),
            f"{domain}DY": sdtm_day(value.procedure_date, value.sample_date),
        }
        if domain == "CM":
            dose = value.value_number if value.value_number is not None and value.value_number > 0 else None
            taken = dose is not None
            yield (
                {
                    **common,
                    "CMSPID": measure.code,
                    "CMTRT": where.treatment,
                    "CMDECOD": None,
                    "CMCAT": "DIURETIC",
                    "CMPRESP": "Y",
                    "CMOCCUR": "Y" if taken else "N",
                    "CMDOSTOT": None if dose is None else float(dose),
                    "CMDOSU": DAILY_UNITS.get(value.unit, value.unit) if taken else None,
                    **visit,
                },
                value,
            )
            continue
        if domain == "FA":
            yield (
                {
                    **common,
                    "FASPID": measure.code,
                    "FATESTCD": FA_TEST[0],
                    "FATEST": FA_TEST[1],
                    "FAOBJ": where.condition,
                    "FAORRES": ascii_text(measure.format(value.value_code, "en")),
                    "FASTRESC": value.value_code,
                    "FASTAT": None,
                    "FAREASND": None,
                    **visit,
                },
                value,
            )
            continue
        text = measure.format(value.value, "en")
        unit = value.unit or None
        yield (
            {
                **common,
                f"{domain}TESTCD": measure.code,
                f"{domain}TEST": ascii_text(measure.test),
                f"{domain}ORRES": text,
                f"{domain}ORRESU": unit,
                f"{domain}STRESC": text,
                f"{domain}STRESN": float(value.value_number) if value.value_number is not None else None,
                f"{domain}STRESU": unit,
                f"{domain}STAT": None,
                f"{domain}REASND": None,
                **visit,
            },
            value,
        )
