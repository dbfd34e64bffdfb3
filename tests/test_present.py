"""Rendering: user and document text is always shown as text; citations link to their cards."""

from __future__ import annotations

import pytest

from kb import present as P
from kb.answer import Answer, Citation
from kb.retrieval import Passage
from kb.ui_text import KIND_LABELS, THEMES, UI

HOSTILE = [
    '<script>alert(1)</script>',
    '<img src=x onerror="alert(1)">',
    '[klicka](javascript:alert(1))',
    '![bild](http://evil.example/x.png)',
    '${constructor.constructor("alert(1)")()} {{7*7}}',
    '**fet** _kursiv_ # rubrik',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_text_leaves_no_live_markup(text: str) -> None:
    out = P.escape_text(text)
    assert "<" not in out and ">" not in out.replace("\\>", "")
    assert "](" not in out  # a link needs an unescaped ](
    assert not any(f"{c}" in out.replace(f"\\{c}", "") for c in "[]*_#!")


def passage(text: str, rank: int = 1, url: str = "https://example.org/plan.pdf") -> Passage:
    return Passage(rank=rank, score=1.0, id=f"p{rank}", doc_id="plan", title="Planen <b>", short_title="Planen <b>",
                   kind="plan", language="sv", page=5, page_end=6, section="Insatsområde 2 › Stöd", text=text, url=url)


def test_answer_links_only_known_citations_and_escapes_the_rest() -> None:
    md = P.answer_markdown("Stöd ges [1]. <b>Fel</b> [7].", turn=3, citation_numbers=[1], notices=["Obs <i>"])
    assert "[\\[1\\]](#kb-src-3-1)" in md
    assert "(#kb-src-3-7)" not in md and "\\[7\\]" in md
    assert "<b>" not in md and "&lt;b&gt;" in md and "*Obs &lt;i&gt;*" in md


@pytest.mark.parametrize("text", HOSTILE)
def test_cards_escape_document_text_and_highlight_the_quote(text: str) -> None:
    body = f"Inledning. {text} Avslutning."
    p = passage(body)
    answer = Answer(question="q", language="sv", answer="x [1]", passages=[p],
                    citations=[Citation(1, "plan", "Planen <b>", 5, p.section, text, body, p.url)])
    html = P.citation_cards(answer, turn=2, language="sv")
    assert "<script" not in html and "<img" not in html and "{{" not in html and "${" not in html
    assert 'id="kb-src-2-1"' in html and "<mark>" in html and "Handlingsplan" in html and "s. 5–6" in html
    assert 'href="https://example.org/plan.pdf"' in html and 'rel="noopener noreferrer"' in html


def test_a_list_quote_is_highlighted_from_its_lead_in_to_its_last_item() -> None:
    """The context gives a list as one line, long items cut with "…": not verbatim in the passage,
    yet the card should still show where it stands."""
    body = ("Inledning. Rollerna är följande.\n• Rollen som röstbärare betyder att en organisation företräder "
            "medlemmarna och deras intressen.\n• Rollen som demokratiskola betyder övning.\nSlutord.")
    quote = "Rollerna är följande. • Rollen som röstbärare betyder att en organisation … • Rollen som demokratiskola betyder övning."
    p = passage(body)
    answer = Answer(question="q", language="sv", answer="x [1]", passages=[p],
                    citations=[Citation(1, "plan", "Planen", 5, p.section, quote, body, p.url)])
    html = P.citation_cards(answer, turn=1, language="sv")
    marked = html.split("<mark>")[1].split("</mark>")[0]
    assert marked.startswith("Rollerna är följande.") and marked.endswith("demokratiskola betyder övning.")
    assert "Inledning" not in marked and "Slutord" not in marked
    other = quote.replace("demokratiskola", "motvikt")  # not this passage's list: no mark at all
    answer.citations = [Citation(1, "plan", "Planen", 5, p.section, other, body, p.url)]
    assert "<mark>" not in P.citation_cards(answer, turn=1, language="sv")


def test_a_list_continued_into_the_next_chunk_is_carded_as_its_first_passage() -> None:
    """A list cited with both chunks' text matched no passage: its card said "Dokument", no title."""
    first = passage("Planen har fyra insatsområden: 1. att bidra till förståelse.\n2. att skapa förutsättningar.")
    rest = passage("3. att skapa nätverk.\n4. att bidra till internationell samverkan.", rank=2)
    quote = "Planen har fyra insatsområden: 1. att bidra till förståelse. 2. att skapa förutsättningar. 3. att skapa nätverk. 4. att bidra till internationell samverkan."
    both = f"{first.text}\n\n{rest.text}"
    answer = Answer(question="q", language="en", answer="x [1]", passages=[first, rest],
                    citations=[Citation(1, "plan", "Planen", 5, first.section, quote, both, first.url)])
    html = P.citation_cards(answer, turn=1, language="en")
    card = html.split("<article")[1]
    assert "Action plan" in card and "Planen &lt;b&gt;" in card
    assert "<mark>Planen har fyra" in card and "internationell samverkan.</mark>" in card


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "http://x.org/\"onmouseover=alert(1)", ""])
def test_unsafe_links_are_not_shown(url: str) -> None:
    html = P.passage_cards([passage("Text.", url=url)], 1, "sv")
    assert "kb-doc-link" not in html


def test_sources_panel_newest_first_and_escapes_questions() -> None:
    turns = [{"question": "första <x>", "cards": "A", "final": True}, {"question": "andra", "cards": "B", "final": False}]
    html = P.sources_panel(turns, "en")
    assert html.index("andra") < html.index("första") and "&lt;x&gt;" in html
    assert "Sources found" in html and "Sources in the answer" in html
    assert "Källorna" in P.sources_panel([], "sv")


def test_every_interface_string_exists_in_both_languages() -> None:
    assert set(UI["sv"]) == set(UI["en"])
    assert set(KIND_LABELS["sv"]) == set(KIND_LABELS["en"])
    for key in UI["sv"]:
        assert UI["sv"][key].count("{") == UI["en"][key].count("{"), key
    for key, examples in THEMES:
        assert key in UI["sv"] and set(examples) == {"sv", "en"}
