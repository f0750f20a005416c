"""PII redaction: one scan finds emails, phones, cards, SSNs, IBANs, IPs, national IDs and secrets
to mask; person names and street addresses come from console.services.redaction.people.

docs/redaction.md explains the engines, their cues and their measured recall and precision.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import functools
import hashlib
import json
import os
import re
import socket
import sys
import threading
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, TYPE_CHECKING, AnyStr, BinaryIO, Literal, TextIO, TypeVar

import phonenumbers
from stdnum import luhn as _stdnum_luhn
from stdnum.iso7064 import mod_97_10 as _stdnum_mod97

from console import paths
from console.services.forked import available_cpus, ordered_map
from console.services.redaction import id_schemes, national_ids
from console.services.redaction.compiled import pattern as _compile
from console.services.redaction.compiled import write_cache_file
from console.services.redaction.people import anchors as _people_anchors
from console.services.redaction.people import find_addresses, find_names
from console.services.redaction.people import prepare as _prepare_people

if TYPE_CHECKING:
    import hyperscan

__all__ = [
    "ENGINES",
    "EntityType",
    "Finding",
    "RedactionResult",
    "Redactor",
    "redact",
    "redact_lines",
    "redact_stream",
]


class EntityType(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    SSN = "ssn"
    IBAN = "iban"
    IP = "ip"
    SECRET = "secret"
    NATIONAL_ID = "national_id"
    NAME = "name"
    ADDRESS = "address"


# Module-level aliases: attribute access on an Enum class is slow enough to show in the scan loop.
_EMAIL, _PHONE_T, _CARD_T, _SSN_T, _IBAN_T, _IP, _SECRET = (
    EntityType.EMAIL,
    EntityType.PHONE,
    EntityType.CARD,
    EntityType.SSN,
    EntityType.IBAN,
    EntityType.IP,
    EntityType.SECRET,
)
_NATIONAL_ID, _NAME, _ADDRESS = EntityType.NATIONAL_ID, EntityType.NAME, EntityType.ADDRESS
# "structured": the scan alone; "default": plus names and street addresses by rule and gazetteer;
# "ner": plus a spaCy model's PERSON / location entities (the optional `ner` extra).
ENGINES = ("default", "structured", "ner")
_TOKENS = {etype: f"[{etype.name}_REDACTED]" for etype in EntityType}


@dataclass(frozen=True, slots=True)
class Finding:
    """Where an entity was found; spans index the original text. The value itself is never kept."""

    type: EntityType
    start: int
    end: int
    kind: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type.value, "start": self.start, "end": self.end, "kind": self.kind}


@dataclass(slots=True)
class RedactionResult:
    text: str
    findings: list[Finding] = field(default_factory=list)


# --- the scan -------------------------------------------------------------------------------
#
# The whole text is searched once by _SCAN, which is one alternation whose every branch starts
# with a literal "lead" character (a digit, + ( @ : A J _ -). Python's `re` turns such a pattern
# into a character-set prefix and skips everything else (lower-case letters, spaces: most of any
# prose) without entering the branches; inside, a branch whose literal does not match is skipped
# just as cheaply. After its lead character each branch looks *behind* to check the context.
# Entities whose first character is common in prose (emails, `eyJ…`, `ghp_…`, `sk-…`, IPv6
# starting with a-f) are anchored on a rarer character inside them and extended backwards by
# their handler.
#
# Branches only say "a candidate of this shape starts here"; handlers then match the exact shape
# at that position and validate it (Luhn, mod-97, SSN ranges, octets, libphonenumber).

# After a lead digit: a number not glued to a word, price, order number or decimal; at least
# 7 digits, or a dotted quad.
_NUMBER_AFTER_DIGIT = (
    # (After a comma it may start: a CSV field; '1,234,567' has too few digits to get far.)
    # (〒 marks a Japanese postcode.)
    r"(?<![\w.$#+@\-\u00a3\u20ac\u00a5\u3012][0-9])(?<![^/]/[0-9])"  # '//' starts a URL host
    # ISO dates (2025-03-01, 2025-03-01T10:00) and year ranges (1914-1918) are never anything:
    # turned away here, they cost no handler call (logs and prose are full of them).
    r"(?![0-9]{3}-[0-9]{2}-[0-9]{2}(?![0-9])|(?:(?<=1)9|(?<=2)0)[0-9]{2}[-/](?:19|20)[0-9]{2}"
    r"(?![0-9\-]))"
    r"(?:[0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]|(?:[ .\-/()]{0,2}[0-9]){6}"
    # A UK National Insurance number as printed, AB 12 34 56 C, has too few digits for a number:
    # its letters are checked behind it. (A branch of its own would cost every digit a test.)
    r"|[0-9] [0-9]{2} [0-9]{2} [A-D](?<=[A-Z]{2} [0-9]{2} [0-9]{2} [0-9]{2} [A-D]))"
)
# The shapes of _NUMBER_AFTER_DIGIT without its looks around, for the prefilter (_PREFILTER).
_DIGIT_SHAPES = (
    rb"(?:[0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]|(?:[ .\-/()]{0,2}[0-9]){6}"
    rb"|[0-9] [0-9]{2} [0-9]{2} [A-D])"
)


def _assigned_after(sign: str) -> str:
    """A value after `sign` whose key may name a secret: the key's last letter (that of
    "secret", "api_key", "password", "token", "pass"), then maybe its closing quote and a blank,
    or any key aligned by blanks ("AWS_SECRET_ACCESS_KEY   = …"); `_assigned` reads the key."""
    behind = "|".join(
        [rf"(?<={last}{between}{sign})" for last in ("[tTyYdDnN]", "[sS][sS]")
         for between in ("", r"[\"' \t]", r"[\"'][ \t]")] + [rf"(?<=[ \t][ \t]{sign})"]
    )
    return rf"(?:{behind})[ \t]*(?:[\"'][^\n\"']{{8}}|[^\s\"']{{8}})"


_LEAD_BRANCHES: dict[str, list[tuple[str, str]]] = {
    **{
        digit: [
            ("number", _NUMBER_AFTER_DIGIT),
        ]
        for digit in "0123456789"
    },
    # A value assigned to a secret-named key (aws_secret_access_key = ..., "password": "...").
    # (Secret key names end in t, y, d, n or ss: "secret", "api_key", "password", "token", "pass".)
    # (The value is anything without a blank for 8 characters: passwords carry ! # % too.)
    "=": [
        ("assigned", _assigned_after("=")),
        # A URL-encoded form field or query parameter whose value reads as a number once decoded
        # ('phone=%2B45+34+41+00+28', 'card_number=6299+1701+6291+5332'): its key says what.
        # (A dot in the first characters is an address or a version: 'client_ip=192.168…'.)
        ("form_value", r"(?<=[a-z]=)(?=(?:%2B|%28|[0-9+(])[0-9+%()\-A-F]{6})"),
    ],
    "(": [("number", r"(?<![\w.$#/+@\-][(])(?:[ .\-/()]{0,2}[0-9]){6}")],
    "+": [("number", r"(?<![\w.$#/+@\-][+])(?:[ .\-/()]{0,2}[0-9]){6}")],
    # An email percent-encoded in a URL or form body (maria%40example.com), anchored on the
    # '%' of its '%40' and walked back as after '@'.
    "%": [
        (
            "email_encoded",
            r"(?<=[A-Za-z0-9_.\-]%)40"
            r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}"
            r"(?![A-Za-z0-9\-])",
        )
    ],
    # Email, anchored on '@'; the local part is found by walking backwards.
    "@": [
        # The host of 'scheme://user:password@10.0.0.5:5432' is an address.
        ("host_ip", r"(?=[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9])"),
        (
            "email",
            r"(?<![\s@<>()\[\]\"',;:]@)"
            r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}"
            r"(?![A-Za-z0-9\-])",
        )
    ],
    ":": [
        # scheme://user:password@ — only the password is masked.
        # (People put '#' in passwords unencoded: 'postgresql://app:Pa#ss@db'.)
        ("url_password", r"(?<=[A-Za-z0-9]:)//[^\s/?#@:]*:[^\s/?@]+@"),
        # IPv6, anchored on a colon that follows a hex digit, or on the '::' of '::1'.
        # Two more colons or a '::' must follow, so a time of day (10:05:15) never gets here.
        ("ipv6", r"(?<=[0-9A-Fa-f]:)(?::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:)|(?<![\w:]:):[0-9A-Fa-f]"),
        # Authorization: Bearer <token>, JWT or opaque.
        # Authorization: Bearer / Basic / Token <credentials> (RFC 6750, RFC 7617, DRF, GitHub).
        (
            "bearer",
            r"[ \t]*(?:Bearer|bearer|BEARER|Basic|basic|BASIC|Token|token)[ \t]+"
            r"[A-Za-z0-9_\-.~+/]{16,}=*",
        ),
        ("assigned", _assigned_after(":")),
    ],
    # Google API keys (AIza…) and AWS access key ids (AKIA…/ASIA…).
    "A": [
        (
            "a_key",
            r"(?<![\w\-]A)(?:Iza[0-9A-Za-z_\-]{35}|(?:KIA|SIA)[A-Z0-9]{16})(?![\w\-])",
        )
    ],
    # JWT, anchored on the J of its eyJ header.
    "J": [
        (
            "jwt",
            # (Both shapes behind the eyJ: a 'J' in any dotted name, 'org.JUnit.core.Runner',
            # is no token. An encrypted token, JWE, has five parts.)
            r"(?<=eyJ)(?<![\w\-]eyJ)"
            r"(?:[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"
            r"|[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}"
            r"(?:\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,})?)",
        )
    ],
    # GitHub tokens, anchored on their (first) underscore.
    "_": [
        ("github", r"(?<=gh[pousr]_)(?<![A-Za-z0-9]gh[pousr]_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])"),
        ("github_pat", r"(?<=github_)(?<![A-Za-z0-9]github_)pat_[A-Za-z0-9_]{22,}"),
        # Stripe secret and restricted keys (sk_live_…, rk_test_…), on their last underscore;
        # Hugging Face (hf_…) and npm (npm_…) access tokens.
        (
            "prefixed",
            r"(?<=[sr]k_live_|[sr]k_test_)(?<![\w\-][sr]k_live_|[\w\-][sr]k_test_)"
            r"[A-Za-z0-9]{16,}(?![A-Za-z0-9_])"
            r"|(?<=hf_)(?<![\w\-]hf_)[A-Za-z0-9]{30,}(?![A-Za-z0-9_])"
            r"|(?<=npm_)(?<![\w\-]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])",
        ),
    ],
    "-": [
        # PEM private key blocks (the END line is found by the handler).
        ("pem", r"----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"),
        # Slack (xoxb-…) and OpenAI-style (sk-…, sk-proj-…) keys, anchored on their hyphen.
        # (Slack app-level tokens: xapp-1-….)
        (
            "slack",
            r"(?<=xox[abprs]-|xapp-)(?<![\w\-]xox[abprs]-|[\w\-]xapp-)[A-Za-z0-9\-]{10,}",
        ),
        ("openai", r"(?<=sk-)(?<![\w\-]sk-)[A-Za-z0-9_\-]{20,}"),
        # GitLab personal access tokens.
        ("prefixed", r"(?<=glpat-)(?<![\w\-]glpat-)[A-Za-z0-9_\-]{20}(?![A-Za-z0-9_\-])"),
    ],
}


# Shapes tried after a lead's own, behind one shared look-behind: after a digit, those with a
# capital (or a hyphen) before it. Most digits follow a digit or a blank and are turned away by
# that one test, not by each shape's.
_GUARDED: dict[str, tuple[str, list[tuple[str, str]]]] = {
    digit: (
        r"(?<=[A-Z\-][0-9])",
        [
            # IBAN, anchored on its first check digit: two capitals behind, nothing before them.
            ("iban", r"(?<=[A-Z]{2}[0-9])(?<![A-Za-z0-9][A-Z]{2}[0-9])[0-9]"),
            # Italian codice fiscale, anchored on its first digit: six capitals behind.
            ("codice_fiscale", r"(?<=[A-Z]{6}[0-9])(?<![A-Za-z0-9][A-Z]{6}[0-9])[0-9LMNPQRSTUV]"),
            # Identifiers led by capitals, anchored on their first digit: NIE X2482300W or
            # X-2482300-W, CURP BOXW310820…, PAN ACUPA7085R, HETU 131052A308T. (Two capitals
            # are IBAN's anchor; each shape asks for its digits, so 'X11' in a user agent is
            # not tried.)
            (
                "lettered_id",
                r"(?<=[XYZ][0-9])(?<![A-Za-z0-9][XYZ][0-9])[0-9]{6}"
                r"|(?<=[XYZ]-[0-9])(?<![A-Za-z0-9][XYZ]-[0-9])[0-9]{6}"
                r"|(?<=[A-Z]{4}[0-9])(?<![A-Za-z0-9][A-Z]{4}[0-9])[0-9]{5}"
                r"|(?<=[A-Z]{5}[0-9])(?<![A-Za-z0-9][A-Z]{5}[0-9])[0-9]{3}[A-Z]"
                r"|(?<=[0-9]{6}[A-FU-Y][0-9])(?<![A-Za-z0-9][0-9]{6}[A-FU-Y][0-9])[0-9]{2}",
            ),
        ],
    )
    for digit in "0123456789"
}


def _build_scan() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation, a branch per lead character; each shape ends in an empty marker group
    (named `<handler>_<n>`, since a group name may appear only once) that tells which matched."""
    branches: list[str] = []
    markers: dict[str, str] = {}

    def marked(shapes: list[tuple[str, str]]) -> list[str]:
        alternatives = []
        for handler, shape in shapes:
            marker = f"{handler}_{len(markers)}"
            markers[marker] = handler
            alternatives.append(f"(?:{shape})(?P<{marker}>)")
        return alternatives

    for lead, shapes in _LEAD_BRANCHES.items():
        alternatives = marked(shapes)
        if lead in _GUARDED:
            guard, guarded = _GUARDED[lead]
            alternatives.append(guard + "(?:" + "|".join(marked(guarded)) + ")")
        branches.append(re.escape(lead) + "(?:" + "|".join(alternatives) + ")")
    return _compile("|".join(branches), re.ASCII), markers


_SCAN, _SCAN_MARKERS = _build_scan()

# `re` enters _SCAN at every lead character, and a log is full of them (a timestamp has
# fourteen digits, two hyphens and two colons), though few start a candidate. Hyperscan, where
# installed, says where one may start, and `re` tries _SCAN only there.
#
# What every match of a branch has, as a Hyperscan expression (which has no look-around: a
# character looked behind at becomes part of the match, and a look-ahead is dropped): each is
# implied by its branch, so its hits are a superset of the branch's, and `re` still decides.
# With each, where the lead character is: counted from the match's start when >= 0 (found with
# Hyperscan's start-of-match), else back from its end. The text is scanned as ASCII with every
# other character as '?': one byte per character, and '?' is what the branches' classes say of
# a non-ASCII character (they are re.ASCII), or they do not look at it.
_WORD_BEFORE = rb"0-9A-Za-z_"  # \w under re.ASCII
_PREFILTER = (
    # A number: no word, '.', '$', '#', '+', '@' or '-' glued before it, then one of its shapes.
    (rb"^[0-9]" + _DIGIT_SHAPES, 0),
    (rb"[^" + _WORD_BEFORE + rb".$#+@\-][0-9]" + _DIGIT_SHAPES, 1),
    # The guarded digit branches: IBANs and identifiers led by capitals.
    (rb"[A-Z]{2}[0-9][0-9L-V]", -2),
    (rb"[XYZ]-?[0-9]{7}", -7),
    (rb"[0-9][A-FU-Y][0-9]{3}", -3),
    # A value assigned to a secret-named key (the key, which _assigned_after looks behind at,
    # is left to `re`: as a class before the sign it would make Hyperscan four times slower);
    # a form value that reads as a number.
    (rb"[=:][ \t]*(?:[\"'][^\n\"']{8}|[^\s\"']{8})", 0),
    (rb"[a-z]=[0-9+%()\-A-F]{6}", -7),
    # '(' or '+' then a number, nothing glued before.
    (rb"^[(+](?:[ .\-/()]{0,2}[0-9]){6}", 0),
    (rb"[^" + _WORD_BEFORE + rb".$#/+@\-][(+](?:[ .\-/()]{0,2}[0-9]){6}", 1),
    # A percent-encoded e-mail's '%40'; an e-mail's or a URL host's '@'.
    (rb"[A-Za-z0-9_.\-]%40[A-Za-z0-9]", -4),
    (rb"@", -1),
    # After a colon: a URL's password, IPv6, an Authorization header's credentials.
    (rb"[A-Za-z0-9]://", -3),
    (rb"[0-9A-Fa-f]::", -2),
    (rb"[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:", 1),
    (rb"::[0-9A-Fa-f]", -3),
    (rb":[ \t]*(?:Bearer|bearer|BEARER|Basic|basic|BASIC|Token|token)[ \t]+", 0),
    # Keys and tokens by their prefixes.
    (rb"A(?:Iza|KIA|SIA)", -4),
    (rb"^eyJ", -1),
    (rb"[^" + _WORD_BEFORE + rb"\-]eyJ", -1),
    (rb"(?:gh[pousr]|github|[sr]k_live|[sr]k_test|hf|npm)_", -1),
    (rb"-----BEGIN ", -11),
    (rb"(?:xox[abprs]|xapp|sk|glpat)-", -1),
)


@functools.cache
def _prefilter() -> Callable[[str], list[int]] | None:
    """Where in a text a _SCAN match may start (a superset), found by Hyperscan, which reads a
    megabyte in about a millisecond; None where it is not installed (`re` then searches)."""
    try:
        database = _prefilter_database()
    except ImportError:
        return None
    import hyperscan

    offsets = [at for _, at in _PREFILTER]
    # A scan needs scratch space of its own: one per thread (interactions are logged from
    # several), made on a thread's first scan.
    local = threading.local()

    def leads(text: str) -> list[int]:
        found: set[int] = set()
        add = found.add

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            at = offsets[index]
            add(start + at if at >= 0 else end + at)

        scratch = getattr(local, "scratch", None)
        if scratch is None:
            scratch = local.scratch = hyperscan.Scratch(database)
        database.scan(text.encode("ascii", "replace"), match_event_handler=on_match,
                      scratch=scratch)
        return sorted(found)

    return leads


def _prefilter_database() -> hyperscan.Database:
    """The compiled prefilter, from the cache directory when an earlier process compiled it:
    compiling takes ~35 ms, which every `gemops redact` worker would pay, and loading it under
    a millisecond. Any trouble with the file means compiling again."""
    import hyperscan

    flags = [hyperscan.HS_FLAG_SOM_LEFTMOST if at >= 0 else 0 for _, at in _PREFILTER]
    build = (_PREFILTER, flags, getattr(hyperscan, "__version__", ""), sys.platform,
             os.uname().machine)
    key = hashlib.blake2b(repr(build).encode(), digest_size=12).hexdigest()
    path = paths.cache_dir() / f"redact-prefilter-{key}.hsdb"
    with contextlib.suppress(Exception):  # missing, unreadable, from another build: compile
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    database = hyperscan.Database()
    database.compile(
        expressions=[expression for expression, _ in _PREFILTER],
        ids=list(range(len(_PREFILTER))),
        elements=len(_PREFILTER),
        flags=flags,
    )
    write_cache_file(path, hyperscan.dumpb(database))
    return database


def _candidates(text: str) -> Callable[[int], re.Match[str] | None]:
    """`search(pos)`: `_SCAN.search(text, pos)`, with `re` tried only where the prefilter says
    a match may start. (`pos` never goes back, so each position is tried at most once.)"""
    prefilter = _prefilter()
    if prefilter is None:
        return functools.partial(_SCAN.search, text)
    leads = prefilter(text)
    match = _SCAN.match
    count = len(leads)
    index = 0

    def search(pos: int) -> re.Match[str] | None:
        nonlocal index
        if index < count and leads[index] < pos:
            index = bisect.bisect_left(leads, pos, index)
        while index < count:
            m = match(text, leads[index])
            index += 1
            if m is not None:
                return m
        return None

    return search

# Exact shapes, matched at a number candidate's start, in order of precedence. The tail guard
# refuses a match glued to a word or continuing as another number ('123-45-6789-0').
# A comma then one or two digits is a decimal part ('12 345,67'); a comma then a longer number,
# a dotted one ('…,218.121.5.4') or a date is the next field of a CSV row.
# (A comma then two digits then more groups is the next field of a CSV row, not a decimal part:
# '0301 323 42,63 67 92 89', '06 20 123 9448,74-66-13'.)
_NUM_END = r"(?![0-9A-Za-z_@]|[.:/\-][0-9]|,[0-9]{1,2}(?![0-9A-Za-z:]|[ .\-/][0-9]))"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CARD_SHAPE = (
    r"[0-9]{4}(?P<sep>[ .\-]?)[0-9]{4}(?P=sep)[0-9]{4}(?P=sep)[0-9]{4}(?:(?P=sep)[0-9]{3})?"
    r"|[0-9]{4}(?P<sep15>[ \-]?)[0-9]{6}(?P=sep15)[0-9]{4,5}"
    r"|[0-9]{13,19}"
)
_PHONE_SHAPE = (
    # international: +CC then groups, or E.164 without separators
    r"\+(?:[0-9]{7,15}|[0-9]{1,3}(?:[ .\-]?\([0-9]{1,4}\))?(?:[ .\-]?[0-9]{1,12})?"
    r"(?:[ .\-][0-9]{1,12}){1,6})"
    # dialled from abroad: 00 (most of the world), 011 (North America), 0011 (Australia) then
    # the country code and groups, as after a '+'
    r"|(?:00|011|0011)[ .\-]?[1-9][0-9]{0,2}(?:[ .\-]?\(0\))?(?:[ .\-][0-9]{1,12}){1,6}"
    # North American: (415) 555-2671, 415-555-2671, 1 415 555 2671
    r"|(?:1[ .\-])?(?:\([0-9]{3}\)[ ]?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}"
    # national with trunk 0: 020 7946 0958, 030 901820, 01 42 68 53 00, (030) 1234567, 089/123456,
    # 01 234567890 (AT), 081234 56789 (IN)
    r"|(?:\(0[0-9]?[ \-]?[0-9]{1,4}\)|0[0-9]{1,5})(?:[ .\-/][0-9]{2,10}){1,4}"
    r"|0[0-9]{8,11}"
)
_NUMBER = _compile(
    rf"(?P<ssn>[0-9]{{3}}-[0-9]{{2}}-[0-9]{{4}}){_NUM_END}"
    rf"|(?P<ipv4>{_OCTET}(?:\.{_OCTET}){{3}})(?![0-9A-Za-z_@]|\.[0-9])"
    rf"|(?P<card>{_CARD_SHAPE}){_NUM_END}"
    rf"|(?P<phone>{_PHONE_SHAPE}){_NUM_END}",
    re.ASCII,
)
_PHONE = _compile(rf"(?:{_PHONE_SHAPE}){_NUM_END}", re.ASCII)
# Dates, US ZIP+4 codes, Brazilian CEPs (01310-100) and Japanese postcodes (012-3456) are never
# phones, whatever libphonenumber thinks of their digits.
_NOT_PHONE = _compile(
    # (A date's day and month have two digits at most, its year two or four: '0800.12.0154'
    # is a freephone number.)
    r"[0-9]{1,2}([./\-])[0-9]{1,2}\1(?:[0-9]{2}|[0-9]{4})|[0-9]{4}([./\-])[0-9]{1,2}\2[0-9]{1,2}"
    r"|[0-9]{4}[./\-][0-9]{2}[./\-][0-9]{2}"
    r"|[0-9]{5}-[0-9]{3,4}|0[0-9]{2}-[0-9]{4}",
    re.ASCII,
)
# A number after one of these is a parcel's, an order's or an account's, whatever its digits.
_NOT_PHONE_BEFORE = _compile(
    r"(?:tracking|order|invoice|reference|parcel|shipment|serial|transaction|booking|account"
    r"|confirmation)\s*(?:number|no\.?|nr\.?|#)\s*:?\s*$",
    re.IGNORECASE,
)
# The same in the other languages phone numbers are written in, and the ids of tickets, customers
# and invoices: a number right after one of these words (and its 'nr', 'n°', 'ID', quotes or
# colon) is an order's, a customer's or a parcel's, even when a phone plan accepts its digits.
# Each stem starts a word and may go on ('Kundenr.', 'order_ref', 'Zamówienie').
_OTHER_NUMBER_STEMS = [
    "order", "customer", "client", "klient", "kunde", "klant", "pelanggan", "ticket", "invoice",
    "factur", "parcel", "shipment", "serial", "transaction", "booking", "confirmation", "faktur",
    "fatur", "rēķin", "sąskait", "reikning", "tracking", "seguimiento", "zamówieni", "užsakym",
    "pasūtījum", "pöntun", "commande", "pedido", "siunt", "sūtījum", "account", "acc", "kliendi",
    "postcode", "postal", "zip", "viðskipta", "numer przesyłk", "przesyłk", "tiket", "invois",
    "sendung", "bestell", "zásielk", "工單", "客戶編號", "고객번호", "청구서", "주문번호", "문의",
    "ใบแจ้งหนี้", "رقم التتبع", "ট্র্যাকিং নং", "מס׳ לקוח", "ref", "chamado", "zgłoszeni",
    "pöördumi", "товарителниц", "αίτημα", "πελάτη",
]
_OTHER_NUMBER_PHRASES = ["رقم العميل", "お客様番号", "訂單編號", "發票"]
# ... and the word for "number" or "ID" that may follow one ('Customer ID', 'Pedido n.º').
_NUMBER_WORDS = ["id", "ref", "nr", "no", "n°", "nº", "n.º", "number", "nummer", "numero", "número",
                 "de cliente", "klienta"]


def _reversed(words: list[str]) -> str:
    return "|".join(re.escape(w[::-1]) for w in sorted(words, key=len, reverse=True))


# Matched at the start of the lower-cased words before the number read backwards: one anchored
# attempt, where a search for the words at the end of the text would try each of its positions.
_NOT_PHONE_WORD_REVERSED = _compile(
    r"[\s.:#\"'=/]*"
    rf"(?:(?:{_reversed(_NUMBER_WORDS)})[ _]?)?"
    rf"(?:\w*?(?:{_reversed(_OTHER_NUMBER_STEMS)})(?!\w)|(?:{_reversed(_OTHER_NUMBER_PHRASES)}))"
    # 'Nr klienta:', 'N° client', 'Nº de cliente'
    r"|[\s.:#\"'=]*\w*?(?:atneilk|tneilc|etneilc) (?:ed )?(?:\.?rn|[°º]n|º\.n)(?!\w)"
    r"|\s*[.:]er(?!\w)"  # 'Re: 47-16-531-53' (a reference)
    # An article number's scheme: its digits are a barcode's ('EAN 5908942819672').
    r"|[ :#]*(?:[03]1-)?(?:nae|nitg|nbsi|cpu)(?!\w)"
)


def _names_other_word(before: str) -> bool:
    """Whether `before` (lower case) ends in an order, customer, ticket or article word."""
    return _NOT_PHONE_WORD_REVERSED.match(before[::-1]) is not None
# An IPv4-shaped number right after one of these words is a version or build number.
_VERSION_BEFORE = _compile(
    r"(?:\bv|\bversion|_version|\bver\.?|\brelease|\bbuild|\bfirmware|\bpatch|\bupdate|\bkernel|"
    r"\bpython|\bnode|\bsdk|\bchrome|\bwindows)[\"']?\s*:?\s*[\"']?$",
    re.ASCII | re.IGNORECASE,
)
_IPV6 = _compile(
    rf"(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:{_OCTET}(?:\.{_OCTET}){{3}}|[0-9A-Fa-f]{{1,4}})?"
    r"(?:%[0-9A-Za-z._\-]+)?",
    re.ASCII,
)
# Printed IBANs group by four with single spaces; electronic ones have none.
_IBAN_SHAPE = _compile(
    r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,8}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])", re.ASCII
)
# (OpenPGP armour says 'PRIVATE KEY BLOCK'.)
_PEM_END = _compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
# A number whose shape says nothing alone: groups of digits, for the context to decide.
# An area code in brackets may hold the trunk prefix: (06 1) in Hungary, (0-612) in Lithuania.
_LOOSE_NUMBER = _compile(
    r"\+?(?:\([0-9]{1,4}(?:[ \-][0-9]{1,4})?\)|[0-9]{1,6})"
    r"(?:(?:[ .\-/]|[ ]?-[ ]?)?(?:\([0-9]{1,4}\)|[0-9]{1,6})){0,7}"
    rf"{_NUM_END}",
    re.ASCII,
)
# An area code in brackets then the subscriber number is a phone number by its look alone:
# '(11) 2345-6789', '(2) 2123 4567', '(601) 2345678', '8 (912) 345-67-89' (not a year '(2024)').
# The North American layout '(123) 456-7890' is left to libphonenumber, which knows its area codes.
_AREA_IN_BRACKETS = _compile(
    r"(?![(][0-9]{3}[)] ?[0-9]{3}[ \-][0-9]{4}$)"
    r"(?:[78] ?)?\((?!(?:19|20)[0-9]{2}\))[0-9]{1,4}\) ?[0-9]{2,8}(?:[ \-][0-9]{2,5}){0,3}",
    re.ASCII,
)
# Capitals (and one separator) that start an identifier written before its first digit.
_LETTERS_BEFORE = _compile(r"(?<![A-Za-z0-9])[A-Z]{1,5}[ \-]?$", re.ASCII)
# ... or a Finnish HETU's date and century letter (131052A308T).
_ID_LEAD = _compile(r"(?<![A-Za-z0-9])(?:[A-Z]{1,5}[ \-]?|[0-9]{6}[A-FU-Y])$", re.ASCII)
_SSN_LOOSE = _compile(r"[0-9]{9}|[0-9]{3}([ .\-])[0-9]{2}\1[0-9]{4}", re.ASCII)
# Key names whose value is a secret, lower-cased without '_' and '-', matched as the end of the key
# before '=' or ':' ("AWS_SECRET_ACCESS_KEY", "db_password", "x-api-key", "refreshToken").
_SECRET_KEY_NAMES = ("secret", "secretkey", "secretaccesskey", "password", "passwd", "pwd",
                     "pass", "apikey", "token", "privatekey", "accountkey", "accesskey",
                     "signingkey", "encryptionkey", "masterkey")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _key_before(text: str, lead: int) -> str:
    """The key before an '=' or ':' at `lead`, lower-cased without '_' and '-'."""
    return _raw_key_before(text, lead).lower().replace("_", "").replace("-", "")


def _raw_key_before(text: str, lead: int) -> str:
    """The key before an '=' or ':' at `lead` (quotes and blanks between skipped) as written;
    '' when there is none."""
    i = lead
    floor = max(0, lead - 48)
    while i > floor and text[i - 1] in " \t":
        i -= 1
    if i > floor and text[i - 1] in "\"'":
        i -= 1
    end = i
    while i > floor and text[i - 1] in _KEY_CHARS:
        i -= 1
    return text[i:end]


# A bare value ends at a blank, a quote, a bracket, or an '&', ';' or ',' that separates it from
# the next field of a query string, connection string or list ('…&next=', '…;Database=', or a
# blank after it); a quoted one at its quote. A full stop after it ends the sentence.
_SECRET_VALUE = _compile(r"(?:[^\s\"'`&;,<>(){}\[\]]|[&;,](?![A-Za-z_][\w.\- ]*=|\s|$))+")
_QUOTED_VALUE = {q: _compile(rf"[^\n{q}]{{8,200}}(?={q})") for q in "\"'"}
# Key names whose value is a password: any value is masked but a placeholder.
_PASSWORD_KEY_NAMES = ("password", "passwd", "pwd", "pass")
# '${DB_PASSWORD}', '<password>', '%(pw)s', '********', 'xxxxxxxx': not the secret itself.
_PLACEHOLDER = _compile(
    r"[$<{%]|(?:\*+|x+|X+|•+|\.+)$|(?:your|my|example|change|redacted|placeholder|secret|password"
    r"|token|none|null|undefined|required|optional|string|hidden|masked|removed|default)"
    r"(?:[_\-]|$)",
    re.IGNORECASE,
)

_HEX = frozenset("0123456789abcdefABCDEF")
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DIGITS = frozenset("0123456789")

# IBAN length per country (ISO 13616 registry); an unknown country code is not an IBAN.
_IBAN_LENGTH = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

# A hit is (start, end, type, kind, identity, resume): `identity` is what pseudonyms key on (a
# normalised value or a parsed phone number); `resume` is where the scan continues. A handler
# returns None to let the scan go on from the next character, or an int to skip a rejected
# candidate whole, so the groups of a Luhn-invalid card are not read again as a phone number.
_Hit = tuple[int, int, EntityType, str | None, object, int]
_Verdict = _Hit | int | None


def _luhn_valid(digits: str) -> bool:
    return _stdnum_luhn.is_valid(digits)


def _card_brand(digits: str) -> str | None:
    """The issuer for a known IIN and length; random Luhn-valid digits (one in ten) are not cards."""
    n = len(digits)
    two, three, four = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":
        return "visa" if n in (13, 16, 19) else None
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard" if n == 16 else None
    if two in (34, 37):
        return "amex" if n == 15 else None
    if four == 6011 or 644 <= three <= 649 or two == 65:
        return "discover" if n >= 16 else None
    if 3528 <= four <= 3589:
        return "jcb" if n >= 16 else None
    if 300 <= three <= 305 or two in (36, 38, 39):
        return "diners" if n >= 14 else None
    if two == 62:
        return "unionpay" if n >= 16 else None
    if 2200 <= four <= 2204:
        return "mir" if n >= 16 else None
    if two in (81, 82) or four == 9792:
        return ("rupay" if two != 97 else "troy") if n == 16 else None
    if two == 50 or 56 <= two <= 69:
        return "maestro"
    return None


_PREFIX_KINDS = {"sk": "stripe_key", "rk": "stripe_key", "hf": "huggingface_token",
                 "np": "npm_token", "gl": "gitlab_token"}
_CARD_CUE = _compile(r"card|visa|mastercard|amex|karte|tarjeta|cart[aã]o|carte|carta")
_PHONE_SEPARATORS = str.maketrans("", "", " .-/()+")


def _iban_valid(compact: str) -> bool:
    """ISO 7064 mod 97-10 over the rearranged IBAN (python-stdnum does the arithmetic)."""
    return _stdnum_mod97.is_valid(compact[4:] + compact[:4])


def _phone_region(number: phonenumbers.PhoneNumber, region: str | None) -> str | None:
    """The region a valid number belongs to, or None for an invalid one.

    Same answer as is_valid_number + region_code_for_number, but checks the likely region first:
    libphonenumber otherwise tries every region sharing the country code (25 share +1), and
    that search is most of the cost of validating a candidate.
    """
    code = number.country_code or 0  # 0: no country, region "ZZ"
    likely = region
    if likely is None or phonenumbers.country_code_for_region(likely) != code:
        likely = phonenumbers.region_code_for_country_code(code)
    if likely in (None, "ZZ"):
        return None
    if phonenumbers.is_valid_number_for_region(number, likely):
        return likely
    if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())) < 2:
        return None
    if phonenumbers.is_valid_number(number):
        return phonenumbers.region_code_for_number(number)
    return None


def _national_reading(region: str) -> tuple[str, int, str] | None:
    """How a national-format number of `region` maps to its national significant number.

    "trunk0": drop a leading 0 (GB 020…, DE 030…, FR 01…); "keep": the 0 is part of the number
    (IT 06…); "nanp": 10 digits, optionally after a 1 (US, CA); "parse": let libphonenumber work
    it out. None for an unknown region.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return None
    if metadata.country_code == 1:
        how = "nanp"
    elif metadata.national_prefix == "0" and not metadata.national_prefix_transform_rule:
        how = "trunk0"
    elif metadata.national_prefix is None:
        how = "keep"
    else:
        how = "parse"
    return (region, metadata.country_code, how)


def _national_number(digits: str, how: str, country_code: int) -> phonenumbers.PhoneNumber | None:
    if how == "trunk0":
        if len(digits) < 2 or digits[0] != "0" or digits[1] == "0":
            return None
        return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(digits[1:]))
    if how == "keep":
        zeros = len(digits) - len(digits.lstrip("0"))
        return phonenumbers.PhoneNumber(
            country_code=country_code,
            national_number=int(digits),
            italian_leading_zero=True if zeros else None,
            number_of_leading_zeros=zeros if zeros > 1 else None,
        )
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10:
        return None
    return phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))


# '0113 496 0000' is Leeds: after 011 (and 0011) a separator must follow.
_IDD = _compile(r"(?:00(?:11)?[ .\-]?|011[ .\-])(?=[1-9])", re.ASCII)


def _international(candidate: str, digits: str) -> str | None:
    """`candidate` written with a '+', or None for a national number: '+44 …' as it is,
    '00 44 …' / '011 44 …' / '0011 44 …' (an international call prefix) with the prefix read as
    the '+'."""
    if candidate[0] == "+":
        return candidate
    if digits[1] not in "01" or (idd := _IDD.match(candidate)) is None:
        return None
    return "+" + candidate[idd.end() :]


# A decimal with one point and four to six decimals is a coordinate or a measure (136.14590);
# seven or more are a phone number written with one dot (506.2345948).
_DECIMAL = _compile(r"-?[0-9]{1,3}\.[0-9]{4,6}", re.ASCII)
# An article number's scheme, written before it: its digits are a barcode's, never a card's or
# a phone's ('EAN 5908942819672', 'ISBN 978-91-28-91779-7').
_ARTICLE_BEFORE = _compile(r"(?:EAN|GTIN|ISBN|UPC)(?:-1[03])?[ :#]*$", re.ASCII | re.IGNORECASE)


def _grouped_tail(text: str, start: int) -> bool:
    """Whether `start` is inside a number grouped by single blanks ('4646 626 848 1230'): the
    scan tries each group once the first is turned down, and a tail is no number of its own.
    (Two blanks part columns: 'M 512 321 390  T 12 343 59 56'.)"""
    return (
        text[start - 1 : start] == " "
        and text[start - 2 : start - 1].isdigit()
        and text[start : start + 1].isdigit()  # ('… 1111 (415) 555-2671' is a number of its own)
    )


def _names_other_number(text: str, start: int) -> bool:
    """Whether the words just before `start` name an order's, a customer's, a ticket's or an
    article's number (not a person's phone or identifier)."""
    return _names_other_word(text[max(0, start - 28) : start].lower())


def _order_not_card(text: str, start: int) -> bool:
    """Whether a Luhn-valid number (one in ten is) is named an order's or a customer's, and no
    card word is near it: 'Order no. 5412…' is not a card. (Asked of Luhn-valid numbers only.)"""
    return _names_other_number(text, start) and not _CARD_CUE.search(
        text[max(0, start - 40) : start].lower()
    )


def _not_a_phone(text: str, start: int, end: int) -> bool:
    """Whether digits a phone plan accepts are, by what is around them, something else: a
    decimal, an article number, or a number that an order, customer, ticket or version word
    names.

    Asked only of a national-format phone found (most numbers never get here)."""
    if _DECIMAL.fullmatch(text, start, end) or _names_other_number(text, start):
        return True
    # (Only a number with a point can be a version: one search fewer for the rest.)
    return "." in text[start:end] and _VERSION_BEFORE.search(text, max(0, start - 20), start) is not None


# -- a phone by its layout: no phone word before it and no '+' number near it ------------------
# A contact block's one-letter or short label right before the number, at the start of its line
# or after a column gap: 'M 512 321 390  T 12 343 59 56', 'Mob. 4471 2231 90'.
_CONTACT_LABEL = _compile(r"(?:(?<![^\n])|(?<=  )|(?<=\t)|(?<=\| ))(?:[MTF]|Mob|Tlf|Tfn|Ph|GSM)(?:[.:] ?| )$")
# An SMS or call log line: a time stamp, the direction (FROM / TO, an arrow), then the number:
# '2024-05-02T10:11:12Z FROM 4179…', '20240502T101112 <- 5512…'.
_DIRECTION = _compile(r"(?<=[0-9Z] )(?:FROM|TO|<-|->|\u2190|\u2192) ?:? ?$")
# A person's aside, closed by the number: 'Spoke with Thea Bøe (IT lead, 21 81 55 07)', 'Meeting
# w/ Zelma Poulsen (procurement, 34 41 81 15)' - a name of two capitalised words (or an initial
# and a surname), then a role in brackets. ('Invoice (March, 4021 3378 90)' is no person.)
_PERSON_ASIDE = _compile(
    r"(?<![\w.])[A-ZÀ-ÖØ-Þ][\w'’\-]*\.?[ ][A-ZÀ-ÖØ-Þ][\w'’\-]+[ ]\((?P<role>[^()\n,0-9]{2,40}),[ ]$")
# A chat line whose whole message is the number: '[14:02] Ana Lima: 912 345 678'.
_CHAT_SPEAKER = _compile(r"\[[0-9]{1,2}[:h.][0-9]{2}(?:[:.][0-9]{2})?\] [^\n:\[\]]{2,40}: ")


def _line_ends_at(text: str, end: int) -> bool:
    """Whether nothing but a full stop or blanks follows `end` on its line."""
    rest = text[end : end + 4]
    return not rest.split("\n", 1)[0].strip(" .\r")


def _signature_lines(text: str, line: int) -> bool:
    """Whether the line at `line` follows two or more lines of words without digits (a name, a
    company, a sign-off or '--'), up to a blank line or the start of the text: a signature."""
    count, top = 0, line
    while top > 0 and count < 4:
        above = text.rfind("\n", 0, top - 1) + 1
        words = text[above : top - 1]
        if not words.strip():
            break
        if any(c.isdigit() for c in words) or len(words) > 60:
            return False
        count, top = count + 1, above
    return count >= 2


def _words_before_run(before: str) -> str:
    """What may hold the phone word of a run without separators: the 20 characters before it,
    or more of its line when only words stand between ('callback requested on 4179…'); a
    digit in between ('call 2 of 5, id 4179…') means the word was about something else."""
    line = before[-40:].rsplit("\n", 1)[-1]
    return line if len(line) > 20 and not any(c.isdigit() for c in line) else before[-20:]


def _laid_out_phone(text: str, candidate: str, start: int, end: int) -> bool:
    """Whether a number no phone word names is a phone by where it stands: after a contact
    label or an SMS log's direction, closing a person's aside in brackets, as a chat message of
    its own, or alone on a signature's line. Asked only once the cheaper readings have failed."""
    digits = sum(c.isdigit() for c in candidate)
    grouped = len(candidate) > digits
    if not (8 <= digits <= 13 or (digits == 7 and grouped)) or _COUNT.fullmatch(candidate):
        return False  # (a count's thousands, '1 234 567', are never a phone)
    line = text.rfind("\n", 0, start) + 1
    if _CONTACT_LABEL.search(text, max(line, start - 8), start) is not None:
        return True
    if digits >= 8 and text[line : line + 1].isdigit() and _DIRECTION.search(
        text, max(line, start - 8), start
    ):
        return True
    if (
        grouped
        and text[end : end + 1] == ")"
        and (aside := _PERSON_ASIDE.search(text, max(line, start - 80), start)) is not None
        and not _names_other_word(aside.group("role").lower())  # ('Jan Nowak (order no, …)')
    ):
        return True
    if not grouped or not _line_ends_at(text, end):
        return False
    if line == start:
        return _signature_lines(text, line)
    return text[line : line + 1] == "[" and _CHAT_SPEAKER.fullmatch(text, line, start) is not None


# A country calling code after a '+' (not a time zone's '+00:00', nor '1+2').
_CALLING_CODE = _compile(r"\+(?<![\w+]\+)([1-9][0-9]{0,2})", re.ASCII)
# How far around a number its document's other numbers are looked for (a letter, a signature,
# a contact list; a log block holds many documents).
_DOCUMENT_REACH = 1500


@functools.lru_cache(maxsize=256)
def _document_regions(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """The regions of the country calling codes that begin `prefixes` (the up to three digits
    after each '+' of a text: '351', '47'), North America's aside (its numbers are read as the
    default region's already)."""
    codes: dict[int, None] = {}
    for digits in prefixes:
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                codes[code] = None
                break
    return tuple(
        region
        for code in codes
        if code != 1
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
        if region != "001"
    )


# Thousands grouped by blanks after a single digit: a count or an amount ('2 311 206').
_COUNT = _compile(r"[0-9](?: [0-9]{3})+", re.ASCII)

def _regional_number(candidate: str, region: str) -> phonenumbers.PhoneNumber | None:
    """`candidate` as a valid national number of `region`, or None. (The national number is
    read off the digits where the region's trunk prefix allows: parsing costs more.)"""
    reading = _national_reading(region)
    if reading is None:
        return None
    _, country_code, how = reading
    digits = candidate.translate(_PHONE_SEPARATORS)
    if how == "keep" or (how == "trunk0" and digits[0] == "0"):
        number = _national_number(digits, how, country_code)
    else:
        # (A trunk-0 region's number printed without its 0: '1-300-15-4414' in Malaysia.)
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            return None
    if number is None:
        return None
    return number if _phone_region(number, region) == region else None


# The start tag of a tel: link, just before its text.
_TEL_LINK = _compile(r"""href=["']?tel:[^"'<>\s]*["']?[^<>]*>$""", re.IGNORECASE)

# Field separators of CSV / TSV exports.
# (A Markdown table's cells are fields too: '| Name | Phone |'.)
_FIELD_SEPARATORS = (",", ";", "\t", "|")
_FIELD_EDGES = (*_FIELD_SEPARATORS, '"')
# The characters of a URL-encoded number ('%2B45+34+41+00+28', '%2811%29+96123-4892').
_FORM_VALUE = frozenset("0123456789+%().-ABCDEF")
# The column list of an SQL INSERT: its values' names, as a CSV header names its fields.
_SQL_INSERT = _compile(r"INSERT\s+INTO\s+[^\s(]+\s*\(([^)]*)\)\s*VALUES", re.IGNORECASE)


def _separators(text: str, start: int, end: int, sep: str) -> int:
    """How many `sep` separate fields in text[start:end]: those inside a quoted field
    ('"€5,08"', '"1 893,40 zł"') do not."""
    count = text.count(sep, start, end)
    if not count or text.find('"', start, end) < 0:
        return count
    count, quoted = 0, False
    for ch in text[start:end]:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            count += 1
    return count


def _line_end_at(text: str, line: int) -> int:
    end = text.find("\n", line)
    return len(text) if end < 0 else end


def _bounded(cache: dict) -> dict:
    """The cache itself, or a fresh one once it holds 4096 verdicts (memory stays bounded)."""
    return cache if len(cache) < 4096 else {}


def _line_end(text: str) -> int:
    """End of text without its line terminator, so a masked tail keeps the line structure."""
    end = len(text)
    if end and text[end - 1] == "\n":
        end -= 1
        if end and text[end - 1] == "\r":
            end -= 1
    return end


class Redactor:
    """Finds PII in text and replaces it.

    Replacement tokens: ``[EMAIL_REDACTED]``, ``[PHONE_REDACTED]``, ``[CARD_REDACTED]``,
    ``[SSN_REDACTED]``, ``[IBAN_REDACTED]``, ``[IP_REDACTED]`` and ``[SECRET_REDACTED]`` for every
    secret (the kind of secret is in ``Finding.kind``: google_api_key, aws_access_key,
    github_token, slack_token, openai_key, jwt, private_key, url_password).

    With ``mode="pseudonym"`` each distinct value gets ``[EMAIL_1]``, ``[EMAIL_2]``… and the same
    value (after normalisation: case of emails, phone formatting, card separators…) keeps its
    pseudonym for as long as this redactor lives. Use one redactor per interaction: ``scope()``
    hands out a fresh one, ``new_interaction()`` forgets the mapping. The mapping holds only
    salted hashes, lives in memory and is never persisted.
    """

    def __init__(
        self,
        mode: Literal["token", "pseudonym"] = "token",
        default_region: str = "US",
        national_regions: Iterable[str] = ("GB", "DE", "FR", "NL", "IT"),
        engine: str = "default",
    ) -> None:
        if mode not in ("token", "pseudonym"):
            raise ValueError(f"unknown redaction mode {mode!r}; use 'token' or 'pseudonym'")
        if engine not in ENGINES:
            raise ValueError(f"unknown redaction engine {engine!r}; use one of {ENGINES}")
        self.mode = mode
        self.engine = engine
        # The NER tier loads its model now, so a missing extra fails here and not mid-stream.
        self._ner = load_ner() if engine == "ner" else None
        # libphonenumber's metadata has more patterns than `re` caches (512), so validating
        # numbers of several regions recompiles them over and over; keep them compiled.
        enable_pattern_cache = getattr(phonenumbers, "enable_pattern_cache", None)
        if enable_pattern_cache is not None:
            enable_pattern_cache()
        self.default_region = default_region.upper()
        self.national_regions = tuple(r.upper() for r in national_regions)
        # A national number starting with 0 is tried as a number of these regions, in order; any
        # other national number is read as one of the default region.
        readings = [_national_reading(r) for r in (self.default_region, *self.national_regions)]
        self._trunk_regions = tuple(
            dict.fromkeys(r for r in readings if r is not None and r[2] != "nanp")
        )
        self._plain_regions = tuple(r for r in readings[:1] if r is not None)
        self._pseudonyms: dict[bytes, str] = {}
        self._counters: dict[EntityType, int] = {}
        self._salt = os.urandom(16)
        handlers: dict[str, Callable[[str, re.Match[str]], _Verdict]] = {
            "iban": self._iban,
            "number": self._number,
            "email": self._email,
            "url_password": self._url_password,
            "ipv6": self._ipv6,
            "a_key": self._a_key,
            "jwt": self._jwt,
            "github": self._github,
            "github_pat": self._github_pat,
            "pem": self._pem,
            "slack": self._slack,
            "openai": self._openai,
            "assigned": self._assigned,
            "bearer": self._bearer,
            "prefixed": self._prefixed,
            "codice_fiscale": self._codice_fiscale,
            "lettered_id": self._lettered_id,
            "email_encoded": self._email,
            "host_ip": self._host_ip,
            "form_value": self._form_value,
        }
        self._phone_cache: dict[str, tuple[str, phonenumbers.PhoneNumber] | None] = {}
        self._possible_cache: dict[str, tuple[str, phonenumbers.PhoneNumber] | None] = {}
        # CSV headers found in the text being scanned: (line start, separator) -> its fields.
        self._csv_text: str | None = None
        self._csv_runs: dict[tuple[int, str], list[str] | None] = {}
        # The SQL INSERTs' column lists in the text being scanned, by where each starts.
        self._sql_text: str | None = None
        self._sql_headers: dict[int, list[str]] = {}
        self._sql_first = 0  # where the first INSERT of that text is
        self._found: list[_Hit] = []  # the findings of the text being scanned, so far
        self._regional_cache: dict[tuple[str, str], phonenumbers.PhoneNumber | None] = {}
        self._handlers = {marker: handlers[name] for marker, name in _SCAN_MARKERS.items()}

    def __repr__(self) -> str:
        return (
            f"Redactor(mode={self.mode!r}, default_region={self.default_region!r}, "
            f"engine={self.engine!r})"
        )

    # -- interactions ---------------------------------------------------------------------------

    def new_interaction(self) -> None:
        """Forget every pseudonym: the next interaction numbers its values from 1 again."""
        self._pseudonyms.clear()
        self._counters.clear()

    @contextlib.contextmanager
    def scope(self) -> Iterator[Redactor]:
        """A redactor of its own for one interaction (system instruction, turns, response)."""
        scoped = Redactor(self.mode, self.default_region, self.national_regions, self.engine)
        try:
            yield scoped
        finally:
            scoped.new_interaction()

    # -- redaction ------------------------------------------------------------------------------

    def redact(self, text: str) -> RedactionResult:
        hits = self._scan(text)
        if not hits:
            return RedactionResult(text, [])
        return self._apply(text, hits)

    def find(self, text: str) -> list[Finding]:
        return [Finding(h[2], h[0], h[1], h[3]) for h in self._scan(text)]

    def _apply(self, text: str, hits: list[_Hit]) -> RedactionResult:
        pieces: list[str] = []
        findings: list[Finding] = []
        last = 0
        for start, end, etype, kind, identity, _ in hits:
            pieces.append(text[last:start])
            pieces.append(self._replacement(etype, identity))
            findings.append(Finding(etype, start, end, kind))
            last = end
        pieces.append(text[last:])
        return RedactionResult("".join(pieces), findings)

    def _masked(self, text: str, hits: list[_Hit]) -> str:
        """`_apply` without the findings: the masked text alone."""
        pieces: list[str] = []
        last = 0
        token = self.mode == "token"
        for start, end, etype, _, identity, _ in hits:
            pieces.append(text[last:start])
            pieces.append(_TOKENS[etype] if token else self._replacement(etype, identity))
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    def _replacement(self, etype: EntityType, identity: object) -> str:
        if self.mode == "token":
            return _TOKENS[etype]
        if isinstance(identity, phonenumbers.PhoneNumber):
            identity = phonenumbers.format_number(identity, phonenumbers.PhoneNumberFormat.E164)
        key = hashlib.blake2b(
            f"{etype.value}\0{identity}".encode(), digest_size=16, key=self._salt
        ).digest()
        name = self._pseudonyms.get(key)
        if name is None:
            count = self._counters.get(etype, 0) + 1
            self._counters[etype] = count
            name = self._pseudonyms[key] = f"[{etype.name}_{count}]"
        return name

    def _scan(self, text: str) -> list[_Hit]:
        hits = self._scan_structured(text)
        if self.engine == "structured":
            return hits
        name_anchors, address_anchors, postal = _people_anchors(text)
        people: list[_Hit] = [
            (start, end, _NAME, kind, text[start:end].lower(), end)
            for start, end, kind in find_names(text, name_anchors)
        ]
        people += [
            (start, end, _ADDRESS, kind, " ".join(text[start:end].lower().split()), end)
            for start, end, kind in find_addresses(text, address_anchors, postal)
        ]
        if self._ner is not None:
            people += [
                (start, end, _NAME if label == "name" else _ADDRESS, "ner",
                 text[start:end].lower(), end)
                for start, end, label in self._ner(text)
            ]
        if not people:
            return hits
        return _merge(hits, people)

    def _scan_structured(self, text: str) -> list[_Hit]:
        hits: list[_Hit] = []
        self._found = hits  # (for a handler to see where the last finding ended)
        search = _candidates(text)
        handlers = self._handlers
        pos = 0
        while (m := search(pos)) is not None:
            hit = handlers[m.lastgroup](text, m)  # type: ignore[index]
            if hit is None:
                pos = m.start() + 1
                continue
            if isinstance(hit, int):
                pos = max(hit, m.start() + 1)
                continue
            start, end = hit[0], hit[1]
            # Spans extended backwards (emails, keys) can overlap an earlier hit: the longer wins.
            while hits and hits[-1][1] > start:
                previous = hits[-1]
                if previous[1] - previous[0] >= end - start:
                    break
                hits.pop()
            else:
                hits.append(hit)
            pos = max(hit[5], m.start() + 1)
        return hits

    # -- handlers: each confirms a candidate found by _SCAN, or returns None ----------------------

    def _number(self, text: str, m: re.Match[str]) -> _Verdict:
        start = m.start()
        if text[m.end() - 1] in "ABCD":
            return self._lettered_id(text, m)  # a NINO's digits
        if (cpf := national_ids.CPF_SHAPE.match(text, start)) is not None:
            # 123.456.789-09 with valid check digits is a CPF, whatever else its digits could be.
            digits = cpf.group().replace(".", "").replace("-", "")
            if id_schemes.is_valid("br_cpf", digits):
                return (start, cpf.end(), _NATIONAL_ID, "br_cpf", digits, cpf.end())
        verdict = self._shaped_number(text, m)
        if verdict is None or isinstance(verdict, int):
            # Rejected by shape or check digits: the words around it may still say what it is.
            hit = self._contextual_number(text, start)
            if isinstance(hit, tuple) and (
                (hit[2] is _PHONE_T
                and self._refused_phone(text, start, hit[1]))
                # 'Customer ID: 8937862', 'Ref. 51913559', 'ISBN 978-…': the word ("ID") names
                # the number, and it is not a person's.
                or (hit[2] is _NATIONAL_ID
                and (self._tail(text, hit[0]) or _names_other_number(text, hit[0])))
            ):
                return hit[1]
            if hit is not None:
                return hit
        elif verdict[2] is _PHONE_T and text[start] != "+":
            if _SSN_LOOSE.fullmatch(text, start, verdict[1]):
                # Nine digits that a national phone plan also accepts (DE 030 74 3022): an SSN
                # cue next to them decides.
                hit = self._contextual_number(text, start)
                if isinstance(hit, tuple) and hit[2] is _SSN_T:
                    return hit
            if self._refused_phone(text, start, verdict[1]):
                return verdict[1]
            before = text[max(0, start - 24) : start]
            if text[start - 1 : start] == "'" and (column := self._sql_column(text, start)):
                # A valid phone number in a national_id column is the identifier.
                if (named := self._named_id(text, start, column)) is not None:
                    return named
            elif id_schemes.CUE.search(before.lower()) is not None and (
                # 'CPF: 04122585872' is also a valid Italian phone number: the word decides.
                named := self._named_id(text, start, before)
            ) is not None:
                return named
        return verdict

    def _refused_phone(self, text: str, start: int, end: int) -> bool:
        """Whether a national-format number taken for a phone is, by its surroundings or its
        column, an order's, customer's or article's number (see _not_a_phone)."""
        return (
            self._tail(text, start)
            or _not_a_phone(text, start, end)
            or self._other_column(text, start, end)
        )

    def _tail(self, text: str, start: int) -> bool:
        """Whether `start` is inside a longer grouped number the scan turned down
        ('Ref: 4646 626 848 1230'); not after a finding ('Card 4000 … 8519 0161 747 2960')."""
        found = self._found
        return _grouped_tail(text, start) and not (found and found[-1][1] == start - 1)

    def _named_id(self, text: str, start: int, before: str) -> _Hit | None:
        """The identifier at `start` (or at the capitals just before it: 'AB 12 34 56 C') that
        a word in `before` names."""
        lead = _LETTERS_BEFORE.search(text, max(0, start - 7), start)
        if lead is not None and (
            found := id_schemes.identify(text, lead.start(), text[max(0, lead.start() - 48) : lead.start()])
        ) is not None:
            start = lead.start()
        elif (found := id_schemes.identify(text, start, before)) is None:
            return None
        end, kind = found
        return (start, end, _NATIONAL_ID, kind, text[start:end], end)

    def _contextual_number(self, text: str, start: int) -> _Verdict:
        """An SSN without dashes, a national ID or a phone number that a word next to it names."""
        if (cpf := national_ids.CPF_SHAPE.match(text, start)) is not None:
            digits = cpf.group().replace(".", "").replace("-", "")
            if id_schemes.is_valid("br_cpf", digits):
                return (start, cpf.end(), _NATIONAL_ID, "br_cpf", digits, cpf.end())
        if (dni := national_ids.DNI_SHAPE.match(text, start)) is not None:
            value = dni.group().replace("-", "")
            if id_schemes.is_valid("es_dni", value):
                return (start, dni.end(), _NATIONAL_ID, "es_dni", value, dni.end())
        before = text[max(0, start - 48) : start]
        if text[start - 1 : start] == "'" and (column := self._sql_column(text, start)):
            # A value of an SQL INSERT: its column's name is the word that names it (the
            # words before it are other columns' values, or the column list of the statement).
            before, cued = column, True
        else:
            cued = national_ids.ANY_CUE.search(before.lower()) is not None
        mm = _LOOSE_NUMBER.match(text, start)
        if mm is None:
            # Digits with letters or separators no phone has (131052-308T, 710319/2745).
            return self._named_id(text, start, before) if cued else None
        candidate, end = mm.group(), mm.end()
        # Trailing groups of a date or a time are not part of a number.
        digits = candidate.translate(_PHONE_SEPARATORS)
        if not 7 <= len(digits) <= 15 or _NOT_PHONE.fullmatch(candidate):
            return self._named_id(text, start, before) if cued else None
        if (
            text[start - 1 : start] in _FIELD_EDGES
            or text[end : end + 1] in _FIELD_EDGES
            or text[start - 2 : start] == "| "
        ) and self._phone_column(text, start, end):
            return (start, end, _PHONE_T, "csv_column", digits, end)
        if text[start - 1 : start] == ">" and _TEL_LINK.search(text, max(0, start - 80), start):
            # The text of a tel: link: '<a href="tel:+47-40-61-81-89">40618189</a>'.
            return (start, end, _PHONE_T, "tel_link", digits, end)
        if not cued:
            # No cue word before it (most numbers): only an SSN cue after it or a '+' remains.
            if _SSN_LOOSE.fullmatch(candidate) and national_ids.SSN_CUE.search(
                text, end, end + 24
            ):
                return (start, end, _SSN_T, None, digits, end) if national_ids.is_ssn(
                    digits
                ) else end
            if _AREA_IN_BRACKETS.fullmatch(candidate) and len(digits) >= 8:
                return (start, end, _PHONE_T, None, digits, end)
            if (hit := self._possible_international(candidate, start, end)) is not None:
                return hit
            if (
                (len(candidate) > len(digits) or (len(digits) <= 9 and text[end : end + 1] in "\n"))
                and len(digits) <= 12
                and not _COUNT.fullmatch(candidate)
                and not _SSN_LOOSE.fullmatch(candidate)
            ):
                # Grouped like a phone, or a short run alone at the end of its line (a
                # signature's, a chat message's; not a ten-digit epoch time): a number of a
                # country whose '+' numbers are written near it. (Not an SSN's shape, valid or
                # not: '531-00-1578' is nothing.)
                return self._document_region_phone(text, candidate, start, end) or (
                    (start, end, _PHONE_T, "layout", digits, end)
                    if _laid_out_phone(text, candidate, start, end) else None
                )
            if _laid_out_phone(text, candidate, start, end):
                return (start, end, _PHONE_T, "layout", digits, end)
            return None
        if _SSN_LOOSE.fullmatch(candidate) and (
            national_ids.SSN_CUE.search(before) or national_ids.SSN_CUE.search(text, end, end + 24)
        ):
            if national_ids.is_ssn(digits):
                return (start, end, _SSN_T, None, digits, end)
            return end
        if (named := self._named_id(text, start, before)) is not None:
            return named
        if (hit := self._possible_international(candidate, start, end)) is not None:
            return hit
        # Seven digits only when grouped like a local number ("(555) 0105", "555-0105"): a bare
        # seven-digit run after "number" is an order number as often as not.
        # A run without separators (an epoch time, an id) needs its phone word right before it;
        # "build 6732.622" is a version.
        grouped = len(candidate) > len(digits)
        if (
            (8 <= len(digits) <= 13 or (len(digits) == 7 and grouped and "." not in candidate))
            and national_ids.phone_cue(before if grouped else _words_before_run(before))
            and not _VERSION_BEFORE.search(before)
            and not _NOT_PHONE_BEFORE.search(before)
        ):
            return (start, end, _PHONE_T, None, digits, end)
        if _laid_out_phone(text, candidate, start, end):
            # A word of another sense near it ('Sp. z o.o.'), its label or layout says phone.
            return (start, end, _PHONE_T, "layout", digits, end)
        return None

    def _column_name(self, text: str, start: int, end: int) -> str:
        """The header of the CSV / TSV / Markdown column of which text[start:end] is a whole
        field, or "".

        The header is the top line of the run of lines with as many separators as this one;
        what each line's run turned out to be is remembered for the rest of the text, so the
        rows of a long export are walked up once, not once each.
        """
        line = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        if line_end < 0:
            line_end = len(text)
        first, last = start, end  # the field, with its quotes and a blank before it
        if first > line and text[first - 1] == '"':
            first -= 1
        if first > line and text[first - 1] == " ":
            first -= 1
        if last < line_end and text[last] == '"':
            last += 1
        if last < line_end and text[last] == " ":
            last += 1
        opening = text[first - 1] if first > line else ""
        closing = text[last] if last < line_end else ""
        sep = opening if opening in _FIELD_SEPARATORS else closing
        if sep not in _FIELD_SEPARATORS or (opening and opening != sep) or (
            closing and closing != sep
        ):
            return ""
        header = self._csv_header(text, line, sep)
        if header is None:
            return ""
        column = _separators(text, line, start, sep)
        return header[column] if column < len(header) else ""

    def _phone_column(self, text: str, start: int, end: int) -> bool:
        """Whether text[start:end] is a whole field of a CSV / TSV row under a phone header."""
        return national_ids.PHONE_COLUMN.search(self._column_name(text, start, end)) is not None

    def _other_column(self, text: str, start: int, end: int) -> bool:
        """Whether text[start:end] is a whole field under an order, customer or invoice header
        ('order_id', '| Order no. |'): a phone plan may accept its digits, the header does not."""
        if not (
            text[start - 1 : start] in _FIELD_EDGES
            or text[end : end + 1] in _FIELD_EDGES
            or text[start - 2 : start] == "| "
        ):
            return False
        name = self._column_name(text, start, end).strip(" \"'")
        return bool(name) and _names_other_word(name.lower())

    def _sql_column(self, text: str, start: int) -> str:
        """The name of the column of an SQL INSERT's VALUES whose quoted value starts at
        `start` ("national id", "phone"), or ""."""
        quote = start - 1
        if text[quote - 1 : quote] not in (",", "(", " "):
            return ""
        if text is not self._sql_text:
            first = [i for i in (text.find("INSERT"), text.find("insert")) if i >= 0]
            self._sql_text, self._sql_headers = text, {}
            self._sql_first = min(first) if first else len(text)
        line = text.rfind("\n", 0, start) + 1
        row = text.find("(", line, quote)
        if row < 0 or line <= self._sql_first:
            return ""
        # (A statement's rows are looked for within 64 KB of it: a quoted number in a text with
        # an INSERT far above is not walked back to it each time.)
        floor = max(self._sql_first, line - 65536)
        insert = max(text.rfind("INSERT", floor, line), text.rfind("insert", floor, line))
        if insert < 0:
            return ""
        header = self._sql_headers.get(insert)
        if header is None:
            mm = _SQL_INSERT.match(text, insert)
            header = self._sql_headers[insert] = [
                name.strip(" `\"'[]\n").lower().replace("_", " ") for name in mm.group(1).split(",")
            ] if mm is not None and mm.end() <= line + 1 else []
        # The commas outside quoted strings before the value count its column.
        column, quoted = 0, False
        for ch in text[row + 1 : quote]:
            if ch == "'":
                quoted = not quoted
            elif ch == "," and not quoted:
                column += 1
        return header[column] if not quoted and column < len(header) else ""

    def _csv_header(self, text: str, line: int, sep: str) -> list[str] | None:
        if text is not self._csv_text:
            self._csv_text, self._csv_runs = text, {}
        runs = self._csv_runs
        walked: list[int] = []
        count = _separators(text, line, _line_end_at(text, line), sep)
        top = line
        while (top, sep) not in runs and top:
            above = text.rfind("\n", 0, top - 1) + 1
            if _separators(text, above, top - 1, sep) != count:
                break
            walked.append(top)
            top = above
        if (top, sep) in runs:
            header = runs[(top, sep)]
        else:
            fields = text[top : _line_end_at(text, top)].split(sep)
            # (A Markdown row's outer bars leave an empty field at each end.)
            named = fields[1:-1] if sep == "|" else fields
            # A header names its columns: each starts with a letter (no number, '+' or '@').
            header = fields if count >= 2 and all(
                f.strip(" \"'") and f.strip(" \"'")[0].isalpha() for f in named
            ) else None
            runs[(top, sep)] = header
        for row in walked:
            runs[(row, sep)] = header
        return header

    def _document_region_phone(self, text: str, candidate: str, start: int, end: int) -> _Hit | None:
        """`candidate` read as a national number of a region whose international numbers
        ('+34 612 …', '+47 40 …') appear near it: a signature or contact list prints the same
        country's numbers both ways ('+351 912 352 411' above '21 235 4317')."""
        # (Found in the window for each number that needs them: fewer characters than the
        # whole of a log block, whose '+00:00' time zones and '+' numbers are many.)
        window = text[max(0, start - _DOCUMENT_REACH) : end + _DOCUMENT_REACH]
        if "+" not in window:
            return None
        for region in _document_regions(tuple(sorted(set(_CALLING_CODE.findall(window))))):
            key = (candidate, region)
            if key in self._regional_cache:
                verdict = self._regional_cache[key]
            else:
                verdict = _regional_number(candidate, region)
                self._regional_cache = _bounded(self._regional_cache)
                self._regional_cache[key] = verdict
            if verdict is not None:
                return (start, end, _PHONE_T, region, verdict, end)
        return None

    def _possible_international(self, candidate: str, start: int, end: int) -> _Hit | None:
        """Reserved and fictional ranges (+44 7700 900…) are possible, not valid: still masked."""
        if candidate[0] not in "+0":
            return None
        if candidate[0] == "0" and candidate.isdigit():
            # After 00 a bare run ('0012345678') is an id as often as a call abroad: only a
            # number libphonenumber calls valid is one ('0046701234617').
            if candidate[1] != "0" or candidate[2] == "0":
                return None
            hit = self._phone(candidate, start, end)
            return hit if isinstance(hit, tuple) else None
        if candidate in self._possible_cache:
            verdict = self._possible_cache[candidate]
        else:
            international = _international(candidate, candidate.translate(_PHONE_SEPARATORS))
            try:
                number = phonenumbers.parse(international, None) if international else None
            except phonenumbers.NumberParseException:
                number = None
            verdict = None
            # A local-only length ('+1 234 5678', no area code) is not a whole number.
            if number is not None and phonenumbers.is_possible_number_with_reason(
                number
            ) == phonenumbers.ValidationResult.IS_POSSIBLE:
                verdict = (phonenumbers.region_code_for_country_code(number.country_code or 0), number)
            self._possible_cache = _bounded(self._possible_cache)
            self._possible_cache[candidate] = verdict
        if verdict is None:
            return None
        return (start, end, _PHONE_T, verdict[0], verdict[1], end)

    def _shaped_number(self, text: str, m: re.Match[str]) -> _Verdict:
        start = m.start()
        mm = _NUMBER.match(text, start)
        if mm is None:
            return None
        shape, end = mm.lastgroup, mm.end()
        if shape == "phone":
            return self._phone(mm.group(), start, end)
        if shape == "ssn":
            area, group, serial = (
                text[start : start + 3],
                text[start + 4 : start + 6],
                text[end - 4 : end],
            )
            if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
                return end  # an SSN-shaped number outside the issued ranges is nothing else either
            return (start, end, _SSN_T, None, area + group + serial, end)
        if shape == "ipv4":
            if _VERSION_BEFORE.search(text, max(0, start - 16), start):
                return end
            if (
                end - start == 11
                and text[start + 2] == text[start + 5] == "."
                and (
                    national_ids.phone_cue(text[max(0, start - 20) : start])
                    or _laid_out_phone(text, mm.group(), start, end)
                    or self._phone_column(text, start, end)
                )
            ):
                # Four pairs of digits after a phone word: a Danish or Norwegian number
                # written with dots ('Tlf. 32.12.34.56'), not an address.
                return (start, end, _PHONE_T, None, mm.group().replace(".", ""), end)
            return (start, end, _IP, "ipv4", mm.group(), end)
        digits = mm.group().replace(" ", "").replace("-", "").replace(".", "")
        if len(digits) == 19 and mm.group("sep") is not None and not _luhn_valid(digits):
            # '4111 1111 1111 1111 234': a 16-digit card followed by another number.
            digits = digits[:16]
            end = start + 16 + 3 * len(mm.group("sep"))
        if _luhn_valid(digits) and not _ARTICLE_BEFORE.search(text, max(0, start - 12), start):
            if (brand := _card_brand(digits)) is not None and not _order_not_card(text, start):
                return (start, end, _CARD_T, brand, digits, end)
            if _CARD_CUE.search(text[max(0, start - 40) : start].lower()):
                # Luhn-valid and called a card: a card of an issuer we don't list (JCB's
                # 3500-3527, unassigned Mastercard ranges, test ranges), not an order number.
                return (start, end, _CARD_T, "other", digits, end)
        # Not a card: maybe a long phone number; otherwise skip the digits whole.
        if (pm := _PHONE.match(text, start)) is not None and (
            hit := self._phone(pm.group(), start, pm.end())
        ) is not None:
            return hit
        return mm.end()

    def _phone(self, candidate: str, start: int, end: int) -> _Verdict:
        # libphonenumber's verdict on the same digits is the same wherever they appear: logs
        # repeat numbers, and validating one costs more than everything else about it.
        if candidate in self._phone_cache:
            verdict = self._phone_cache[candidate]
        else:
            verdict = self._phone_verdict(candidate)
            self._phone_cache = _bounded(self._phone_cache)
            self._phone_cache[candidate] = verdict
        if verdict is None:
            return None
        return (start, end, _PHONE_T, verdict[0], verdict[1], end)

    def _phone_verdict(self, candidate: str) -> tuple[str, phonenumbers.PhoneNumber] | None:
        digits = candidate.translate(_PHONE_SEPARATORS)
        if not 7 <= len(digits) <= 19 or _NOT_PHONE.fullmatch(candidate):
            return None
        if (international := _international(candidate, digits)) is not None:
            try:
                number = phonenumbers.parse(international, None)
            except phonenumbers.NumberParseException:
                return None
            if (kind := _phone_region(number, None)) is not None:
                return (kind, number)
            if candidate[0] == "+":
                return None
            # '011 2345-6789' is Buenos Aires, not a call abroad: read it as national too.
        if len(digits) > 15:
            return None
        # National formats carry no country code: try the regions that could have written it.
        # The national number is known from the digits, so libphonenumber only has to validate.
        regions = self._trunk_regions if digits[0] == "0" else self._plain_regions
        for region, country_code, how in regions:
            if how == "parse":
                try:
                    number = phonenumbers.parse(candidate, region)
                except phonenumbers.NumberParseException:
                    continue
            elif (national := _national_number(digits, how, country_code)) is None:
                continue
            else:
                number = national
            if (kind := _phone_region(number, region)) is not None:
                return (kind, number)
        return None

    def _iban(self, text: str, m: re.Match[str]) -> _Verdict:
        start = m.start() - 2
        length = _IBAN_LENGTH.get(text[start : start + 2])
        if length is None or (mm := _IBAN_SHAPE.match(text, start)) is None:
            # Two capitals then digits that are no IBAN: a NINO (AB123456C) if a word names it.
            return self._lettered_id(text, m)
        raw = mm.group()
        compact = raw.replace(" ", "")
        if len(compact) < length:
            return None
        end = mm.end()
        if len(compact) > length:
            # The shape ran on into a following group ('… 7034 ABCD'): cut after `length` chars,
            # which must fall on a group boundary.
            seen = 0
            for i, ch in enumerate(raw):
                seen += ch != " "
                if seen == length:
                    end = start + i + 1
                    break
            if raw[end - start] != " ":
                return None
            compact = compact[:length]
        if not _iban_valid(compact):
            return end
        return (start, end, _IBAN_T, compact[:2], compact, end)

    def _email(self, text: str, m: re.Match[str]) -> _Verdict:
        at = m.start()
        start, floor = at, max(0, at - 64)
        # Local parts may be internationalised (RFC 6531): josé.garcía@example.com.
        while start > floor and ((ch := text[start - 1]) in _EMAIL_LOCAL or ch.isalnum()):
            start -= 1
        while start < at and text[start] in ".-":
            start += 1
        if start == at or text[at - 1] == ".":
            return None
        end = m.end()
        # An encoded address is the same address: it keeps the same pseudonym.
        identity = urllib.parse.unquote(text[start:end].lower())
        return (start, end, _EMAIL, None, identity, end)

    def _url_password(self, text: str, m: re.Match[str]) -> _Verdict:
        userinfo_start = m.start() + 3
        colon = text.index(":", userinfo_start, m.end())
        start, end = colon + 1, m.end() - 1
        # Resume after the '@' so the host is not read as the domain of an email; on the '@'
        # when an IPv4 address follows it, for the host_ip branch.
        resume = m.end() - 1 if text[m.end() : m.end() + 1].isdigit() else m.end()
        return (start, end, _SECRET, "url_password", text[start:end], resume)

    def _form_value(self, text: str, m: re.Match[str]) -> _Verdict:
        key = _raw_key_before(text, m.start())
        if text[m.start() - len(key) - 1 : m.start() - len(key)] not in ("&", "?"):
            return None  # not a field of a query string or form body
        start = m.start() + 1
        end = start
        while end < len(text) and text[end] in _FORM_VALUE:
            end += 1
        value = urllib.parse.unquote_plus(text[start:end])
        digits = value.translate(_PHONE_SEPARATORS)
        if not digits.isdigit():
            return None
        if _CARD_CUE.search(key.lower()) and 13 <= len(digits) <= 19 and _luhn_valid(digits):
            return (start, end, _CARD_T, _card_brand(digits) or "other", digits, end)
        if national_ids.PHONE_COLUMN.search(key.replace("_", " ")) and 7 <= len(digits) <= 15:
            return (start, end, _PHONE_T, "form_field", digits, end)
        return None

    def _host_ip(self, text: str, m: re.Match[str]) -> _Verdict:
        start = m.start() + 1
        if (mm := _NUMBER.match(text, start)) is None or mm.lastgroup != "ipv4":
            return None
        return (start, mm.end(), _IP, "ipv4", mm.group(), mm.end())

    def _ipv6(self, text: str, m: re.Match[str]) -> _Verdict:
        start = colon = m.start()
        floor = max(0, colon - 4)
        while start > floor and text[start - 1] in _HEX:
            start -= 1
        if start and (text[start - 1].isalnum() or text[start - 1] in "_:."):
            return None
        mm = _IPV6.match(text, start)
        if mm is None:
            return None
        end = mm.end()
        if end < len(text) and (text[end].isalnum() or text[end] in "_:"):
            return None
        address = mm.group().partition("%")[0]
        # 'a::b' and 'dead::beef' are code, not addresses; real ones carry at least one digit.
        if not any(ch in _DIGITS for ch in address):
            return None
        # The C parser: as strict as `ipaddress` (checked on its edge cases) at a twentieth of
        # the cost, and its compressed form is the same (RFC 5952) but for IPv4-mapped tails.
        try:
            identity = socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, address))
        except OSError:
            return None
        return (start, end, _IP, "ipv6", identity, end)

    def _assigned(self, text: str, m: re.Match[str]) -> _Verdict:
        """`aws_secret_access_key = wJalr…`, `"password": "…"`: the value of a secret-named key."""
        lead = m.start()
        raw = _raw_key_before(text, lead)
        key = raw.lower().replace("_", "").replace("-", "")
        if not key.endswith(_SECRET_KEY_NAMES):
            return None
        start = lead + 1
        while start < len(text) and text[start] in " \t":
            start += 1
        quote = text[start] if start < len(text) and text[start] in "\"'" else ""
        start += len(quote)
        # 'pass' only as a word of its own ('SMTP_PASS', 'db-pass'), not 'bypass' or 'compass'.
        password = key.endswith(_PASSWORD_KEY_NAMES) and (
            not key.endswith("pass") or key == "pass" or raw[-5:-4] in ("_", "-")
        )
        vm = (_QUOTED_VALUE[quote] if quote and password else _SECRET_VALUE).match(text, start)
        if vm is None:
            return None
        value = vm.group().rstrip(".")
        if len(value) < 8:
            return None
        end = start + len(value)
        aws = "aws" in key or "secretaccesskey" in key
        if aws and len(value) == 40:
            return (start, end, _SECRET, "aws_secret_key", value, end)
        if _PLACEHOLDER.match(value):
            return None
        if password:
            return (start, end, _SECRET, "password", value, end)
        # Another key's value must look random: letters and digits, not a number nor words
        # ('my-app-secret', 'YOUR_API_KEY', 'NotAvailableYet').
        if len(value) < 12 or not any(c.isdigit() for c in value) or value.isdigit():
            return None
        return (start, end, _SECRET, "assigned_secret", value, end)

    def _bearer(self, text: str, m: re.Match[str]) -> _Verdict:
        start = m.start() + 1
        while text[start] in " \t":
            start += 1
        scheme = start
        while text[start].isalpha():
            start += 1
        scheme_name = text[scheme:start].lower()
        # 'Bearer' says enough; 'Basic' and 'Token' only in an Authorization header.
        if scheme_name != "bearer" and not _key_before(text, m.start()).endswith("authorization"):
            return None
        while text[start] in " \t":
            start += 1
        end = m.end()
        token = text[start:end]
        if token.startswith("eyJ") and token.count(".") == 2:
            kind = "jwt"
        else:
            kind = "basic_auth" if scheme_name == "basic" else "bearer_token"
        return (start, end, _SECRET, kind, token, end)

    def _codice_fiscale(self, text: str, m: re.Match[str]) -> _Verdict:
        start = m.start() - 6
        mm = national_ids.CODICE_FISCALE.match(text, start)
        if mm is None or not national_ids.is_codice_fiscale(mm.group()):
            return None
        return (start, mm.end(), _NATIONAL_ID, "it_codice_fiscale", mm.group(), mm.end())

    def _lettered_id(self, text: str, m: re.Match[str]) -> _Verdict:
        """An identifier whose capitals stand before the digit the scan stopped on: by its
        check alone (NIE, CURP), or named by a word before it (PAN, NINO)."""
        lead = _ID_LEAD.search(text, max(0, m.start() - 8), m.start())
        if lead is None:
            return None
        start = lead.start()
        for shape, kind in national_ids.LETTERED_SHAPES:
            if (mm := shape.match(text, start)) is not None and id_schemes.is_valid(kind, mm.group()):
                return (start, mm.end(), _NATIONAL_ID, kind, mm.group(), mm.end())
        before = text[max(0, start - 48) : start]
        if text[start - 1 : start] == "'" and (column := self._sql_column(text, start)):
            before = column
        elif id_schemes.CUE.search(before.lower()) is None:
            return None
        if (found := id_schemes.identify(text, start, before)) is None:
            return None
        return (start, found[0], _NATIONAL_ID, found[1], text[start : found[0]], found[0])

    def _a_key(self, text: str, m: re.Match[str]) -> _Verdict:
        start, end = m.start(), m.end()
        kind = "google_api_key" if text[start + 1] == "I" else "aws_access_key"
        return (start, end, _SECRET, kind, text[start:end], end)

    def _jwt(self, text: str, m: re.Match[str]) -> _Verdict:
        start, end = m.start() - 2, m.end()
        return (start, end, _SECRET, "jwt", text[start:end], end)

    def _github(self, text: str, m: re.Match[str]) -> _Verdict:
        start, end = m.start() - 3, m.end()
        return (start, end, _SECRET, "github_token", text[start:end], end)

    def _github_pat(self, text: str, m: re.Match[str]) -> _Verdict:
        start, end = m.start() - 6, m.end()
        return (start, end, _SECRET, "github_token", text[start:end], end)

    def _prefixed(self, text: str, m: re.Match[str]) -> _Verdict:
        """A token whose prefix names its issuer: walk back over the prefix to its start (the
        branch made sure no word character is glued before it)."""
        start, end = m.start(), m.end()
        while start and text[start - 1] in _KEY_CHARS:
            start -= 1
        # Real tokens are random: a run of one case without a digit is a word.
        body = text[m.start() + 1 : end]
        if not any(ch in _DIGITS for ch in body) and (body.islower() or body.isupper()):
            return None
        return (start, end, _SECRET, _PREFIX_KINDS[text[start:start + 2]], text[start:end], end)

    def _slack(self, text: str, m: re.Match[str]) -> _Verdict:
        start, end = m.start() - 4, m.end()
        return (start, end, _SECRET, "slack_token", text[start:end], end)

    def _openai(self, text: str, m: re.Match[str]) -> _Verdict:
        start, end = m.start() - 2, m.end()
        # Real keys are random; a long hyphenated phrase after 'sk-' has no digit in it.
        if not any(ch in _DIGITS for ch in text[m.start() + 1 : end]):
            return None
        return (start, end, _SECRET, "openai_key", text[start:end], end)

    def _pem(self, text: str, m: re.Match[str]) -> _Verdict:
        start = m.start()
        closing = _PEM_END.search(text, m.end())
        # A block without its END line (a truncated paste) is masked to the end of the text.
        end = closing.end() if closing is not None else max(_line_end(text), m.end())
        return (start, end, _SECRET, "private_key", text[start:end], end)


def _merge(hits: list[_Hit], people: list[_Hit]) -> list[_Hit]:
    """Both lists in text order, overlaps settled for the longer span."""
    merged: list[_Hit] = []
    for hit in sorted(hits + people, key=lambda h: (h[0], -h[1])):
        if merged and hit[0] < merged[-1][1]:
            last = merged[-1]
            if hit[1] - hit[0] > last[1] - last[0]:
                merged[-1] = hit
            continue
        merged.append(hit)
    return merged


def load_ner() -> Callable[[str], list[tuple[int, int, str]]]:
    """The NER tier (`pip install gemops[ner]`): spaCy's PERSON, GPE/LOC/FAC entities."""
    from console.services.redaction import ner

    return ner.load()


@functools.cache
def _default_redactor() -> Redactor:
    # Built on first use, not at import: it loads libphonenumber metadata for several regions.
    return Redactor()


def redact(text: str) -> str:
    """Mask every entity in ``text`` with its ``[TYPE_REDACTED]`` token."""
    return _default_redactor().redact(text).text


def redact_lines(
    lines: Iterable[str], redactor: Redactor | None = None
) -> Iterator[RedactionResult]:
    """Redact line by line, keeping one result per line.

    A PEM private key spans lines, so once a line opens a block without closing it, the lines
    that follow are masked whole (with the same token or pseudonym) until its END line.
    """
    redactor = redactor or _default_redactor()
    scanned = ((line, redactor._scan(line)) for line in lines)
    for text, findings, _, _ in _redact_lines(scanned, redactor, True):
        yield RedactionResult(text, findings)


def _redact_lines(
    scanned: Iterable[tuple[str, list[_Hit]]], redactor: Redactor, keep_findings: bool,
    open_block: str | None = None,
) -> Iterator[tuple[str, list[Finding], int, str | None]]:
    """(masked text, findings, how many, the key left open) per (line, its hits); without
    `keep_findings` the findings list stays empty (`gemops redact` only counts them, and building
    them cost a tenth of its time). The hits were found for the whole line; a line that goes on a
    private key left open above (`open_block`: its BEGIN line) is scanned again from the key's
    end."""
    for line, line_hits in scanned:
        offset, head, token = 0, None, ""
        hits = line_hits
        if open_block is not None:
            closing = _PEM_END.search(line)
            offset = closing.end() if closing is not None else _line_end(line)
            if offset:
                head = Finding(_SECRET, 0, offset, "private_key")
                token = redactor._replacement(_SECRET, open_block)
            if closing is not None:
                open_block = None
            hits = redactor._scan(line[offset:])
        rest = line[offset:] if offset else line
        if hits and hits[-1][3] == "private_key":
            block = rest[hits[-1][0] : hits[-1][1]]
            if _PEM_END.search(block) is None:
                open_block = block
        count = len(hits) + (head is not None)
        if keep_findings:
            result = redactor._apply(rest, hits) if hits else RedactionResult(rest, [])
            findings = [
                Finding(f.type, f.start + offset, f.end + offset, f.kind)
                for f in result.findings
            ] if offset else result.findings
            if head is not None:
                findings.insert(0, head)
            yield token + result.text, findings, count, open_block
        else:
            yield token + (redactor._masked(rest, hits) if hits else rest), [], count, open_block


# Half a megabyte: enough text per scan that the per-call costs vanish, small enough that the
# workers share the last blocks of a stream evenly.
BLOCK_CHARS = 1 << 19
_Item = TypeVar("_Item")
_Found = TypeVar("_Found")


def _blocks(infile: IO[AnyStr], newline: AnyStr) -> Iterator[AnyStr]:
    """Whole lines in blocks of about `BLOCK_CHARS` characters (or bytes)."""
    size = BLOCK_CHARS
    carry = newline[:0]
    while chunk := infile.read(size):
        cut = chunk.rfind(newline) + 1
        if not cut:
            carry += chunk
            continue
        yield carry + chunk[:cut]
        carry = chunk[cut:]
    if carry:
        yield carry


def _line_batches(infile: TextIO) -> Iterator[list[str]]:
    """Input lines without their line endings, in lists of about `BLOCK_CHARS` characters."""
    size = BLOCK_CHARS
    batch: list[str] = []
    chars = 0
    for line in infile:
        batch.append(line[: _line_end(line)])
        chars += len(line)
        if chars >= size:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def _scanned(
    items: Iterable[_Item], scan: Callable[[_Item], _Found], workers: int
) -> Iterator[tuple[_Item, _Found]]:
    """Each item with what `scan` found in it, scanned by `workers` processes, in order."""
    sent: deque[_Item] = deque()

    def remembered() -> Iterator[_Item]:
        for item in items:
            sent.append(item)  # the workers get a copy; the text stays here for masking
            yield item

    for found in ordered_map(scan, remembered(), workers):
        yield sent.popleft(), found


def redact_stream(
    infile: TextIO, outfile: TextIO, *, as_json: bool, mode: str = "token",
    engine: str = "default", jobs: int | None = None,
) -> int:
    """`gemops redact`: copy infile to outfile with PII masked; return how many entities were found.

    The whole stream counts as one interaction, so pseudonyms stay consistent across its lines.
    With ``as_json`` each input line becomes ``{"text": …, "findings": [{type, start, end,
    kind}]}`` (spans index the input line without its line ending).

    Finding entities is most of the work and each block's is independent, so past the first
    block it runs in `jobs` forked processes (default: the CPUs this process may use); masking
    stays here, in input order, so pseudonyms are numbered as in one process.
    """
    if mode not in ("token", "pseudonym"):
        raise ValueError(f"unknown redaction mode {mode!r}; use 'token' or 'pseudonym'")
    redactor = Redactor(mode=mode, engine=engine)  # type: ignore[arg-type]
    # spaCy runs threads of its own: the NER engine stays in one process.
    workers = 1 if engine == "ner" else (jobs or available_cpus())
    # Built before the workers fork: they inherit them, and share their memory (and so the
    # processor's cache) instead of each building a copy of its own.
    _prefilter()
    if engine != "structured":
        _prepare_people()
    if mode == "token" and not as_json:
        return _token_stream(infile, outfile, redactor, workers)
    scanned: Iterable[tuple[str, list[_Hit]]]
    if as_json:
        scanned = (
            pair
            for batch, hits in _scanned(
                _line_batches(infile), lambda batch: [redactor._scan(line) for line in batch],
                workers)
            for pair in zip(batch, hits, strict=True)
        )
    else:
        # Whole lines in blocks: one scan per block instead of per line. A private key left
        # open at a block's end is masked on into the next.
        scanned = _scanned(_blocks(infile, "\n"), redactor._scan, workers)
    total = 0
    write = outfile.write
    for text, findings, count, _ in _redact_lines(scanned, redactor, as_json):
        total += count
        if as_json:
            record = {"text": text, "findings": [f.as_dict() for f in findings]}
            write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            write(text)
    return total


def _masked_block(redactor: Redactor, block: str) -> tuple[str, int, bool]:
    """A block masked with tokens, how many entities it held, and whether it ends inside a
    private key."""
    hits = redactor._scan(block)
    if not hits:
        return block, 0, False
    start, end, _, kind, _, _ = hits[-1]
    open_key = kind == "private_key" and _PEM_END.search(block, start, end) is None
    return redactor._masked(block, hits), len(hits), open_key


def _masked_bytes(
    redactor: Redactor, errors: tuple[str, str], block: bytes
) -> tuple[bytes, int, bool]:
    """`_masked_block` of UTF-8 bytes, decoded and encoded with `errors` (input's, output's)."""
    masked, count, open_key = _masked_block(redactor, block.decode("utf-8", errors[0]))
    return masked.encode("utf-8", errors[1]), count, open_key


def _utf8_buffers(infile: TextIO, outfile: TextIO) -> tuple[BinaryIO, BinaryIO] | None:
    """The byte streams under two UTF-8 text streams (stdin and stdout), where both have one."""
    inner, outer = getattr(infile, "buffer", None), getattr(outfile, "buffer", None)
    if inner is None or outer is None or any(
        codecs.lookup(stream.encoding).name != "utf-8" for stream in (infile, outfile)
    ):
        return None
    outfile.flush()
    return inner, outer


def _token_stream(infile: TextIO, outfile: TextIO, redactor: Redactor, workers: int) -> int:
    """`redact_stream` with tokens: a token does not depend on what came before it, so the
    workers mask as well as scan and send back each masked block, a copy of its text, where
    the hits would be tens of thousands of tuples for this process to unpickle and apply.
    They also decode and encode, so that between UTF-8 streams (stdin and stdout) this process
    only moves bytes, and the input's line endings are kept as they are."""
    buffers = _utf8_buffers(infile, outfile)
    blocks: Iterable[bytes]
    write: Callable[[bytes], object]
    if buffers is not None:
        blocks, write = _blocks(buffers[0], b"\n"), buffers[1].write
        errors = (infile.errors or "strict", outfile.errors or "strict")
    else:  # a text stream of another encoding, or with no bytes under it (StringIO)
        errors = ("surrogatepass", "surrogatepass")
        blocks = (text.encode("utf-8", errors[0]) for text in _blocks(infile, "\n"))

        def write(data: bytes) -> None:
            outfile.write(data.decode("utf-8", errors[1]))

    total = 0
    open_key: str | None = None
    masking = functools.partial(_masked_bytes, redactor, errors)
    for block, (masked, count, opens) in _scanned(blocks, masking, workers):
        if open_key is not None:
            # The block goes on a private key opened in the one before (rare): mask it again
            # from the key's end, as a line would be.
            text, _, count, open_key = next(_redact_lines(
                [(block.decode("utf-8", errors[0]), [])], redactor, False, open_key))
            masked = text.encode("utf-8", errors[1])
        else:
            open_key = "" if opens else None
        total += count
        write(masked)
    return total
