"""Chroma server mode: connect with a token and a time-out, report failures in words, reconnect.

Design choices:
- ``chroma run`` (chromadb 1.5, the Rust server) has no authentication of its own; Chroma's
  1.x guidance is a reverse proxy that checks a token. ``KB_CHROMA_TOKEN`` is sent as
  ``Authorization: Bearer …`` on every request, which such a proxy (and Chroma's older
  built-in token auth, and Chroma Cloud-style gateways) checks.
- Before handing over to chromadb's client we ask the server who we are
  (``GET /api/v2/auth/identity``) with our own httpx call: chromadb reports every failure
  there as "Could not connect to a Chroma server", while we can tell a refused connection,
  a time-out, a refused token (401/403) and something that is not Chroma apart, and say
  which setting to check.
- chromadb's HTTP client waits forever (``timeout=None``); we put ``KB_CHROMA_TIMEOUT_S`` on
  its session, so a stalled server becomes an error instead of a hung app.
- Failures while in use: the collections are wrapped, and a transport or server failure
  becomes ``StoreUnavailable`` and drops the connection; the next call connects again. The
  app therefore recovers by itself when the server returns, without a restart.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from kb.config import Settings

IDENTITY_PATH = "/api/v2/auth/identity"


def _errors():  # noqa: ANN202 - imported late: kb.store imports this module
    from kb.store import StoreError, StoreUnavailable

    return StoreError, StoreUnavailable


def server_address(settings: Settings) -> tuple[str, int, bool]:
    """(host, port, ssl) of ``KB_CHROMA_URL``; a ``StoreError`` if it is not an http(s) URL."""
    store_error, _ = _errors()
    url = urlparse(settings.chroma_url or "")
    if url.scheme not in ("http", "https") or not url.hostname:
        raise store_error(f"KB_CHROMA_URL must look like http://host:8000, got {settings.chroma_url!r}")
    try:
        port = url.port or (443 if url.scheme == "https" else 8000)
    except ValueError:
        raise store_error(f"KB_CHROMA_URL has an invalid port: {settings.chroma_url!r}") from None
    return url.hostname, port, url.scheme == "https"


def auth_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else {}


def check_server(settings: Settings) -> None:
    """Raise ``StoreUnavailable`` (unreachable, refused token, not Chroma) unless the server answers."""
    import httpx

    _, unavailable = _errors()
    host, port, ssl = server_address(settings)
    base = f"{'https' if ssl else 'http'}://{host}:{port}"
    where = settings.chroma_url
    try:
        response = httpx.get(base + IDENTITY_PATH, headers=auth_headers(settings),
                             timeout=httpx.Timeout(settings.chroma_timeout_s, connect=min(settings.chroma_timeout_s, 10.0)))
    except httpx.TimeoutException as exc:
        raise unavailable(f"the Chroma server at {where} did not answer within {settings.chroma_timeout_s:g} s "
                          "(is it overloaded? raise KB_CHROMA_TIMEOUT_S)", reason="timeout") from exc
    except httpx.HTTPError as exc:
        raise unavailable(f"cannot reach the Chroma server at {where} ({type(exc).__name__}: "
                          f"{exc or 'connection refused'}); is it running? check KB_CHROMA_URL",
                          reason="unreachable") from exc
    if response.status_code in (401, 403):
        hint = "check KB_CHROMA_TOKEN" if settings.chroma_token else "the server wants a token: set KB_CHROMA_TOKEN"
        raise unavailable(f"the Chroma server at {where} refused access (HTTP {response.status_code}): {hint}",
                          reason="auth")
    if response.status_code >= 400:
        hint = "; is KB_CHROMA_URL a Chroma server?" if response.status_code == 404 else ""
        raise unavailable(f"the Chroma server at {where} answered HTTP {response.status_code} "
                          f"({response.text.strip()[:200] or response.reason_phrase}){hint}", reason="error")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "tenant" not in body:
        raise unavailable(f"{where} answered, but not like a Chroma server (check KB_CHROMA_URL)", reason="error")


def http_client(settings: Settings) -> Any:
    """A chromadb ``HttpClient`` for ``KB_CHROMA_URL``, checked, with the token and the time-out."""
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    _, unavailable = _errors()
    check_server(settings)
    host, port, ssl = server_address(settings)
    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, headers=auth_headers(settings) or None,
                                     settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False))
    except Exception as exc:  # noqa: BLE001 - chromadb raises ValueError and others on connect
        raise unavailable(f"cannot use the Chroma server at {settings.chroma_url}: {exc}", reason="error") from exc
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):  # chromadb 1.5 internals; without it requests never time out
        session.timeout = httpx.Timeout(settings.chroma_timeout_s, connect=min(settings.chroma_timeout_s, 10.0))
    return client


def is_server_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (raised by chromadb's HTTP client) means the server is down, refused us or failed."""
    import httpx
    from chromadb.errors import ChromaError

    if isinstance(exc, (httpx.HTTPError, ChromaError, ConnectionError, TimeoutError)):
        return True
    # chromadb raises a bare Exception(response text) for an HTTP error without a Chroma error body
    # (a proxy's 401/502, for example); it also says "Could not connect" as a ValueError.
    return type(exc) is Exception or (isinstance(exc, ValueError) and "connect" in str(exc).lower())


def describe_failure(settings: Settings, exc: BaseException) -> tuple[str, str]:
    """(message, reason) for a failure of the server while in use."""
    import httpx

    where = settings.chroma_url
    if isinstance(exc, httpx.TimeoutException):
        return (f"the Chroma server at {where} did not answer within {settings.chroma_timeout_s:g} s "
                "(raise KB_CHROMA_TIMEOUT_S if it is only slow)", "timeout")
    if isinstance(exc, (httpx.TransportError, ConnectionError, ValueError)):
        return (f"lost the connection to the Chroma server at {where} ({type(exc).__name__}: {exc}); "
                "is it running?", "unreachable")
    text = str(exc).strip()[:300]
    return f"the Chroma server at {where} failed: {type(exc).__name__}: {text}", "error"


class GuardedCollection:
    """A chromadb collection whose server failures become ``StoreUnavailable`` and drop the connection."""

    def __init__(self, collection: Any, on_failure: Any, settings: Settings) -> None:
        self._collection = collection
        self._on_failure = on_failure
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except Exception as exc:
                if not is_server_failure(exc):
                    raise
                self._on_failure()
                _, unavailable = _errors()
                message, reason = describe_failure(self._settings, exc)
                raise unavailable(message, reason=reason) from exc

        return call
