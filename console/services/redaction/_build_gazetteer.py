"""Build the name gazetteer (data/given_names.txt, surnames.txt, common_words.txt) from Faker's locale data.

Run at build time by a maintainer, never at run time (Faker is not a dependency of gemops):
`python -m console.services.redaction._build_gazetteer`. Same Faker version, same bytes.

Names that are also common English words ("Will", "May", "Hope", "Grant") are kept out of the
given-name list used on its own; they still count as surnames after a given name. The common
words come from Faker's English lorem word list plus the product and calendar words below.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

# Locales whose names the gazetteer knows. The independent test corpus draws half of its people
# from other locales (pl_PL, sv_SE, tr_TR, ...) to measure what the context cues catch alone.
LOCALES = ["en_US", "en_GB", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR"]
ROMANIZED = ["ja_JP"]

EXTRA_COMMON = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "gemini", "flash", "pro", "ultra", "nano", "json", "draft", "summarize", "summarise", "translate", "write", "answer", "explain", "list", "use", "keep", "set", "step", "see", "send", "call", "ask", "check", "please", "thanks", "thank", "hello", "dear", "best", "regards", "cheers", "team", "support", "customer", "agent", "admin", "user", "the", "and", "for", "with", "from", "this", "that", "will", "can", "may", "mark", "bill", "grant", "hope", "faith", "joy", "summer", "autumn", "winter", "spring", "river", "rose", "iris", "lily", "daisy", "ivy", "dawn", "sky", "rain", "storm", "amber", "ruby", "pearl", "crystal", "jade", "king", "queen", "prince", "duke", "earl", "page", "chase", "hunter", "case", "price", "cash", "penny", "sunny", "honey", "candy", "happy", "lucky", "angel", "major", "sterling", "frank", "guy", "ray", "dean", "bishop", "pope", "rich", "young", "gay", "long", "short", "strong", "little", "rock", "stone", "hill", "wood", "field", "brook", "lake", "moss", "marsh", "park", "street", "road", "lane", "way", "avenue", "court", "place", "square", "north", "south", "east", "west", "english", "french", "german", "china", "india", "paris", "london", "berlin", "madison", "austin", "dallas", "houston", "jordan", "sydney", "victoria", "georgia", "carolina", "virginia", "florence", "lourdes", "florida", "orlando", "phoenix", "error", "status", "summary", "warning", "info", "debug", "date", "time", "title", "input", "output", "example", "reply", "question", "ticket", "order", "invoice", "total", "model", "prompt", "response", "request", "batch", "cache", "api", "http", "yaml", "csv", "sql", "python", "google", "cloud", "amazon", "microsoft", "apple", "windows", "linux", "mozilla", "chrome", "firefox", "android", "iphone", "macos", "openai", "claude", "llama", "mistral", "vertex", "bigquery", "gemma", "imagen", "veo", "notebook", "studio", "classify", "extract", "rewrite", "generate", "create", "update", "delete", "review", "compare", "analyze", "analyse", "convert", "format", "fix", "add", "remove", "describe", "outline", "provide", "give", "tell", "show", "find", "make", "let", "note", "read", "upload", "download", "run", "test", "hi", "hey", "dear", "hallo", "hola", "ciao", "bonjour", "sincerely", "yours", "kind", "regards", "greetings", "morning", "evening", "afternoon", "good", "great", "nice", "okay", "sorry", "sure", "yes"]


def _clean(names: object) -> set[str]:
    out: set[str] = set()
    for name in names:  # type: ignore[attr-defined]
        for part in re.split(r"[\s\-]+", str(name)):
            part = part.strip(".")
            if len(part) >= 2 and part.isalpha() and part[0].isupper() and part[1:].islower():
                out.add(part)
    return out


def _provider(locale: str):
    return importlib.import_module(f"faker.providers.person.{locale}").Provider


def build() -> tuple[list[str], list[str], list[str]]:
    given: set[str] = set()
    surnames: set[str] = set()
    for locale in LOCALES:
        p = _provider(locale)
        for attr in ("first_names", "first_names_male", "first_names_female"):
            given |= _clean(getattr(p, attr, ()))
        surnames |= _clean(getattr(p, "last_names", ()))
    for locale in ROMANIZED:
        p = _provider(locale)
        given |= _clean(getattr(p, "first_romanized_names", ()))
        surnames |= _clean(getattr(p, "last_romanized_names", ()))
    lorem = importlib.import_module("faker.providers.lorem.en_US").Provider.word_list
    common = {w.lower() for w in lorem} | set(EXTRA_COMMON)
    given = {g for g in given if g.lower() not in common}
    surnames = {s for s in surnames if len(s) >= 3}
    return sorted(given), sorted(surnames), sorted(common)


def main() -> None:
    given, surnames, common = build()
    DATA.mkdir(exist_ok=True)
    (DATA / "given_names.txt").write_text("\n".join(given) + "\n", encoding="utf-8")
    (DATA / "surnames.txt").write_text("\n".join(surnames) + "\n", encoding="utf-8")
    (DATA / "common_words.txt").write_text("\n".join(common) + "\n", encoding="utf-8")
    print(f"{len(given)} given names, {len(surnames)} surnames")


if __name__ == "__main__":
    main()
