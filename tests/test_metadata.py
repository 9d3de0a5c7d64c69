"""Metadata: title, source, author, URL and a date whose provenance is known."""

from functools import cache
from pathlib import Path

import pytest

from index.ingest.cleaning import clean
from index.ingest.pipeline import load_corpus
from index.ingest.metadata import extract, infer_date

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@cache
def metas():
    return {r.meta.file[:3]: r.meta for r in load_corpus(CORPUS).reports}


EXPECTED = {
    "000": dict(
        title="河北省卫生健康委:充分发挥党的政治优势 坚决打赢疫情防控斗争",
        date="2020-02-01", date_provenance="explicit", source="长城网", author="刘作军", url=None,
    ),
    "001": dict(
        title="吉林:争做抗疫“五大员” 让党旗在卫生疫情防控一线高高飘扬",
        date="2020-02-19", date_provenance="explicit", source="吉林省卫生健康委员会党组",
        author=None, url=None,
    ),
    "002": dict(
        title="黨旗所指 沖鋒所向 堅決打贏疫情防控遭遇戰 ——市婦保院黨委戰“疫”紀實之一",
        date=None, date_provenance="unknown", source="天水在線", author=None, url=None,
    ),
    "003": dict(
        title="学百年党史 护人民健康",
        date="2021-09-22", date_provenance="inferred", source=None, author="朱洁 朱卫健", url=None,
    ),
    "004": dict(
        title="上海市教衛系統眾志成城積極行動 全面打響疫情防控阻擊戰",
        date="2020-02-09", date_provenance="explicit", source="教育裝備網",
        author=None, url="http://www.wxhgws.com",
    ),
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_metadata_of_each_report(key):
    meta = metas()[key]
    assert {field: getattr(meta, field) for field in EXPECTED[key]} == EXPECTED[key]
    # corpus/metadata.toml says that nobody knows 002's date
    assert meta.overrides == (("date",) if key == "002" else ())


def test_all_five_reports_are_read():
    assert sorted(metas()) == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize(
    ("header", "date"),
    [
        ("2020-02-01 16:56:00", "2020-02-01"),
        ("发布时间:2020年02月19日 15:03 来源:某某委员会 编辑:张三", "2020-02-19"),
        ("http://www.example.com2020年02月09日 15:43某某網", "2020-02-09"),
        ("日期:2021/3/5", "2021-03-05"),
    ],
)
def test_explicit_date_shapes(header, date):
    meta = extract("r.txt", clean(f"标题\n{header}\n\n正文第一句话写在这里,说明一些情况。\n"))
    assert (meta.date, meta.date_provenance) == (date, "explicit")


def test_an_impossible_date_is_not_explicit():
    meta = extract("r.txt", clean("标题\n2020-02-31 10:00\n\n正文第一句话写在这里,说明一些情况。\n"))
    assert (meta.date, meta.date_provenance) == (None, "unknown")


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2021年,我们开展了工作。9月19日出院。截至9月22日24时接种疫苗。", "2021-09-22"),
        ("3月5日开会。2020年的工作。", "2020-03-05"),  # no year before: the latest one named
        ("2021年夏季。7月,开展活动。", "2021-07"),
        ("2019年12月底发现疫情,2020年1月23日封城。", "2020-01-23"),
        ("2003年抗击非典,1974年入党。", None),  # bare years never date a report
        ("疫情防控工作没有提到日子。", None),
        ("2月30日不存在。2020年。", None),
    ],
)
def test_inferred_dates(text, date):
    assert infer_date(text) == date


def test_url_is_cut_before_a_glued_date():
    meta = metas()["004"]
    assert meta.url == "http://www.wxhgws.com"


def test_full_width_colons_label_source_and_author():
    header = "来源\uff1a新华社 作者\uff1a张三"  # ：
    meta = extract("r.txt", clean(f"标题\n{header}\n\n正文第一句话写在这里,说明一些情况。\n"))
    assert (meta.title, meta.source, meta.author) == ("标题", "新华社", "张三")


def test_the_labelled_source_wins_over_the_reprinting_site_and_is_no_author():
    meta = extract(
        "r.txt", clean("标题\n人民网\n来源:新华社\n\n正文第一句话写在这里,说明一些情况。\n")
    )
    assert (meta.source, meta.author) == ("新华社", None)
