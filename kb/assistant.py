"""``kb.Assistant``: the one object the app, the CLI and the evaluation talk to.

Design choices:
- It owns the loaded pieces (store, embedder, retriever) so they load once per process.
- Questions are validated here, once, with messages in the asker's language: the app and
  the CLI only display them.
"""

from __future__ import annotations

import contextlib
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from kb.accents import needs_accents, word_list_spellings
from kb.config import Settings
from kb.injection import instruction_like
from kb.llm import LLMError
from kb.queue import GenerationQueue, QueueFull, QueueTimeout
from kb.retrieval import Passage, Retriever
from kb.store import StoreError
from kb.text import guess_language


class QuestionError(ValueError):
    """The question cannot be used; ``str(exc)`` is a message for the user, in their language."""


class UnavailableError(QuestionError):
    """The index (a Chroma server) cannot be reached or used right now.

    ``str(exc)`` is a message for the user in their language; ``detail`` is the technical reason
    (for logs and administrators). A ``QuestionError``, so whatever shows question errors shows
    this one too. Asking again works as soon as the server is back, without a restart.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


UNAVAILABLE = {
    "sv": "Kunskapsbasen går inte att nå just nu, så frågan kan inte besvaras. Försök igen om en stund.",
    "en": "The knowledge base cannot be reached right now, so the question cannot be answered. "
          "Please try again in a moment.",
}


def clean_question(question: str, settings: Settings) -> tuple[str, str]:
    """Normalise a question and detect its language; raise ``QuestionError`` if unusable."""
    if not isinstance(question, str):
        raise QuestionError("Frågan måste vara text. / The question must be text.")
    given = len(question)
    if given > 4 * settings.max_question_chars:  # megabytes pasted or posted: not worth cleaning
        question = question[:4 * settings.max_question_chars + 1]
    # Controls become spaces; invisible format characters (soft hyphens, bidi overrides,
    # zero-width joiners), lone surrogates and unassigned code points go; NFKC composes
    # "a" + U+0308 into "ä" and folds full-width letters, so search sees ordinary words.
    text = "".join(" " if c in "\n\t" or unicodedata.category(c) == "Cc" else c for c in question
                   if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn"))
    text = unicodedata.normalize("NFKC", text).strip()
    language = guess_language(text[:settings.max_question_chars]) if text else "sv"
    if not text:
        raise QuestionError("Skriv en fråga. / Please type a question.")
    if len(text) > settings.max_question_chars:
        n = len(text) if given == len(question) else given
        if language == "en":
            raise QuestionError(f"The question is too long ({n} characters; at most {settings.max_question_chars}). "
                                "Please shorten it.")
        raise QuestionError(f"Frågan är för lång ({n} tecken; högst {settings.max_question_chars}). Korta ner den.")
    return " ".join(text.split()), language


@dataclass(frozen=True)
class Turn:
    """A question made ready for answering: cleaned, condensed with the history, its passages found."""

    text: str  # the cleaned question
    query: str  # what was searched for (the question with the previous one, for a follow-up)
    previous: str | None  # the previous question a follow-up was read with
    language: str
    passages: list[Passage]


class Assistant:
    def __init__(self, settings: Settings | None = None, retriever: Retriever | None = None) -> None:
        """``retriever``: share already loaded models (and their index) with another assistant."""
        self.settings = settings or Settings.from_env()
        self.retriever = retriever or Retriever(self.settings)
        self._backend = None
        self._llm_lock = threading.Lock()
        self.queue = GenerationQueue(self.settings.llm_concurrency, self.settings.queue_size,
                                     self.settings.queue_timeout_s)

    def retrieve(self, question: str, k: int | None = None, filters: dict | None = None) -> tuple[str, list[Passage]]:
        """(language, passages) for a question; raises ``QuestionError`` for unusable input."""
        text, language = self._cleaned(question)
        return language, self._search(text, k or self.settings.top_k, filters, language)

    def _cleaned(self, question: str) -> tuple[str, str]:
        """``clean_question``, and a Swedish question typed without å/ä/ö given them back
        (``kb.accents``): the embedding model and the LLM read "från" better than "fran"."""
        text, language = clean_question(question, self.settings)
        if needs_accents(text, language):
            with contextlib.suppress(StoreError):  # a store that is down is reported by the search
                text = self.retriever.respell(text)
        return text, language

    def _search(self, query: str, k: int, filters: dict | None, language: str) -> list[Passage]:
        try:
            return self.retriever.retrieve(query, k=k, filters=filters, language=language)
        except StoreError as exc:  # a Chroma server down, slow or refusing the token
            raise UnavailableError(UNAVAILABLE.get(language, UNAVAILABLE["sv"]), str(exc)) from exc

    def warm(self) -> None:
        """Load the models now (in a background thread at app start) so the first question is quick."""
        with contextlib.suppress(StoreError):  # a server that is down is reported when a question needs it
            self.retriever.retrieve("civilsamhälle", k=1, language="sv")
        if self.settings.answer_mode == "llm":
            with contextlib.suppress(LLMError):  # reported when a question needs it; extraction still works
                backend = self._llm()
                if not self.settings.llm_url:  # read the system prompt and examples into llama.cpp's prompt
                    from kb.answer import prompt_messages  # cache now: the first question starts from them

                    backend.chat(prompt_messages("."), max_tokens=1)
        with contextlib.suppress(StoreError):  # last, so the LLM is ready first (~40 s of embedding)
            self.retriever.warm_sentences()
        word_list_spellings()  # for the first question typed without å/ä/ö (~0.5 s)

    # The LLM is loaded on first use; ``mode`` "extractive" never loads it.
    def _llm(self):  # noqa: ANN202
        with self._llm_lock:  # two first questions at once must not load two models
            if self._backend is None:
                from kb.llm import load_llm

                self._backend = load_llm(self.settings)
        return self._backend

    def _turn(self, question: str, history: list[dict] | None, filters: dict | None) -> Turn:
        text, language = self._cleaned(question)
        query, previous = condense(text, history)
        if previous and len(text.split()) <= 3:
            language = guess_language(previous) if guess_language(text) != "en" else language
        return Turn(text, query, previous, language, self._search(query, self.settings.top_k, filters, language))

    def _scored(self, turn: Turn) -> list:
        """The passages' best sentences, or none when the question is to be refused without the LLM:
        off-topic, orders to the assistant, the wording of a document we only link to (or what it
        says about something no passage found names), or another region's own plan."""
        from kb import context as C
        from kb import refusal as R

        if (not R.confident(turn.passages) or instruction_like(turn.text) or R.other_region(turn.text)
                or R.unheld_documents(turn.text, self.cited_only, turn.passages, turn.language)):
            return []
        return C.score_sentences(turn.query, turn.language, turn.passages, self.retriever.embedder)

    def _context(self, turn: Turn, scored: list) -> tuple[str, list]:
        from kb import context as C

        return C.build_context(scored, turn.passages, question=turn.text, neighbour=self.retriever.neighbour,
                               language=turn.language)

    def context(self, question: str, history: list[dict] | None = None,
                filters: dict | None = None) -> tuple[str, list]:
        """The numbered source lines and their ``kb.context.Ref``s the LLM would be given for this
        question ("" and [] when it is refused before the LLM): what ``evals.context`` measures,
        built by the same steps as ``ask_stream``."""
        turn = self._turn(question, history, filters)
        scored = self._scored(turn)
        return self._context(turn, scored) if scored else ("", [])

    def ask_stream(self, question: str, history: list[dict] | None = None, filters: dict | None = None,
                   mode: str | None = None) -> Iterator[dict]:
        """Yield events: ``sources`` (passages, first), ``queue`` (position while waiting for the LLM),
        ``token`` (answer text), ``notice``, and ``answer`` (verified, last).

        ``mode``: "llm" (default when a model is configured) or "extractive".
        """
        from kb import answer as A
        from kb import context as C
        from kb import refusal as R
        from kb import terms as T
        from kb import verify as V

        t0 = time.perf_counter()
        turn = self._turn(question, history, filters)
        text, language, passages, previous = turn.text, turn.language, turn.passages, turn.previous
        result = A.Answer(question=text, language=language, passages=passages)
        result.timings = {"retrieve_s": time.perf_counter() - t0, "first_token_s": None, "total_s": None}
        yield {"type": "sources", "passages": passages, "language": language}

        mode = mode or self.settings.answer_mode
        scored = self._scored(turn)
        if not scored:  # off-topic, orders, a linked-only document's wording, or only orders found
            self._refuse(result)
            result.backend = "none"
            yield from self._finish(result, t0, stream_text=True)
            return

        if mode == "extractive":
            self._extract(result, text, self._context(turn, scored)[1])
            yield from self._finish(result, t0, stream_text=True)
            return

        context, refs = self._context(turn, scored)
        asked = f"{text} ({previous})" if previous else text
        items = refs[0].items if refs and C.asks_all(text, refs[0].items) else 0  # the list comes first
        messages = A.prompt_messages(A.user_message(asked, language, context, items))
        pieces: list[str] = []
        try:
            with self.queue.slot() as positions:
                for position in positions:
                    yield {"type": "queue", "position": position}
                backend = self._llm()
                result.backend = backend.name
                held = ""
                for piece in backend.stream_chat(messages, max_tokens=self.settings.llm_max_tokens):
                    if result.timings["first_token_s"] is None:
                        result.timings["first_token_s"] = time.perf_counter() - t0
                    pieces.append(piece)
                    if V.repeating("".join(pieces)):  # looping until the token limit: stop here
                        break
                    held += piece
                    if A.REFUSAL_MARKER.startswith(held.strip()) or A.REFUSAL_MARKER in held:
                        continue  # could still be (or is) the refusal marker: never show it
                    yield {"type": "token", "text": held}
                    held = ""
        except (LLMError, QueueFull, QueueTimeout) as exc:  # down, failed, timed out or busy: extract instead
            if isinstance(exc, LLMError):
                result.notices.append(A.text_for(language, "fallback_notice") + f" ({exc})")
            else:
                result.notices.append(A.text_for(language, "busy_notice"))
            self._extract(result, text, refs)
            yield {"type": "notice", "text": result.notices[-1]}
            yield from self._finish(result, t0, stream_text=True)
            return
        raw = "".join(pieces).strip()
        if A.REFUSAL_MARKER in raw and len(raw.replace(A.REFUSAL_MARKER, "").strip()) < 20:
            if self._may_quote(text) and (C.names_section(text, language, passages[0].section)
                                          or passages[0].best_dense >= R.DECLINED_QUOTE_SIMILARITY):
                # the question names the section retrieval ranked first, or a passage is this close,
                # yet the small model found no answer (it says NO_ANSWER to "own budget?" as if an
                # amount were asked, and to "Did SOU 2016:13 recommend a law …?" with the answer in [1])
                self._quote(result, text, refs, "declined_notice")
            else:
                self._refuse(result)
            yield from self._finish(result, t0, stream_text=True)
            return
        verified, citations, removed = V.verify_answer(
            raw.replace(A.REFUSAL_MARKER, ""), refs, passages, self.retriever.embedder, language, question=text,
            translate=lambda quoted: self._meanings(language, passages, quoted))  # quotes standing in, in English
        result.removed_claims = removed
        if (not verified and removed and self._may_quote(text)
                and not V.invents_numbers(removed, [f"{p.title}\n{p.section}\n{p.text}" for p in passages]
                                          + [C.ref_text(r, passages) for r in refs] + [text])):
            self._quote(result, text, refs, "unverified_notice")  # nothing the model wrote holds
        elif not verified or R.lacks_asked_number(text, verified):
            self._refuse(result)
        else:
            result.answer, result.citations = verified, citations
            if language == "en":  # Swedish terms the model left untranslated: "voice (röstbärare)"
                result.answer = T.english_first(verified)
            if removed:
                result.notices.append(A.text_for(language, "removed_notice").format(n=len(removed)))
        yield from self._finish(result, t0, stream_text=False)

    def _refuse(self, result) -> None:  # noqa: ANN001
        """Say plainly that the documents do not cover the question, and name what they do cover."""
        from kb import refusal as R

        result.refused = True
        result.answer = R.refusal_text(result.language, result.question, self.cited_only, result.passages)

    def _may_quote(self, question: str) -> bool:
        """Whether the sources' own sentences may be shown where the model's answer failed: not with
        ``KB_UNVERIFIED=refuse``, and not for an amount, a day or a person, which quotes would only
        seem to answer."""
        from kb import refusal as R

        return self.settings.unverified == "extractive" and not R.asks_specific(question)

    def _quote(self, result, question: str, refs: list, notice: str) -> None:  # noqa: ANN001
        """The sources' own sentences instead of the model's answer, with a notice saying why."""
        from kb import answer as A

        model = result.backend
        meanings = self._meanings(result.language, result.passages, A.quoted_refs(result.passages, refs))
        self._extract(result, question, refs, meanings)
        result.backend = f"{model}+extractive"
        if not result.refused:
            result.notices.append(A.text_for(result.language, notice))

    def _meanings(self, language: str, passages: list, refs: list) -> dict[str, str]:
        """For an English reader: the model's checked English of the quoted Swedish sentences
        (``kb.translate``), within the configured number and time; {} for anyone else."""
        from kb import translate

        sentences = [r.sentence for r in refs if passages[r.passage].language != "en"]
        if language != "en" or not sentences or self.settings.quote_translations <= 0:
            return {}
        try:
            with self.queue.slot() as positions:  # the model is shared: wait for a turn like an answer
                for _ in positions:
                    pass
                return translate.translations(self._llm(), sentences, self.settings.quote_translations,
                                              self.settings.quote_translation_s)
        except (QueueFull, QueueTimeout):  # busy: the quotes keep their term glosses
            return {}

    def _extract(self, result, question: str, refs: list, meanings: dict[str, str] | None = None) -> None:  # noqa: ANN001
        """The context's first source sentences (``kb.context.Ref``s) instead of the model's words;
        refused, like the model's answer, when the question asks for an amount or a day and no
        quoted sentence has one, or when there is nothing to quote (a heading alone answers nothing).
        ``meanings``: the quotes' translations for an English reader (``_meanings``)."""
        from kb import answer as A
        from kb import refusal as R

        result.backend = "extractive"
        answer, citations = A.extractive_answer(question, result.language, result.passages, refs, meanings=meanings)
        if not citations or R.lacks_asked_number(question, " ".join(c.quote for c in citations)):
            self._refuse(result)
        else:
            result.answer, result.citations = answer, citations

    def _finish(self, result, t0: float, stream_text: bool) -> Iterator[dict]:  # noqa: ANN001
        if stream_text:
            if result.timings["first_token_s"] is None:
                result.timings["first_token_s"] = time.perf_counter() - t0
            yield {"type": "token", "text": result.answer}
        result.timings["total_s"] = time.perf_counter() - t0
        yield {"type": "answer", "answer": result}

    def ask(self, question: str, history: list[dict] | None = None, filters: dict | None = None,
            mode: str | None = None):  # noqa: ANN201 - kb.answer.Answer
        """The whole answer at once (consumes ``ask_stream``)."""
        final = None
        for event in self.ask_stream(question, history, filters, mode):
            if event["type"] == "answer":
                final = event["answer"]
        return final

    @property
    def cited_only(self) -> list:
        """Documents the manifest names without text (read once, with the manifest, by the retriever)."""
        return self.retriever.cited_only


# --------------------------------------------------------------------------- answering

FOLLOW_UP_STARTS = ("och ", "men ", "vad gäller", "hur är det med", "hur blir det med", "än ", "what about", "how about",
                    "and ", "but ", "what of ", "same for")
FOLLOW_UP_ENDS = (" då", " then", " too", " också")


def condense(question: str, history: list[dict] | None) -> tuple[str, str | None]:
    """(retrieval query, previous question) for a follow-up; unchanged when it stands alone.

    A short question or one with a follow-up cue ("och finansieringen då?", "what about the
    roles?") is read together with the previous user question, which carries the topic.
    """
    previous = next((m["content"] for m in reversed(history or []) if m.get("role") == "user" and m.get("content")), None)
    if not previous:
        return question, None
    lowered = question.casefold().rstrip(" ?!.")
    if (len(question.split()) <= 5 or lowered.startswith(FOLLOW_UP_STARTS)
            or (lowered.endswith(FOLLOW_UP_ENDS) and len(question.split()) <= 12)):
        return f"{question} {previous}", previous
    return question, None
