"""Write an evaluation run as Markdown, JSON and a PNG chart, ours beside the baseline.

Design choices:
- One run gives three files with one stem (``eval-YYYYMMDD-HHMMSS``) and copies named
  ``latest.*``: the stamped ones are the local history; ``latest.md`` and ``latest.png`` are
  small and versioned, so a diff shows what moved (the JSON, ~0.5 MB, stays local).
- The Markdown is for a developer deciding what to fix: numbers first, then every failure
  with the question, the evidence we expected and what was retrieved or answered instead.
- Numbers not measured show as "—", never 0; the baseline column is there whenever the
  baseline ran.
- matplotlib with the Agg backend (no display); the chart is a picture of the tables, not
  extra information.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

LANGS = ("sv", "en")
RANK_COLUMNS = ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@10")
ANSWER_MEASURES = (
    ("key_fact_recall", "key facts present (answered questions)"),
    ("key_fact_recall_all", "key facts present (refusals count 0)"),
    ("evidence_cited", "evidence passage cited"),
    ("citation_support", "claims supported by what they cite"),
    ("refusal_accuracy", "refusal accuracy (refused ⇔ unanswerable)"),
    ("unanswerable_refused", "unanswerable refused (want 1)"),
    ("answerable_refused", "answerable refused (want 0)"),
    ("language_match", "answer in the question's language"),
    ("errors", "errors (failures, baseline time-outs)"),
    ("fallbacks", "LLM failed or timed out: extractive fallback"),
    ("quoted", "model's answer unsupported: sources quoted instead"),
)


def fmt(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


def _get(summary: dict | None, *path: str) -> float | None:
    for key in path:
        if not isinstance(summary, dict):
            return None
        summary = summary.get(key)
    return summary  # type: ignore[return-value]


def _sides(result: dict) -> list[tuple[str, dict]]:
    sides = [("ours", result["ours"])]
    if result.get("baseline"):
        sides.append(("baseline", result["baseline"]))
    return sides


# --------------------------------------------------------------------------- markdown


def _retrieval_section(result: dict) -> list[str]:
    out = ["## Retrieval", "",
           f"Answerable questions; a passage is right when it holds an evidence phrase (diacritic-insensitive); "
           f"ranked to k={result['meta']['options']['k']}.", "",
           "| questions | system | n | hit@1 | hit@3 | hit@5 | MRR | nDCG@10 |", "|---|---|---|---|---|---|---|---|"]
    for label, path in [("all", ("overall",))] + [(lang, ("by_language", lang)) for lang in LANGS]:
        for name, side in _sides(result):
            m = _get(side, "retrieval", *path)
            if m:
                out.append(f"| {label} | {name} | {m['n']} | " + " | ".join(fmt(m[c]) for c in RANK_COLUMNS) + " |")
    topics = sorted(_get(result["ours"], "retrieval", "by_topic") or {})
    if topics:
        has_base = bool(result.get("baseline"))
        out += ["", "### Per topic", "",
                "| topic | n | hit@5 ours | hit@5 baseline | MRR ours | MRR baseline | nDCG@10 ours | nDCG@10 baseline |"
                if has_base else "| topic | n | hit@5 | MRR | nDCG@10 |",
                "|---|---|---|---|---|---|---|---|" if has_base else "|---|---|---|---|---|"]
        for t in topics:
            o = result["ours"]["retrieval"]["by_topic"][t]
            b = _get(result.get("baseline"), "retrieval", "by_topic", t) or {}
            if has_base:
                out.append(f"| {t} | {o['n']} | {fmt(o['hit@5'])} | {fmt(b.get('hit@5'))} | {fmt(o['mrr'])} | "
                           f"{fmt(b.get('mrr'))} | {fmt(o['ndcg@10'])} | {fmt(b.get('ndcg@10'))} |")
            else:
                out.append(f"| {t} | {o['n']} | {fmt(o['hit@5'])} | {fmt(o['mrr'])} | {fmt(o['ndcg@10'])} |")
    return out


def _triple(side: dict | None, key: str) -> str:
    parts = [_get(side, "answers", "overall", key)] + [_get(side, "answers", "by_language", lang, key) for lang in LANGS]
    return " / ".join(fmt(v) for v in parts)


def _answers_section(result: dict) -> list[str]:
    ours = result["ours"].get("answers")
    if not ours:
        return []
    meta = result["meta"]
    settings = meta["settings"]
    mode = settings["answer_mode"]
    llm = f", {settings['llm']}, time-out {fmt(settings.get('llm_timeout_s'), 0)} s" if mode != "extractive" else ""
    base = result.get("baseline") or {}
    out = ["## Answers", "",
           f"{ours['overall']['n']} questions ({mode}{llm}); each cell: all / sv / en. The baseline's default "
           "prompt neither cites nor is told to refuse: its citation measures are —, its refusals are recognised "
           "by wording."]
    fallbacks = ours["overall"].get("fallbacks") or 0
    if fallbacks:
        out += ["", f"**{fallbacks} of {ours['overall']['n']} answers fell back to extraction because the LLM timed "
                "out or failed**: those rows measure the extractive fallback, not the LLM."]
    out += ["", "| measure | ours | baseline |", "|---|---|---|"]
    for key, label in ANSWER_MEASURES:
        out.append(f"| {label} | {_triple(result['ours'], key)} | {_triple(base, key) if base.get('answers') else '—'} |")
    return out


def _latency_section(result: dict) -> list[str]:
    meta = result["meta"]
    out = ["## Latency and memory", "", "Seconds per question, p50 / p95 (models loaded before timing).", "",
           "| stage | ours | baseline |", "|---|---|---|"]

    def cell(side: dict | None, *path: str) -> str:
        m = _get(side, *path)
        return f"{fmt(m['p50'])} / {fmt(m['p95'])}" if m and m.get("n") else "—"

    base = result.get("baseline")
    out.append(f"| retrieval (k={meta['options']['k']}) | {cell(result['ours'], 'retrieval', 'latency_s')} | "
               f"{cell(base, 'retrieval', 'latency_s')} |")
    for stage, label in (("sources", "sources shown"), ("first_token", "first token"), ("total", "whole answer")):
        out.append(f"| {label} | {cell(result['ours'], 'answers', 'latency_s', stage)} | "
                   f"{cell(base, 'answers', 'latency_s', stage)} |")
    mem = result["memory"]
    out += ["", f"Startup (models, lexical index): {fmt(meta['startup_s'], 1)} s. "
            f"Peak memory (RSS): ours {fmt(mem.get('ours_peak_rss_mb'), 0)} MB"
            + (f"; with the baseline also loaded {fmt(mem.get('with_baseline_peak_rss_mb'), 0)} MB" if base else "")
            + f". Covers: {mem['covers']}."]
    b = meta.get("baseline")
    if b:
        out += ["", f"Baseline: {b['embedding']}, {b['chunking']}, {b['chunks']} chunks of "
                f"{len(b['documents'])} documents; index {'built' if b['built_now'] else 'loaded from cache'} in "
                f"{fmt(b['load_s'], 1)} s (key {b['index_key']}); answers: {b['answers'] or 'not run'}."]
    return out


def _passages(hits: list[dict], n: int = 3) -> list[str]:
    return [f"  - {'✓' if h['relevant'] else '✗'} {h['doc_id']} {('— ' + h['location']) if h['location'] else ''}: "
            f"“{h['snippet'][:160]}…”" for h in hits[:n]]


def _evidence(row: dict) -> str:
    return f"{row['doc_id']}: " + "; ".join(f"“{e}”" for e in row["evidence"])


def answer_problems(a: dict) -> list[str]:
    problems = []
    if a.get("error"):
        problems.append(f"error: {a['error']}")
    if a["answerable"] and a["refused"]:
        problems.append("refused an answerable question")
    if not a["answerable"] and not a["refused"]:
        problems.append("answered an unanswerable question")
    if a["answerable"] and not a["refused"]:
        if a["evidence_cited"] is False:
            problems.append("evidence passage not cited")
        if a["key_facts"] is not None and a["key_facts"] < 0.5:
            problems.append(f"key facts {a['key_facts']:.2f}, missing: " + "; ".join(a["key_facts_missing"]))
    if not a["language_right"]:
        problems.append("answer in the wrong language")
    return problems


def _failures_section(result: dict) -> list[str]:
    rows = result["questions"]
    out = ["## Failures", ""]
    misses = [r for r in rows if r["answerable"] and r.get("ours") and (r["ours"]["rank"] or 99) > 5]
    out += [f"### Retrieval: evidence not in our top 5 ({len(misses)})", ""]
    for r in misses:
        base = r.get("baseline")
        out += [f"- **{r['id']}** — {r['question']}",
                f"  - expected: {_evidence(r)}",
                f"  - ours: rank {r['ours']['rank'] or '>' + str(result['meta']['options']['k'])}"
                + (f"; baseline: rank {base['rank'] or '>' + str(result['meta']['options']['k'])}" if base else "")
                + "; our top 3:"]
        out += ["  " + line for line in _passages(r["ours"]["retrieved"])]
    if result.get("baseline"):
        base_misses = [r["id"] for r in rows if r["answerable"] and r.get("baseline") and (r["baseline"]["rank"] or 99) > 5]
        out += ["", f"Baseline misses ({len(base_misses)}): " + (", ".join(base_misses) or "none") + "."]
    answered = [r for r in rows if r.get("answer")]
    if answered:
        bad = [(r, answer_problems(r["answer"])) for r in answered]
        bad = [(r, p) for r, p in bad if p]
        out += ["", f"### Answers ({len(bad)} of {len(answered)} with a problem)", ""]
        for r, problems in bad:
            a = r["answer"]
            out += [f"- **{r['id']}** — {r['question']}", f"  - problem: {'; '.join(problems)}"]
            if r["answerable"]:
                out.append(f"  - expected: {_evidence(r)}")
            text = " ".join(a["answer"].split())
            out.append(f"  - answer: {text[:500]}{'…' if len(text) > 500 else ''}")
            if a.get("citations"):
                out.append("  - cited: " + "; ".join(f"[{c['n']}] {c['doc_id']}" + (f" s. {c['page']}" if c["page"] else "")
                                                     for c in a["citations"]))
            if a.get("removed_claims"):
                out.append(f"  - claims removed as unsupported: {len(a['removed_claims'])}")
            if r.get("ours"):
                out.append("  - retrieved (top 3):")
                out += ["  " + line for line in _passages(r["ours"]["retrieved"])]
        base_bad = [r["id"] for r in answered if r.get("baseline_answer") and answer_problems(r["baseline_answer"])]
        if any(r.get("baseline_answer") for r in answered):
            out += ["", f"Baseline answers with a problem ({len(base_bad)}): {', '.join(base_bad) or 'none'}; "
                    "details in the JSON."]
    return out


def render_markdown(result: dict, chart_name: str | None) -> str:
    meta = result["meta"]
    q = meta["questions"]
    lines = [f"# Civsam KB evaluation — {meta['started']}", "",
             f"- command: `{meta['command'] or 'kb eval'}`; commit {meta['commit'] or 'unknown'}; "
             f"took {fmt(meta['duration_s'], 0)} s",
             f"- questions: {q['selected']} selected ({q['answerable']} answerable), {q['answered']} answered",
             f"- index: {meta['index']['chunks']} passages of {len(meta['index']['documents'])} documents; "
             f"embedding {meta['settings']['embed_model']}; LLM {meta['settings']['llm']}; top_k "
             f"{meta['settings']['top_k']}",
             f"- baseline: {'llama-index VectorStoreIndex, all-MiniLM-L6-v2, 1024-token chunks' if result.get('baseline') else 'not run'}",
             ""]
    if chart_name:
        lines += [f"![scores and latency]({chart_name})", ""]
    for section in (_retrieval_section, _answers_section, _latency_section, _failures_section):
        part = section(result)
        if part:
            lines += part + [""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- chart


def render_chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sides = _sides(result)
    colours = {"ours": "#1f6f8b", "baseline": "#c8553d"}
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    width = 0.38

    def bars(ax, labels: list[str], values: dict[str, list[float | None]], title: str, horizontal: bool = False) -> None:  # noqa: ANN001
        for i, (name, vals) in enumerate(values.items()):
            pos = [x + (i - (len(values) - 1) / 2) * width for x in range(len(labels))]
            clean = [v if v is not None else 0 for v in vals]
            (ax.barh if horizontal else ax.bar)(pos, clean, width, label=name, color=colours.get(name))
        if horizontal:
            ax.set_yticks(range(len(labels)), labels, fontsize=8)
            ax.set_xlim(0, 1.05)
            ax.invert_yaxis()
        else:
            ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)

    ax = axes[0][0]
    labels = [f"{lang} {c}" for lang in LANGS for c in ("hit@1", "hit@5", "mrr", "ndcg@10")]
    values = {name: [_get(side, "retrieval", "by_language", lang, c) for lang in LANGS
                     for c in ("hit@1", "hit@5", "mrr", "ndcg@10")] for name, side in sides}
    bars(ax, labels, values, "Retrieval per language")
    ax.set_ylim(0, 1.05)
    ax.tick_params(axis="x", labelrotation=30)

    topics = sorted(_get(result["ours"], "retrieval", "by_topic") or {})
    bars(axes[0][1], topics, {name: [_get(side, "retrieval", "by_topic", t, "hit@5") for t in topics]
                              for name, side in sides}, "hit@5 per topic", horizontal=True)

    ax = axes[1][0]
    measures = [("key_fact_recall", "key facts"), ("evidence_cited", "evidence cited"),
                ("citation_support", "citation support"), ("refusal_accuracy", "refusal acc."),
                ("language_match", "language")]
    if result["ours"].get("answers"):
        bars(ax, [m[1] for m in measures], {name: [_get(side, "answers", "overall", m[0]) for m in measures]
                                            for name, side in sides if side.get("answers")}, "Answers (— shows as 0)")
        ax.set_ylim(0, 1.05)
    else:
        ax.text(0.5, 0.5, "answers not run (--retrieval-only)", ha="center", va="center")
        ax.set_axis_off()

    ax = axes[1][1]
    stages = [("retrieval", ("retrieval", "latency_s")), ("sources", ("answers", "latency_s", "sources")),
              ("first token", ("answers", "latency_s", "first_token")), ("total", ("answers", "latency_s", "total"))]
    for p, colour_shift in (("p50", 0), ("p95", 1)):
        for i, (name, side) in enumerate(sides):
            vals = [(_get(side, *path) or {}).get(p) for _, path in stages]
            pos = [x + (2 * i + colour_shift - 1.5) * 0.2 for x in range(len(stages))]
            ax.bar(pos, [v or 0 for v in vals], 0.2, label=f"{name} {p}", color=colours[name],
                   alpha=1.0 if p == "p50" else 0.5)
    ax.set_xticks(range(len(stages)), [s[0] for s in stages], fontsize=8)
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_ylabel("seconds")
    ax.set_title("Latency per question (p50, p95)", fontsize=10)
    ax.legend(fontsize=7)

    fig.suptitle(f"Civsam KB vs naive llama-index baseline — {result['meta']['started']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# --------------------------------------------------------------------------- files


def write_report(result: dict, out_dir: Path) -> list[Path]:
    """Write eval-<stamp>.{md,json,png} and copies named latest.*; return the stamped paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = "eval-" + result["meta"]["started"].replace("-", "").replace(":", "").replace("T", "-")[:15]
    json_path, md_path, png_path = (out_dir / f"{stamp}.{ext}" for ext in ("json", "md", "png"))
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    render_chart(result, png_path)
    md_path.write_text(render_markdown(result, png_path.name), encoding="utf-8")
    shutil.copyfile(json_path, out_dir / "latest.json")
    shutil.copyfile(png_path, out_dir / "latest.png")
    (out_dir / "latest.md").write_text(render_markdown(result, "latest.png"), encoding="utf-8")
    return [md_path, json_path, png_path]


def headline(result: dict) -> str:
    """A few lines for the terminal."""
    lines = []
    for name, side in _sides(result):
        for lang in LANGS:
            m = _get(side, "retrieval", "by_language", lang)
            if m:
                lines.append(f"{name:<8} {lang} retrieval: hit@1 {fmt(m['hit@1'])}  hit@5 {fmt(m['hit@5'])}  "
                             f"MRR {fmt(m['mrr'])}  nDCG@10 {fmt(m['ndcg@10'])}  (n={m['n']})")
        a = _get(side, "answers", "overall")
        if a:
            lines.append(f"{name:<8} answers: key facts {fmt(a['key_fact_recall'])}  evidence cited "
                         f"{fmt(a['evidence_cited'])}  refusal accuracy {fmt(a['refusal_accuracy'])}  "
                         f"language {fmt(a['language_match'])}  (n={a['n']})")
    return "\n".join(lines)
