import io
import json

import pytest
from django.core.management import CommandError, call_command

from moderation.models import Comment, LabelAnnotation
from tests.tiny import DEMO_CSV

pytestmark = pytest.mark.django_db


def run_import(path, *args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_comments", str(path), "--no-progress", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


@pytest.mark.slow
def test_jigsaw_sample_imports_1825_comments_with_six_labels_and_no_racism(jigsaw_csv):
    out, err, error = run_import(jigsaw_csv, "--source", "jigsaw")
    assert error is None, err
    assert Comment.objects.filter(source="jigsaw").count() == 1825
    positives = dict(
        (name, LabelAnnotation.objects.filter(label__name=name, value=True).count())
        for name in ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate", "racism"]
    )
    assert positives == {
        "toxic": 158,
        "severe_toxic": 15,
        "obscene": 87,
        "threat": 7,
        "insult": 85,
        "identity_hate": 19,
        "racism": 0,
    }
    assert LabelAnnotation.objects.count() == 1825 * 6
    assert not LabelAnnotation.objects.filter(label__name="racism").exists()
    annotations = LabelAnnotation.objects.count()
    out, err, error = run_import(jigsaw_csv, "--source", "jigsaw")
    assert error is None
    assert "imported: 0" in out and "1825 already present" in out
    assert Comment.objects.count() == 1825 and LabelAnnotation.objects.count() == annotations


def test_demo_set_has_all_seven_labels():
    out, err, error = run_import(DEMO_CSV, "--source", "demo")
    assert error is None, err
    assert Comment.objects.count() == 281
    assert LabelAnnotation.objects.count() == 281 * 7
    assert LabelAnnotation.objects.filter(label__name="racism", value=True).count() == 21


def test_malformed_rows_are_reported_by_line_and_the_rest_imported(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,comment_text,toxic,threat\n"
        "1,fine comment,0,0\n"
        '2,"a comment\nover two lines",1,\n'  # lines 3-4; threat empty -> unknown
        "3,   ,0,0\n"  # line 5: blank text
        "4,bad label,maybe,0\n"  # line 6
        "5,too,many,0,0,0\n"  # line 7
        "1,duplicate id,0,0\n"  # line 8
    )
    out, err, error = run_import(path)
    assert error is not None and "4 row(s) rejected" in str(error)
    assert "line 5: text is empty" in err
    assert "line 6: toxic: label value 'maybe'" in err
    assert "line 7:" in err and "more field(s)" in err
    assert "line 8: duplicate id '1' (first on line 2)" in err
    assert "imported: 2" in out
    two_lines = Comment.objects.get(external_id="2")
    assert two_lines.text == "a comment\nover two lines"
    assert {a.label.name: a.value for a in two_lines.annotations.all()} == {"toxic": True}


def test_reimport_after_errors_touches_nothing_stored(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "hello", "labels": {"toxic": 0}}) + "\n")
    run_import(path)
    stored = Comment.objects.get(external_id="a")
    path.write_text(json.dumps({"id": "a", "text": "changed text", "labels": {"toxic": 1}}) + "\n")
    out, err, error = run_import(path)
    assert error is None and "1 already present" in out
    stored.refresh_from_db()
    assert stored.text == "hello"
    assert stored.annotations.get().value is False


def test_jsonl_rows_without_id_are_idempotent_and_bad_lines_reported(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"text": "you are great", "labels": {"toxic": 0, "insult": False}}),
                "{not json",
                json.dumps({"text": "x", "labels": {"sarcasm": 1}}),
                json.dumps(["a list"]),
                json.dumps({"text": "no labels at all"}),
            ]
        )
        + "\n"
    )
    out, err, error = run_import(path)
    assert error is not None
    assert "line 2: invalid JSON" in err
    assert "line 3: unknown label(s): sarcasm" in err
    assert "line 4: a line must be a JSON object" in err
    assert Comment.objects.count() == 2
    assert not Comment.objects.get(text="no labels at all").annotations.exists()
    run_import(path)
    assert Comment.objects.count() == 2


def test_unreadable_inputs_are_command_errors(tmp_path):
    _, _, error = run_import(tmp_path / "missing.csv")
    assert "no such file" in str(error)
    wrong = tmp_path / "data.txt"
    wrong.write_text("hello")
    _, _, error = run_import(wrong)
    assert "--format" in str(error)
    header = tmp_path / "header.csv"
    header.write_text("id,body\n1,hi\n")
    _, _, error = run_import(header)
    assert "no text column" in str(error)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"id,comment_text\n1,\xff\xfe bad\n")
    _, _, error = run_import(binary)
    assert "not valid UTF-8" in str(error)
    big = tmp_path / "big.csv"
    big.write_text("id,comment_text\n" + "1,hello\n" * 100)
    _, _, error = run_import(big, "--max-bytes", "100")
    assert "over the limit" in str(error)
    assert Comment.objects.count() == 0


def test_a_stray_carriage_return_is_a_reported_row_not_a_crash(tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b'id,comment_text,toxic\n1,fine,0\n2,"quoted\rok",0\n3,bare\rcr,0\n4,after,1\n')
    out, err, error = run_import(path)
    # The quoted \r counts as a line break too; the bare one cut row 3 into lines 5 and 6: both reported.
    assert error is not None and "line 5:" in err and "line 6:" in err
    assert Comment.objects.filter(external_id__in=["1", "2", "4"]).count() == 3
    assert Comment.objects.get(external_id="2").text == "quoted\rok"


def test_a_row_of_invisible_characters_only_is_blank_as_on_the_api(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("id,comment_text,toxic\n1,fine comment,0\n2,\u200b\u200d\ufeff,1\n", encoding="utf-8")
    out, err, error = run_import(path)
    assert "line 3: text is empty" in err and "imported: 1" in out
    assert not Comment.objects.filter(external_id="2").exists()


# A community's own export, read as it is: OLID's layout (a header, tabs, OFF/NOT) and
# GermEval's (no header, OFFENSE/OTHER), a few rows each.
OLID_LIKE = 'id\ttweet\tsubtask_a\tsubtask_b\n1\t@USER you are a "clown"\tOFF\tTIN\n2\tnice game\tNOT\tNULL\n'
GERMEVAL_LIKE = "Du bist ein Idiot\tOFFENSE\tINSULT\nSchönes Wetter heute\tOTHER\tOTHER\n"


def labels_of(comment) -> dict[str, bool]:
    return dict(comment.annotations.values_list("label__name", "value"))


def test_a_tsv_in_its_own_layout_is_read_through_a_mapping(tmp_path):
    path = tmp_path / "olid.tsv"
    path.write_text(OLID_LIKE)
    rules = ["--label", "toxic=subtask_a:OFF/NOT", "--label", "insult=subtask_b:TIN/UNT/NULL"]
    out, err, error = run_import(path, "--text", "tweet", "--id", "id", *rules, "--language", "en")
    assert error is None, err
    clown, nice = Comment.objects.order_by("external_id")
    assert clown.text == '@USER you are a "clown"' and clown.language == "en"  # quotes are text in a TSV
    assert labels_of(clown) == {"toxic": True, "insult": True}
    assert labels_of(nice) == {"toxic": False}  # NULL: insult stays unknown, never false
    assert run_import(path, "--text", "tweet", "--id", "id", *rules)[2] is None  # a re-run changes nothing
    assert Comment.objects.count() == 2


def test_a_headerless_file_names_its_columns_by_number(tmp_path):
    path = tmp_path / "germeval.tsv"
    path.write_text(GERMEVAL_LIKE)
    out, err, error = run_import(
        path, "--no-header", "--text", "1", "--label", "toxic=2:OFFENSE/OTHER", "--language", "de"
    )
    assert error is None, err
    assert sorted((c.text, labels_of(c)["toxic"], c.language) for c in Comment.objects.all()) == [
        ("Du bist ein Idiot", True, "de"),
        ("Schönes Wetter heute", False, "de"),
    ]


def test_a_jsonl_score_with_a_cut_off_and_a_language_column(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text(
        '{"body": "awful person", "tox": 0.91, "lang": "en"}\n{"body": "hello", "tox": 0.1, "lang": "en"}\n'
        '{"body": "no score yet", "lang": "fr"}\n'
    )
    out, err, error = run_import(path, "--text", "body", "--label", "toxic=tox>=0.5", "--language-column", "lang")
    assert error is None, err
    found = {c.text: (labels_of(c), c.language) for c in Comment.objects.all()}
    assert found == {
        "awful person": ({"toxic": True}, "en"),
        "hello": ({"toxic": False}, "en"),
        "no score yet": ({}, "fr"),
    }


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (
            OLID_LIKE,
            ["--text", "twet", "--label", "toxic=subtask_a:OFF/NOT"],
            "the text column 'twet' is not in the file",
        ),
        (OLID_LIKE, ["--text", "tweet", "--label", "toxic=subtask_x:OFF/NOT"], "the label toxic column 'subtask_x'"),
        (OLID_LIKE, ["--text", "tweet", "--label", "toxic=subtask_a:OFF"], "is not LABEL=COLUMN"),
        (OLID_LIKE, ["--text", "tweet", "--label", "hateful=subtask_a:OFF/NOT"], "'hateful': no such label here"),
        (OLID_LIKE, ["--text", "tweet", "--label", "toxic=subtask_a:OFF/OFF"], "OFF has two meanings"),
        (OLID_LIKE, ["--text", "tweet"], "at least one --label rule"),
        (OLID_LIKE, ["--label", "toxic=subtask_a:OFF/NOT"], "needs --text"),
        # One row the mapping cannot read: its line and value are named, and nothing is stored.
        (
            OLID_LIKE,
            ["--text", "tweet", "--label", "toxic=subtask_b:TIN/UNT"],
            "line 3: column subtask_b: 'NULL' is neither",
        ),
        (OLID_LIKE + "3\tshort row\n", ["--text", "tweet", "--label", "toxic=subtask_a:OFF/NOT"], "line 4: 2 fields"),
        (
            OLID_LIKE,
            ["--text", "tweet", "--label", "toxic=subtask_a:OFF/NOT", "--language", "english"],
            "not a language code",
        ),
    ],
)
def test_a_mapping_that_does_not_fit_the_file_is_refused_whole(tmp_path, content, args, message):
    path = tmp_path / "community.tsv"
    path.write_text(content)
    out, err, error = run_import(path, *args)
    assert error is not None and message in str(error), error
    assert not Comment.objects.exists() and not LabelAnnotation.objects.exists()


@pytest.mark.slow
def test_two_real_communities_import_as_they_are():
    from tests.conftest import shared_file

    olid, germeval = shared_file("olid_train.tsv"), shared_file("germeval2018_train.tsv")
    assert run_import(olid, "--text", "tweet", "--id", "id", "--label", "toxic=subtask_a:OFF/NOT")[2] is None
    assert run_import(germeval, "--no-header", "--text", "1", "--label", "toxic=2:OFFENSE/OTHER")[2] is None
    for source, rows, offensive in (("olid_train", 13_240, 4_400), ("germeval2018_train", 5_009, 1_688)):
        assert Comment.objects.filter(source=source).count() == rows
        toxic = LabelAnnotation.objects.filter(comment__source=source, label__name="toxic")
        assert toxic.count() == rows and toxic.filter(value=True).count() == offensive
