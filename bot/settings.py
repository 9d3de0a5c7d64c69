"""Settings from REPORTS_BOT_* environment variables and a .env file; command-line flags win."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can configure. The token is a SecretStr so it never prints."""

    model_config = SettingsConfigDict(
        env_prefix="REPORTS_BOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    corpus_dir: Path | None = None
    """The folder of reports; unset, the one the index was built from (``corpus`` at first)."""
    index_path: Path = Path(".index")
    top_k: int = Field(default=5, ge=1, le=50)
    ranking: Literal["report", "bm25"] = "report"
    """``report`` weighs each sentence's report (title, report-level BM25, coverage, answer type)
    into BM25; ``bm25`` ranks by the sentence's BM25 alone."""

    token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    page_size: int = Field(default=3, ge=1, le=10)
    max_question_chars: int = Field(default=200, ge=10)
    answer_ttl_seconds: float = Field(default=3600, gt=0)
    """How long the buttons under an answer keep working."""
    answer_store_size: int = Field(default=1000, ge=1)
    poll_timeout_seconds: int = Field(default=10, ge=0)
    api_max_retries: int = Field(default=3, ge=0)
    """Retries of a Bot API call that Telegram answered with 429 (after its retry_after)."""
    rate_limit_per_minute: int = Field(default=20, ge=1)
    allowed_users: Annotated[set[int], NoDecode] = Field(default_factory=set)
    allowed_chats: Annotated[set[int], NoDecode] = Field(default_factory=set)
    """Allow-lists for private deployments, as ``123,456`` or ``[123, 456]``; empty allows all."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    jieba_cache_dir: Path | None = None
    """Where jieba caches its dictionary (default: the system temp folder)."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        """Accept ``debug`` as well as ``DEBUG``."""
        return value.upper() if isinstance(value, str) else value

    @field_validator("allowed_users", "allowed_chats", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept ``123,456`` as well as JSON ``[123, 456]`` from the environment."""
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [item for item in value.split(",") if item.strip()]
        return value
