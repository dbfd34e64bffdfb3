"""The Gradio app: a thin shell over ``kb`` (run: ``python app.py``; ``KB_HOST``/``KB_PORT``).

Design choices:
- One ``kb.Assistant`` per process (models load once, in a background thread at start);
  each browser session keeps only its own conversation in ``gr.State``.
- The chat consumes ``Assistant.ask_stream``: the source cards appear as soon as retrieval
  is done, then the answer streams, then the verified answer replaces the draft with each
  ``[n]`` linked to its card. All rendering and escaping is in ``kb.present``; all strings
  are in ``kb.ui_text``; admin rules are in ``kb.admin``.
- The admin page exists only when ``KB_ADMIN_PASSWORD`` is set, and each admin handler checks
  the session's login on the server, because Gradio exposes every handler as an endpoint.
- Gradio's file route serves only its own upload cache: the repository, the corpus, the
  data and model directories are blocked explicitly as well.
- No traceback reaches a user: handlers catch everything, log it, and show a message.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from kb.config import PROJECT_ROOT, ConfigError, Settings, set_offline_mode

log = logging.getLogger("civsam-kb.app")

CSS = """
.kb-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .8rem;
           margin: 0 0 .6rem 0; background: var(--background-fill-secondary); scroll-margin-top: 4rem; }
.kb-card header { font-size: .95rem; }
.kb-num { font-weight: 700; color: var(--color-accent); }
.kb-meta { font-size: .85rem; opacity: .8; margin: .15rem 0 .3rem 0; }
.kb-passage { font-size: .9rem; margin: .3rem 0; padding-left: .6rem; border-left: 3px solid var(--border-color-primary);
              white-space: pre-wrap; max-height: 16rem; overflow-y: auto; }
.kb-passage mark { background: #fff3a3; color: #222; padding: 0 .1rem; }
.kb-card.kb-flash { outline: 3px solid var(--color-accent); }
.kb-turn h3 { font-size: 1rem; margin: .4rem 0; }
.kb-more summary { cursor: pointer; margin: .3rem 0 .6rem 0; }
.kb-empty { opacity: .75; }
#kb-sources { max-height: 75vh; overflow-y: auto; }
@media (max-width: 700px) { #kb-sources { max-height: none; } #kb-top { flex-direction: column; } }
"""

# Citation links jump to their card (scrolling the sources panel) and flash it.
HEAD = """
<script>
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest('a[href^="#kb-src-"], a[href^="#kb-hit-"]');
  if (!link) return;
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  event.preventDefault();
  event.stopPropagation();
  card.scrollIntoView({behavior: "smooth", block: "center"});
  card.classList.add("kb-flash");
  card.focus({preventScroll: true});
  setTimeout(function () { card.classList.remove("kb-flash"); }, 2500);
}, true);
</script>
"""


def new_session() -> dict:
    return {"lang": "sv", "history": [], "turns": [], "answers": {}, "feedback_row": None, "admin": False}


def build_app(settings: Settings, assistant=None) -> gr.Blocks:  # noqa: ANN001 - kb.Assistant
    from kb import admin as adm
    from kb import present as P
    from kb.assistant import Assistant, QuestionError
    from kb.feedback import FeedbackError, FeedbackStore, feedback_path
    from kb.overview import contents_markdown, held_documents, linked_documents
    from kb.ui_text import LANGUAGES, THEMES, ui

    assistant = assistant or Assistant(settings)
    feedback: dict[str, FeedbackStore | None] = {"store": None}
    guard = adm.LoginGuard(settings.admin_password, settings.admin_max_attempts, settings.admin_lockout_s)
    ingest_lock = threading.Lock()

    def feedback_store() -> FeedbackStore:
        if feedback["store"] is None:
            feedback["store"] = FeedbackStore(feedback_path(settings.data_dir))
            if feedback["store"].recovered_from:
                log.warning("feedback database was corrupt; moved to %s", feedback["store"].recovered_from)
        return feedback["store"]

    def ledger() -> dict:
        try:
            return assistant.retriever.store.ledger()
        except Exception:  # noqa: BLE001 - the store may be unreachable (server mode); show nothing
            log.exception("could not read the ledger")
            return {}

    def col(lang: str, *keys: str) -> list[str]:
        return [ui(lang, k) for k in keys]

    # ------------------------------------------------------------------ chat

    def respond(question: str, messages: list, session: dict):  # noqa: ANN202 - a generator of updates
        session = session or new_session()
        lang = session["lang"]
        messages = list(messages or [])
        question = question or ""
        try:
            from kb.assistant import clean_question

            text, q_lang = clean_question(question, settings)
        except QuestionError as exc:
            messages.append({"role": "assistant", "content": P.plain_markdown(str(exc))})
            yield messages, gr.skip(), session, question
            return
        turn = len(session["turns"]) + 1
        messages.append({"role": "user", "content": P.plain_markdown(text)})
        messages.append({"role": "assistant", "content": P.plain_markdown(ui(q_lang, "thinking"))})
        entry = {"question": text, "cards": "", "final": False}
        yield messages, gr.skip(), session, ""
        draft = ""
        try:
            for event in assistant.ask_stream(text, history=session["history"]):
                kind = event["type"]
                if kind == "sources":
                    entry["cards"] = P.passage_cards(event["passages"], turn, lang)
                    session["turns"].append(entry)
                    messages[-1] = {"role": "assistant", "content": P.plain_markdown(ui(q_lang, "writing"))}
                    yield messages, P.sources_panel(session["turns"], lang), session, gr.skip()
                elif kind == "queue":
                    messages[-1] = {"role": "assistant",
                                    "content": P.plain_markdown(ui(q_lang, "queue", position=event["position"]))}
                    yield messages, gr.skip(), session, gr.skip()
                elif kind == "token":
                    draft += event["text"]
                    messages[-1] = {"role": "assistant", "content": P.plain_markdown(draft) + " ▍"}
                    yield messages, gr.skip(), session, gr.skip()
                elif kind == "answer":
                    result = event["answer"]
                    numbers = [c.n for c in result.citations]
                    body = P.answer_markdown(result.answer, turn, numbers, result.notices, result.language)
                    body += P.sources_footer(result, turn, lang)
                    messages[-1] = {"role": "assistant", "content": body}
                    entry.update(cards=P.citation_cards(result, turn, lang), final=True)
                    session["history"] += [{"role": "user", "content": text},
                                           {"role": "assistant", "content": result.answer}]
                    session["answers"][str(len(messages) - 1)] = {
                        "question": text, "answer": result.answer, "language": result.language,
                        "backend": result.backend, "citations": [c.to_json() for c in result.citations]}
                    yield messages, P.sources_panel(session["turns"], lang), session, gr.skip()
        except QuestionError as exc:
            messages[-1] = {"role": "assistant", "content": P.plain_markdown(str(exc))}
            yield messages, gr.skip(), session, gr.skip()
        except Exception:  # noqa: BLE001 - the user gets a message, the log gets the traceback
            log.error("answering failed:\n%s", traceback.format_exc())
            messages[-1] = {"role": "assistant", "content": P.plain_markdown(ui(q_lang, "error"))}
            yield messages, gr.skip(), session, gr.skip()

    def clear(session: dict):  # noqa: ANN202
        fresh = new_session()
        fresh["lang"] = (session or {}).get("lang", "sv")
        fresh["admin"] = (session or {}).get("admin", False)
        return [], P.sources_panel([], fresh["lang"]), fresh, "", gr.update(visible=False)

    def show_contents(messages: list, session: dict):  # noqa: ANN202
        lang = session["lang"]
        messages = list(messages or [])
        messages.append({"role": "user", "content": P.plain_markdown(ui(lang, "theme_contents"))})
        messages.append({"role": "assistant", "content": contents_markdown(ledger(), settings, lang)})
        return messages, session

    # ------------------------------------------------------------------ feedback

    def on_like(session: dict, data: gr.LikeData):  # noqa: ANN202
        lang = session["lang"]
        record = session["answers"].get(str(data.index if isinstance(data.index, int) else data.index[0]))
        if record is None:
            return session, gr.update(visible=False), ui(lang, "feedback_nothing")
        liked = data.liked if isinstance(data.liked, bool) else str(data.liked).lower() in ("like", "true")
        try:
            row = feedback_store().add(1 if liked else -1, record["question"], record["answer"], record["citations"],
                                       record["language"], record["backend"])
        except (FeedbackError, OSError):
            log.exception("feedback not stored")
            return session, gr.update(visible=False), ui(lang, "feedback_failed")
        session["feedback_row"] = row
        return session, gr.update(visible=True), ui(lang, "feedback_thanks")

    def on_comment(comment: str, session: dict):  # noqa: ANN202
        lang = session["lang"]
        if not session.get("feedback_row"):
            return session, ui(lang, "feedback_nothing"), comment
        try:
            feedback_store().comment(session["feedback_row"], (comment or "").strip())
        except (FeedbackError, OSError):
            log.exception("feedback comment not stored")
            return session, ui(lang, "feedback_failed"), comment
        return session, ui(lang, "feedback_saved"), ""

    # ------------------------------------------------------------------ admin

    def client_of(request: gr.Request | None) -> str:
        return getattr(getattr(request, "client", None), "host", None) or "unknown"

    def uploaded_choices() -> list[str]:
        return sorted(adm.uploaded_documents(settings))

    def on_login(password: str, session: dict, request: gr.Request):  # noqa: ANN202
        lang = session["lang"]
        client = client_of(request)
        wait = guard.locked_for(client)
        if wait > 0:
            return session, ui(lang, "admin_locked", minutes=max(1, round(wait / 60))), gr.update(visible=False), "", \
                gr.update()
        if not guard.check(client, password or ""):
            log.warning("failed admin login from %s", client)
            return session, ui(lang, "admin_wrong"), gr.update(visible=False), "", gr.update()
        session["admin"] = True
        return (session, ui(lang, "admin_welcome", mb=settings.max_file_mb, pages=settings.max_pages),
                gr.update(visible=True), "", gr.update(choices=uploaded_choices(), value=None))

    def on_logout(session: dict):  # noqa: ANN202
        session["admin"] = False
        return session, "", gr.update(visible=False)

    def run_ingest(lines: list[str], lang: str):  # noqa: ANN202 - generator of progress text
        """Ingest in a thread; yield the progress text every half second, then a per-document summary."""
        from ingest.index import ingest

        if not ingest_lock.acquire(blocking=False):
            yield "\n".join([*lines, ui(lang, "admin_busy")])
            return
        try:
            done = threading.Event()
            result: dict = {}
            started = time.monotonic()

            def work() -> None:
                try:
                    result["report"] = ingest(settings, log=lambda message: log.info("ingest: %s", message),
                                              progress=False)
                except Exception as exc:  # noqa: BLE001 - reported below
                    result["error"] = exc
                finally:
                    done.set()

            threading.Thread(target=work, name="admin-ingest", daemon=True).start()
            while not done.wait(0.5):
                yield "\n".join([*lines, ui(lang, "admin_ingesting", seconds=round(time.monotonic() - started))])
            if "error" in result:
                log.error("ingest failed: %s", result["error"])
                lines.append(ui(lang, "admin_failed", error=result["error"]))
            else:
                report = result["report"]
                for d in report.docs:
                    detail = d.reason if d.status in ("missing", "failed") else f"{d.chunks} {ui(lang, 'col_chunks').lower()}"
                    lines.append(f"  {ui(lang, 'status_' + d.status)}: {d.doc_id} ({detail})")
                lines.append(ui(lang, "admin_done", seconds=round(report.seconds, 1)))
            yield "\n".join(lines)
        finally:
            ingest_lock.release()

    def on_upload(files: list | None, session: dict):  # noqa: ANN202
        lang = session["lang"]
        if not session.get("admin"):
            yield ui(lang, "admin_needed"), gr.update()
            return
        if not files:
            yield ui(lang, "admin_no_files"), gr.update()
            return
        lines: list[str] = []
        stored = 0
        for f in files:
            path = Path(getattr(f, "name", None) or str(f))
            original = getattr(f, "orig_name", None) or path.name
            try:
                up = adm.store_upload(path, original, settings)
                lines.append(f"✓ {original} → {up.doc_id}")
                stored += 1
            except adm.UploadError as exc:
                lines.append(f"✗ {exc.message(lang)}")
            except OSError as exc:
                lines.append(f"✗ {original}: {exc.strerror or exc}")
        yield "\n".join(lines), gr.update()
        if stored:
            for text in run_ingest(lines, lang):
                yield text, gr.update()
        yield "\n".join(lines), gr.update(choices=uploaded_choices(), value=None)

    def on_remove(doc_id: str | None, session: dict):  # noqa: ANN202
        lang = session["lang"]
        if not session.get("admin"):
            yield ui(lang, "admin_needed"), gr.update()
            return
        try:
            adm.remove_upload(doc_id or "", settings)
        except adm.UploadError as exc:
            yield exc.message(lang), gr.update()
            return
        lines = [ui(lang, "admin_removed", name=doc_id)]
        for text in run_ingest(lines, lang):
            yield text, gr.update()
        yield "\n".join(lines), gr.update(choices=uploaded_choices(), value=None)

    # ------------------------------------------------------------------ API for programs (and the load test)

    def ask_api(question: str) -> Iterator[dict]:
        """Answer a question: yields events (sources, queue position, the final answer as JSON)."""
        try:
            for event in assistant.ask_stream(question):
                if event["type"] == "sources":
                    yield {"type": "sources", "hits": [p.to_json() for p in event["passages"]]}
                elif event["type"] == "queue":
                    yield {"type": "queue", "position": event["position"]}
                elif event["type"] == "answer":
                    yield {"type": "answer", **event["answer"].to_json()}
        except QuestionError as exc:
            yield {"type": "error", "message": str(exc)}
        except Exception:  # noqa: BLE001
            log.error("API answer failed:\n%s", traceback.format_exc())
            yield {"type": "error", "message": ui("sv", "error") + " / " + ui("en", "error")}

    # ------------------------------------------------------------------ layout

    has_index = bool(ledger())
    with gr.Blocks(title="Civsam KB", fill_width=True) as app:
        session = gr.State(new_session)
        with gr.Row(equal_height=True, elem_id="kb-top"):
            header = gr.Markdown(f"# {ui('sv', 'title')}\n{ui('sv', 'intro')}", elem_id="kb-header")
            language = gr.Radio(choices=[(name, code) for code, name in LANGUAGES.items()], value="sv",
                                label=ui("sv", "language_label"), elem_id="kb-language", scale=0, min_width=200)
        banner = gr.Markdown(ui("sv", "no_index"), visible=not has_index, elem_id="kb-no-index")
        with gr.Tabs():
            with gr.Tab(ui("sv", "tab_chat"), id="chat") as tab_chat, gr.Row():
                with gr.Column(scale=3, min_width=320):
                    chatbot = gr.Chatbot(label=ui("sv", "chat_label"), placeholder=ui("sv", "chat_placeholder"),
                                         elem_id="kb-chat", height=520, sanitize_html=True,
                                         buttons=["copy"], layout="bubble")
                    feedback_status = gr.Markdown("", elem_id="kb-feedback-status")
                    with gr.Row(visible=False, elem_id="kb-feedback-row") as feedback_row:
                        comment = gr.Textbox(label=ui("sv", "feedback_comment_label"), lines=2, max_lines=6,
                                             max_length=2000, scale=4, elem_id="kb-comment")
                        comment_send = gr.Button(ui("sv", "feedback_send"), scale=1, elem_id="kb-comment-send")
                    with gr.Row():
                        question = gr.Textbox(label=ui("sv", "question_label"),
                                              placeholder=ui("sv", "question_placeholder"), lines=2, max_lines=8,
                                              scale=5,
                                              elem_id="kb-question", autofocus=True)
                        send = gr.Button(ui("sv", "send"), variant="primary", scale=1, min_width=90,
                                         elem_id="kb-send")
                    new_chat = gr.Button(ui("sv", "new_conversation"), size="sm", elem_id="kb-new")
                    start_heading = gr.Markdown(f"### {ui('sv', 'start_points')}")
                    with gr.Row(elem_id="kb-themes"):
                        theme_buttons = [gr.Button(ui("sv", key), size="sm", elem_id=f"kb-{key}")
                                         for key, _ in THEMES]
                        contents_button = gr.Button(ui("sv", "theme_contents"), size="sm",
                                                    elem_id="kb-theme_contents")
                with gr.Column(scale=2, min_width=300):
                    sources_heading = gr.Markdown(f"### {ui('sv', 'sources_label')}")
                    sources = gr.HTML(P.sources_panel([], "sv"), elem_id="kb-sources")
            with gr.Tab(ui("sv", "tab_documents"), id="documents") as tab_docs:
                docs_intro = gr.Markdown(ui("sv", "documents_intro"))
                held_table = gr.Dataframe(
                    value=lambda: held_documents(ledger(), settings, "sv"),
                    headers=col("sv", "col_title", "col_kind", "col_year", "col_language", "col_chunks",
                                "col_ingested", "col_link"),
                    label=ui("sv", "documents_held"), interactive=False, wrap=True, elem_id="kb-docs-held")
                linked_table = gr.Dataframe(
                    value=lambda: linked_documents(settings, "sv"),
                    headers=col("sv", "col_title", "col_kind", "col_year", "col_link"),
                    label=ui("sv", "documents_linked"), interactive=False, wrap=True, elem_id="kb-docs-linked")
            admin_parts: dict = {}
            if settings.admin_password:
                with gr.Tab(ui("sv", "tab_admin"), id="admin") as tab_admin:
                    password = gr.Textbox(label=ui("sv", "admin_password"), type="password", max_length=200,
                                          elem_id="kb-admin-password")
                    login = gr.Button(ui("sv", "admin_login"), elem_id="kb-admin-login")
                    admin_status = gr.Markdown("", elem_id="kb-admin-status")
                    with gr.Column(visible=False, elem_id="kb-admin-panel") as admin_panel:
                        files = gr.File(label=ui("sv", "admin_upload"), file_count="multiple",
                                        file_types=list(adm.ALLOWED_SUFFIXES), elem_id="kb-admin-files")
                        ingest_button = gr.Button(ui("sv", "admin_ingest"), variant="primary",
                                                  elem_id="kb-admin-ingest")
                        progress = gr.Textbox(label=ui("sv", "admin_progress"), lines=8, interactive=False,
                                              elem_id="kb-admin-progress")
                        uploaded = gr.Dropdown(choices=uploaded_choices(), label=ui("sv", "admin_remove_label"),
                                               elem_id="kb-admin-uploaded")
                        remove = gr.Button(ui("sv", "admin_remove"), variant="stop", elem_id="kb-admin-remove")
                        logout = gr.Button(ui("sv", "admin_logout"), size="sm", elem_id="kb-admin-logout")
                    login.click(on_login, [password, session], [session, admin_status, admin_panel, password,
                                                                 uploaded], api_visibility="private")
                    password.submit(on_login, [password, session], [session, admin_status, admin_panel, password,
                                                                     uploaded], api_visibility="private")
                    logout.click(on_logout, [session], [session, admin_status, admin_panel], api_visibility="private")
                    ingest_button.click(on_upload, [files, session], [progress, uploaded], api_visibility="private",
                                        concurrency_limit=1)
                    remove.click(on_remove, [uploaded, session], [progress, uploaded], api_visibility="private",
                                 concurrency_limit=1)
                    admin_parts = {"tab": tab_admin, "password": password, "login": login, "files": files,
                                   "ingest": ingest_button, "progress": progress, "uploaded": uploaded,
                                   "remove": remove, "logout": logout}

        # Chat events.
        chat_io = dict(inputs=[question, chatbot, session], outputs=[chatbot, sources, session, question],
                       api_visibility="private")
        send.click(respond, **chat_io)
        question.submit(respond, **chat_io)
        new_chat.click(clear, [session], [chatbot, sources, session, question, feedback_row], api_visibility="private")
        for button, (_key, examples) in zip(theme_buttons, THEMES):
            button.click(lambda s, ex=examples: ex[(s or {}).get("lang", "sv")], [session], [question],
                         api_visibility="private").then(respond, **chat_io)
        contents_button.click(show_contents, [chatbot, session], [chatbot, session], api_visibility="private")
        chatbot.like(on_like, [session], [session, feedback_row, feedback_status], api_visibility="private")
        comment_send.click(on_comment, [comment, session], [session, feedback_status, comment],
                           api_visibility="private")
        gr.api(ask_api, api_name="ask")

        # Language switch: every label follows.
        relabel_targets = [header, language, banner, tab_chat, tab_docs, chatbot, comment, comment_send, question,
                           send, new_chat, start_heading, *theme_buttons, contents_button, sources_heading, sources,
                           docs_intro, held_table, linked_table]
        admin_targets = [admin_parts[k] for k in ("tab", "password", "login", "files", "ingest", "progress",
                                                   "uploaded", "remove", "logout")] if admin_parts else []

        def relabel(lang: str, session: dict):  # noqa: ANN202
            session = session or new_session()
            session["lang"] = lang = lang if lang in LANGUAGES else "sv"
            updates = [
                f"# {ui(lang, 'title')}\n{ui(lang, 'intro')}",
                gr.update(label=ui(lang, "language_label")),
                ui(lang, "no_index"),
                gr.update(label=ui(lang, "tab_chat")),
                gr.update(label=ui(lang, "tab_documents")),
                gr.update(label=ui(lang, "chat_label"), placeholder=ui(lang, "chat_placeholder")),
                gr.update(label=ui(lang, "feedback_comment_label")),
                gr.update(value=ui(lang, "feedback_send")),
                gr.update(label=ui(lang, "question_label"), placeholder=ui(lang, "question_placeholder")),
                gr.update(value=ui(lang, "send")),
                gr.update(value=ui(lang, "new_conversation")),
                f"### {ui(lang, 'start_points')}",
                *[gr.update(value=ui(lang, key)) for key, _ in THEMES],
                gr.update(value=ui(lang, "theme_contents")),
                f"### {ui(lang, 'sources_label')}",
                P.sources_panel(session["turns"], lang),
                ui(lang, "documents_intro"),
                gr.update(value=held_documents(ledger(), settings, lang), label=ui(lang, "documents_held"),
                          headers=col(lang, "col_title", "col_kind", "col_year", "col_language", "col_chunks",
                                      "col_ingested", "col_link")),
                gr.update(value=linked_documents(settings, lang), label=ui(lang, "documents_linked"),
                          headers=col(lang, "col_title", "col_kind", "col_year", "col_link")),
            ]
            if admin_targets:
                updates += [
                    gr.update(label=ui(lang, "tab_admin")),
                    gr.update(label=ui(lang, "admin_password")),
                    gr.update(value=ui(lang, "admin_login")),
                    gr.update(label=ui(lang, "admin_upload")),
                    gr.update(value=ui(lang, "admin_ingest")),
                    gr.update(label=ui(lang, "admin_progress")),
                    gr.update(label=ui(lang, "admin_remove_label")),
                    gr.update(value=ui(lang, "admin_remove")),
                    gr.update(value=ui(lang, "admin_logout")),
                ]
            return [session, *updates]

        language.change(relabel, [language, session], [session, *relabel_targets, *admin_targets],
                        api_visibility="private")
    return app


def launch_kwargs(settings: Settings) -> dict:
    """Where the app listens and what Gradio may serve: nothing of ours, only its upload cache."""
    blocked = [PROJECT_ROOT, settings.data_dir, settings.corpus_dir, settings.models_dir]
    if settings.corpus_mirror:
        blocked.append(settings.corpus_mirror)
    return {"server_name": settings.host, "server_port": settings.port, "show_error": False,
            "blocked_paths": [str(Path(p).resolve()) for p in blocked], "allowed_paths": [],
            "max_file_size": f"{settings.max_file_mb}mb", "css": CSS, "head": HEAD,
            "footer_links": ["api"], "quiet": True}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return 2
    set_offline_mode()
    from kb.assistant import Assistant
    from kb.store import StoreError

    try:
        assistant = Assistant(settings)
        app = build_app(settings, assistant)
    except StoreError as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return 2
    threading.Thread(target=assistant.warm, name="warm-models", daemon=True).start()
    app.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_concurrency * 4)
    print(f"Civsam KB: http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    app.launch(**launch_kwargs(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
