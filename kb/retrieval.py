"""Hybrid, language-aware retrieval: dense (Chroma) + BM25 (Swedish stems, folded), fused.

Design choices:
- BM25 with a Swedish Snowball stemmer on diacritic-folded tokens finds Swedish passages
  almost perfectly for Swedish questions (and for questions typed without å/ä/ö), but knows
  no English; the multilingual dense model bridges languages but is outranked by the SOUs'
  volume. English questions are expanded into Swedish domain terms from a glossary
  (``glossary.toml``, ~830 entries built from the corpus vocabulary) for BM25, and embedded a
  second time as a half-Swedish gloss. LLM query translation was measured and rejected: the
  1.5B model wrote garbled Swedish ("civilsatsen" for civil society) in 1–5 s.
- Swedish compounds are split for BM25 with a splitter learnt from the corpus (``Decompounder``)
  so 'bidrag' meets 'föreningsbidrag'.
- Score fusion, not reciprocal-rank fusion: each signal scaled to [0, 1] over the question's
  candidates, weighted per language. Every candidate gets both signals (a lexical candidate's
  stored vector is fetched). On the dev questions this beat RRF by 0.03–0.05 MRR per language:
  rank fusion cannot tell a clear winner from a tie.
- The best few candidates are then reordered by their best single sentence (the passages of
  one section tie on whole-passage scores; the sentence stating the answer does not).
- The plan is the primary document: its passages get a boost unless the question names
  another document (an SOU number, "utredningen", "inquiry"), in which case that document
  family gets the boost instead. Nothing is hidden; only the order changes.
- Among the other documents, those in the question's language rank a little higher
  (``SAME_LANGUAGE_BOOST``): SOU 2019:56's English summary states what its Swedish summary
  does, and a partner asking in English can read and quote it as it stands. On the English dev
  questions MRR rose 0.864 → 0.887, the Swedish ones did not move (session 10).
- A passage of the plan whose section title the question names ranks a little higher
  (``SECTION_NAMED_BOOST``): "Vilka roller …" finds "Roller" before passages that mention roles
  in passing. Only the plan and uploads: their few, descriptive headings are what users name;
  the SOU summaries' many short ones made the same bonus cost English hit@5 (sessions 5, 10).
- The BM25 index is built in memory from the committed chunks in the store and rebuilt when
  the ledger changes, so retrieval and ingest never disagree about what exists.
"""

from __future__ import annotations

import re
import threading
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from kb.accents import restore, spellings, word_counts, word_list_spellings
from kb.config import Settings
from kb.embeddings import Embedder, embed_sentences, embedder_name, load_embedder
from kb.manifest import load_manifest
from kb.store import Hit, Store
from kb.text import fold, guess_language, split_sentences

GLOSSARY_FILE = Path(__file__).with_name("glossary.toml")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SOU_REF = re.compile(r"\bSOU\s*(\d{4})\s*:\s*(\d+)", re.IGNORECASE)
_OTHER_DOC_WORDS = ("utredning", "betankande", "inquiry", "sou ", "proposition", "government bill")
_PLAN_WORDS = ("handlingsplan", "planen", "the plan", "action plan", "region orebro", "orebro")

# Fusion weights and boosts, measured on evals/questions.jsonl (see the module docstring).
WEIGHTS = {"sv": {"bm25": 1.0, "dense": 1.0}, "en": {"bm25": 0.7, "dense": 1.0}}
DENSE_FLOOR_PCT = 20  # a candidate at this percentile of the candidates' similarities scores 0
PLAN_BOOST = 4.0
# The plan is the primary document; documents an administrator uploads are the region's own
# material too, added on purpose to be found, so they rank like the plan.
PRIMARY_KINDS = ("plan", "upload")
SUMMARY_BOOST = 1.5
NAMED_DOC_BOOST = 2.0
SAME_LANGUAGE_BOOST = 1.2  # measured 1.1–1.5: 1.2 best on the English dev questions, >1.2 no better
OVERVIEW_FACTOR = 0.85  # a full document's own "Sammanfattning" section: detail ranks above overview
# A passage of the plan (or an upload) whose section title the question names ("Vilka roller …"
# → "Roller"; "styrdokument" → "Andra styrande dokument …", the question's compounds split).
# Measured 1.05–1.2 on the dev questions: 1.1 best (MRR sv 0.877 → 0.900, en 0.887 → 0.898);
# for every document, as sessions 5 and 10 tried, it cost English hit@5 (the SOU summaries'
# many short sections named in a question about the full text).
SECTION_NAMED_BOOST = 1.1
SECTION_TITLE_MATCH = 0.5  # share of the title's words (besides the corpus's own) in the question
SENTENCE_TOP = 8  # candidates reordered by their best sentence
SENTENCE_W = 0.125  # weight of the best-sentence similarity against the fused score (top = 1)
SENTENCES_PER_PASSAGE = 4  # the ones sharing most words with the question; more changed nothing measured
MIN_SENTENCE_CHARS = 25  # shorter pieces (headings, list stubs) are not judged as sentences
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


@lru_cache(maxsize=1)
def _english_stemmer():  # noqa: ANN202
    import Stemmer

    return Stemmer.Stemmer("english")


def _english_words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text).replace("_", " "))


@lru_cache(maxsize=1)
def _glossary_index() -> tuple[dict[tuple[str, ...], list[tuple[tuple[str, ...], list[str]]]], int]:
    """Glossary phrases keyed by their English stems, so 'volunteering', 'volunteers' and
    'volunteer' meet one entry and punctuation ('women's', 'idea-based') never blocks a match.
    Keys that stem alike keep their own values; the exact wording wins at match time."""
    index: dict[tuple[str, ...], list[tuple[tuple[str, ...], list[str]]]] = {}
    for key, values in glossary().items():
        words = tuple(_english_words(key))
        if words:
            index.setdefault(tuple(_english_stemmer().stemWords(list(words))), []).append((words, values))
    return index, max((len(k) for k in index), default=1)


def english_phrases(question: str) -> list[tuple[str, list[str] | None]]:
    """The English question's words, greedily grouped into the longest glossary phrases (left to
    right): each item is (the words, their Swedish terms or None: not in the glossary)."""
    index, longest = _glossary_index()
    words = _english_words(question)
    stems = _english_stemmer().stemWords(words)
    out: list[tuple[str, list[str] | None]] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            entries = index.get(tuple(stems[i:i + n]))
            if entries:
                exact = [v for w, v in entries if w == tuple(words[i:i + n])]
                out.append((" ".join(words[i:i + n]), exact[0] if exact else entries[0][1]))
                i += n
                break
        else:
            out.append((words[i], None))
            i += 1
    return out


def expand_english(question: str) -> list[str]:
    """Swedish terms for the English domain phrases in ``question`` (longest phrases first)."""
    return [term for _, terms in english_phrases(question) if terms for term in terms]


def swedish_terms_query(question: str) -> str:
    """The English question with its domain phrases replaced by Swedish terms (a rough gloss).

    Embedded as a second dense query: the multilingual model matches a half-Swedish question
    to Swedish passages better than the English one alone, at the cost of one more embedding.
    """
    return " ".join(terms[0] if terms else words for words, terms in english_phrases(question))


def same_word(a: str, b: str) -> bool:
    """Stems of one word ("finansier" / "finansiering"): equal, or one starts the other (≥ 5 letters)."""
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) >= 5 and long.startswith(short))


@lru_cache(maxsize=4096)
def _title_tokens(section: str) -> tuple[str, ...]:
    return tuple(t for t in dict.fromkeys(tokens(section.split("›")[-1])) if t not in EVERYWHERE)


def names_section(question: str, language: str, section: str, asked: set[str] | None = None) -> bool:
    """Whether the question names this section: most of the words of its title (the last part of
    the path) that are not in every section of this corpus ("plan", "civilsamhälle") are in it.
    ``asked``: the question's ``query_tokens``, when the caller has them already."""
    title = _title_tokens(section)
    asked = asked if asked is not None else set(query_tokens(question, language))
    named = [t for t in title if any(same_word(t, a) for a in asked)]
    return bool(title) and len(named) / len(title) >= SECTION_TITLE_MATCH


def query_tokens(question: str, language: str, splitter: Decompounder | None = None) -> list[str]:
    """The question's search tokens; an English question also gets its glossary's Swedish terms."""
    out = tokens(question, splitter)
    if language == "en":
        out += tokens(" ".join(expand_english(question)), splitter)
    return out


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202
    import Stemmer

    return Stemmer.Stemmer("swedish")


def tokens(text: str, splitter: Decompounder | None = None) -> list[str]:
    """Stem (Swedish) then fold: 'föreningarna' and 'foreningarna' both become 'forening'.

    With a ``splitter`` a compound also yields its parts ('föreningsbidrag' → 'foreningsbidrag',
    'forening', 'bidrag'), so a question's 'bidrag' finds the passage's 'föreningsbidrag'."""
    words = [w for w in _TOKEN.findall(text.casefold()) if len(w) > 1 and fold(w) not in _SWEDISH_STOPWORDS]
    if splitter is not None:
        words = [part for w in words for part in (w, *splitter.parts(fold(w)))]
    stems = _stemmer().stemWords(words)
    return [f for f in (fold(s) for s in stems) if f not in _SWEDISH_STOPWORDS]


# in every section of this corpus: they name none (``names_section``)
EVERYWHERE = frozenset(tokens("civilsamhälle civilsamhället social sociala ekonomi ekonomin handlingsplan "
                              "handlingsplanen plan planen region regionen län länet"))


class Decompounder:
    """Splits Swedish compounds into two words that occur on their own in the corpus.

    Swedish writes compounds as one word, so 'bidrag' in a question and 'föreningsbidrag' in a
    passage never meet in BM25. The split is learnt from the corpus itself (no dictionary ships
    here): a word splits where both halves are corpus words, allowing the linking 's'
    ('förening-s-bidrag'); among candidate splits the one whose halves are most frequent wins
    (geometric mean, Koehn & Knight 2003). Halves shorter than ``MIN_PART`` letters are not
    allowed: 'upp-handling' or 'sam-verkan' would tie unrelated words together.
    """

    MIN_PART = 4
    MIN_WORD = 9
    MIN_COUNT = 2

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self._cache: dict[str, tuple[str, ...]] = {}

    def _known(self, word: str) -> int:
        n = self.counts.get(word, 0)
        return n if n >= self.MIN_COUNT else 0

    def parts(self, word: str) -> tuple[str, ...]:
        if len(word) < self.MIN_WORD or not word.isalpha():
            return ()
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        best: tuple[float, tuple[str, ...]] = (0.0, ())
        for i in range(self.MIN_PART, len(word) - self.MIN_PART + 1):
            head, tail = word[:i], word[i:]
            tail_n = self._known(tail)
            if not tail_n:
                continue
            head_n = self._known(head)
            if not head_n and head.endswith("s") and len(head) > self.MIN_PART:
                head, head_n = head[:-1], self._known(head[:-1])
            if head_n:
                score = (head_n * tail_n) ** 0.5
                if score > best[0]:
                    best = (score, (head, tail))
        self._cache[word] = best[1]
        return best[1]


class _LexicalIndex:
    def __init__(self, hits: list[Hit]) -> None:
        import bm25s

        self.hits = hits
        self.index_of = {h.id: i for i, h in enumerate(hits)}
        texts = [self._indexed_text(h) for h in hits]
        cased = word_counts(texts)  # one count serves the splitter and the spellings
        counts: dict[str, int] = {}
        for word, n in cased.items():
            bare = fold(word)
            counts[bare] = counts.get(bare, 0) + n
        self.splitter = Decompounder(counts)
        self.spellings = spellings(cased)  # for questions typed without å/ä/ö (kb.accents)
        corpus = [tokens(text, self.splitter) for text in texts]
        self.vocab = {t for doc in corpus for t in doc}
        self.position = {(h.metadata.get("doc_id"), h.metadata.get("version"), h.metadata.get("chunk_index")): i
                         for i, h in enumerate(hits)}
        self.bm25 = bm25s.BM25()
        self.bm25.index(corpus, show_progress=False)

    @staticmethod
    def _indexed_text(hit: Hit) -> str:
        m = hit.metadata
        return f"{m.get('short_title', '')} {m.get('section', '')}\n{hit.text}"

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        query_tokens = [t for t in query_tokens if t in self.vocab]
        if not query_tokens or not self.hits:
            return np.zeros(len(self.hits))
        return self.bm25.get_scores(query_tokens)

    def search(self, query_tokens: list[str], k: int, allowed: set[int] | None) -> list[tuple[int, float]]:
        return self.top(self.scores(query_tokens), k, allowed)

    @staticmethod
    def top(scores: np.ndarray, k: int, allowed: set[int] | None) -> list[tuple[int, float]]:
        """The ``k`` best-scoring passages (only ``allowed`` ones when given) with a match at all."""
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
        lex = self.lexical()
        if not lex.hits:
            return []
        allowed = None
        if filters:
            allowed = {i for i, h in enumerate(lex.hits) if _matches(h.metadata, filters)}
            if not allowed:
                return []

        # Query vectors: the question, and for English also its Swedish gloss (embedded on the
        # other core meanwhile); a passage's dense similarity is the better of the two.
        glossed = swedish_terms_query(question) if language == "en" else None
        if glossed == " ".join(fold(question).split()):
            glossed = None
        ahead = _AHEAD.submit(self.embedder.embed_query, glossed) if glossed else None
        vectors = [self.embedder.embed_query(question)]
        if ahead is not None:
            vectors.append(ahead.result())

        # Candidates: the dense top of each query vector and the BM25 top.
        dense_sim: dict[int, float] = {}
        for vec in vectors:
            for hit in self._dense(vec, filters, lex):
                i = lex.index_of.get(hit.id)
                if i is not None and (allowed is None or i in allowed):
                    dense_sim[i] = max(dense_sim.get(i, -1.0), 1.0 - hit.distance)
        q_tokens = query_tokens(question, language, lex.splitter)
        bm25_all = lex.scores(q_tokens)
        candidates = set(dense_sim) | {i for i, _ in lex.top(bm25_all, CANDIDATES, allowed)}
        if not candidates:
            return []
        self._complete_similarities(candidates, dense_sim, vectors, lex)
        bm25_score = {i: float(bm25_all[i]) for i in candidates}

        fused = self._fuse(candidates, dense_sim, bm25_score, language)
        asked = set(q_tokens)
        self._boost(fused, lex, question, language, asked)
        order = sorted(fused, key=lambda i: -fused[i])
        if SENTENCE_W and len(order) > 1:
            order = self._by_best_sentence(order, fused, lex, vectors, asked)
        order = order[:k]

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

    def respell(self, text: str) -> str:
        """A Swedish question typed without å/ä/ö, spelt as the corpus spells it, words the corpus
        never writes as the Swedish word list does (``kb.accents``)."""
        lex = self.lexical()
        return restore(text, lex.spellings, lex.splitter.parts, word_list_spellings(), lex.splitter.counts)

    def neighbour(self, passage: Passage, step: int) -> Passage | None:
        """The chunk before (-1) or after (+1) ``passage`` in its document (a list running over a
        chunk's edge), from the in-memory index; None at a document's edge."""
        m = passage.metadata
        if "chunk_index" not in m:
            return None
        lex = self.lexical()
        i = lex.position.get((m.get("doc_id"), m.get("version"), int(m["chunk_index"]) + step))
        if i is None:
            return None
        hit = lex.hits[i]
        return replace(passage, id=hit.id, text=hit.text, metadata=hit.metadata,
                       page=hit.metadata.get("page", passage.page),
                       page_end=hit.metadata.get("page_end", passage.page_end),
                       section=hit.metadata.get("section", passage.section))

    def warm_sentences(self) -> int:
        """Embed the sentences of the primary documents and summaries now (the app does this in
        the background at start), so that reranking and answering most questions find them
        cached. The full texts are too large (~20,000 sentences) and are embedded on demand."""
        lex = self.lexical()
        sentences = []
        for hit in lex.hits:
            if self._primary_or_summary(hit.metadata):
                sentences += [s for s in split_sentences(hit.text) if len(s) >= MIN_SENTENCE_CHARS]
        for start in range(0, len(sentences), 64):  # in batches: questions asked meanwhile get turns
            embed_sentences(self.embedder, sentences[start:start + 64])
        return len(sentences)

    def _complete_similarities(self, candidates: set[int], dense_sim: dict[int, float],
                               vectors: list[np.ndarray], lex: _LexicalIndex) -> None:
        """Dense similarity for lexical candidates outside the dense top (their stored vectors),
        so every candidate is scored on both signals rather than on one."""
        missing = [lex.hits[i].id for i in candidates if i not in dense_sim]
        stored = self.store.embeddings(missing)
        queries = np.vstack(vectors)
        for i in candidates:
            if i in dense_sim:
                continue
            vec = stored.get(lex.hits[i].id)
            if vec is None:
                dense_sim[i] = 0.0
                continue
            v = np.asarray(vec, dtype=np.float32)
            dense_sim[i] = float((queries @ (v / (np.linalg.norm(v) or 1.0))).max())

    @staticmethod
    def _fuse(candidates: set[int], dense_sim: dict[int, float], bm25_score: dict[int, float],
              language: str) -> dict[int, float]:
        """Weighted sum of the two signals, each scaled to [0, 1] over this question's candidates.

        BM25 is divided by its best score. Dense similarities of e5 sit in a narrow band
        (0.80–0.92), so they are stretched between a low percentile of the candidates and the best.
        Measured against reciprocal-rank fusion on the dev questions: rank fusion ignores how
        far ahead a passage is, and lost most where one signal is sure and the other is not."""
        weights = WEIGHTS.get(language, WEIGHTS["sv"])
        sims = np.array([dense_sim[i] for i in candidates])
        top, floor = float(sims.max()), float(np.percentile(sims, DENSE_FLOOR_PCT))
        best_bm25 = max(bm25_score.values()) or 1.0
        return {i: weights["bm25"] * bm25_score[i] / best_bm25
                + weights["dense"] * max(0.0, (dense_sim[i] - floor) / ((top - floor) or 1.0))
                for i in candidates}

    def _boost(self, fused: dict[int, float], lex: _LexicalIndex, question: str, language: str,
               asked: set[str]) -> None:
        """The plan first unless the question names another document; then that document,
        its summary before its full text; among the rest, the question's language first."""
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
            if meta.get("section", "") == "Sammanfattning" and part != "summary":
                fused[i] *= OVERVIEW_FACTOR
            if meta.get("kind") not in PRIMARY_KINDS and meta.get("language") == language:
                fused[i] *= SAME_LANGUAGE_BOOST
            # ``asked`` has the question's compounds split: "styrdokument" names "styrande dokument"
            elif meta.get("kind") in PRIMARY_KINDS and names_section(question, language, meta.get("section", ""), asked):
                fused[i] *= SECTION_NAMED_BOOST

    def _by_best_sentence(self, order: list[int], fused: dict[int, float], lex: _LexicalIndex,
                          vectors: list[np.ndarray], q_tokens: set[str]) -> list[int]:
        """Reorder the best few candidates of the plan, uploads and summaries by how well their
        single best sentence matches.

        A passage is ~150 words on several points; the question is about one. Passages of one
        section share most words and their whole-passage scores tie; the sentence that states
        the answer tells them apart. Only the primary documents and summaries take part: their
        ~1,400 sentences are embedded once at app start (``warm_sentences``), while the full
        texts' ~20,000 would cost up to a second per question to embed on demand (retrieval p95
        must stay ≤ 150 ms); measured, leaving full-text passages in place kept most of the gain.
        The passages trade places; the slots keep their scores, so scores still fall with rank."""
        head = order[:SENTENCE_TOP]
        slots = [n for n, i in enumerate(head) if self._primary_or_summary(lex.hits[i].metadata)]
        if len(slots) < 2:
            return order
        owners: list[int] = []
        sentences: list[str] = []
        for n in slots:
            text = lex.hits[head[n]].text
            mine = [s for s in split_sentences(text) if len(s) >= MIN_SENTENCE_CHARS] or [text.strip()]
            if len(mine) > SENTENCES_PER_PASSAGE:
                mine = sorted(mine, key=lambda s: -len(q_tokens & set(tokens(s, lex.splitter))))[:SENTENCES_PER_PASSAGE]
            sentences += mine
            owners += [n] * len(mine)
        sims = (embed_sentences(self.embedder, sentences) @ np.vstack(vectors).T).max(axis=1)  # one batch: both cores
        best = {n: float(sims[[o == n for o in owners]].max()) for n in slots}
        lo, hi = min(best.values()), max(best.values())
        top = fused[head[0]] or 1.0
        new = {n: fused[head[n]] / top + SENTENCE_W * (best[n] - lo) / ((hi - lo) or 1.0) for n in slots}
        moved = [head[n] for n in sorted(slots, key=lambda n: -new[n])]
        scores = [fused[head[n]] for n in slots]
        out = list(order)
        for n, i, score in zip(slots, moved, scores):
            out[n] = i
            fused[i] = score
        return out

    def _primary_or_summary(self, metadata: dict) -> bool:
        return metadata.get("kind") in PRIMARY_KINDS or self.parts.get(metadata.get("doc_id", "")) == "summary"

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
