"""National identifiers and context-confirmed numbers: SSNs without dashes, phone numbers that
libphonenumber calls invalid, CPF, DNI, BSN, NIR, Steuer-ID, Aadhaar, SIN, TFN, codice fiscale.

A bare run of digits is an order number as often as an identifier, so most of these are taken
only next to a word that names them ("SSN", "CPF", "phone"...). The check digits are
python-stdnum's; a number that fails them is not that identifier.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum import verhoeff
from stdnum.au import tfn
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

from console.services.redaction.street_words import trie_branches

# Words that say the number next to them is an SSN (before it, or just after it).
SSN_CUE = re.compile(
    r"\bssn|social security|soc\.? ?sec|\bss ?(?:#|no\b|num)|\bid field|taxpayer id|\bitin\b",
    re.IGNORECASE,
)
PHONE_CUE = re.compile(
    r"phone|\btel\b|\btel[.:]|\bcall|mobile|\bcell|\bring\b|\bfax|whatsapp|\bsms\b|text me"
    r"|reach (?:me|us|her|him|them)|\bnumber|\bnr\b|telefon|t[ée]l[ée]phone|\bt[ée]l\b|handy"
    r"|m[óo]vil|celular|cellulare|telefone|hotline|landline|\bext\b|num[ée]ro|nummer|contact"
    r"|portable|rufnummer|電話|\btlf\b|\bph[.:]|\bmob\b|\bmob[.:]|\bcel[.:]|\bfon[.:]",
    re.IGNORECASE,
)
# A CSV / TSV column whose values are phone numbers, by its header ("phone", "Mobile No",
# "telefono", "contact_phone"); "contact" alone could as well be an e-mail column.
PHONE_COLUMN = re.compile(
    r"phone|\btel\b|tel[_ .#-]|\btel[eé]f|telef|mobile|\bcell|\bfax|handy|m[oó]vil|celular"
    r"|whatsapp|\bgsm\b|msisdn|rufnummer|t[ée]l[ée]phone|\bportable|\bnummer\b",
    re.IGNORECASE,
)
# Every cue word's stem, for a first look at the (lower-cased) words before a number: most
# numbers have none, and one search of this pattern, whose branches all start on a literal
# letter (`\b` becomes a look-behind after it), costs less than the dozen exact ones below.
_STEMS = ["ssn", "social", "soc", "ss", "id", "taxpayer", "itin", "phone", "tel", "call", "mobile", "cell", "ring", "fax", "whatsapp", "sms", "text", "reach", "number", "nr", "tél", "handy", "móvil", "movil", "celular", "ext", "num", "nummer", "contact", "portable", "rufnummer", "cpf", "dni", "nif", "documento", "bsn", "burgerservicenummer", "nir", "sécurit", "securit", "insee", "steuer", "identifikationsnummer", "aadha", "uid", "sin", "tfn", "tax", "national", "identity", "personal", "hotline", "landline", "tlf", "ph.", "ph:", "mob", "cel.", "cel:", "fon.", "fon:"]
ANY_CUE = re.compile(
    "|".join(
        [
            # A trie per first letter, which must start a word (the look-behind after it).
            b[0] + "(?<![^\\W_].)" + b[1:]
            for b in trie_branches([w for w in _STEMS if w != "phone"], "")
        ]
        + ["phone", "\u96fb\u8a71"]
    )
)
# The stems of those words, for a first look at the lower-cased words before a number that is
# also a valid phone number: an identifier only when one of them names it (built as ANY_CUE is).
_ID_STEMS = ["cpf", "dni", "nif", "documento", "bsn", "burgerservicenummer", "nir", "sécurit",
             "securit", "insee", "steuer", "identifikationsnummer", "idnr", "aadha", "uid", "sin",
             "social insurance", "tfn", "tax file", "national", "id", "identity", "personal"]
ID_CUE = re.compile(
    "|".join(b[0] + "(?<![^\\W_].)" + b[1:] for b in trie_branches(_ID_STEMS, ""))
)
# National identifiers by the word that names them; a generic "ID number" tries them all.
_ID_CUES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bcpf\b", re.I), "br_cpf"),
    (re.compile(r"\bdni\b|\bnif\b|documento nacional", re.I), "es_dni"),
    (re.compile(r"\bbsn\b|burgerservicenummer", re.I), "nl_bsn"),
    (re.compile(r"\bnir\b|s[ée]curit[ée] sociale|\binsee\b", re.I), "fr_nir"),
    (re.compile(r"steuer-?id|steueridentifikationsnummer|\bidnr\b|identifikationsnummer", re.I),
     "de_idnr"),
    (re.compile(r"aadhaa?r|\buid(?:ai)?\b", re.I), "in_aadhaar"),
    (re.compile(r"\bsin\b|social insurance", re.I), "ca_sin"),
    (re.compile(r"\btfn\b|tax file", re.I), "au_tfn"),
    (re.compile(r"national id|\bid (?:no|number|card)|identity|personal number|\bid:|\bid#",
                re.I), "*"),
]
VALIDATORS: dict[str, Callable[[str], bool]] = {
    "br_cpf": cpf.is_valid,
    "es_dni": dni.is_valid,
    "nl_bsn": bsn.is_valid,
    "fr_nir": nir.is_valid,
    "de_idnr": idnr.is_valid,
    "in_aadhaar": lambda d: len(d) == 12 and d[0] not in "01" and verhoeff.is_valid(d),
    "ca_sin": sin.is_valid,
    "au_tfn": tfn.is_valid,
}
# Shapes so distinctive that no cue is needed: CPF 123.456.789-09, DNI 12345678Z.
CPF_SHAPE = re.compile(r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}(?![0-9A-Za-z])")
DNI_SHAPE = re.compile(r"[0-9]{8}-?[A-Z](?![0-9A-Za-z])")
CODICE_FISCALE = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"
    r"(?![0-9A-Za-z])"
)


def is_ssn(digits: str) -> bool:
    return ssn.is_valid(digits)


def is_codice_fiscale(value: str) -> bool:
    return codicefiscale.is_valid(value)


def national_id_kind(digits: str, before: str) -> str | None:
    """The identifier `digits` is, given the words before it; None when none says so."""
    for cue, kind in _ID_CUES:
        if cue.search(before) is None:
            continue
        kinds = VALIDATORS if kind == "*" else (kind,)
        for candidate in kinds:
            try:
                if VALIDATORS[candidate](digits):
                    return candidate
            except Exception:  # a validator refusing odd input is a "no"
                continue
    return None
