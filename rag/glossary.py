"""English → Chinese terms of the plans' domain, for English questions over Chinese text.

The multilingual embedding bridges English and Chinese only loosely, and BM25 not at all; an
English question gains the Chinese words the plans use for what it names ("GDP" → 生产总值).
General vocabulary of local-government safety and development plans, not answers.
"""
from __future__ import annotations

import re

GLOSSARY: dict[str, str] = {
    "gdp": "生产总值", "growth": "增长", "target": "目标", "goal": "目标", "lead": "牵头", "leads": "牵头",
    "cooperat": "配合", "responsib": "负责", "bureau": "局", "work safety": "安全生产", "work-safety": "安全生产",
    "production safety": "安全生产", "safety": "安全", "gas": "燃气", "fire": "消防", "hazardous chemical": "危险化学品",
    "chemical": "化学品", "fireworks": "烟花爆竹", "mine": "矿山", "mining": "矿山", "traffic": "交通", "road": "道路",
    "helmet": "戴帽", "motorcycle": "摩托车", "e-bike": "电动自行车", "electric bike": "电动自行车",
    "special equipment": "特种设备", "special-equipment": "特种设备", "elevator": "电梯", "housing": "住房",
    "real estate": "房地产", "property": "房地产", "debt": "债务", "hidden debt": "隐性债务", "financ": "金融",
    "risk": "风险", "bank": "银行", "loan": "贷款", "pension": "养老保险", "insurance": "保险", "unemployment": "失业",
    "work-injury": "工伤", "work injury": "工伤", "enrolment": "参保", "enrollment": "参保", "residential": "小区",
    "old residential": "老旧小区", "renovat": "改造", "investment": "投资", "drinking-water": "饮用水",
    "drinking water": "饮用水", "water source": "水源地", "water quality": "水质", "black-and-odorous": "黑臭水体",
    "black and odorous": "黑臭水体", "air quality": "空气质量", "heavy pollution": "重污染天气", "farmland": "耕地",
    "soil": "土壤", "contaminated": "受污染", "polluted": "受污染", "accident": "事故", "eliminat": "杜绝",
    "death": "死亡", "flood": "防汛", "drought": "抗旱", "forest fire": "森林火灾", "disaster": "灾害",
    "task force": "专班", "convener": "召集人", "convenor": "召集人", "convene": "召集人", "deputy convener": "副召集人",
    "deputy convenor": "副召集人", "office": "办公室", "bulletin": "专报",
    "newsletter": "专报", "section": "栏目", "chair": "主持", "teleconference": "电视电话会议", "plenary": "全会",
    "committee": "委员会", "innovation": "创新", "science": "科技", "technology": "科技", "employment": "就业",
    "training": "培训", "school": "学校", "student": "学生", "tourism": "旅游", "consumption": "消费",
    "foreign trade": "外贸", "export": "出口", "fraud": "诈骗", "organized crime": "扫黑除恶", "incidence": "发案率",
    "cases": "案件", "stability": "稳定", "environment": "生态环境", "battle": "仗", "responsibility breakdown": "责任分解表",
    "breakdown table": "责任分解表", "overall plan": "总体方案", "implementation plan": "实施方案", "work plan": "工作方案",
    "modification": "改装",
    "hazard": "隐患", "inspection": "检查", "enforcement": "执法", "rectification": "专项整治", "delivering": "交付",
    "delivery": "交付", "prevention": "防范", "rate": "率", "county": "县", "city": "市", "real-estate": "房地产",
    "financing": "融资", "funding": "资金", "funds": "资金", "central": "中央", "provincial": "省级",
    "procurator": "检察", "private-enterprise": "民企", "private enterprise": "民企", "compliance": "合规",
    "prudent": "审慎", "court": "法院", "police": "公安", "project": "工程", "budget": "预算",
    # The administration's everyday words (how a task force is staffed and meets, what a plan counts).
    "emergency management": "应急管理", "emergency-management": "应急管理", "staff": "工作人员",
    "seconded": "抽调", "second from": "抽调", "daily work": "日常工作", "day-to-day": "日常工作",
    "joint meeting": "联席会议", "analysis meeting": "研判", "standardization": "标准化", "standardisation": "标准化",
    "retail sales": "零售总额", "minimum living": "低保", "urban": "城镇", "rural": "农村",
    "household": "户", "supervision": "督查", "circular": "通报", "inspection team": "督查组",
    "clean water": "碧水", "blue sky": "蓝天", "clean soil": "净土", "guarantee loan": "担保贷款", "financing guarantee": "融资担保",
    "financing-guarantee": "融资担保", "wage guarantee": "工资保证金", "wage-guarantee": "工资保证金", "industries": "产业",
    "industrial project": "产业项目", "investment attraction": "招商", "attract investment": "招商",
    # What plans of any county count and assign, in the words an English reader uses for them.
    "medicine": "药物", "drugs": "药物", "covid": "新冠", "e-commerce": "电商", "turnover": "交易额",
    "cyber": "网络安全", "patrol": "巡", "township": "乡镇", "emergency team": "应急队伍", "rescue": "救援",
    "non-compliant": "违规", "unfinished housing": "保交楼", "handed over": "交付", "grain": "粮食", "rice": "稻", "revenue": "收入", "tax": "税收",
    "interest rate": "利率", "pollution": "污染", "emission": "排放", "exhaust": "尾气", "garbage": "垃圾",
    "visitor": "游客", "nursing": "护理", "elderly care": "养老", "care home": "养老机构", "completion rate": "完成率",
    "pass rate": "达标率", "compliance rate": "达标率", "coverage": "覆盖", "dust": "粉尘", "explosion": "爆炸",
    "grassroots": "基层",
}
_PATTERNS = [(re.compile(rf"\b{re.escape(en)}", re.IGNORECASE), zh) for en, zh in GLOSSARY.items()]


def chinese_terms(question: str) -> list[str]:
    """The Chinese terms for the English words of a question (none for a Chinese question)."""
    if not re.search(r"[A-Za-z]{3}", question):
        return []
    return list(dict.fromkeys(zh for pattern, zh in _PATTERNS if pattern.search(question)))


def glossed_out(question: str) -> str:
    """The question with the words the glossary translates blanked out (its other words are
    looked up in the corpus's own dictionary, rag.bilingual)."""
    for pattern, _ in _PATTERNS:
        question = pattern.sub(" ", question)
    return question
