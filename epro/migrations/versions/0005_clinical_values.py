"""Clinical values and baseline characteristics; body weight moves from visit.weight_kg into WEIGHT values.

Each recorded weight becomes a clinical_value row (measure set liver-1.0, unit kg, sample date = the visit's
actual date, else its appointment date). Its history stays: the old "visit.weight" audit events are left as
they are, the first one gives who entered it and when, a later change makes it "corrected" with the last
reason, and one "clinical.migrate" event per moved value records the move in the hash chain.

On SQLite dropping the column rebuilds the visit table (batch mode); epro/migrations/env.py runs migrations
with foreign keys off so rows pointing to visits do not stop the rebuild, and checks them before commit.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from alembic import op

import epro.models
from epro.audit import GENESIS, row_hash

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURE_SET = "liver-1.0"
#: WEIGHT's plausible range in liver-1.0 (a value outside it is flagged, as a nurse's confirmation would).
PLAUSIBLE = (Decimal("30"), Decimal("150"))
REASON = "migration 0005: body weight moved from visit.weight_kg to clinical_value"

audit = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", epro.models.UTCDateTime()),
    sa.column("actor_type", sa.String()),
    sa.column("actor_id", sa.Integer()),
    sa.column("actor_name", sa.String()),
    sa.column("action", sa.String()),
    sa.column("entity", sa.String()),
    sa.column("entity_id", sa.String()),
    sa.column("field", sa.String()),
    sa.column("old_value", sa.String()),
    sa.column("new_value", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
visit = sa.table(
    "visit",
    sa.column("id", sa.Integer()),
    sa.column("weight_kg", sa.Numeric(5, 1)),
    sa.column("actual_date", sa.Date()),
    sa.column("scheduled_date", sa.Date()),
    sa.column("target_date", sa.Date()),
)
clinical_value = sa.table(
    "clinical_value",
    sa.column("id", sa.Integer()),
    sa.column("visit_id", sa.Integer()),
    sa.column("measure_code", sa.String()),
    sa.column("measure_set", sa.String()),
    sa.column("value_number", sa.Numeric(12, 4)),
    sa.column("value_code", sa.String()),
    sa.column("unit", sa.String()),
    sa.column("sample_date", sa.Date()),
    sa.column("out_of_range", sa.Boolean()),
    sa.column("entered_by_id", sa.Integer()),
    sa.column("entered_at", epro.models.UTCDateTime()),
    sa.column("corrected_at", epro.models.UTCDateTime()),
    sa.column("correction_reason", sa.String()),
)


def _create_tables() -> None:
    op.create_table(
        "measure_set",
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "clinical_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("measure_code", sa.String(length=16), nullable=False),
        sa.Column("measure_set", sa.String(length=16), nullable=False),
        sa.Column("value_number", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("value_code", sa.String(length=16), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("sample_date", sa.Date(), nullable=False),
        sa.Column("out_of_range", sa.Boolean(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", epro.models.UTCDateTime(), nullable=False),
        sa.Column("corrected_at", epro.models.UTCDateTime(), nullable=True),
        sa.Column("correction_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "(value_number IS NULL) != (value_code IS NULL)", name="ck_clinical_value_one_value"
        ),
        sa.CheckConstraint(
            "(corrected_at IS NULL) = (correction_reason IS NULL)", name="ck_clinical_value_correction_reason"
        ),
        sa.ForeignKeyConstraint(["entered_by_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_id", "measure_code", name="uq_clinical_value_visit_measure"),
    )
    op.create_index("ix_clinical_value_visit_id", "clinical_value", ["visit_id"], unique=False)
    op.create_table(
        "patient_characteristic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", epro.models.UTCDateTime(), nullable=False),
        sa.Column("changed_at", epro.models.UTCDateTime(), nullable=True),
        sa.Column("change_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "(changed_at IS NULL) = (change_reason IS NULL)", name="ck_patient_characteristic_change_reason"
        ),
        sa.ForeignKeyConstraint(["entered_by_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_id", "code", name="uq_patient_characteristic_code"),
    )
    op.create_index(
        "ix_patient_characteristic_patient_id", "patient_characteristic", ["patient_id"], unique=False
    )


class _Chain:
    """Appends audit events after the newest one, hashed exactly as epro.audit.record does."""

    def __init__(self, bind: sa.Connection) -> None:
        self.bind = bind
        last = bind.execute(sa.select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)).scalar()
        self.prev = last or GENESIS

    def append(self, **fields: object) -> None:
        event = SimpleNamespace(
            at=datetime.now(UTC), actor_type="system", actor_id=None, actor_name="migration 0005", **fields
        )
        event.prev_hash = self.prev
        event.hash = row_hash(cast(epro.models.AuditEvent, event))  # it reads only the fields, all here
        self.bind.execute(sa.insert(audit).values(**vars(event)))
        self.prev = event.hash


def _move_weights(bind: sa.Connection) -> None:
    history: dict[str, list[sa.Row[*tuple[Any, ...]]]] = {}
    for event in bind.execute(
        sa.select(audit.c.entity_id, audit.c.at, audit.c.actor_type, audit.c.actor_id, audit.c.reason)
        .where(audit.c.action == "visit.weight", audit.c.entity == "visit")
        .order_by(audit.c.id)
    ):
        history.setdefault(event.entity_id, []).append(event)
    chain = _Chain(bind)
    moment = datetime.now(UTC)
    for row in bind.execute(
        sa.select(visit).where(visit.c.weight_kg.is_not(None)).order_by(visit.c.id)
    ).all():
        events = history.get(str(row.id), [])
        first, last = (events[0], events[-1]) if events else (None, None)
        correction = last if len(events) > 1 and last is not None and last.reason else None
        weight = Decimal(row.weight_kg)
        new_id = bind.execute(
            sa.insert(clinical_value)
            .values(
                visit_id=row.id,
                measure_code="WEIGHT",
                measure_set=MEASURE_SET,
                value_number=weight,
                value_code=None,
                unit="kg",
                sample_date=row.actual_date or row.scheduled_date or row.target_date,
                out_of_range=not (PLAUSIBLE[0] <= weight <= PLAUSIBLE[1]),
                entered_by_id=first.actor_id if first is not None and first.actor_type == "staff" else None,
                entered_at=first.at if first is not None else moment,
                corrected_at=correction.at if correction is not None else None,
                correction_reason=correction.reason if correction is not None else None,
            )
            .returning(clinical_value.c.id)
        ).scalar_one()
        chain.append(
            action="clinical.migrate",
            entity="clinical_value",
            entity_id=str(new_id),
            field="WEIGHT",
            old_value=f"visit {row.id} weight_kg {weight}",
            new_value=str(weight),
            reason=REASON,
        )


def upgrade() -> None:
    _create_tables()
    _move_weights(op.get_bind())
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_constraint("ck_visit_weight", type_="check")
        batch_op.drop_column("weight_kg")


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weight_kg", sa.Numeric(precision=5, scale=1), nullable=True))
        batch_op.create_check_constraint(
            "ck_visit_weight", "weight_kg IS NULL OR (weight_kg >= 20 AND weight_kg <= 300)"
        )
    weights = (
        sa.select(clinical_value.c.value_number)
        .where(clinical_value.c.visit_id == visit.c.id, clinical_value.c.measure_code == "WEIGHT")
        .scalar_subquery()
    )
    op.get_bind().execute(sa.update(visit).values(weight_kg=weights))
    op.drop_index("ix_patient_characteristic_patient_id", table_name="patient_characteristic")
    op.drop_table("patient_characteristic")
    op.drop_index("ix_clinical_value_visit_id", table_name="clinical_value")
    op.drop_table("clinical_value")
    op.drop_table("measure_set")
