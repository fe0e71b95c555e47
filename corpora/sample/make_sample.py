#!/usr/bin/env python3
"""Generate the bundled sample cases (corpora/sample/).

Deterministic (fixed seed). The sentences are written by hand in the way
petitioners write: colloquial and formal, with places, amounts and dates
filled in from small lists. The vocabulary is taken from the domain notes
and the seed reports, not from rules/, so the sample does not merely echo
the rules. All names, places and numbers are invented.

Writes:
  cases.jsonl        every case, UTF-8 JSON Lines
  cases_gbk.csv      a subset as a GBK-encoded CSV with Chinese headers
                     (as petition systems export it)

Run: python3 corpora/sample/make_sample.py
"""

import csv
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path

SEED = 20261122
OUT = Path(__file__).resolve().parent

TOWNS = ["城关镇", "河西乡", "东岭镇", "石桥街道", "南湖乡", "青山镇", "柳林乡", "新华街道", "白沙镇", "马坪乡"]
VILLAGES = ["红旗村", "李家湾村", "新塘村", "上坪村", "大河村", "高桥村", "杨柳村", "双井村"]
COUNTIES = ["平川县", "安河县", "东阳区", "临江县", "北塘区"]
FACTORIES = ["县纺织厂", "第二机械厂", "国营农机厂", "县化肥厂", "市陶瓷厂", "县食品公司", "县供销社", "粮油加工厂"]
RESERVOIRS = ["青龙水库", "白石水电站", "黄溪水库", "龙门电站"]
COMPANIES = ["宏达化工有限公司", "鑫源建材厂", "顺发养殖场", "金山搅拌站", "恒通造纸厂", "永盛电镀厂"]
CN_NUM = ["二十", "三十", "四十", "五十", "六十", "七十", "八十", "一百", "两百", "三百"]

CLASSES = {
    "城建拆迁": [
        "{town}{village}的房子去年被强行拆除，当时说好先补偿后拆，结果补偿款到现在一分没到位。",
        "我家老房子在旧城改造范围内，评估公司给的评估价每平方才一千二，周边二手房都卖到五千多，这个补偿标准太低了。",
        "{year}年签的拆迁协议，说两年内回迁，现在过去{n}年了回迁房还没动工，过渡费也从去年停发了。",
        "半夜来了几十个人和一台挖掘机，没有任何手续就把我家房子推了，家里的东西全埋在里面。",
        "棚户区改造征收我们的门面房，只按住宅补偿，停产停业损失一分不给，一家人的生计没了着落。",
        "拆迁办的人天天上门做工作，不签字就断水断电，老人孩子没法正常生活。",
        "我们是{village}的被拆迁户，安置房分配不公开，有关系的人分到好楼层好户型，我们只能分到顶楼。",
        "城中村改造中我家的房屋被认定为违章建筑，可是房子是九十年代就盖的，有土地证，凭什么不给补偿。",
        "征收决定书没有公告，评估报告也没有送达，就直接下了补偿决定，程序严重违法。",
        "我家的商铺在征收范围内，征收办给的产权调换方案面积缩水了一半，我们不能接受。",
        "说好的临时安置费每月八百元，已经拖欠十一个月，我们一家租房子住，实在撑不下去了。",
        "区里搞拆违，别人家盖的三层楼不拆，偏偏拆我家的一间厨房，拆违不公。",
    ],
    "涉军群体": [
        "我是{year}年入伍的退伍军人，参加过对越自卫反击战，现在生活补助太低，每月才几百元，看病都看不起。",
        "我们是原8023部队退役人员，当年参加核试验任务，现在身体多病，希望落实参试人员待遇。",
        "我{year}年从部队复员回乡，按政策应该安置工作，可是乡里一直没给安排，几十年了还是农民身份。",
        "我是企业军转干部，原单位改制后生活困难，军转干部的待遇一直没有落实。",
        "我是带病回乡退伍军人，伤残等级评定申请交上去两年了，退役军人事务局一直说在审核。",
        "我父亲是烈士，烈属的优待金从去年开始就没有按时发放，村里说上面没拨钱。",
        "我在部队服役十二年，转业到地方后军龄没有视同缴费年限，养老金算得很低。",
        "我们是当年的志愿兵，退役后被安置到县化肥厂，厂子破产后什么保障都没有。",
        "退役士兵安置的岗位是临时工，干了三年就被辞退了，和政策规定的不一样。",
        "抗美援朝志愿军老战士的生活补贴标准好几年没有调整，老战友们日子过得很艰难。",
    ],
    "企业改制": [
        "{factory}{year}年改制，我们职工被要求买断工龄，每年才补几百元，改制方案也没有经过职代会讨论。",
        "{factory}破产后，厂里欠我们的集资款和工资一直没有兑现，下岗职工生活没有着落。",
        "改制的时候说给我们缴养老保险，结果社保断缴了好几年，现在到了退休年龄办不了退休手续。",
        "{factory}的资产被低价卖给私人老板，国有资产流失严重，我们这些老职工却没有任何安置。",
        "我们是厂办大集体的职工，改制时把我们排除在外，身份置换的补偿一分没有。",
        "{factory}停产以后让我们放长假，每月只发两百元生活费，已经七年了。",
        "粮站改制时我们被迫解除劳动关系，经济补偿金按最低标准算，根本不够生活。",
        "原单位主辅分离改制，我们被分流到子公司，工资待遇大幅下降，工龄也不认了。",
        "供销社改制后职工宿舍被卖掉，我们这些老职工住了三十年的房子要被收回。",
        "厂子倒闭的时候我们内退，说好的内部退养生活费到现在拖欠了两年多。",
    ],
    "库区移民": [
        "我们是{reservoir}的库区移民，移民后扶资金每人每年600元，村里只发了两年就不发了。",
        "{reservoir}蓄水以后我们的耕地被淹了，淹没补偿至今没有落实，一家人没有收入来源。",
        "我家是后靠移民，当年登记移民人口时漏报了两个人，现在核减移民身份，孩子享受不到后期扶持。",
        "移民安置点的房子建了不到十年就墙体开裂，移民建房的质量太差。",
        "村干部截留移民后期扶持资金，拿去修了村委会的办公楼，我们移民一分没见到。",
        "水库蓄水后库岸塌了，我家的房子就在塌岸边上，随时有危险，要求搬迁安置。",
        "我们是外迁移民，安置区没有分到生产用地，只能靠打零工过日子。",
        "移民办说我们的户口不在库区，不算移民，可是我们的房子和地都被淹没了。",
    ],
    "历史遗留": [
        "我是{year}年下乡的老知青，在农场干了八年，回城后知青工龄一直没有认定，影响退休待遇。",
        "我在村小当了十八年民办教师，后来被清退，当年的教龄没有任何补偿，这个历史遗留问题希望解决。",
        "我父亲1962年精简退职回乡，一直没有享受生活补助，我们按政策申请了多次。",
        "我是村里的赤脚医生，干了二十多年，现在老了没有任何生活补贴，和其他地方的政策不一样。",
        "我当年参加三线建设，档案在单位搬迁时丢失了，现在身份认定不了，退休手续办不下来。",
        "我做结扎手术后留下后遗症，几十年来一直看病吃药，计生手术并发症的补助一直没落实。",
        "我是离任村干部，干了二十年村支书，老村干部生活补贴到现在都没有发放。",
        "我家的私房在五十年代被经租，落实政策的时候没有退还，几十年了一直没有结果。",
    ],
    "环境污染": [
        "{company}晚上偷排废水，河水变黑发臭，河里的鱼都死了，村民的井水也有异味。",
        "我们小区旁边的{company}每天冒黑烟，刺鼻的气味熏得人头疼，老人孩子都不敢开窗。",
        "{company}的粉尘太大，周边的庄稼都枯死了，环保部门来看了一次就没有下文。",
        "工地夜间施工，每天晚上十二点以后还在打桩，噪音扰民严重，孩子没法睡觉。",
        "村旁边建了个养猪场，粪便直接排到河里，臭味飘到好几里外。",
        "垃圾填埋场的渗滤液流进了农田，地下水被污染，村里好几个人查出癌症。",
        "楼下的饭店油烟直排，厨房排风扇对着我家窗户，一年四季不敢开窗。",
        "{company}没有环评就开工生产，周围几个村的空气都是一股化学品的味道。",
        "采石场放炮震裂了我家的房子，扬尘把整个村子都盖了一层灰。",
        "电镀厂的废水含重金属，村里孩子体检查出血铅超标。",
    ],
}

OTHER = [
    "小区物业公司不作为，电梯经常坏，物业费却年年涨，业主委员会成立不了。",
    "我在医院做完手术后感染，医院不承认是医疗事故，要求赔偿。",
    "孩子上学的学区划分不合理，离家两百米的学校不让上，要去三公里外的学校。",
    "我在工地干了半年活，包工头拖欠工资一万二，人找不到了。",
    "我家低保被取消了，村里说我家有车，可那是儿子打工买的二手面包车。",
    "对法院的判决不服，对方欠钱不还，判了两年一直执行不了。",
    "村里修路占了我家的承包地，青苗补偿一直没给。",
    "建议在新华路和人民路交叉口增设红绿灯，上下学时段车流量大，很不安全。",
    "公交车经常不按时发车，早上上班要等四十分钟。",
    "网购的商品质量有问题，商家拒绝退货，市场监管部门不处理。",
    "我家的宅基地被邻居占用了半米，村委会调解不了。",
    "请问办理居住证需要哪些材料，网上写得不清楚。",
    "新买的商品房交房时发现墙体开裂、漏水，开发商拖着不修。",
    "小区门口的菜市场占道经营，早上车开不出去。",
    "我的医保异地报销手续一直办不下来，来回跑了好几趟。",
    "单位没有和我签劳动合同，受了工伤不给认定。",
    "希望给我们村通上自来水，现在喝的井水水质不好。",
    "景区门票价格太高，本地老人也没有优惠。",
    "我是个体户，营业执照年检的时候被乱收费。",
    "孩子在学校被同学欺负，学校处理不公。",
    "我不是来反映拆迁的事，是想问问孩子户口迁移要办什么手续。",
    "希望政府多建几个公园，让老人有个锻炼的地方。",
]

GROUP_ANY = [
    "我们{n}户村民联名反映这个问题，",
    "全村{n}多户人家都是这个情况，大家在联名信上按了手印，",
    "同样情况的有{n}多户，",
]
GROUP_BY_CLASS = {
    "企业改制": ["厂里{n}多名下岗职工都是一样的遭遇，", "我们{n}多名老职工联名反映，"],
    "涉军群体": ["我们几十个战友商量好了，", "全县{n}多名参战老兵都是这个情况，"],
    "城建拆迁": ["我们{n}多户被拆迁户联名反映，"],
    "库区移民": ["库区{n}多户移民都是这个情况，"],
}
SKIP = [
    "如果县里再不解决，我们只能去北京上访。",
    "我们已经去省里反映过两次了，省信访局让回当地处理。",
    "大家准备下个月一起进京反映。",
    "实在不行就一直告到中央。",
]
ESCALATE = [
    "再不解决，我就到政府门口喝农药，死给你们看。",
    "大家商量好了，下周一去县政府门口拉横幅静坐。",
    "逼急了我们就去堵高速，把事情闹大。",
    "我已经活不下去了。",
    "要是没人管，我就爬塔吊，反正也没有活路了。",
]
MEDIA = [
    "我们已经把视频发到抖音上了，还准备找记者曝光。",
    "再不处理我们就找电视台。",
]
REPEAT = [
    "这个问题我们已经反映过{k}次了，一直没有结果。",
    "前后跑了十几趟，部门之间推来推去。",
    "去年答复说半年内解决，到现在还没兑现。",
]
CALM_CLOSINGS = [
    "恳请领导重视，依法依规解决。",
    "希望有关部门尽快核实处理，谢谢。",
    "请求政府按政策给个说法。",
    "盼复。",
]
TITLES = {
    "城建拆迁": ["关于房屋拆迁补偿的问题", "反映强拆问题", "回迁安置问题", "征收补偿不合理"],
    "涉军群体": ["退役军人待遇问题", "老兵生活困难", "参战人员待遇落实", "复员安置问题"],
    "企业改制": ["企业改制职工安置问题", "下岗职工社保问题", "买断工龄补偿问题"],
    "库区移民": ["移民后扶资金问题", "库区淹没补偿", "移民身份认定"],
    "历史遗留": ["知青工龄认定", "民办教师待遇", "历史遗留问题"],
    "环境污染": ["工厂污染问题", "噪音扰民", "环境污染投诉"],
    "其他": ["咨询", "建议", "投诉", "求助"],
}
CHANNELS = ["来信", "来访", "网上", "电话", "来访", "网上"]


def fill(t, rng):
    return t.format(
        town=rng.choice(TOWNS),
        village=rng.choice(VILLAGES),
        year=rng.choice(range(1979, 2016)),
        n=rng.choice(CN_NUM) if "{n}户" in t or "{n}多" in t else rng.choice(range(3, 9)),
        k=rng.choice(["三", "四", "五", "好几"]),
        factory=rng.choice(FACTORIES),
        reservoir=rng.choice(RESERVOIRS),
        company=rng.choice(COMPANIES),
    )


def make_case(i, rng):
    roll = rng.random()
    cls = "其他" if roll < 0.2 else rng.choice(list(CLASSES))
    pool = OTHER if cls == "其他" else CLASSES[cls]
    parts = [fill(rng.choice(pool), rng)]
    if cls != "其他" and rng.random() < 0.25:
        other = rng.choice([c for c in CLASSES if c != cls])
        parts.append(fill(rng.choice(CLASSES[other]), rng))
    persons = 1
    level = rng.choice(["县", "县", "县", "市", "乡镇"])
    if cls != "其他" and rng.random() < 0.3:
        parts.insert(0, fill(rng.choice(GROUP_ANY + GROUP_BY_CLASS.get(cls, [])), rng))
        persons = rng.choice([3, 5, 8, 12, 30, 60])
    if cls != "其他" and rng.random() < 0.15:
        parts.append(rng.choice(SKIP))
        if rng.random() < 0.5:
            level = rng.choice(["省", "国家"])
    if cls != "其他" and rng.random() < 0.08:
        parts.append(rng.choice(ESCALATE))
    if rng.random() < 0.06:
        parts.append(rng.choice(MEDIA))
    if rng.random() < 0.3:
        parts.append(fill(rng.choice(REPEAT), rng))
    parts.append(rng.choice(CALM_CLOSINGS))
    received = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 320))
    pid = f"P{rng.randrange(10000, 99999)}"
    ids = [pid]
    if persons > 1 and rng.random() < 0.5:
        ids.append(f"P{rng.randrange(10000, 99999)}")
    text = "".join(parts)
    if rng.random() < 0.05:
        text += f"联系电话1{rng.choice('3589')}{rng.randrange(100000000, 999999999)}。"
    return {
        "id": f"XF{received.year}{i:05d}",
        "received": received.isoformat(),
        "channel": rng.choice(CHANNELS),
        "petitioner_ids": ids,
        "persons": persons,
        "target_level": level,
        "location": f"{rng.choice(COUNTIES)}{rng.choice(TOWNS)}",
        "title": rng.choice(TITLES[cls]),
        "text": text,
    }


def main():
    rng = random.Random(SEED)
    cases = [make_case(i, rng) for i in range(1, 301)]
    with open(OUT / "cases.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["编号", "登记日期", "信访形式", "信访人", "人数", "信访层级", "问题属地", "标题", "信访内容"])
    for c in cases[:60]:
        w.writerow([
            c["id"].replace("XF", "GB"),
            c["received"].replace("-", "/"),
            c["channel"],
            "、".join(c["petitioner_ids"]),
            c["persons"],
            c["target_level"],
            c["location"],
            c["title"],
            c["text"],
        ])
    (OUT / "cases_gbk.csv").write_bytes(buf.getvalue().encode("gbk"))


if __name__ == "__main__":
    main()
