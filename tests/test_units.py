from rag.units import find_responsibilities, normalize_unit, parse_parenthetical, shortened_names


def test_lead_and_cooperating():
    r = parse_parenthetical("住建局牵头，交通运输局、水利局、消防大队等配合")
    assert r.lead_units == ["住建局"]
    assert r.cooperating_units == ["交通运输局", "水利局", "消防大队"]
    assert r.responsible_units == []


def test_lead_and_cooperating_joined_by_enumeration_comma():
    r = parse_parenthetical("县安委办牵头、相关成员单位配合")
    assert (r.lead_units, r.cooperating_units) == (["县安委办"], ["相关成员单位"])


def test_several_leads_by_duty():
    r = parse_parenthetical("消防大队牵头，商务粮食局依职责牵头，公安局、住建局等配合")
    assert r.lead_units == ["消防大队", "商务粮食局"]
    assert r.cooperating_units == ["公安局", "住建局"]


def test_responsible_without_lead():
    r = parse_parenthetical("县发改局、县财政局、各乡镇<街道>等按职责分工负责")
    assert r.lead_units == []
    assert r.responsible_units == ["县发改局", "县财政局", "各乡镇<街道>"]


def test_duty_list_after_a_lead_cooperates():
    r = parse_parenthetical("市財政局牽頭,市發改局按照職能分工負責")
    assert (r.lead_units, r.cooperating_units) == (["市財政局"], ["市發改局"])


def test_bold_units_and_group_tail():
    r = parse_parenthetical("**发改局、科工信局**等单位依职责负责")
    assert r.responsible_units == ["发改局", "科工信局"]
    r = parse_parenthetical("县安委办牵头，县融媒体中心、县消防大队等相关部门分工负责")
    assert r.cooperating_units == ["县融媒体中心", "县消防大队"]


def test_nested_brackets_stay_inside_one_unit():
    r = parse_parenthetical("市處非辦牽頭,市打擊和處置非法集資領導小組各成員單位,各鎮(街道、中心)等按照職能分工負責")
    assert r.lead_units == ["市處非辦"]
    assert r.cooperating_units == ["市打擊和處置非法集資領導小組各成員單位", "各鎮(街道、中心)"]


def test_joiners_split_units_but_not_words():
    r = parse_parenthetical("交警大队依职责牵头，应急管理局及安委会成员单位和各乡镇街道等配合")
    assert r.cooperating_units == ["应急管理局", "安委会成员单位", "各乡镇街道"]
    r = parse_parenthetical("行政审批服务局会同各事项涉及单位牵头")
    assert r.lead_units == ["行政审批服务局", "各事项涉及单位"]


def test_participation_is_cooperation():
    r = parse_parenthetical("人社局牵头，税务局参与")
    assert (r.lead_units, r.cooperating_units) == (["人社局"], ["税务局"])


def test_parentheticals_without_roles_are_not_responsibilities():
    assert parse_parenthetical("具体以市级确定的数量为依据") is None
    assert parse_parenthetical("含劳务派遣、灵活用工人员") is None


def test_each_parenthetical_keeps_its_span():
    text = "支持金凤凰公司技术攻关（科工信局牵头）。开展油茶试验（林业局牵头）。"
    found = find_responsibilities(text)
    assert [f.lead_units for f in found] == [["科工信局"], ["林业局"]]
    assert text[found[1].start : found[1].end] == "（林业局牵头）"
    assert text[: found[0].start].endswith("技术攻关")


def test_normalized_names_meet():
    assert normalize_unit("县住建局") == normalize_unit("住建局") == "住建局"
    assert normalize_unit("市場監督管理局") == normalize_unit("市场监督管理局") == normalize_unit("市场监管局")
    assert normalize_unit("县文化旅游广电体育局") == normalize_unit("文旅广体局")
    assert normalize_unit("市財政局") == "财政局"
    assert normalize_unit("岳阳市生态环境局平江分局") == normalize_unit("市生态环境局平江分局")
    assert normalize_unit("县委组织部") == "县委组织部"


def test_topic_written_before_the_leading_department():
    # 001 二、(四)2: the parenthetical names what the department leads, then the department.
    found = find_responsibilities("積極配合上級強化監督黑臭水體檢查工作（城市黑臭水體住建部門牽頭）。")
    assert (found[0].topic, found[0].lead_units) == ("城市黑臭水體", ["住建部門"])
    assert find_responsibilities("（县级住建部门牵头）")[0].lead_units == ["县级住建部门"]


# Formats from plans of other places: labels, deadlines in the parenthetical, names that are no units.
from rag.units import is_deadline, is_unit, labelled_units, table_responsibility  # noqa: E402


def roles(r):
    return r.lead_units, r.cooperating_units, r.responsible_units, r.deadline


def test_lead_and_cooperating_with_a_deadline():
    assert roles(parse_parenthetical("住建局牵头，水利局、城管局配合，2024年底前完成")) == (
        ["住建局"], ["水利局", "城管局"], [], "2024年底前完成")
    assert roles(parse_parenthetical("年底前完成，市发改委牵头")) == (["市发改委"], [], [], "年底前完成")


def test_lead_and_duty_by_division_with_a_deadline():
    assert roles(parse_parenthetical("市财政局牵头，市税务局等按职责分工负责，长期坚持")) == (
        ["市财政局"], ["市税务局"], [], "长期坚持")
    assert roles(parse_parenthetical("长期坚持，县民政局负责")) == ([], [], ["县民政局"], "长期坚持")


def test_labelled_lead_and_cooperating():
    expected = (["市水务局"], ["市城管局", "市住建局"], [], "")
    assert roles(parse_parenthetical("牵头单位：市水务局；配合单位：市城管局、市住建局")) == expected
    assert roles(parse_parenthetical("牵头单位：市水务局，配合单位：市城管局、市住建局")) == expected
    assert roles(parse_parenthetical("牽頭單位：市財政局；配合單位：市稅務局")) == (["市財政局"], ["市稅務局"], [], "")


def test_labelled_lead_and_responsible():
    assert roles(parse_parenthetical("牵头单位：市住建局，责任单位：各区人民政府、市城投集团")) == (
        ["市住建局"], [], ["各区人民政府", "市城投集团"], "")
    assert roles(parse_parenthetical("责任单位：区工信局")) == ([], [], ["区工信局"], "")
    assert roles(parse_parenthetical("责任单位：区工信局；完成时限：2024年12月底")) == ([], [], ["区工信局"], "2024年12月底")


def test_lead_for_assessment_with_its_deadline():
    assert roles(parse_parenthetical("6月底完成，牵头考核单位：市政府办公室、市公安局")) == (
        ["市政府办公室", "市公安局"], [], [], "6月底完成")
    assert roles(parse_parenthetical("5月底取得明显成效并持续推进，牵头考核单位：市审批服务局")) == (
        ["市审批服务局"], [], [], "5月底取得明显成效并持续推进")
    assert roles(parse_parenthetical("牵头考核单位：市委网信办")) == (["市委网信办"], [], [], "")


def test_lead_written_with_you():
    assert roles(parse_parenthetical("由县应急管理局牵头，县消防救援大队配合")) == (
        ["县应急管理局"], ["县消防救援大队"], [], "")


def test_a_role_word_without_a_unit_is_no_responsibility():
    assert parse_parenthetical("包括牵头单位自身") is None
    assert parse_parenthetical("6月底完成") is None
    assert parse_parenthetical("0.5分") is None


def test_units_are_organisations():
    for name in ("市审批服务局", "市卫健委", "市政府办公室", "县融媒体中心", "县消防救援大队", "国网平江供电公司",
                 "县人民法院", "人民银行平江支行", "天岳投资集团", "岳阳市生态环境局平江分局", "县妇联", "各乡镇（街道）"):
        assert is_unit(name), name
    for name in ("包括", "6月底完成", "5月底取得明显成效并持续推进", "2024年底前", "持续推进", "长期坚持", "年底前完成"):
        assert not is_unit(name), name
    assert not is_unit("华润燃气") and is_unit("华润燃气", {"华润燃气"})


def test_deadlines():
    for text in ("6月底完成", "持续推进", "2024年底前", "长期坚持", "5月底取得明显成效并持续推进", "年底前完成", "按进度推进"):
        assert is_deadline(text), text
    for text in ("市审批服务局", "县发改局", "各乡镇人民政府"):
        assert not is_deadline(text), text


def test_table_row_columns():
    row = table_responsibility({"序号": "1", "重点任务": "推行全程网办", "牵头单位": "县行政审批服务局",
                                "责任单位": "县市场监管局、县税务局", "配合单位": "华润燃气", "完成时限": "2024年6月底前"})
    assert roles(row) == (["县行政审批服务局"], ["华润燃气"], ["县市场监管局", "县税务局"], "2024年6月底前")
    assert row.raw == "牵头单位：县行政审批服务局；责任单位：县市场监管局、县税务局；配合单位：华润燃气"


def test_labelled_names_count_as_units_elsewhere():
    known = labelled_units("建设管网（牵头单位：华润燃气；配合单位：县住建局）")
    assert known == {"华润燃气", "住建局"}
    assert find_responsibilities("改造燃气管道（华润燃气牵头）") == []
    assert find_responsibilities("改造燃气管道（华润燃气牵头）", known)[0].lead_units == ["华润燃气"]


def test_labels_closing_a_line_without_brackets():
    text = "建立联席会议制度。牵头单位：区委网信办；责任单位：区发改局、区财政局；完成时限：2024年6月底。"
    assert find_responsibilities(text) == []  # only the parser asks for unbracketed labels
    found = find_responsibilities(text, tails=True)
    assert [roles(r) for r in found] == [(["区委网信办"], [], ["区发改局", "区财政局"], "2024年6月底")]
    assert text[found[0].start : found[0].end] == "牵头单位：区委网信办；责任单位：区发改局、区财政局；完成时限：2024年6月底"
    # A label inside a sentence's brackets is the parenthetical's, not a tail.
    found = find_responsibilities("推进改造（牵头单位：市住建局；责任单位：各区政府）。", tails=True)
    assert [roles(r) for r in found] == [(["市住建局"], [], ["各区政府"], "")]


def test_a_bare_role_word_is_no_unit():
    assert parse_parenthetical("各牵头单位负责") is None
    assert parse_parenthetical("全市牵头") is None
    assert roles(parse_parenthetical("各市、县人民政府负责")) == ([], [], ["各市", "县人民政府"], "")


def test_a_unit_name_written_shortened_is_the_unit():
    names = ["应急管理局", "退役军人事务局", "交通运输局", "公安局", "自然资源局", "资源规划局"]
    assert shortened_names("平江县应急局牵头哪些工作", names) == ["应急管理局"]
    assert shortened_names("退役军人局和交通局", names) == ["退役军人事务局", "交通运输局"]
    assert shortened_names("公安局牵头什么", names) == []  # written whole
    assert shortened_names("应急局负责什么", ["应急管理局", "应急救援局"]) == []  # either: neither
    assert shortened_names("沅江的公安部门牵头什么", names) == ["公安局"]  # its field and 部门
    assert shortened_names("相关部门负责", ["相关职能部门"]) == []  # a collective, no office

