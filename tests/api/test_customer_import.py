"""``kefu customers import FILE`` with crafted CSV files: what a bad file
or a bad row does (reported by line, the rest imported, never a traceback)
and what the import accepts (the API's e-mail rules, language tags)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.cli import ScriptInfo

from service.cli import main
from service.extensions import db
from service.usecases.customers import IMPORT_FIELD_LIMIT, import_customers

HEADER = "external_ref,name,kind,email,phone,language\n"


@pytest.fixture
def cli(app):
    """``cli(*args)`` runs a ``kefu`` command against the test app; returns click's Result."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], obj=ScriptInfo(create_app=lambda: app))


@pytest.fixture
def run_import(cli, tmp_path):
    """``run_import(content)`` writes ``content`` (str as UTF-8, or bytes) to a
    file and imports it; returns ``(result, {line: reason}, summary line)``.
    A traceback, or any exception but the exit, fails the test."""

    def run(content):
        path = tmp_path / "customers.csv"
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        result = cli("customers", "import", path)
        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        reported = {int(line.split(":")[0].split()[1]): line.split(":", 1)[1].strip()
                    for line in result.output.splitlines() if line.startswith("line ")}
        lines = result.output.splitlines()
        return result, reported, lines[-1] if lines else ""

    return run


def stored() -> dict[str, dict]:
    """Customers with an external reference, by reference, read afresh."""
    db.session.rollback()
    return {r.external_ref: dict(r._mapping)
            for r in db.session.execute(sa.text("SELECT * FROM customers WHERE external_ref IS NOT NULL"))}


# --- reading the file ----------------------------------------------------------------------

def test_an_oversized_field_is_a_bad_row_and_the_rows_after_it_are_imported(run_import):
    result, reported, summary = run_import(
        HEADER
        + "O-1,First,person,,,\n"                                # 2 good
        + f"O-2,{'x' * 200_000},person,,,\n"                     # 3 over csv's own field limit
        + "O-3,After The Giant,person,,,\n"                      # 4 good
        + f"O-4,Second Giant,person,{'y' * 150_000},,\n"         # 5 again
        + "O-5,Last,company,last@example.test,,en\n")            # 6 good
    assert result.exit_code == 1, result.output
    assert sorted(reported) == [3, 5]
    assert all("longer than" in reason or "field limit" in reason for reason in reported.values()), reported
    assert summary == "3 created, 0 updated, 2 rejected"
    assert sorted(stored()) == ["O-1", "O-3", "O-5"]


def test_a_field_over_the_import_limit_is_refused_even_in_a_column_not_imported(run_import):
    # Under csv's limit, over ours: the guard holds for every field.
    result, reported, summary = run_import(
        "external_ref,name,kind,email,phone,language,notes\n"
        + "N-1,Short Notes,person,,,,fine\n"
        + f"N-2,Long Notes,person,,,,{'n' * (IMPORT_FIELD_LIMIT + 1)}\n"
        + "N-3,After,person,,,,\n")
    assert result.exit_code == 1, result.output
    assert reported == {3: f"notes is longer than {IMPORT_FIELD_LIMIT} characters"}
    assert summary == "2 created, 0 updated, 1 rejected"
    assert sorted(stored()) == ["N-1", "N-3"]


def test_a_short_row_is_refused_not_filled_with_defaults(run_import):
    result, reported, summary = run_import(
        HEADER
        + "S-1,Short Row,company\n"                      # 2: three fields
        + "S-2,Full Row,company,,,zh_CN\n"               # 3: good
        + "S-3,Too Long,person,,,en,surplus,more\n"      # 4: eight fields
        + "   \n")                                       # 5: one (blank) field
    assert result.exit_code == 1, result.output
    assert reported == {2: "row has 3 fields, the header has 6", 4: "row has 8 fields, the header has 6",
                        5: "row has 1 fields, the header has 6"}
    assert summary == "1 created, 0 updated, 3 rejected"
    assert sorted(stored()) == ["S-2"]


def test_a_header_with_a_repeated_column_imports_nothing(run_import):
    result, reported, summary = run_import(
        "external_ref,name,kind,email,phone,language,name\n"
        "R-1,Which Name,person,,,,This Name\n")
    assert result.exit_code == 1, result.output
    assert reported == {1: "header repeats column(s): name"}
    assert summary == "0 created, 0 updated, 1 rejected"
    assert stored() == {}
    # A name from the file is shown escaped: no control character reaches the terminal.
    result, reported, summary = run_import(
        HEADER.strip() + ",\x1b[2J,\x1b[2J\nR-2,Escaped,person,,,,,\n")
    assert reported == {1: "header repeats column(s): '\\x1b[2J'"}, result.output
    assert "\x1b" not in result.output and stored() == {}


def test_a_file_that_is_not_utf8_imports_nothing_and_names_the_line(run_import):
    good = (HEADER + "U-1,Good Row,person,,,\n").encode()
    for bad in ("U-2,José,person,,,\n".encode("latin-1"),          # latin-1
                b"U-2,Lone \xed\xa0\x80 Surrogate,person,,,\n"):    # an encoded surrogate is not UTF-8
        result, _, _ = run_import(good + bad + b"U-3,After,person,,,\n")
        assert result.exit_code == 1, result.output
        assert "is not UTF-8 text (line 3)" in result.output, result.output
        assert stored() == {}  # not even the good row before it


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_and_quoted_fields(run_import, newline):
    body = HEADER + 'E-1,"Quoted, Name",company,,,\n' + "E-2,Plain,person,,,"
    result, reported, summary = run_import(body.replace("\n", newline))
    assert result.exit_code == 0 and reported == {}, result.output
    assert summary == "2 created, 0 updated, 0 rejected"
    assert stored()["E-1"]["name"] == "Quoted, Name"


def test_a_row_spanning_lines_is_reported_at_its_first_line(run_import):
    result, reported, summary = run_import(
        HEADER
        + '"M-1","Two\nLines",person,,,\n'   # 2-3
        + "M-2,Next,alien,,,\n")             # 4
    assert result.exit_code == 1, result.output
    assert reported == {2: "name contains a control character (U+000A)", 4: reported[4]}
    assert "alien" in reported[4]
    assert summary == "0 created, 0 updated, 2 rejected"


@pytest.mark.parametrize("content", [
    b"", b"\xef\xbb\xbf", HEADER.encode(), b'"', b'external_ref,"name\n', b"\x00\x00\x00",
    b"\xff\xfe\x00\x00", HEADER.encode() + b'"', HEADER.encode() + b"X-1,\"unterminated,person,,,\n",
    HEADER.encode() + b"\n\n\n", ("\ufeff" + HEADER + "B-1,Bom,person,,,\n").encode(),
    b"x" * 200_000 + b"\n", HEADER.strip().encode() + b"," + b"h" * 5000 + b"\nH-1,Long,person,,,,"
    + b"v" * 5000 + b"\n"])
def test_a_strange_file_never_gives_a_traceback(run_import, content):
    result, _, _ = run_import(content)
    assert result.exit_code in (0, 1), result.output


# --- the values ----------------------------------------------------------------------------

def test_control_characters_are_refused_in_every_column(run_import):
    result, reported, summary = run_import(
        HEADER
        + "C-1,Nul\x00Name,person,,,\n"                     # 2
        + "C-2\x1b,Escape,person,,,\n"                      # 3
        + "C-3,Del,person,del\x7f@example.test,,\n"         # 4
        + "C-4,C1,person,,+86 10\x85 1234 5678,\n"          # 5 (NEL, a C1 control)
        + "C-5,Bell,person\x07,,,\n"                        # 6
        + "C-6,Lang,person,,,en\x00\n"                      # 7
        + "C-7,Tab\tInside,person,,,\n"                     # 8
        + "C-8,Good Name,person,,,\n")                      # 9 good
    assert result.exit_code == 1, result.output
    assert reported == {
        2: "name contains a control character (U+0000)", 3: "external_ref contains a control character (U+001B)",
        4: "email contains a control character (U+007F)", 5: "phone contains a control character (U+0085)",
        6: "kind contains a control character (U+0007)", 7: "language contains a control character (U+0000)",
        8: "name contains a control character (U+0009)"}
    assert summary == "1 created, 0 updated, 7 rejected"
    assert sorted(stored()) == ["C-8"]


def test_a_lone_surrogate_in_text_given_to_the_use_case_is_refused(app):
    # From a file it cannot happen (that is not UTF-8); text from elsewhere may carry one.
    created, updated, errors = import_customers(HEADER + "L-1,Lone \ud800 Half,person,,,\nL-2,Whole,person,,,\n")
    assert (created, updated) == (1, 0)
    assert errors == [(2, "name contains a lone surrogate (U+D800)")]
    assert sorted(stored()) == ["L-2"]


def test_whitespace_only_names_are_refused(run_import):
    result, reported, summary = run_import(
        HEADER + "W-1,   ,person,,,\n" + "W-2,\u3000\u00a0,person,,,\n" + 'W-3,"\t \t",person,,,\n')
    assert result.exit_code == 1 and summary == "0 created, 0 updated, 3 rejected", result.output
    assert reported == {2: "name is empty", 3: "name is empty", 4: "name is empty"}
    assert stored() == {}


EMAILS = ["a@b@c", "@", "<script>@x", "Ann <ann@example.test>", "ann@", "@example.test", "ann@example",
          "ann example@example.test", "a" * 60 + "@" + ".".join(["b" * 63] * 3) + ".cc",  # 255 characters
          "ann@example.test", "li.wei@example.test", "user@localhost", "o'neil+tag@example.test",
          "a" * 59 + "@" + ".".join(["b" * 63] * 3) + ".cc"]  # 254 characters


def test_emails_are_checked_as_the_api_checks_them(run_import, client, agent):
    assert (len(EMAILS[8]), len(EMAILS[-1])) == (255, 254)
    rows = "".join(f"E-{n},Mail {n},person,\"{email}\",,\n" for n, email in enumerate(EMAILS))
    result, reported, _ = run_import(HEADER + rows)
    assert result.exit_code == 1, result.output
    imported = stored()
    for n, email in enumerate(EMAILS):
        api = client.post("/api/v1/customers", headers=agent, json={"name": f"API {n}", "email": email})
        assert api.status_code in (201, 422), api.json
        by_import = f"E-{n}" in imported
        assert by_import == (api.status_code == 201), (email, reported.get(n + 2), api.json)
        if not by_import:
            assert "email" in reported[n + 2], reported[n + 2]
    assert {email for n, email in enumerate(EMAILS) if f"E-{n}" not in imported} >= {
        "a@b@c", "@", "<script>@x"}


def test_language_tags_are_normalised_to_the_stored_codes(run_import):
    accepted = {"zh": "zh_CN", "zh-CN": "zh_CN", "zh_CN": "zh_CN", "zh-Hans": "zh_CN", "ZH-cn": "zh_CN",
                "zh_Hans_CN": "zh_CN", "zh-TW": "zh_CN", "zh-Hant": "zh_CN", "en": "en", "en-US": "en",
                "en_GB": "en", "EN": "en", " en-gb ": "en", "en_US.UTF-8": "en", "": "en"}
    refused = ["fr", "tlh", "xx", "C", "und", "en-", "e n", "12", "english"]
    tags = list(accepted) + refused
    rows = "".join(f"T-{n},Lang {n},person,,,{tag}\n" for n, tag in enumerate(tags))
    result, reported, _ = run_import(HEADER + rows)
    assert result.exit_code == 1, result.output
    imported = stored()
    assert {tags[n]: imported[f"T-{n}"]["language"] for n in range(len(accepted))} == accepted
    assert sorted(reported) == [len(accepted) + 2 + n for n in range(len(refused))], reported
    assert all("language" in reason for reason in reported.values()), reported
