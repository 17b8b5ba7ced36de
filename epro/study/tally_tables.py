"""The study overview's tallies, kept in the database (migration 0011): derived data, rebuilt from the
study's own tables whenever they are missing, so nothing here is a record of its own.

- ``StudyTally``: how many values of each kind there are, per visit, measure and value (values and changes
  from baseline scaled to whole numbers, exact on both databases), plus Table 1's counts and ages;
- ``StudyVisitTally``: the visits by code, state and window, from which the completion counts of any clinic
  date follow in one small grouped query;
- ``StudyPatientTally``: each patient's own share of both, so a patient's data can be tallied again exactly
  (old share out, new share in);
- ``StudyTallyState``: which protocol the tallies describe, the audit event they are current to, and the
  statistics of every group of values, recomputed only for the groups a change touches.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Column, Date, Integer, String, Text
from sqlmodel import Field, SQLModel


class StudyTally(SQLModel, table=True):
    __tablename__ = "study_tally"

    #: value, change, age, sex, char (a categorical baseline characteristic), cp (Child-Pugh class).
    kind: str = Field(sa_column=Column(String(8), primary_key=True))
    visit_code: str = Field(sa_column=Column(String(16), primary_key=True))
    measure: str = Field(sa_column=Column(String(64), primary_key=True))
    category: str = Field(sa_column=Column(String(32), primary_key=True))
    #: The value times epro.study.contributions.SCALE (0 for counts of a category).
    value: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    n: int = Field(sa_column=Column(Integer, nullable=False))


class StudyVisitTally(SQLModel, table=True):
    __tablename__ = "study_visit_tally"

    visit_code: str = Field(sa_column=Column(String(16), primary_key=True))
    #: completed, missed, cancelled, or open (upcoming, due or overdue, by the clinic's date).
    state: str = Field(sa_column=Column(String(16), primary_key=True))
    staff: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    late: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    window_start: date = Field(sa_column=Column(Date, primary_key=True))
    window_end: date = Field(sa_column=Column(Date, primary_key=True))
    n: int = Field(sa_column=Column(Integer, nullable=False))


class StudyPatientTally(SQLModel, table=True):
    __tablename__ = "study_patient_tally"

    patient_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    #: JSON: the patient's StudyTally and StudyVisitTally entries.
    entries: str = Field(sa_column=Column(Text, nullable=False))


class StudyTallyState(SQLModel, table=True):
    __tablename__ = "study_tally_state"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    #: The protocol (code and version) and the tallies' format the rows were made for.
    context: str = Field(sa_column=Column(String(64), nullable=False))
    #: Every audit event up to this one is in the tallies.
    audit_id: int = Field(sa_column=Column(Integer, nullable=False))
    #: JSON: the statistics of each group (kind, visit, measure) of StudyTally's values.
    summaries: str = Field(sa_column=Column(Text, nullable=False))
