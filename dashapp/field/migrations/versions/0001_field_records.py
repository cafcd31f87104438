"""field_records: one row per input a person sent (DESIGN.md "Field data").

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("input", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column("strokes", sa.Text()),
        sa.Column("top", sa.Text(), nullable=False),
        sa.Column("top_digit", sa.SmallInteger(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("answer", sa.SmallInteger(), nullable=False),
        sa.Column("novelty_is_digit", sa.Boolean()),
        sa.Column("novelty_score", sa.Float()),
        sa.Column("novelty_threshold", sa.Float()),
        sa.Column("novelty_detector", sa.String(64)),
        sa.Column("label", sa.SmallInteger()),
        sa.Column("labeled_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("label IS NULL OR (label >= 0 AND label <= 10)", name="ck_field_records_label"),
        sa.CheckConstraint("answer >= 0 AND answer <= 10", name="ck_field_records_answer"),
        sa.CheckConstraint("source IN ('canvas', 'upload', 'api', 'example')", name="ck_field_records_source"),
    )
    op.create_index("ix_field_records_model_day", "field_records", ["model", "created_day"])
    op.create_index("ix_field_records_created_day", "field_records", ["created_day"])
    op.create_index("ix_field_records_label_answer", "field_records", ["label", "answer"])


def downgrade() -> None:
    op.drop_table("field_records")
