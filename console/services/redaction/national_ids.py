"""National identifiers and context-confirmed numbers: SSNs without dashes, phone numbers that
libphonenumber calls invalid, the shapes that need no cue (CPF, DNI, NIE, CURP, codice fiscale),
and the first look for the words that name the identifiers of id_schemes.

A bare run of digits is an order number as often as an identifier, so most of these are taken
only next to a word that names them ("SSN", "CPF", "phone"...). The check digits are
python-stdnum's; a number that fails them is not that identifier.
"""

from __future__ import annotations

import re

from stdnum.it import codicefiscale
from stdnum.us import ssn

from console.services.redaction import id_schemes
from console.services.redaction.compiled import pattern as _compile
from console.services.redaction.street_words import trie_branches

# Words that say the number next to them is an SSN (before it, or just after it).
SSN_CUE = _compile(
    r"\bssn|social security|soc\.? ?sec|\bss ?(?:#|no\b|num)|\bid field|taxpayer id|\bitin\b",
    re.IGNORECASE,
)
PHONE_CUE = _compile(
    r"phone|\btel\b|\btel[.:]|\bcall|mobile|\bcell|\bring\b|\bfax|whatsapp|\bsms\b|text me"
    r"|reach (?:me|us|her|him|them)|\bnumber|\bnr\b|telefon|t[ée]l[ée]phone|\bt[ée]l\b|handy"
    r"|m[óo]vil|celular|cellulare|telefone|hotline|landline|\bext\b|num[ée]ro|nummer|contact"
    r"|portable|rufnummer|電話|\btlf\b|\bph[.:]|\bmob\b|\bmob[.:]|\bcel[.:]|\bfon[.:]|☎|📞",
    re.IGNORECASE,
)
# The phone words and "call me on" of more languages (Latvian, Icelandic, Polish, Czech,
# Danish/Norwegian/Swedish, Greek, Spanish, French, Portuguese, Estonian, Hebrew, Chinese) and
# the keys of SMS gateways and CRMs (msisdn, callback, WA): lower case, each starting a word.
# A trie of literals (see _stem_branches), searched only where PHONE_CUE found nothing: one
# more branch in PHONE_CUE's alternation would cost every search of it more than this does.
MORE_PHONE_WORDS = [
    "tālr", "talr", "sími", "simi", "farsími", "farsimi", "faks", "kom.", "kom:", "mobil",
    "τηλ", "κιν.", "κιν:", "llámame", "llamame", "zvani", "πάρε με", "appelle", "zavolej",
    "liga-me", "ligue", "helista", "zadzwoń", "zadzwon", "numer ", "numbri", "תתקשר", "טלפון",
    "打", "callback", "call back", "wa:", "msisdn", "gsm", "kontakt", "επικοινων",
]
# A CSV / TSV column whose values are phone numbers, by its header ("phone", "Mobile No",
# "telefono", "contact_phone"); "contact" alone could as well be an e-mail column.
PHONE_COLUMN = _compile(
    r"phone|\btel\b|tel[_ .#-]|\btel[eé]f|telef|mobile|\bcell|\bfax|handy|m[oó]vil|celular"
    r"|whatsapp|\bgsm\b|msisdn|rufnummer|t[ée]l[ée]phone|\bportable|\bnummer\b"
    # The same words in more languages, and the headers that say "how to reach": in a column
    # whose values are digits only, "Contact" is a phone ("contact_id" is not).
    r"|\btlf\b|\bt[āa]lr\b|\bs[íi]mi\b|\bfaks|\bmobil|\bτηλ|επικοινων|kontakt|\breach\b"
    r"|\bcontacto?\b(?![ _.\-]?(?:id|no|nr|#))",
    re.IGNORECASE,
)
# Every cue word's stem, for a first look at the (lower-cased) words before a number: most
# numbers have none, and one search of this pattern, whose branches all start on a literal
# letter (`\b` becomes a look-behind after it), costs less than the dozen exact ones below.
# The words naming national identifiers are id_schemes' own: one table of cue words.
_STEMS = ["ssn", "social", "soc", "ss", "id", "taxpayer", "itin", "phone", "tel", "call", "mobile", "cell", "ring", "fax", "whatsapp", "sms", "text", "reach", "number", "nr", "tél", "handy", "móvil", "movil", "celular", "ext", "num", "nummer", "contact", "portable", "rufnummer", "hotline", "landline", "tlf", "ph.", "ph:", "mob", "cel.", "cel:", "fon.", "fon:", "☎", "📞"]


def _stem_branches(stems: list[str]) -> list[str]:
    """A trie per first letter, which must start a word (the look-behind after it); Chinese,
    Japanese and Korean words stand without spaces, so theirs are plain literals."""
    spaced = [w for w in stems if not id_schemes.unspaced(w)]
    return [
        b[0] + "(?<![^\\W_].)" + b[1:] for b in trie_branches(spaced, "")
    ] + [re.escape(w) for w in stems if id_schemes.unspaced(w)]


# (Their first words are enough for a first look, and a shorter pattern compiles faster; a
# first word of two letters, "my" of "my number", would start too many words.)
_ID_STEMS = list(
    dict.fromkeys(
        first if len(first) >= 3 or first == cue else cue
        for cue in id_schemes.CUE_WORDS
        for first in [cue.split(" ")[0]]
    )
)
_MORE_PHONE_CUE = _compile("|".join(_stem_branches(MORE_PHONE_WORDS)))


def phone_cue(before: str) -> bool:
    """Whether a phone word (of any language we know) is in `before`."""
    return PHONE_CUE.search(before) is not None or _MORE_PHONE_CUE.search(before.lower()) is not None


ANY_CUE = _compile(
    "|".join(
        [
            *_stem_branches(
                [w for w in dict.fromkeys(_STEMS + MORE_PHONE_WORDS + _ID_STEMS) if w != "phone"]
            ),
            "phone",
            "\u96fb\u8a71",
        ]
    )
)
# Shapes so distinctive that no cue is needed: CPF 123.456.789-09, DNI 12345678Z.
CPF_SHAPE = _compile(r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}(?![0-9A-Za-z])")
DNI_SHAPE = _compile(r"[0-9]{8}-?[A-Z](?![0-9A-Za-z])")
CODICE_FISCALE = _compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"
    r"(?![0-9A-Za-z])"
)
# Identifiers that start with capitals and carry a check, taken without a cue as DNI is:
# NIE X-2482300-W, CURP BOXW310820HNERXN09.
LETTERED_SHAPES = (
    (_compile(r"[XYZ]-?[0-9]{7}-?[A-Z](?![0-9A-Za-z])"), "es_nie"),
    (_compile(r"[A-Z]{4}[0-9]{6}[HMX][A-Z]{5}[0-9A-Z][0-9](?![0-9A-Za-z])"), "mx_curp"),
)


def is_ssn(digits: str) -> bool:
    return ssn.is_valid(digits)


def is_codice_fiscale(value: str) -> bool:
    return codicefiscale.is_valid(value)
