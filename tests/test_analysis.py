"""The terms of a few sentences that exercise every rule of the analysis, pinned: a change to them
changes every index, and must come with a new ANALYZER_VERSION."""

import pytest

from index.text.analyzer import Analyzer


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


PINNED = [
    pytest.param(
        "黨員志願者在核酸採(cǎi)樣點值守，ＳＡＲＳ－ＣｏＶ－２",
        "党员 志愿 愿者 志愿者 核酸 采 cǎi 样点 值守 sars cov 2 党 党员 员 员志 志 志愿 愿 愿者 者 者在 在核 核 核酸 酸 酸采 样 样点 点 点值 值 值守 守",
        "党员 志愿 愿者 志愿者 核酸 采 cǎi 样点 值守 sars cov 2 党员 员志 志愿 愿者 者在 在核 核酸 酸采 样点 点值 值守",
        id="traditional-full-width-pinyin-gloss",
    ),
    pytest.param(
        "截至2月14日24時，累計確診1,234例，治愈率95.5%。",
        "截至 2 月 14 日 24 时 累计 确诊 1 234 例 治愈 治愈率 95.5% 截 截至 至 累 累计 计 计确 确 确诊 诊 治 治愈 愈 愈率 率",
        "截至 2 月 14 日 24 时 累计 确诊 1 234 例 治愈 治愈率 95.5% 截至 累计 计确 确诊 治愈 愈率",
        id="digits",
    ),
    pytest.param(
        "疫情\ufffd\ufffd防控于是就是在了的",
        "疫情 防控 于是 就是 疫 疫情 情 防 防控 控 控于 于 于是 是 是就 就 就是 是 是在",
        "疫情 防控 于是 就是 疫情 防控 控于 于是 是就 就是 是在",
        id="damage-marks-and-stop-words",
    ),
    pytest.param(
        "他说：我们要把好事办好，人人有责。",
        "说 好事 办好 人人 有责 人人有责 他说 把好 好 好事 事 事办 办 办好 好 人 人人 人 人有 有 有责 责",
        "说 好事 办好 人人 有责 人人有责 他说 把好 好事 事办 办好 人人 人有 有责",
        id="one-character-words",
    ),
    pytest.param("請問是什麼？", "", "", id="only-stop-words"),
    pytest.param(
        "详见http://www.example.com/a/very/long/path/index.html说明",
        "详见 http www example com a very long path index html 说明 详 详见 见 说 说明 明",
        "详见 http www example com a very long path index html 说明 详见 说明",
        id="latin-words",
    ),
    pytest.param(
        "編號1234567890123456789012345678901234567890號",
        "编号 号 编 编号 号",
        "编号 号 编号",
        id="overlong-token",
    ),
    pytest.param(
        "鿿㐀龘豈",
        "鿿 㐀 龘 岂 鿿㐀 㐀龘 龘岂",
        "鿿 㐀 龘 岂 鿿㐀 㐀龘 龘岂",
        id="characters-outside-jiebas-range",
    ),
    pytest.param(
        "こんにちは世界，ありがとう。",
        "こんにちは 世界 ありがとう こ こん ん んに に にち ち ちは は は世 世 世界 界 あ あり り りが が がと と とう う",
        "こんにちは 世界 ありがとう こん んに にち ちは は世 世界 あり りが がと とう",
        id="kana",
    ),
    pytest.param(
        "감사합니다 서울",
        "감사합니다 서울 감 감사 사 사합 합 합니 니 니다 다 서 서울 울",
        "감사합니다 서울 감사 사합 합니 니다 서울",
        id="hangul",
    ),
    pytest.param(
        "Привет, мир! Café naïve 2つ",
        "привет мир café naïve 2 つ",
        "привет мир café naïve 2 つ",
        id="other-letters-make-whole-words",
    ),
]


@pytest.mark.parametrize(("sentence", "terms", "query_terms"), PINNED)
def test_terms_are_pinned(analyzer: Analyzer, sentence: str, terms: str, query_terms: str) -> None:
    """``terms`` and ``query_terms`` list the expected terms in order, separated by spaces."""
    assert analyzer.terms(sentence) == terms.split()
    assert analyzer.query_terms(sentence) == query_terms.split()


def test_folding_many_texts_at_once_folds_each_as_alone(analyzer: Analyzer) -> None:
    texts = ["堅決打贏疫情防控阻擊戰！", "ＡＢＣ１２３，Σ", "乾隆", "", "第一行\n第二行", "後來"]
    assert analyzer.fold_many(texts) == [analyzer.fold(text) for text in texts]
    assert analyzer.fold_many(texts[:3]) == [analyzer.fold(text) for text in texts[:3]]
    assert analyzer.fold_many([]) == []


def test_rare_characters_of_extension_b_are_terms_alone_and_in_pairs(analyzer: Analyzer) -> None:
    """𠮷 (U+20BB7) is a Chinese character like any other: the reading of reports and the analysis
    agree on which characters are Chinese."""
    terms = analyzer.terms("𠮷野家的店员")
    assert "𠮷" in terms and "𠮷野" in terms


def test_every_chinese_character_of_the_reading_is_a_term_character() -> None:
    from index.text.analyzer import is_cjk
    from index.text.scripts import HAN_RANGES

    for first, last in HAN_RANGES:
        assert all(is_cjk(chr(point)) for point in (first, (first + last) // 2, last))
    assert not is_cjk("a") and not is_cjk("\U0010ffff")
