"""Dataset and variable metadata after SDTMIG 3.4: names, labels, types, core, origin, code lists.

One place describes every variable; the XPT and Dataset-JSON writers, define.xml and the conformance tests
all read it, so the files cannot disagree with their description.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    label: str
    #: "text", "integer", "float", "date" (ISO 8601 character date) or "partialDate" (define.xml types).
    data_type: str = "text"
    #: SDTMIG core: "Req", "Exp" or "Perm".
    core: str = "Perm"
    #: define.xml origin: "Collected", "Derived", "Assigned" or "Protocol".
    origin: str = "Collected"
    #: Code list OID suffix (CL.<codelist>) when the values come from one.
    codelist: str | None = None
    #: How a derived value is computed (define.xml MethodDef), in English.
    method: str | None = None

    @property
    def numeric(self) -> bool:
        return self.data_type in ("integer", "float")


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    label: str
    #: SDTM observation class as define.xml names it.
    observation_class: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]
    reference_data: bool = False

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


def _ids() -> tuple[Variable, ...]:
    return (
        Variable("STUDYID", "Study Identifier", core="Req", origin="Assigned"),
        Variable("DOMAIN", "Domain Abbreviation", core="Req", origin="Assigned", codelist="DOMAIN"),
        Variable("USUBJID", "Unique Subject Identifier", core="Req", origin="Assigned"),
    )


STUDY_DAY_METHOD = (
    "Study day from RFSTDTC (day 0, the procedure date): date - RFSTDTC + 1 on or after RFSTDTC, "
    "date - RFSTDTC before it; there is no day 0."
)
BASELINE_METHOD = (
    "Y on the last record with a result assessed on or before RFSTDTC (day 0), per subject and test "
    "(epro.baseline); a record transcribed later keeps its assessment date."
)
SEQ_METHOD = "Numbers each subject's records from 1, in visit order, then test order."

DM = Dataset(
    "DM",
    "Demographics",
    "SPECIAL PURPOSE",
    "One record per subject",
    ("STUDYID", "USUBJID"),
    (
        *_ids(),
        Variable("SUBJID", "Subject Identifier for the Study", core="Req"),
        Variable(
            "RFSTDTC",
            "Subject Reference Start Date/Time",
            "date",
            "Exp",
            method="RFSTDTC = the procedure date (day 0) entered at enrolment.",
        ),
        Variable(
            "RFENDTC",
            "Subject Reference End Date/Time",
            "date",
            "Exp",
            "Derived",
            method="Latest visit or assessment date of the subject.",
        ),
        Variable("RFXSTDTC", "Date/Time of First Study Treatment", "date", "Exp"),
        Variable("RFXENDTC", "Date/Time of Last Study Treatment", "date", "Exp"),
        Variable("RFICDTC", "Date/Time of Informed Consent", "date", "Exp"),
        Variable(
            "RFPENDTC",
            "Date/Time of End of Participation",
            "date",
            "Exp",
            "Derived",
            method=(
                "The withdrawal date (DS) for a withdrawn subject; otherwise the latest visit or "
                "assessment date of the subject (the last contact)."
            ),
        ),
        Variable("DTHDTC", "Date/Time of Death", "date", "Exp"),
        Variable("DTHFL", "Subject Death Flag", core="Exp", codelist="NY"),
        Variable("SITEID", "Study Site Identifier", core="Req", origin="Assigned"),
        Variable("BRTHDTC", "Date/Time of Birth", "partialDate", "Perm"),
        Variable(
            "AGE",
            "Age",
            "integer",
            "Exp",
            "Derived",
            method="Year of RFSTDTC minus birth year (only the birth year is collected).",
        ),
        Variable("AGEU", "Age Units", core="Exp", origin="Assigned", codelist="AGEU"),
        Variable("SEX", "Sex", core="Req", codelist="SEX"),
        Variable("RACE", "Race", core="Exp"),
        Variable("ARMCD", "Planned Arm Code", core="Exp", origin="Assigned", codelist="ARMCD"),
        Variable("ARM", "Description of Planned Arm", core="Exp", origin="Assigned", codelist="ARM"),
        Variable("ACTARMCD", "Actual Arm Code", core="Exp", origin="Assigned", codelist="ARMCD"),
        Variable("ACTARM", "Description of Actual Arm", core="Exp", origin="Assigned", codelist="ARM"),
        Variable("ARMNRS", "Reason Arm and/or Actual Arm is Null", core="Exp"),
        Variable("ACTARMUD", "Description of Unplanned Actual Arm", core="Exp"),
        Variable("COUNTRY", "Country", core="Req", origin="Assigned", codelist="COUNTRY"),
    ),
)

SV = Dataset(
    "SV",
    "Subject Visits",
    "SPECIAL PURPOSE",
    "One record per actual or planned visit per subject",
    ("STUDYID", "USUBJID", "VISITNUM"),
    (
        *_ids(),
        Variable("VISITNUM", "Visit Number", "integer", "Req", "Protocol", codelist="VISITNUM"),
        Variable("VISIT", "Visit Name", core="Perm", origin="Protocol", codelist="VISIT"),
        Variable("SVPRESP", "Pre-specified", core="Perm", origin="Assigned", codelist="NY"),
        Variable("SVOCCUR", "Occurrence", core="Perm", codelist="NY"),
        Variable("SVREASOC", "Reason for Occur Value", core="Perm"),
        Variable("VISITDY", "Planned Study Day of Visit", "integer", "Perm", "Protocol"),
        Variable("SVSTDTC", "Start Date/Time of Visit", "date", "Exp"),
        Variable("SVENDTC", "End Date/Time of Visit", "date", "Exp"),
        Variable(
            "SVSTDY", "Study Day of Start of Visit", "integer", "Perm", "Derived", method=STUDY_DAY_METHOD
        ),
        Variable(
            "SVENDY", "Study Day of End of Visit", "integer", "Perm", "Derived", method=STUDY_DAY_METHOD
        ),
    ),
)


def _findings(
    prefix: str,
    testcd_label: str,
    test_label: str,
    dtc_label: str,
    dy_label: str,
    *,
    units: bool,
    cat_label: str | None,
) -> tuple[Variable, ...]:
    p = prefix
    unit_vars = (Variable(f"{p}ORRESU", "Original Units", core="Exp", codelist="UNIT"),) if units else ()
    std_unit = (
        (
            Variable(
                f"{p}STRESU",
                "Standard Units",
                core="Exp",
                origin="Derived",
                codelist="UNIT",
                method="The unit the value was entered in (no conversion).",
            ),
        )
        if units
        else ()
    )
    return (
        *_ids(),
        Variable(f"{p}SEQ", "Sequence Number", "integer", "Req", "Derived", method=SEQ_METHOD),
        Variable(f"{p}TESTCD", testcd_label, core="Req", origin="Assigned", codelist=f"{p}TESTCD"),
        Variable(f"{p}TEST", test_label, core="Req", origin="Assigned", codelist=f"{p}TEST"),
        *(
            (
                Variable(
                    f"{p}CAT",
                    cat_label,
                    core="Req" if p == "QS" else "Exp",
                    origin="Assigned",
                    codelist=f"{p}CAT",
                ),
            )
            if cat_label
            else ()
        ),
        Variable(
            f"{p}ORRES",
            "Result or Finding in Original Units" if units else "Finding in Original Units",
            core="Exp",
        ),
        *unit_vars,
        Variable(
            f"{p}STRESC",
            "Character Result/Finding in Std Format",
            core="Exp",
            origin="Derived",
            method="The result as entered, as text (a category's code, a number as entered).",
        ),
        Variable(
            f"{p}STRESN",
            "Numeric Result/Finding in Standard Units" if units else "Numeric Finding in Standard Units",
            "float" if units else "integer",
            "Exp",
            "Derived",
            method="The numeric result; empty when there is none (never 0).",
        ),
        *std_unit,
        Variable(
            f"{p}STAT",
            "Completion Status",
            core="Perm",
            origin="Derived",
            codelist="ND",
            method="NOT DONE when the visit was marked missed.",
        ),
        Variable(f"{p}REASND", "Reason Not Performed", core="Perm"),
        Variable(
            f"{p}LOBXFL",
            "Last Observation Before Exposure Flag",
            core="Exp",
            origin="Derived",
            codelist="NY",
            method=BASELINE_METHOD,
        ),
        Variable(
            f"{p}BLFL", "Baseline Flag", core="Perm", origin="Derived", codelist="NY", method=BASELINE_METHOD
        ),
        Variable("VISITNUM", "Visit Number", "integer", "Exp", "Protocol", codelist="VISITNUM"),
        Variable("VISIT", "Visit Name", core="Perm", origin="Protocol", codelist="VISIT"),
        Variable(f"{p}DTC", dtc_label, "date", "Exp"),
        Variable(f"{p}DY", dy_label, "integer", "Perm", "Derived", method=STUDY_DAY_METHOD),
    )


QS = Dataset(
    "QS",
    "Questionnaires",
    "FINDINGS",
    "One record per questionnaire per question per visit per subject",
    ("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "VISITNUM"),
    (
        *_findings(
            "QS",
            "Question Short Name",
            "Question Name",
            "Date/Time of Finding",
            "Study Day of Finding",
            units=False,
            cat_label="Category of Question",
        ),
        Variable(
            "QSEVLINT",
            "Evaluation Interval",
            core="Perm",
            origin="Assigned",
            method="The instrument's recall period as an ISO 8601 duration (the past week: -P1W); empty for 'today'.",
        ),
    ),
)


def supp(parent: str) -> Dataset:
    """SUPP-- of a parent domain: one row per qualifier of a parent record, found by IDVAR/IDVARVAL."""
    return Dataset(
        f"SUPP{parent}",
        f"Supplemental Qualifiers for {parent}",
        "RELATIONSHIP",
        "One record per IDVAR, IDVARVAL, and QNAM value per subject",
        ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
        (
            Variable("STUDYID", "Study Identifier", core="Req", origin="Assigned"),
            Variable(
                "RDOMAIN", "Related Domain Abbreviation", core="Req", origin="Assigned", codelist="DOMAIN"
            ),
            Variable("USUBJID", "Unique Subject Identifier", core="Req", origin="Assigned"),
            Variable("IDVAR", "Identifying Variable", core="Exp", origin="Assigned"),
            Variable("IDVARVAL", "Identifying Variable Value", core="Exp", origin="Assigned"),
            Variable("QNAM", "Qualifier Variable Name", core="Req", origin="Assigned", codelist="QNAM"),
            Variable("QLABEL", "Qualifier Variable Label", core="Req", origin="Assigned"),
            Variable("QVAL", "Data Value", core="Req"),
            Variable("QORIG", "Origin", core="Req", origin="Assigned"),
            Variable("QEVAL", "Evaluator", core="Exp", origin="Assigned"),
        ),
    )


SUPPQS = supp("QS")

TS = Dataset(
    "TS",
    "Trial Summary",
    "TRIAL DESIGN",
    "One record per trial summary parameter value",
    ("STUDYID", "TSPARMCD", "TSSEQ"),
    (
        Variable("STUDYID", "Study Identifier", core="Req", origin="Assigned"),
        Variable("DOMAIN", "Domain Abbreviation", core="Req", origin="Assigned", codelist="DOMAIN"),
        Variable("TSSEQ", "Sequence Number", "integer", "Req", "Assigned"),
        Variable(
            "TSPARMCD",
            "Trial Summary Parameter Short Name",
            core="Req",
            origin="Assigned",
            codelist="TSPARMCD",
        ),
        Variable("TSPARM", "Trial Summary Parameter", core="Req", origin="Assigned", codelist="TSPARM"),
        Variable("TSVAL", "Parameter Value", core="Exp", origin="Protocol"),
        Variable("TSVALNF", "Parameter Null Flavor", core="Perm", origin="Assigned"),
        Variable("TSVALCD", "Parameter Value Code", core="Exp", origin="Assigned"),
        Variable("TSVCDREF", "Name of the Reference Terminology", core="Exp", origin="Assigned"),
        Variable("TSVCDVER", "Version of the Reference Terminology", core="Exp", origin="Assigned"),
    ),
    reference_data=True,
)

LB = Dataset(
    "LB",
    "Laboratory Test Results",
    "FINDINGS",
    "One record per lab test per visit per subject",
    ("STUDYID", "USUBJID", "LBTESTCD", "VISITNUM"),
    _findings(
        "LB",
        "Lab Test or Examination Short Name",
        "Lab Test or Examination Name",
        "Date/Time of Specimen Collection",
        "Study Day of Specimen Collection",
        units=True,
        cat_label=None,
    ),
)

VS = Dataset(
    "VS",
    "Vital Signs",
    "FINDINGS",
    "One record per vital sign measurement per visit per subject",
    ("STUDYID", "USUBJID", "VSTESTCD", "VISITNUM"),
    _findings(
        "VS",
        "Vital Signs Test Short Name",
        "Vital Signs Test Name",
        "Date/Time of Measurements",
        "Study Day of Vital Signs",
        units=True,
        cat_label=None,
    ),
)

DS = Dataset(
    "DS",
    "Disposition",
    "EVENTS",
    "One record per disposition status or protocol milestone per subject",
    ("STUDYID", "USUBJID", "DSDECOD", "DSSTDTC"),
    (
        *_ids(),
        Variable("DSSEQ", "Sequence Number", "integer", "Req", "Derived", method=SEQ_METHOD),
        Variable("DSTERM", "Reported Term for the Disposition Event", core="Req"),
        Variable(
            "DSDECOD",
            "Standardized Disposition Term",
            core="Req",
            origin="Derived",
            codelist="NCOMPLT",
            method=(
                "COMPLETED when the protocol's last visit took place; for a withdrawal, the CDISC term the "
                "reason names (death, adverse event, lost to follow-up, withdrawal by subject, physician "
                "decision, matched on words of the reason in English or Korean), else OTHER."
            ),
        ),
        Variable("DSCAT", "Category for Disposition Event", core="Exp", origin="Assigned", codelist="DSCAT"),
        Variable(
            "DSSTDTC",
            "Start Date/Time of Disposition Event",
            "date",
            "Exp",
            method="The withdrawal date entered by staff, or the actual date of the last protocol visit.",
        ),
        Variable(
            "DSSTDY",
            "Study Day of Start of Disposition Event",
            "integer",
            "Perm",
            "Derived",
            method=STUDY_DAY_METHOD,
        ),
    ),
)

CM = Dataset(
    "CM",
    "Concomitant/Concurrent Medications",
    "INTERVENTIONS",
    "One record per medication per visit per subject",
    ("STUDYID", "USUBJID", "CMTRT", "VISITNUM"),
    (
        *_ids(),
        Variable("CMSEQ", "Sequence Number", "integer", "Req", "Derived", method=SEQ_METHOD),
        Variable("CMSPID", "Sponsor-Defined Identifier", core="Perm", origin="Assigned", codelist="CMSPID"),
        Variable(
            "CMTRT", "Reported Name of Drug, Med, or Therapy", core="Req", origin="Protocol", codelist="CMTRT"
        ),
        Variable("CMDECOD", "Standardized Medication Name", core="Exp", origin="Assigned"),
        Variable("CMCAT", "Category for Medication", core="Perm", origin="Assigned", codelist="CMCAT"),
        Variable("CMPRESP", "CM Pre-specified", core="Perm", origin="Assigned", codelist="NY"),
        Variable(
            "CMOCCUR",
            "CM Occurrence",
            core="Perm",
            origin="Derived",
            codelist="NY",
            method="Y when the daily dose entered is above 0; N when it is 0 (not taking it).",
        ),
        Variable("CMDOSTOT", "Total Daily Dose", "float", "Perm"),
        Variable("CMDOSU", "Dose Units", core="Perm", codelist="UNIT"),
        Variable("VISITNUM", "Visit Number", "integer", "Perm", "Protocol", codelist="VISITNUM"),
        Variable("VISIT", "Visit Name", core="Perm", origin="Protocol", codelist="VISIT"),
        Variable("CMDTC", "Date/Time of Collection", "date", "Perm"),
        Variable(
            "CMDY",
            "Study Day of Visit/Collection/Exam",
            "integer",
            "Perm",
            "Derived",
            method=STUDY_DAY_METHOD,
        ),
    ),
)

FA = Dataset(
    "FA",
    "Findings About Events or Interventions",
    "FINDINGS ABOUT",
    "One record per finding, per object, per time point, per visit per subject",
    ("STUDYID", "USUBJID", "FATESTCD", "FAOBJ", "VISITNUM"),
    (
        *_ids(),
        Variable("FASEQ", "Sequence Number", "integer", "Req", "Derived", method=SEQ_METHOD),
        Variable("FASPID", "Sponsor-Defined Identifier", core="Perm", origin="Assigned", codelist="FASPID"),
        Variable(
            "FATESTCD", "Findings About Test Short Name", core="Req", origin="Assigned", codelist="FATESTCD"
        ),
        Variable("FATEST", "Findings About Test Name", core="Req", origin="Assigned", codelist="FATEST"),
        Variable("FAOBJ", "Object of the Observation", core="Req", origin="Assigned", codelist="FAOBJ"),
        Variable("FAORRES", "Result or Finding in Original Units", core="Exp"),
        Variable(
            "FASTRESC",
            "Character Result/Finding in Std Format",
            core="Exp",
            origin="Derived",
            codelist="FASTRESC",
            method="The sponsor's code of the grade entered (see the code list).",
        ),
        Variable(
            "FASTAT",
            "Completion Status",
            core="Perm",
            origin="Derived",
            codelist="ND",
            method="NOT DONE when the visit was marked missed.",
        ),
        Variable("FAREASND", "Reason Not Performed", core="Perm"),
        Variable(
            "FALOBXFL",
            "Last Observation Before Exposure Flag",
            core="Exp",
            origin="Derived",
            codelist="NY",
            method=BASELINE_METHOD,
        ),
        Variable(
            "FABLFL", "Baseline Flag", core="Perm", origin="Derived", codelist="NY", method=BASELINE_METHOD
        ),
        Variable("VISITNUM", "Visit Number", "integer", "Exp", "Protocol", codelist="VISITNUM"),
        Variable("VISIT", "Visit Name", core="Perm", origin="Protocol", codelist="VISIT"),
        Variable("FADTC", "Date/Time of Collection", "date", "Exp"),
        Variable("FADY", "Study Day of Collection", "integer", "Perm", "Derived", method=STUDY_DAY_METHOD),
    ),
)

SUPPLB, SUPPVS, SUPPCM, SUPPFA = (supp(name) for name in ("LB", "VS", "CM", "FA"))

#: In the order define.xml lists them (SDTM's usual order: special purpose, interventions, events, findings,
#: findings about, relationship, trial design).
DATASETS: dict[str, Dataset] = {
    d.name: d for d in (DM, SV, CM, DS, QS, LB, VS, FA, SUPPQS, SUPPLB, SUPPVS, SUPPCM, SUPPFA, TS)
}
