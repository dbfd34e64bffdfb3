"""Recognise text that gives orders to the assistant ("ignore previous instructions …").

Design choices:
- The first defence is framing: source sentences reach the model as numbered, quoted data
  and the system prompt says they are never instructions (``kb.answer``). Small models do
  not always respect that — the 0.5B test model copies sources verbatim, injected orders
  included, and a copied sentence passes the citation check because it *is* in the source.
  So sentences that address the assistant are also kept out of the model's context and out
  of extractive answers. They stay in the index and are shown as part of their passage, so
  nothing in a document is hidden from the reader; only the model does not get to read
  them as a candidate answer.
- Narrow patterns, Swedish and English, for the forms an attack must take to work: telling
  the model to ignore or forget its instructions, asking for the system prompt, and messages
  addressed *to* an AI or assistant. Words that official texts use ("instruktion" for an
  agency's statute, "bortse från", "assistenter" in personal assistance) only match in those
  combinations; the whole corpus (plan and SOU texts) has no match (tested).
- Questions are checked with the same patterns: a question that tries to override the
  instructions or asks for the system prompt is refused before the model sees it.
- This is a filter for known shapes, not a guarantee; what guarantees that answers are
  grounded is the citation check, which removes every claim its sources do not support.
"""

from __future__ import annotations

import re

_ORDER = r"(?:ignore|ignorera|disregard|forget|glöm|glom|bortse från|bortse fran|strunta i|override|skip)"
_RULES = r"(?:instructions?|instruktion\w*|prompt\w*|rules|regler\w*|directives?|direktiv\w*|guidelines?|riktlinjer\w*)"
_PATTERNS = [
    # "Ignore all previous instructions", "Ignorera dina tidigare instruktioner"
    rf"\b{_ORDER}\b[^.!?\n]{{0,40}}\b{_RULES}",
    # "print your system prompt", "visa din systemprompt", "the system message"
    r"\bsystem\s*-?\s*(?:prompt|message|instructions?)\b|\bsystem-?prompt\w*|\bsystemmeddelande\w*|\bsysteminstruktion\w*",
    r"\b(?:print|reveal|repeat|show|output|leak|skriv ut|visa|upprepa|avslöja|återge)\b[^.!?\n]{0,30}"
    r"\b(?:your|din|dina|ditt)\b[^.!?\n]{0,20}\b(?:prompt\w*|instructions?|instruktioner\w*|regler)",
    # addressed to the model: "Message to the AI assistant:", "till språkmodellen"
    r"\b(?:to|for|till|för)\s+(?:the\s+|den\s+)?(?:ai\b[- ]?\w*|ai-\w+|assistant\b|assistenten\b|chatbot\w*|"
    r"language model\w*|språkmodell\w*|llm\b)",
    # "repeat the text above verbatim"
    r"\b(?:repeat|print|output|upprepa|skriv ut)\b[^.!?\n]{0,25}\b(?:above|ovan|ovanför|verbatim|ordagrant)\b",
    # role changes: "you are now …", "från och med nu är du …"
    r"\byou are now\b|\bfrom now on,? you\b|\bdu är nu\b|\bfrån och med nu (?:är|ska) du\b|\bact as (?:an?|the)\b",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def instruction_like(text: str) -> bool:
    """Does ``text`` try to instruct the assistant (override its rules, get its prompt)?"""
    return bool(_INSTRUCTION.search(text))
