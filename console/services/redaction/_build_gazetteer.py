"""Build the name gazetteer (data/given_names.txt, more_given.txt, surnames.txt,
more_surnames.txt, common_words.txt, common_given.txt) from Faker's locale data: every locale
that has person names, in the scripts the name finder reads (Latin, Greek, Cyrillic).

Run at build time by a maintainer, never at run time (Faker is not a dependency of gemops):
`python -m console.services.redaction._build_gazetteer`. Same Faker version, same bytes.

Names that are also common English words ("Will", "May", "Hope", "Grant") are kept out of the
given-name list used on its own; they still count as surnames after a given name, and those of
the first and English-speaking locales (common_given.txt) count as names after a strong cue. The
common words come from Faker's English lorem word list plus the product and calendar words below.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from console.services.redaction.people import _LO, _UP

DATA = Path(__file__).resolve().parent / "data"

# Locales whose names the gazetteer knows: first those of the address formats, then the other
# European and Latin-American ones, then (OTHER_LOCALES) every other Faker locale with person
# names, so that a person from a country the address formats do not cover (Romania, Greece,
# Ukraine, Nigeria...) is still known by name. Names in scripts without capitals (Arabic, Hebrew,
# Indic, CJK) fall out in _clean: the name finder reads capitalised words (people._UP / _LO), and
# finds those names by their cues and layouts instead.
LOCALES = ["en_US", "en_GB", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR"]
MORE_LOCALES = [
    "cs_CZ", "da_DK", "de_AT", "de_CH", "de_LI", "de_LU", "en_IE", "en_NZ", "en_PK", "es_AR",
    "es_CL", "es_CO", "es_MX", "et_EE", "fi_FI", "fr_BE", "fr_CA", "fr_CH", "hr_HR", "hu_HU",
    "id_ID", "lt_LT", "lv_LV", "nl_BE", "no_NO", "pl_PL", "pt_PT", "ro_RO", "sk_SK", "sl_SI",
    "sv_SE", "tr_TR",
]
ROMANIZED = ["ja_JP"]

EXTRA_COMMON = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "flash", "pro", "ultra", "nano", "json", "draft", "summarize", "summarise", "translate", "write", "answer", "explain", "list", "use", "keep", "set", "step", "see", "send", "call", "ask", "check", "please", "thanks", "thank", "hello", "dear", "best", "regards", "cheers", "team", "support", "customer", "agent", "admin", "user", "the", "and", "for", "with", "from", "this", "that", "will", "can", "may", "mark", "bill", "grant", "hope", "faith", "joy", "summer", "autumn", "winter", "spring", "river", "rose", "iris", "lily", "daisy", "ivy", "dawn", "sky", "rain", "storm", "amber", "ruby", "pearl", "crystal", "jade", "king", "queen", "prince", "duke", "earl", "page", "chase", "hunter", "case", "price", "cash", "penny", "sunny", "honey", "candy", "happy", "lucky", "angel", "major", "sterling", "frank", "guy", "ray", "dean", "bishop", "pope", "rich", "young", "gay", "long", "short", "strong", "little", "rock", "stone", "hill", "wood", "field", "brook", "lake", "moss", "marsh", "park", "street", "road", "lane", "way", "avenue", "court", "place", "square", "north", "south", "east", "west", "english", "french", "german", "china", "india", "paris", "london", "berlin", "madison", "austin", "dallas", "houston", "jordan", "sydney", "victoria", "georgia", "carolina", "virginia", "florence", "lourdes", "florida", "orlando", "phoenix", "error", "status", "summary", "warning", "info", "debug", "date", "time", "title", "input", "output", "example", "reply", "question", "ticket", "order", "invoice", "total", "model", "prompt", "response", "request", "batch", "cache", "api", "http", "yaml", "csv", "sql", "python", "google", "cloud", "amazon", "microsoft", "apple", "windows", "linux", "mozilla", "chrome", "firefox", "android", "iphone", "macos", "notebook", "studio", "classify", "extract", "rewrite", "generate", "create", "update", "delete", "review", "compare", "analyze", "analyse", "convert", "format", "fix", "add", "remove", "describe", "outline", "provide", "give", "tell", "show", "find", "make", "let", "note", "read", "upload", "download", "run", "test", "hi", "hey", "dear", "hallo", "hola", "ciao", "bonjour", "sincerely", "yours", "kind", "regards", "greetings", "morning", "evening", "afternoon", "good", "great", "nice", "okay", "sorry", "sure", "yes", "assistant", "bot", "system", "operator", "moderator", "helpdesk", "unknown", "anonymous", "service", "sales", "billing", "staff", "everyone", "all", "guest", "carrier", "block", "tel", "fax", "mob", "cell", "phone", "mobile", "email"]


# Model and product names: words, never people, even where Faker lists one as a given name.
PRODUCTS = ["gemini", "gemma", "claude", "llama", "mistral", "imagen", "veo", "vertex", "openai", "bigquery"]
# Given names of the first locales that are everyday English words, not names, after a cue too
# ("Thanks, Job done").
NOT_NAMES = ["else", "floor", "job", "lot", "german"]


def _clean(names: object) -> set[str]:
    out: set[str] = set()
    if isinstance(names, property):  # es_CL computes its lists; its parts are listed too
        return out
    for name in names:  # type: ignore[attr-defined]
        for part in re.split(r"[\s\-]+", str(name)):
            part = part.strip(".")
            if len(part) >= 2 and _LATIN.fullmatch(part) and part[1:].islower():
                out.add(part)
    return out


# One capitalised word in the letters the name finder reads.
_LATIN = re.compile(f"[{_UP}][{_LO}]+")


def _provider(locale: str):
    return importlib.import_module(f"faker.providers.person.{locale}").Provider


def _names(locales: list[str]) -> tuple[set[str], set[str]]:
    given: set[str] = set()
    surnames: set[str] = set()
    for locale in locales:
        p = _provider(locale)
        for attr in ("first_names", "first_names_male", "first_names_female"):
            given |= _clean(getattr(p, attr, ()))
        surnames |= _clean(getattr(p, "last_names", ()))
    return given, surnames


def other_locales() -> list[str]:
    """Every Faker locale with person names that LOCALES, MORE_LOCALES and ROMANIZED leave."""
    package = importlib.import_module("faker.providers.person")
    known = set(LOCALES + MORE_LOCALES + ROMANIZED)
    return [m.name for m in pkgutil.iter_modules(package.__path__)
            if "_" in m.name and m.name not in known]


def lorem_words() -> set[str]:
    """The words of every language Faker has a lorem list for: a given name that is a common word
    in any of them ("Per", "Mai", "Слава") stays out of the other locales' given names."""
    package = importlib.import_module("faker.providers.lorem")
    words: set[str] = set()
    for m in pkgutil.iter_modules(package.__path__):
        provider = importlib.import_module(f"faker.providers.lorem.{m.name}").Provider
        words |= {w.lower() for w in getattr(provider, "word_list", ())}
    return words


def build() -> tuple[list[str], list[str], list[str], list[str], list[str], list[str]]:
    given, surnames = _names(LOCALES)
    for locale in ROMANIZED:
        p = _provider(locale)
        given |= _clean(getattr(p, "first_romanized_names", ()))
        surnames |= _clean(getattr(p, "last_romanized_names", ()))
    lorem = importlib.import_module("faker.providers.lorem.en_US").Provider.word_list
    common = {w.lower() for w in lorem} | set(EXTRA_COMMON) | set(PRODUCTS)
    # The anchor pass runs Python for every match, whole word or not: a short name, or one that
    # starts a common word ("Clas" in "Classify", "Amon" in "Among"), would be matched inside
    # every such word. The other locales' names are left out when they are either.
    prefixes = {w[:n] for w in common for n in range(3, len(w))}
    more_given, more_surnames = _names(MORE_LOCALES)
    given |= {g for g in more_given if len(g) >= 3 and g.lower() not in prefixes}
    # Of the other locales' given names only those with a letter beyond ASCII (Greek, Cyrillic,
    # "Þórunn", "Ağa"): the lorem lists cannot tell which ASCII ones are English words too
    # ("Prudence", "Muslim" are given names in en_KE and uz_UZ).
    other_given, other_surnames = _names(other_locales())
    words = lorem_words()
    rest_given = {g for g in other_given - given
                  if len(g) >= 3 and not g.isascii() and g.lower() not in words}
    more_surnames |= other_surnames
    # The other locales' surnames confirm a run a given name or a cue started ("Ritt
    # Hermansen") but anchor nothing: as patterns they would double the automaton, whose build
    # every `gemops redact` process pays at start.
    more_surnames = {s for s in more_surnames if len(s) >= 3} - surnames
    # Names that are words ("Dean", "Hope", "Iris"): a name only after a strong cue ("Thanks
    # Dean,", "Emergency contact: Iris Reimes"). From the first locales and English-speaking
    # ones; the others' lists hold words such as "Can", "Per" and "My".
    first, _ = _names([*LOCALES, "en_IE", "en_NZ"])
    common_given = {g for g in first if g.lower() in common} - {
        w.capitalize() for w in PRODUCTS + NOT_NAMES
    }
    given = {g for g in given if g.lower() not in common}
    surnames = {s for s in surnames if len(s) >= 3}
    return (sorted(given), sorted(rest_given - given), sorted(surnames), sorted(more_surnames),
            sorted(common), sorted(common_given))


def main() -> None:
    given, more_given, surnames, more_surnames, common, common_given = build()
    DATA.mkdir(exist_ok=True)
    (DATA / "given_names.txt").write_text("\n".join(given) + "\n", encoding="utf-8")
    (DATA / "more_given.txt").write_text("\n".join(more_given) + "\n", encoding="utf-8")
    (DATA / "surnames.txt").write_text("\n".join(surnames) + "\n", encoding="utf-8")
    (DATA / "more_surnames.txt").write_text("\n".join(more_surnames) + "\n", encoding="utf-8")
    (DATA / "common_words.txt").write_text("\n".join(common) + "\n", encoding="utf-8")
    (DATA / "common_given.txt").write_text("\n".join(common_given) + "\n", encoding="utf-8")
    print(f"{len(given)} + {len(more_given)} given names, {len(surnames)} + {len(more_surnames)}"
          " surnames")


if __name__ == "__main__":
    main()
