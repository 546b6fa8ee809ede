"""The durable store (SQLAlchemy 2 + Alembic): answers, votes, idempotency claims, retrain runs."""
from bot.store.records import AnswerRecord, RetrainRun, VoteRecord, VoteResult
from bot.store.store import Store, mask_url

__all__ = ["AnswerRecord", "RetrainRun", "Store", "VoteRecord", "VoteResult", "mask_url"]
