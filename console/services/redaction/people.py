"""Person names and street addresses: context cues, a shipped gazetteer and street patterns.

Both finders return ``(start, end, kind)`` spans over the text they were given. They are built
to cost little on text that holds no people: names are looked for only once a capitalised word
of the text is a known given name or a cue word ("Dear", "Mr", "my name is") is present, and
addresses are anchored on a street word or a house number before anything else is tried.
"""

from __future__ import annotations

import functools
import itertools
import re
from importlib import resources

from console.services.redaction.compiled import pattern as _compile
from console.services.redaction.street_words import STREET_WORDS, trie_pattern

# Capitals and small letters of Latin-1 and Latin Extended-A (Czech, Polish, Turkish, Baltic...),
# the comma-below Ș and Ț of Romanian (Latin Extended-B), Cyrillic and Greek: a name in those
# scripts is found by its cues (the gazetteer is Latin only).
_UP = (
    "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽȘȚ"
    "Ѐ-ЯҐΆΈ-ΊΌΎΏΑ-ΡΣ-Ϋ"
)
_LO = (
    "a-zß-öø-ÿāăąćĉċčďđēĕėęěĝğġģĥħĩīĭįıĳĵķĸĺļľŀłńņňŉŋōŏőœŕŗřśŝşšţťŧũūŭůűųŵŷźżžſșț"
    "а-џґά-ώ"
)
# Kana and CJK ideographs: a Japanese or Chinese name is its family name and given name, two to
# five of them, with a space between or not ("鈴木 拓真", "中村幹"); found by its cues.
_CJK = "\u3005\u3040-\u30ff\u4e00-\u9fff"
_CJK_FIRST, _CJK_LAST = "\u3005", "\u9fff"
_CJK_NAME = _compile(rf"[{_CJK}]{{1,5}}(?:[ \u3000][{_CJK}]{{1,4}})?(?![{_CJK}\w])")
# One capitalised word: Maria, O'Brien, Jean-Luc, McDonald, Wójcik.
_WORD = rf"[{_UP}](?:[{_LO}]+|['’][{_UP}][{_LO}]+)(?:[{_UP}][{_LO}]+)?(?:-[{_UP}][{_LO}]+)?"
_PARTICLE = (
    r"(?:van der|van den|van de|von der|de la|de los|de las|del|della|degli|van|von|de|da|di"
    r"|du|dos|das|do|le|la|ter|ten|den|der|binti|bin|al|el)"
)
# A run of capitalised words, with middle initials ("John F. Kennedy") and particles between.
_RUN_BODY = rf"{_WORD}(?:[ ](?:[{_UP}]\.[ ])?(?:{_PARTICLE}[ ])?{_WORD}){{0,4}}"
# (Not inside a word, an address, a path or a form value: "email=Jozef_svobodova%40…".)
_MENTION = _compile(_RUN_BODY)
_RUN = _compile(rf"(?<![\w@./\\\-=]){_RUN_BODY}")
_CAPWORD = _compile(rf"[{_UP}][{_LO}]+")
_TITLE_BEFORE = _compile(
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
    r"|naam|kunde|kundin|contact|agent|rep|reports to|manager|line manager|supervisor|next of kin"
    r"|spouse|reviewer|prepared by|issued to|sold to|invoice to|payee|beneficiary|signatory"
    r"|opened by|raised by|submitted by|filed by|closed by|updated by|sent by|on behalf of"
    r"|colleague|driver|courier|attendees|participants|present|cc|bcc|invitees"
    r"|requester|follow-up|meeting w/|call with|name of taxpayer|taxpayer|legal name|full legal name"
    r"|patient name|lieferadresse|deliver to|empfänger|destinataire|destinatario"
)
_STRONG_CUE_WORDS = frozenset(
    ["Hi", "Hello", "Hey", "Dear", "Thanks", "Cheers", "Bonjour", "Hallo", "Hola", "Ciao", "Ola", "Olá", "Beste", "Liebe", "Lieber", "Cher", "Chère", "Estimado", "Estimada", "Gentile", "Caro", "Cara", "Prezado", "Prezada", "Customer", "Client", "Patient", "Applicant", "Tenant", "Employee", "Caller", "Guest", "Passenger", "Agent", "Contact", "Owner", "Assignee", "Recipient", "Sender", "Kunde", "Kundin", "Attn", "Attention", "Driver", "Courier", "Colleague"]
)
_WEAK_CUES = r"from|to|cc|by|with|for|and|ask|tell|call|email|ping|thank|met|meet|per|via|see|let"
_STRONG_BEFORE = _compile(rf"(?:\b(?:{_STRONG_CUES})[,:]?[ ]+)$", re.IGNORECASE)
_WEAK_BEFORE = _compile(rf"(?:\b(?:{_WEAK_CUES})[,:]?[ ]+)$", re.IGNORECASE)
# A sign-off line just before the name ("Best regards,\nMaria Silva").
_SIGNOFF_BEFORE = _compile(
    r"(?:regards|best|thanks|thank you|cheers|sincerely|yours|warmly|saludos|grüße|gruß"
    r"|cordialement|cordiali saluti|groeten|atenciosamente|abraços|--)[,!.]?[ \t]*\r?\n[ \t]*$",
    re.IGNORECASE,
)
# A chat transcript's speaker: "[10:32] Maria Silva: ..." or "Maria: ..." at a line start.
_SPEAKER_BEFORE = _compile(r"(?:^|\n)[ \t]*(?:\[[0-9:./\- ]+\][ \t]*|[0-9:]{4,8}[ \t]+)?$")
# Verbs that follow a person at the start of a sentence ("Maria said ...").
_VERB_AFTER = _compile(
    r"[ ](?:said|says|wrote|writes|asked|asks|called|calls|replied|mentioned|reported|confirmed"
    r"|emailed|phoned|noted|explained|complained|requested|agreed|will|would|is|was|has|had"
    r"|can|could|just|also|from|and [A-Z])\b"
)
_SENTENCE_END = frozenset(".!?\n\r\t\"“”([")


@functools.cache
def _words(name: str) -> frozenset[str]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(text.split())


def anchor_given() -> frozenset[str]:
    """Given names of the first and the other European and Latin-American locales (and Greek):
    these anchor the name search."""
    return _words("given_names.txt")


@functools.cache
def given_names() -> frozenset[str]:
    """Every known given name. The other locales' (Greek, Cyrillic, Icelandic...) are no patterns
    of the main automaton: as such they would make its build, which every `gemops redact` process
    pays, 70 % dearer. The Greek and Cyrillic ones anchor through an automaton of their own
    (_script_anchors); the rest confirm a run that a cue or a layout anchored."""
    return anchor_given() | _words("more_given.txt")


def anchor_surnames() -> frozenset[str]:
    """Surnames of the first locales: these anchor the name search."""
    return _words("surnames.txt")


@functools.cache
def surnames() -> frozenset[str]:
    """Every known surname: confirms a run that something else anchored."""
    return anchor_surnames() | _words("more_surnames.txt")


@functools.cache
def common_words() -> frozenset[str]:
    return frozenset(w.capitalize() for w in _words("common_words.txt"))


def common_given() -> frozenset[str]:
    """Given names that are English words ("Dean", "Hope"): names only after a strong cue."""
    return _words("common_given.txt")


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
    "kundin", "agent", "regards", "--", "opened by", "raised by", "submitted by", "filed by",
    "closed by", "updated by", "sent by", "on behalf of", "colleague", "driver", "courier",
)


def find_names(text: str, at: list[int] | None = None) -> list[tuple[int, int, str | None]]:
    """Spans of person names in ``text``.

    Decided from each anchor (a gazetteer name, a cue word followed by a capital, a capital after
    a lower-case cue, a chat speaker, a sign-off line) outward: the run of capitalised words
    around it is matched once and judged, so the cost follows the people in the text, not its
    size or the number of capitalised words in it.
    """
    if at is None:
        at = anchors(text)[0]
    out: list[tuple[int, int, str | None]] = []
    covered = 0
    size = len(text)
    run_match = _RUN.match
    cue_words = _automaton()[3]
    for p in at:
        if p < covered:
            continue
        q = p
        ch = text[p]
        if not ch.isupper():  # most anchors are a name's capital: the other kinds first
            if ch == "@":  # "@Amy Anderson can you check…", "@鈴木 拓真": a chat mention
                m = _CJK_NAME.match(text, p + 1) or _MENTION.match(text, p + 1)
                if m is not None and not (set(m.group().split(" ")) <= common_words()):
                    covered = m.end()
                    out.append((p + 1, covered, None))
                continue
            if ch == " ":  # "Hilary Green  6:08 AM": a chat export's speaker line
                line = text.rfind("\n", 0, p) + 1
                # A name in Japanese script, or a capitalised run with a known given name or
                # surname in it: not "Build finished" or "Deploy Bot".
                if _CJK_NAME.fullmatch(text, line, p) is not None or (
                    _MENTION.fullmatch(text, line, p) is not None
                    and any(w in given_names() or w in surnames()
                            for w in text[line:p].split(" "))
                ):
                    out.append((line, p, None))
                continue
            if ch == "|":  # "| Name | E-mail |": a Markdown table's header
                covered = _pipe_names(text, p, out)
                continue
            if ch == "`":  # "INSERT INTO `customers` (`id`, `full_name`": an SQL column list
                covered = _sql_names(text, p, out)
                continue
            if ch == "=":  # "first_name=Jo%C3%A3o&": a form field's value, encoded or not
                if (value := _FORM_VALUE.match(text, p + 1)) is not None:
                    out.append((p + 1, value.end(), "form"))
                    covered = value.end()
                continue
            if ch == "\n" and text.startswith(("N:", "FN:"), p + 1):
                # a vCard's "N:Surname;Given;;;" or "FN:Given Surname" line
                covered = _vcard_names(text, p, out)
                continue
            if ch.islower():  # a CSV header naming a name column ("customer_id,full_name,email")
                covered = _csv_names(text, p, out)
                continue
            if ch == ":":  # "Attendees: Ana Lima, Jan Nowak and Li Wei": a label before a list
                covered = _listed_names(text, p + 1, out)
                continue
        if ch in "],-\n":  # speaker "[10:32] Maria", sign-off "Regards,\nMaria" or "Mvh\nØrni"
            q += 1
            while q < size and text[q] in "-,!> \t\r\n":
                q += 1
        elif (
            (w := _CAPWORD.match(text, p)) is not None
            and w.group() in cue_words
            and w.group() not in _TITLES
        ):
            # "Dear Maria", "Spoke with Jan": the name is the next capitalised word.
            q = _after_cue(text, w.end())
            if q < 0:
                continue
        if _CJK_FIRST <= text[q : q + 1] <= _CJK_LAST:  # "Owner: 佐藤香織", "Cheers,\n山田 桃子"
            if (m := _CJK_NAME.match(text, q)) is not None and (
                _strong_before(text, q)
                or _speaker(text, q, m.end())
                or _MAILBOX_AFTER.match(text, m.end()) is not None  # "From: 山本 一郎 <…>"
            ):
                covered = m.end()
                out.append((q, covered, None))
            continue
        nxt = text[q + 1 : q + 2]
        if (
            (nxt == "." or nxt.isupper())
            and (c := _cued_form().match(text, q)) is not None
            and text[max(0, q - 6) : q].rstrip(" \t").endswith((":", "/", "\n", "with"))
            and _strong_before(text, q)
        ):
            # After a cue: "Requester: O. Voutilainen", "Ship to:\nJOSHUA HARRISON",
            # "Follow-up: PUHAKKA Nea": an initial or a surname in capitals opens the name
            # (after a label's colon, a line end or "with": not "EMPLOYEE ONBOARDING FORM").
            covered = c.end()
            out.append((q, covered, None))
            continue
        if (
            text[q : q + 2] in _TITLE_HEADS
            and (t := _TITLE_AT.match(text, q)) is not None
            and (m := run_match(text, t.end())) is not None
        ):
            # "Mr. Okafor", "Customer Ms. Härkönen", "[09:22] Dr. Kubanek", "Mrs. van Dongen":
            # after a title the surname is a name whatever the word ("Ms. Long", "Dr. Day").
            covered = m.end()
            out.append((t.start("name"), covered, None))
            continue
        s = _run_start(text, q)
        m = run_match(text, s)
        if (m is None or m.end() <= q) and s != q:
            m = run_match(text, q)
        if m is None:  # a word in capitals: "NITTI, Maurizio"?
            surname_first = text[q + 1 : q + 2].isupper()
        else:  # a word and a comma: "Nitti, Maurizio"?
            covered = m.end()
            surname_first = (
                text[covered : covered + 1] == "," and text[covered + 2 : covered + 3].isupper()
            )
        if surname_first and (lf := _last_first(text, q, lead := _particles_before(text, q))):
            # "Employee name: NITTI, Maurizio", "Bill to: Nitti, Maurizio": surname first, its
            # particles too ("Requester: de la Mateos, Nazaret").
            out.append((lead, lf, None))
            covered = lf
        elif m is not None:
            _judge(text, m, out)
    return [span for span in out if not _company(text, span[1])]


# The legal form that ends a company's name: 'ACME CORP', 'Müller GmbH', 'Nordic Solutions AB'
# are no person, whatever cue or gazetteer name came before them.
_COMPANY_FORMS = frozenset(
    ["inc", "corp", "corporation", "ltd", "limited", "llc", "llp", "plc", "gmbh", "ag",
     "kg", "bv", "nv", "sa", "sas", "sarl", "spa", "srl", "ab", "asa", "oy", "oyj", "a/s", "aps",
     "pty", "sp. z o.o", "s.a", "s.l", "sl", "kk", "pte", "bhd", "group", "holdings", "gbr"]
)
_LEGAL_FORM = _compile(r"[\w./]*(?:[ ]+(?:&[ ]+)?([A-Za-z][\w./]*)(?![\w\-]))?")


def _company(text: str, end: int) -> bool:
    """Whether a name found ending at `end` is a company's: its last word (read on to the end of
    the word the span may stop inside, 'Müller Gmb|H') or the word after it is a legal form."""
    m = _LEGAL_FORM.match(text, end)
    assert m is not None  # (the pattern matches the empty string)
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "./"):
        start -= 1
    last = (text[start:end] + text[end : m.start(1) if m.group(1) else m.end()]).strip()
    words = {last.lower().rstrip("."), (m.group(1) or "").lower().rstrip(".")}
    return not words.isdisjoint(_COMPANY_FORMS)


# The first two letters of the titles below: most names are turned away without a regex.
_TITLE_HEADS = frozenset(["Mr", "Ms", "Mx", "Mi", "Dr", "Pr", "He", "Fr", "Mm", "Ml", "Sr", "Si",
                          "Do", "Dh", "Me", "Sh", "Sm", "Se"])
# A title, then where the name starts (at its particles, if any); _RUN reads the name.
_TITLE_AT = _compile(
    r"(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Sig\.ra|Signora|Signor|Sig|Dott"
    r"|Dhr|Mevrouw|Mevr|Meneer|Shri|Smt|Fru|Señora|Señor|Senhora|Senhor)"
    rf"\.?[ ]+(?P<name>(?:{_PARTICLE}[ ])*)"
)
# A surname in capitals ("NITTI", "VAN RIJTHOVEN", "O'NEILL") or written as usual, a comma, then
# the given names: the order of forms, rosters and bibliographies.
_CAPS = rf"[{_UP}]{{2,}}(?:['’\-][{_UP}]{{2,}})?"


@functools.cache
def _last_first_pattern() -> re.Pattern[str]:
    # Compiled on first use: its letter classes take 20 ms to compile, and few texts need it.
    return _compile(
        rf"(?P<last>(?:{_CAPS}|{_WORD})(?:[ ](?:{_CAPS}|{_WORD})){{0,2}}),[ ]"
        rf"(?P<first>{_WORD})(?:[ ]{_WORD})?(?![\w@])"
    )


@functools.cache
def _cued_form() -> re.Pattern[str]:
    """An initial and a surname ("C. Van den Bouckaert"), or a name whose surname, or every
    word, is in capitals ("MORRICONE Sandro", "ÍSIS DE DA LUZ"); read only after a cue."""
    return _compile(
        rf"[{_UP}]\.[ ](?:(?i:{_PARTICLE})[ ])?{_RUN_BODY}"
        rf"|{_CAPS}(?:[ ]{_CAPS}){{0,3}}[ ]{_WORD}(?:[ ]{_WORD})?(?![\w@:])"
        rf"|{_CAPS}(?:[ ]{_CAPS}){{1,3}}+(?![\w@:]|,[ ][{_UP}])"  # (not "VAN DIJK, Oriel")
    )


def _last_first(text: str, q: int, lead: int) -> int | None:
    """End of a "SURNAME, Given" name at `q` (its particles from `lead`), or None. A surname in
    capitals needs a label before it or a known given name after it; one in ordinary case needs
    both a label and a known given name or surname (else "Customer: Acme, Inc" would be a
    person)."""
    m = _last_first_pattern().match(text, q)
    if m is None:
        return None
    last, first = m.group("last"), m.group("first")
    known = first in given_names() or last.split(" ")[-1].capitalize() in surnames()
    if last[1:2].isupper():
        return m.end() if known or _strong_before(text, lead) else None
    return m.end() if known and _strong_before(text, lead) else None


def _particles_before(text: str, q: int) -> int:
    """Where the lower-case particles right before `q` start ("de la ", "van "), else `q`."""
    s = q
    for _ in range(3):
        if s < 2 or text[s - 1] != " ":
            break
        i = s - 1
        while i > 0 and text[i - 1].isalpha():
            i -= 1
        if text[i : s - 1] not in _PARTICLES:
            break
        s = i
    return s


def _vcard_names(text: str, p: int, out: list[tuple[int, int, str | None]]) -> int:
    """The names on the vCard line after `p` (its N or FN property); where the line ends."""
    colon = text.find(":", p)
    end = text.find("\n", p + 1)
    if not _in_vcard(text, p):
        return p + 1
    end = len(text) if end < 0 else end
    end -= text[end - 1 : end] == "\r"
    if colon < 0 or colon > end:
        return end
    if text[p + 1] == "F":
        if colon + 1 < end:
            out.append((colon + 1, end, "vcard"))
        return end
    pos = colon + 1
    for part in text[colon + 1 : end].split(";")[:2]:  # family name; given name
        if part.strip():
            out.append((pos, pos + len(part), "vcard"))
        pos += len(part) + 1
    return end


def _listed_names(text: str, pos: int, out: list[tuple[int, int, str | None]]) -> int:
    """The names listed after a label ("Attendees:", "**Cc:**") on its line, separated by commas,
    semicolons or "and", or one a bullet on the lines below it ("Attendees:\n- Ana Lima
    (Legal)"); each may carry a note in brackets ("(on leave)"). Where the list ends."""
    common = common_words()
    item = _list_item()
    while pos < len(text) and text[pos] == "*":  # Markdown bold: "**Attendees:** Ana Lima"
        pos += 1
    if (bullet := _BULLET.match(text, pos)) is not None:
        while bullet is not None and (m := item.match(text, bullet.end())) is not None:
            if m.end() < len(text) and text[m.end()] not in "\r\n":
                break  # a bullet that goes on is a sentence, not a name
            out.append((m.start("name"), m.end("name"), None))
            pos = m.end()
            bullet = _BULLET.match(text, pos)
        return pos
    while (m := item.match(text, pos)) is not None:
        name = m.group("name")
        if name.split(" ", 1)[0] not in common or name.split(" ")[-1] not in common:
            out.append((m.start("name"), m.end("name"), None))
        pos = m.end()
        if (sep := _LIST_SEPARATOR.match(text, pos)) is None:
            break
        pos = sep.end()
    return pos


@functools.cache
def _list_item() -> re.Pattern[str]:
    """One person in a list: a run of capitalised words, or an initial and a surname, a name with
    its surname or every word in capitals, or in Japanese or Chinese script; then maybe a note in
    brackets."""
    return _compile(
        rf"[ \t]*(?P<name>{_CJK_NAME.pattern}|[{_UP}]\.[ ]{_RUN_BODY}"
        rf"|{_CAPS}(?:[ ]{_CAPS}){{0,2}}[ ]{_WORD}(?![\w])"
        rf"|{_CAPS}(?:[ ]{_CAPS}){{1,3}}+(?![\w])|{_RUN_BODY})(?:[ ]\([^)\n]{{0,40}}\))?"
    )


# The end of a label's line and the next line's bullet.
_BULLET = _compile(r"[ \t]*\r?\n[ \t]*[-*•][ ]")
_LIST_SEPARATOR = _compile(r"[ ]*(?:[,;/]|[ ](?:and|&|und|et|y|e|en|og|och|ja|i)(?=[ ]))[ ]*")


def _csv_names(text: str, p: int, out: list[tuple[int, int, str | None]]) -> int:
    """Names in the name columns of the CSV whose header line holds `p`; where the table ends.

    The header names the columns ("customer_id,full_name,email"); each following line up to one
    with another number of fields (a blank line has one) is a row. A field is a name when it is
    a run of capitalised words or "SURNAME, Given" in quotes: the column says it is a person,
    whatever the locale.
    """
    size = len(text)
    start = text.rfind("\n", 0, p) + 1
    end = text.find("\n", p)
    end = size if end < 0 else end
    columns = [c.strip().strip('"').lower() for c in text[start:end].split(",")]
    wanted = [i for i, c in enumerate(columns) if c in _NAME_COLUMNS]
    if not wanted or not all(_COLUMN_NAME.fullmatch(c) for c in columns):
        return end  # a sentence with a comma ("the customer, Maria"), not a header
    pos = end + 1
    while pos < size:
        end = text.find("\n", pos)
        end = size if end < 0 else end
        fields = _csv_fields(text, pos, end)
        if len(fields) != len(columns):
            break
        for i in wanted:
            a, b = fields[i]
            if text[a : a + 1] == '"':
                a, b = a + 1, b - 1
            m = _RUN.fullmatch(text, a, b) or _last_first_pattern().fullmatch(text, a, b)
            if m is not None and text[a:b] not in common_words():
                out.append((a, b, None))
        pos = end + 1
    return end


def _pipe_names(text: str, p: int, out: list[tuple[int, int, str | None]]) -> int:
    """Names in the name columns of the Markdown table whose header line holds `p` ("| Name |
    E-mail |"), each cell whatever its form ("A. Pałyga", "MOURA Carolina", "伊藤直人"): the
    column says it is a person. Where the table ends."""
    size = len(text)
    start = text.rfind("\n", 0, p) + 1
    end = text.find("\n", p)
    end = size if end < 0 else end
    header = _pipe_cells(text, start, end)
    wanted = [i for i, (a, b) in enumerate(header)
              if text[a:b].lower().replace(" ", "_") in _NAME_COLUMNS]
    pos = end + 1
    rule = text.find("\n", pos)
    rule = size if rule < 0 else rule
    if not wanted or _PIPE_RULE.fullmatch(text, pos, rule) is None:
        return end
    pos = rule + 1
    common = common_words()
    while pos < size and text[pos] == "|":
        end = text.find("\n", pos)
        end = size if end < 0 else end
        cells = _pipe_cells(text, pos, end)
        if len(cells) != len(header):
            break
        for i in wanted:
            a, b = cells[i]
            if a < b and text[a:b] not in common and any(c.isalpha() for c in text[a:b]):
                out.append((a, b, None))
        pos = end + 1
    return pos


def _pipe_cells(text: str, pos: int, end: int) -> list[tuple[int, int]]:
    """The (start, end) of each cell's text, spaces aside, in the table row text[pos:end]."""
    line = text[pos:end].rstrip("\r ")
    bars = [pos + i for i, c in enumerate(line) if c == "|"]
    cells = []
    for a, b in itertools.pairwise(bars):
        a += 1
        while a < b and text[a] == " ":
            a += 1
        while b > a and text[b - 1] == " ":
            b -= 1
        cells.append((a, b))
    return cells


def _sql_names(text: str, p: int, out: list[tuple[int, int, str | None]]) -> int:
    """Names in the name columns of the SQL INSERT whose column list holds `p` ("INSERT INTO
    `customers` (`id`, `full_name`, …) VALUES\n(1,'Ana Lima',…),"), each quoted value of that
    column whatever its form. Where the statement's rows end."""
    opening = text.rfind("(", max(0, p - 300), p)
    closing = text.find(")", p)
    if opening < 0 or closing < 0 or "INSERT" not in text[max(0, opening - 80) : opening].upper():
        return p + 1
    columns = [c.strip(" `\"[]").lower() for c in text[opening + 1 : closing].split(",")]
    wanted = {i for i, c in enumerate(columns) if c in _NAME_COLUMNS}
    if (values := _SQL_VALUES.match(text, closing + 1)) is None:
        return closing + 1
    pos = values.end()
    common = common_words()
    while (row := _SQL_ROW_OPEN.match(text, pos)) is not None:
        pos, index = row.end(), 0
        while (field := _SQL_FIELD.match(text, pos)) is not None:
            a, b = field.span("value")
            if (
                index in wanted and text[a : a + 1] == "'" and b - a > 2
                and text[a + 1 : b - 1] not in common
            ):
                out.append((a + 1, b - 1, None))
            pos, index = field.end(), index + 1
            if field.group("sep") == ")":
                break
        if field is None:
            break
    return pos


_SQL_VALUES = _compile(r"[ ]*VALUES[ \t]*", re.IGNORECASE)
# A row's opening bracket (after the previous row's comma), and one value with what follows it.
_SQL_ROW_OPEN = _compile(r"[ \t]*,?[ \t]*\r?\n?[ \t]*\(")
_SQL_FIELD = _compile(r"[ ]*(?P<value>'(?:[^'\\\n]|''|\\.)*'|[^,()'\n]*)[ ]*(?P<sep>[,)])")


# The rule under a Markdown table's header: "|---|:---:|".
_PIPE_RULE = _compile(r"[ ]*\|[ \-:|]+\r?")


def _csv_fields(text: str, pos: int, end: int) -> list[tuple[int, int]]:
    """The (start, end) of each field of the CSV row text[pos:end]."""
    fields = []
    while True:
        m = _CSV_FIELD.match(text, pos, end)
        assert m is not None  # the pattern matches the empty string
        fields.append((pos, m.end()))
        pos = m.end()
        if pos >= end or text[pos] != ",":
            return fields
        pos += 1


# A column's name in a header: "full_name", "Customer ID", "e-mail".
_COLUMN_NAME = _compile(r"[a-z][a-z0-9_ \-]{0,30}")
# One CSV field: quoted (with doubled quotes inside) or up to the next comma.
_CSV_FIELD = _compile(r'"(?:[^"]|"")*"|[^,"\r]*')
_NAME_COLUMNS = frozenset(
    ["name", "full_name", "fullname", "full name", "customer", "customer_name", "client",
     "client_name", "contact", "contact_name", "employee", "employee_name", "first_name",
     "last_name", "given_name", "surname", "family_name", "account_holder", "cardholder",
     "recipient", "sender", "owner", "assignee", "agent", "author", "patient", "display_name"]
)


def _after_cue(text: str, i: int) -> int:
    """Where the capitalised word after a cue starting before `i` begins (up to three lower-case
    words of the cue are skipped); -1 when none follows."""
    size = len(text)
    for _ in range(4):
        while i < size and text[i] in ".,:/ \t\r\n":
            i += 1
        if i >= size:
            return -1
        if text[i].isupper() or _CJK_FIRST <= text[i] <= _CJK_LAST:
            return i
        while i < size and text[i].isalpha():
            i += 1
    return -1


def _run_start(text: str, q: int) -> int:
    """Walk back over up to three capitalised words (or initials, particles) glued to `q`."""
    s = q
    for _ in range(3):
        if s < 2 or text[s - 1] != " ":
            break
        i = s - 1
        while i > 0 and (text[i - 1].isalpha() or text[i - 1] in "'’.-"):
            i -= 1
        word = text[i : s - 1]
        if not word or not (word[0].isupper() or word in _PARTICLES):
            break
        if word[0].isupper() and (
            (word in common_words() and word not in given_names())
            or (word[-1] == "." and len(word) > 2)
            or word in _TITLES
        ):
            break  # "Dear", "Customer", "Mr.": a cue before the run, not part of it
        s = i
    return s


_PARTICLES = frozenset(w for p in _PARTICLE[3:-1].split("|") for w in p.split())


def _judge(text: str, m: re.Match[str], out: list[tuple[int, int, str | None]]) -> None:
    given = given_names()
    common, last_names = common_words(), surnames()
    words = m.group().split(" ")
    start, end = m.start(), m.end()
    # Cue words glued to the run ("Dear Maria", "Customer Jane Doe") are cues, not names; a name
    # that is a word too opens the name ("Dear Ivy Kate Niermann"), as does any other word before
    # a known surname ("[09:31] Per Sjöholm:").
    strong = False
    while words and (
        # A strong cue word that is a surname too ("Driver Sipho Dlamini"), unless a given name.
        (words[0] in _STRONG_CUE_WORDS and words[0] not in given and len(words) > 1)
        or (
            words[0] in common
            and words[0] not in given
            and words[0] not in common_given()
            and (words[0] in _CUE_WORDS or len(words) == 1 or words[1] not in last_names)
        )
    ):
        strong = strong or words[0] in _STRONG_CUE_WORDS
        start += len(words.pop(0)) + 1
    if not words:
        return
    if (
        len(words) > 2
        and words[1] in given
        and words[0] not in given
        and _sentence_initial(text, start)
    ):
        # "Yesterday Gytė Kavaliauskienė called": a capitalised word opening the sentence.
        start += len(words.pop(0)) + 1
    first = words[0]
    named = len(words) > 1 and words[-1] not in common
    if len(words) == 1 and first in _CALENDAR and _by_digit(text, start, end):
        return  # "On Tue, 4 Mar 2025": a date, though "Mar" is a given name too
    if first in common and not named and first not in common_given():
        return
    strong = (
        strong
        or _strong_before(text, start)
        or _speaker(text, start, end)
        or (text[end : end + 2] in _MAILBOX_OPEN and _MAILBOX_AFTER.match(text, end) is not None)
    )
    if (
        strong
        and len(words) == 1
        and first not in given
        and first not in last_names
        and m.group().split(" ", 1)[0] in _ROLE_WORDS
        and text[end : end + 1] in ("", "\n", "\r")
    ):
        # A cue word before one unknown word is a heading: "Patient Services", "Client
        # Relations" under a signature.
        return
    if strong and (first not in common or named or first in common_given()):
        # After a cue a name may be a word too: "Thanks Dean,", "Emergency contact: Iris Reimes".
        out.append((start, end, None))
    elif first in given or ("-" in first and first.split("-", 1)[0] in given):  # "Jamie-Leigh"
        if (
            named
            or not _sentence_initial(text, start)
            or _VERB_AFTER.match(text, end)
            or _last_words(text, start, 1) in _WEAK_SET
            or _signature_line(text, start, end)
        ):
            out.append((start, end, None))
    elif named and first not in common and (words[1] in last_names or words[-1] in last_names):
        out.append((start, end, None))


_CUE_WORDS = _CUE_TOKENS | _STRONG_CUE_WORDS
# Cue words that name a role, not a greeting: before one unknown word at a line's end they head
# a department ("Patient Services").
_ROLE_WORDS = frozenset(["Customer", "Client", "Patient", "Applicant", "Tenant", "Employee",
                         "Caller", "Guest", "Passenger", "Agent", "Contact", "Owner"])
_CALENDAR = frozenset(
    ["Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Mon",
     "Tue", "Tues", "Wed", "Thu", "Thur", "Thurs", "Fri", "Sat", "Sun"]
)
# A mailbox after a display name: "From: Maria Silva <maria@example.com>", "On ..., X <x@y> wrote".
_MAILBOX_AFTER = _compile(r'"?[ ]<[^\s<>@]{1,64}@[^\s<>]{1,255}>')
_MAILBOX_OPEN = frozenset([" <", '" '])


def _signature_line(text: str, start: int, end: int) -> bool:
    """A name alone on the last line of a message, after a blank line ("…checklist.\n\nAlice")."""
    return text[max(0, start - 2) : start] == "\n\n" and (
        text[end : end + 2] in ("", "\n", "\n\n", "\r\n") and not text[end : end + 3].strip()
        and (end + 3 >= len(text) or text[end + 1 : end + 2] in "\r\n")
    )


def _by_digit(text: str, start: int, end: int) -> bool:
    """A digit right before or after the word, a space apart at most ("4 Mar", "Mar 2025")."""
    return any(c in _DIGITS for c in text[max(0, start - 2) : start] + text[end : end + 2])


_STRONG_SET = frozenset(c.rstrip(".") for c in _STRONG_CUES.replace("[aá]", "a").split("|")) | {
    "olá", "estimado", "estimada", "caro", "cara", "prezado", "prezada", "attn", "ola",
}
_WEAK_SET = frozenset(_WEAK_CUES.split("|"))
_TITLES = frozenset(
    ["Mr", "Mrs", "Ms", "Mx", "Miss", "Dr", "Prof", "Sir", "Dame", "Madam", "Herr", "Frau", "Mme", "Mlle", "M", "Sr", "Sra", "Srta", "Sig", "Sig.ra", "Signor", "Signora", "Dhr", "Mevr", "Dott", "Shri", "Smt", "Meneer", "Mevrouw", "Fru", "Señor", "Señora", "Senhor", "Senhora"]
)
# Sign-offs of the other languages, often on a line of their own without a comma ("Mvh").
_SIGNOFFS_WITHOUT_COMMA = (
    "mvh", "med venlig hilsen", "venlig hilsen", "vennlig hilsen", "med vänliga hälsningar",
    "vänliga hälsningar", "hälsningar", "met vriendelijke groet", "vriendelijke groeten",
    "mit freundlichen grüßen", "viele grüße", "pozdrawiam", "z poważaniem", "s pozdravem",
    "saygılarımla", "ystävällisin terveisin", "terveisin", "με εκτίμηση", "atentamente",
    "un saludo", "distinti saluti", "cumprimentos", "cordialmente", "bien à vous",
)
_SIGNOFFS = ("regards", "best", "thanks", "thank you", "cheers", "sincerely", "yours", "warmly",
             "saludos", "grüße", "gruß", "cordialement", "cordiali saluti", "groeten",
             "atenciosamente", "abraços", "--", "signed", *_SIGNOFFS_WITHOUT_COMMA)


def _last_words(text: str, start: int, n: int) -> str:
    """The `n` words before `start` on its line, lower-cased, without trailing ',' or ':'."""
    seg = text[max(0, start - 40) : start]
    if "\n" in seg:
        seg = seg.rsplit("\n", 1)[1]
    words = seg.rstrip(" ,:").lower().split()
    return " ".join(words[-n:])


def _strong_before(text: str, start: int) -> bool:
    """A title, a strong cue phrase or a sign-off line right before `start`."""
    seg = text[max(0, start - 40) : start]
    line = seg.rsplit("\n", 1)
    if len(line) == 2 and not line[1].strip(" \t>"):
        # The name opens its line (or its quoted line, "> "): was the line before a sign-off
        # ("Best regards,") or a label ("SHIP TO:", "Customer:")?
        previous = line[0].rstrip(" \t\r\n,!.").lower()  # a blank line may come between
        if previous.endswith(_SIGNOFFS) and not previous.endswith("---"):
            return True  # (a Markdown rule, "---", is no signature's "-- ")
        label = previous.rsplit("\n", 1)[-1].strip(" \t>")
        # "Ship to:", or a label in capitals without its colon ("DELIVER TO").
        return (label.endswith(":") or text[start - len(label) - 1 : start].isupper()) and (
            label.rstrip(": ") in _STRONG_SET)
    seg = line[-1]
    if seg.endswith('"'):
        # A JSON value under a key that holds a person: {"user": "Maria Silva"}.
        key = seg[:-1].rstrip(" ")
        if not key.endswith('":'):
            return False
        return key[:-2].rsplit('"', 1)[-1].lower() in _NAME_KEYS
    if not seg.endswith(" "):
        return False
    words = seg.split()
    if not words:
        return False
    if words[-1].rstrip(".") in _TITLES:
        return True
    words = seg.rstrip(" ,:").lower().split()
    for n in (1, 2, 3):
        # Quotes and brackets before a cue are no part of it: {"text": "Thanks Maria"}.
        if len(words) >= n and " ".join(words[-n:]).lstrip(_OPENERS) in _STRONG_SET:
            return True
    return False


_OPENERS = "\"“(>["
# JSON keys whose string value is a person.
_NAME_KEYS = frozenset(
    ["user", "username", "name", "full_name", "fullname", "display_name", "customer",
     "customer_name", "client", "author", "sender", "from", "recipient", "to", "contact",
     "assignee", "owner", "agent", "speaker", "first_name", "last_name", "surname", "given_name",
     "family_name", "employee", "patient", "requester", "reporter"]
)


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

_LATIN_WORDS: tuple[str, ...] = (
    # Spanish
    "Calle", "C/", "C.", "Avenida", "Avda.", "Av.", "Plaza", "Pza.", "Paseo", "Camino", "Carrer",
    "Ronda", "Carretera", "Travesía", "Callejón", "Pasaje", "Glorieta", "Rambla", "Vial",
    "Acceso", "Cañada", "Urbanización", "Alameda", "Cuesta", "Senda", "Bajada", "Subida",
    # Italian
    "Via", "Viale", "Piazza", "Piazzale", "Corso", "Largo", "Vicolo", "Strada", "Contrada",
    "Borgo", "Stretto", "Incrocio", "Canale", "Rotonda", "Piazzetta", "Lungomare", "Vico",
    "Salita", "Galleria", "Quartiere",
    # Portuguese / Brazilian
    "Rua", "Travessa", "Praça", "Rodovia", "Estrada", "Avenida", "Pátio", "Esplanada", "Estação",
    "Feira", "Lago", "Área", "Loteamento", "Colônia", "Quadra", "Condomínio", "Sítio",
    "Recanto", "Conjunto", "Chácara", "Fazenda", "Jardim", "Ladeira", "Morro", "Núcleo",
    "Parque", "Passarela", "Residencial", "Setor", "Trecho", "Vereda", "Via", "Viaduto",
    "Vila", "Distrito", "Favela", "Lagoa", "Aeroporto", "Campo", "Rampa", "Vale", "Viela",
    "Trevo", "Praia", "Pasadizo",
    # Mexican
    "Calzada", "Cerrada", "Privada", "Prolongación", "Andador", "Retorno", "Circuito",
    "Circunvalación", "Periférico", "Corredor", "Peatonal", "Ampliación", "Continuación",
)
_LATIN_SET = frozenset(w.rstrip(".") for w in _LATIN_WORDS) | frozenset(STREET_WORDS)
_STREET_WORDS_EN = trie_pattern(STREET_WORDS)
# Particles inside a place name ("Rothenburg ob der Tauber", "Bergen aan Zee", "Ramos das
# Flores"); the Portuguese, Spanish and Italian ones may open it too ("da Mota", "de la Vega").
_PARTICLES_CITY = (
    r"(?:da|de|do|dos|das|del|della|di|le|la|les|sur|am|an|der|den|im|en|y|e|ob|aan|op|bei"
    r"|upon|on)"
)
_CITY_LEAD = r"(?:(?:da|de|do|dos|das|del|della|di|la)[ ])"
# A word of a place name: "Málaga", "West-Terschelling", "Rennes-la-Forêt", "St.".
_CITY_WORD = rf"[{_UP}][{_LO}'’.]+(?:-[{_UP}{_LO}][{_LO}'’.]*)*"
_CITY = (
    rf"{_CITY_LEAD}?{_CITY_WORD}(?:[ ](?:{_PARTICLES_CITY}[ ]){{0,2}}{_CITY_WORD}){{0,3}}"
    rf"(?![\w'’:])|[A-Z]{{2}}(?![\w])"
)
# A place name in capitals, as Australian and French labels print it ("NORTH HUNTER",
# "SAINTE CHARLOTTE-SUR-MER"): only after a postcode or before a state, never alone.
# (Latin-1 capitals: the full class costs milliseconds to compile at each use.)
_CAPS_WORD = r"[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’.]+(?:-[A-ZÀ-ÖØ-Þ]+)*"
_CITY_CAPS = rf"{_CAPS_WORD}(?:[ ]{_CAPS_WORD}){{0,3}}"
# A country on the last line of a letter block.
_COUNTRY = (
    r"(?:USA|U\.S\.A\.|United States|UK|United Kingdom|Deutschland|Germany|France|España|Spain"
    r"|Italia|Italy|Nederland|Netherlands|The Netherlands|Brasil|Brazil|India|Japan|日本"
    r"|Australia|Österreich|Austria|Schweiz|Suisse|Switzerland|Belgique|België|Belgium"
    r"|Portugal|México|Mexico|Canada|Ireland|New Zealand)(?![\w])"
)
_POSTCODE = (
    r"[0-9]{5}(?:-[0-9]{3,4}|[0-9]{3})?"  # US ZIP(+4), DE/FR/ES/IT, BR CEP (with its dash or not)
    r"|[A-Z]{1,2}[0-9][A-Z0-9]?[ ]?[0-9][A-Z]{2}"  # UK
    r"|[0-9]{4}[ ]?[A-Z]{2}(?![A-Za-z])"  # NL
    r"|[0-9]{3}-[0-9]{4}|〒[0-9]{3}-[0-9]{4}"  # JP
    r"|[0-9]{3}[ ]?[0-9]{3}|[0-9]{4}"  # IN PIN, AU/NL/BE
    r"|[A-Z][0-9][A-Z][ ][0-9][A-Z][0-9]"  # CA
    r"|[AC-FHKNPRTV-Y][0-9][0-9W][ ][0-9AC-FHKNPRTV-Y]{4}"  # IE Eircode
    r"|[A-Z][0-9]{4}[A-Z]{3}|\([0-9]{4}\)"  # AR: CPA, or the old code in brackets
    r"|[A-Z]{1,2}-[0-9]{4,5}"  # a country letter before the code: FL-9486
)
_HOUSE_NUMBER = r"[0-9]{1,5}[A-Za-z]?(?:[-/][0-9]{1,4}){0,2},?(?:[ ]|\r?\n)"
_UNIT_WORDS = r"Flat|Studio|Suite|Unit|Apt|Apartment|Level|Lot|Shop|H\.No|No|House"
_STATE = r"(?:NSW|VIC|QLD|TAS|ACT|[A-Z]{2})(?![\w])"
_UNIT = (
    r"(?:,?[ ](?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Piso|Étage|Wohnung|Apto|Bloco"
    r"|Sala|Interno|Int|Bus|Bte|piso|depto|dpto|apto|bus|bte)\.?[ ]?#?[0-9A-Za-z\-]+"
    r"|[ ][0-9]{1,2}[°º][ ][A-Z](?![\w]))"  # "piso 3 depto B", "2° A" (AR)
)
_TAIL = _compile(
    rf"{_UNIT}{{0,2}}(?:(?:,[ ]?|[ ]-[ ]|[ ]{{1,2}}|\r?\n)(?:(?:{_POSTCODE})(?![\w\-])"
    rf"(?:[ ]{{1,2}}(?:{_CITY}|{_CITY_CAPS}(?![\w'’:])))?(?:[ ]\([A-Z]{{2}}\))?"
    rf"|{_CITY_CAPS},?[ ]{_STATE}(?:,?[ ](?:{_POSTCODE})(?![\w\-]))?"
    rf"|(?:{_CITY})(?:,?[ ]{_STATE})?(?:,?[ ](?:{_POSTCODE})(?![\w\-]))?"
    rf"|{_COUNTRY})){{0,4}}"
)
# Where an address starts: a house number before a street, or a street word before a number.
_ADDRESS = _compile(
    # US, UK, AU, IN, JP (romanised): 221B Baker Street, 1600 Amphitheatre Pkwy, 1-2-3 Shibuya
    # A unit may come first ("Flat 49z", "Suite 748", "H.No. 26"), and UK/IN labels put the
    # street on the next line ("Studio 9\nSanders Summit", "57/21\nKant Road").
    rf"(?<![\w.,/\-])(?P<num>(?:(?:{_UNIT_WORDS})\.?[ ]?[0-9]{{1,5}}[A-Za-z]?,?(?:[ ]|\r?\n)"
    rf"(?:{_HOUSE_NUMBER})?|{_HOUSE_NUMBER})"
    rf"(?:(?:[NSEW]|North|South|East|West)\.?[ ])?(?:[{_UP}0-9][\w'’\-]*\.?,?[ ]){{0,3}}"
    rf"(?:{_STREET_WORDS_EN})\.?)(?![\w])"
    # DE, NL, AT, CH: Hauptstraße 5, Keizersgracht 123-2
    r"|(?<=[a-zäöüß])(?P<suffix>(?:straße|strasse|str\.|weg|allee|platz|gasse"
    r"|ring|damm|ufer|chaussee|laan|straat|gracht|plein|kade|singel|dijk|steeg|markt|dreef|hof"
    r"|boulevard|pad|park|baan|veld|wal|erf|burg|berg|pfad|steig|graben|hain|tal)"
    r"[ ][0-9]{1,4}[a-zA-Z]?(?:[-/][0-9]{1,4})?)(?![\w])"
    # "Kenan-Dippel-Straße 7", "Brit-Renner-Ring 8/3": a hyphenated name before the street type
    r"|(?<=[a-zäöüß]-)(?P<hyphen>(?:Straße|Strasse|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer"
    r"|Chaussee|Pfad|Steig|Graben|Markt)[ ][0-9]{1,4}[a-zA-Z]?(?:[-/][0-9]{1,4})?)(?![\w])"
    # FR: 12 bis rue de la Paix; ES/IT/BR/PT: Calle Mayor 5, Via Roma, 10, Rua Augusta 1500
    r"|(?<![\w\-])(?P<fr>[0-9]{1,4}(?:[ ]?(?:bis|ter|[A-B]))?,?[ ](?:rue|avenue|av\.|boulevard"
    rf"|bd|place|chemin|allée|impasse|quai|route|cours|square)[ ](?:[\w'’\-]+[ ]){{0,4}}?"
    rf"[{_UP}][\w'’\-]*)"
    rf"|(?<![\w\-])(?P<latin>{trie_pattern(_LATIN_WORDS)}[ ](?:[\w'’\-.]+[ ]){{0,5}}?"
    r"[\w'’\-.]+,?[ ](?:n[º°o]\.?[ ]?)?[0-9]{1,5}[A-Za-z]?(?:[ ]?[º°ª])?)(?![\w])"
)
# Japanese: prefecture, municipality and block (1丁目5番18号, 1-5-18), after an optional 〒 code.
JP_PREFECTURES = ["北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"]
_JA = "\u3005\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f\uff21-\uff3a\uff41-\uff5a"
_JA_NUM = "0-9\uff10-\uff19"
_JP_ADDRESS = _compile(
    rf"(?:〒?[0-9]{{3}}-[0-9]{{4}}(?:[ \u3000]|\r?\n)?)?"  # the code, on its own line or not
    rf"(?:{'|'.join(JP_PREFECTURES)})[{_JA}]{{1,24}}?"
    rf"[{_JA_NUM}]+(?:丁目|番地?|号|[-－ー])(?:[{_JA_NUM}]+(?:番地?|号|[-－ー])?){{0,3}}"
    rf"(?:[ \u3000]?[{_JA}A-Za-z0-9]{{1,20}}?[{_JA_NUM}]+(?:号室|階|F))?"
)
# A postcode and a city after a comma or on the next line: "…, 45568 Freital", "…, 1689 EE
# Lettele", "…, 83408-172 Martins das Flores" (BR CEP), "…\n4789-356 Porto" (PT), "…, 92-126 Łódź"
# (PL), "…, 682 62  VÄSTERÅS" (SE, CZ, GR), "…\n(3676) Salta" and "…\nC1167CKT CABA" (AR),
# "…, FL-9486 Triesen", "…\n32175 Kadıköy/İstanbul", "…\n04468 Perugia (LE)". Four digits that
# read as a year ("March 3, 2025 Maria") are no postcode.
_POSTAL_TAIL = _compile(
    rf"(?:[ ]?,[ ]|\r?\n)(?P<pc>[0-9]{{5}}-[0-9]{{3}}|[0-9]{{4}}-[0-9]{{3}}|[0-9]{{2}}-[0-9]{{3}}"
    rf"|[0-9]{{8}}|[0-9]{{5,6}}|[0-9]{{3}}[ ][0-9]{{2}}|[0-9]{{4}}[ ]?[A-Z]{{2}}(?![\w])"
    rf"|(?!19|20)[0-9]{{4}}|\([0-9]{{4}}\)|[A-Z][0-9]{{4}}[A-Z]{{3}}|[A-Z]{{1,2}}-[0-9]{{4,5}})"
    rf"[ ]{{1,2}}(?:(?:{_PARTICLES_CITY}[ ]){{1,2}}|'s-)?[{_UP}][\w'’\-]*(?:/[{_UP}][\w'’\-]*)?"
    rf"(?:[ ](?:{_PARTICLES_CITY}[ ]){{0,2}}[{_UP}](?:[\w'’\-]+|(?!\.))){{0,3}}"
    rf"(?:[ ][A-Z]\.[A-Z]\.)?"  # "Bogotá D.C."
    rf"(?:[ ]-[ ][A-Z]{{2}}(?![\w])|[ ]\([A-Z]{{2}}\))?"
)
# A house number ("12", "39B", "1638/56", "88-81", "nº 5") or a floor ("8.º", "2°", "4.", "H0201").
_HOUSE = _compile(
    r"(?:(?:n[º°o]\.?)?[0-9]{1,5}[A-Za-z]?(?:[-/][0-9]{1,4})?(?:-[IVX]{1,4})?"
    r"|[0-9]{1,2}\.?[º°ª]?\.?|H[0-9]{4}),?"
)
_STREET_LOWER = frozenset(
    ["rue", "avenue", "av.", "boulevard", "bd", "place", "chemin", "allée", "impasse", "quai", "route", "cours", "square", "via", "calle", "rua", "travessa", "estrada"]
)
_UNIT_TOKENS = frozenset(
    ["Apt", "Apt.", "Apto", "Apto.", "Piano", "Appartamento", "Puerta", "Piso", "Bloco", "Sala", "Interno", "Int.", "Scala", "Stock", "Etage", "Wohnung", "Bus", "Bte", "Esc.", "Escalera", "Casa", "Lote"]
)
_PARTICLE_TOKENS = frozenset(_PARTICLES_CITY[3:-1].split("|")) | {
    "d'", "l'", "van", "von", "del", "des", "du", "dei", "degli", "delle",
}
_LATIN_STARTS = frozenset(w.rstrip(".") for w in _LATIN_WORDS)
# Small words inside a street line: Nordic, Danish and Latin-American unit words ("lgh 1102",
# "4. mf.", "piso 3 depto B", "# 27-70"), number marks ("No: 125", "N° 104"), Polish street
# abbreviations ("ul.", "os.", "al.") and Norwegian street types written apart ("Evensen gate").
_STREET_PASS = frozenset(
    ["lgh", "mf.", "tv.", "th.", "st.", "m.", "bus", "bte", "piso", "depto", "dpto.", "izq.",
     "dcha.", "#", "No:", "No.", "N°", "Nº", "n°", "ul.", "os.", "al.", "pl.", "gate", "vei",
     "veg", "gata", "bis", "ter", "apto", "D:"]
)


def _street_before(text: str, comma: int) -> int:
    """Where the street before a postcode's comma starts ("Borgo Trevisan, 633 Appartamento 42"),
    walking back over house numbers, unit words, particles and capitalised words; -1 when what
    precedes is not a street (no capitalised word, or neither a house number nor a street word)."""
    floor = max(0, comma - 100)
    line = text.rfind("\n", floor, comma)
    floor = line + 1 if line >= 0 else floor
    tokens = text[floor:comma].split(" ")
    start = comma
    pos = comma
    capitals = numbers = streets = named = 0
    common = common_words()
    for token in reversed(tokens):
        pos -= len(token) + (1 if pos != comma else 0)
        word = token.rstrip(",")
        if not word:
            continue
        if _HOUSE.fullmatch(word):
            numbers += 1
        elif word in _UNIT_TOKENS or word in _STREET_PASS or (len(word) == 1 and word.isalpha()):
            pass  # a unit ("Apto", "lgh", "4. mf."), a unit's letter ("25 B 6") or a street word
        elif word.lower() in _STREET_LOWER or word.rstrip(".") in _LATIN_STARTS or (
            word.endswith(_GLUED_ENDINGS)
        ):
            # A street type that opens the street ("Rua", "rue", "Via") or a name glued to its
            # type ("Tulpendreef", "Anna-Weber-Straße"): the street starts here.
            streets += 1
            start = pos
            # French numbers come first: "524, rue de Millet".
            before = text[max(floor, pos - 8) : pos].rstrip(" ")
            number = before.rsplit(" ", 1)[-1].rsplit("\n", 1)[-1]
            if number and _HOUSE.fullmatch(number):
                start = pos - (len(text[max(floor, pos - 8) : pos]) - len(before)) - len(number)
                numbers += 1
            break
        elif word in _LATIN_SET:
            streets += 1
        elif word in _PARTICLE_TOKENS:
            pass
        elif word[0].isupper() and (word[1:].replace("-", "").replace("'", "").isalpha()
                                    or word.endswith(".")):
            capitals += 1
            named += word.rstrip(".,") not in common
        else:
            break
        start = pos
    while start < comma and text[start] == " ":
        start += 1
    if start >= comma or (not capitals and not streets) or not (numbers or streets):
        return -1
    if text[comma] in "\r\n" and (start != floor or not numbers or not (named or streets)):
        # A postcode line under a line that is not wholly a street with its number and a name
        # ("Gemini Flash 2\n2025 Roadmap", "Items: 1 x Pixel\n2 Cases", "Step 3\n1500 Users")
        # is no address.
        return -1
    return start


_STREET_SUFFIXES = ("straße", "strasse", "str.", "weg", "allee", "platz", "gasse", "ring",
                    "damm", "ufer", "chaussee", "laan", "straat", "gracht", "plein", "kade",
                    "singel", "dijk", "steeg", "markt", "dreef", "hof", "boulevard", "pad", "park",
                    "baan", "veld", "wal", "erf", "burg", "berg", "pfad", "steig", "graben", "hain",
                    "tal", "-Straße", "-Strasse", "-Weg", "-Allee", "-Platz", "-Gasse", "-Ring",
                    "-Damm", "-Ufer", "-Chaussee", "-Pfad", "-Steig", "-Graben", "-Markt")
_GLUED_ENDINGS = tuple(w for w in _STREET_SUFFIXES if len(w) > 3)
_FR_WORDS = ("rue", "avenue", "av.", "boulevard", "bd", "place", "chemin", "allée", "impasse",
             "quai", "route", "cours", "square")


# Lower-case cue phrases said right before a name ("spoke with Jan", "customer: Ana").
_LOWER_CUES = (
    "my name is", "name is", "i am", "i'm", "this is", "spoke with", "spoke to", "speaking with",
    "talked to", "talking to", "chatted with", "assigned to", "assignee", "escalated to",
    "handed over to", "transferred to", "signed by", "approved by", "reported by",
    "requested by", "created by", "owner", "contact", "attn", "c/o", "ship to", "bill to",
    "deliver to", "recipient", "sender", "customer", "client", "patient", "applicant", "tenant",
    "employee", "caller", "account holder", "cardholder", "card holder", "guest", "passenger",
    "full name", "name", "nom", "nombre", "nome", "naam", "kunde", "kundin", "agent", "regards",
    "opened by", "raised by", "submitted by", "filed by", "closed by", "updated by", "sent by",
    "on behalf of", "colleague", "driver", "courier",
)
# Form labels before a name: words of prose too ("the manager"), so they anchor only with their
# colon, in lower case, capitalised or in capitals.
_LABEL_CUES = (
    "reports to:", "manager:", "supervisor:", "next of kin:", "spouse:", "reviewer:",
    "prepared by:", "issued to:", "sold to:", "invoice to:", "payee:", "beneficiary:",
    "signatory:",
)
# A ticket's requester and a CRM note's contact ("Follow-up: Collins, Gary", "Meeting w/ D.
# Price"): the capital after them, in lower case, capitalised or in capitals.
_RECORD_CUES = ("requester:", "follow-up:", "meeting w/", "call with", "lieferadresse:",
                "name of taxpayer:", "legal name:", "patient name:")
# Labels before a list of people; the anchor is their colon.
_LIST_LABELS = ("attendees:", "participants:", "present:", "cc:", "bcc:", "invitees:")
# What an automaton pattern says where it matches (bits: a word may be several things).
(_NAME, _CUE, _STREET, _LOWER, _GLUED, _SPACED, _AFTER, _MARK, _POSTAL, _KEY, _MAIL, _PIN,
 _TITLED, _COLUMN, _LIST, _FORM, _VCARD, _AT, _CLOCK, _SIGNED, _PIPE, _SCRIPT, _SQL) = (
    1 << i for i in range(23))
# A chat export's speaker line: "Hilary Green  6:08 AM" (two spaces, a 12-hour time).
_CLOCK_LINE = _compile(r"[^\n]{2,60}?[ ]{2}[0-9]{1,2}:[0-9]{2}[ ][AP]M")
# Form fields (a URL-encoded body or query string) whose value is a person or an address.
_FORM_NAME_KEYS = ("first_name", "last_name", "name", "full_name", "given_name", "surname",
                   "family_name", "fname", "lname", "firstname", "lastname")
_FORM_ADDRESS_KEYS = ("street", "address", "addr", "address1", "address_line1", "street_address")
_FORM_VALUE = _compile(r"[^&\s]+")
# A capital after a cue, on the same line or the next, where a quoted reply's "> " may open it.
_FOLLOWED_BY_NAME = _compile(rf"\.?[,:]?[ \t>]*(?:\r?\n[ \t>]*)?(?=[{_UP}{_CJK}])")


@functools.cache
def _automaton() -> tuple[object, list[int], frozenset[str], frozenset[str]]:
    """One Aho-Corasick pass over the text finds every place worth a closer look.

    Gazetteer names, capitalised cue words ("Dear", "Customer", "Mr"), lower-case cue phrases,
    street words (capitalised ones, lower-case suffixes glued to a name, French words after a
    house number), sign-off line ends and chat speakers' closing brackets. The automaton runs in
    native code at a cost that does not grow with the number of words, and is built in
    milliseconds, where a `re` trie of the same words took a quarter of a second to compile and
    was entered at every capital of the text. Returns the automaton, each pattern's kind bits,
    the name words and the first words of cues that are not names themselves.
    """
    import ahocorasick_rs

    common = common_words()
    # A surname that is also a common word ("The", "West", "French") anchors nothing useful: it
    # still counts as the last word of a run that a given name or a cue started.
    name_words = anchor_given() | {w for w in anchor_surnames() if w not in common}
    cues = _CUE_TOKENS | _STRONG_CUE_WORDS | {
        c[:1].upper() + c[1:] for c in _CUE_PHRASES if c[:1].isalpha()
    }
    kinds: dict[str, int] = {}

    def add(words: object, kind: int) -> None:
        for w in words:  # type: ignore[attr-defined]
            kinds[w] = kinds.get(w, 0) | kind

    add(name_words, _NAME)
    add((c.strip() for c in cues), _CUE)
    add(STREET_WORDS, _STREET)
    # ("C." and "C/" as written: a bare "C" would be every capital C.)
    add((w if len(w) < 4 else w.rstrip(".") for w in _LATIN_WORDS), _STREET)
    add(_LOWER_CUES, _LOWER)
    add((c.upper() for c in _LOWER_CUES), _LOWER)  # "SHIP TO:", "NAME:" on labels
    add((f(c) for c in _LABEL_CUES for f in (str, str.capitalize, str.upper)), _LOWER)
    add((f(c) for c in _LIST_LABELS for f in (str, str.capitalize, str.upper)), _LIST)
    add((f(c) for c in _RECORD_CUES for f in (str, str.capitalize, str.upper)), _LOWER)
    add((f"{w} " for w in _STREET_SUFFIXES), _GLUED)  # "tal " is rarer than "tal" (total)
    add((f" {w} " for w in _FR_WORDS), _SPACED)
    add((f"{sep}{d}" for sep in (", ", "\n") for d in "0123456789("), _POSTAL)
    add(("-chome",), _SPACED)
    add(("]", ",\n", ",\r\n", "--\n", "-- \n"), _AFTER)
    # A sign-off line without its comma: the anchor is its line end ("Mvh\nØrni").
    add((f"{w[:1].upper()}{w[1:]}\n" for w in _SIGNOFFS_WITHOUT_COMMA), _SIGNED)
    add(("〒", "丁目", *JP_PREFECTURES), _MARK)
    add((f'"{k}":{sp}"' for k in _NAME_KEYS for sp in ("", " ")), _KEY)
    add((" <",), _MAIL)
    add((f" - {d}" for d in "0123456789"), _PIN)
    add((f"{t}{dot} {p} " for t in _TITLES for dot in ("", ".") for p in _PARTICLES), _TITLED)
    add((c for n in _NAME_COLUMNS for c in (f"{n},", f",{n}")), _COLUMN)
    add((f"{k}=" for k in _FORM_NAME_KEYS + _FORM_ADDRESS_KEYS), _FORM)
    add(("\nN:", "\nFN:", "\nADR:", "\nADR;"), _VCARD)
    add((" @", "\n@"), _AT)
    add((f"| {f(c.replace('_', ' '))} |" for c in _NAME_COLUMNS
         for f in (str, str.capitalize, str.title, str.upper)), _PIPE)
    add(_SCRIPT_CAPITALS, _SCRIPT)
    add((f"`{c}`" for c in _NAME_COLUMNS), _SQL)
    add((" AM", " PM"), _CLOCK)  # not " AM\n": the "\n@" of a mention on the next line
    patterns = list(kinds)
    # A contiguous NFA: it builds in 0.04 s for the ~19,000 patterns where a DFA takes 0.08 s,
    # which every scanning process pays, and scans 16 MB in the same 0.28 s.
    automaton = ahocorasick_rs.AhoCorasick(
        patterns,
        matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
        implementation=ahocorasick_rs.Implementation.ContiguousNFA,
    )
    cue_words = frozenset(c.split()[0] for c in cues) - name_words
    return automaton, [kinds[p] for p in patterns], frozenset(name_words), cue_words


_SURROGATE = _compile("[\ud800-\udfff]")


def _matches(automaton: object, text: str) -> list[tuple[int, int, int]]:
    """The automaton's (pattern, start, end) matches. It reads UTF-8, which a lone surrogate
    (a byte that was not UTF-8, escaped on the way in) is not: those are read as U+FFFD, one
    character for one, so the offsets hold."""
    try:
        return automaton.find_matches_as_indexes(text)  # type: ignore[attr-defined]
    except UnicodeEncodeError:
        return automaton.find_matches_as_indexes(  # type: ignore[attr-defined]
            _SURROGATE.sub("\ufffd", text))


def prepare() -> None:
    """Build the automaton and the patterns compiled on first use now rather than at the first
    text (a process about to fork workers does, so that they share them; the patterns come from
    the compiled-pattern cache, and this process, which exits normally, keeps them there)."""
    _automaton()
    _last_first_pattern()
    _cued_form()
    _list_item()


def anchors(
    text: str, streets: list[int] | None = None
) -> tuple[list[int], list[int], list[tuple[int, int, str | None]]]:
    """Positions of name anchors and address anchors, in text order, and the spans of
    postcode-and-city tails (", 45568 Freital"; None: its street is still to be found) and of
    whole addresses with their kind: Indian blocks ending in a PIN, vCard ADR lines, form
    fields."""
    automaton, kinds, _, _ = _automaton()
    names: list[int] = []
    found: list[int] = []
    postal: list[tuple[int, int, str | None]] = []
    size = len(text)
    follows = _FOLLOWED_BY_NAME.match
    table_end = 0  # the CSV header line last anchored
    backwards = False  # a display name's start was added behind later anchors
    other_script = False  # a Greek or Cyrillic capital was seen
    # The loop runs once per match (tens of thousands a megabyte): the word kinds, tested first,
    # are locals rather than module globals.
    word, name, cue, street, lower = _NAME | _CUE | _STREET | _LOWER, _NAME, _CUE, _STREET, _LOWER
    for index, s, e in _matches(automaton, text):
        kind = kinds[index]
        if kind & word:
            # Whole words only: "Roo" in "Room", "nom" in "economy" are nothing.
            if (s and text[s - 1].isalpha()) or (e < size and text[e].isalnum()):
                continue
            if kind & street:
                found.append(s)
            if kind & name or (kind & cue and follows(text, e)):
                names.append(s)
            elif kind & lower and (m := follows(text, e)) is not None:
                names.append(m.end())  # the capital after the cue
        elif kind & _GLUED:  # "Hauptstraße 5"
            if e < size and text[e] in _DIGITS and s and text[s - 1].isalpha():
                found.append(s)
        elif kind & _SPACED:  # "12 rue de la Paix", "3-chome"
            if any(c in _DIGITS for c in text[max(0, s - 8) : s]):  # "213 ter avenue"
                found.append(s)
        elif kind & _POSTAL:  # ", 45568 Freital": a continental postcode and city
            if (tail := _POSTAL_TAIL.match(text, s)) is not None:
                postal.append((s, tail.end(), None))
        elif kind & _SIGNED:
            if follows(text, e - 1) is not None:
                names.append(e - 1)
        elif kind & _AFTER:
            if follows(text, e) is not None:
                names.append(s)
        elif kind & _PIN:  # "Tumkur - 612943": an Indian address block ends in its PIN
            if (pin := _PIN_AT.match(text, e - 1)) is not None and (
                block := _IN_BLOCK.search(text, max(0, s - 90), s)
            ) is not None:
                postal.append((block.start(), pin.end(), "in"))
        elif kind & _LIST:  # "Attendees: Ana Lima, Jan Nowak": find_names reads from the colon
            if s == 0 or not text[s - 1].isalpha():
                names.append(e - 1)
        elif kind & _TITLED:  # "Mrs. van Dongen": a title before a surname's particle
            names.append(s)
        elif kind & _PIPE:  # "| Name | E-mail |": a name column in a Markdown table's header
            if s >= table_end:
                table_end = text.find("\n", e)
                if table_end < 0:
                    table_end = size
                names.append(s)
        elif kind & _COLUMN:  # "customer_id,full_name,email": a name column in a CSV header
            if s >= table_end:
                # find_names reads the header at this lower-case anchor and the rows under it.
                table_end = text.find("\n", e)
                if table_end < 0:
                    table_end = size
                names.append(s + (text[s] == ","))
        elif kind & _FORM:  # "first_name=Maria&street=Rua+Augusta+15": a form field
            if (s == 0 or text[s - 1] in "&?\n \t") and (
                value := _FORM_VALUE.match(text, e)
            ) is not None:
                if text[s:e - 1] in _FORM_ADDRESS_KEYS:
                    postal.append((e, value.end(), "form"))
                else:
                    names.append(e - 1)  # find_names reads the value after the "="
        elif kind & _AT:  # "@Amy Anderson": a mention (a mailbox has no space before its @)
            if e < size and (text[e].isupper() or _CJK_FIRST <= text[e] <= _CJK_LAST):
                names.append(e - 1)
        elif kind & _CLOCK:  # "Hilary Green  6:08 AM": the speaker ends at the two spaces
            line = text.rfind("\n", 0, s) + 1
            if text[e : e + 1] in ("\n", "\r", "") and _CLOCK_LINE.fullmatch(text, line, e):
                names.append(text.rfind("  ", line, s))
        elif kind & _VCARD:  # a vCard's N, FN (names) or ADR (address) line
            if text[s + 1] == "A":
                if (adr := _vcard_address(text, e)) is not None:
                    postal.append((*adr, "vcard"))
            else:
                names.append(s)
        elif kind & _KEY:  # {"user": "Maria Silva"}
            if e < size and (text[e].isupper() or _CJK_FIRST <= text[e] <= _CJK_LAST):
                names.append(e)
        elif kind & _MAIL:  # "From: Maria Silva <maria@example.com>"
            if _MAILBOX_AFTER.match(text, s) is not None and (d := _display_start(text, s)) >= 0:
                names.append(d)
                backwards = True
        elif kind & _SCRIPT:
            other_script = True
        elif kind & _SQL:  # "INSERT INTO `customers` (`id`, `full_name`, …)": a name column
            if s >= table_end:
                table_end = text.find(")", e)
                if table_end < 0:
                    table_end = size
                names.append(s)
        else:
            found.append(s)
    if streets:
        found = sorted(found + streets)
    if other_script:
        # Greek or Cyrillic capitals: the given names of those scripts anchor too.
        names.extend(_script_anchors(text))
        backwards = True
    if backwards:
        names.sort()
    return names, found, postal


# Greek and Cyrillic capitals: as automaton patterns they tell that a text may hold names the
# main automaton does not know, at no cost to text without them (a regex search for them took a
# tenth of the redaction's time).
_SCRIPT_CAPITALS = "ΆΈΉΊΌΎΏΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩЁЄІЇЎАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯҐ"


def _script_anchors(text: str) -> list[int]:
    """Where a known Greek or Cyrillic given name starts, as a whole word."""
    automaton = _script_automaton()
    size = len(text)
    return [
        s for _, s, e in _matches(automaton, text)
        if not (s and text[s - 1].isalpha()) and not (e < size and text[e].isalnum())
    ]


@functools.cache
def _script_automaton() -> object:
    """The Greek and Cyrillic given names (of el_GR, ru_RU, uk_UA, bg_BG...) in an automaton of
    their own, built only by a process that meets those scripts: in the main one they would make
    its build, which every `gemops redact` process pays, a third dearer."""
    import ahocorasick_rs

    words = [w for w in given_names() if w[0] in _SCRIPT_CAPITALS]
    return ahocorasick_rs.AhoCorasick(
        words,
        matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
        implementation=ahocorasick_rs.Implementation.DFA,
    )


def _in_vcard(text: str, p: int) -> bool:
    """Whether `p` is inside a vCard ("N:" and "ADR:" lines elsewhere are anything)."""
    begin = text.rfind("BEGIN:VCARD", max(0, p - 2000), p)
    return begin >= 0 and text.find("END:VCARD", begin, p) < 0


def _vcard_address(text: str, e: int) -> tuple[int, int] | None:
    """The street, locality, region and postcode of the vCard ADR line whose name ends before
    `e` ("ADR;TYPE=HOME:;;Flat 12;896 Murray Gardens;Cardiff;LS14 5BX;GB"): its fields after the
    post-office box and the extended address, without the country."""
    if not _in_vcard(text, e):
        return None
    colon = text.find(":", e - 1)
    end = text.find("\n", e)
    end = len(text) if end < 0 else end
    if colon < 0 or colon > end:
        return None
    line_end = end - (text[end - 1 : end] == "\r")
    fields = text[colon + 1 : line_end].split(";")
    if len(fields) < 4:
        return None
    start = colon + 1 + len(fields[0]) + len(fields[1]) + 2
    stop = line_end - (len(fields[-1]) + 1 if len(fields[-1]) <= 3 else 0)
    while start < stop and text[start] == ";":
        start += 1
    return (start, stop) if start < stop else None


def _display_start(text: str, s: int) -> int:
    """Where the display name before a mailbox at `s` starts (after "From: ", "..., " or a quote),
    or -1 when no capitalised word is there."""
    end = s - 1 if text[s - 1 : s] == '"' else s
    lo = max(0, end - 80)
    start = max(text.rfind(c, lo, end) for c in ':,"\n\t') + 1 or lo
    while start < end and text[start] == " ":
        start += 1
    return (
        start if start < end and (text[start].isupper() or _CJK_FIRST <= text[start] <= _CJK_LAST)
        else -1
    )


_DIGITS = frozenset("0123456789")
_PIN_AT = _compile(r"[0-9]{3}[ ]?[0-9]{3}(?![\w\-])")
# An Indian address block before " - PIN": house number ("H.No. 79", "01/69"), then up to two
# locality or name parts, each closed by a comma or a line end, then the city ("Sangli-Miraj &
# Kupwad"): "62, Bhandari, Patna - 620063", "89/930, Iyer\nGwalior - 750875". Searched back from
# the PIN (a `$`-anchored search over 90 characters) only where " - " and six digits are.
_IN_WORD = rf"[{_UP}][\w'’\-]*"
_IN_BLOCK = _compile(
    rf"(?<![\w/.])(?:H\.No\.[ ]?)?[0-9]{{1,4}}[A-Za-z]?(?:/[0-9]{{1,4}})?,?(?:[ ]|\r?\n)"
    rf"(?:{_IN_WORD}(?:[ ]{_IN_WORD}){{0,3}}(?:,[ ]|\r?\n)){{0,2}}"
    rf"{_IN_WORD}(?:[ ](?:{_IN_WORD}|&)){{0,4}}[ ]*$"
)


def _has_japanese(text: str, lo: int, hi: int) -> bool:
    return any(text.find(c, lo, hi) >= 0 for c in "都道府県")


def find_addresses(
    text: str, at: list[int] | None = None, postal: list[tuple[int, int, str | None]] | None = None
) -> list[tuple[int, int, str | None]]:
    """Spans of street addresses in ``text``, from the house number to the postcode and city.

    Searched only around a street word (or suffix, or postcode mark), never at every digit;
    `postal`: the postcode-and-city tails found with the anchors, each walked back to its street.
    """
    if at is None:
        _, at, postal = anchors(text)
    out: list[tuple[int, int, str | None]] = []
    for start, end, kind in postal or ():
        if kind is not None:
            out.append((start, end, kind))
        elif (start := _street_before(text, start)) >= 0:
            out.append((start, end, "postal"))
    last = 0
    for lo, hi in _windows(at, len(text), 64, 56):
        _addresses_in(text, max(lo, last), hi, out)
        if out:
            last = max(last, out[-1][1])
    return out


def _addresses_in(text: str, lo: int, hi: int, out: list[tuple[int, int, str | None]]) -> None:
    if _has_japanese(text, lo, hi):
        for m in _JP_ADDRESS.finditer(text, lo, hi):
            out.append((m.start(), m.end(), "jp"))
    for m in _ADDRESS.finditer(text, lo, hi):
        kind = m.lastgroup
        start, end = m.start(), m.end()
        if kind in ("suffix", "hyphen"):
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
