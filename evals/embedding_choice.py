"""Measure candidate embedding models on the plan alone (issue: choose the default model).

Each plan question is asked against the plan's own chunks (repaired text, the production
chunker); a chunk is right when it holds one of the question's evidence phrases.
Run: ``python -m evals.embedding_choice [model ...]`` (default: the two candidates).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from evals.dataset import first_relevant_rank, load_questions, rank_metrics
from ingest.chunk import chunk_document
from ingest.index import embedding_text, load_source
from kb.config import Settings
from kb.embeddings import load_embedder
from kb.manifest import load_manifest, locate


def measure(model: str, settings: Settings) -> dict:
    source = next(s for s in load_manifest(settings.corpus_dir) if s.id == "plan")
    path, _ = locate(source, settings.corpus_dir, settings.corpus_mirror)
    doc, _ = load_source(path, source, settings)
    _, chunks = chunk_document(doc, settings.chunk_words)
    questions = [q for q in load_questions() if q.doc_id == "plan"]
    t0 = time.monotonic()
    embedder = load_embedder(settings, model)
    load_s = time.monotonic() - t0
    t0 = time.monotonic()
    vectors = embedder.embed_documents([embedding_text(source, c) for c in chunks])
    embed_s = time.monotonic() - t0
    out = {"model": model, "chunks": len(chunks), "load_s": round(load_s, 1),
           "chunks_per_s": round(len(chunks) / embed_s, 2)}
    for lang in ("sv", "en"):
        ranks = []
        for q in (q for q in questions if q.lang == lang):
            order = np.argsort(-(vectors @ embedder.embed_query(q.question)))
            ranks.append(first_relevant_rank(q, [chunks[i].text for i in order]))
        out[lang] = {k: round(v, 3) for k, v in rank_metrics(ranks).items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=["multilingual-e5-small", "embeddinggemma-300m"])
    args = parser.parse_args()
    settings = Settings.from_env()
    for model in args.models:
        print(json.dumps(measure(model, settings), ensure_ascii=False))


if __name__ == "__main__":
    main()
