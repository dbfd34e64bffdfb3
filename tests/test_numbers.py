"""Numbers compare equal however they are written: the claim check's rule that every number an
answer states must be in its source (``kb.numbers``, used by ``kb.verify`` and ``kb.refusal``)."""

from __future__ import annotations

import pytest

from kb.numbers import known_numbers, numbers, spelled_amount


@pytest.mark.parametrize("claim, source, same", [
    ("The threshold was EUR 750,000.", "ett tröskelvärde på 750 000 euro", True),
    ("The threshold was 750.000 euro.", "ett tröskelvärde på 750 000 euro", True),
    ("Räntan plus 2.5 percentage points.", "statslåneräntan plus 2,5 procentenheter", True),
    ("The threshold was EUR 75,000.", "ett tröskelvärde på 750 000 euro", False),
    ("The threshold was EUR 750,001.", "ett tröskelvärde på 750 000 euro", False),
    ("The costs were 2.3 billion kronor.", "kostnaderna var 2,3 miljarder kronor", True),
    ("Kostnaderna var 2,3 miljarder.", "kostnaderna var 2 300 miljoner kronor", True),
    ("Föreningen får femtiotusen kronor.", "föreningen får 50 000 kronor", True),
    ("The association gets fifty thousand kronor.", "föreningen får 50 000 kronor", True),
    ("Föreningen får femtiotusen kronor.", "föreningen får 5 000 kronor", False),  # invented in words
    ("Regionen fördelar två miljoner kronor.", "regionen fördelar 2 000 000 kronor", True),
    ("Regionen fördelar tre miljoner kronor.", "regionen fördelar 2 000 000 kronor", False),
    ("Two hundred and fifty thousand euros.", "250 000 euro", True),
    ("Kostnaderna var 2,3.", "kostnaderna var 2,3 miljarder kronor", True),  # the digits as written
    ("Planen har sex principer och två roller.", "principerna om dialog och kvalitet", True),  # a count, no amount
    ("Flera miljoner kronor fördelas.", "pengar fördelas till föreningar", True),  # no number given
])
def test_a_claims_numbers_are_found_in_its_source_in_any_form(claim: str, source: str, same: bool) -> None:
    """An English answer writes "750,000" where the Swedish source has "750 000": the same number,
    which the support check must not treat as invented (it did, and refused a right answer)."""
    assert (numbers(claim) <= known_numbers(source)) is same


@pytest.mark.parametrize("text, expected", [
    ("tvåhundrafemtiotusen", {"250000"}),
    ("en miljon kronor", {"1000000"}),
    ("5 mkr", {"5000000"}),
    ("tusen kronor", {"1000"}),
    ("2025-03-12", {"2025", "03", "12"}),
    ("SOU 2016:13", {"2016", "13"}),
    ("en förening och ett hundratal medlemmar", set()),  # articles and "hundratal" are no numbers
    ("fyra insatsområden, six principles", set()),  # small counts in words: the model's own counting
])
def test_numbers_in_digits_and_words(text: str, expected: set[str]) -> None:
    assert numbers(text) == expected


def test_a_source_knows_its_numbers_also_as_written() -> None:
    assert known_numbers("2,3 miljarder kronor") == {"2300000000", "2.3"}
    assert numbers("2,3 miljarder kronor") == {"2300000000"}


@pytest.mark.parametrize("text, amount", [
    ("femtiotusen kronor", True), ("two million euros", True), ("hundra procent", True),
    ("50 000 kronor", False),  # in digits: refusal's own pattern finds it
    ("flera miljoner kronor", False), ("hundra föreningar", False),
])
def test_an_amount_spelled_out(text: str, amount: bool) -> None:
    assert spelled_amount(text) is amount
