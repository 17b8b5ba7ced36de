"""Electronic signatures: a printed name for staff, and the signature table.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import epro.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full_name", sa.String(length=128), nullable=True))
    op.create_table(
        "signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_name", sa.String(length=128), nullable=False),
        sa.Column("signer_role", sa.String(length=16), nullable=False),
        sa.Column("meaning", sa.String(length=16), nullable=False),
        sa.Column("signed_at", epro.models.UTCDateTime(), nullable=False),
        sa.Column("signed_at_clinic", sa.String(length=32), nullable=False),
        sa.Column("clinic_zone", sa.String(length=64), nullable=False),
        sa.Column("content_format", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("meaning IN ('reviewed', 'approved')", name="ck_signature_meaning"),
        sa.CheckConstraint("signer_role IN ('nurse', 'investigator', 'admin')", name="ck_signature_role"),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["signer_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signature_patient", "signature", ["patient_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signature_patient", table_name="signature")
    op.drop_table("signature")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("full_name")
