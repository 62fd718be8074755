from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from surveys.tabular import BOM, FORMULA_TRIGGERS, RowCounter, csv_chunks

UNICODE = [
    "emoji 👩🏽‍⚕️🧬",
    "4-byte 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎",  # noqa: RUF001 - 4-byte look-alikes on purpose
    "RTL עִבְרִית والعربية",
    "combining e\u0301 a\u0308 n\u0303",
    "CRLF inside\r\nand LF\nand CR\ralone",
    'quotes "double" and, commas',
]


def text(chunks: object) -> str:
    return b"".join(chunks).decode("utf-8")  # type: ignore[arg-type]


def parse(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data, newline="")))


class TestQuoting:
    def test_rfc4180_crlf_rows_and_doubled_quotes(self) -> None:
        data = text(csv_chunks(["a", "b"], [['x"y', "p,q"], ["plain", None]]))
        assert data == 'a,b\r\n"x""y","p,q"\r\nplain,\r\n'

    def test_unicode_comes_back_byte_identical(self) -> None:
        data = b"".join(csv_chunks(["value"], [[v] for v in UNICODE]))
        assert [row[0] for row in parse(data.decode("utf-8"))[1:]] == UNICODE
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        assert [v.encode("utf-8") for v in frame["value"]] == [v.encode("utf-8") for v in UNICODE]

    def test_bom_only_when_asked(self) -> None:
        assert b"".join(csv_chunks(["a"], [], bom=True)).startswith(BOM)
        assert not b"".join(csv_chunks(["a"], [])).startswith(BOM)
        frame = pd.read_csv(io.BytesIO(b"".join(csv_chunks(["a"], [["x"]], bom=True))))
        assert list(frame.columns) == ["a"]

    def test_rows_are_counted_and_chunked(self) -> None:
        counter = RowCounter()
        chunks = list(csv_chunks(["n"], ([i] for i in range(1000)), counter=counter))
        assert counter.rows == 1000
        assert len(chunks) > 3


class TestFormulaInjection:
    @pytest.mark.parametrize(
        "payload",
        [
            "=1+2",
            "+33 1 23 45 67 89",
            "-2+3",
            "@SUM(A1)",
            "\tTAB",
            "\rCR",
            "   =after spaces",
            '=HYPERLINK("http://evil.example","click")',
            "=cmd|' /c calc'!A1",
        ],
    )
    def test_text_that_starts_a_formula_is_prefixed(self, payload: str) -> None:
        rows = parse(text(csv_chunks(["value"], [[payload]])))
        assert rows[1][0] == "'" + payload

    def test_numbers_stay_numbers(self) -> None:
        data = text(csv_chunks(["i", "d", "t"], [[-3, -0.5, "-3"]]))
        assert data.splitlines()[1] == "-3,-0.5,'-3"
        frame = pd.read_csv(io.StringIO(data))
        assert frame["i"].tolist() == [-3]
        assert frame["d"].tolist() == [-0.5]

    def test_no_parsed_cell_starts_with_a_trigger_unless_prefixed(self) -> None:
        payloads = [t + "x" for t in FORMULA_TRIGGERS] + [" " + t + "y" for t in FORMULA_TRIGGERS]
        for row in parse(text(csv_chunks(["v"], [[p] for p in payloads])))[1:]:
            assert not row[0].lstrip(" ").startswith(FORMULA_TRIGGERS), row
