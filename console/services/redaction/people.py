"""Person names and street addresses: context cues, a shipped gazetteer and street patterns.

Both finders return ``(start, end, kind)`` spans over the text they were given. They are built
to cost little on text that holds no people: names are looked for only once a capitalised word
of the text is a known given name or a cue word ("Dear", "Mr", "my name is") is present, and
addresses are anchored on a street word or a house number before anything else is tried.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from console.services.redaction.street_words import STREET_WORDS, trie_branches, trie_pattern

_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
# One capitalised word: Maria, O'Brien, Jean-Luc, McDonald, Wójcik.
_WORD = rf"[{_UP}](?:[{_LO}]+|['’][{_UP}][{_LO}]+)(?:[{_UP}][{_LO}]+)?(?:-[{_UP}][{_LO}]+)?"
_PARTICLE = (
    r"(?:van der|van den|van de|von der|de la|de los|de las|del|della|degli|van|von|de|da|di"
    r"|du|dos|das|do|le|la|ter|ten|bin|al|el)"
)
# A run of capitalised words, with middle initials ("John F. Kennedy") and particles between.
_RUN = re.compile(
    rf"(?<![\w@./\\\-]){_WORD}(?:[ ](?:[{_UP}]\.[ ])?(?:{_PARTICLE}[ ])?{_WORD}){{0,3}}"
)
_CAPWORD = re.compile(rf"[{_UP}][{_LO}]+")
_TITLE_BEFORE = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sir|Dame|Madam|Herr|Frau|Mme|Mlle|M|Sr|Sra|Srta|Sig"
    r"|Sig\.ra|Signor|Signora|Dhr|Mevr|Dott|Shri|Smt)\.?[ ]+)$"
)
# Cues said right before a name (case-insensitive): greetings, "spoke with", labels.
_STRONG_CUES = (
    r"hi|hello|hey|dear|thanks|thank you|cheers|bonjour|hallo|hola|ciao|ol[aá]|beste|liebe"
    r"|lieber|cher|chère|estimad[oa]|gentile|car[oa]|prezad[oa]|my name is|name is|i am|i'm"
    r"|this is|spoke with|spoke to|speaking with|talked to|talking to|chatted with|assigned to"
    r"|assignee|escalated to|handed over to|transferred to|signed by|approved by|reported by"
    r"|requested by|created by|owner|contact person|attn\.?|attention|c/o|ship to|bill to"
    r"|deliver to|recipient|sender|customer|client|patient|applicant|tenant|employee|caller"
    r"|account holder|cardholder|card holder|guest|passenger|name|full name|nom|nombre|nome"
    r"|naam|kunde|kundin|contact|agent|rep"
)
_STRONG_CUE_WORDS = frozenset(
    ["Hi", "Hello", "Hey", "Dear", "Thanks", "Cheers", "Bonjour", "Hallo", "Hola", "Ciao", "Ola", "Olá", "Beste", "Liebe", "Lieber", "Cher", "Chère", "Estimado", "Estimada", "Gentile", "Caro", "Cara", "Prezado", "Prezada", "Customer", "Client", "Patient", "Applicant", "Tenant", "Employee", "Caller", "Guest", "Passenger", "Agent", "Contact", "Owner", "Assignee", "Recipient", "Sender", "Kunde", "Kundin", "Attn", "Attention"]
)
_WEAK_CUES = r"from|to|cc|by|with|for|and|ask|tell|call|email|ping|thank|met|meet|per|via|see|let"
_STRONG_BEFORE = re.compile(rf"(?:\b(?:{_STRONG_CUES})[,:]?[ ]+)$", re.IGNORECASE)
_WEAK_BEFORE = re.compile(rf"(?:\b(?:{_WEAK_CUES})[,:]?[ ]+)$", re.IGNORECASE)
# A sign-off line just before the name ("Best regards,\nMaria Silva").
_SIGNOFF_BEFORE = re.compile(
    r"(?:regards|best|thanks|thank you|cheers|sincerely|yours|warmly|saludos|grüße|gruß"
    r"|cordialement|cordiali saluti|groeten|atenciosamente|abraços|--)[,!.]?[ \t]*\r?\n[ \t]*$",
    re.IGNORECASE,
)
# A chat transcript's speaker: "[10:32] Maria Silva: ..." or "Maria: ..." at a line start.
_SPEAKER_BEFORE = re.compile(r"(?:^|\n)[ \t]*(?:\[[0-9:.\- ]+\][ \t]*|[0-9:]{4,8}[ \t]+)?$")
# Verbs that follow a person at the start of a sentence ("Maria said ...").
_VERB_AFTER = re.compile(
    r"[ ](?:said|says|wrote|writes|asked|asks|called|calls|replied|mentioned|reported|confirmed"
    r"|emailed|phoned|noted|explained|complained|requested|agreed|will|would|is|was|has|had"
    r"|can|could|just|also|from|and [A-Z])\b"
)
_SENTENCE_END = frozenset(".!?\n\r\t\"“”([")


@functools.cache
def _words(name: str) -> frozenset[str]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(text.split())


def given_names() -> frozenset[str]:
    return _words("given_names.txt")


def surnames() -> frozenset[str]:
    return _words("surnames.txt")


@functools.cache
def common_words() -> frozenset[str]:
    return frozenset(w.capitalize() for w in _words("common_words.txt"))


# Capitalised cue words; with the gazetteer they anchor the name search (see _anchors).
_CUE_TOKENS = frozenset(
    ["Mr", "Mrs", "Ms", "Mx", "Miss", "Dr", "Prof", "Sir", "Dame", "Madam", "Herr", "Frau", "Mme",
     "Mlle", "Sr", "Sra", "Srta", "Sig", "Signor", "Signora", "Dhr", "Mevr", "Dott", "Shri", "Smt",
     "Dear", "Hi", "Hello", "Hey", "Regards", "Thanks", "Cheers", "Bonjour", "Hallo", "Hola",
     "Ciao", "Sincerely", "Best", "Customer", "Client", "Agent", "Attn", "Contact", "Name",
     "Yours", "Warmly", "Saludos", "Cordialement", "Groeten", "Atenciosamente", "Abraços"]
)
# Lower-case cues said right before a name; each also anchors with a capital first letter.
_CUE_PHRASES = (
    "my name is", "name is", "i am ", "i'm ", "this is ", "spoke with", "spoke to",
    "speaking with", "talked to", "talking to", "chatted with", "assigned to", "assignee",
    "escalated to", "handed over to", "transferred to", "signed by", "approved by", "reported by",
    "requested by", "created by", "owner", "contact", "attn", "attention", "c/o", "ship to",
    "bill to", "deliver to", "recipient", "sender", "customer", "client", "patient",
    "applicant", "tenant", "employee", "caller", "account holder", "cardholder", "card holder",
    "guest", "passenger", "full name", "name:", "nom", "nombre", "nome", "naam", "kunde",
    "kundin", "agent", "regards", "--",
)


def find_names(text: str, at: list[int] | None = None) -> list[tuple[int, int, str | None]]:
    """Spans of person names in ``text``.

    Only the neighbourhood of an anchor (a gazetteer name, a cue word or phrase, a chat
    speaker's timestamp) is searched, so the cost follows the people in the text, not its size.
    """
    if at is None:
        at = anchors(text)[0]
    out: list[tuple[int, int, str | None]] = []
    for lo, hi in _windows(at, len(text), 80, 120):
        _names_in(text, lo, hi, out)
    return out


def _names_in(text: str, lo: int, hi: int, out: list[tuple[int, int, str | None]]) -> None:
    given = given_names()
    common, last_names = common_words(), surnames()
    for m in _RUN.finditer(text, lo, hi):
        words = m.group().split(" ")
        start, end = m.start(), m.end()
        # Cue words glued to the run ("Dear Maria", "Customer Jane Doe") are cues, not names.
        strong = False
        while words and words[0] in common and words[0] not in given:
            strong = strong or words[0] in _STRONG_CUE_WORDS
            start += len(words.pop(0)) + 1
        if not words:
            continue
        first = words[0]
        named = len(words) > 1 and words[-1] not in common
        if first in common and not named:
            continue
        before = text[max(0, start - 40) : start]
        initial = _sentence_initial(text, start)
        strong = strong or bool(
            _TITLE_BEFORE.search(before)
            or _SIGNOFF_BEFORE.search(before)
            or _STRONG_BEFORE.search(before)
            or _speaker(text, start, end)
        )
        if strong and first not in common:
            out.append((start, end, None))
        elif first in given:
            if named or not initial or _VERB_AFTER.match(text, end) or _WEAK_BEFORE.search(before):
                out.append((start, end, None))
        elif named and first not in common and (words[1] in last_names or words[-1] in last_names):
            out.append((start, end, None))


def _windows(anchors: list[int], size: int, before: int, after: int) -> list[tuple[int, int]]:
    """Merged (lo, hi) ranges around sorted anchor positions."""
    out: list[tuple[int, int]] = []
    for p in anchors:
        lo, hi = max(0, p - before), min(size, p + after)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] == " ":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END or text[i] == ":"


def _speaker(text: str, start: int, end: int) -> bool:
    return (
        end < len(text)
        and text[end] == ":"
        and _SPEAKER_BEFORE.search(text, max(0, start - 24), start) is not None
    )


# --- street addresses -------------------------------------------------------------------------

_STREET_WORDS_EN = trie_pattern(STREET_WORDS)
_CITY = (
    rf"[{_UP}][{_LO}'’.\-]+(?:[ ](?:am|an|de|del|di|sur|le|la|da|do|dos|upon|on)?[ ]?"
    rf"[{_UP}][{_LO}'’\-]+){{0,3}}|[A-Z]{{2}}(?![\w])"
)
_POSTCODE = (
    r"[0-9]{5}(?:-[0-9]{3,4})?"  # US ZIP(+4), DE/FR/ES/IT, BR CEP
    r"|[A-Z]{1,2}[0-9][A-Z0-9]?[ ]?[0-9][A-Z]{2}"  # UK
    r"|[0-9]{4}[ ]?[A-Z]{2}(?![A-Za-z])"  # NL
    r"|[0-9]{3}-[0-9]{4}|〒[0-9]{3}-[0-9]{4}"  # JP
    r"|[0-9]{3}[ ]?[0-9]{3}|[0-9]{4}"  # IN PIN, AU/NL/BE
)
_STATE = r"(?:[A-Z]{2}|NSW|VIC|QLD|TAS|ACT)(?![\w])"
_UNIT = (
    r"(?:,?[ ](?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Piso|Étage|Wohnung|Apto|Bloco"
    r"|Sala|Interno|Int|Bus|Bte)\.?[ ]?#?[0-9A-Za-z\-]+)"
)
_TAIL = re.compile(
    rf"{_UNIT}?(?:(?:,[ ]?|[ ]-[ ]|[ ]|\r?\n)(?:(?:{_POSTCODE})(?![\w\-])(?:[ ]{_CITY})?"
    rf"|{_CITY}(?:,?[ ]{_STATE})?(?:,?[ ](?:{_POSTCODE})(?![\w\-]))?)){{0,4}}"
)
# Where an address starts: a house number before a street, or a street word before a number.
_ADDRESS = re.compile(
    # US, UK, AU, IN, JP (romanised): 221B Baker Street, 1600 Amphitheatre Pkwy, 1-2-3 Shibuya
    rf"(?<![\w.,/\-])(?P<num>[0-9]{{1,5}}[A-Za-z]?(?:[-/][0-9]{{1,4}}){{0,2}},?[ ]"
    rf"(?:(?:[NSEW]|North|South|East|West)\.?[ ])?(?:[{_UP}0-9][\w'’\-]*\.?[ ]){{0,3}}"
    rf"(?:{_STREET_WORDS_EN})\.?)(?![\w])"
    # DE, NL, AT, CH: Hauptstraße 5, Keizersgracht 123-2
    r"|(?<=[a-zäöüß])(?P<suffix>(?:straße|strasse|str\.|weg|allee|platz|gasse"
    r"|ring|damm|ufer|chaussee|laan|straat|gracht|plein|kade|singel|dijk|steeg|markt)"
    r"[ ][0-9]{1,4}[a-zA-Z]?(?:[-/][0-9]{1,4})?)(?![\w])"
    # FR: 12 bis rue de la Paix; ES/IT/BR/PT: Calle Mayor 5, Via Roma, 10, Rua Augusta 1500
    r"|(?<![\w\-])(?P<fr>[0-9]{1,4}(?:[ ]?(?:bis|ter|[A-B]))?,?[ ](?:rue|avenue|av\.|boulevard"
    rf"|bd|place|chemin|allée|impasse|quai|route|cours|square)[ ](?:[\w'’\-]+[ ]){{0,4}}?"
    rf"[{_UP}][\w'’\-]*)"
    r"|(?<![\w\-])(?P<latin>(?:Calle|C/|Avenida|Avda\.|Av\.|Plaza|Pza\.|Paseo|Camino|Carrer|Ronda"
    r"|Carretera|Travesía|Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Strada|Rua|Avenida"
    r"|Travessa|Alameda|Praça|Rodovia|Estrada|Largo)[ ](?:[\w'’\-.]+[ ]){0,5}?"
    r"[\w'’\-.]+,?[ ](?:n[º°o]\.?[ ]?)?[0-9]{1,5}[A-Za-z]?(?:[ ]?[º°ª])?)(?![\w])"
)
_STREET_SUFFIXES = ("straße", "strasse", "str.", "weg", "allee", "platz", "gasse", "ring",
                    "damm", "ufer", "chaussee", "laan", "straat", "gracht", "plein", "kade",
                    "singel", "dijk", "steeg", "markt")
_FR_WORDS = ("rue", "avenue", "av.", "boulevard", "bd", "place", "chemin", "allée", "impasse",
             "quai", "route", "cours", "square")
_LATIN_WORDS = ("Calle", "C/", "Avenida", "Avda.", "Av.", "Plaza", "Pza.", "Paseo", "Camino",
                "Carrer", "Ronda", "Carretera", "Travesía", "Via", "Viale", "Piazza", "Piazzale",
                "Corso", "Largo", "Vicolo", "Strada", "Rua", "Travessa", "Alameda", "Praça",
                "Rodovia", "Estrada", "Contrada", "Callejón", "Pasaje", "Glorieta", "Rambla")


@functools.cache
def _anchor_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Where names and addresses are worth a closer look. Every branch starts on a capital or a
    rare character: a branch starting on a lower-case letter would be tried all over prose."""
    name_words = given_names() | surnames() | _CUE_TOKENS | _STRONG_CUE_WORDS
    # Capitalised forms only: a trie entered at every lower-case letter would cost ten times more.
    phrases = {c[:1].upper() + c[1:] for c in _CUE_PHRASES if c[:1].isalpha()}
    street = set(STREET_WORDS) | {w.rstrip(".") for w in _LATIN_WORDS}
    names = re.compile(
        "|".join([*trie_branches(name_words | phrases, "(?![a-zß-ÿ])"), r"\][ \t]*[A-Z]"])
    )
    addresses = re.compile(
        "|".join([*trie_branches(street, r"(?![\w])"), "C/", "〒", "丁目"])
    )
    return names, addresses


def anchors(text: str) -> tuple[list[int], list[int]]:
    """Positions of name anchors and address anchors, in text order."""
    names, addresses = _anchor_res()
    found = [m.start() for m in addresses.finditer(text)]
    # Lower-case street words are found with str.find: a regex branch starting on a lower-case
    # letter (or a digit) would be tried all over prose.
    find = text.find
    for word in _GLUED_WORDS:  # "Hauptstraße 5": a digit follows
        i = find(word)
        while i >= 0:
            after = i + len(word)
            if after < len(text) and text[after] in _DIGITS:
                found.append(i)
            i = find(word, after)
    for word in _SPACED_WORDS:  # "12 rue de la Paix": a digit before
        i = find(word)
        while i >= 0:
            if any(c in _DIGITS for c in text[max(0, i - 4) : i]):
                found.append(i)
            i = find(word, i + len(word))
    if len(found) > 1:
        found.sort()
    return [m.start() for m in names.finditer(text)], found


_DIGITS = frozenset("0123456789")
_GLUED_WORDS = tuple(w + " " for w in _STREET_SUFFIXES)
_SPACED_WORDS = (*(f" {w} " for w in _FR_WORDS), "-chome")


def find_addresses(
    text: str, at: list[int] | None = None
) -> list[tuple[int, int, str | None]]:
    """Spans of street addresses in ``text``, from the house number to the postcode and city.

    Searched only around a street word (or suffix, or postcode mark), never at every digit.
    """
    if at is None:
        at = anchors(text)[1]
    out: list[tuple[int, int, str | None]] = []
    last = 0
    for lo, hi in _windows(at, len(text), 90, 90):
        _addresses_in(text, max(lo, last), hi, out)
        if out:
            last = out[-1][1]
    return out


def _addresses_in(text: str, lo: int, hi: int, out: list[tuple[int, int, str | None]]) -> None:
    for m in _ADDRESS.finditer(text, lo, hi):
        kind = m.lastgroup
        start, end = m.start(), m.end()
        if kind == "suffix":
            # Anchored on the suffix ("straße 5"): the street's name is the word before it.
            while start > 0 and (text[start - 1].isalpha() or text[start - 1] in "-'’"):
                start -= 1
            if not text[start].isupper():
                continue
        if kind == "num":
            # "3 Ave" alone, or "2 Place" in prose: a street needs a name before its word.
            words = m.group().split()
            if len(words) < 3 and not words[0][:1].isdigit():
                continue
            if len(words) < 3:
                continue
        tail = _TAIL.match(text, end)
        if tail is not None:
            end = tail.end()
        while end > start and text[end - 1] in " ,.-\n\r":
            end -= 1
        out.append((start, end, kind))
