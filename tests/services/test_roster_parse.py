"""Roster bodies without a database: the rules are MemberCreate's, headers and enum labels
in Vietnamese, streaming JSON, legacy encodings (TCVN3, VNI, mojibake)."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from api.core.errors import AppError
from api.core.legacy_encodings import (
    TCVN3,
    UNKNOWN,
    VNI,
    decode_tcvn3,
    encode_cp1258,
    encode_tcvn3,
    fix_tcvn3_case,
    mojibake_kind,
    reads_as_cp1258,
    sniff_legacy,
)
from api.schemas.members import MemberCreate
from api.services.roster import parse as roster_parse
from api.services.roster.parse import RosterReader, media_format
from api.services.roster.rows import HEADER_FIELDS, STAGE_COLUMNS, header_key, member_row
from tests.properties import budget


def read(body: bytes | str, fmt: str = "csv") -> tuple[RosterReader, list[dict[str, Any]]]:
    data = body.encode() if isinstance(body, str) else body
    reader = RosterReader(io.BytesIO(data), fmt)
    rows = [dict(zip(STAGE_COLUMNS, r, strict=True)) for r in reader.members()]
    return reader, rows


def problem_code(exc: pytest.ExceptionInfo[AppError]) -> str:
    return exc.value.code


# --- the same rules as the members API -------------------------------------------------

# Whitespace of every kind (line breaks, tabs, NBSP, the Unicode spaces, separators that
# only Python takes for blanks), controls, invisible and bidirectional marks.
_BLANKS = "\t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
_ALPHABET = st.sampled_from(
    list(
        "aAbzZ09 .-_@+()đĐÐðăâêôơưàáảãạẠẶệỹ\u0300\u0301\u0323\u200b\u200e\u202e\u2066\ufeff"
        "\x00\x01\x7f'\"/x" + _BLANKS
    )
)
_PADDING = st.text(st.sampled_from(list(_BLANKS + " ")), max_size=3)
_TEXT = (
    st.text(_ALPHABET, max_size=30)
    | st.text(max_size=12)
    | st.tuples(_PADDING, st.text(_ALPHABET, min_size=1, max_size=12), _PADDING).map("".join)
)
_VALUES = {
    "external_id": _TEXT | st.sampled_from(["DV-0001", " DV-1 ", "x" * 64, "x" * 65, "a b"]),
    "full_name": _TEXT | st.sampled_from(["Nguyễn Văn An", "  Lê   Thị  Hoa ", "A" * 201]),
    "position": _TEXT,
    "email": _TEXT | st.sampled_from(["An.NV@Example.VN", " a@b.vn ", "a@b", "@x.vn", "a@-b.vn"]),
    "phone": _TEXT
    | st.sampled_from(["0912 345 678", "+84 912-345-678", "84912345678", "0912", "00441234567"]),
}
_CASES = st.sampled_from(sorted(_VALUES)).flatmap(lambda f: st.tuples(st.just(f), _VALUES[f]))


@settings(max_examples=budget(400))
@given(case=_CASES)
# Found by random runs; kept so that every run checks them (issue 20).
@example(case=("external_id", "0\n"))
@example(case=("external_id", "\xa0DV-1\t"))
@example(case=("external_id", "DV-1\r\n"))
@example(case=("external_id", "\u2028DV-1\u3000"))
@example(case=("external_id", "DV\n1"))
@example(case=("full_name", "Nguyễn\xa0Văn\nAn\u2028"))
@example(case=("full_name", "\tLê\u3000Thị Hoa\r\n"))
@example(case=("position", "Bí thư\n"))
@example(case=("email", "an@example.vn\n"))
@example(case=("email", "\xa0an@example.vn"))
@example(case=("phone", "0912 345 678\n"))
@example(case=("phone", "\u20070912345678"))
def test_a_field_is_accepted_and_normalised_as_by_the_members_api(case: tuple[str, str]) -> None:
    """For non-blank values, a sync row accepts exactly what MemberCreate accepts and
    stores the same normalised value. (Blank optional cells mean "clear" in a sync.)"""
    field, value = case
    if field not in ("external_id", "full_name") and not value.strip():
        return
    base: dict[str, Any] = {"external_id": "DV-1", "full_name": "Nguyễn Văn An"}
    api_input = {**base, field: value, "unit_id": str(uuid.uuid4()), "membership": "official"}
    try:
        expected: Any = getattr(MemberCreate.model_validate(api_input), field)
    except ValidationError:
        expected = ValidationError
    got = dict(
        zip(STAGE_COLUMNS, member_row(1, {**base, field: value, "unit_code": "A.1"}), strict=True)
    )
    if expected is ValidationError:
        assert got["error_code"] == "validation_failed", (field, value, got)
        assert got["error_field"] == field
    else:
        assert got["error_code"] is None, (field, value, got)
        assert got[field] == expected


def test_blank_optional_cells_clear_and_blank_enum_cells_are_not_given() -> None:
    got = dict(
        zip(
            STAGE_COLUMNS,
            member_row(
                1,
                {
                    "external_id": "X",
                    "full_name": "A B",
                    "unit_code": "U",
                    "position": " ",
                    "email": "",
                    "phone": None,
                    "membership": "",
                    "status": None,
                    "is_leader": "",
                },
            ),
            strict=True,
        )
    )
    assert (got["position"], got["email"], got["phone"]) == (None, None, None)
    assert (got["has_position"], got["has_email"], got["has_phone"]) == (True, True, True)
    assert (got["has_membership"], got["has_status"], got["has_is_leader"]) == (False, False, False)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("membership", "Đảng viên chính thức", "official"),
        ("membership", "DỰ BỊ", "probationary"),
        ("membership", "official", "official"),
        ("membership", "Không phải đảng viên", "none"),
        ("status", "Miễn sinh hoạt", "exempt"),
        ("status", "đã chuyển đi", "transferred"),
        ("status", "Từ trần", "deceased"),
        ("status", "active", "active"),
        ("is_leader", "x", True),
        ("is_leader", "Có", True),
        ("is_leader", "không", False),
        ("is_leader", 1, True),
        ("is_leader", "FALSE", False),
        ("is_leader", True, True),
    ],
)
def test_vietnamese_labels_are_accepted(field: str, value: Any, expected: Any) -> None:
    got = dict(
        zip(
            STAGE_COLUMNS,
            member_row(1, {"external_id": "X", "full_name": "A B", "unit_code": "U", field: value}),
            strict=True,
        )
    )
    assert got[field] == expected
    assert got[f"has_{field}"] is True


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("membership", "honorary"),
        ("status", "on leave"),
        ("is_leader", "maybe"),
        ("membership", 3),
        ("is_leader", 2),
        ("full_name", 42),
        ("unit_code", "bad code!"),
        ("external_id", "x" * 65),
    ],
)
def test_bad_values_are_rejected_with_their_field(field: str, value: Any) -> None:
    raw = {"external_id": "X", "full_name": "A B", "unit_code": "U", field: value}
    got = dict(zip(STAGE_COLUMNS, member_row(7, raw), strict=True))
    assert (got["row_no"], got["error_code"], got["error_field"]) == (7, "validation_failed", field)


def test_spreadsheet_numbers_become_text() -> None:
    got = dict(
        zip(
            STAGE_COLUMNS,
            member_row(
                1,
                {
                    "external_id": 1234567.0,
                    "full_name": "A B",
                    "unit_code": 42,
                    "phone": 912345678,
                },
            ),
            strict=True,
        )
    )
    assert (got["external_id"], got["unit_code"], got["phone"]) == ("1234567", "42", "+84912345678")


# --- headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Mã đảng viên", "external_id"),
        ("MÃ ĐẢNG VIÊN", "external_id"),
        ("ma_dang_vien", "external_id"),
        ("Mã", "external_id"),
        ("Số thẻ đảng viên", "external_id"),
        ("Họ và tên", "full_name"),
        ("Họ tên", "full_name"),
        ("Chi bộ", "unit_code"),
        ("Mã chi bộ", "unit_code"),
        ("Chức vụ", "position"),
        ("Thư điện tử", "email"),
        ("E-mail", "email"),
        ("SĐT", "phone"),
        ("Số điện thoại", "phone"),
        ("Điện thoại", "phone"),
        ("Loại đảng viên", "membership"),
        ("Trạng thái", "status"),
        ("Cấp ủy", "is_leader"),
        ("Lãnh đạo", "is_leader"),
    ],
)
def test_header_aliases(header: str, field: str) -> None:
    assert HEADER_FIELDS[header_key(header)] == field


def test_csv_header_row_may_follow_a_title() -> None:
    reader, rows = read(
        "DANH SÁCH ĐẢNG VIÊN\n\nSTT,Mã,Họ và tên,Chi bộ,Ghi chú\n1,DV1,Lê A,A.1,x\n"
    )
    assert reader.ignored_columns == ["STT", "Ghi chú"]
    assert [(r["row_no"], r["external_id"]) for r in rows] == [(4, "DV1")]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiters(delimiter: str) -> None:
    text = (
        delimiter.join(["Mã", "Họ và tên", "Chi bộ"])
        + "\r\n"
        + delimiter.join(["DV1", "Lê A", "A.1"])
    )
    _, rows = read("\ufeff" + text)
    assert rows[0]["full_name"] == "Lê A"


def test_csv_quoted_multiline_cells_keep_sheet_row_numbers() -> None:
    _, rows = read('Mã,Họ và tên,Chi bộ,Chức vụ\nDV1,Lê A,A.1,"Bí thư\nchi bộ"\nDV2,Lê B,A.1,\n')
    assert [(r["row_no"], r["external_id"]) for r in rows] == [(2, "DV1"), (3, "DV2")]
    assert rows[0]["position"] == "Bí thư chi bộ", "inner whitespace collapsed, as by the API"


def test_missing_and_duplicate_columns() -> None:
    with pytest.raises(AppError) as exc:
        read("Họ và tên,Email\nA,b\n")
    assert problem_code(exc) == "validation_failed"
    assert {e["loc"][-1] for e in exc.value.extra["errors"]} == {"external_id", "unit_code"}
    with pytest.raises(AppError) as exc:
        read("Mã,Số thẻ,Họ tên,Chi bộ\n")
    assert problem_code(exc) == "validation_failed"


# --- JSON and NDJSON ---------------------------------------------------------------------


def test_json_elements_split_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster_parse, "CHUNK", 7)
    members = [
        {
            "external_id": f"E{i}",
            "full_name": "Nguyễn Văn Ánh",
            "unit_code": "A.1",
            "is_leader": i % 2 == 0,
            "phone": 912345678 + i,
        }
        for i in range(30)
    ]
    body = json.dumps(
        {
            "units": [{"code": "N1", "name": "X", "level": "cell", "parent_code": "A"}],
            "members": members,
            "mode": "snapshot",
            "scope_unit_code": "A",
        },
        ensure_ascii=False,
    )
    reader, rows = read(body, "json")
    assert (reader.mode, reader.scope_unit_code, len(reader.units)) == ("snapshot", "A", 1)
    assert [r["row_no"] for r in rows] == list(range(1, 31))
    assert all(r["error_code"] is None for r in rows)
    assert rows[3]["phone"] == "+84912345681"
    assert rows[2]["is_leader"] is True


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        '{"members": [',
        '{"members": [{"a": 1},]}',
        '{"mode": "upsert",}',
        "null",
        '{"members": []} {}',
        '{"members": [1 2]}',
        "{1: 2}",
    ],
)
def test_malformed_json(body: str) -> None:
    with pytest.raises(AppError) as exc:
        read(body, "json")
    assert problem_code(exc) == "invalid_json"


def test_unknown_and_duplicate_top_level_fields() -> None:
    for body in ('{"mode": "upsert", "extra": []}', '{"mode": "upsert", "mode": "snapshot"}'):
        with pytest.raises(AppError) as exc:
            read(body, "json")
        assert problem_code(exc) == "validation_failed"


def test_ndjson_lines() -> None:
    _, rows = read(
        '{"external_id": "A", "full_name": "X Y", "unit_code": "U"}\r\n\r\n[1]\n{"x"\n', "ndjson"
    )
    assert [(r["row_no"], r["error_code"]) for r in rows] == [
        (1, None),
        (3, "validation_failed"),
        (4, "invalid_json"),
    ]


def test_media_types() -> None:
    assert media_format("text/csv; charset=utf-8") == "csv"
    assert media_format("Application/JSON") == "json"
    assert media_format("application/x-ndjson") == "ndjson"
    for bad in (None, "", "text/plain", "application/octet-stream"):
        with pytest.raises(AppError) as exc:
            media_format(bad)
        assert problem_code(exc) == "unsupported_media_type"


def test_xlsx_that_is_not_a_zip() -> None:
    with pytest.raises(AppError) as exc:
        read(b"\x00\x01 not a workbook", "xlsx")
    assert problem_code(exc) == "invalid_file"


# --- legacy encodings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tcvn3", "unicode"),
    [
        ("B¶o Th¾ng", "Bảo Thắng"),
        ("NguyÔn V¨n An", "Nguyễn Văn An"),
        ("Hµ Néi", "Hà Nội"),
        ("§¶ng", "Đảng"),
        ("D­¬ng", "Dương"),
        ("ViÖt Nam", "Việt Nam"),
        ("TrÇn ThÞ Hoa", "Trần Thị Hoa"),
    ],
)
def test_tcvn3_known_pairs(tcvn3: str, unicode: str) -> None:
    raw = tcvn3.encode("latin-1")
    assert decode_tcvn3(raw) == unicode
    assert encode_tcvn3(unicode) == raw


def test_tcvn3_round_trips_every_vietnamese_letter() -> None:
    letters = "aàảãáạăằẳẵắặâầẩẫấậeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợuùủũúụưừửữứựyỳỷỹýỵđ"
    assert decode_tcvn3(encode_tcvn3(letters)) == letters
    assert decode_tcvn3(encode_tcvn3("ĂÂÊÔƠƯĐ")) == "ĂÂÊÔƠƯĐ"


def test_sniffing_legacy_bytes() -> None:
    assert sniff_legacy(encode_tcvn3("Họ và tên,Nguyễn Thị Hoa,Chi bộ Bảo Thắng")) == TCVN3
    assert sniff_legacy("Nguyeãn Vaên Thaønh, Xin chaøo caùc baïn".encode("cp1252")) == VNI
    assert sniff_legacy("Müller, Straße, Zoë".encode("latin-1")) == UNKNOWN
    assert sniff_legacy(b"plain ascii") == UNKNOWN


def test_mojibake_in_unicode_text() -> None:
    assert mojibake_kind("B¶o Th¾ng") == TCVN3
    assert mojibake_kind("Nguyeãn Vaên Thaønh") == VNI
    assert mojibake_kind("Nguyễn Văn Thành") is None
    assert mojibake_kind("Đặng Thị Ðào") is None, "Ð is the look-alike of Đ, not mojibake"


def test_tcvn3_case_repair() -> None:
    assert fix_tcvn3_case("nguyễn thị ánh") == "Nguyễn Thị Ánh"
    assert fix_tcvn3_case("NGUYễN VăN AN") == "NGUYỄN VĂN AN"
    assert fix_tcvn3_case("Lê Văn An") == "Lê Văn An"


def test_a_tcvn3_csv_is_read_as_unicode() -> None:
    reader, rows = read(encode_tcvn3("Mã đảng viên,Họ và tên,Chi bộ\nDV1,đặng thị ánh,A.1\n"))
    assert reader.encoding == "TCVN3 (converted to Unicode)"
    assert rows[0]["full_name"] == "Đặng Thị Ánh"


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
def test_vni_bytes_are_refused(fmt: str) -> None:
    body = {
        "csv": "Ma,Ho ten,Chi bo\nDV1,Nguyeãn Vaên Thaønh,A.1\n",
        "ndjson": '{"external_id": "DV1", "full_name": "Nguyeãn Vaên Thaønh", "unit_code": "A.1"}\n',  # noqa: E501
        "json": '{"members": [{"external_id": "DV1", "full_name": "Nguyeãn Vaên Thaønh", "unit_code": "A"}]}',  # noqa: E501
    }[fmt].encode("cp1252")
    with pytest.raises(AppError) as exc:
        read(body, fmt)
    assert problem_code(exc) == "unsupported_encoding"
    assert exc.value.extra["encoding"] == VNI


def test_tcvn3_bytes_in_json_are_refused() -> None:
    body = encode_tcvn3(
        '{"members": [{"external_id": "DV1", "full_name": "Bảo Thắng", "unit_code": "A"}]}'
    )
    with pytest.raises(AppError) as exc:
        read(body, "json")
    assert problem_code(exc) == "unsupported_encoding"


def test_mojibake_rows_are_refused_after_reading() -> None:
    names = encode_tcvn3("Bảo Thắng;Nguyễn Văn An;Lê Thị Hoa").decode("latin-1").split(";")
    reader, _ = read("Mã,Họ tên,Chi bộ\n" + "".join(f"D{i},{n},A\n" for i, n in enumerate(names)))
    with pytest.raises(AppError) as exc:
        reader.finish()
    assert problem_code(exc) == "unsupported_encoding"
    assert exc.value.extra["encoding"] == TCVN3


# --- mixed encodings (issue 14, finding 2) ------------------------------------------------

_SYLLABLES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Văn",
    "Thị",
    "Hữu",
    "Đức",
    "An",
    "Bình",
    "Thắng",
    "Hoà",
    "Ánh",
    "Ngọc",
    "Quỳnh",
    "Tuấn",
    "Hương",
    "Minh",
    "Dũng",
    "Yến",
]
_NAMES = st.lists(st.sampled_from(_SYLLABLES), min_size=2, max_size=4).map(" ".join)
_LEGACY = st.sampled_from(["tcvn3", "cp1258", "latin-1"])


@settings(max_examples=budget(150))
@given(
    names=st.lists(_NAMES, min_size=2, max_size=12),
    legacy_rows=st.sets(st.integers(0, 11), min_size=1, max_size=3),
    encoding=_LEGACY,
)
@example(  # the attack run: 5 members, one name in a legacy encoding
    names=["Nguyễn Văn An", "Trần Thị Bình", "Lê Hữu Đức", "Phạm Minh Tuấn", "Hương Yến"],
    legacy_rows={2},
    encoding="tcvn3",
)
def test_a_utf8_roster_with_a_few_legacy_rows_never_changes_a_utf8_name(
    names: list[str], legacy_rows: set[int], encoding: str
) -> None:
    """Either the file is refused (422 unsupported_encoding naming the legacy rows), or
    every UTF-8 name comes through unchanged."""
    legacy_rows = {i for i in legacy_rows if i < len(names)} or {0}
    lines = [b"external_id,full_name,unit_code,membership"]
    for i, name in enumerate(names):
        raw = (
            (encode_tcvn3(name) if encoding == "tcvn3" else name.encode(encoding, "replace"))
            if i in legacy_rows
            else name.encode()
        )
        lines.append(b"X%d,%s,A.1,official" % (i, raw))
    body = b"\n".join(lines) + b"\n"
    refused: AppError | None = None
    try:
        _, rows = read(body)
    except AppError as exc:
        refused = exc
    if refused is not None:
        assert refused.code == "unsupported_encoding"
        if refused.extra.get("encoding") == "mixed":
            assert set(refused.extra["rows"]) <= {i + 2 for i in legacy_rows}
            assert refused.extra["rows"]
        return
    by_id = {r["external_id"]: r["full_name"] for r in rows}
    for i, name in enumerate(names):
        if i not in legacy_rows:
            assert by_id[f"X{i}"] == name, (by_id, names, legacy_rows)


# --- Windows-1258 (issue 22) ------------------------------------------------------------


@settings(max_examples=budget(150))
@given(names=st.lists(_NAMES, min_size=1, max_size=12))
def test_every_vietnamese_roster_in_windows_1258_reads_back_as_written(names: list[str]) -> None:
    """Excel's "CSV (Comma delimited)" on Vietnamese Windows: whatever the names, the
    file is recognised and every name comes back in NFC, as it was typed."""
    text = "Mã đảng viên,Họ và tên,Chi bộ,Loại đảng viên\n" + "".join(
        f"X{i},{name},A.1,chính thức\n" for i, name in enumerate(names)
    )
    reader, rows = read(encode_cp1258(text))
    assert reader.encoding == "Windows-1258 (converted to Unicode)"
    assert [r["full_name"] for r in rows] == names
    assert all(r["membership"] == "official" for r in rows)


@pytest.mark.parametrize(
    "text",
    [
        "X1,Gérard Dupont,A.1\n",  # French: "gérard" is no Vietnamese syllable
        "X1,Zoë Müller,A.1\n",  # letters Vietnamese does not have
        "X1,Jörg,A.1\n",
        "X1,Tr\u0301n,A.1\n",  # a tone mark after a consonant
        "X1,Tra\u0301\u0300n,A.1\n",  # two tones on one vowel
        "X1,Nguyễn ×,A.1\n",  # a sign no Vietnamese text holds
    ],
)
def test_single_byte_text_that_is_not_vietnamese_is_not_windows_1258(text: str) -> None:
    body = encode_cp1258("external_id,full_name,unit_code\n" + text)
    assert not reads_as_cp1258(io.BytesIO(body))
    with pytest.raises(AppError) as exc:
        read(body)
    assert problem_code(exc) == "unsupported_encoding"
    assert exc.value.extra["encoding"] == UNKNOWN


def test_tcvn3_is_not_taken_for_windows_1258() -> None:
    body = encode_tcvn3("Mã đảng viên,Họ và tên,Chi bộ\nDV1,Nguyễn Văn An,A.1\n")
    assert not reads_as_cp1258(io.BytesIO(body))
    reader, _ = read(body)
    assert reader.encoding == "TCVN3 (converted to Unicode)"
