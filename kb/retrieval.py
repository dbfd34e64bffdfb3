"""Hybrid, language-aware retrieval: dense (Chroma) + BM25 (Swedish stems, folded), fused.

Design choices:
- BM25 with a Swedish Snowball stemmer on diacritic-folded tokens finds Swedish passages
  almost perfectly for Swedish questions (and for questions typed without å/ä/ö), but knows
  no English; the multilingual dense model bridges languages but is outranked by the SOUs'
  volume. So fusion is weighted by the question's language: Swedish questions lean on BM25,
  English ones on the dense model, with the English question expanded into Swedish domain
  terms from a glossary (``glossary.toml``) so BM25 can still contribute.
- Reciprocal-rank fusion (weights per language) rather than score mixing: the two scores live
  on incomparable scales and RRF needs no calibration.
- The plan is the primary document: its passages get a boost unless the question names
  another document (an SOU number, "utredningen", "inquiry"), in which case that document
  family gets the boost instead. Nothing is hidden; only the order changes.
- The BM25 index is built in memory from the committed chunks in the store and rebuilt when
  the ledger changes, so retrieval and ingest never disagree about what exists.
"""

from __future__ import annotations

import re
import threading
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from kb.config import Settings
from kb.embeddings import Embedder, embedder_name, load_embedder
from kb.manifest import load_manifest
from kb.store import Hit, Store
from kb.text import fold, guess_language

GLOSSARY_FILE = Path(__file__).with_name("glossary.toml")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SOU_REF = re.compile(r"\bSOU\s*(\d{4})\s*:\s*(\d+)", re.IGNORECASE)
_OTHER_DOC_WORDS = ("utredning", "betankande", "inquiry", "sou ", "proposition", "government bill")
_PLAN_WORDS = ("handlingsplan", "planen", "the plan", "action plan", "region orebro", "orebro")

# The language-aware fusion weights and boosts, measured on evals/questions.jsonl.
WEIGHTS = {"sv": {"bm25": 1.0, "dense": 0.6}, "en": {"bm25": 1.0, "dense": 1.0, "dense_sv": 1.5}}
RRF_K = 20
PLAN_BOOST = 4.0
# The plan is the primary document; documents an administrator uploads are the region's own
# material too, added on purpose to be found, so they rank like the plan.
PRIMARY_KINDS = ("plan", "upload")
SUMMARY_BOOST = 1.5
NAMED_DOC_BOOST = 2.0
CANDIDATES = 60
_AHEAD = ThreadPoolExecutor(1, thread_name_prefix="kb-query-ahead")
MAX_STRAY = 200  # uncommitted chunks in the store up to which dense search skips the version filter

_SWEDISH_STOPWORDS = frozenset(fold(w) for w in ["och", "att", "det", "som", "en", "är", "av", "för", "på", "med", "den", "till", "inte", "har", "de", "ett", "om", "vi", "kan", "ska", "eller", "från", "även", "också", "samt", "vilka", "vilken", "vilket", "hur", "vad", "när", "var", "får", "bör", "sig", "sin", "sina", "man", "så", "men", "mot", "under", "efter", "vid", "denna", "detta", "dessa", "där", "här", "än", "då", "bara", "alla", "andra", "mycket", "inom", "genom", "utifrån", "enligt", "säger", "står", "the", "and", "of", "to", "is", "in", "that", "for", "on", "with", "as", "are", "be", "by", "this", "it", "from", "or", "can", "what", "which", "how", "does", "do", "an", "at", "should", "their", "about", "who", "why", "when", "where", "there", "was", "were", "has", "have", "our", "your", "my", "we", "you", "they"])


@dataclass
class Passage:
    """One retrieved passage with everything needed to cite it."""

    rank: int
    score: float
    id: str
    doc_id: str
    title: str
    short_title: str
    kind: str
    language: str
    page: int | None
    page_end: int | None
    section: str
    text: str
    url: str
    dense_similarity: float = 0.0
    bm25_score: float = 0.0
    best_dense: float = 0.0  # the query's best dense similarity over all candidates (for refusal)
    best_bm25: float = 0.0  # the query's best BM25 score over all candidates
    coverage: float = 0.0  # share of the question's content words (English: domain terms) found in the results
    metadata: dict = field(default_factory=dict, repr=False)

    def to_json(self) -> dict:
        return {"rank": self.rank, "score": round(self.score, 5), "doc_id": self.doc_id, "title": self.title,
                "kind": self.kind, "page": self.page, "section": self.section, "text": self.text}

    def location(self) -> str:
        parts = []
        if self.page:
            parts.append(f"s. {self.page}" if self.page == self.page_end or not self.page_end
                         else f"s. {self.page}–{self.page_end}")
        if self.section:
            parts.append(self.section)
        return ", ".join(parts)


@lru_cache(maxsize=1)
def glossary() -> dict[str, list[str]]:
    data = tomllib.loads(GLOSSARY_FILE.read_text(encoding="utf-8"))["terms"]
    return {fold(k): v for k, v in data.items()}


def expand_english(question: str) -> list[str]:
    """Swedish terms for the English domain phrases in ``question`` (longest phrases first)."""
    text = " " + re.sub(r"[^\w\s-]", " ", fold(question)) + " "
    terms: list[str] = []
    for phrase in sorted(glossary(), key=len, reverse=True):
        needle = f" {phrase} "
        if needle in text:
            terms += glossary()[phrase]
            text = text.replace(needle, " ")
    return terms


def swedish_terms_query(question: str) -> str:
    """The English question with its domain phrases replaced by Swedish terms (a rough gloss).

    Embedded as a second dense query: the multilingual model matches a half-Swedish question
    to Swedish passages better than the English one alone, at the cost of one more embedding.
    """
    text = " " + re.sub(r"[^\w\s-]", " ", fold(question)) + " "
    for phrase in sorted(glossary(), key=len, reverse=True):
        needle = f" {phrase} "
        if needle in text:
            text = text.replace(needle, f" {glossary()[phrase][0]} ")
    return " ".join(text.split())


def query_tokens(question: str, language: str) -> list[str]:
    """The question's search tokens; an English question also gets its glossary's Swedish terms."""
    out = tokens(question)
    if language == "en":
        out += tokens(" ".join(expand_english(question)))
    return out


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202
    import Stemmer

    return Stemmer.Stemmer("swedish")


def tokens(text: str) -> list[str]:
    """Stem (Swedish) then fold: 'föreningarna' and 'foreningarna' both become 'forening'."""
    words = [w for w in _TOKEN.findall(text.casefold()) if len(w) > 1]
    stems = _stemmer().stemWords(words)
    return [f for f in (fold(s) for s in stems) if f not in _SWEDISH_STOPWORDS]


class _LexicalIndex:
    def __init__(self, hits: list[Hit]) -> None:
        import bm25s

        self.hits = hits
        self.index_of = {h.id: i for i, h in enumerate(hits)}
        corpus = [tokens(self._indexed_text(h)) for h in hits]
        self.vocab = {t for doc in corpus for t in doc}
        self.bm25 = bm25s.BM25()
        self.bm25.index(corpus, show_progress=False)

    @staticmethod
    def _indexed_text(hit: Hit) -> str:
        m = hit.metadata
        return f"{m.get('short_title', '')} {m.get('section', '')}\n{hit.text}"

    def search(self, query_tokens: list[str], k: int, allowed: set[int] | None) -> list[tuple[int, float]]:
        query_tokens = [t for t in query_tokens if t in self.vocab]
        if not query_tokens or not self.hits:
            return []
        scores = self.bm25.get_scores(query_tokens)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[list(allowed)] = True
            scores = np.where(mask, scores, 0.0)
        order = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


def _matches(metadata: dict, filters: dict | None) -> bool:
    if not filters:
        return True
    for key, wanted in filters.items():
        if wanted in (None, "", []):
            continue
        values = wanted if isinstance(wanted, (list, tuple, set)) else [wanted]
        if key == "topic":
            hay = fold(metadata.get("section", ""))
            if not any(fold(str(v)) in hay for v in values):
                return False
        elif metadata.get(key) not in values:
            return False
    return True


def _chroma_where(filters: dict | None) -> dict | None:
    clauses = []
    for key in ("kind", "doc_id", "language"):
        wanted = (filters or {}).get(key)
        if wanted in (None, "", []):
            continue
        values = list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted]
        clauses.append({key: {"$in": values}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def named_documents(question: str, names: dict[str, str] | None = None) -> set[str]:
    """Document-id prefixes the question names: by reference ('SOU 2016:13' → 'sou-2016-13')
    or by a document's name ('Palett för ett stärkt civilsamhälle', 'Idéburen välfärd')."""
    found = {f"sou-{y}-{int(n)}" for y, n in _SOU_REF.findall(question)}
    folded = fold(question)
    for name, doc_id in (names or {}).items():
        if name in folded:
            found.add(doc_id)
    return found


def _document_names(sources: list) -> dict[str, str]:
    """Folded names that point at a document family: the title's name part ('idéburen välfärd',
    'ordning och reda') and the manifest's ``aliases`` ('Palett-utredningen')."""
    names = {}
    for s in sources:
        m = re.match(r"SOU (\d{4}):(\d+) (.+?)(?: —|$)", s.title)
        family = f"sou-{m.group(1)}-{int(m.group(2))}" if m else s.id
        if m:
            words = fold(m.group(3)).split()
            names[" ".join(words[:3] if words[1:2] == ["och"] else words[:2])] = family
        for alias in s.extra.get("aliases", []):
            names[fold(alias)] = family
    return names


class Retriever:
    def __init__(self, settings: Settings, store: Store | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings, embedder_name(settings))
        self._embedder = embedder
        self._lexical: _LexicalIndex | None = None
        self._lexical_key: tuple[str, ...] | None = None
        self._lock = threading.Lock()
        self._passage_tokens: dict[str, frozenset[str]] = {}  # for coverage; a chunk's text never changes
        sources = load_manifest(settings.corpus_dir)
        self.cited_only = [s for s in sources if not s.has_text]  # named and linked in refusals
        self.parts = {s.id: s.part for s in sources}
        self.document_names = _document_names(sources)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings)
        return self._embedder

    def lexical(self) -> _LexicalIndex:
        key = tuple(self.store.committed_versions())
        with self._lock:
            if self._lexical is None or key != self._lexical_key:
                self._lexical = _LexicalIndex(self.store.all_chunks())
                self._lexical_key = key
            return self._lexical

    def _dense(self, vector: np.ndarray, filters: dict | None, lex: _LexicalIndex) -> list[Hit]:
        """Dense candidates. Chunks outside the lexical index (not committed: an ingest is running
        or was cut off) are dropped by the caller, so Chroma's version filter (~30 ms a query) is
        needed only when there are many of them; a few are covered by asking for more."""
        stray = self.store.count() - len(lex.hits)
        if 0 <= stray <= MAX_STRAY:
            hits = self.store.query(vector, CANDIDATES + stray, _chroma_where(filters), committed_only=False)
            return [h for h in hits if h.id in lex.index_of][:CANDIDATES]  # ranks as if they were not there
        return self.store.query(vector, CANDIDATES, _chroma_where(filters))

    def retrieve(self, question: str, k: int = 5, filters: dict | None = None, language: str | None = None) -> list[Passage]:
        language = language or guess_language(question)
        weights = WEIGHTS.get(language, WEIGHTS["sv"])
        lex = self.lexical()
        if not lex.hits:
            return []
        allowed = None
        if filters:
            allowed = {i for i, h in enumerate(lex.hits) if _matches(h.metadata, filters)}
            if not allowed:
                return []

        fused: dict[int, float] = {}
        dense_sim: dict[int, float] = {}
        bm25_score: dict[int, float] = {}

        glossed_ahead = None
        if language == "en" and weights.get("dense_sv"):  # embed the glossed query on the other core meanwhile
            glossed_ahead = _AHEAD.submit(self.embedder.embed_query, swedish_terms_query(question))
        query_vec = self.embedder.embed_query(question)
        if glossed_ahead is not None:
            glossed_ahead.result()  # now in the embedder's query cache
        for rank, hit in enumerate(self._dense(query_vec, filters, lex), 1):
            i = lex.index_of.get(hit.id)
            if i is None or (allowed is not None and i not in allowed):
                continue
            dense_sim[i] = 1.0 - hit.distance
            fused[i] = fused.get(i, 0.0) + weights["dense"] / (RRF_K + rank)

        if language == "en" and weights.get("dense_sv"):
            glossed = swedish_terms_query(question)
            if glossed != " ".join(fold(question).split()):
                vec = self.embedder.embed_query(glossed)
                for rank, hit in enumerate(self._dense(vec, filters, lex), 1):
                    i = lex.index_of.get(hit.id)
                    if i is None or (allowed is not None and i not in allowed):
                        continue
                    dense_sim[i] = max(dense_sim.get(i, 0.0), 1.0 - hit.distance)
                    fused[i] = fused.get(i, 0.0) + weights["dense_sv"] / (RRF_K + rank)

        for rank, (i, score) in enumerate(lex.search(query_tokens(question, language), CANDIDATES, allowed), 1):
            bm25_score[i] = score
            fused[i] = fused.get(i, 0.0) + weights["bm25"] / (RRF_K + rank)

        named = named_documents(question, self.document_names)
        folded_q = fold(question)
        about_other = bool(named) or any(w in folded_q for w in _OTHER_DOC_WORDS)
        about_plan = any(w in folded_q for w in _PLAN_WORDS)
        for i in fused:
            meta = lex.hits[i].metadata
            doc_id = meta.get("doc_id", "")
            part = self.parts.get(doc_id, "")
            if named and any(doc_id.startswith(n) for n in named):
                fused[i] *= NAMED_DOC_BOOST * (SUMMARY_BOOST if part == "summary" else 1.0)
            elif meta.get("kind") in PRIMARY_KINDS and (about_plan or not about_other):
                fused[i] *= PLAN_BOOST
            elif part == "summary":
                fused[i] *= SUMMARY_BOOST

        order = sorted(fused, key=lambda i: -fused[i])[:k]
        passages = [self._passage(rank, lex.hits[i], fused[i], dense_sim.get(i, 0.0), bm25_score.get(i, 0.0))
                    for rank, i in enumerate(order, 1)]
        found = set()
        for p in passages:
            if p.id not in self._passage_tokens:
                self._passage_tokens[p.id] = frozenset(tokens(p.text + " " + p.section))
            found |= self._passage_tokens[p.id]
        wanted = set(tokens(" ".join(expand_english(question)) if language == "en" else question))
        coverage = len(wanted & found) / len(wanted) if wanted else 0.0
        for p in passages:
            p.best_dense = max(dense_sim.values(), default=0.0)
            p.best_bm25 = max(bm25_score.values(), default=0.0)
            p.coverage = coverage
        return passages

    @staticmethod
    def _passage(rank: int, hit: Hit, score: float, sim: float, bm25: float) -> Passage:
        m = hit.metadata
        page = m.get("page")
        return Passage(rank=rank, score=score, id=hit.id, doc_id=m.get("doc_id", ""), title=m.get("title", ""),
                       short_title=m.get("short_title", m.get("title", "")), kind=m.get("kind", ""),
                       language=m.get("language", ""), page=int(page) if page is not None else None,
                       page_end=int(m["page_end"]) if m.get("page_end") is not None else None,
                       section=m.get("section", ""), text=hit.text, url=m.get("url", ""),
                       dense_similarity=sim, bm25_score=bm25, metadata=m)
