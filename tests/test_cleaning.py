"""Cleaning: glosses, furniture, damaged runs, broken lines and spaces, all handled in code."""

import re
from functools import cache
from pathlib import Path

import pytest

from index.ingest.cleaning import clean, mark_damage, normalise_spaces, strip_glosses
from index.ingest.pipeline import load_corpus
from index.models import DAMAGED

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PINYIN = re.compile(r"[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüń]{2,}")


@cache
def reports():
    return {r.meta.file[:3]: r for r in load_corpus(CORPUS).reports}


@pytest.mark.parametrize("key", ["002", "004"])
def test_glosses_are_stripped_everywhere_in_the_traditional_reports(key):
    report = reports()[key]
    without_urls = re.sub(r"https?://\S+", "", report.text + (report.meta.title or ""))
    assert PINYIN.findall(without_urls) == []
    assert "(" not in report.text.replace("(12320)", "")
    assert all(not PINYIN.search(s.text) for s in report.sentences)


def test_real_parentheses_stay():
    assert any("上海市衛生熱線(12320)的黨員話務員" in s.text for s in reports()["004"].sentences)
    assert any("各級黨組織" in s.text for s in reports()["004"].sentences)
    # The editor credit keeps its parentheses; it is metadata, read as the source.
    text, count = strip_glosses("堅(jiān)決打贏(天水在線編輯:陶靜) 熱線(12320) 發(fā)現(xiàn)")
    assert (text, count) == ("堅決打贏(天水在線編輯:陶靜) 熱線(12320) 發現", 3)


def test_text_without_glosses_is_left_alone():
    assert strip_glosses("党组(党委)和热线(12320)") == ("党组(党委)和热线(12320)", 0)


def test_traditional_script_is_kept():
    first = reports()["002"].sentences[0].text
    assert first.startswith("自我省發現新冠肺炎本土確診病例后,市婦保院認真貫徹落實")


@pytest.mark.parametrize(
    ("damaged", "expected"),
    [
        ("堅守崗位,勇?lián)挂咧厝,帶頭落實", "堅守崗位,勇\ufffd,帶頭落實"),
        ("奮勇?tīng)?zhēng)先,在本次", "奮勇\ufffd先,在本次"),
        ("勇當先鋒、勇?lián)L(fēng)險(xiǎn)、勇挑重?fù)?dān),按照", "勇當先鋒、勇\ufffd險(xiǎn)、勇挑重\ufffd,按照"),
    ],
)
def test_damaged_runs_become_one_marker(damaged, expected):
    assert mark_damage(damaged)[0] == expected


def test_a_damaged_run_can_hold_a_gloss_like_piece():
    # 膽(zhàn) is noise: this report glosses 戰 as zhàn everywhere else.
    text = "戰(zhàn)斗,戰(zhàn)役。奉獻情懷?箵粢咔榈膽(zhàn)斗還在持續(xù),但"
    assert mark_damage(text) == ("戰(zhàn)斗,戰(zhàn)役。奉獻情懷\ufffd斗還在持續(xù),但", 1)


@pytest.mark.parametrize(
    "text",
    ["你们准备好了吗?我们出发吧!", "What? 这是什么?Why?", "真的??", "怎么办?(见下文)"],
)
def test_real_question_marks_are_not_damage(text):
    assert mark_damage(text) == (text, 0)


def test_damaged_runs_in_the_corpus():
    assert reports()["002"].text.count(DAMAGED) == 5
    assert reports()["004"].text.count(DAMAGED) == 1
    assert "下\ufffd費,用于慰問疫情防控一線醫務工作者" in reports()["004"].text
    assert "?" not in reports()["002"].text + reports()["004"].text


FURNITURE = [
    "河北频道", "全景河北", "分享", "手机版", "1 1 1", "打印", "纠错", "微信扫一扫", "收听本文",
    "00:00", "关键词", "责任编辑", "責任編輯", "本文鏈接", "TOP", "編輯:陶靜", "来源", "发布时间",
    "株洲日报社 株洲市卫健委 宣", "戴口罩", "勤洗手", "莫大意", "思想不麻痹", "http",
    "张纯良带领系统党员重温入党誓词", "在老区义诊活动上", "市卫健委组织医疗卫生专家乘坐红色专列",
]


def test_no_chunk_holds_furniture():
    for report in reports().values():
        for sentence in report.sentences:
            for furniture in FURNITURE:
                assert furniture not in sentence.text, (report.meta.file, sentence.text)
        for furniture in FURNITURE:
            assert furniture not in report.text


def test_photo_captions_that_repeat_the_body_are_gone():
    text = reports()["003"].text
    assert text.count("9月19日,我市最后一名新冠肺炎确诊患者出院") == 1
    assert "\n核酸检测\n" not in text


def test_title_and_byline_are_not_sentences():
    for report in reports().values():
        assert all(s.text != report.meta.title for s in report.sentences)
    assert reports()["003"].sentences[0].text.startswith("9月19日,我市最后一名")


def test_sentences_broken_across_lines_and_blank_lines_are_joined():
    assert any(
        s.text.startswith("就这样,这些党员干部、医护人员,先后在主城区完成三轮全员核酸检测")
        for s in reports()["003"].sentences
    )
    assert any("在院黨委的團結帶領下,全院上下勠力同心" in s.text for s in reports()["002"].sentences)


def test_spaces_are_normalised():
    assert normalise_spaces("铸牢\xa0“主心骨”\u3000\u3000  \r\n\t第二行\u200b ") == "铸牢 “主心骨”\n第二行"
    for report in reports().values():
        assert "\xa0" not in report.text and "\u3000" not in report.text and "  " not in report.text


def test_wrapped_title_lines_stay_apart_from_the_body():
    document = clean("标题第一行\n副标题\n\n正文第一句话写在这里,说明一些情况。正文第二句。\n")
    assert [(p.kind, p.text) for p in document.paragraphs] == [
        ("header", "标题第一行"),
        ("header", "副标题"),
        ("body", "正文第一句话写在这里,说明一些情况。正文第二句。"),
    ]


def test_a_paragraph_ending_in_a_full_width_question_mark_is_no_heading():
    body = "正文第一句话写在这里,说明一些情况和问题。"
    document = clean(f"标题\n\n{body}\n\n「大家准备好了吗\uff1f」\n\n{body}\n")  # ？
    assert ("body", "「大家准备好了吗\uff1f」") in [(p.kind, p.text) for p in document.paragraphs]


def test_furniture_and_captions_dropped_are_returned():
    document = clean(
        "标题\n\n手机版\n\n正文第一句话写在这里,说明一些情况。\n\n关键词:防疫\n\n正文第二句话写在这里,说明一些情况。\n"
    )
    assert document.dropped == ("手机版", "关键词:防疫")
    assert "left out" not in "".join(p.text for p in document.paragraphs)


BODY = "正文第一句话写在这里,说明一些情况。"


@pytest.mark.parametrize(
    "prose",
    [
        "采样时间为08:00/12:00",
        "采样时间为08:00/12:00,请市民按时前往。",
        "扫码登记",
        "市民可扫码登记后进入,无需排队。",
        "本站提供收听本文的功能,方便视障读者。",
        "体温 > 37.3℃ 的人员需立即就医",
        "标签化管理让每一户都有人负责。",
    ],
)
def test_prose_that_mentions_furniture_words_is_kept(prose):
    document = clean(f"标题\n\n{BODY}\n\n{prose}\n\n{BODY}\n")
    assert prose in [p.text for p in document.of_kind("heading", "body")]
    assert document.dropped == ()


@pytest.mark.parametrize(
    "furniture",
    ["收听本文", "收聽本文 00:00/03:25", "00:00 / 00:00", "微信扫一扫", "扫一扫 二维码", "扫码分享",
     "手机扫码阅读", "扫一扫在手机打开当前页", "河北频道 > 全景河北", "当前位置:首页>新闻中心>正文",
     "关键词:防疫", "标签：党建"],
)
def test_furniture_lines_are_dropped_and_reported(furniture):
    document = clean(f"标题\n\n{BODY}\n\n{furniture}\n\n{BODY}\n")
    assert document.dropped == (furniture,)
