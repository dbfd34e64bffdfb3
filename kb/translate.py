"""What a quoted Swedish sentence says, in English: the local model translates it, checked.

Design choices:
- Only for an English reader of a Swedish source, and only where the answer quotes the source
  instead of the model's own words (an extractive answer after the model's answer failed its
  check, or a quote standing in for a removed claim). The quote stays, the translation goes
  under it, labelled as a machine translation: the Swedish is what the citation stands for, the
  English helps one read it.
- The answering model does it, as it already writes English answers from these Swedish
  sentences; no translation model ships offline (MODELS.md). Its Swedish is weak where the
  glossary is silent, so the prompt gives it the glossary's English for every term in the
  sentence (``kb.terms.english_terms(every=True)``: "handlingsplan" = "action plan",
  "länet" = "the county", "önskvärda" = "desired situations"), and one worked example.
  On the first 12 quotes of session 13's English answers (1.5B model), without the hints 5 read
  right ("the private income situation", "handling plan", "three priority laws"), with them 7
  (and one dropped a "2030", which the checks below catch).
- A translation is shown only if it passes what can be checked without a second model: it
  reads as English, is one paragraph of a plausible length (``LENGTH_RATIO``), carries no
  preamble ("Here are the translated sentences"), and has the sentence's numbers (a dropped
  "2030" loses a fact; only a section reference such as "7.6.4" may go). What fails keeps the
  glossary's term glosses, as before.
- What the checks cannot see is a wrong meaning in fluent English. Of the 22 distinct quotes
  in session 13's English answers, the 1.5B model's translations failed the checks once (a
  dropped "2030") and 7 of the 21 that passed said something else: "sluta avtal" (conclude
  agreements) became "end contracts", "ställa sig positiva till partnersök" (welcome partner
  searches) "set up positive partnerships", "trösklar" (thresholds) "expenses". Embedding
  similarity does not separate them (a wrong "On the other hand, …" 0.919, a right one 0.876),
  and a prompt asking for a literal translation changed none of them. So translations are off
  by default (``KB_QUOTE_TRANSLATIONS=0``) and meant for a stronger model behind ``KB_LLM_URL``.
- Limits: ``KB_QUOTE_TRANSLATIONS`` quotes per answer (the first ones, which the extractive
  answer orders best first) and ``KB_QUOTE_TRANSLATION_S`` seconds for all of them; a quote
  past either keeps its glosses. Each translation is a separate short request (3–20 s each on
  2 cores with the 1.5B model), with the instructions and example first and unchanged, so the
  server can reuse their cache; it waits for its turn in the generation queue like an answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from kb.llm import LLMError
from kb.numbers import numbers
from kb.terms import english_terms
from kb.text import guess_language

__all__ = ["HINTS_PER_SENTENCE", "LENGTH_RATIO", "checked", "translate", "translation_messages", "translations"]

HINTS_PER_SENTENCE = 12  # glossary renderings given with one sentence (the rarest, if there are more)
LENGTH_RATIO = (0.55, 2.0)  # English words per Swedish word a whole translation falls within
TOKENS_PER_WORD, SPARE_TOKENS = 2, 40  # cap on one translation: the 22 measured took 0.8–2.5 tokens per Swedish word, 1.4 on average

SYSTEM_PROMPT = (
    "You translate one passage from a Swedish public document into English. Keep its meaning exactly: "
    "translate every part, add nothing, explain nothing. Use the given English for the listed terms. "
    "Reply with the English translation only.")
EXAMPLE = (
    "Swedish: Kommunerna bör ge föreningarna långsiktiga bidrag och involvera dem i länets arbete.\n"
    "Terms: föreningar = associations; bidrag = grants; länet = the county",
    "The municipalities should give the associations long-term grants and involve them in the county's work.")

_PREAMBLE = re.compile(r"^(?:here (?:is|are)|sure|the translation|translation)\b|\bnote:", re.IGNORECASE)
_SECTION_NUMBER = re.compile(r"^\d+(?:\.\d+){2,}$")  # "7.6.4": a reference a translation may leave out


def translation_messages(sentence: str) -> list[dict[str, str]]:
    """The chat for one sentence: fixed instructions and example, then the sentence and its terms."""
    terms = english_terms(sentence, HINTS_PER_SENTENCE, every=True)
    user = f"Swedish: {sentence}"
    if terms:
        user += "\nTerms: " + "; ".join(f"{sv} = {en.split(' / ')[0]}" for sv, en in terms)
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": EXAMPLE[0]},
            {"role": "assistant", "content": EXAMPLE[1]}, {"role": "user", "content": user}]


def checked(sentence: str, english: str) -> str | None:
    """The translation if it passes the checks in the module docstring, else None."""
    english = " ".join(english.strip().strip('"”“').split())
    if english.lower().startswith("english:"):
        english = english[len("english:"):].strip()
    words, source_words = len(english.split()), len(sentence.split())
    if not english or _PREAMBLE.search(english) or guess_language(english) != "en":
        return None
    if not LENGTH_RATIO[0] <= words / max(source_words, 1) <= LENGTH_RATIO[1]:
        return None
    said, source = numbers(english), numbers(sentence)
    if said - source or any(not _SECTION_NUMBER.match(n) for n in source - said):
        return None
    return english


def translate(backend, sentence: str) -> str | None:  # noqa: ANN001 - kb.llm.Backend
    """The checked English of one sentence, or None (the model failed, or its text did not pass)."""
    try:
        text = "".join(backend.stream_chat(translation_messages(sentence),
                                           max_tokens=TOKENS_PER_WORD * len(sentence.split()) + SPARE_TOKENS,
                                           temperature=0.0))
    except LLMError:
        return None
    return checked(sentence, text)


def translations(backend, sentences: Iterable[str], limit: int, budget_s: float) -> dict[str, str]:  # noqa: ANN001
    """Sentence → its checked English, for at most ``limit`` sentences, starting none after
    ``budget_s`` seconds; sentences without a translation are left out."""
    start = time.perf_counter()
    found: dict[str, str] = {}
    for n, sentence in enumerate(dict.fromkeys(sentences)):
        if n >= limit or time.perf_counter() - start >= budget_s:
            break
        english = translate(backend, sentence)
        if english:
            found[sentence] = english
    return found
