"""A dataset's rows with its metadata, and the two files each becomes: SAS transport v5 and Dataset-JSON 1.1.

XPT is written by pyreadstat (ReadStat's writer, maintained and used widely; `xport` pins pandas < 1.4 and
does not install on current Python). Character widths are the longest value in bytes (at least 1), which is
what define.xml states as Length; numbers are 8-byte doubles, missing numbers are SAS missing (.).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import SupportsFloat, SupportsInt, cast

import pandas as pd
import pyreadstat

from epro.sdtm.spec import Dataset, Variable

DATASET_JSON_VERSION = "1.1.0"
#: Dataset-JSON column types for define.xml's.
JSON_TYPES = {
    "text": "string",
    "integer": "integer",
    "float": "double",
    "date": "date",
    "partialDate": "string",
}


@dataclass(slots=True)
class Table:
    spec: Dataset
    rows: list[dict[str, object]]

    @property
    def file_stem(self) -> str:
        return self.spec.name.lower()

    def values(self, name: str) -> list[object]:
        return [row.get(name) for row in self.rows]

    def length(self, variable: Variable) -> int:
        """define.xml Length: bytes of the longest text (at least 1), or digits of the widest number."""
        present = [v for v in self.values(variable.name) if v not in (None, "")]
        if variable.numeric:
            return max((_digits(v)[0] for v in present), default=1)
        return max((len(str(v).encode("utf-8")) for v in present), default=1)

    def significant_digits(self, variable: Variable) -> int:
        """define.xml SignificantDigits of a float: the most decimal places any value has."""
        present = [v for v in self.values(variable.name) if v not in (None, "")]
        return max((_digits(v)[1] for v in present), default=0)

    def frame(self) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {}
        for variable in self.spec.variables:
            values = self.values(variable.name)
            if variable.numeric:
                columns[variable.name] = pd.Series(
                    [None if v in (None, "") else _double(v) for v in values], dtype="float64"
                )
            else:
                columns[variable.name] = pd.Series(
                    ["" if v is None else str(v) for v in values], dtype="object"
                )
        return pd.DataFrame(columns)


def write_xpt(table: Table, path: Path) -> None:
    pyreadstat.write_xport(
        table.frame(),
        str(path),
        file_label=table.spec.label,
        column_labels={v.name: v.label for v in table.spec.variables},
        table_name=table.spec.name,
        file_format_version=5,
    )


def dataset_json(
    table: Table, *, study_oid: str, mdv_oid: str, created: datetime, source_version: str
) -> dict[str, object]:
    """The Dataset-JSON 1.1 document of one dataset (rows as arrays in column order, null for missing)."""
    spec = table.spec
    columns = []
    for variable in spec.variables:
        column: dict[str, object] = {
            "itemOID": f"IT.{spec.name}.{variable.name}",
            "name": variable.name,
            "label": variable.label,
            "dataType": JSON_TYPES[variable.data_type],
        }
        if variable.data_type in ("text", "integer", "partialDate"):
            column["length"] = table.length(variable)
        if variable.name in spec.keys:
            column["keySequence"] = spec.keys.index(variable.name) + 1
        columns.append(column)
    rows = [[_json_value(row.get(v.name), v) for v in spec.variables] for row in table.rows]
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "datasetJSONCreationDateTime": stamp,
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{study_oid}.{spec.name}",
        "dbLastModifiedDateTime": stamp,
        "originator": "epro",
        "sourceSystem": {"name": "epro", "version": source_version},
        "studyOID": study_oid,
        "metaDataVersionOID": mdv_oid,
        "metaDataRef": "define.xml",
        "itemGroupOID": f"IG.{spec.name}",
        "records": len(rows),
        "name": spec.name,
        "label": spec.label,
        "columns": columns,
        "rows": rows,
    }


def _digits(value: object) -> tuple[int, int]:
    """(digits, decimal places) of a number as written without exponent or trailing zeros: 100.50 -> (4, 1)."""
    text = format(Decimal(str(value)).normalize(), "f").lstrip("-")
    whole, _, decimals = text.partition(".")
    return len(whole) + len(decimals), len(decimals)


def _double(value: object) -> float:
    """A numeric variable's value (an int, float or Decimal: the rows hold Python numbers) as a double."""
    return float(cast(SupportsFloat, value))


def _json_value(value: object, variable: Variable) -> object:
    if value in (None, ""):
        return None
    if variable.data_type == "integer":
        return int(cast(SupportsInt, value))
    if variable.data_type == "float":
        return _double(value)
    return str(value)
