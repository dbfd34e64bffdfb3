"""Choosing what the LLM sees: the most relevant source sentences, numbered, within a budget.

Design choices:
- Prefill is the cost on two cores (65–90 prompt tokens/s), so the model sees the most
  relevant *sentences* of the best passages, not whole chunks. Sentences are scored by the
  embedding model (which bridges English questions to Swedish text) plus word overlap.
- Passages are framed as numbered, quoted data (double quotes inside a sentence become
  single ones, so a sentence cannot close its own quote). Sentences that give orders to the
  assistant (``kb.injection``) are not candidates at all, for the model's context or for
  extractive answers.
- The context is chosen for a 1.5B model (``build_context``): the top passage's best sentence
  first, at most two sentences per passage before any third (three for the top passage, which
  holds the evidence most often, and whose sentences compete with a small bonus), a whole list
  (lead-in and every item, followed into the next chunk) for a question asking for several
  things, the whole section when the question names a short one, and short source labels.
  Section titles inside a chunk are not sentences. Prefill per question stays where it was
  (~250–470 new tokens), a little more for a whole section.
- Giving the model the whole top passage instead (plus the best sentences of the others) was
  measured and rejected: more key facts reached the context (0.67 → 0.81), but the 1.5B model
  summarised more loosely and answers got worse (key facts 0.57 → 0.41 on 24 questions).
- Each numbered sentence is a ``Ref``: what the model cites and what ``kb.verify`` checks a
  claim against, so a citation always points at an exact quote.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from kb.embeddings import Embedder, embed_sentences
from kb.injection import instruction_like
from kb.numbers import COUNT_WORDS
from kb.retrieval import (
    EVERYWHERE,
    MIN_SENTENCE_CHARS,
    Passage,
    expand_english,
    names_section,
    query_tokens,
    same_word,
    tokens,
)
from kb.text import split_sentences

# split_sentences lives in kb.text: retrieval reorders passages by their sentences too.


@dataclass
class Scored:
    passage: int  # 0-based index into the passages
    sentence: str
    score: float


# Retrieval's rank 1 holds the evidence most often (hit@1 ≈ 0.8), and a list of facts is spread
# over several of its sentences: its sentences get more room and a small bonus. Measured as the
# share of key facts that reach the context (dev sv 0.67 → 0.70, en 0.66 → 0.69; held-out en
# 0.68 → 0.77; `python -m evals.context`); English scoring with the glossed query vector or
# Swedish-only overlap: no gain.
TOP_PER_PASSAGE = 6  # sentences of the top passage that compete for the context
PER_PASSAGE = 3  # and of every other passage
TOP_BONUS = 0.03  # added to the top passage's sentences


def _heading(sentence: str) -> bool:
    """A section title inside a chunk ("Tillstånd, tillsyn och sanktioner"): no sentence, no answer.
    A list item ("• verkar för social innovation") is not one, punctuated or not."""
    return (not _CLOSED.search(sentence.rstrip()) and len(sentence) < 60 and len(sentence.split()) < 8
            and not _ITEM.match(sentence))


def score_sentences(question: str, language: str, passages: list[Passage], embedder: Embedder,
                    per_passage: int | None = None) -> list[Scored]:
    """The most question-relevant sentences of each passage (embedding + word overlap)."""
    q_tokens = set(query_tokens(question, language))
    candidates: list[tuple[int, str]] = []
    for i, p in enumerate(passages):
        sentences = [s for s in split_sentences(p.text) if len(s) >= MIN_SENTENCE_CHARS
                     and not _heading(s)] or [p.text.strip()]
        candidates += [(i, s) for s in sentences if not instruction_like(s)]  # see kb.injection
    if not candidates:
        return []
    q_vec = embedder.embed_query(question)
    vectors = embed_sentences(embedder, [s for _, s in candidates])  # mostly cached by retrieval
    cos = vectors @ q_vec
    scored: list[Scored] = []
    for (i, s), c in zip(candidates, cos):
        words = set(tokens(s))
        overlap = len(words & q_tokens) / (len(q_tokens) or 1)
        scored.append(Scored(i, s, float(c) + 0.3 * overlap - 0.01 * i + (TOP_BONUS if i == 0 else 0.0)))
    best: list[Scored] = []
    for i in range(len(passages)):
        keep = per_passage or (TOP_PER_PASSAGE if i == 0 else PER_PASSAGE)
        mine = sorted((s for s in scored if s.passage == i), key=lambda s: -s.score)[:keep]
        best += mine
    return best


@dataclass(frozen=True)
class Ref:
    """One numbered source sentence given to the model: which passage, which sentence.

    ``source`` is the text the sentence was taken from when it reaches beyond its passage (a
    list continued in the next chunk); it is what the claim is checked against and cited with.
    """

    passage: int  # 0-based index into the passages
    sentence: str
    source: str = ""
    items: int = 0  # a whole list's number of items


def ref_text(ref: Ref, passages: list[Passage]) -> str:
    """The text a reference was taken from (its passage, or the passage and its neighbours)."""
    return ref.source or passages[ref.passage].text


Neighbour = Callable[[Passage, int], "Passage | None"]  # (passage, +1 or -1) → the adjacent chunk

_ITEM = re.compile(r"^(?:[•▪◦*\-–]|\d{1,2}[.)])\s+")
_LIST_QUESTION = re.compile(
    r"\b(?:vilka|lista|räkna upp|nämn|två|tre|fyra|fem|sex|sju|åtta|which|list|name the|two|three|four|five|six|"
    r"seven|eight)\b|\bwhat (?:are|were)\b|\bwhat (?!does\b|is\b|was\b|has\b)\w+s\b", re.IGNORECASE)
_ANAPHORIC = re.compile(r"^(?:härigenom|därigenom|därmed|därför|detta|dessa|det här|den här|de här|dessutom|"
                        r"lika viktigt|likaså|på samma sätt|sådana|även|också|men|"
                        r"this|these|thereby|therefore|thus|likewise|similarly|such|also|but|however)\b",
                        re.IGNORECASE)
# "EU-kommissionens handlingsplan … är särskilt viktig. Handlingsplanen syftar till …": a sentence
# opening with a definite noun whose bare form the sentence before names as someone's (a genitive)
# is about that one, not about *the* plan; alone, the model read the EU plan's aims as the
# regional plan's goal. Without the genitive ("ett partnerskap … Partnerskapet är …") it reads
# right on its own.
_DEFINITE = re.compile(r"^([A-ZÅÄÖ][a-zåäö]{5,}?)(?:en|et|na|n|t)\b")
RELEVANCE_GAP = 0.12  # sentences scoring this far below the best are left out (after the first few)
MIN_SENTENCES = 3
LIST_MAX_ITEMS = 10
LIST_MAX_CHARS = 800
LIST_ITEM_MIN_CHARS = 80
LABEL_SECTION_CHARS = 42
TOP_CAP = 3  # sentences of the top passage on the first pass (others: 2)
FIRST_CONTEXT_CHARS = 450  # room for the sentences around the first reference that refer back to it
# A question that names the top passage's section ("Vilka aktörer berörs av handlingsplanen?" →
# "Aktörer som berörs av planen") is answered by that whole section, whose facts are spread over
# its sentences: a short one is given whole, in its order (a sentence with those referring back
# to it), before the best two sentences of other passages. Dev questions (11 of 93 get it): key
# facts in the context sv 0.71 → 0.77, en 0.69 → 0.74 (``python -m evals.context``); answers to
# those 11 and 2 more changed by the back-reference rule above: key facts 0.20 and 0.23 before,
# 0.34–0.44 in four runs of this session's variants (0.41 with the final code). The section's
# best sentence first instead of its order lost key facts on two of them in one run. Prefill
# grows for them (sections up to 1,100 characters); a limit of 1,300 would add 5 questions, not
# measured on answers.
SECTION_MAX_CHARS = 1100
SECTION_OTHERS = 2  # best sentences of other passages beside the section


def _clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with "…"."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:–-") + " …"


def list_question(question: str) -> bool:
    """Does the question ask for several things (which …, the four …, what principles …)?"""
    return bool(_LIST_QUESTION.search(question))


_COUNTS = {w: n for words in COUNT_WORDS.values() for n, w in enumerate(words) if n >= 2}  # två/two … tio/ten
_COUNT = re.compile(r"\b(" + "|".join(_COUNTS) + r"|[2-9]|10)\b", re.IGNORECASE)
_ONE_OF = re.compile(r"\b(?:which of|which one|vilken av|vilket av|vilka av|en av|one of)\b", re.IGNORECASE)


def asks_all(question: str, items: int) -> bool:
    """Does the question ask for every item of a list of ``items``? "Which four areas …" with four,
    "Vilka principer …"; not "Which of the roles is about belonging?", which asks for one."""
    count = asked_count(question)
    return items >= 2 and (count == items or (not count and list_question(question)
                                               and not _ONE_OF.search(question)))


def asked_count(question: str) -> int:
    """How many things the question asks for ("the four focus areas" → 4); 0 when it names no count."""
    m = _COUNT.search(question)
    return 0 if m is None else _COUNTS.get(m.group(1).lower()) or int(m.group(1))


_TITLE_YEARS = re.compile(r"\s+\d{4}\s*[–-]\s*\d{4}$")  # "Handlingsplanen 2026–2030": the years go


def _label(p: Passage) -> str:
    """A short source label: every token of it costs prefill, for every sentence. A title's year
    range goes: the model reads digits one token each, so "2026–2030" was 9 of a plan label's
    ~14 tokens, and the plan's labels 3.5 per prompt (dev questions)."""
    parts = [_TITLE_YEARS.sub("", p.short_title or p.title)] + ([f"s. {p.page}"] if p.page else [])
    section = p.section.rsplit(" › ", 1)[-1].strip()
    if section and len(section) <= LABEL_SECTION_CHARS:  # a short heading names the topic; long ones cost
        parts.append(section)
    return ", ".join(parts)


# "N. " numbering an item: after a lead-in's colon, after the item before, or opening the line
_INLINE_ITEM = re.compile(r"(?:^|(?<=[:.!?])\s+)(\d{1,2})\.\s+(?=[A-ZÅÄÖ])")


def _paragraphs(text: str) -> list[str]:
    """The passage's lines, a numbered list run into one line ("… följande: 1. A. 2. B.", as the
    PDFs' summaries have them) given one line per item like a printed list, so its lead-in
    brings every item (``_whole_list``)."""
    return [part for line in text.split("\n") if line.strip() for part in _split_inline_list(line.strip())]


def _split_inline_list(line: str) -> list[str]:
    cuts, last = [], 0
    for m in _INLINE_ITEM.finditer(line):
        n = int(m.group(1))
        after_colon = line[:m.start()].rstrip().endswith(":")
        if (n == 1 and after_colon) or (last and n == last + 1) or (m.start() == 0 and not cuts):
            cuts.append(m.start(1))
            last = n
    if len(cuts) < 2:  # one number is no list ("… i kapitel 5. Det …" never gets here either)
        return [line]
    bounds = [0, *cuts, len(line)] if cuts[0] else [*cuts, len(line)]
    return [part for a, b in zip(bounds, bounds[1:]) if (part := line[a:b].strip())]


def _whole_list(passages: list[Passage], i: int, sentence: str, neighbour: Neighbour | None) -> Ref | None:
    """The list ``sentence`` leads in to or belongs to, as one reference: the lead-in and the first
    sentence of every item, followed into the adjacent chunk when the list runs over its edge."""
    p = passages[i]
    lines = _paragraphs(p.text)
    at = next((k for k, line in enumerate(lines) if sentence in line), None)
    if at is None:
        return None
    texts = [p.text]
    fetched = {-1: False, 1: False}

    def extend(step: int) -> int:
        """Add the adjacent chunk's paragraphs before (-1) or after (+1); how many were added."""
        if neighbour is None or fetched[step]:
            return 0
        fetched[step] = True
        try:
            other = neighbour(p, step)
        except Exception:  # noqa: BLE001 - a missing neighbour only shortens the list
            other = None
        if other is None or other.doc_id != p.doc_id:
            return 0
        new = [line for line in _paragraphs(other.text) if line not in lines]
        if step < 0:
            lines[:0] = new
            texts.insert(0, other.text)
        else:
            lines.extend(new)
            texts.append(other.text)
        return len(new)

    if _ITEM.match(lines[at]):
        start = at
        while True:
            if start == 0:
                added = extend(-1)
                if not added:
                    break
                start, at = start + added, at + added
            if start > 0 and _ITEM.match(lines[start - 1]):
                start -= 1
            else:
                break
        lead = split_sentences(lines[start - 1])[-1] if start > 0 else ""
        first = start
    else:
        if not lines[at].endswith(sentence):
            return None
        if at == len(lines) - 1:
            extend(1)
        if at + 1 >= len(lines) or not _ITEM.match(lines[at + 1]):
            return None
        lead, first = sentence, at + 1
    end = first
    while True:
        if end == len(lines) and not extend(1):
            break
        if end < len(lines) and _ITEM.match(lines[end]):
            end += 1
        else:
            break
    items = [split_sentences(line)[0] for line in lines[first:end][:LIST_MAX_ITEMS]]
    items = [item for item in items if not instruction_like(item)]
    if not items:
        return None
    if len(lead) + sum(map(len, items)) > LIST_MAX_CHARS:  # every item, each shortened: a list question
        room = max(LIST_ITEM_MIN_CHARS, (LIST_MAX_CHARS - len(lead)) // len(items))  # wants them all
        items = [_clip(item, room) for item in items]
    return Ref(i, " ".join([lead, *items]).strip(), "\n\n".join(texts) if len(texts) > 1 else "", len(items))


_CLOSED = re.compile(r"[.!?:;\"'”)\]]$")


_ORDINAL = re.compile(r"^(?:(?:den|det|för det) (?:första|andra|tredje|fjärde|femte|sjätte)|"
                      r"(?:the )?(?:first|second|third|fourth|fifth|sixth)(?:ly)?)\b", re.IGNORECASE)


def _prose_list(passages: list[Passage], i: int, sentence: str) -> Ref | None:
    """A list written as sentences: a lead-in naming a count ("… två strategiska inriktningar …")
    followed by "Den första … Den andra …", as one reference (from the lead-in or any item)."""
    sentences = split_sentences(passages[i].text)
    if sentence not in sentences:
        return None
    k = sentences.index(sentence)
    while k > 0 and _ORDINAL.match(sentences[k]):  # an item: back to its lead-in
        k -= 1
    if not _COUNT.search(sentences[k]) or _ORDINAL.match(sentences[k]):
        return None
    items = []
    for following in sentences[k + 1:k + 1 + LIST_MAX_ITEMS]:
        if not _ORDINAL.match(following) or instruction_like(following):
            break
        items.append(following)
    if len(items) < 2:
        return None
    return Ref(i, " ".join([sentences[k], *items]), "", len(items))


def _across_edges(ref: Ref, passages: list[Passage], neighbour: Neighbour | None) -> Ref:
    """A sentence cut in two by a chunk boundary ("… roll när den" | "bidrar till …"), made whole
    from the adjacent chunk: the cut-off half is often the answer."""
    p = passages[ref.passage]
    text, sentence = p.text.strip(), ref.sentence
    if neighbour is None or ref.source or not sentence:
        return ref
    step = 1 if text.endswith(sentence) and not _CLOSED.search(sentence) else (
        -1 if text.startswith(sentence) and sentence[0].islower() else 0)
    if not step:
        return ref
    try:
        other = neighbour(p, step)
    except Exception:  # noqa: BLE001 - the half sentence is still better than none
        other = None
    if other is None or other.doc_id != p.doc_id or not other.text.strip():
        return ref
    if step > 0:
        rest = split_sentences(other.text)[0]
        if not rest[:1].islower():
            return ref
        return Ref(ref.passage, f"{sentence} {rest}", f"{p.text.rstrip()} {other.text.lstrip()}")
    start = split_sentences(other.text)[-1]
    if _CLOSED.search(start):
        return ref
    return Ref(ref.passage, f"{start} {sentence}", f"{other.text.rstrip()} {p.text.lstrip()}")


def _near_duplicate(sentence: str, others: list[str]) -> bool:
    words = set(tokens(sentence))
    for other in others:
        theirs = set(tokens(other))
        if words and theirs and len(words & theirs) / len(words | theirs) >= 0.8:
            return True
    return False


def _refers_back(sentence: str, before: str) -> bool:
    """Whether ``sentence`` needs ``before`` to be read right: it opens by referring back ("Detta …",
    "Dessutom …"), or with a definite noun ("Handlingsplanen …") whose bare form ``before`` names
    as someone's ("EU-kommissionens handlingsplan")."""
    return bool(_ANAPHORIC.match(sentence)) or _names_anothers(sentence, before)


def _names_anothers(sentence: str, before: str) -> bool:
    """Whether ``sentence`` is about someone else's thing that ``before`` names: "Handlingsplanen …"
    right after "EU-kommissionens handlingsplan …" (see ``_DEFINITE``)."""
    m = _DEFINITE.match(sentence)
    return bool(m and before and re.search(rf"\ws {m.group(1).lower()}\b", before.lower()))


def _needs_lead_in(sentence: str, text: str) -> bool:
    """Whether ``sentence``, taken alone from ``text``, refers back to the sentence before it."""
    return _refers_back(sentence, _before(sentence, text))


def about_anothers(sentence: str, text: str) -> bool:
    """Whether ``sentence``, quoted alone from ``text``, would be read as about the wrong thing
    ("Handlingsplanen syftar till …" about the EU's plan): extractive answers leave it out."""
    return _names_anothers(sentence, _before(sentence, text))


def _before(sentence: str, text: str) -> str:
    """The sentence before ``sentence`` in ``text`` ("" when it is the first or not there)."""
    sentences = split_sentences(text)
    k = sentences.index(sentence) if sentence in sentences else 0
    return sentences[k - 1] if k else ""


def _with_neighbours(sentence: str, text: str, budget: int) -> str:
    """The sentence with the one before it when it starts by referring back ("Detta …"), and the
    one after it when that one does ("Härigenom …"): alone, either half is hard to read."""
    sentences = split_sentences(text)
    if sentence not in sentences:
        return sentence
    k = sentences.index(sentence)
    out = sentence
    if k > 0 and _refers_back(sentence, sentences[k - 1]) and len(sentences[k - 1]) <= budget:
        out = f"{sentences[k - 1]} {out}"
        budget -= len(sentences[k - 1])
    for following in sentences[k + 1:k + 3]:  # "Men det är viktigt … Lika viktigt är det att …"
        if not _ANAPHORIC.match(following) or len(following) > budget or instruction_like(following):
            break
        out = f"{out} {following}"
        budget -= len(following)
    return out


def _section_refs(passages: list[Passage], question: str, language: str,
                  neighbour: Neighbour | None) -> list[Ref]:
    """The top passage's whole section, one reference per sentence, when the question names it and
    it is short (followed into the adjacent chunks of the same section); else none."""
    top = passages[0]
    if not top.section or not names_section(question, language, top.section):
        return []
    text = top.text.strip()
    for step in (-1, 1):
        here = top
        while neighbour is not None and len(text) <= SECTION_MAX_CHARS:
            try:
                other = neighbour(here, step)
            except Exception:  # noqa: BLE001 - the section is then this chunk's part only
                other = None
            if other is None or other.doc_id != top.doc_id or other.section != top.section:
                break
            text = f"{other.text.strip()} {text}" if step < 0 else f"{text} {other.text.strip()}"
            here = other
    if len(text) > SECTION_MAX_CHARS:
        return []
    source = "" if text == top.text.strip() else text
    units: list[str] = []  # a sentence with those that refer back to it ("Men …", "Lika viktigt …")
    before = ""
    for s in split_sentences(text):
        if len(s) < MIN_SENTENCE_CHARS or _heading(s) or instruction_like(s):
            continue
        if units and _refers_back(s, before):
            units[-1] = f"{units[-1]} {s}"
        else:
            units.append(s)
        before = s
    return [Ref(0, u, source) for u in units]


def build_context(scored: list[Scored], passages: list[Passage], max_sentences: int = 6,
                  max_chars: int = 1000, question: str = "",
                  neighbour: Neighbour | None = None, language: str = "sv") -> tuple[str, list[Ref]]:
    """Numbered source sentences, the most relevant first, within a budget.

    Numbering single sentences rather than whole passages keeps the prompt short (prefill is
    the cost here) and makes every citation point at an exact, checkable quote. Choice:
    - the best sentence of the top-ranked passage always comes first (retrieval's best guess);
    - then by score, at most two per passage on a first pass (three for the top passage; a
      question with several aspects gets several passages), near-duplicates (a summary
      repeating the full text) skipped, and sentences far below the best left out once there
      are a few (distractors mislead a small model, and cost prefill). Exempting the top
      passage's sentences from that floor brought more key facts into the context (sv 0.70 →
      0.77) but its extra sentences misled the model on held-out questions (key facts 0.60 →
      0.40, evidence cited 0.42 → 0.33, 12 answerable), so the floor holds for every passage;
    - a list's lead-in ("… fyra insatsområden:") always brings its items, and for a question
      asking for several things (``list_question``) so does any of its items: the whole list
      (lead-in + each item's first sentence, shortened when long) becomes one reference,
      followed into the next chunk via ``neighbour`` when it runs over the chunk's edge; for
      such a question the top passage's list comes first, with at most two other sentences, or
      another passage's list when it has as many items as the question names ("the four focus
      areas": page 7 only says four were chosen, the summary lists them); a list written as
      sentences ("… två strategiska inriktningar … Den första … Den andra …") counts as a list
      when it has as many items as the question names (for any "which …" question, measured on
      four questions, the 1.5B model's answers got worse: key facts 0.66 → 0.48–0.57; whenever
      its lead-in is chosen, like a lead-in ending in a colon, worse still: 0.81 → 0.33 on the
      four dev questions it changed, two runs each: the model used one sentence of the block);
    - a "which …" question whose chosen sentences hold no list gets the best-scoring list among
      the candidates whose lead-in names what it asks for ("Vilka roller …" → "De fem roller som …
      är följande." and its five items; ``asked_things``), first: the passages about roles in
      general outscored the list sentence by sentence. Two dev questions changed (the Swedish and
      English roles questions; key facts in the context sv 0.75 → 0.77), no held-out one;
    - a question naming the top passage's section ("Vilka aktörer berörs …" → "Aktörer som
      berörs av planen") gets that whole section when it is short, one reference per sentence,
      then the best two sentences of other passages (not when a list it asks for is given);
    - a sentence that refers back ("Detta …", or "Handlingsplanen …" right after
      "EU-kommissionens handlingsplan …") brings the one before it, and one followed by such a
      sentence brings that one, while there is room; without room it is left out rather than
      shown alone; a sentence cut by the chunk's edge is completed from the adjacent chunk.
    """
    ranked = sorted(scored, key=lambda x: -x.score)
    if not ranked:
        return "", []
    top = next((s for s in ranked if s.passage == 0), ranked[0])
    order = [top] + [s for s in ranked if s is not top]
    floor = ranked[0].score - RELEVANCE_GAP
    picks: list[Scored] = []
    used = 0
    for cap in (2, max_sentences):
        for sc in order:
            if len(picks) >= max_sentences:
                break
            if sc in picks or sum(p.passage == sc.passage for p in picks) >= (
                    max(cap, TOP_CAP) if sc.passage == 0 else cap):
                continue
            if picks and (used + len(sc.sentence) > max_chars
                          or (sc.score < floor and len(picks) >= MIN_SENTENCES)
                          or _near_duplicate(sc.sentence, [p.sentence for p in picks])):
                continue
            picks.append(sc)
            used += len(sc.sentence)

    listy = list_question(question)
    count = asked_count(question)
    refs: list[Ref] = []
    for sc in picks:
        if any(sc.sentence[:LIST_ITEM_MIN_CHARS // 2] in r.sentence for r in refs):  # already in a list
            continue
        ref = None
        if sc.sentence.rstrip().endswith(":") or listy or not _CLOSED.search(sc.sentence.rstrip()):
            ref = _whole_list(passages, sc.passage, sc.sentence, neighbour)  # "… roll när den" + items too
        if ref is None and listy and count:  # measured: without a count asked for, answers got worse
            ref = _prose_list(passages, sc.passage, sc.sentence)
            ref = ref if ref is not None and ref.items == count else None
        if ref is None and sc.sentence.rstrip().endswith(":"):
            continue  # a lead-in without its list says nothing
        refs.append(ref or _across_edges(Ref(sc.passage, sc.sentence), passages, neighbour))
    if not refs:  # every choice a lead-in whose list was not found: the best sentence that says something
        sc = next((s for s in order if not s.sentence.rstrip().endswith(":")), order[0])
        refs.append(_across_edges(Ref(sc.passage, sc.sentence), passages, neighbour))
    lists = [r for r in refs if r.sentence not in {sc.sentence for sc in picks}]
    # another passage's list ("fyra insatsområden" for "vilka aktörer") must not push the top
    # passage's prose answer out, unless it has as many items as the question asks for
    lists = sorted((r for r in lists if r.passage == 0 or (count and r.items == count)),
                   key=lambda r: not (count and r.items == count))
    if listy and not lists:  # a "which …" question whose chosen sentences hold no list
        named = _named_list(scored, passages, question, language, neighbour, count)
        if named is not None:
            lists = [named]
            refs = [r for r in refs if r.passage != named.passage or r.sentence not in named.sentence]
    if listy and lists:  # the list first, and at most two other sentences beside it
        refs = lists + [r for r in refs if r not in lists][:2]
    section = [] if any(r.items and (listy or r.items == count) for r in lists) else _section_refs(
        passages, question, language, neighbour)  # a list asked for is given as one (its length is told)
    if section:  # the whole section, in its order (measured: best sentence first lost key facts), then
        # the best sentences of other passages
        others = [r for r in refs if r.passage != 0
                  and not any(r.sentence in s.sentence or s.sentence in r.sentence for s in section)
                  and not _needs_lead_in(r.sentence, passages[r.passage].text)]
        refs = section + others[:SECTION_OTHERS]
        while len(refs) > len(section) and sum(len(r.sentence) for r in refs) > max_chars + LIST_MAX_CHARS // 3:
            refs.pop()
        return _numbered(refs, passages), refs
    if refs:  # the first reference's context outranks the last references: it may push them out
        refs[0] = replace(refs[0], sentence=_with_neighbours(refs[0].sentence, passages[refs[0].passage].text,
                                                              FIRST_CONTEXT_CHARS))
    # over budget (lists are long): drop the weakest other sentences, never the first reference
    while sum(len(r.sentence) for r in refs) > max_chars + LIST_MAX_CHARS // 3 and len(refs) > 1:
        refs.pop()
    room = max(0, max_chars - sum(len(r.sentence) for r in refs))
    for k, ref in enumerate(list(refs)):
        longer = _with_neighbours(ref.sentence, passages[ref.passage].text, room)
        if longer != ref.sentence and not any(longer in r.sentence for r in refs):
            room -= len(longer) - len(ref.sentence)
            refs[refs.index(ref)] = replace(ref, sentence=longer)
        elif k and _needs_lead_in(ref.sentence, passages[ref.passage].text):
            refs.remove(ref)  # "Detta omfattar …" without what it refers to
    refs = [r for k, r in enumerate(refs)  # a sentence now inside another's lead-in is said once
            if not any(r.sentence in o.sentence and (len(o.sentence) > len(r.sentence) or j < k)
                       for j, o in enumerate(refs) if j != k)]
    return _numbered(refs, passages), refs


_WHICH = re.compile(r"\b(?:vilka|which|what)\s+(.+)", re.IGNORECASE)


def asked_things(question: str, language: str) -> set[str]:
    """The stems of what a "which …" question asks for: "Vilka roller tillskriver …" → roll,
    "Which roles …" → roll (through the glossary); the corpus's everywhere-words left out."""
    m = _WHICH.search(question)
    if m is None:
        return set()
    words = " ".join(w for w in re.findall(r"\w+", m.group(1))[:3] if w.casefold() not in _COUNTS)
    return set(tokens(" ".join(expand_english(words)) if language == "en" else words)) - EVERYWHERE


def _named_list(scored: list[Scored], passages: list[Passage], question: str, language: str,
                neighbour: Neighbour | None, count: int) -> Ref | None:
    """For a "which …" question whose chosen sentences hold no list: the best-scoring list among the
    candidates whose lead-in names what is asked for ("De fem roller … är följande" for "Vilka
    roller …"), with as many items as a count the question names."""
    asked = asked_things(question, language)
    if not asked:
        return None
    for sc in sorted(scored, key=lambda x: -x.score):
        if _ITEM.match(sc.sentence) or not any(same_word(t, a) for t in tokens(sc.sentence) for a in asked):
            continue
        ref = _whole_list(passages, sc.passage, sc.sentence, neighbour)
        if ref is not None and ref.items >= 2 and (not count or ref.items == count):
            return ref
    return None


def _numbered(refs: list[Ref], passages: list[Passage]) -> str:
    return "\n".join(f"[{n}] ({_label(passages[r.passage])}) \"{r.sentence.replace(chr(34), chr(39))}\""
                     for n, r in enumerate(refs, 1))
