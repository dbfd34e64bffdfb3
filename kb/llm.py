"""The answer generator: a local llama.cpp model or any OpenAI-compatible server.

Design choices:
- One small protocol (``Backend``: ``name``, ``stream_chat``, ``chat``) over OpenAI-style
  messages. Backends never build prompt strings: the local backend hands the messages to
  llama.cpp's server code, which applies the model's own chat template (ChatML for Qwen;
  a hand-made wrapper made the model answer wrongly), and remote servers do the same.
- Local backend = xllamacpp's in-process ``Server`` (llama.cpp's own server code) called
  through ``handle_chat_completions`` with a streaming callback, not over HTTP. The model is
  loaded once per (path, context, threads) and kept in a module-level cache, so every
  ``LlamaCppBackend`` for the same file shares it. xllamacpp always opens an HTTP listener
  as well; we bind it to 127.0.0.1 on a random port and protect it with a random API key, so
  nothing else can use it.
- One generation at a time per model (a lock, one server slot). On 2 cores parallel answers
  only share the same CPU and each gets slower; one slot also keeps the prompt cache simple.
- Threads: reading the prompt (``n_threads_batch``, default 2) and generating (``n_threads``,
  default 1) are set apart. Generation synchronises its threads at every layer of every
  token, so two threads on two cores stall whenever anything else runs (a retrieval for
  another user, another process): measured 0.3 tokens/s with two threads against 2.8–4.7
  with one on a busy machine, while prompt reading, done in large batches, still gained
  from two (14.6 against 7.9 tokens/s).
- Prompt caching: llama.cpp's ``cache_prompt`` keeps the slot's KV cache between calls and
  re-evaluates only the part of the new prompt after the longest common prefix. A stable
  system prompt placed first is therefore evaluated once (measured in
  ``benchmarks/bench_llm.py``). ``n_keep`` only matters for context shifting, which is off:
  a prompt that does not fit the context is an ``LLMError`` saying so, never silently cut.
- Timeout: ``timeout_s`` bounds the whole answer, including waiting for another answer to
  finish. When it passes, generation is stopped (llama.cpp cancels the task, also during
  prompt evaluation, which reports progress every ``n_batch`` tokens) and the stream raises
  ``LLMTimeoutError`` (an ``LLMError``) after the pieces already yielded; the exception's
  ``partial`` holds that text. Raising rather than ending quietly means a cut-off answer is
  never mistaken for a complete one; a caller that wants the partial text has it.
- ``max_tokens`` is passed to the server; hitting it ends the stream normally (finish
  reason "length"), as with any OpenAI API.
- A fixed sampling seed (``KB_LLM_SEED``, default 42) goes with every request, so asking again
  does not change what the assistant says. Only nearly: llama.cpp's logits for a prompt read
  afresh and for the same prompt from its cache differ in the last digits, which at temperature
  0.1 seldom changes a token (measured at temperature 1 in ``tests/test_llm.py``).
- Temperature 0.1: nearly greedy. Greedy decoding (0.0) was measured on 41 dev questions:
  27 answers came out word for word the same, key facts 0.62 both ways, evidence cited 0.89
  → 0.84. Nothing was gained, so it stays.
- Remote backend: plain ``httpx`` streaming of ``/v1/chat/completions`` (SSE). Connection
  refused, time-outs, HTTP errors and malformed streams become ``LLMError`` messages naming
  the URL. The time-out is checked between streamed events and is also httpx's per-read
  time-out, so a server that stalls completely is noticed after at most ``timeout`` seconds
  of silence.
- ``as_llama_index_llm`` wraps any backend in a llama-index ``CustomLLM`` whose chat methods
  pass messages straight through (the ``CustomLLM`` default would flatten them into a
  hand-built prompt string, which is exactly what must not happen).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from kb.config import Settings

log = logging.getLogger(__name__)

Message = dict[str, str]
ROLES = ("system", "user", "assistant")
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_TOKENS = 400


class LLMError(RuntimeError):
    """The language model could not answer; the message says why in plain words."""


class LLMTimeoutError(LLMError):
    """The answer took longer than the time-out; ``partial`` is the text produced so far."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


@runtime_checkable
class Backend(Protocol):
    """What the rest of the product needs from a language model."""

    name: str

    def stream_chat(self, messages: list[Message], *, max_tokens: int | None = None,
                    temperature: float = 0.1, stop: list[str] | None = None) -> Iterator[str]:
        """Yield the answer's text in pieces as the model produces them."""
        ...

    def chat(self, messages: list[Message], *, max_tokens: int | None = None,
             temperature: float = 0.1, stop: list[str] | None = None) -> str:
        """The whole answer as one string."""
        ...


def _check_messages(messages: Sequence[Message]) -> list[Message]:
    if not messages:
        raise ValueError("messages must not be empty")
    out = []
    for i, msg in enumerate(messages):
        role, content = msg.get("role"), msg.get("content")
        if role not in ROLES:
            raise ValueError(f"message {i}: role must be one of {', '.join(ROLES)}, got {role!r}")
        if not isinstance(content, str):
            raise ValueError(f"message {i}: content must be a string, got {type(content).__name__}")
        out.append({"role": role, "content": content})
    return out


class _BaseBackend:
    name: str = "llm"
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_tokens: int = DEFAULT_MAX_TOKENS
    context_window: int | None = None
    seed: int | None = None  # sampling seed sent with every request; None or negative: the server's own

    def _options(self, stop: list[str] | None) -> dict[str, Any]:
        """Stop strings and the seed: the same fields in the local and the server request."""
        out: dict[str, Any] = {"stop": list(stop)} if stop else {}
        if self.seed is not None and self.seed >= 0:
            out["seed"] = self.seed  # OpenAI, vLLM, Ollama and llama.cpp's server take it; others ignore it
        return out

    def stream_chat(self, messages: list[Message], *, max_tokens: int | None = None,
                    temperature: float = 0.1, stop: list[str] | None = None) -> Iterator[str]:
        raise NotImplementedError

    def chat(self, messages: list[Message], *, max_tokens: int | None = None,
             temperature: float = 0.1, stop: list[str] | None = None) -> str:
        parts: list[str] = []
        try:
            for piece in self.stream_chat(messages, max_tokens=max_tokens, temperature=temperature, stop=stop):
                parts.append(piece)
        except LLMTimeoutError as exc:
            exc.partial = "".join(parts)
            raise
        return "".join(parts)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _chunk_error(chunk: Any) -> str | None:
    """The error message in a llama.cpp/OpenAI error object, if ``chunk`` is one."""
    if not isinstance(chunk, dict):
        return f"unexpected response {str(chunk)[:200]!r}"
    err = chunk.get("error")
    if err is None and "message" in chunk and "choices" not in chunk:
        err = chunk  # xllamacpp reports callback/parse failures as a bare {code, type, message}
    if err is None:
        return None
    if isinstance(err, dict):
        text = str(err.get("message") or err.get("type") or err)
        if err.get("type") == "exceed_context_size_error":
            text += " (use fewer or shorter passages, or raise KB_LLM_CONTEXT)"
        return text
    return str(err)


def _read_chunk(chunk: dict, who: str) -> tuple[str, bool, dict | None]:
    """(text, finished, timings) of one OpenAI-style chunk, for both backends; an error chunk raises.

    ``who`` names the backend in the message ("the local model", "the LLM server at …").
    """
    error = _chunk_error(chunk)
    if error:
        raise LLMError(f"{who} could not answer: {error}")
    piece, finish_reason = _delta_text(chunk)
    timings = (chunk.get("timings") or chunk.get("usage")) if finish_reason else None
    return piece, bool(finish_reason), timings


def _delta_text(chunk: dict[str, Any]) -> tuple[str, str | None]:
    """(content piece, finish_reason) of one streamed chat-completion chunk."""
    choices = chunk.get("choices") or []
    if not choices:
        return "", None
    choice = choices[0]
    delta = choice.get("delta") or choice.get("message") or {}
    return delta.get("content") or "", choice.get("finish_reason")


# ---------------------------------------------------------------------------- local llama.cpp


@dataclass
class _LocalModel:
    """One loaded model: the xllamacpp server and the lock that serialises generation."""

    server: Any
    path: str
    n_ctx: int
    lock: threading.Lock = field(default_factory=threading.Lock)


_models: dict[tuple[str, int, int, int, int], _LocalModel] = {}
_models_lock = threading.Lock()


def _common_params(model_path: str, n_ctx: int, n_threads: int, n_batch: int,
                   host: str, port: int, api_key: str | None, n_threads_batch: int | None = None) -> Any:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = model_path
    params.n_ctx = n_ctx
    params.n_parallel = 1  # one slot: one answer at a time, one prompt cache
    params.n_batch = n_batch
    params.n_ubatch = n_batch
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads_batch or n_threads  # prompt reading
    params.cache_prompt = True
    params.cache_ram_mib = 1024  # host-RAM copies of earlier prompts' KV; bounded
    params.ctx_shift = False  # a prompt that does not fit is an error, not silently cut
    params.verbosity = 0
    params.hostnames = [host]
    params.port = port
    params.api_keys = [api_key] if api_key else []
    return params


def _start_server(params: Any, what: str) -> Any:
    import xllamacpp as xlc

    try:
        return xlc.Server(params)
    except Exception as exc:  # xllamacpp raises RuntimeError("Failed to init server ...")
        raise LLMError(f"llama.cpp could not start {what}: {exc} (is the file a complete GGUF model? "
                       "is the port free?)") from exc


def _check_gguf(model_path: str | Path) -> str:
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise LLMError(f"the language model file {path} does not exist; run `kb models fetch` "
                       "(or set KB_LLM_MODEL to a .gguf file, or KB_LLM_URL to a server)")
    return str(path.resolve())


def _local_model(model_path: str | Path, n_ctx: int, n_threads: int, n_batch: int,
                 n_threads_batch: int | None = None) -> _LocalModel:
    path = _check_gguf(model_path)
    n_threads_batch = n_threads_batch or n_threads
    key = (path, n_ctx, n_threads, n_batch, n_threads_batch)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            log.info("loading %s (context %d, %d+%d threads)", path, n_ctx, n_threads, n_threads_batch)
            # The side HTTP listener xllamacpp always opens: loopback, random port, random key.
            params = _common_params(path, n_ctx, n_threads, n_batch, "127.0.0.1", 0, secrets.token_urlsafe(24),
                                    n_threads_batch)
            model = _LocalModel(_start_server(params, f"the model {path}"), path, n_ctx)
            _models[key] = model
        return model


def unload_local_models() -> None:
    """Forget the cached local models; each is freed once no backend uses it any more."""
    with _models_lock:
        _models.clear()


class LlamaCppBackend(_BaseBackend):
    """A GGUF model run in this process by llama.cpp (xllamacpp), loaded once per file."""

    def __init__(self, model_path: str | Path, n_ctx: int = 4096, n_threads: int = 2, *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_tokens: int = DEFAULT_MAX_TOKENS,
                 n_batch: int = 256, n_threads_batch: int | None = None, seed: int | None = None) -> None:
        self._model = _local_model(model_path, n_ctx, n_threads, n_batch, n_threads_batch)
        self.seed = seed
        self.name = f"llama.cpp:{Path(self._model.path).name}"
        self.model_path = self._model.path
        self.context_window = n_ctx
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.last_timings: dict[str, Any] | None = None  # llama.cpp's timings of the last answer

    def stream_chat(self, messages: list[Message], *, max_tokens: int | None = None,
                    temperature: float = 0.1, stop: list[str] | None = None) -> Iterator[str]:
        request: dict[str, Any] = {
            "messages": _check_messages(messages),
            "stream": True,
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": temperature,
            "cache_prompt": True,
            "return_progress": True,  # callbacks during prompt evaluation, so time-outs bite there too
        }
        return self._generate(request | self._options(stop))

    def _timeout(self, what: str, partial: str) -> LLMTimeoutError:
        return LLMTimeoutError(f"timed out after {self.timeout_s:g} s: {what} "
                               "(raise KB_LLM_TIMEOUT_S, or lower KB_LLM_MAX_TOKENS)", partial)

    def _generate(self, request: dict[str, Any]) -> Iterator[str]:
        model = self._model
        start = time.monotonic()
        deadline = start + self.timeout_s
        if not model.lock.acquire(timeout=max(self.timeout_s, 0.0)):
            raise self._timeout("another answer was still being generated", "")

        items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        cancel = threading.Event()
        state = {"timed_out": False}
        done = object()

        def on_chunk(chunk: Any) -> bool:
            if cancel.is_set():
                return True  # returning True makes llama.cpp cancel the task
            if time.monotonic() > deadline:
                state["timed_out"] = True
                return True
            items.put(chunk)
            return False

        def run() -> None:
            try:
                model.server.handle_chat_completions(request, on_chunk)
            except Exception as exc:  # bad request JSON and the like
                items.put(exc)
            finally:
                items.put(done)
                model.lock.release()

        try:
            threading.Thread(target=run, name="kb-llm-generate", daemon=True).start()
        except BaseException:
            model.lock.release()
            raise

        parts: list[str] = []
        finished = False
        try:
            while True:
                try:
                    item = items.get(timeout=max(deadline - time.monotonic(), 0.001))
                except queue.Empty:
                    what = "the model was still reading the prompt" if not parts else "the answer was not finished"
                    raise self._timeout(what, "".join(parts)) from None
                if item is done:
                    break
                if isinstance(item, Exception):
                    raise LLMError(f"the local model rejected the request: {item}") from item
                piece, finished_now, timings = _read_chunk(item, "the local model")
                if piece:
                    parts.append(piece)
                    yield piece
                if finished_now:
                    finished = True
                    self.last_timings = timings
            if state["timed_out"]:
                raise self._timeout("the answer was not finished", "".join(parts))
            if not finished:
                raise LLMError("the local model stopped before finishing the answer")
        finally:
            cancel.set()  # also when the caller stops reading: the generation is cancelled


# ---------------------------------------------------------------------------- OpenAI-compatible


def chat_completions_url(base_url: str) -> str:
    """``http://h:p``, ``http://h:p/v1`` or the full endpoint → the chat-completions URL."""
    url = base_url.strip().rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def _iter_sse(lines: Iterator[str]) -> Iterator[str]:
    """The data payloads of a server-sent-events stream."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def _http_error_message(response: Any) -> str:
    try:
        body = response.read().decode("utf-8", "replace")
    except Exception:
        body = ""
    detail = body.strip()[:300]
    try:
        parsed = json.loads(body)
        detail = _chunk_error(parsed) or detail
    except ValueError:
        pass
    return detail


class OpenAICompatibleBackend(_BaseBackend):
    """Any server with an OpenAI-style ``/v1/chat/completions`` (Ollama, vLLM, LM Studio,
    llama.cpp's server, OpenAI), streamed over SSE with httpx."""

    def __init__(self, base_url: str, api_key: str | None = None, model: str = "local",
                 timeout: float = DEFAULT_TIMEOUT_S, *, max_tokens: int = DEFAULT_MAX_TOKENS,
                 context_window: int | None = None, seed: int | None = None) -> None:
        import httpx

        self.seed = seed
        self.url = chat_completions_url(base_url)
        self.model = model
        self.timeout_s = timeout
        self.max_tokens = max_tokens
        self.context_window = context_window
        self.name = f"openai:{model}@{self.url}"
        self.last_timings: dict[str, Any] | None = None
        headers = {"Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        )

    def close(self) -> None:
        self._client.close()

    def stream_chat(self, messages: list[Message], *, max_tokens: int | None = None,
                    temperature: float = 0.1, stop: list[str] | None = None) -> Iterator[str]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": _check_messages(messages),
            "stream": True,
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": temperature,
        }
        return self._generate(payload | self._options(stop))

    def _timeout(self, partial: str) -> LLMTimeoutError:
        return LLMTimeoutError(f"timed out after {self.timeout_s:g} s waiting for the LLM server at {self.url} "
                               "(raise KB_LLM_TIMEOUT_S, or lower KB_LLM_MAX_TOKENS)", partial)

    def _generate(self, payload: dict[str, Any]) -> Iterator[str]:
        import httpx

        deadline = time.monotonic() + self.timeout_s
        parts: list[str] = []
        try:
            with self._client.stream("POST", self.url, json=payload) as response:
                if response.status_code >= 400:
                    raise LLMError(self._status_message(response))
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # A server that ignored "stream": the whole answer at once.
                    response.read()
                    try:
                        body = response.json()
                    except ValueError:
                        raise LLMError(f"the LLM server at {self.url} sent a response that is not JSON: "
                                       f"{response.text[:200]!r}") from None
                    text, _, _ = _read_chunk(body, f"the LLM server at {self.url}")
                    if text:
                        yield text
                    return
                finished = False
                for data in _iter_sse(response.iter_lines()):
                    if data.strip() == "[DONE]":
                        finished = True
                        break
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        raise LLMError(f"the LLM server at {self.url} sent a malformed event: {data[:200]!r}") from None
                    piece, finished_now, timings = _read_chunk(chunk, f"the LLM server at {self.url}")
                    if piece:
                        parts.append(piece)
                        yield piece
                    if finished_now:
                        finished = True
                        self.last_timings = timings
                    if time.monotonic() > deadline:
                        raise self._timeout("".join(parts))
                if not finished:
                    raise LLMError(f"the LLM server at {self.url} ended the stream before the answer was finished")
        except httpx.TimeoutException as exc:
            raise self._timeout("".join(parts)) from exc
        except httpx.ConnectError as exc:
            raise LLMError(f"cannot reach the LLM server at {self.url}: {exc or 'connection refused'} "
                           "(is it running? check KB_LLM_URL)") from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"the connection to the LLM server at {self.url} failed: "
                           f"{type(exc).__name__}: {exc}") from exc

    def _status_message(self, response: Any) -> str:
        status = response.status_code
        detail = _http_error_message(response)
        hint = ""
        if status in (401, 403):
            hint = " (check KB_LLM_API_KEY)"
        elif status == 404:
            hint = " (check KB_LLM_URL and KB_LLM_REMOTE_MODEL)"
        return f"the LLM server at {self.url} answered HTTP {status}{hint}: {detail or response.reason_phrase}"


# ---------------------------------------------------------------------------- choosing a backend


def load_llm(settings: Settings) -> Backend:
    """The backend the settings ask for: a server when ``llm_url`` is set, else local llama.cpp."""
    if settings.llm_url:
        return OpenAICompatibleBackend(settings.llm_url, settings.llm_api_key, settings.llm_remote_model,
                                       settings.llm_timeout_s, max_tokens=settings.llm_max_tokens,
                                       context_window=settings.llm_context, seed=settings.llm_seed)
    from kb.models import ModelError, resolve

    setting = settings.llm_model
    if setting.endswith(".gguf") and not Path(setting).expanduser().exists():
        raise LLMError(f"the language model file {setting} does not exist; run `kb models fetch` "
                       "or set KB_LLM_MODEL to an existing .gguf file")
    try:
        spec = resolve(setting, settings.models_dir, "llm")
    except ModelError as exc:
        raise LLMError(str(exc)) from exc
    if spec.kind != "gguf" or not spec.path:
        raise LLMError(f"the language model {setting!r} is not a GGUF file, which the local llama.cpp backend "
                       "needs; set KB_LLM_MODEL to a recipe (`kb models list`) or a .gguf path, or set KB_LLM_URL "
                       "to an OpenAI-compatible server")
    return LlamaCppBackend(spec.path, settings.llm_context, settings.llm_threads,
                           timeout_s=settings.llm_timeout_s, max_tokens=settings.llm_max_tokens,
                           n_threads_batch=settings.llm_batch_threads, seed=settings.llm_seed)


# ---------------------------------------------------------------------------- local HTTP server


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LocalServer:
    """llama.cpp's OpenAI-compatible HTTP server, running in this process (see start_local_server)."""

    def __init__(self, server: Any, api_key: str | None) -> None:
        self._server: Any = server
        self.url: str = server.listening_address  # e.g. http://127.0.0.1:PORT (no /v1)
        self.api_key = api_key

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        """Stop serving and free the model (waits for the server loop to end). Idempotent."""
        server, self._server = self._server, None
        del server  # the last reference: xllamacpp's destructor terminates the loop and the listener

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LocalServer {self.url} {'running' if self.running else 'stopped'}>"


def start_local_server(model_path: str | Path, host: str = "127.0.0.1", port: int = 0, n_ctx: int = 4096,
                       n_threads: int = 2, *, api_key: str | None = None, n_batch: int = 256,
                       n_threads_batch: int | None = None) -> LocalServer:
    """Serve ``model_path`` over an OpenAI-compatible HTTP API in a background thread.

    ``port=0`` picks a free port (read it from ``.url``). Returns once the model is loaded.
    Use as a context manager or call ``.stop()``. The model is loaded separately from the
    in-process backends' cache.
    """
    path = _check_gguf(model_path)
    if not _is_loopback(host) and not api_key:
        log.warning("serving %s on %s without an API key: anyone who can reach it can use it", path, host)
    params = _common_params(path, n_ctx, n_threads, n_batch, host, port, api_key, n_threads_batch)
    return LocalServer(_start_server(params, f"a server for {path} on {host}:{port}"), api_key)


# ---------------------------------------------------------------------------- llama-index


def _to_message(message: Any) -> Message:
    role = str(getattr(message.role, "value", message.role))
    role = {"developer": "system", "model": "assistant", "chatbot": "assistant"}.get(role, role)
    if role not in ROLES:
        role = "user"
    return {"role": role, "content": message.content or ""}


def as_llama_index_llm(backend: Backend, *, context_window: int | None = None,
                       temperature: float = 0.1) -> Any:
    """A llama-index ``CustomLLM`` that generates with ``backend``."""
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseGen,
        CompletionResponse,
        CompletionResponseGen,
        LLMMetadata,
        MessageRole,
    )
    from llama_index.core.llms import CustomLLM
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from pydantic import PrivateAttr

    class BackendLLM(CustomLLM):
        """Passes messages to the backend as they are: the model's chat template applies."""

        context_window: int = 4096
        num_output: int = DEFAULT_MAX_TOKENS
        temperature: float = 0.1
        model_name: str = "kb-llm"
        _backend: Any = PrivateAttr()

        def __init__(self, backend: Backend, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._backend = backend

        @classmethod
        def class_name(cls) -> str:
            return "kb_backend_llm"

        @property
        def backend(self) -> Backend:
            return self._backend

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=self.context_window, num_output=self.num_output,
                               is_chat_model=True, model_name=self.model_name)

        def _prompt_messages(self, prompt: str, formatted: bool) -> list[Message]:
            messages = []
            if self.system_prompt and not formatted:
                messages.append({"role": "system", "content": self.system_prompt})
            messages.append({"role": "user", "content": prompt})
            return messages

        def _gen_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
            return {"max_tokens": kwargs.get("max_tokens"), "temperature": kwargs.get("temperature", self.temperature),
                    "stop": kwargs.get("stop")}

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            text = self._backend.chat(self._prompt_messages(prompt, formatted), **self._gen_kwargs(kwargs))
            return CompletionResponse(text=text)

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
            pieces = self._backend.stream_chat(self._prompt_messages(prompt, formatted), **self._gen_kwargs(kwargs))

            def gen() -> CompletionResponseGen:
                text = ""
                for piece in pieces:
                    text += piece
                    yield CompletionResponse(text=text, delta=piece)

            return gen()

        @llm_chat_callback()
        def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
            text = self._backend.chat([_to_message(m) for m in messages], **self._gen_kwargs(kwargs))
            return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text))

        @llm_chat_callback()
        def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
            pieces = self._backend.stream_chat([_to_message(m) for m in messages], **self._gen_kwargs(kwargs))

            def gen() -> ChatResponseGen:
                text = ""
                for piece in pieces:
                    text += piece
                    yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=piece)

            return gen()

    window = context_window or getattr(backend, "context_window", None) or 4096
    return BackendLLM(backend, context_window=window, num_output=getattr(backend, "max_tokens", DEFAULT_MAX_TOKENS),
                      temperature=temperature, model_name=backend.name)


__all__ = [
    "Backend",
    "LLMError",
    "LLMTimeoutError",
    "LlamaCppBackend",
    "LocalServer",
    "OpenAICompatibleBackend",
    "as_llama_index_llm",
    "chat_completions_url",
    "load_llm",
    "start_local_server",
    "unload_local_models",
]
