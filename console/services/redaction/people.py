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


# Cheap pre-checks: a capitalised cue word among the text's words, or one of these phrases.
_CUE_TOKENS = frozenset(
    ["Mr", "Mrs", "Ms", "Mx", "Dr", "Prof", "Herr", "Frau", "Mme", "Mlle", "Sr", "Sra", "Dear", "Hi", "Hello", "Hey", "Regards", "Thanks", "Cheers", "Bonjour", "Hallo", "Hola", "Ciao", "Sincerely", "Best", "Customer", "Client", "Agent", "Attn", "Contact", "Name"]
)
_CUE_PHRASES = ("name is", "spoke", "assigned", "ame:", "ustomer", "talked", "escalated",
                "signed by", "ttn", "c/o", "hip to", "HIP TO")


def _maybe_names(text: str, tokens: list[str]) -> bool:
    if not given_names().isdisjoint(tokens) or not _CUE_TOKENS.isdisjoint(tokens):
        return True
    return any(phrase in text for phrase in _CUE_PHRASES)


def find_names(text: str) -> list[tuple[int, int, str | None]]:
    """Spans of person names in ``text``."""
    given = given_names()
    if not _maybe_names(text, _CAPWORD.findall(text)):
        return []
    common, last_names = common_words(), surnames()
    out: list[tuple[int, int, str | None]] = []
    for m in _RUN.finditer(text):
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

_STREET_WORDS_EN = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace"
    r"|Tce|Crescent|Cres|Close|Parade|Pde|Highway|Hwy|Square|Sq|Circle|Cir|Parkway|Pkwy|Trail"
    r"|Row|Mews|Gardens|Grove|Hill|Walk|Marg|Nagar|Chowk"
)
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
_STREET_TOKENS = frozenset(
    (_STREET_WORDS_EN + "|Calle|Avenida|Avda|Plaza|Paseo|Camino|Carrer|Ronda|Carretera|Via|Viale"
     "|Piazza|Piazzale|Corso|Largo|Vicolo|Strada|Rua|Travessa|Alameda|Praça|Rodovia|Estrada"
     "|Contrada|Callejón|Pasaje|Glorieta|Rambla").split("|")
)
_STREET_SUFFIXES = ("straße", "strasse", "weg", "allee", "platz", "gasse", "ring", "damm",
                    "ufer", "chaussee", "laan", "straat", "gracht", "plein", "kade", "singel",
                    "dijk", "steeg", "markt")
_STREET_LOWER = (" rue ", " avenue ", " boulevard ", " bd ", " place ", " chemin ", " allée ",
                 " impasse ", " quai ", " route ", " cours ", "C/ ", "str. ")


def _maybe_address(text: str, tokens: list[str]) -> bool:
    distinct = set(tokens)
    if not _STREET_TOKENS.isdisjoint(distinct):
        return True
    if any(t.endswith(_STREET_SUFFIXES) for t in distinct):
        return True
    return any(word in text for word in _STREET_LOWER)


def find_addresses(text: str) -> list[tuple[int, int, str | None]]:
    """Spans of street addresses in ``text``, from the house number to the postcode and city."""
    if not _maybe_address(text, _CAPWORD.findall(text)):
        return []
    out: list[tuple[int, int, str | None]] = []
    for m in _ADDRESS.finditer(text):
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
    return out
