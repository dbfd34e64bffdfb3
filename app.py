"""The Gradio app: a thin shell over ``kb``.

For now it shows what the knowledge base holds (the chat arrives with the answering issue);
it reads everything through ``kb.cli.stats`` and the manifest, never the store directly.
"""

from __future__ import annotations

import sys

from kb.config import ConfigError, Settings


def build_app(settings: Settings):  # noqa: ANN201 - gradio.Blocks
    import gradio as gr

    from kb.cli import stats
    from kb.manifest import load_manifest

    def documents() -> list[list]:
        held = {d["doc_id"]: d for d in stats(settings)["documents"]}
        rows = []
        for s in load_manifest(settings.corpus_dir):
            d = held.get(s.id)
            status = f"{d['chunks']} avsnitt" if d else ("saknas i index" if s.has_text else "endast länk")
            rows.append([s.display_title(), s.kind, s.year, s.language or "", status, s.url])
        return rows

    with gr.Blocks(title="Civsam KB") as app:
        gr.Markdown("# Civsam KB\nKunskapsbas om *Regional handlingsplan för civilsamhälle och social ekonomi "
                    "2026–2030* (Region Örebro län) och underlagen den bygger på. Chatten kommer snart; "
                    "här är dokumenten som kunskapsbasen innehåller.")
        gr.Dataframe(value=documents, headers=["Dokument", "Typ", "År", "Språk", "I kunskapsbasen", "Länk"],
                     interactive=False, label="Dokument")
    return app


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return 2
    build_app(settings).launch(server_name=settings.host, server_port=settings.port, show_error=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
