"""The chat end to end in a real browser (Debian's chromium driven by Playwright).

Two app processes on loopback, each with its own copy of the small index: one without an
admin password and with extractive answers (instant, deterministic citations), one with a
password and the small 0.5B LLM (answers really stream). Screenshots of the steps go to
tests/artifacts/.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from conftest import ADMIN_PASSWORD, shot

pytestmark = pytest.mark.browser


def ask(page, question: str) -> None:  # noqa: ANN001
    page.fill("#kb-question textarea", question)
    page.click("#kb-send")


def last_bot_message(page):  # noqa: ANN001, ANN201
    return page.locator("#kb-chat .message-row.bot-row, #kb-chat [data-testid='bot']").last


def wait_for_final_answer(page, n_answers: int = 1, timeout_s: float = 120) -> None:  # noqa: ANN001
    """The n-th answer is final when it has citation links (or the sources say 'Källor i svaret')."""
    page.wait_for_function(
        """n => document.querySelectorAll('#kb-sources .kb-turn').length >= n &&
              document.querySelector('#kb-sources .kb-turn h3').textContent.match(/Källor i svaret|Sources in the answer/)""",
        arg=n_answers, timeout=timeout_s * 1000)


def test_swedish_question_shows_sources_then_cited_answer(app_server, page) -> None:  # noqa: ANN001
    page.goto(app_server.url)
    page.wait_for_selector("#kb-question textarea")
    shot(page, "sv-01-start")
    ask(page, "Vilka är handlingsplanens fyra insatsområden?")
    page.wait_for_selector("#kb-sources .kb-card")
    wait_for_final_answer(page)
    shot(page, "sv-02-answer")
    cards = page.locator("#kb-sources .kb-turn").first.locator(".kb-card")
    assert cards.count() >= 1
    titles = " ".join(cards.locator(".kb-title").all_inner_texts())
    assert "handlingsplan" in titles.casefold()
    # The cited sentence is highlighted inside its passage, and the card links to the official document.
    assert cards.first.locator("mark").count() == 1
    assert cards.first.locator("a.kb-doc-link").get_attribute("href").startswith("https://")
    answer = page.locator("#kb-chat").inner_text()
    assert "insatsområden" in answer
    assert page.locator("#kb-chat a[href^='#kb-src-1-']").count() >= 1


def test_clicking_a_citation_brings_its_card_into_view(app_server, page) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(app_server.url)
    ask(page, "Vad säger handlingsplanen om idéburet offentligt partnerskap?")
    wait_for_final_answer(page)
    link = page.locator("#kb-chat a[href^='#kb-src-1-']").last
    target = link.get_attribute("href")[1:]
    page.evaluate("document.getElementById('kb-sources').scrollTop = 100000")
    link.click()
    card = page.locator(f"#{target}")
    page.wait_for_function("id => document.getElementById(id).classList.contains('kb-flash')", arg=target)
    time.sleep(0.8)  # smooth scrolling
    box = card.bounding_box()
    assert box is not None and box["y"] < 700 and box["y"] + box["height"] > 0, box
    shot(page, "sv-03-citation-clicked")


def test_english_question_gets_english_answer_from_swedish_sources(app_server, page) -> None:  # noqa: ANN001
    page.goto(app_server.url)
    page.get_by_label("English").check()
    page.wait_for_function("document.querySelector('#kb-send').textContent.includes('Send')")
    ask(page, "What are the four focus areas of the action plan?")
    wait_for_final_answer(page)
    shot(page, "en-01-answer")
    chat = page.locator("#kb-chat").inner_text()
    assert "What the sources say" in chat
    heading = page.locator("#kb-sources .kb-turn h3").first.inner_text()
    assert heading.startswith("Sources in the answer")
    assert "Action plan" in page.locator("#kb-sources .kb-meta").first.inner_text()


def test_feedback_is_stored_with_question_answer_and_comment(app_server, page) -> None:  # noqa: ANN001
    page.goto(app_server.url)
    question = "Vad är social ekonomi enligt handlingsplanen?"
    ask(page, question)
    wait_for_final_answer(page)
    # Gradio's own buttons follow the browser's language (sv-SE here): "Gilla" is its "Like".
    page.locator("#kb-chat button[aria-label='Gilla']").last.click()
    page.wait_for_selector("#kb-feedback-row textarea")
    page.fill("#kb-comment textarea", "Bra svar, tack!")
    page.click("#kb-comment-send")
    page.wait_for_function("document.querySelector('#kb-feedback-status').textContent.includes('sparad')")
    shot(page, "sv-04-feedback")
    db = app_server.data_dir / "feedback.sqlite3"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT rating, comment, question, answer, citations FROM feedback").fetchall()
    row = [r for r in rows if r[2] == question][-1]
    assert row[0] == 1 and row[1] == "Bra svar, tack!" and "Det här säger källorna" in row[3]
    assert '"doc_id": "plan"' in row[4]


def test_follow_up_and_new_conversation(app_server, page) -> None:  # noqa: ANN001
    page.goto(app_server.url)
    ask(page, "Vilken roll har Region Örebro län enligt handlingsplanen?")
    wait_for_final_answer(page, 1)
    ask(page, "och finansieringen då?")
    wait_for_final_answer(page, 2)
    shot(page, "sv-05-follow-up")
    follow = page.locator("#kb-sources .kb-turn").first.inner_text().casefold()
    assert "finansier" in follow or "bidrag" in follow or "stöd" in follow
    page.click("#kb-new")
    page.wait_for_function("document.querySelectorAll('#kb-sources .kb-card').length === 0")
    assert "finansieringen" not in page.locator("#kb-chat").inner_text()


def test_start_points_and_contents(app_server, page) -> None:  # noqa: ANN001
    page.goto(app_server.url)
    page.click("#kb-theme_international")
    page.wait_for_selector("#kb-sources .kb-card")
    assert "internationellt projekt" in page.locator("#kb-chat").inner_text()
    page.click("#kb-theme_contents")
    page.wait_for_function("document.querySelector('#kb-chat').textContent.includes('Kunskapsbasen innehåller')")
    text = page.locator("#kb-chat").inner_text()
    assert "Regional handlingsplan för civilsamhälle" in text and "Prop. 2009/10:55" in text
    shot(page, "sv-06-contents")


def test_documents_view(app_server, page) -> None:  # noqa: ANN001
    page.goto(app_server.url)
    page.get_by_role("tab", name="Dokument").click()
    held = page.locator("#kb-docs-held")
    held.wait_for()
    text = held.inner_text()
    assert "Regional handlingsplan" in text and "Handlingsplan" in text and "svenska" in text
    assert "Prop. 2009/10:55" in page.locator("#kb-docs-linked").inner_text()
    shot(page, "sv-07-documents")


def test_swedish_interface_has_no_english_labels_and_switches(app_server, page) -> None:  # noqa: ANN001
    from kb.ui_text import UI

    page.goto(app_server.url)
    page.wait_for_selector("#kb-question textarea")
    body = page.locator("body").inner_text()
    for swedish in sorted(UI["sv"].values(), key=len, reverse=True):  # "Chatt" contains "Chat"
        body = body.replace(swedish, " ")
    english_only = {v for k, v in UI["en"].items() if v != UI["sv"][k] and len(v) > 3 and "{" not in v}
    leaked = [v for v in english_only if v in body]
    assert not leaked, leaked
    page.get_by_label("English").check()
    page.wait_for_function("document.querySelector('#kb-send').textContent.includes('Send')")
    body = page.locator("body").inner_text()
    assert "New conversation" in body and "Get started" in body and "International collaboration" in body


def test_phone_width_has_no_horizontal_scroll(app_server, browser) -> None:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="sv-SE", is_mobile=True)
    pg = context.new_page()
    pg.goto(app_server.url)
    ask(pg, "Vad är en idéburen organisation?")
    wait_for_final_answer(pg)
    overflow = pg.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    shot(pg, "phone-01-answer")
    context.close()
    assert overflow <= 1


def test_answer_streams_with_the_llm(admin_app_server, page) -> None:  # noqa: ANN001
    """Sources first, then a growing draft (with the cursor), then the verified answer."""
    page.goto(admin_app_server.url)
    ask(page, "Vad är syftet med handlingsplanen?")
    page.wait_for_selector("#kb-sources .kb-card", timeout=60_000)
    drafts: list[str] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        text = page.locator("#kb-chat").inner_text()
        if "▍" in text and text not in drafts:
            drafts.append(text)
        if page.locator("#kb-sources .kb-turn h3").first.inner_text().startswith("Källor i svaret"):
            break
        time.sleep(0.1)
    shot(page, "llm-01-streamed")
    assert len(drafts) >= 2, drafts
    assert "▍" not in page.locator("#kb-chat").inner_text()


def test_admin_absent_without_password(app_server, page) -> None:  # noqa: ANN001
    import httpx

    page.goto(app_server.url)
    page.wait_for_selector("#kb-question textarea")
    assert page.get_by_role("tab", name="Administration").count() == 0
    assert page.locator("#kb-admin-password").count() == 0
    config = httpx.get(app_server.url + "config", timeout=10).json()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert not any(str(i).startswith("kb-admin") for i in ids)


def test_admin_upload_ingest_ask_and_remove(admin_app_server, page, tmp_path) -> None:  # noqa: ANN001
    page.goto(admin_app_server.url)
    page.get_by_role("tab", name="Administration").click()
    page.fill("#kb-admin-password input", "fel lösenord")
    page.click("#kb-admin-login")
    page.wait_for_function("document.querySelector('#kb-admin-status').textContent.includes('Fel lösenord')")
    assert not page.locator("#kb-admin-panel").is_visible()
    page.fill("#kb-admin-password input", ADMIN_PASSWORD)
    page.click("#kb-admin-login")
    page.wait_for_selector("#kb-admin-panel", state="visible")
    shot(page, "admin-01-logged-in")

    good = tmp_path / "Kulturföreningen Blåklockans årsplan 2026.txt"
    good.write_text("Blåklockans årsplan 2026\n\nKulturföreningen Blåklockan i Hallsberg ordnar en vävkurs "
                    "för nyanlända varje tisdag under våren 2026. Kursen leds av textilkonstnären Ingrid Malm.\n",
                    encoding="utf-8")
    fake = tmp_path / "inte-en-pdf.pdf"
    fake.write_text("det här är ingen pdf", encoding="utf-8")
    page.set_input_files("#kb-admin-files input[type=file]", [str(good), str(fake)])
    page.wait_for_timeout(1500)
    page.click("#kb-admin-ingest")
    page.wait_for_function(
        "document.querySelector('#kb-admin-progress textarea').value.includes('Inläsningen är klar')",
        timeout=180_000)
    progress = page.locator("#kb-admin-progress textarea").input_value()
    shot(page, "admin-02-uploaded")
    assert "✓ Kulturföreningen Blåklockans årsplan 2026.txt → upload-kulturforeningen-blaklockans-arsplan-2026" in progress
    assert "tillagt: upload-kulturforeningen-blaklockans-arsplan-2026 (1 avsnitt)" in progress
    assert "✗ inte-en-pdf.pdf: filen är ingen PDF." in progress
    stored = list((admin_app_server.data_dir / "uploads").iterdir())
    assert [p.name for p in stored] == ["Kulturföreningen-Blåklockans-årsplan-2026.txt"]

    page.get_by_role("tab", name="Chatt").click()
    ask(page, "Vem leder vävkursen hos Kulturföreningen Blåklockan?")
    # Whatever the small model answers, the uploaded document is among the sources, under its own title.
    page.wait_for_function("document.querySelector('#kb-sources').textContent.includes('Blåklockans årsplan')",
                           timeout=120_000)
    shot(page, "admin-03-asked-upload")

    page.get_by_role("tab", name="Administration").click()
    page.locator("#kb-admin-uploaded input").click()
    page.locator("#kb-admin-uploaded input").fill("upload-kultur")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.click("#kb-admin-remove")
    page.wait_for_function(
        "document.querySelector('#kb-admin-progress textarea').value.includes('borttaget: upload-kultur')",
        timeout=180_000)
    assert not any((admin_app_server.data_dir / "uploads").iterdir())
    shot(page, "admin-04-removed")


def test_admin_logins_are_rate_limited(admin_app_server, browser) -> None:  # noqa: ANN001
    context = browser.new_context(locale="sv-SE")
    pg = context.new_page()
    pg.goto(admin_app_server.url)
    pg.get_by_role("tab", name="Administration").click()
    for _ in range(3):  # KB_ADMIN_MAX_ATTEMPTS=3 for this server
        pg.fill("#kb-admin-password input", "gissning")
        pg.click("#kb-admin-login")
        pg.wait_for_function("document.querySelector('#kb-admin-status').textContent.length > 0")
        pg.wait_for_timeout(300)
    pg.fill("#kb-admin-password input", ADMIN_PASSWORD)  # even the right password is refused while locked
    pg.click("#kb-admin-login")
    pg.wait_for_function("document.querySelector('#kb-admin-status').textContent.includes('För många')")
    assert not pg.locator("#kb-admin-panel").is_visible()
    shot(pg, "admin-05-locked")
    context.close()
