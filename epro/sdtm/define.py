"""define.xml 2.1: every dataset, variable, code list (CDISC CT and sponsor-defined) and derivation.

Written with the standard library's ElementTree; the tests validate it against CDISC's define2-1-0.xsd as
shipped in odmlib (a test dependency). The datasets stay English; `--lang ko` adds Korean
translations (xml:lang="ko") of the texts a person reads: test, visit and category names.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from epro.sdtm.tables import Table

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XLINK = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ET.register_namespace("", ODM)
ET.register_namespace("def", DEF)
ET.register_namespace("xlink", XLINK)

IG_STANDARD = "STD.SDTMIG.3.4"
CT_STANDARD = "STD.CT.SDTM"
CT_VERSION = "2024-03-29"
#: The description of a code list that is the sponsor's own (not CDISC controlled terminology).
SPONSOR_DEFINED = "Sponsor-defined code list (no CDISC controlled terminology)."


@dataclass(frozen=True, slots=True)
class Term:
    coded: str
    #: Decode in English and, where there is one, Korean; None for an enumerated (code-only) item.
    decode_en: str | None = None
    decode_ko: str | None = None
    #: NCI code of a CDISC controlled term, when the package carries it.
    nci: str | None = None
    #: A sponsor-defined term in a CDISC code list (define.xml marks it def:ExtendedValue="Yes").
    sponsor: bool = False


@dataclass(slots=True)
class CodeList:
    name: str
    data_type: str = "text"
    terms: list[Term] = field(default_factory=list)
    #: NCI code of the CDISC code list it is (or extends); None for a sponsor-defined list.
    nci: str | None = None
    #: (dictionary, version) of an external code list such as ISO 3166.
    external: tuple[str, str] | None = None

    @property
    def oid(self) -> str:
        return f"CL.{self.name}"


def _q(tag: str) -> str:
    prefix, _, local = tag.rpartition(":")
    return f"{{{DEF if prefix == 'def' else ODM}}}{local}"


def _el(parent: ET.Element, tag: str, attrs: dict[str, str] | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    for key, value in (attrs or {}).items():
        if key.startswith("def:"):
            element.set(f"{{{DEF}}}{key[4:]}", value)
        elif key.startswith("xlink:"):
            element.set(f"{{{XLINK}}}{key[6:]}", value)
        else:
            element.set(key, value)
    return element


def _description(
    parent: ET.Element, english: str, korean: str | None = None, tag: str = "Description"
) -> None:
    description = _el(parent, tag)
    text = _el(description, "TranslatedText")
    text.set(XML_LANG, "en")
    text.text = english
    if korean:
        translated = _el(description, "TranslatedText")
        translated.set(XML_LANG, "ko")
        translated.text = korean


def define_xml(
    tables: list[Table],
    codelists: dict[str, CodeList],
    *,
    study_oid: str,
    mdv_oid: str,
    study_name: str,
    created: datetime,
    source_version: str,
) -> ET.ElementTree:
    root = ET.Element(_q("ODM"))
    for key, value in {
        "FileType": "Snapshot",
        "FileOID": f"{study_oid}.DEFINE",
        "ODMVersion": "1.3.2",
        "CreationDateTime": created.strftime("%Y-%m-%dT%H:%M:%S"),
        "Originator": "epro",
        "SourceSystem": "epro",
        "SourceSystemVersion": source_version,
    }.items():
        root.set(key, value)
    root.set(f"{{{DEF}}}Context", "Submission")
    study = _el(root, "Study", {"OID": study_oid})
    variables = _el(study, "GlobalVariables")
    for tag, text in (
        ("StudyName", study_oid),
        ("StudyDescription", study_name),
        ("ProtocolName", study_oid),
    ):
        _el(variables, tag).text = text
    mdv = _el(
        study,
        "MetaDataVersion",
        {
            "OID": mdv_oid,
            "Name": f"{study_oid} SDTM",
            "Description": "SDTM tabulation datasets exported by epro",
            "def:DefineVersion": "2.1.0",
        },
    )
    standards = _el(mdv, "def:Standards")
    _el(
        standards,
        "def:Standard",
        {"OID": IG_STANDARD, "Name": "SDTMIG", "Type": "IG", "Version": "3.4", "Status": "Final"},
    )
    _el(
        standards,
        "def:Standard",
        {
            "OID": CT_STANDARD,
            "Name": "CDISC/NCI",
            "Type": "CT",
            "PublishingSet": "SDTM",
            "Version": CT_VERSION,
            "Status": "Final",
        },
    )

    methods: dict[str, str] = {}
    for table in tables:
        spec = table.spec
        group = _el(
            mdv,
            "ItemGroupDef",
            {
                "OID": f"IG.{spec.name}",
                "Name": spec.name,
                "SASDatasetName": spec.name,
                "Repeating": "No" if spec.name == "DM" else "Yes",
                "IsReferenceData": "Yes" if spec.reference_data else "No",
                "Purpose": "Tabulation",
                "def:Structure": spec.structure,
                "def:StandardOID": IG_STANDARD,
                "def:ArchiveLocationID": f"LF.{spec.name}",
                **({} if spec.name.startswith("SUPP") else {"Domain": spec.name}),
            },
        )
        _description(group, spec.label)
        for order, variable in enumerate(spec.variables, start=1):
            attrs = {
                "ItemOID": f"IT.{spec.name}.{variable.name}",
                "OrderNumber": str(order),
                "Mandatory": "Yes" if variable.core == "Req" else "No",
            }
            if variable.name in spec.keys:
                attrs["KeySequence"] = str(spec.keys.index(variable.name) + 1)
            if variable.method:
                method_oid = f"MT.{spec.name}.{variable.name}"
                methods[method_oid] = variable.method
                attrs["MethodOID"] = method_oid
            _el(group, "ItemRef", attrs)
        _el(group, "def:Class", {"Name": spec.observation_class})
        leaf = _el(group, "def:leaf", {"ID": f"LF.{spec.name}", "xlink:href": f"{table.file_stem}.xpt"})
        _el(leaf, "def:title").text = f"{table.file_stem}.xpt"

    for table in tables:
        spec = table.spec
        for variable in spec.variables:
            attrs = {
                "OID": f"IT.{spec.name}.{variable.name}",
                "Name": variable.name,
                "DataType": variable.data_type,
                "SASFieldName": variable.name,
            }
            if variable.data_type in ("text", "integer", "float"):
                attrs["Length"] = str(table.length(variable))
            if variable.data_type == "float":
                attrs["SignificantDigits"] = str(table.significant_digits(variable))
            item = _el(mdv, "ItemDef", attrs)
            _description(item, variable.label)
            if variable.codelist:
                _el(item, "CodeListRef", {"CodeListOID": f"CL.{variable.codelist}"})
            origin = {"Type": variable.origin}
            if variable.origin == "Collected":
                origin["Source"] = "Subject" if spec.name in ("QS",) else "Investigator"
            elif variable.origin == "Assigned":
                origin["Source"] = "Sponsor"
            _el(item, "def:Origin", origin)

    for codelist in codelists.values():
        attrs = {"OID": codelist.oid, "Name": codelist.name, "DataType": codelist.data_type}
        if codelist.nci:
            attrs["def:StandardOID"] = CT_STANDARD
        element = _el(mdv, "CodeList", attrs)
        if codelist.nci is None and codelist.external is None:
            _description(element, SPONSOR_DEFINED)
        if codelist.external:
            _el(
                element,
                "ExternalCodeList",
                {"Dictionary": codelist.external[0], "Version": codelist.external[1]},
            )
        for term in codelist.terms:
            extended = {"def:ExtendedValue": "Yes"} if codelist.nci and term.sponsor else {}
            if term.decode_en is None:
                item = _el(element, "EnumeratedItem", {"CodedValue": term.coded, **extended})
            else:
                item = _el(element, "CodeListItem", {"CodedValue": term.coded, **extended})
                _description(item, term.decode_en, term.decode_ko, tag="Decode")
            if term.nci:
                _el(item, "Alias", {"Context": "nci:ExtCodeID", "Name": term.nci})
        if codelist.nci:
            _el(element, "Alias", {"Context": "nci:ExtCodeID", "Name": codelist.nci})

    for oid, text in methods.items():
        method = _el(
            mdv, "MethodDef", {"OID": oid, "Name": f"Algorithm for {oid[3:]}", "Type": "Computation"}
        )
        _description(method, text)
    ET.indent(root)
    return ET.ElementTree(root)
