"""What an answer says around its sources, in Swedish and English: refusals, notices, quote
introductions and the words framing the prompt.

Design choices:
- One table per language with the same keys; any other language gets the Swedish text.
- A module of its own so the prompt (``kb.answer``), the check (``kb.verify``) and refusals
  (``kb.refusal``) can all use it without importing one another.
"""

from __future__ import annotations

TEXTS = {
    "sv": {
        "refusal": "Det kan jag tyvärr inte svara på utifrån kunskapsbasen – dokumenten tar inte upp det.",
        "covers": "Kunskapsbasen innehåller handlingsplanen för civilsamhälle och social ekonomi 2026–2030 "
                  "(Region Örebro län) och utredningarna SOU 2016:13, SOU 2016:78 och SOU 2019:56.",
        "linked": "Dokument som kan ta upp frågan men som vi bara länkar till:",
        "unheld": "{names} finns inte som text i kunskapsbasen, så jag kan inte återge vad det står där. "
                  "Läs dokumentet här: {links}. Handlingsplanen hänvisar till det – fråga gärna vad planen själv "
                  "säger om det.",
        "other_region": "Kunskapsbasen har bara Region Örebro läns handlingsplan, inte {name}s, så jag kan inte svara "
                        "på vad den säger eller jämföra dem.",
        "extractive_intro": "Det här säger källorna:",
        "quote": "Källan säger:",
        "quote_translated": "Källan säger (på engelska):",
        "terms": "Termer på svenska:",
        "meaning": "På svenska (maskinöversättning):",
        "meaning_inline": "maskinöversättning:",
        "fallback_notice": "Språkmodellen svarade inte, så här visas de mest relevanta meningarna ur källorna i stället.",
        "removed_notice": "{n} påstående(n) togs bort eftersom källorna inte styrker dem.",
        "unverified_notice": "Språkmodellens svar kunde inte styrkas av källorna, så här visas i stället de meningar ur "
                             "källorna som bäst motsvarar frågan.",
        "declined_notice": "Språkmodellen fann inget svar i meningarna den fick, men de ligger nära frågan, så här "
                           "visas de meningar ur källorna som bäst motsvarar den. Kontrollera att de svarar på det "
                           "du frågade.",
        "busy_notice": "Många frågar just nu, så här visas de mest relevanta meningarna ur källorna direkt. "
                       "Försök igen om en stund för ett formulerat svar.",
        "answer_in": "Svara på svenska.",
        "list_hint": "Källa [1] räknar upp {n} punkter: nämn alla.",
        "question": "Fråga",
        "sources": "Källor",
    },
    "en": {
        "refusal": "I'm sorry, the knowledge base cannot answer that – the documents do not cover it.",
        "covers": "The knowledge base holds Region Örebro län's action plan for civil society and the social "
                  "economy 2026–2030 and the Swedish government inquiries SOU 2016:13, SOU 2016:78 and SOU 2019:56.",
        "linked": "Documents that may cover it, which we can only link to:",
        "unheld": "The knowledge base does not hold the text of {names}, so I cannot tell you what it says. "
                  "You can read it here: {links}. The action plan refers to it – you can ask what the plan itself "
                  "says about it.",
        "other_region": "The knowledge base holds only Region Örebro län's plan, not {name}'s, so I cannot say what "
                        "that one says or compare the two.",
        "extractive_intro": "What the sources say (quoted in their original language):",
        "quote": "The source says:",
        "quote_translated": "The source says (in Swedish):",
        "terms": "Swedish terms:",
        "meaning": "In English (machine translation):",
        "meaning_inline": "machine translation:",
        "fallback_notice": "The language model did not respond, so the most relevant sentences from the sources are shown instead.",
        "removed_notice": "{n} statement(s) were removed because the sources do not support them.",
        "unverified_notice": "The language model's answer could not be shown as supported by the sources in your "
                             "language, so the source "
                             "sentences that best match the question are shown instead.",
        "declined_notice": "The language model found no answer in the sentences it was given, but they are close "
                           "to the question, so the source sentences that best match it are shown. Check that they "
                           "answer what you asked.",
        "busy_notice": "Many people are asking right now, so the most relevant sentences from the sources are "
                       "shown at once. Please try again in a moment for a written answer.",
        "answer_in": "Answer in English.",
        "list_hint": "Source [1] lists {n} items: name them all.",
        "question": "Question",
        "sources": "Sources",
    },
}


def text_for(language: str, key: str) -> str:
    return TEXTS.get(language, TEXTS["sv"])[key]
