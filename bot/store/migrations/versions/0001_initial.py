"""Initial schema: answers, votes, claims, locks, retrain_runs.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("request_key", sa.String(255), nullable=False, unique=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("fix", sa.Text(), nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("answer_json", sa.JSON(), nullable=False),
        sa.Column("model_base", sa.String(255), nullable=False),
        sa.Column("adapter", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("user", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_answers_message", "answers", ["channel", "message_ts"])
    op.create_index("ix_answers_thread", "answers", ["channel", "thread_ts"])
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("answer_id", sa.String(32), sa.ForeignKey("answers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("answer_id", "user", name="uq_votes_answer_user"),
    )
    op.create_index("ix_votes_answer_id", "votes", ["answer_id"])
    op.create_index("ix_votes_updated_at", "votes", ["updated_at"])
    op.create_table(
        "claims",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_claims_created_at", "claims", ["created_at"])
    op.create_table(
        "locks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "retrain_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("candidate", sa.String(64), nullable=True),
        sa.Column("current", sa.String(64), nullable=True),
        sa.Column("examples_until", UTCDateTime(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    for table in ("retrain_runs", "locks", "claims", "votes", "answers"):
        op.drop_table(table)
