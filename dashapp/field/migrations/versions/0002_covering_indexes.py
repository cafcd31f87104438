"""Covering indexes: the /field page's counts, matrix and histograms read the index, never the rows
(whose inputs and thumbnails make them ~3.5 kB each); over 100,000 records that is what keeps the
page under a second.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ["label", "answer", "confidence", "novelty_score"]


def upgrade() -> None:
    op.drop_index("ix_field_records_model_day", "field_records")
    op.drop_index("ix_field_records_created_day", "field_records")
    op.create_index("ix_field_records_model_cover", "field_records", ["model", "created_day", *COLUMNS])
    op.create_index("ix_field_records_day_cover", "field_records", ["created_day", "model", *COLUMNS])


def downgrade() -> None:
    op.drop_index("ix_field_records_model_cover", "field_records")
    op.drop_index("ix_field_records_day_cover", "field_records")
    op.create_index("ix_field_records_model_day", "field_records", ["model", "created_day"])
    op.create_index("ix_field_records_created_day", "field_records", ["created_day"])
