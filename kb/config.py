"""All configuration in one place, read from ``KB_*`` environment variables.

Design choices:
- One frozen dataclass, built by ``Settings.from_env()``; every other module receives a
  ``Settings`` instead of reading the environment itself, so tests can build one directly
  and nothing depends on import-time globals.
- Defaults make the product work offline on one machine: an embedded Chroma under
  ``KB_DATA_DIR``, models in the user's cache dir, the corpus in ``./corpus`` with the
  shared mirror beside the project when it exists.
- Setting ``KB_CHROMA_URL`` switches to a Chroma server; nothing else changes.
- When every model is local we force Hugging Face's offline mode in-process: without it,
  loading a local model waits on network time-outs (20 s instead of 5 s on these machines).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "civsam-kb"


class ConfigError(ValueError):
    """A setting has a value the product cannot use; the message names the variable."""


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = os.environ.get(name) or default
    if raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _default_mirror() -> Path | None:
    candidate = PROJECT_ROOT.parent / "shared" / "corpus"
    return candidate if candidate.is_dir() else None


@dataclass(frozen=True)
class Settings:
    # Where things live.
    data_dir: Path = field(default_factory=lambda: Path(user_data_dir(APP_NAME)))
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    corpus_mirror: Path | None = field(default_factory=_default_mirror)
    models_dir: Path = field(default_factory=lambda: Path(user_cache_dir(APP_NAME)) / "models")

    # Models: a packaged recipe name, a local path, or a Hugging Face id.
    embed_model: str = "multilingual-e5-small"
    llm_model: str = "qwen2.5-coder-1.5b-instruct-q4km"
    embed_batch: int = 64  # chunks per embedding call (split over the cores) and per store write

    # LLM: local llama.cpp by default; a URL switches to an OpenAI-compatible server.
    llm_url: str | None = None
    llm_api_key: str | None = None
    llm_remote_model: str = "local"
    llm_timeout_s: float = 60.0
    llm_max_tokens: int = 400
    # Sampling at temperature 0.1 is not greedy: with a fixed seed the same question with the same
    # sources gets the same answer again (an official who asks again sees what a colleague saw),
    # and eval runs of unchanged code agree. -1: a new seed every time.
    llm_seed: int = 42
    llm_context: int = 4096
    llm_threads: int = 1  # generating; one thread does not stall when another process runs (kb.llm)
    llm_batch_threads: int = 2  # reading the prompt

    # Store: embedded by default; a URL switches to a Chroma server.
    chroma_url: str | None = None
    chroma_token: str | None = None
    chroma_timeout_s: float = 30.0  # per request to a Chroma server; a stalled server is an error
    collection_prefix: str = "civsam"

    # Ingest.
    chunk_words: int = 100
    download_missing: bool = True
    download_timeout_s: float = 30.0
    max_file_mb: int = 50
    max_pages: int = 2000
    max_page_chars: int = 20_000  # text of one PDF page beyond this is cut (hidden text, garbage)
    max_doc_chars: int = 5_000_000  # extracted text of one document (~5x the largest SOU)
    max_doc_seconds: int = 180  # reading one document (in a worker process, which is then stopped)
    max_parse_mb: int = 2048  # memory of the worker process that reads documents
    repair_threshold: float = 0.08

    # Questions and retrieval.
    max_question_chars: int = 2000
    top_k: int = 5
    answer_mode: str = "llm"  # llm | extractive
    # when nothing the model wrote survives the citation check: quote the sources instead
    # (extractive, with a notice) or refuse
    unverified: str = "extractive"
    # an English reader of a quoted Swedish sentence gets the model's checked translation under it
    # (kb.translate): this many quotes per answer, started within this many seconds; 0: glosses only.
    # Off by default: the bundled 1.5B model mistranslated 7 of 21 quotes ("sluta avtal" as "end
    # contracts"), and no check without a second model catches that; set 3 with a stronger model.
    quote_translations: int = 0
    quote_translation_s: float = 30.0

    # Serving.
    host: str = "127.0.0.1"
    port: int = 7860
    llm_concurrency: int = 1  # answers generated at once (one local model: 1)
    queue_size: int = 20  # users who may wait for generation; more get "busy, try again"
    queue_timeout_s: float = 120.0  # longest wait in the queue before the extractive answer
    ui_concurrency: int = 32  # chat requests the app handles at once (retrieval runs in parallel)
    admin_password: str | None = None  # unset: no admin page at all
    admin_max_attempts: int = 5  # failed admin logins per client before a lockout
    admin_lockout_s: float = 300.0

    @classmethod
    def from_env(cls) -> Settings:
        base = cls()
        mirror_raw = os.environ.get("KB_CORPUS_MIRROR")
        if mirror_raw is None:
            mirror = base.corpus_mirror
        elif mirror_raw == "":
            mirror = None  # explicitly disabled
        else:
            mirror = Path(mirror_raw).expanduser()
        settings = replace(
            base,
            data_dir=_env_path("KB_DATA_DIR", base.data_dir),
            corpus_dir=_env_path("KB_CORPUS_DIR", base.corpus_dir),
            corpus_mirror=mirror,
            models_dir=_env_path("KB_MODELS_DIR", base.models_dir),
            embed_model=os.environ.get("KB_EMBED_MODEL") or base.embed_model,
            llm_model=os.environ.get("KB_LLM_MODEL") or base.llm_model,
            embed_batch=_env_int("KB_EMBED_BATCH", base.embed_batch, minimum=1),
            llm_url=os.environ.get("KB_LLM_URL") or None,
            llm_api_key=os.environ.get("KB_LLM_API_KEY") or None,
            llm_remote_model=os.environ.get("KB_LLM_REMOTE_MODEL") or base.llm_remote_model,
            llm_timeout_s=_env_float("KB_LLM_TIMEOUT_S", base.llm_timeout_s),
            llm_max_tokens=_env_int("KB_LLM_MAX_TOKENS", base.llm_max_tokens, minimum=16),
            llm_seed=_env_int("KB_LLM_SEED", base.llm_seed, minimum=-1),
            llm_context=_env_int("KB_LLM_CONTEXT", base.llm_context, minimum=512),
            llm_threads=_env_int("KB_LLM_THREADS", base.llm_threads, minimum=1),
            llm_batch_threads=_env_int("KB_LLM_BATCH_THREADS", base.llm_batch_threads, minimum=1),
            chroma_url=os.environ.get("KB_CHROMA_URL") or None,
            chroma_token=os.environ.get("KB_CHROMA_TOKEN") or None,
            chroma_timeout_s=_env_float("KB_CHROMA_TIMEOUT_S", base.chroma_timeout_s),
            collection_prefix=os.environ.get("KB_COLLECTION_PREFIX") or base.collection_prefix,
            chunk_words=_env_int("KB_CHUNK_WORDS", base.chunk_words, minimum=20),
            download_missing=_env_bool("KB_DOWNLOAD_MISSING", base.download_missing),
            download_timeout_s=_env_float("KB_DOWNLOAD_TIMEOUT_S", base.download_timeout_s),
            max_file_mb=_env_int("KB_MAX_FILE_MB", base.max_file_mb, minimum=1),
            max_pages=_env_int("KB_MAX_PAGES", base.max_pages, minimum=1),
            max_page_chars=_env_int("KB_MAX_PAGE_CHARS", base.max_page_chars, minimum=100),
            max_doc_chars=_env_int("KB_MAX_DOC_CHARS", base.max_doc_chars, minimum=1000),
            max_doc_seconds=_env_int("KB_MAX_DOC_SECONDS", base.max_doc_seconds, minimum=1),
            max_parse_mb=_env_int("KB_MAX_PARSE_MB", base.max_parse_mb, minimum=256),
            repair_threshold=_env_float("KB_REPAIR_THRESHOLD", base.repair_threshold),
            max_question_chars=_env_int("KB_MAX_QUESTION_CHARS", base.max_question_chars, minimum=10),
            top_k=_env_int("KB_TOP_K", base.top_k, minimum=1),
            answer_mode=_choice("KB_ANSWER_MODE", base.answer_mode, ("llm", "extractive")),
            unverified=_choice("KB_UNVERIFIED", base.unverified, ("extractive", "refuse")),
            quote_translations=_env_int("KB_QUOTE_TRANSLATIONS", base.quote_translations, minimum=0),
            quote_translation_s=_env_float("KB_QUOTE_TRANSLATION_S", base.quote_translation_s),
            host=os.environ.get("KB_HOST") or base.host,
            port=_env_int("KB_PORT", base.port, minimum=1),
            llm_concurrency=_env_int("KB_LLM_CONCURRENCY", base.llm_concurrency, minimum=1),
            queue_size=_env_int("KB_QUEUE_SIZE", base.queue_size, minimum=0),
            queue_timeout_s=_env_float("KB_QUEUE_TIMEOUT_S", base.queue_timeout_s),
            ui_concurrency=_env_int("KB_UI_CONCURRENCY", base.ui_concurrency, minimum=1),
            admin_password=os.environ.get("KB_ADMIN_PASSWORD") or None,
            admin_max_attempts=_env_int("KB_ADMIN_MAX_ATTEMPTS", base.admin_max_attempts, minimum=1),
            admin_lockout_s=_env_float("KB_ADMIN_LOCKOUT_S", base.admin_lockout_s),
        )
        return settings

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    def describe(self) -> dict[str, str]:
        """Settings as strings, for `kb config` and logs (the token is masked)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("chroma_token", "llm_api_key", "admin_password") and value:
                value = "***"
            out[f.name] = "" if value is None else str(value)
        return out


def set_offline_mode() -> None:
    """Keep Hugging Face libraries from reaching for the hub when models are local."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
