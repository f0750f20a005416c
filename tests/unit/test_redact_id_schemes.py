"""National identifiers of many countries, each named by its own word and checked by
python-stdnum; an order number under "ID:" is not tried against all of them."""

from __future__ import annotations

import pytest

from console.services.redaction.id_schemes import SCHEMES, identify, is_valid

# (words before, the identifier as written, what follows it, kind); values from each scheme's
# published examples, checked by stdnum.
NAMED = [
    ("CPR-nr.: ", "211062-5629", " (DK)", "dk_cpr"),
    ("Personnummer ", "880320-0016", ".", "se_personnummer"),
    ("henkilötunnus ", "131052-308T", ",", "fi_hetu"),
    ("rodné číslo ", "710319/2745", " ", "cz_rc"),
    ("Rijksregisternummer: ", "85.07.30-033.28", "", "be_nn"),
    ("AHV-Nr. ", "756.9217.0769.85", "", "ch_ssn"),
    ("PPSN ", "6433435F", " and", "ie_pps"),
    ("PESEL: ", "44051401359", "", "pl_pesel"),
    ("TC Kimlik No: ", "17291716060", "", "tr_tckimlik"),
    ("fødselsnummer ", "15108695088", "", "no_fodselsnummer"),
    ("NIE ", "X-2482300-W", "", "es_nie"),
    ("Cartão de Cidadão ", "00000000 0 ZZ4", " x", "pt_cc"),
    ("PAN: ", "ACUPA7085R", "", "in_pan"),
    ("RUT ", "12.531.909-2", "", "cl_rut"),
    ("身份证", "360426199101010071", "", "cn_ric"),
    ("주민등록번호 ", "971013-9019902", "", "kr_rrn"),
    ("マイナンバー ", "6214 9832 0257", "", "jp_mynumber"),
    ("CURP ", "BOXW310820HNERXN09", "", "mx_curp"),
    ("NHS number ", "943 476 5919", "", "gb_nhs"),
    ("National Insurance number: ", "AB 12 34 56 C", ".", "gb_nino"),
]


@pytest.mark.parametrize(("before", "value", "after", "kind"), NAMED)
def test_an_identifier_named_by_its_word_is_found_whole(before, value, after, kind):
    text = before + value + after
    assert identify(text, len(before), before) == (len(before) + len(value), kind)


def test_a_phrase_naming_no_country_tries_every_checked_scheme():
    before = "Employee national ID: "
    text = before + "44051401359"
    assert identify(text, len(before), before) == (len(text), "pl_pesel")


@pytest.mark.parametrize("before", ["Order ID: ", "ticket id# ", "run ", "PESEL: "])
def test_numbers_no_word_names_or_that_fail_their_check_are_kept(before):
    # A valid PESEL after "Order ID:" is an order number; "44051401358" fails PESEL's check.
    value = "44051401359" if "PESEL" not in before else "44051401358"
    assert identify(before + value, len(before), before) is None


def test_every_scheme_has_a_working_validator():
    for scheme in SCHEMES:
        assert is_valid(scheme.kind, "0") is False, scheme.kind
