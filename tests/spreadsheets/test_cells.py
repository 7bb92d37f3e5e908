"""One cell as people in Viet Nam write it: numbers, money, dates, yes/no, labels, text, lists."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.core.i18n import say
from app.core.labels import LabelledEnum
from app.models import (
    AdminType,
    CooperativeSector,
    CraftGroup,
    FundingSource,
    ProgrammeActivity,
    ProgrammeStatus,
    VillageStatus,
)
from app.spreadsheets.cells import (
    BIGINT,
    EXACT_FLOAT,
    CellError,
    CellProblem,
    Problems,
    ambiguous_without_accents,
    check,
    parse_bool,
    parse_date,
    parse_enum,
    parse_integer,
    parse_list,
    parse_money,
    parse_text,
    unaccented,
)

SEPARATORS = [".", ",", " ", "\u00a0", "\u202f", "\u2009"]


def vietnamese(number: int, separator: str) -> str:
    return f"{number:,}".replace(",", separator)


def error_of(parse: object, value: object) -> CellError:
    with pytest.raises(CellError) as caught:
        parse(value)  # type: ignore[operator]
    message = caught.value.message
    assert say(message, "vi") != str(message), f"no Vietnamese for {message.template!r}"
    return caught.value


# Numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("4.100.000.000.000", 4_100_000_000_000),
        ("4,100,000,000,000", 4_100_000_000_000),
        ("1 250", 1250),
        ("1\u00a0250", 1250),  # no-break space, as Excel and Word write it
        ("1\u202f250\u202f000", 1_250_000),
        ("1.250", 1250),
        ("1,250", 1250),
        ("1,250,000", 1_250_000),
        ("  42 ", 42),
        ("007", 7),
        ("-5", -5),
        ("\u22125", -5),
        ("0", 0),
        ("", None),
        ("   ", None),
    ],
)
def test_vietnamese_and_english_grouping(text: str, number: int | None) -> None:
    assert parse_integer(text) == number


@pytest.mark.parametrize(
    "text",
    [
        "4,1",
        "4.1",
        "4,10",
        "1.2345",
        "12.34.567",
        "1.250,00",
        "1,250.5",
        "1.250.00",
        "1 25",
        "1  250",
        "1,2,3",
    ],
)
def test_ambiguous_numbers_are_refused(text: str) -> None:
    error = error_of(parse_integer, text)
    assert "ambiguous" in error.message and text in error.message
    assert "nhiều cách" in say(error.message, "vi")


@pytest.mark.parametrize("text", ["abc", "12a", "1e5", "--5", "1.2e3", "١٢", "½", "0x10", "1_000"])
def test_what_is_not_a_number(text: str) -> None:
    assert error_of(parse_integer, text).message == "must be a whole number"


def test_number_cells() -> None:
    assert parse_integer(1250.0) == 1250
    assert parse_integer(1250) == 1250
    assert parse_integer(None) is None
    assert parse_integer(float(EXACT_FLOAT)) == EXACT_FLOAT
    assert "fractional" in error_of(parse_integer, 2.5).message
    assert "fractional" in error_of(parse_integer, float("nan")).message
    assert "exact" in error_of(parse_integer, 1e16).message  # above 2^53: not exact in Excel
    assert error_of(parse_integer, True).message == "must be a whole number"
    assert error_of(parse_integer, dt.date(2015, 1, 1)).message == "must be a whole number"


def test_bounds() -> None:
    assert parse_integer("5", minimum=0, maximum=10) == 5
    assert error_of(lambda v: parse_integer(v, minimum=0), "-1").message == "must be at least 0"
    assert error_of(lambda v: parse_integer(v, maximum=10), "11").message == "must be at most 10"
    assert error_of(parse_integer, "9.223.372.036.854.775.808").message.startswith("must be at most")
    assert error_of(parse_integer, "-9.223.372.036.854.775.809").message.startswith("must be at least")


def test_money() -> None:
    assert parse_money("4.100.000.000.000 đ") == 4_100_000_000_000
    assert parse_money("125.000.000 VNĐ") == 125_000_000
    assert parse_money("125,000,000 vnd") == 125_000_000
    assert parse_money("1.250₫") == 1250
    assert parse_money("1 250 đồng") == 1250
    assert parse_money(4_100_000_000_000.0) == 4_100_000_000_000
    # Money above 2^53 đồng is exact as text (the exporter writes such cells as text)
    assert parse_money("9.007.199.254.740.993") == 2**53 + 1
    assert error_of(parse_money, "-5").message == "must be at least 0"
    assert "ambiguous" in error_of(parse_money, "4,1").message
    assert error_of(parse_integer, "5 đ").message == "must be a whole number"  # counts take no đ
    assert error_of(parse_money, "4,1 tỷ").message == "must be a whole number"


@given(st.integers(min_value=0, max_value=BIGINT), st.sampled_from(SEPARATORS))
@example(4_100_000_000_000, ".")
@example(1250, " ")
def test_round_trip_of_grouped_numbers(number: int, separator: str) -> None:
    assert parse_integer(vietnamese(number, separator)) == number
    assert parse_integer(str(number)) == number
    assert parse_money(vietnamese(number, separator) + " đ") == number
    assert parse_integer("-" + vietnamese(number, separator)) == -number


@given(
    st.integers(min_value=0, max_value=10**15),
    st.sampled_from(SEPARATORS),
    st.integers(min_value=1, max_value=6).filter(lambda n: n != 3),
    st.integers(min_value=0, max_value=10**6),
)
def test_groups_not_of_three_are_refused(head: int, separator: str, width: int, tail: int) -> None:
    """A separator followed by other than three digits is a decimal or a typo: refused."""
    text = vietnamese(head, separator) + separator + str(tail % 10**width).zfill(width)
    with pytest.raises(CellError):
        parse_integer(text)


@given(
    st.integers(min_value=1_000_000, max_value=10**15),
    st.sampled_from(SEPARATORS),
    st.sampled_from(SEPARATORS),
)
def test_mixed_separators_are_refused(number: int, first: str, second: str) -> None:
    grouped = vietnamese(number, "\x00")
    position = grouped.rindex("\x00")
    text = grouped[:position].replace("\x00", first) + second + grouped[position + 1 :]
    spaces = {" ", "\u00a0", "\u202f", "\u2009"}
    if first == second or {first, second} <= spaces:
        assert parse_integer(text) == number  # one separator (all spaces count as one kind)
    else:
        with pytest.raises(CellError):
            parse_integer(text)


# Dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "day"),
    [
        (dt.date(2015, 2, 3), dt.date(2015, 2, 3)),
        (dt.datetime(2015, 2, 3), dt.date(2015, 2, 3)),
        ("03/02/2015", dt.date(2015, 2, 3)),  # day first: 3 February
        ("3/2/2015", dt.date(2015, 2, 3)),
        ("12/11/2015", dt.date(2015, 11, 12)),  # never read month first
        ("31-12-2009", dt.date(2009, 12, 31)),
        ("31.12.2009", dt.date(2009, 12, 31)),
        ("2015-02-03", dt.date(2015, 2, 3)),
        ("2015-02-03 00:00:00", dt.date(2015, 2, 3)),
        ("03/02/2015 00:00", dt.date(2015, 2, 3)),
        ("29/02/2024", dt.date(2024, 2, 29)),
        (" 03/02/2015 ", dt.date(2015, 2, 3)),
        ("", None),
        (None, None),
    ],
)
def test_dates(value: object, day: dt.date | None) -> None:
    assert parse_date(value) == day  # type: ignore[arg-type]


def test_impossible_and_ambiguous_dates_are_refused() -> None:
    assert error_of(parse_date, "31/02/2015").message == "31/02/2015 is not a day of the calendar"
    assert error_of(parse_date, "29/02/2023").message == "29/02/2023 is not a day of the calendar"
    assert error_of(parse_date, "02/13/2015").message == "02/13/2015 is not a day of the calendar"
    assert error_of(parse_date, "2015-13-01").message.endswith("is not a day of the calendar")
    assert "four digits" in error_of(parse_date, "03/02/15").message
    assert error_of(parse_date, "03/02-2015").message.startswith("must be a date")
    assert error_of(parse_date, "3 February 2015").message.startswith("must be a date")
    assert "time of day" in error_of(parse_date, dt.datetime(2015, 2, 3, 10, 5)).message
    assert error_of(parse_date, dt.time(10, 5)).message.startswith("must be a date")


def test_serial_numbers_are_not_dates() -> None:
    for serial in ("42038", 42038, 42038.0, "42.038"):
        assert error_of(parse_date, serial).message.startswith("a number, not a date")


# Booleans ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["có", "Có", "CO", "x", "X", "yes", "Y", "true", "TRUE", "đúng", "1", " có "]
)
def test_yes(word: str) -> None:
    assert parse_bool(word) is True
    assert parse_bool(unicodedata.normalize("NFD", word)) is True


@pytest.mark.parametrize("word", ["không", "Không", "KHONG", "no", "N", "false", "sai", "0"])
def test_no(word: str) -> None:
    assert parse_bool(word) is False
    assert parse_bool(unicodedata.normalize("NFD", word)) is False


def test_bool_cells_and_blanks() -> None:
    assert parse_bool(True) is True and parse_bool(False) is False
    assert parse_bool(1.0) is True and parse_bool(0) is False
    assert parse_bool(None) is None and parse_bool("  ") is None
    assert parse_bool(None, blank=False) is False  # a column of ticks: x or nothing
    for wrong in ("maybe", "2", 2, "có lẽ", dt.date(2015, 1, 1)):
        assert error_of(parse_bool, wrong).message.startswith("must be yes or no")


# Enumerations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enum", "text", "member"),
    [
        (CooperativeSector, "Thủ công mỹ nghệ", CooperativeSector.handicraft),
        (CooperativeSector, "thủ công  MỸ NGHỆ ", CooperativeSector.handicraft),
        (CooperativeSector, unicodedata.normalize("NFD", "Thủ công mỹ nghệ"), CooperativeSector.handicraft),
        (CooperativeSector, "Thu cong my nghe", CooperativeSector.handicraft),
        (CooperativeSector, "handicraft", CooperativeSector.handicraft),
        (CooperativeSector, "Handicrafts", CooperativeSector.handicraft),
        (CraftGroup, "Sản xuất hàng thủ công mỹ nghệ", CraftGroup.handicraft),
        (CraftGroup, "Fine-art handicrafts", CraftGroup.handicraft),
        (CraftGroup, "agro processing", CraftGroup.agro_processing),
        (VillageStatus, "Làng nghề", VillageStatus.craft_village),
        (VillageStatus, "làng nghề truyền thống", VillageStatus.traditional_craft_village),
        (VillageStatus, "TRADITIONAL_CRAFT_VILLAGE", VillageStatus.traditional_craft_village),
        (ProgrammeStatus, "Đã hủy", ProgrammeStatus.cancelled),
        (ProgrammeStatus, "da huy", ProgrammeStatus.cancelled),
        (FundingSource, "Ngân sách trung ương", FundingSource.central),
        (ProgrammeActivity, "Khác", ProgrammeActivity.other),
        (AdminType, "Thị trấn", AdminType.township),
    ],
)
def test_enumerations_by_code_or_label(enum: type[LabelledEnum], text: str, member: LabelledEnum) -> None:
    found = parse_enum(text, enum)
    assert found is member and type(found) is enum


def test_unknown_labels_are_refused_listing_the_codes() -> None:
    error = error_of(lambda v: parse_enum(v, VillageStatus), "Làng cổ")
    assert error.message == (
        "must be one of unrecognised, craft_village, traditional_craft_village, "
        "or its Vietnamese or English label"
    )
    assert error_of(lambda v: parse_enum(v, VillageStatus), 3.0).message.startswith("must be one of")
    assert parse_enum("", VillageStatus) is None and parse_enum(None, VillageStatus) is None


def test_a_label_is_matched_whole_never_by_a_part() -> None:
    """A village's craft group is "Sản xuất hàng thủ công mỹ nghệ": its words "Thủ công mỹ nghệ"
    (a co-operative sector's whole label) are not guessed to mean it."""
    error = error_of(lambda v: parse_enum(v, CraftGroup), "Thủ công mỹ nghệ")
    assert error.message.startswith("must be one of agro_processing, handicraft,")


class Season(LabelledEnum):
    """Labels that differ only by their accents, as Vietnamese words often do."""

    autumn = "autumn", "Mùa thu", "Autumn"
    letter = "letter", "Mùa thư", "Letter season"
    sale = "sale", "Bán", "Sale"
    bank = "bank", "Ngân hàng", "Bank"


def test_without_accents_only_where_no_two_members_look_alike() -> None:
    assert ambiguous_without_accents(Season) == {"mua thu": ["autumn", "letter"]}
    assert parse_enum("Mùa thu", Season) is Season.autumn  # exact accents: fine
    assert parse_enum("MÙA THƯ", Season) is Season.letter
    error = error_of(lambda v: parse_enum(v, Season), "Mua thu")
    assert (
        error.message
        == "Mua thu could be any of autumn, letter: write the label with its accents exactly, or the code"
    )
    assert parse_enum("ngan hang", Season) is Season.bank  # no look-alike: accents may be left out
    assert parse_enum("Ban", Season) is Season.sale


def test_the_models_enumerations_have_no_look_alikes_today() -> None:
    """Were one added, its members would need exact accents (as above), and this test says so."""
    from app.models import (
        AdminLevel,
        CooperativeStatus,
        ExtensionActivity,
        FairKind,
        FigureQualifier,
        LegalForm,
        PromotionActivity,
        Role,
        SuccessionKind,
    )

    enums: list[type[LabelledEnum]] = [
        AdminLevel, AdminType, CooperativeSector, CooperativeStatus, CraftGroup, ExtensionActivity,
        FairKind, FigureQualifier, FundingSource, LegalForm, ProgrammeActivity, ProgrammeStatus,
        PromotionActivity, Role, SuccessionKind, VillageStatus,
    ]  # fmt: skip
    assert {enum.__name__: ambiguous_without_accents(enum) for enum in enums} == {
        e.__name__: {} for e in enums
    }


def test_unaccented() -> None:
    assert unaccented("Đồng bằng sông Cửu Long") == "Dong bang song Cuu Long"
    assert unaccented(unicodedata.normalize("NFD", "Thủy")) == "Thuy"


# Text --------------------------------------------------------------------------------------------


def test_text_is_nfc_and_trimmed() -> None:
    nfd = unicodedata.normalize("NFD", "  Làng gốm Bát Tràng\u00a0")
    assert nfd != unicodedata.normalize("NFC", nfd)
    assert parse_text(nfd) == "Làng gốm Bát Tràng"
    assert parse_text("a\r\nb\rc") == "a\nb\nc"
    assert parse_text("cột\tkhác") == "cột\tkhác"
    assert parse_text("   ") is None and parse_text(None) is None


def test_control_characters_are_refused() -> None:
    assert error_of(parse_text, "a\x07b").message == "must not contain the control character U+0007"
    assert error_of(parse_text, "a\x00b").message == "must not contain NUL characters"
    assert error_of(parse_text, "a\x85b").message == "must not contain the control character U+0085"
    assert error_of(parse_text, "a\ud800b").message == "must be valid Unicode (no lone surrogates)"
    assert error_of(lambda v: parse_text(v, max_length=3), "abcd").message == "at most 3 characters"


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        ("'=SUM(A1:A9)", "=SUM(A1:A9)"),
        ("'+84 912 345 678", "+84 912 345 678"),
        ("'-5", "-5"),
        ("'@home", "@home"),
        ("'\tindented", "indented"),  # then trimmed, as any cell
        ("''=x", "''=x"),  # the exporter guards no text starting with ': left as it is
        ("'quoted'", "'quoted'"),
        ("'", "'"),
        ("Nhà 'cổ'", "Nhà 'cổ'"),
        ("=1+2", "=1+2"),  # not guarded, not a formula here either: text
    ],
)
def test_the_exporters_injection_guard_is_undone(cell: str, text: str) -> None:
    assert parse_text(cell) == text


def test_other_cells_in_a_text_column() -> None:
    assert parse_text(9556.0) == "9556"
    assert parse_text(12) == "12"
    assert parse_text(2.5) == "2.5"
    assert parse_text(True) == "TRUE"
    assert parse_text(dt.date(2015, 2, 3)) == "2015-02-03"


# Lists -------------------------------------------------------------------------------------------


def test_lists() -> None:
    assert parse_list("gốm; sứ;men lam ;") == ["gốm", "sứ", "men lam"]
    assert parse_list("gốm\nsứ") == ["gốm", "sứ"]
    assert parse_list("") == [] and parse_list(None) == []
    assert parse_list("'=a; b") == ["=a", "b"]
    assert parse_list(2024.0) == ["2024"]
    assert parse_list("Khác; trade conference", lambda v: parse_enum(v, ProgrammeActivity)) == [
        ProgrammeActivity.other,
        ProgrammeActivity.trade_conference,
    ]
    error = error_of(lambda v: parse_list(v, parse_integer), "1; 2; 4,1")
    assert error.message.startswith("item 3: 4,1 is ambiguous")
    assert say(error.message, "vi").startswith("mục 3: 4,1 có thể hiểu theo nhiều cách")


# Problems ----------------------------------------------------------------------------------------


def test_a_cell_problem_has_row_column_value_and_message() -> None:
    problem = check(7, "revenue_vnd", "4,1", parse_money)
    assert isinstance(problem, CellProblem)
    assert (problem.row, problem.column, problem.value) == (7, "revenue_vnd", "4,1")
    assert problem.as_dict()["message"] == problem.message
    assert problem.sentence.startswith("row 7, column revenue_vnd, value '4,1': 4,1 is ambiguous")
    assert say(problem.sentence, "vi").startswith("dòng 7, cột revenue_vnd, giá trị '4,1': 4,1 có thể hiểu")
    assert check(7, "revenue_vnd", "4.100", parse_money) == 4100
    date_problem = check(3, "recognised_on", 42038.0, parse_date)
    assert isinstance(date_problem, CellProblem) and date_problem.value == "42038"


def test_problems_keep_the_first_thousand_and_count_all() -> None:
    problems = Problems()
    assert not problems
    for row in range(2, 1502):
        found = check(row, "year", "năm nay", parse_integer)
        assert isinstance(found, CellProblem)
        problems.add(found)
    assert problems and problems.count == 1500 and len(problems.items) == 1000
    assert problems.items[0].row == 2 and problems.items[-1].row == 1001
