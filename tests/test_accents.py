"""Questions typed without å/ä/ö get them back, spelt as the corpus spells them (kb.accents)."""

from __future__ import annotations

from collections import Counter

import pytest

from kb.accents import needs_accents, restore, spellings, word_counts, word_list_spellings
from kb.assistant import Assistant


def test_a_bare_word_takes_the_corpus_spelling_unless_it_is_common_itself() -> None:
    counts = word_counts(["Föreningen får pengar från regionen. Vi vill vara med.",
                          "Våra föreningar söker stöd från länet."] + ["Det är så, vara eller inte vara."] * 3
                         + ["Ett år."])
    spelled = spellings(counts)
    assert spelled["fran"] == "från" and spelled["far"] == "får" and spelled["lanet"] == "länet"
    assert spelled["ar"] == "är"  # "är" (3) over "år" (1): the most frequent spelling
    assert "vara" not in spelled  # "vara" (7) is a word of its own, far more frequent than "våra" (1)
    text = "Far var forening pengar fran Lanet? Ar det sa att vi kan vara med?"
    assert restore(text, spelled) == "Får var forening pengar från Länet? Är det så att vi kan vara med?"


def test_a_compound_the_corpus_never_wrote_is_respelled_by_its_halves() -> None:
    spelled = spellings(word_counts(["En förening och föreningen. Kulturen i länet."]))
    halves = {"kulturforening": ("kultur", "forening"), "idrottsforeningen": ("idrott", "foreningen"),
              "kulturlanet": ("kultur", "lanet")}
    text = "Far en kulturforening eller idrottsforeningen stod i kulturlanet?"
    assert restore(text, spelled, lambda w: halves.get(w, ())) == (
        "Far en kulturförening eller idrottsföreningen stod i kulturlänet?")  # "far", "stod": not in this corpus
    assert restore("kulturforening", spelled) == "kulturforening"  # no splitter, no guess


def test_the_bare_word_must_be_much_rarer_than_the_spelling() -> None:
    counts = Counter({"för": 10, "for": 3, "mål": 9, "mal": 1})
    assert spellings(counts) == {"mal": "mål"}  # 10 < 5 × 3, 9 ≥ 5 × 1


def test_a_word_the_corpus_never_writes_takes_the_word_lists_spelling() -> None:
    spelled = spellings(word_counts(["Föreningen får stöd. Vi for dit."]))
    known = {"foreningen", "far", "stod", "vi", "for", "dit"}  # the corpus's words, folded
    listed = word_list_spellings()
    assert listed["vadret"] == "vädret" and listed["lordag"] == "lördag" and listed["manad"] == "månad"
    assert "var" not in listed  # "var" is far more common than "vår"
    # the weather words and "pa" are not in this corpus: the word list spells them; "for" is a word
    # this corpus writes bare, so it stays, although the list alone would make it "för"
    assert restore("Hur blir vadret pa lordag, for vi dit?", spelled, fallback=listed, known=known) == (
        "Hur blir vädret på lördag, for vi dit?")
    assert restore("Vadret", spelled, fallback=listed) == "Vädret"  # capitals kept
    assert restore("Hur blir vadret?", spelled) == "Hur blir vadret?"  # no fallback given, no guess


def test_the_respelling_and_the_ocr_repair_read_the_word_list_once() -> None:
    from ingest.repair import lexicon
    from kb.wordlist import swedish_frequencies

    for cached in (swedish_frequencies, word_list_spellings, lexicon):
        cached.cache_clear()
    listed, lex = word_list_spellings(), lexicon()
    assert swedish_frequencies.cache_info().misses == 1
    # one list, two readings of it: the repair's Zipf values and the respelling agree on "vädret"
    assert listed["vadret"] == lex.best("vadret")[0] == "vädret"


@pytest.mark.parametrize(("text", "language", "respell"), [
    ("Kan man fa pengar fran Socialfonden?", "sv", True),
    ("Kan man få pengar fran Socialfonden?", "sv", False),  # whoever typed one å has the letters
    ("What can the region do for associations?", "en", False),  # "for" stays English
])
def test_only_swedish_questions_without_any_swedish_letter_are_respelled(text: str, language: str,
                                                                          respell: bool) -> None:
    assert needs_accents(text, language) is respell


def test_a_question_without_swedish_letters_is_searched_and_answered_spelt_right(small_index) -> None:
    assistant = Assistant(small_index)
    typed = "Vad ar Mikrofonden Malardalen, och ar den till for foreningar?"
    proper = "Vad är Mikrofonden Mälardalen, och är den till för föreningar?"
    turn = assistant._turn(typed, None, None)
    assert turn.text == proper  # what the LLM and the refusal checks read
    _, right = assistant.retrieve(proper, k=3)
    _, bare = assistant.retrieve(typed, k=3)
    assert [p.id for p in bare] == [p.id for p in right]
    assert "Mälardalen" in bare[0].text
    english = "What is Mikrofonden Malardalen and why does the plan mention it?"
    assert assistant._turn(english, None, None).text == english
