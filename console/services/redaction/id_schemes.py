"""Person identifiers python-stdnum can check, and the words that name them.

A number is taken as one of these only when a word naming it is close before it ("CPR-nr.",
"PESEL", "henkilötunnus") and stdnum accepts its check digits or structure; a phrase that names
no country ("national ID", "personal number") tries every scheme with a check digit. Each
stdnum module is imported on first use: most streams never name one.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from console.services.redaction.compiled import pattern as _compile
from console.services.redaction.street_words import trie_branches


@dataclass(frozen=True)
class Scheme:
    kind: str
    # The python-stdnum module whose is_valid checks it; or, where stdnum has none, a pattern
    # the whole value must match.
    module: str
    cues: tuple[str, ...]  # lower case; matched as whole words
    # Has a check digit (or a date and a check) to verify: may be tried under a phrase that
    # names no country. Without one only its own name takes it.
    checked: bool = True
    # Letters in fixed places (ABCDE1234F): even without a check, no order number looks like it,
    # so a phrase that names no country may take it as well.
    distinctive: bool = False


SCHEMES: tuple[Scheme, ...] = (
    Scheme("br_cpf", "br.cpf", ("cpf",)),
    Scheme("es_dni", "es.dni", ("dni", "nif", "documento nacional")),
    Scheme("es_nie", "es.nie", ("nie", "número de identidad de extranjero",
                                "numero de identidad de extranjero")),
    Scheme("nl_bsn", "nl.bsn", ("bsn", "burgerservicenummer", "sofinummer")),
    Scheme("fr_nir", "fr.nir", ("nir", "sécurité sociale", "securite sociale", "insee",
                                "numéro de sécu", "numero de secu")),
    Scheme("de_idnr", "de.idnr", ("steuer-id", "steuerid", "steueridentifikationsnummer", "idnr",
                                  "identifikationsnummer", "steuer-identifikationsnummer")),
    Scheme("in_aadhaar", "in_.aadhaar", ("aadhaar", "aadhar", "uid", "uidai")),
    Scheme("in_pan", "in_.pan", ("pan", "permanent account number"), checked=False,
           distinctive=True),
    Scheme("ca_sin", "ca.sin", ("sin", "social insurance")),
    Scheme("au_tfn", "au.tfn", ("tfn", "tax file")),
    Scheme("us_itin", "us.itin", ("itin", "individual taxpayer")),
    Scheme("pt_cc", "pt.cc", ("cartão de cidadão", "cartao de cidadao", "citizen card",
                              "n.º cc", "nº cc")),
    Scheme("pt_nif", "pt.nif", ("nif", "contribuinte", "número de contribuinte")),
    Scheme("be_nn", "be.nn", ("rijksregisternummer", "rijksregister", "numéro national",
                              "numero national", "registre national", "niss", "insz",
                              "national number", "nationalnummer")),
    Scheme("ch_ssn", "ch.ssn", ("ahv", "avs", "ahvn13", "ahv-nr", "avs-nr", "oasi",
                                "sozialversicherungsnummer", "numéro avs")),
    Scheme("at_vnr", "at.vnr", ("svnr", "vsnr", "sozialversicherungsnummer",
                                "versicherungsnummer")),
    Scheme("dk_cpr", "dk.cpr", ("cpr", "cpr-nr", "cpr-nummer", "personnummer")),
    Scheme("se_personnummer", "se.personnummer", ("personnummer", "personnr", "pnr",
                                                  "samordningsnummer")),
    Scheme("no_fodselsnummer", "no.fodselsnummer", ("fødselsnummer", "fodselsnummer",
                                                    "personnummer", "f.nr", "fnr")),
    Scheme("fi_hetu", "fi.hetu", ("henkilötunnus", "henkilotunnus", "hetu",
                                  "personbeteckning", "sosiaaliturvatunnus")),
    Scheme("is_kennitala", "is_.kennitala", ("kennitala",)),
    Scheme("ee_ik", "ee.ik", ("isikukood", "isikukoodi")),
    Scheme("lt_asmens", "lt.asmens", ("asmens kodas", "asmens kodo")),
    Scheme("pl_pesel", "pl.pesel", ("pesel",)),
    Scheme("cz_rc", "cz.rc", ("rodné číslo", "rodne cislo", "rč", "birth number")),
    Scheme("sk_rc", "sk.rc", ("rodné číslo", "rodne cislo", "rč")),
    Scheme("ro_cnp", "ro.cnp", ("cnp", "cod numeric personal")),
    Scheme("bg_egn", "bg.egn", ("егн", "egn")),
    Scheme("hr_oib", "hr.oib", ("oib",)),
    Scheme("si_emso", "si.emso", ("emšo", "emso")),
    Scheme("gr_amka", "gr.amka", ("amka", "αμκα")),
    Scheme("tr_tckimlik", "tr.tckimlik", ("tc kimlik", "t.c. kimlik", "kimlik no",
                                          "kimlik numarası", "tckn", "tc no")),
    Scheme("ie_pps", "ie.pps", ("pps", "ppsn", "personal public service")),
    Scheme("gb_nhs", "gb.nhs", ("nhs", "nhs number", "nhs no")),
    # UK National Insurance number: no check digit, and stdnum has no module for it.
    Scheme("gb_nino", r"re:(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?"
           r"[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]",
           ("national insurance", "ni number", "ni no", "nino", "nin"), checked=False,
           distinctive=True),
    Scheme("jp_mynumber", "jp.in_", ("my number", "mynumber", "individual number",
                                     "マイナンバー", "個人番号")),
    Scheme("kr_rrn", "kr.rrn", ("rrn", "resident registration", "주민등록번호")),
    Scheme("cn_ric", "cn.ric", ("身份证", "resident identity")),
    Scheme("mx_curp", "mx.curp", ("curp",)),
    Scheme("cl_rut", "cl.rut", ("rut",)),
    Scheme("ar_cuit", "ar.cuit", ("cuit", "cuil")),
    Scheme("ar_dni", "ar.dni", ("dni",), checked=False),
    Scheme("za_idnr", "za.idnr", ("south african id", "rsa id")),
    Scheme("il_idnr", "il.idnr", ("teudat zehut", "תעודת זהות")),
    Scheme("my_nric", "my.nric", ("nric", "mykad", "ic no")),
)
_BY_KIND = {scheme.kind: scheme for scheme in SCHEMES}
# Phrases that name an identifier but no country: every scheme with a check digit (or a
# distinctive layout) is tried.
GENERIC_CUES = ("national id", "national identity", "identity number", "identity card",
                "personal number", "personal id", "personal identity", "id number", "id card",
                "id no", "citizen id", "person id")
# The pre-existing catch-alls "ID:" / "ID#": too common in order and ticket ids to try every
# scheme, so only the schemes gemops has long recognised are tried.
SHORT_GENERIC_CUES = ("id:", "id#")
SHORT_GENERIC_KINDS = ("br_cpf", "es_dni", "nl_bsn", "fr_nir", "de_idnr", "in_aadhaar", "ca_sin",
                       "au_tfn")


def _cue_table() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for scheme in SCHEMES:
        for cue in scheme.cues:
            table.setdefault(cue, []).append(scheme.kind)
    checked = [s.kind for s in SCHEMES if s.checked or s.distinctive]
    for cue in GENERIC_CUES:
        table.setdefault(cue, []).extend(checked)
    for cue in SHORT_GENERIC_CUES:
        table.setdefault(cue, []).extend(SHORT_GENERIC_KINDS)
    return {cue: tuple(dict.fromkeys(kinds)) for cue, kinds in table.items()}


_KINDS_BY_CUE = _cue_table()
# Every word that names an identifier, lower case: national_ids' first look is built from them.
CUE_WORDS = tuple(_KINDS_BY_CUE)


def unspaced(cue: str) -> bool:
    """Chinese, Japanese and Korean words stand without spaces around them."""
    return any("\u3000" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in cue)


def _word_end(cue: str) -> str:
    return r"(?![^\W_])" if cue[-1].isalnum() else ""


# Matched against lower-cased text: a trie whose branches start on a literal letter (the
# look-behind after it says a word starts there), which `re` searches far faster than an
# IGNORECASE alternation of the cues.
CUE = _compile(
    "|".join(
        [
            b[0] + r"(?<![^\W_].)" + b[1:]
            for b in trie_branches(
                {cue: _word_end(cue) for cue in _KINDS_BY_CUE if not unspaced(cue)}, ""
            )
        ]
        + [re.escape(cue) for cue in _KINDS_BY_CUE if unspaced(cue)]
    )
)
# An identifier as written: letters and digits in groups joined by one separator.
TOKEN = _compile(r"[0-9A-Z]+(?:[ ./\-+][0-9A-Z]+){0,7}", re.ASCII)
_SEPARATOR = _compile(r"[ ./\-+]", re.ASCII)


@functools.cache
def validator(kind: str) -> Callable[[str], bool]:
    module = _BY_KIND[kind].module
    if module.startswith("re:"):
        pattern = _compile(module[3:], re.ASCII)
        return lambda value: pattern.fullmatch(value) is not None
    is_valid: Callable[[str], bool] = importlib.import_module(f"stdnum.{module}").is_valid
    return is_valid


def is_valid(kind: str, value: str) -> bool:
    try:
        return validator(kind)(value)
    except Exception:  # a validator refusing odd input is a "no"
        return False


def kinds_named(before: str) -> tuple[str, ...]:
    """The schemes the words in `before` name, the nearest cue's first."""
    kinds: list[str] = []
    for match in reversed(list(CUE.finditer(before.lower()))):
        kinds.extend(_KINDS_BY_CUE[match.group().lower()])
    return tuple(dict.fromkeys(kinds))


def identify(text: str, start: int, before: str) -> tuple[int, str] | None:
    """(end, kind) of the identifier written at `start` that a cue in `before` names, or None.

    The longest run of groups that a named scheme accepts wins: "131052-308T" whole, not its
    digits; "6433435F and" without the word after it."""
    kinds = kinds_named(before)
    if not kinds:
        return None
    token = TOKEN.match(text, start)
    if token is None:
        return None
    ends = [m.start() for m in _SEPARATOR.finditer(text, start, token.end())] + [token.end()]
    for end in reversed(ends):
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue  # glued to a word
        value = text[start:end]
        for kind in kinds:
            if is_valid(kind, value):
                return end, kind
    return None
