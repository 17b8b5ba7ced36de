"""Every code epro stores or exports, with its words, in one place.

The database CHECK constraints (epro.models), the labels on the pages and in the PDF, the form choices, the
data dictionary and the export descriptions all read these definitions, so a code added here shows
everywhere or a test says where it is missing. Words are English message ids marked with ``N_``: each
reader translates them in its own language (the page's, the PDF edition's, or both for the dictionary).
"""

from __future__ import annotations

from enum import StrEnum


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


class Language(StrEnum):
    KO = "ko"
    EN = "en"


#: The languages epro speaks, Korean first (the default).
LANGUAGES: tuple[str, ...] = tuple(code.value for code in Language)
#: Each language named in itself, as a language picker shows it.
LANGUAGE_ENDONYMS = {Language.KO: "한국어", Language.EN: "English"}
LANGUAGE_WORDS = {Language.KO: N_("Korean"), Language.EN: N_("English")}


class Role(StrEnum):
    NURSE = "nurse"
    INVESTIGATOR = "investigator"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(code.value for code in Role)
ROLE_WORDS = {Role.NURSE: N_("Nurse"), Role.INVESTIGATOR: N_("Investigator"), Role.ADMIN: N_("Admin")}


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


SEXES: tuple[str, ...] = tuple(code.value for code in Sex)
SEX_WORDS = {Sex.MALE: N_("Male"), Sex.FEMALE: N_("Female")}


class EnteredBy(StrEnum):
    """Who entered an answer."""

    PATIENT = "patient"
    STAFF = "staff"


ENTERED_BY: tuple[str, ...] = tuple(code.value for code in EnteredBy)
ENTERED_BY_MEANINGS = {
    EnteredBy.PATIENT: N_("The patient, on the clinic tablet."),
    EnteredBy.STAFF: N_("Staff, on the patient's behalf (with a reason)."),
}


class ActorType(StrEnum):
    """Who acted, as the audit trail records it."""

    STAFF = "staff"
    PATIENT = "patient"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


ACTOR_TYPE_MEANINGS = {
    ActorType.STAFF: N_("A signed-in staff member."),
    ActorType.PATIENT: N_("The patient, on the clinic tablet."),
    ActorType.SYSTEM: N_("The command line (flask commands)."),
    ActorType.ANONYMOUS: N_("Someone not signed in: a failed staff sign-in, with the user name as typed."),
}


class SessionState(StrEnum):
    """A questionnaire session's state (epro.questionnaires). A visit has at most one session that is not
    cancelled."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    #: Replaced by a staff entry; its drafts stay as they were.
    CANCELLED = "cancelled"


class SignatureMeaning(StrEnum):
    REVIEWED = "reviewed"
    APPROVED = "approved"


SIGNATURE_MEANINGS: tuple[str, ...] = tuple(code.value for code in SignatureMeaning)


class VisitStatus(StrEnum):
    """A scheduled visit's status, derived from its dates and answers (epro.schedule.visit_status)."""

    UPCOMING = "upcoming"
    DUE = "due"
    COMPLETED = "completed"
    OVERDUE = "overdue"
    MISSED = "missed"
    #: The patient was withdrawn before the visit's window closed: it will not happen.
    CANCELLED = "cancelled"


VISIT_STATUS_WORDS = {
    VisitStatus.UPCOMING: N_("Upcoming"),
    VisitStatus.DUE: N_("Due"),
    VisitStatus.COMPLETED: N_("Completed"),
    VisitStatus.OVERDUE: N_("Overdue"),
    VisitStatus.MISSED: N_("Missed"),
    VisitStatus.CANCELLED: N_("Cancelled (withdrawn)"),
}


class PatientStatus(StrEnum):
    """Where a patient stands in follow-up, derived for the registry and its filter (not stored)."""

    NOT_ENROLLED = "not_enrolled"
    ACTIVE = "active"
    OVERDUE = "overdue"
    FINISHED = "finished"
    WITHDRAWN = "withdrawn"


PATIENT_STATUS_WORDS: dict[str, str] = {
    PatientStatus.NOT_ENROLLED: N_("Not enrolled"),
    PatientStatus.ACTIVE: N_("In follow-up"),
    PatientStatus.OVERDUE: N_("Has overdue visits"),
    PatientStatus.FINISHED: N_("Follow-up finished"),
    PatientStatus.WITHDRAWN: N_("Withdrawn"),
}

#: What an audit event is about (audit_event.entity), with its words.
AUDIT_ENTITY_WORDS: dict[str, str] = {
    "patient": N_("Patient"),
    "visit": N_("Visit"),
    "questionnaire_session": N_("Questionnaire session"),
    "response": N_("Answer"),
    "clinical_value": N_("Clinical value"),
    "patient_characteristic": N_("Baseline characteristic"),
    "staff_user": N_("Staff account"),
    "database": N_("Database"),
    "export": N_("Export"),
    "audit_event": N_("Audit trail entry"),
    "signature": N_("Signature"),
    "change_review": N_("Change review"),
}
