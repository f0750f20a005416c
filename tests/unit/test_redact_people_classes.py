"""Issue 12, third pass: classes of names and street addresses found by structure (form labels,
surname-first order, JSON keys, mailboxes, quoted replies, CSV columns, titles) and address
layouts (place names in capitals, next-line postcodes, Indian PIN blocks), with examples of
their own; and the look-alikes each class must leave alone."""

from __future__ import annotations

import pytest

from console.services.redact import Redactor
from console.services.redaction import people


def found(text: str, etype: str) -> list[str]:
    return [text[f.start : f.end] for f in Redactor().find(text) if f.type.value == etype]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # Form labels with their colon, in any case.
        ("Reports to: Quenby Thistlewood\nLaptop: Gemma 2", ["Quenby Thistlewood"]),
        ("SUPERVISOR: Quenby Thistlewood", ["Quenby Thistlewood"]),
        # Surname first after a label, the surname in capitals or not.
        ("Employee name: THISTLEWOOD, Quenby\nStart date: 2025-01-10",
         ["THISTLEWOOD, Quenby"]),
        ("Employee name: VAN BRACKWATER, Oriel\n", ["VAN BRACKWATER, Oriel"]),
        # JSON values under a key that holds a person; the assistant is no one.
        ('{"user": "Oriel Brackwater", "text": "hi"}\n{"user": "Assistant", "text": "ok"}',
         ["Oriel Brackwater"]),
        # Display names before a mailbox.
        ("From: Quenby Thistlewood <qt@example.org>\nTo: help@support.example",
         ["Quenby Thistlewood"]),
        ("On Mon, 3 Feb 2025 at 10:00, Oriel Brackwater <ob@example.org> wrote:",
         ["Oriel Brackwater"]),
        # A sign-off inside a quoted reply.
        ("> Kind regards,\n> Quenby Thistlewood\n> Customer Care", ["Quenby Thistlewood"]),
        # A cue before a quote: the chat message's text opens with the cue.
        ('{"text": "Thanks Quenby, I have opened a ticket"}', ["Quenby"]),
        # After a title the surname is a name, whatever the word, particles included.
        ("Customer Mrs. Little called about her order.", ["Little"]),
        ("I'll escalate it to Dr. Day.", ["Day"]),
        ("[09:31] Ms. van Dongen: please update my address", ["van Dongen"]),
        # Given names that are English words count after a strong cue.
        ("Thanks Dean, I have opened it.", ["Dean"]),
        ("Emergency contact: Iris Thistlewood (mother)", ["Iris Thistlewood"]),
        # Romanian comma-below letters.
        ("Hi Speranța, your parcel is on its way.", ["Speranța"]),
        # A name from a locale the first gazetteer lacked, with no cue at all.
        ("Yesterday Gytė Kavaliauskienė called twice.", ["Gytė Kavaliauskienė"]),
        # Lists after a label, with notes in brackets.
        ("Attendees: Quenby Thistlewood (chair), Oriel Brackwater and Ines Vardy.",
         ["Quenby Thistlewood", "Oriel Brackwater", "Ines Vardy"]),
        ("Cc: Quenby Thistlewood; Support Team", ["Quenby Thistlewood"]),
        # Cyrillic and Greek names after cues; a signature after "-- ".
        ("Patient: Федот Лапина\nDOB: 1984-02-11", ["Федот Лапина"]),
        ("Signed,\nΓεώργιος Παπαδόπουλος\nHead of Operations", ["Γεώργιος Παπαδόπουλος"]),
        ("-- \nQuenby Thistlewood\nSenior Engineer", ["Quenby Thistlewood"]),
        # Who did what in a ticket's history; a cue word that is a surname too.
        ("Ticket #4411 opened by Quenby Thistlewood yesterday.", ["Quenby Thistlewood"]),
        ("Driver Sipho Dlamini will deliver the parcel.", ["Sipho Dlamini"]),
    ],
)
def test_name_classes(text: str, names: list[str]) -> None:
    assert found(text, "name") == names


def test_csv_name_columns_are_read_from_the_header() -> None:
    text = (
        "customer_id,full_name,email,city\n"
        "1,Quenby Thistlewood,qt@example.org,Leeds\n"
        '2,"BRACKWATER, Oriel",ob@example.org,York\n'
        "\n"
        "Totals,Leeds,York\n"
    )
    assert found(text, "name") == ["Quenby Thistlewood", "BRACKWATER, Oriel"]
    # Only the header's name column: the cities and the table after the blank line stay.
    assert people.find_names("sku,colour\nGemini Flash,Red\n") == []


@pytest.mark.parametrize(
    "text",
    [
        "On Tue, 4 Mar 2025 at 09:12, the build finished.",  # "Mar" is a given name too
        "Mar 4 and Jun 12 are holidays.",
        "Thanks, Job done.",  # a given name elsewhere, an English word here
        '{"user": "System", "text": "restarted"}',
        "Dear Customer Support, the JSON export failed.",
    ],
)
def test_name_look_alikes_are_kept(text: str) -> None:
    assert found(text, "name") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # Place names in capitals before a state (AU) or after a postcode (FR).
        ("Bill to:\nAna Lee\n12 Harbour Firetrail\nWOLLONGBAR NSW 2477\nE-mail: a@b.example",
         "12 Harbour Firetrail\nWOLLONGBAR NSW 2477"),
        ("Home address: 46 Schultz Ronde, ST. RACHEL TAS 2612\nMobile: none",
         "46 Schultz Ronde, ST. RACHEL TAS 2612"),
        ("55 boulevard de la Liberté\n59000 LILLE CEDEX\n", "55 boulevard de la Liberté\n59000 LILLE CEDEX"),
        # A Brazilian CEP without its dash, on the next line.
        ("Entrega:\nTrevo do Sol, 81\n30140071 Belo Horizonte\n",
         "Trevo do Sol, 81\n30140071 Belo Horizonte"),
        # The Japanese postcode on its own line, full-width Latin in a building's name.
        ("〒150-0041\n東京都渋谷区神南ＪＰタワー1丁目2番3号\n", "〒150-0041\n東京都渋谷区神南ＪＰタワー1丁目2番3号"),
        # Indian blocks ending in " - PIN".
        ("Ship to: 45/7, Verma\nLucknow - 226001\nThanks", "45/7, Verma\nLucknow - 226001"),
        ("send it to H.No. 9, Joshi, Sangli-Miraj & Kupwad - 416416 please",
         "H.No. 9, Joshi, Sangli-Miraj & Kupwad - 416416"),
        # Particles and hyphens inside place names; a label on the next line is no city.
        ("Kallertplatz 7, 32006 Rothenburg ob der Tauber\nMobile: +49 30 1234567",
         "Kallertplatz 7, 32006 Rothenburg ob der Tauber"),
        ("Tulpstraat 5\n3309NX West-Terschelling\nE-mail: x@y.example",
         "Tulpstraat 5\n3309NX West-Terschelling"),
        # A country on the last line.
        ("1600 Amphitheatre Pkwy\nMountain View, CA 94043\nUSA\n\nThanks",
         "1600 Amphitheatre Pkwy\nMountain View, CA 94043\nUSA"),
    ],
)
def test_address_layouts(text: str, address: str) -> None:
    assert found(text, "address") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "Release notes - 226001 downloads so far.",  # " - PIN" without a house number before it
        "Chapter 3 Part 2 covers the API.",  # a street type with no street name
        "The meeting ends at 10:00 - 120000 ms timeout.",
    ],
)
def test_address_look_alikes_are_kept(text: str) -> None:
    assert found(text, "address") == []


@pytest.mark.parametrize(("text", "names"), [
    # A legal form ends a company's name, after the same cues a person's follows.
    ("Customer: ACME CORP", []),
    ("Bill to: Kestrel Holdings Ltd", []),
    ("Assigned to: Quenby Thistlewood GmbH", []),  # (it was masked up to 'Gmb', leaving 'H')
    ("Spoke with Nordic Solutions AB today", []),
    # ... and only a whole word is one.
    ("Customer: QUENBY THISTLEWOOD", ["QUENBY THISTLEWOOD"]),
    ("Owner: Quenby Thistlewood AB-ansvarig", ["Quenby Thistlewood"]),
])
def test_companies_are_no_names(text: str, names: list[str]) -> None:
    assert found(text, "name") == names
