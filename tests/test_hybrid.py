"""The parts of hybrid retrieval: compound splitting, score fusion, best-sentence reordering and
the sentence-vector cache. Real embedding model and a real (small) Chroma index; the quality of
the whole on the full index is in ``test_retrieval.py``."""

from __future__ import annotations

import numpy as np
import pytest

import kb.embeddings as E
import kb.retrieval as R
from kb.embeddings import embed_sentences, load_embedder
from kb.retrieval import Decompounder, Retriever, tokens

COUNTS = {"forening": 40, "foreningar": 30, "bidrag": 25, "foreningsbidrag": 3, "upphandling": 12,
          "handling": 9, "upp": 50, "plan": 20, "handlingsplan": 14, "civil": 5, "samhallet": 8,
          "civilsamhallet": 60, "ovanligtord": 1, "ord": 1}


def test_compound_splits_into_corpus_words_with_a_linking_s() -> None:
    split = Decompounder(COUNTS)
    assert split.parts("foreningsbidrag") == ("forening", "bidrag")
    assert split.parts("handlingsplan") == ("handling", "plan")
    assert split.parts("civilsamhallet") == ("civil", "samhallet")


@pytest.mark.parametrize("word", ["upphandling",  # 'upp' is shorter than a part may be
                                  "bidrag",  # too short to be a compound
                                  "ovanligtord",  # its halves are not corpus words (seen once)
                                  "2016-13"])
def test_no_split(word: str) -> None:
    assert Decompounder(COUNTS).parts(word) == ()


def test_tokens_with_a_splitter_add_the_parts_and_find_the_compound() -> None:
    split = Decompounder(COUNTS)
    plain = tokens("Föreningsbidrag i länet")
    with_parts = tokens("Föreningsbidrag i länet", split)
    assert set(plain) < set(with_parts)
    assert set(tokens("bidrag")) <= set(with_parts)  # a question's 'bidrag' meets the compound
    assert "vilk" not in tokens("Vilka bidrag finns?")  # stop words go before stemming


def test_fusion_scales_each_signal_over_the_candidates() -> None:
    dense = {0: 0.90, 1: 0.86, 2: 0.80, 3: 0.80, 4: 0.80}
    bm25 = {0: 2.0, 1: 10.0, 2: 0.0, 3: 5.0, 4: 0.0}
    fused = Retriever._fuse(set(dense), dense, bm25, "sv")
    assert fused[2] == fused[4] == 0.0  # at the similarity floor and no lexical match
    assert fused[1] > fused[0] > fused[3] > fused[2]  # strong on one signal, fair on the other
    assert max(fused.values()) <= sum(R.WEIGHTS["sv"].values())
    en = Retriever._fuse(set(dense), dense, bm25, "en")
    assert en[0] > fused[0] - R.WEIGHTS["sv"]["bm25"] * 0.2  # English leans on the dense signal


def test_sentence_cache_returns_the_models_vectors_once(small_index) -> None:  # noqa: ANN001
    embedder = load_embedder(small_index)
    calls: list[int] = []

    class Counting:
        name = embedder.name + "-counting"

        def embed_documents(self, texts):  # noqa: ANN001, ANN202
            calls.append(len(texts))
            return embedder.embed_documents(texts)

    texts = ["Föreningar får bidrag för sin verksamhet.", "Regionen samverkar med civilsamhället.",
             "Föreningar får bidrag för sin verksamhet."]
    first = embed_sentences(Counting(), texts)
    again = embed_sentences(Counting(), texts[:2])
    assert first.shape == (3, embedder.embed_query("x").shape[0])
    np.testing.assert_allclose(first[:2], embedder.embed_documents(texts[:2]), atol=1e-5)
    np.testing.assert_array_equal(again, first[:2])
    assert calls == [2]  # the duplicate and the second call came from the cache


def test_warm_sentences_fill_the_cache_used_by_reordering(small_index, monkeypatch) -> None:  # noqa: ANN001
    retriever = Retriever(small_index)
    E._SENTENCES.clear()
    warmed = retriever.warm_sentences()
    assert warmed > 0 and len(E._SENTENCES) > 0
    embedded: list[int] = []
    real = retriever.embedder.embed_documents
    monkeypatch.setattr(retriever.embedder, "embed_documents", lambda texts: embedded.append(len(texts)) or real(texts))
    passages = retriever.retrieve("Vilka grundläggande principer gäller för civilsamhället?", k=5)
    assert passages and passages[0].doc_id == "plan"
    assert sum(embedded) == 0  # reordering touches only the plan's and summaries' sentences: all warmed


def test_reordering_changes_only_the_head(small_index, monkeypatch) -> None:  # noqa: ANN001
    retriever = Retriever(small_index)
    question = "Hur kan föreningar få stöd för internationella projekt?"
    monkeypatch.setattr(R, "SENTENCE_W", 0.0)
    plain = [p.id for p in retriever.retrieve(question, k=20)]
    monkeypatch.setattr(R, "SENTENCE_W", 0.125)
    reordered = [p.id for p in retriever.retrieve(question, k=20)]
    assert set(plain[:R.SENTENCE_TOP]) == set(reordered[:R.SENTENCE_TOP])
    assert plain[R.SENTENCE_TOP:] == reordered[R.SENTENCE_TOP:]


@pytest.mark.parametrize(("question", "swedish"), [
    ("Do women's shelters get grants?", "kvinnojour"),  # punctuation inside a phrase
    ("Are umbrella-organisations consulted?", "paraplyorganisation"),  # hyphen for a space
    ("How are volunteer centre networks funded?", "frivilligcentraler"),  # singular of a plural key
    ("Who volunteered?", "ideell"),  # a verb form of a noun key
])
def test_glossary_matches_inflections_and_punctuation(question: str, swedish: str) -> None:
    assert any(swedish in term for term in R.expand_english(question)), R.expand_english(question)
    assert swedish in R.swedish_terms_query(question)


def test_glossary_prefers_the_exact_key_and_the_longest_phrase() -> None:
    assert R.expand_english("umbrella organisations")[0] == "paraplyorganisationer"
    assert R.expand_english("umbrella organisation")[0] == "paraplyorganisation"
    assert R.swedish_terms_query("volunteer work in Örebro") == "ideellt arbete in orebro"


def test_neighbour_is_the_adjacent_chunk_of_the_same_document(small_index) -> None:  # noqa: ANN001
    retriever = Retriever(small_index)
    passage = retriever.retrieve("Vilka grundläggande principer gäller för civilsamhället?", k=1)[0]
    index = int(passage.metadata["chunk_index"])
    after, before = retriever.neighbour(passage, 1), retriever.neighbour(passage, -1)
    for other, step in ((after, 1), (before, -1)):
        if other is None:  # only at the document's edge
            assert index + step < 0 or all(int(h.metadata["chunk_index"]) != index + step for h in
                                           retriever.lexical().hits if h.metadata["doc_id"] == passage.doc_id)
            continue
        assert other.doc_id == passage.doc_id and int(other.metadata["chunk_index"]) == index + step
        assert other.text != passage.text and other.rank == passage.rank
    first = retriever.neighbour(passage, -index) if index else passage
    assert first is not None and retriever.neighbour(first, -1) is None
