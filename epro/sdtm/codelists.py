"""The code lists define.xml refers to: CDISC controlled terminology (with NCI codes) and the sponsor's own
(the project's test codes, visits, categories, supplemental qualifier names). Domain and trial summary
parameter lists name the values used without claiming NCI codes the package does not carry."""

from __future__ import annotations

from epro import instruments
from epro.clinical.measures import MeasureSet
from epro.exports.definitions import category, qs_test_code, qs_test_name
from epro.schedule import Protocol
from epro.sdtm.clinical import CLINICAL_QUALIFIERS, DAILY_UNITS, DOMAINS, FA_TEST, home
from epro.sdtm.common import StudyFacts, ascii_text
from epro.sdtm.define import CodeList, Term
from epro.sdtm.qs import NOT_DONE, SUPP_QUALIFIERS
from epro.sdtm.subjects import DISPOSITION_EVENT, NCOMPLT_TERMS, planned_day
from epro.sdtm.tables import Table


def _korean(text: str, with_korean: bool) -> str | None:
    return text if with_korean else None


def codelists(
    tables: list[Table],
    facts: StudyFacts,
    protocols: list[Protocol],
    measure_sets: list[MeasureSet],
    with_korean: bool,
) -> dict[str, CodeList]:
    lists = [
        CodeList("NY", terms=[Term("Y", "Yes", nci="C49488"), Term("N", "No", nci="C49487")], nci="C66742"),
        CodeList(
            "SEX", terms=[Term("M", "Male", nci="C20197"), Term("F", "Female", nci="C16576")], nci="C66731"
        ),
        CodeList("AGEU", terms=[Term("YEARS", "Years", nci="C29848")], nci="C66781"),
        CodeList("ND", terms=[Term(NOT_DONE, "Not Done", nci="C49484")], nci="C66789"),
        CodeList("COUNTRY", external=("ISO 3166-1 alpha-3", "2020")),
        CodeList(
            "DOMAIN",
            terms=[Term(t.spec.name) for t in tables if not t.spec.name.startswith("SUPP")],
            nci="C66734",
        ),
        CodeList("ARMCD", terms=[Term(facts.armcd, facts.arm)]),
        CodeList("ARM", terms=[Term(facts.arm)]),
        CodeList(
            "QNAM",
            terms=[Term(qnam, label) for qnam, (label, _origin) in SUPP_QUALIFIERS.items()]
            + [
                Term(f"{domain}{suffix}", label)
                for domain in DOMAINS
                for suffix, (label, _origin) in CLINICAL_QUALIFIERS.items()
            ],
        ),
        CodeList(
            "NCOMPLT",
            terms=[Term(term, term.title(), nci=nci) for term, nci in NCOMPLT_TERMS.items()],
            nci="C66727",
        ),
        CodeList("DSCAT", terms=[Term(DISPOSITION_EVENT[0], nci=DISPOSITION_EVENT[1])], nci="C74558"),
    ]
    visit_numbers = CodeList("VISITNUM", data_type="integer")
    visit_names = CodeList("VISIT")
    for protocol in protocols:
        for visit in protocol.visits:
            if any(t.coded == str(visit.number) for t in visit_numbers.terms):
                continue  # a later protocol version with the same visit numbers
            english = ascii_text(visit.label("en"))
            visit_numbers.terms.append(
                Term(
                    str(visit.number),
                    f"{english} (planned study day {planned_day(visit.day)})",
                    _korean(visit.label("ko"), with_korean),
                )
            )
            visit_names.terms.append(Term(english))
    test_codes, test_names, categories = CodeList("QSTESTCD"), CodeList("QSTEST"), CodeList("QSCAT")
    for (_code, _version), instrument in sorted(instruments.all_instruments().items()):
        for item in instrument.items:
            code = qs_test_code(instrument, item)
            if all(t.coded != code for t in test_codes.terms):
                name = ascii_text(qs_test_name(instrument, item, "en"))
                test_codes.terms.append(
                    Term(code, name, _korean(qs_test_name(instrument, item, "ko"), with_korean))
                )
                test_names.terms.append(Term(name))
        if all(t.coded != category(instrument) for t in categories.terms):
            categories.terms.append(
                Term(
                    category(instrument),
                    ascii_text(instrument.name("en")),
                    _korean(instrument.name("ko"), with_korean),
                )
            )
    lists += _clinical_lists(measure_sets)
    ts = next((t for t in tables if t.spec.name == "TS"), None)
    ts_rows = ts.rows if ts else []
    lists += [
        visit_numbers,
        visit_names,
        test_codes,
        test_names,
        categories,
        CodeList(
            "TSPARMCD",
            terms=[Term(str(r["TSPARMCD"]), str(r["TSPARM"])) for r in ts_rows],
        ),
        CodeList("TSPARM", terms=[Term(str(r["TSPARM"])) for r in ts_rows]),
    ]
    return {c.name: c for c in lists}


#: NCI codes of the CDISC code lists for LB and VS test codes and names, and units.
CLINICAL_LISTS = {"LB": ("C65047", "C67154"), "VS": ("C66741", "C67153")}


def _clinical_lists(measure_sets: list[MeasureSet]) -> list[CodeList]:
    """LBTESTCD/LBTEST, VSTESTCD/VSTEST, UNIT, and CM's and FA's lists from the measure sets (each measure
    where epro.sdtm.clinical.home puts it): CDISC codes as they are, the sponsor's own marked as extensions."""
    lists: list[CodeList] = []
    units = CodeList("UNIT", nci="C71620")
    measures = [m for measure_set in measure_sets for m in measure_set.measures]

    def add_unit(unit: str) -> None:
        if unit and all(t.coded != unit for t in units.terms):
            units.terms.append(Term(unit))

    for domain, (codes_nci, names_nci) in CLINICAL_LISTS.items():
        codes, names = CodeList(f"{domain}TESTCD", nci=codes_nci), CodeList(f"{domain}TEST", nci=names_nci)
        for measure in measures:
            where = home(measure)
            if where is None or where.domain != domain or any(t.coded == measure.code for t in codes.terms):
                continue
            test = ascii_text(measure.test)
            codes.terms.append(Term(measure.code, test, sponsor=not measure.cdisc))
            names.terms.append(Term(test, sponsor=not measure.cdisc))
            add_unit(measure.unit)
        lists += [codes, names]
    cm_ids, treatments = CodeList("CMSPID"), CodeList("CMTRT")
    fa_ids, conditions, grades = CodeList("FASPID"), CodeList("FAOBJ"), CodeList("FASTRESC")
    for measure in measures:
        where = home(measure)
        if where is None or any(t.coded == measure.code for t in (*cm_ids.terms, *fa_ids.terms)):
            continue
        if where.domain == "CM" and where.treatment:
            cm_ids.terms.append(Term(measure.code, ascii_text(measure.test)))
            if all(t.coded != where.treatment for t in treatments.terms):
                treatments.terms.append(Term(where.treatment))
            add_unit(DAILY_UNITS.get(measure.unit, measure.unit))
        elif where.domain == "FA" and where.condition:
            fa_ids.terms.append(Term(measure.code, ascii_text(measure.test)))
            if all(t.coded != where.condition for t in conditions.terms):
                conditions.terms.append(Term(where.condition))
            for option in measure.options:
                if all(t.coded != option.code for t in grades.terms):
                    grades.terms.append(Term(option.code, ascii_text(option.label("en"))))
    return [
        *lists,
        units,
        cm_ids,
        treatments,
        CodeList("CMCAT", terms=[Term("DIURETIC")]),
        fa_ids,
        CodeList("FATESTCD", terms=[Term(FA_TEST[0], FA_TEST[1])]),
        CodeList("FATEST", terms=[Term(FA_TEST[1])]),
        conditions,
        grades,
    ]
