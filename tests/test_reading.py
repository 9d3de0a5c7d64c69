"""Reading: every report file found in a stable order, in whatever encoding it was saved."""

import re
from pathlib import Path

import pytest

from index.ingest.pipeline import load_corpus
from index.errors import CorpusError, UnreadableFile
from index.ingest.reading import decode, discover

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def simplified_text() -> str:
    # GBK has no U+00A0; the cleaner turns it into a space anyway.
    return (CORPUS / "000_f160c81bd3db8945.txt").read_text("utf-8").replace("\xa0", " ")


def traditional_text() -> str:
    # Big5 has neither pinyin letters nor the damaged run, nor 礴 and ↑.
    text = (CORPUS / "004_c85b02d35b5cd381.txt").read_text("utf-8")
    text = re.sub(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", "", text)
    return text.replace("下?lián)芤欢ń?jīng)費", "下撥一定經費").replace("礴", "").replace("↑", "")


def chunks(folder: Path) -> list[tuple[str, str | None, str]]:
    (report,) = load_corpus(folder).reports
    return [(s.text, s.section, report.meta.title) for s in report.sentences]


@pytest.mark.parametrize(
    ("make_text", "encoding"),
    [
        (simplified_text, "gbk"),
        (simplified_text, "gb18030"),
        (traditional_text, "big5"),
        (simplified_text, "utf-16"),  # Python writes the BOM
        (traditional_text, "utf-16"),
        (simplified_text, "utf-8-sig"),
    ],
)
def test_other_encodings_read_like_their_utf8_twin(tmp_path, make_text, encoding):
    text = make_text()
    (tmp_path / "utf8").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "utf8" / "report.txt").write_bytes(text.encode("utf-8"))
    (tmp_path / "other" / "report.txt").write_bytes(text.encode(encoding))
    expected = chunks(tmp_path / "utf8")
    assert len(expected) > 20
    assert chunks(tmp_path / "other") == expected


def test_bad_files_are_skipped_with_a_warning_naming_them(tmp_path):
    (tmp_path / "a_good.txt").write_bytes(simplified_text().encode("utf-8"))
    (tmp_path / "b_empty.txt").write_bytes(b"")
    (tmp_path / "c_blank.md").write_bytes(b"  \n\n ")
    (tmp_path / "d_binary.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "e_undecodable.txt").write_bytes(b"\x81\x30\xff\xfe\x80\xff" * 40)
    corpus = load_corpus(tmp_path)
    assert [r.meta.file for r in corpus.reports] == ["a_good.txt"]
    assert len(corpus.warnings) == 4
    for name, warning in zip(["b_empty.txt", "c_blank.md", "d_binary.txt", "e_undecodable.txt"], corpus.warnings):
        assert warning.startswith(f"{name}: skipped")


def test_decode_names_the_reason():
    with pytest.raises(UnreadableFile, match=r"^x\.txt: skipped, the file is empty"):
        decode("x.txt", b"")
    with pytest.raises(UnreadableFile, match="binary"):
        decode("x.txt", b"\x00\x01text\x00" * 10)
    assert decode("x.txt", "\ufeff你好。".encode("utf-8")) == "你好。"


def test_discovery_is_recursive_sorted_and_takes_txt_and_md_only(tmp_path):
    for name in ["b.txt", "a/z.md", "a/c.txt", "notes.csv", ".hidden/x.txt", "metadata.toml"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("内容。", encoding="utf-8")
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path).files] == ["a/c.txt", "a/z.md", "b.txt"]


def test_missing_corpus_folder_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "nowhere")


def test_markdown_markup_is_not_text(tmp_path):
    (tmp_path / "r.md").write_text(
        "# 标题一行\n\n## 一、第一部分\n\n**我们**做了[很多工作](http://example.org),效果明显。\n",
        encoding="utf-8",
    )
    (report,) = load_corpus(tmp_path).reports
    assert report.meta.title == "标题一行"
    assert [(s.section, s.text) for s in report.sentences] == [("一、第一部分", "我们做了很多工作,效果明显。")]
