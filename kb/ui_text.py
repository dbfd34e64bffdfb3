"""Every string the chat interface shows, in Swedish and English.

Design choices:
- One table per language with the same keys, so a missing translation is a test failure
  (``tests/test_ui_text.py``), not an English word in the Swedish interface.
- Swedish is the default; the interface language is the user's choice, while each answer
  follows the language of its question (that is decided in ``kb.assistant``).
- Start points carry one example question per language: volunteers click instead of typing.
"""

from __future__ import annotations

LANGUAGES = {"sv": "Svenska", "en": "English"}

UI: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Civsam KB",
        "intro": "Fråga om **Regional handlingsplan för civilsamhälle och social ekonomi 2026–2030** "
                 "(Region Örebro län) och utredningarna den bygger på. Svaren bygger bara på dokumenten, "
                 "och varje påstående visar sin källa.",
        "language_label": "Språk / Language",
        "tab_chat": "Chatt",
        "tab_documents": "Dokument",
        "tab_admin": "Administration",
        "chat_label": "Samtal",
        "chat_placeholder": "Ställ en fråga om handlingsplanen – på svenska eller engelska.",
        "question_label": "Din fråga",
        "question_placeholder": "Till exempel: Kan vår förening få stöd för ett internationellt projekt?",
        "send": "Skicka",
        "new_conversation": "Ny konversation",
        "start_points": "Kom igång",
        "sources_label": "Källor",
        "sources_empty": "Källorna till svaret visas här, numrerade som i svaret.",
        "sources_found": "Hittade källor",
        "sources_cited": "Källor i svaret",
        "sources_more": "Fler träffar som inte citeras",
        "open_document": "Öppna dokumentet",
        "page": "s.",
        "thinking": "Söker i dokumenten …",
        "writing": "Formulerar svaret …",
        "queue": "Många frågar just nu. Du är nummer {position} i kön …",
        "feedback_thanks": "Tack för din återkoppling! Vill du lägga till en kommentar?",
        "feedback_comment_label": "Kommentar (valfritt)",
        "feedback_send": "Skicka kommentar",
        "feedback_saved": "Tack! Kommentaren är sparad.",
        "feedback_failed": "Återkopplingen kunde inte sparas just nu, men chatten fungerar som vanligt.",
        "feedback_nothing": "Välj först tumme upp eller ned på ett svar.",
        "error": "Något gick fel när svaret skulle tas fram. Försök igen.",
        "no_index": "Kunskapsbasen är tom. Kör `kb ingest` (eller `scripts/run.sh`, som bygger allt som "
                    "behövs) och starta om appen.",
        "documents_intro": "Dokument som kunskapsbasen innehåller, och dokument som handlingsplanen hänvisar till "
                           "men som vi bara länkar till.",
        "documents_held": "I kunskapsbasen",
        "documents_linked": "Hänvisade dokument (endast länk)",
        "col_title": "Dokument", "col_kind": "Typ", "col_year": "År", "col_language": "Språk",
        "col_chunks": "Avsnitt", "col_ingested": "Senast inläst", "col_link": "Länk",
        "contents_title": "Kunskapsbasen innehåller {n} dokument med text:",
        "contents_linked": "Dessutom hänvisar den till {n} dokument som vi bara länkar till:",
        "admin_password": "Lösenord",
        "admin_login": "Logga in",
        "admin_logout": "Logga ut",
        "admin_wrong": "Fel lösenord.",
        "admin_locked": "För många misslyckade försök. Försök igen om {minutes} minuter.",
        "admin_needed": "Logga in först.",
        "admin_welcome": "Inloggad. Ladda upp dokument (PDF, TXT, MD, HTML; högst {mb} MB och {pages} sidor per fil).",
        "admin_upload": "Ladda upp dokument",
        "admin_ingest": "Lägg till i kunskapsbasen",
        "admin_remove_label": "Uppladdade dokument",
        "admin_remove": "Ta bort valt dokument",
        "admin_progress": "Förlopp",
        "admin_no_files": "Välj minst en fil.",
        "admin_removed": "{name} är borttaget ur kunskapsbasen.",
        "admin_busy": "En inläsning pågår redan. Vänta tills den är klar.",
        "admin_ingesting": "Läser in dokumenten … ({seconds} s)",
        "admin_done": "Inläsningen är klar efter {seconds} s.",
        "admin_failed": "Inläsningen misslyckades: {error}",
        "status_added": "tillagt", "status_updated": "uppdaterat", "status_unchanged": "oförändrat",
        "status_removed": "borttaget", "status_missing": "saknas", "status_failed": "kunde inte läsas",
        "theme_principles": "Principer",
        "theme_roles": "Roller",
        "theme_financing": "Finansiering",
        "theme_international": "Internationellt samarbete",
        "theme_contents": "Vad innehåller kunskapsbasen?",
    },
    "en": {
        "title": "Civsam KB",
        "intro": "Ask about Region Örebro län's **regional action plan for civil society and the social economy "
                 "2026–2030** and the Swedish inquiries it builds on. Answers come only from the documents, and "
                 "every statement shows its source.",
        "language_label": "Språk / Language",
        "tab_chat": "Chat",
        "tab_documents": "Documents",
        "tab_admin": "Administration",
        "chat_label": "Conversation",
        "chat_placeholder": "Ask a question about the action plan – in English or Swedish.",
        "question_label": "Your question",
        "question_placeholder": "For example: Can our association get support for an international project?",
        "send": "Send",
        "new_conversation": "New conversation",
        "start_points": "Get started",
        "sources_label": "Sources",
        "sources_empty": "The answer's sources appear here, numbered as in the answer.",
        "sources_found": "Sources found",
        "sources_cited": "Sources in the answer",
        "sources_more": "Other matches not cited",
        "open_document": "Open the document",
        "page": "p.",
        "thinking": "Searching the documents …",
        "writing": "Writing the answer …",
        "queue": "Many people are asking right now. You are number {position} in the queue …",
        "feedback_thanks": "Thank you for your feedback! Would you like to add a comment?",
        "feedback_comment_label": "Comment (optional)",
        "feedback_send": "Send comment",
        "feedback_saved": "Thank you! Your comment is saved.",
        "feedback_failed": "Your feedback could not be saved right now, but the chat works as usual.",
        "feedback_nothing": "First choose thumbs up or down on an answer.",
        "error": "Something went wrong while preparing the answer. Please try again.",
        "no_index": "The knowledge base is empty. Run `kb ingest` (or `scripts/run.sh`, which builds everything "
                    "needed) and restart the app.",
        "documents_intro": "Documents the knowledge base holds, and documents the action plan refers to that we "
                           "can only link to.",
        "documents_held": "In the knowledge base",
        "documents_linked": "Referenced documents (link only)",
        "col_title": "Document", "col_kind": "Kind", "col_year": "Year", "col_language": "Language",
        "col_chunks": "Passages", "col_ingested": "Last ingested", "col_link": "Link",
        "contents_title": "The knowledge base holds {n} documents with text:",
        "contents_linked": "It also refers to {n} documents that we can only link to:",
        "admin_password": "Password",
        "admin_login": "Log in",
        "admin_logout": "Log out",
        "admin_wrong": "Wrong password.",
        "admin_locked": "Too many failed attempts. Try again in {minutes} minutes.",
        "admin_needed": "Please log in first.",
        "admin_welcome": "Logged in. Upload documents (PDF, TXT, MD, HTML; at most {mb} MB and {pages} pages per file).",
        "admin_upload": "Upload documents",
        "admin_ingest": "Add to the knowledge base",
        "admin_remove_label": "Uploaded documents",
        "admin_remove": "Remove the selected document",
        "admin_progress": "Progress",
        "admin_no_files": "Choose at least one file.",
        "admin_removed": "{name} has been removed from the knowledge base.",
        "admin_busy": "An ingest is already running. Please wait for it to finish.",
        "admin_ingesting": "Reading the documents … ({seconds} s)",
        "admin_done": "Ingest finished after {seconds} s.",
        "admin_failed": "Ingest failed: {error}",
        "status_added": "added", "status_updated": "updated", "status_unchanged": "unchanged",
        "status_removed": "removed", "status_missing": "missing", "status_failed": "could not be read",
        "theme_principles": "Principles",
        "theme_roles": "Roles",
        "theme_financing": "Financing",
        "theme_international": "International collaboration",
        "theme_contents": "What does the knowledge base contain?",
    },
}

KIND_LABELS: dict[str, dict[str, str]] = {
    "sv": {"plan": "Handlingsplan", "sou": "Statens offentliga utredning", "proposition": "Proposition",
           "ds": "Departementsserien", "skrivelse": "Skrivelse", "strategy": "Strategi", "eu": "EU-dokument",
           "regional": "Regional strategi", "upload": "Uppladdat dokument", "document": "Dokument"},
    "en": {"plan": "Action plan", "sou": "Government inquiry (SOU)", "proposition": "Government bill",
           "ds": "Ministry publication (Ds)", "skrivelse": "Government communication", "strategy": "Strategy",
           "eu": "EU document", "regional": "Regional strategy", "upload": "Uploaded document",
           "document": "Document"},
}

LANGUAGE_NAMES = {"sv": {"sv": "svenska", "en": "engelska"}, "en": {"sv": "Swedish", "en": "English"}}

# Start points: (key of the button label, example question per language).
THEMES: list[tuple[str, dict[str, str]]] = [
    ("theme_principles", {"sv": "Vilka principer ska gälla för samverkan mellan det offentliga och civilsamhället?",
                          "en": "Which principles guide the collaboration between the public sector and civil "
                                "society in the plan?"}),
    ("theme_roles", {"sv": "Vilken roll har Region Örebro län enligt handlingsplanen?",
                     "en": "What role does Region Örebro län have according to the plan?"}),
    ("theme_financing", {"sv": "Hur kan civilsamhällets organisationer finansieras enligt handlingsplanen?",
                         "en": "How does the plan describe financing for civil society organisations?"}),
    ("theme_international", {"sv": "Kan vår förening få stöd för ett internationellt projekt?",
                             "en": "Does the plan support international collaboration and EU projects?"}),
]


def ui(language: str, key: str, **values: object) -> str:
    text = UI.get(language, UI["sv"])[key]
    return text.format(**values) if values else text


def kind_label(language: str, kind: str) -> str:
    return KIND_LABELS.get(language, KIND_LABELS["sv"]).get(kind, kind)
