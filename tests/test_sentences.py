"""Sentences: clean, non-empty chunks with spans, sections and paragraphs."""

import re
from functools import cache
from pathlib import Path

from index.ingest.cleaning import MAX_PARAGRAPH, clean
from index.ingest.pipeline import load_corpus, read_report
from index.ingest.sentences import CHUNK, LONG_SENTENCE, spans, split
from index.models import DAMAGED
from index.text.scripts import HAN

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@cache
def reports():
    return {r.meta.file[:3]: r for r in load_corpus(CORPUS).reports}


def test_sentence_counts():
    assert {key: len(r.sentences) for key, r in reports().items()} == {
        "000": 47, "001": 29, "002": 22, "003": 81, "004": 40,
    }


def test_chunks_are_well_formed():
    for report in reports().values():
        for position, sentence in enumerate(report.sentences):
            assert sentence.position == position
            assert sentence.file == report.meta.file
            assert report.text[sentence.start : sentence.end] == sentence.text
            assert sentence.text == sentence.text.strip()
            assert re.search(rf"[{HAN}A-Za-z0-9]", sentence.text), sentence
            assert not sentence.text.endswith(DAMAGED)
            assert not sentence.text.startswith(DAMAGED)
        paragraphs = [s.paragraph for s in report.sentences]
        assert paragraphs == sorted(paragraphs)


def test_damaged_question_marks_do_not_end_sentences():
    damaged = [s.text for r in reports().values() for s in r.sentences if DAMAGED in s.text]
    assert len(damaged) == 4  # 002's last sentence holds three of the six runs
    assert sum(t.count(DAMAGED) for t in damaged) == 6
    assert any(t.startswith("市婦保院黨員堅定信念,勇當先鋒、勇\ufffd險、勇挑重\ufffd,") for t in damaged)
    assert any("詮釋著奉獻情懷\ufffd斗還在持續,但我們堅信" in t for t in damaged)


def test_closing_quotes_stay_with_their_sentence():
    texts = [s.text for s in reports()["003"].sentences]
    assert "“我是党员,我先上!”" in texts
    assert "“我有经验,让我来!”" in texts
    assert "“我年轻、身体好,请优先考虑!”……" in texts
    assert "“学史力行,就是要在关键时刻敢于担当,敢于逆行,在疫情防控中践行卫军人的初心与使命。”" in texts


def test_long_sentences_are_cut_after_semicolons():
    text = "甲" * 100 + ";" + "乙" * 100 + "。短句一;短句二。"
    pieces = [text[s:e] for s, e in spans(text)]
    assert pieces == ["甲" * 100 + ";", "乙" * 100 + "。", "短句一;短句二。"]
    assert LONG_SENTENCE == 150


def test_ascii_question_and_exclamation_marks_end_sentences():
    text = "你们准备好了吗?我们出发吧!好的。"
    assert [text[s:e] for s, e in spans(text)] == ["你们准备好了吗?", "我们出发吧!", "好的。"]


def test_punctuation_only_pieces_are_not_sentences():
    assert spans("……。 ——") == []


def test_sections_come_from_headings_even_multi_line_ones():
    sections = {s.section for s in reports()["000"].sentences}
    assert sections == {
        None,
        "铸牢“主心骨” 让党的领导在防控疫情斗争第一线凝聚力量",
        "把控“主战场” 让鲜红党旗在防控疫情斗争第一线高高飘扬",
        "建强“主力军” 让基层党组织和党员在防控疫情斗争第一线担当作为",
    }
    by_text = {s.text: s.section for s in reports()["001"].sentences}
    assert by_text["截至2月14日,累计受理电话12037次。"] == "五、拓展舆论阵地,凝聚社会共识,当好社会舆情“引导员”"
    sections_003 = [s.section for s in reports()["003"].sentences]
    assert sections_003[0] is None
    assert sorted(set(sections_003) - {None}) == sorted(
        ["党旗飘扬 打赢新冠疫情阻击战", "强化组织 确保“学”的效果", "深化形式 “学”要有所“悟”", "突出特色 守护株洲健康"]
    )


def test_headings_are_not_sentences():
    texts = {s.text for r in reports().values() for s in r.sentences}
    for heading in ["铸牢“主心骨”", "党旗飘扬", "一、充当主力军,守住主战场,当好联防联控“组织员”"]:
        assert not any(t.startswith(heading) for t in texts)


def test_paragraph_numbers_group_neighbours():
    sentences = reports()["000"].sentences
    same = [s.text for s in sentences if s.paragraph == sentences[1].paragraph]
    assert same[:3] == ["统一思想认识。", "疫情就是命令,防控就是责任。", same[2]]
    assert same[2].startswith("在武汉发生疫情但河北省尚无相关病例时")


def test_split_on_a_small_document():
    document = clean("标题\n\n一、第一部分\n\n第一句。第二句!\n\n二、第二部分\n\n第三句?\n")
    result = split("r.txt", document)
    assert result.text == "一、第一部分\n第一句。第二句!\n二、第二部分\n第三句?"
    assert [(s.text, s.start, s.end, s.paragraph, s.section) for s in result.sentences] == [
        ("第一句。", 7, 11, 0, "一、第一部分"),
        ("第二句!", 11, 15, 0, "一、第一部分"),
        ("第三句?", 23, 27, 1, "二、第二部分"),
    ]


def test_full_width_question_and_exclamation_marks_end_sentences():
    text = "他说\uff1a真的吗\uff1f我不信\uff01这是第三句。"  # ： ？ ！
    assert [text[s:e] for s, e in spans(text)] == ["他说\uff1a真的吗\uff1f", "我不信\uff01", "这是第三句。"]


def test_long_sentences_are_cut_after_full_width_semicolons():
    text = "甲" * 100 + "\uff1b" + "乙" * 100 + "。"  # ；
    assert [text[s:e] for s, e in spans(text)] == ["甲" * 100 + "\uff1b", "乙" * 100 + "。"]


PROSE_WITHOUT_TERMINALS = (
    "各级党组织迅速行动 全力以赴做好疫情防控工作，广大党员冲锋在前，医护人员日夜坚守在抗疫一线，"
    "志愿者们走街串巷宣传防疫知识，社区工作人员逐户排查登记，确保不漏一户不漏一人，"
    "全市上下形成了联防联控群防群治的强大合力，疫情防控工作取得阶段性成效，"
    "各医疗机构严格落实预检分诊制度，发热门诊二十四小时值守，重点人员应检尽检，"
    "交通卡口严格查验健康码和行程卡 车站码头设立临时检测点"
)


def test_a_report_without_sentence_terminals_is_read_in_chunks():
    report = read_report("r.txt", f"标题\n\n{PROSE_WITHOUT_TERMINALS}\n".encode())
    texts = [s.text for s in report.sentences]
    assert len(texts) > 1 and all(len(t) <= CHUNK for t in texts)
    assert "".join(texts) == PROSE_WITHOUT_TERMINALS
    assert all(t.endswith("，") for t in texts[:-1])  # cut at the commas


def test_a_last_paragraph_without_a_terminal_is_body():
    text = "标题\n\n正文第一句话写在这里，说明一些情况。\n\n最后一段没有句号，但它仍然是正文的一部分内容\n"
    assert [s.text for s in read_report("r.txt", text.encode()).sentences] == [
        "正文第一句话写在这里，说明一些情况。",
        "最后一段没有句号，但它仍然是正文的一部分内容",
    ]


def test_unpunctuated_latin_text_is_never_cut_inside_a_word():
    words = "the quick brown fox jumps over the lazy dog again and again".split()
    text = " ".join(words * 5)
    pieces = [text[s:e] for s, e in spans(text)]
    assert len(pieces) > 1 and all(len(p) <= CHUNK for p in pieces)
    assert " ".join(pieces) == text


def test_a_chunk_without_soft_breaks_is_cut_where_it_must():
    text = "甲" * 300
    assert [e - s for s, e in spans(text)] == [CHUNK, CHUNK, 300 - 2 * CHUNK]


def test_any_script_makes_a_sentence():
    for text in ["ありがとう。", "감사합니다.", "Привет, мир!", "Ελλάδα."]:
        assert [text[s:e] for s, e in spans(text)] == [text]


def test_a_report_of_one_huge_paragraph_is_read_in_bounded_pieces(caplog):
    text = re.sub("[。！？!?]", "，", "".join((CORPUS / "000_f160c81bd3db8945.txt").read_text().split()))
    sentence = (text * 2)[:1500] + "。"  # a sentence far over MAX_SENTENCE
    paragraph = sentence * (2 * 2**20 // len(sentence.encode()))  # 2 MB on one line
    report = read_report("huge.txt", f"标题\n\n{paragraph}\n".encode())
    assert "".join(s.text for s in report.sentences) == paragraph
    assert max(len(s.text) for s in report.sentences) <= CHUNK
    lengths: dict[int, int] = {}
    for s in report.sentences:
        lengths[s.paragraph] = lengths.get(s.paragraph, 0) + len(s.text)
    assert len(lengths) > 1 and max(lengths.values()) <= MAX_PARAGRAPH + CHUNK
    (note,) = [n for n in report.notes if "cut" in n]
    assert note.startswith("huge.txt: cut to keep answers quick: 1 paragraph(s) over 2000 characters")
    assert re.search(r"\b[1-9]\d* sentence\(s\) over 300 characters into chunks of at most 120$", note)
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [note]


def test_hard_wrapped_lines_stop_joining_at_the_paragraph_bound():
    line = "这是一行被硬换行的正文文字，每行四十多个字，内容很长很长很长很长很长，还没有写完"
    document = clean("标题\n\n" + "\n".join([line] * 200) + "。\n")
    bodies = [p.text for p in document.of_kind("body")]
    assert len(bodies) > 1 and max(map(len, bodies)) < MAX_PARAGRAPH + len(line)
    assert "".join(bodies) == line * 200 + "。"
