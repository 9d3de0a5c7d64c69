"""metadata.toml: the operator's corrections win and are marked; a bad file is a clear error."""

import shutil
from pathlib import Path

import pytest

from index.ingest.pipeline import load_corpus
from index.errors import CorpusError
from index.ingest.overrides import Override, parse_overrides

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture
def corpus_copy(tmp_path):
    for name in ["002_7e09391dc468c881.txt", "003_99b2eed65f7f11de.txt"]:
        shutil.copy(CORPUS / name, tmp_path / name)
    return tmp_path


def test_overrides_are_applied_and_marked(corpus_copy):
    (corpus_copy / "metadata.toml").write_text(
        '["002_7e09391dc468c881.txt"]\n'
        'title = "黨旗所指 沖鋒所向"\n'
        'date = "2021-08-05"\n'
        'url = "https://example.org/002.html"\n',
        encoding="utf-8",
    )
    corpus = load_corpus(corpus_copy)
    meta = {r.meta.file[:3]: r.meta for r in corpus.reports}
    assert (meta["002"].title, meta["002"].date, meta["002"].date_provenance, meta["002"].url) == (
        "黨旗所指 沖鋒所向", "2021-08-05", "override", "https://example.org/002.html",
    )
    assert meta["002"].source == "天水在線"  # not overridden: as read
    assert meta["002"].overrides == ("title", "date", "url")
    assert (meta["003"].date_provenance, meta["003"].overrides) == ("inferred", ())
    assert corpus.warnings == ()


def test_a_source_override_keeps_the_date_provenance(corpus_copy):
    (corpus_copy / "metadata.toml").write_text(
        '["003_99b2eed65f7f11de.txt"]\nsource = "株洲日报"\n', encoding="utf-8"
    )
    meta = load_corpus(corpus_copy).reports[1].meta
    assert (meta.source, meta.date, meta.date_provenance, meta.overrides) == (
        "株洲日报", "2021-09-22", "inferred", ("source",),
    )


def test_an_entry_for_a_missing_file_is_a_warning(corpus_copy):
    (corpus_copy / "metadata.toml").write_text('["gone.txt"]\ntitle = "x"\n', encoding="utf-8")
    corpus = load_corpus(corpus_copy)
    assert len(corpus.reports) == 2
    assert corpus.warnings == ('metadata.toml: ["gone.txt"] matches no report file in the corpus folder',)


def test_syntax_error_names_the_line(corpus_copy):
    (corpus_copy / "metadata.toml").write_text(
        '["002_7e09391dc468c881.txt"]\ntitle = "ok"\ndate = 2021-13-45-\n', encoding="utf-8"
    )
    with pytest.raises(CorpusError, match=r"^metadata\.toml: not valid TOML: .*line 3"):
        load_corpus(corpus_copy)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('["a.txt"]\ntitel = "x"\n', r'\["a\.txt"\]: unknown key\(s\) titel; allowed: title, date'),
        ('["a.txt"]\ndate = "2021-02-30"\n', r'\["a\.txt"\]: date "2021-02-30" is not a real date'),
        ('["a.txt"]\ndate = "yesterday"\n', r'\["a\.txt"\]: date "yesterday"'),
        ('["a.txt"]\ndate = 2021-02-03\n', r'\["a\.txt"\]: date must be a non-empty string'),
        ('["a.txt"]\ntitle = ""\n', r'\["a\.txt"\]: title must be a non-empty string'),
        ('title = "x"\n', r'\["title"\]: expected a table'),
        ('["a.txt"]\ndamaged = "5"\n', r'\["a\.txt"\]: damaged must be a whole number above 0'),
        ('["a.txt"]\ndamaged = 0\n', r'\["a\.txt"\]: damaged must be a whole number above 0'),
        ('["a.txt"]\ndamaged = true\n', r'\["a\.txt"\]: damaged must be a whole number above 0'),
    ],
)
def test_bad_entries_name_the_file_key(toml, message):
    with pytest.raises(CorpusError, match=message):
        parse_overrides(toml)


def test_partial_dates_are_allowed():
    parsed = parse_overrides('["a.txt"]\ndate = "2021-09"\n["b/c.md"]\ndate = "2020"\nauthor = "某某"\n')
    assert parsed == {"a.txt": Override(date="2021-09"), "b/c.md": Override(date="2020", author="某某")}


def test_no_overrides_file_no_overrides(corpus_copy):
    assert all(r.meta.overrides == () for r in load_corpus(corpus_copy).reports)


def test_a_date_known_to_be_unknown_is_said_so_and_not_warned_about(corpus_copy):
    (corpus_copy / "metadata.toml").write_text(
        '["002_7e09391dc468c881.txt"]\ndate = "unknown"\n', encoding="utf-8"
    )
    report = load_corpus(corpus_copy).reports[0]
    assert (report.meta.date, report.meta.date_provenance, report.meta.overrides) == (
        None, "unknown", ("date",),
    )
    assert not any("no date found" in w for w in report.warnings)


def test_damage_seen_and_accepted_is_not_warned_about_unless_it_changes(corpus_copy):
    def damage_warnings(count: int) -> list[str]:
        (corpus_copy / "metadata.toml").write_text(
            f'["002_7e09391dc468c881.txt"]\ndamaged = {count}\n', encoding="utf-8"
        )
        return [w for w in load_corpus(corpus_copy).reports[0].warnings if "damaged" in w]

    assert damage_warnings(5) == []
    assert damage_warnings(4) == [
        "002_7e09391dc468c881.txt: 5 run(s) of characters damaged by a bad encoding round-trip, "
        "each shown as one U+FFFD (\ufffd); metadata.toml accepts 4"
    ]


def test_the_bundled_reports_are_read_without_a_warning():
    corpus = load_corpus(CORPUS)
    assert corpus.warnings == ()
    assert [w for r in corpus.reports for w in r.warnings] == []
    meta = {r.meta.file[:3]: r.meta for r in corpus.reports}
    assert (meta["002"].date, meta["002"].date_provenance, meta["002"].overrides) == (
        None, "unknown", ("date",),
    )
