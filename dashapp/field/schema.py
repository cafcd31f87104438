"""The field data's one table. Changes to it are Alembic migrations (``migrations/versions``), never
``create_all``: the migration and this description must say the same thing."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

# SQLite only makes an INTEGER PRIMARY KEY an alias of its rowid (auto-numbered); PostgreSQL gets a bigint.
RecordId = BigInteger().with_variant(Integer(), "sqlite")

records = Table(
    "field_records", metadata,
    Column("id", RecordId, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_day", Date, nullable=False),  # UTC day of created_at: the per-day counts group on it
    Column("model", String(200), nullable=False),
    Column("model_sha256", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("input", LargeBinary, nullable=False),  # 28x28 float32, exactly what the model read
    Column("thumbnail", LargeBinary, nullable=False),  # PNG of the input as sent, at most 64 px a side
    Column("strokes", Text),  # JSON list of SVG paths when drawn
    Column("top", Text, nullable=False),  # JSON: the prediction object's top 3
    Column("top_digit", SmallInteger, nullable=False),
    Column("confidence", Float, nullable=False),  # the top digit's probability
    Column("answer", SmallInteger, nullable=False),  # top_digit, or 10 when the novelty detector says not a digit
    Column("novelty_is_digit", Boolean),
    Column("novelty_score", Float),
    Column("novelty_threshold", Float),
    Column("novelty_detector", String(64)),
    Column("label", SmallInteger),  # the person's answer: 0-9, 10 for "not a digit"; NULL until given
    Column("labeled_at", DateTime(timezone=True)),
    CheckConstraint("label IS NULL OR (label >= 0 AND label <= 10)", name="ck_field_records_label"),
    CheckConstraint("answer >= 0 AND answer <= 10", name="ck_field_records_answer"),
    CheckConstraint("source IN ('canvas', 'upload', 'api', 'example')", name="ck_field_records_source"),
    # Covering (migration 0002): the page's aggregates read these indexes, never the ~3.5 kB rows.
    Index("ix_field_records_model_cover", "model", "created_day", "label", "answer", "confidence", "novelty_score"),
    Index("ix_field_records_day_cover", "created_day", "model", "label", "answer", "confidence", "novelty_score"),
    Index("ix_field_records_label_answer", "label", "answer"),
)
