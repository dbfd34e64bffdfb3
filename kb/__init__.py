"""Civsam KB: a knowledge base about Region Örebro län's action plan for civil society and the social economy."""

from __future__ import annotations

__all__ = ["Assistant"]


def __getattr__(name: str):  # noqa: ANN202 - lazy so `import kb` stays cheap
    if name == "Assistant":
        from kb.assistant import Assistant

        return Assistant
    raise AttributeError(name)
