"""Time the local LLM on a RAG-sized prompt: cold vs. with the system prompt already cached.

    KB_MODELS_DIR=/tmp/kbmodels python benchmarks/bench_llm.py [--rounds 2] [--max-tokens 120]

Uses the configured model (default Qwen2.5-Coder-1.5B Q4_K_M), ``KB_LLM_CONTEXT`` and
``KB_LLM_THREADS``, ``KB_LLM_BATCH_THREADS``. The prompt is ~900 tokens: a ~250-token system prompt, three passages
of the plan (~600 tokens) and a question. Each round starts with a system prompt the cache has never
seen (a fresh tag at its start), so the first call is cold; the second call keeps that
system prompt and changes passages and question; the third keeps system prompt and
passages and changes only the question (a follow-up). Prompt and generation speeds are
llama.cpp's own timings; time to first token and total are measured around the stream.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.config import Settings  # noqa: E402
from kb.llm import LlamaCppBackend, load_llm  # noqa: E402

PLAN = ROOT / "corpus" / "handlingsplan-civilsamhalle-social-ekonomi-2026-2030.ocr.txt"

SYSTEM = """Du är en assistent som svarar på frågor om Region Örebro läns regionala handlingsplan för
civilsamhälle och social ekonomi 2026–2030.

Regler:
1. Svara endast utifrån de numrerade utdragen i användarens meddelande. Använd ingen annan kunskap och
   hitta aldrig på siffror, datum, namn eller mål.
2. Svara på frågans språk: en svensk fråga får ett svenskt svar, an English question gets an English
   answer, även när utdragen är på svenska.
3. Ange källan med utdragets nummer inom hakparentes, till exempel [1] eller [2][3], efter varje påstående.
4. Om svaret inte finns i utdragen, skriv: "Det framgår inte av handlingsplanen." / "The plan does not say."
5. Var kortfattad: högst fem meningar eller en kort punktlista, utan hälsningsfraser.
"""

QUESTIONS = [
    "Vilka fokusområden har handlingsplanen?",
    "Answer in English: how will the region support social enterprises according to the plan?",
    "Hur ska handlingsplanen följas upp?",
]


def passages(offset: int, count: int = 3, words: int = 80) -> str:
    text = PLAN.read_text(encoding="utf-8").split()
    out = []
    for i in range(count):
        start = offset + i * words
        out.append(f"[{i + 1}] " + " ".join(text[start:start + words]))
    return "\n\n".join(out)


def run(backend: LlamaCppBackend, system: str, context: str, question: str, max_tokens: int) -> dict[str, float]:
    messages = [{"role": "system", "content": system},
                {"role": "user", "content": f"Utdrag / Passages:\n\n{context}\n\nFråga / Question: {question}"}]
    start = time.perf_counter()
    first = None
    for _ in backend.stream_chat(messages, max_tokens=max_tokens, temperature=0.0):
        if first is None:
            first = time.perf_counter()
    total = time.perf_counter() - start
    t = backend.last_timings or {}
    return {
        "ttft": (first or start) - start,
        "total": total,
        "prompt_tokens": t.get("prompt_n", 0) + t.get("cache_n", 0),
        "cached": t.get("cache_n", 0),
        "evaluated": t.get("prompt_n", 0),
        "prompt_tps": t.get("prompt_per_second", 0.0),
        "generated": t.get("predicted_n", 0),
        "gen_tps": t.get("predicted_per_second", 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=120)
    args = parser.parse_args()

    settings = Settings.from_env()
    t0 = time.perf_counter()
    backend = load_llm(settings)
    if not isinstance(backend, LlamaCppBackend):
        sys.exit("bench_llm measures the local llama.cpp backend; unset KB_LLM_URL")
    backend.timeout_s = 600
    print(f"model: {backend.model_path}")
    print(f"context {settings.llm_context}, threads {settings.llm_threads} generating, "
          f"{settings.llm_batch_threads} reading the prompt; loaded in {time.perf_counter() - t0:.1f} s")
    header = (f"{'call':<40} {'TTFT s':>7} {'total s':>8} {'prompt tok':>10} {'cached':>7} {'evaluated':>9} "
              f"{'prompt tok/s':>12} {'gen tok':>7} {'gen tok/s':>9}")
    print(header)
    print("-" * len(header))
    for r in range(args.rounds):
        system = f"[session {secrets.token_hex(4)}]\n{SYSTEM}"  # new prefix: nothing of it is cached
        calls = [
            ("cold (nothing cached)", passages(200), QUESTIONS[0]),
            ("system prompt cached, new passages", passages(900), QUESTIONS[1]),
            ("system + passages cached (follow-up)", passages(900), QUESTIONS[2]),
        ]
        for label, context, question in calls:
            m = run(backend, system, context, question, args.max_tokens)
            print(f"{f'{r + 1}: {label}':<40} {m['ttft']:>7.2f} {m['total']:>8.2f} {m['prompt_tokens']:>10} "
                  f"{m['cached']:>7} {m['evaluated']:>9} {m['prompt_tps']:>12.1f} {m['generated']:>7} "
                  f"{m['gen_tps']:>9.1f}")


if __name__ == "__main__":
    main()
