from rag.clean import clean_text, paragraphs, to_simplified


def test_page_break_inside_a_sentence_is_joined():
    raw = "（四）守牢生态环境底线。推动大气环境质量逐步好转，基本消\n\n除重污染天气。\n\n二、工作任务"
    assert paragraphs(raw) == ["（四）守牢生态环境底线。推动大气环境质量逐步好转，基本消除重污染天气。", "二、工作任务"]


def test_titles_and_headings_are_not_joined():
    raw = "平江县打好安全生产翻身仗工作方案\n\n以习近平新时代中国特色社会主义思想为指导，特制定本方案。\n\n一、工作目标\n\n坚决杜绝较大及以上事故发生。"
    assert len(paragraphs(raw)) == 4


def test_split_responsibility_is_joined_across_the_break():
    raw = "推进跨境电商发展。**(商务粮食局牵**\n\n头，发改局等负责)**\n\n2. 实现利用外资新突破。"
    joined = paragraphs(raw)
    assert len(joined) == 2 and clean_text(joined[0]).endswith("（商务粮食局牵头，发改局等负责）")


def test_a_bracket_that_is_not_a_responsibility_continues():
    raw = "1. 开展系列消费促进活动。争取举办第三届中国（平江）\n\n休闲食品文化节。"
    assert paragraphs(raw) == ["1. 开展系列消费促进活动。争取举办第三届中国（平江）休闲食品文化节。"]


def test_responsibility_on_its_own_line_joins_the_sentence_above():
    raw = "严禁虚假化债和数字化债。\n\n（县财政局、县金融办等按职责分工负责）"
    assert paragraphs(raw) == ["严禁虚假化债和数字化债。（县财政局、县金融办等按职责分工负责）"]


def test_clean_text():
    assert clean_text("召集人 朱 远，**2024 年第 1 期**(县政府办)") == "召集人朱远，2024年第1期（县政府办）"
    assert clean_text("落实**“双长”**措施") == "落实“双长”措施"
    assert clean_text("全年计划 400m 标准田径运动场") == "全年计划400m 标准田径运动场"


def test_simplified_copy():
    assert to_simplified("市財政局牽頭") == "市财政局牵头"
