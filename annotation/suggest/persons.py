"""Persons without a trained model: where classical prose itself says "a name stands here".

The gazetteer finds the names it knows. Most persons in a new text are names it does not know,
but the prose around a name follows a few fixed shapes, which this module reads (rules mode only;
a trained model learns the same cues and more):

- **office + name**: 中書令李義府, 節度使劉士寧, 刺史王某 — a surname right after an office
  span, then one or two given-name characters up to a boundary (punctuation, 為/以/與/等/曰 …);
- **surname + a known given name**: the gazetteer knows 敬玄 (from 李敬玄 elsewhere) and the text
  writes 李敬玄: the span grows to take the surname;
- **a name repeated by its given name**: once 李義府 is a person in a line, a later 義府 in that
  line is the same person;
- **X曰**: a single character opening a clause and followed by 曰 (奐曰, 敏曰) is a speaker —
  unless it is one of the words that speak without being names (帝, 上, 王, 公, 對, 或 …).

Everything is compared on folded text (traditional → simplified, see :mod:`.normalize`), so the
rules read traditional and simplified alike; offsets are those of the unfolded line (folding keeps
one character per character).
"""

from __future__ import annotations

import re

#: common historical single-character surnames (folded), without those that are far more often
#: a function word or a common noun right after an office (于, 时, 和, 明, 成, 文, 国, 公 …)
SURNAMES = frozenset(
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏窦章苏潘葛奚范彭"
    "郎鲁韦昌马苗凤俞袁柳酆鲍唐费廉岑薛雷贺倪汤滕殷罗毕郝邬傅皮卞齐康伍余卜顾孟黄穆萧尹姚邵湛汪"
    "祁毛禹狄米贝臧戴宋茅庞熊纪舒屈项祝董梁杜阮蓝闵季麻贾娄颜郭梅钟徐邱骆高夏蔡樊胡凌霍虞柯"
    "昝管卢莫裘缪邓郁杭洪崔钮龚程嵇邢滑裴陆荣翁荀羊惠甄芮羿储靳汲邴糜段巫焦巴隗侯宓蓬郗伊仇栾"
    "钭厉符刘詹蓟薄印宿蒲邰鄂索咸籍赖卓蔺屠蒙乔阴胥苍莘党翟谭贡劳逄姬冉郦雍璩桑濮扈冀郏浦晏柴"
    "瞿阎慕茹宦艾庾暨衡耿匡寇阙殳蔚夔巩厍聂晁勾敖融訾辛阚饶曾毋沙乜鞠巢蒯荆竺逯桓"
)
#: two-character surnames (folded)
COMPOUND_SURNAMES = frozenset({
    "司马", "欧阳", "诸葛", "上官", "夏侯", "皇甫", "令狐", "长孙", "宇文", "尉迟", "慕容", "独孤",
    "公孙", "东方", "司徒", "司空", "端木", "轩辕", "呼延", "拓跋", "赫连", "申屠", "闻人", "澹台",
    "淳于", "单于", "太史", "仆固", "万俟", "耶律", "完颜", "纥干", "贺兰", "尔朱", "斛律", "乞伏",
})
#: characters that end a name: punctuation and the words that most often follow one
BOUNDARY = frozenset("，。、；：！？「」『』（）《》〈〉,.;:!?()\n 　"
                     "为以与等曰之不即所率入字于遣弟攻自将至及又乃袭出亦奏时从在代复已卒讨进闻既谓使领败同皆谋尝言知上征因"
                     "而也者乎矣焉哉请并俱各")
#: speakers before 曰 that are not names
NOT_SPEAKERS = frozenset("帝上王公子对或答又因乃复皆各众臣妾吾余予朕后主宗伯叔母父兄弟妻人使诏书敕令表奏议赞论史传语"
                         "客僧师相吏卒军民老翁妇女儿孙奴婢左右群众皆俱咸并谁问笑叹谢辞怒泣喜曰云言谓告说谏请诸"
                         "且名谥号字祖宗忧")
#: two-character speakers before 曰 that are not names
NOT_SPEAKERS_2 = frozenset({"左右", "群臣", "诸将", "有司", "百官", "父老", "使者", "宰相", "天子", "太后", "皇帝",
                            "将军", "丞相", "太子", "大臣", "众人", "公卿", "其妻", "其母", "其父", "二人", "三人"})
#: verbs that address someone, so that the one or two characters between them and 曰 are a name
#: (谏奐曰, 謂行周曰)
ADDRESS = frozenset("谓谏问告语让责诘劝诏敕命召")
#: kinship words after which a single character closing a clause is a name (父祐，)
KIN = frozenset("父兄弟孙侄叔伯")
#: what follows an office without being a name (刺史府，太守印)
AFTER_OFFICE = frozenset("府事印职位官署衙门下中内外等诸各皆俱第兵旅忧")
#: characters that are not a given name's (李氏, 王公, 高祖 …)
NOT_GIVEN = frozenset("氏公侯王帝祖宗后妃子孙人家族姓")
#: verbs that follow the person a clause opens with
CLAUSE_VERB = "为知拜除迁授封薨卒死率遣奏请上表"
_CJK = range(0x3400, 0x2FFFF + 1)
_CLAUSE_NAME = re.compile(f"(?:^|(?<=[，。；：！？「\n]))([^，。；：！？「」、\n]{{2,4}}?)(?=[{CLAUSE_VERB}])")
_KIN_NAME = re.compile(f"[{''.join(sorted(KIN))}](.)(?=[，。；、])")


def _cjk(ch: str) -> bool:
    return bool(ch) and ord(ch) in _CJK and ch not in BOUNDARY


def person_spans(folded: str, spans: list[tuple], taken: bytearray) -> list[tuple]:
    """New PER spans ``(start, end, "PER", "pattern", None)`` for ``folded`` (one or more lines joined
    by newlines: nothing crosses a newline). ``spans`` are the spans found so far (start, end,
    label, …) in order; ``taken`` marks their characters and is updated for the spans returned,
    and for the persons that grow by a surname (returned in place of the shorter span: the caller
    drops any span of ``spans`` that a returned span covers)."""
    n = len(folded)
    out: list[tuple] = []

    def free(s: int, e: int) -> bool:
        return 0 <= s and e <= n and 1 not in taken[s:e]

    def take(s: int, e: int) -> None:
        out.append((s, e, "PER", "pattern", None))
        taken[s:e] = b"\x01" * (e - s)

    def name_after(i: int) -> int | None:
        """End of a surname + one or two given characters starting at ``i``, or None."""
        sur = 2 if folded[i : i + 2] in COMPOUND_SURNAMES else 1 if folded[i : i + 1] in SURNAMES else 0
        if not sur:
            return None
        g = i + sur
        if not (_cjk(folded[g : g + 1]) and free(i, g + 1)):
            return None
        # one given character, the commonest shape (张说以吐蕃 → 张说), unless two given characters
        # close the name at a boundary (李义府不恊 → 李义府)
        if sur == 1 and _cjk(folded[g + 1 : g + 2]) and free(g + 1, g + 2) and (g + 2 >= n or folded[g + 2] in BOUNDARY):
            return g + 2
        return g + 1

    persons = []
    for s, e, label, *_ in spans:
        if label == "OFI" and e < n:
            end = name_after(e)
            if end is None and _cjk(folded[e]) and folded[e] not in NOT_SPEAKERS and folded[e] not in AFTER_OFFICE \
                    and free(e, e + 1) and (e + 1 == n or folded[e + 1] in BOUNDARY):
                end = e + 1  # 司徒允之後: an office, then a given name alone
            if end is not None:
                take(e, end)
                persons.append((e, end))
        elif label == "PER":
            persons.append((s, e))
            # surname + a given name the gazetteer knows alone: 李[敬玄] → 李敬玄
            if e - s == 2 and s > 0 and folded[s - 1] in SURNAMES and not taken[s - 1] and (
                    s == 1 or folded[s - 2] in BOUNDARY or taken[s - 2]):
                out.append((s - 1, e, "PER", "pattern", None))
                taken[s - 1] = 1
    # 范仲淹为参知政事，欧阳修知滁州: a name opening a clause, before the verb of its sentence
    for m in _CLAUSE_NAME.finditer(folded):
        i, end = m.start(1), m.end(1)
        head = folded[i : i + 2]
        sur = 2 if head in COMPOUND_SURNAMES else 1 if folded[i] in SURNAMES else 0
        if sur and end - i - sur in (1, 2) and free(i, end) and folded[i + sur : end].isalpha() \
                and not any(c in BOUNDARY or c in NOT_GIVEN for c in folded[i + sur : end]):
            take(i, end)
            persons.append((i, end))
    # a person's given name later in the same line (李义府 … 义府)
    for s, e in persons:
        if e - s != 3 or folded[s : s + 2] in COMPOUND_SURNAMES:
            continue
        given = folded[s + 1 : e]
        line_end = folded.find("\n", e)
        line_end = n if line_end < 0 else line_end
        k = folded.find(given, e, line_end)
        while k >= 0:
            if free(k, k + 2) and (k == 0 or folded[k - 1] in BOUNDARY or taken[k - 1]):
                take(k, k + 2)
            k = folded.find(given, k + 2, line_end)
    # X曰 at the start of a clause; 謂/諫 … X曰 and 謂/諫 … XY曰
    k = folded.find("曰")
    while k >= 0:
        i = k - 1
        if i >= 0 and _cjk(folded[i]) and folded[i] not in NOT_SPEAKERS and free(i, k) and (
                i == 0 or folded[i - 1] in "，。；：！？」』）\n" or folded[i - 1] in ADDRESS):
            take(i, k)
        elif i >= 2 and folded[i - 2] in ADDRESS and _cjk(folded[i - 1]) and _cjk(folded[i]) and free(i - 1, k) \
                and folded[i - 1 : k] not in NOT_SPEAKERS_2 and folded[i - 1] not in NOT_SPEAKERS:
            take(i - 1, k)
        k = folded.find("曰", k + 1)
    # 字子璋， : a courtesy name after 字, right after a name or a clause break
    k = folded.find("字")
    while k >= 0:
        if (k == 0 or taken[k - 1] or folded[k - 1] in "，。；\n") and _cjk(folded[k + 1 : k + 2]) \
                and _cjk(folded[k + 2 : k + 3]) and (k + 3 >= n or folded[k + 3] in "，。；、\n") and free(k + 1, k + 3):
            take(k + 1, k + 3)
        k = folded.find("字", k + 1)
    # 羊哈及干帖困、术赤术等: names listed with a person are persons
    for s, e, label, *_ in sorted(spans + out, key=lambda t: t[0]):
        if label != "PER":
            continue
        i = e
        while i < n and folded[i] in "、及与":
            j = i + 1
            while j < n and j - i <= 4 and _cjk(folded[j]) and not taken[j]:
                j += 1
            if not (2 <= j - i - 1 <= 4 and (j >= n or folded[j] in "、等，。及与")):
                break
            take(i + 1, j)
            i = j
    # 父祐， : a kinship word, then a given name closing the clause
    for m in _KIN_NAME.finditer(folded):
        i = m.start(1)
        if _cjk(folded[i]) and folded[i] not in NOT_SPEAKERS and free(i - 1, i + 1):
            take(i, i + 1)
    return out
