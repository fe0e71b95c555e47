//! Generated corpora: a labeled benchmark corpus for evaluation and an
//! unlabeled stream of petition-like text for speed tests.
//!
//! Everything is deterministic from a seed. The vocabulary here is written
//! separately from `rules/` (from the domain notes and the seed reports),
//! so that the benchmark does not merely echo the rules: many phrasings
//! below are ones no default rule lists. Letters mix colloquial and formal
//! wording, ramble, carry several issues, negate topics (不是拆迁问题),
//! quote slogans, write numbers in Chinese characters, and some come in
//! traditional characters or with symbols inserted inside words (拆*迁).

use std::io::Write;

use serde::Serialize;

pub use crate::util::Rng;

/// Gold labels of a generated case.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Gold {
    /// Primary class (or 其他).
    pub primary: String,
    /// Secondary classes.
    #[serde(default)]
    pub secondary: Vec<String>,
    /// Whether the case should be on the warning list.
    pub warn: bool,
    /// Tier it should get (红/橙/黄/蓝), or 无.
    pub tier: String,
    /// Risk signals present.
    #[serde(default)]
    pub signals: Vec<String>,
}

/// One line of a labeled corpus: the case fields and its gold labels.
#[derive(Debug, Clone, Serialize)]
pub struct LabeledCase {
    /// Case id.
    pub id: String,
    /// Registration date.
    pub received: String,
    /// Channel.
    pub channel: String,
    /// Petitioner ids.
    pub petitioner_ids: Vec<String>,
    /// Head count.
    pub persons: u32,
    /// Level brought to.
    pub target_level: String,
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// Gold labels.
    pub gold: Gold,
}

const TOWNS: &[&str] = &[
    "城东镇",
    "柳河乡",
    "石门街道",
    "桃源镇",
    "北坪乡",
    "清水镇",
    "金沙街道",
    "龙泉乡",
    "新桥镇",
    "长岭乡",
];
const VILLAGES: &[&str] = &[
    "王家庄村",
    "上河村",
    "红星村",
    "杨树湾村",
    "东风村",
    "石板村",
    "三合村",
    "新民村",
];
const WORKS: &[&str] = &[
    "县棉纺厂",
    "市第三机床厂",
    "县酒厂",
    "国营林场",
    "县供销合作社",
    "县粮食局下属粮站",
    "市水泥制品厂",
    "县农机修造厂",
];
const DAMS: &[&str] = &["东江水库", "响水滩电站", "青山水库", "大岭电站"];
const POLLUTERS: &[&str] = &[
    "一家塑料颗粒厂",
    "村头的石灰窑",
    "镇上的皮革厂",
    "新开的沥青搅拌场",
    "一个生猪养殖大户",
    "工业园里的制药厂",
];

/// Grievance sentences per class, as petitioners put them.
fn class_sentences(class: &str) -> &'static [&'static str] {
    match class {
        "城建拆迁" => &[
            "{town}搞旧城改造，我家两层的老屋被铲车推平了，到现在一分钱补偿都没拿到。",
            "征收的时候评估公司只按每平方八百块算，周边的房子都卖四五千，这个价格我们不认。",
            "签协议时说好三年回迁，如今六年过去了安置小区还是一片空地，过渡费也断了。",
            "拆房子那天来了几十个穿制服的人，把老人从屋里拖出来，家具全砸坏了。",
            "我家门面是九十年代买的，有产权证，现在说是违章搭建，不给补偿就要拆除。",
            "征地拆迁办的人说不签字就把我们列入黑名单，孩子上学都要受影响。",
            "分安置房抽签有暗箱操作，跟干部沾亲带故的都分到了好楼层。",
            "房屋征收补偿决定书没有送达给我们，直接就申请了强制执行。",
            "老街改造说是先补后拆，结果是先拆后补，补偿款拖了两年还没兑现。",
            "我家的宅院被划进城中村改造范围，评估报告里面积少算了四十多平方。",
            "拆了我们的房子却不给安排周转房，一家五口只能挤在亲戚家。",
            "征收办给的货币补偿标准比隔壁村低了一半，同一条路两种标准。",
        ],
        "涉军群体" => &[
            "我是一九七九年入伍的老兵，参加过对越作战，腿上还有弹片，现在每月补助才几百块。",
            "我们这批人当年在新疆参加过国防施工任务，回乡后身体一直不好，参试身份一直没认定。",
            "我从部队复员回来，按当时的政策应该安排工作，县里推了三十年也没安排。",
            "我是转业干部，安置到县化肥厂，厂子垮了以后我的军龄和工龄都没人认了。",
            "我在部队训练时受伤致残，评残的材料交上去两年，退役军人事务部门一直说在研究。",
            "我爷爷是在战场上牺牲的，家里作为烈属的优待金好几年没有按时发放。",
            "我服役十四年，转业后社保只从地方工作开始算，部队的年限不算缴费年限。",
            "我们是同一年入伍的战友，退役后被安置到乡镇企业当合同工，企业一倒就什么都没有了。",
            "当年的退伍证和立功证书都在，可是地方上说档案里没有记录，不给落实待遇。",
            "伤残抚恤金的标准多年没调整，老战友们看病都成问题。",
        ],
        "企业改制" => &[
            "{work}改制那年，厂里让我们每人签字买断，一年工龄只给三百多块，谁不签就不发工资。",
            "{work}宣布破产后，职工的集资款和欠发的工资一直没有着落，厂领导却把设备卖了。",
            "改制的时候说好给我们交养老保险，结果断了八年，现在到年龄办不了退休。",
            "{work}的土地和厂房被低价转给了私人老板，我们这些老职工什么安置也没有。",
            "我们是厂里的集体工，改制分流时把我们排除在外，身份置换一分钱没给。",
            "{work}停产以后我们放假在家，每个月只领一百多块生活费，已经九年了。",
            "改制方案从来没有开过职工代表大会讨论，几个领导关起门来就定了。",
            "下岗以后我们自己交社保，交不起就断了，现在老了没有任何保障。",
            "内退的时候说好的生活费按月发，厂子被兼并后就再也没人发了。",
            "企业重组后我们被分到三产公司，工资降了一半，工龄也被清零了。",
        ],
        "库区移民" => &[
            "我们是{dam}的移民，国家给的后期扶持每人每年六百元，村里只发了一半。",
            "{dam}蓄水后我家的水田和柑橘园全淹了，淹没补偿到现在没算清楚。",
            "搬迁时登记人口漏了我家两个孩子，现在说他们不是移民，享受不到扶持。",
            "移民新村的房子盖好不到八年，墙上到处是裂缝，下雨就漏。",
            "村干部把移民扶持资金挪去修了办公楼，我们移民户一分没见到。",
            "水库涨水后岸边的山体垮了，我家房子就在边上，晚上都不敢睡。",
            "我们是外迁到这里的移民，当地一直没有划给我们耕地，只能打零工。",
            "移民管理部门说我们户口不在库区，不算移民，可我们的房子和地明明都淹在水里。",
        ],
        "历史遗留" => &[
            "我是一九六八年下放到农场的知识青年，在那里干了九年，回城后这段工龄一直不被承认。",
            "我在村小教了二十年书，是民办身份，后来被辞退，当年的教龄没有任何说法。",
            "我父亲在六十年代精简回乡，几十年了一直没享受到应有的生活补助。",
            "我在村里当了二十多年赤脚医生，现在年纪大了，什么补贴都没有。",
            "我参加过三线建设，单位几次搬迁把我的档案弄丢了，现在身份认定不了。",
            "当年做了结扎手术落下病根，几十年一直看病吃药，补助一直没落实。",
            "我当了十八年村支书，离任后的生活补贴这么多年一直没发。",
            "我家祖上的私房五十年代被收走出租，落实政策时没有退还，至今没有结果。",
        ],
        "环境污染" => &[
            "{polluter}晚上偷偷往河里放黑水，河水变了颜色，鱼虾死了一大片。",
            "{polluter}每天冒出呛人的烟，气味熏得人头昏，家里老人孩子都咳嗽。",
            "{polluter}的灰尘落得到处都是，庄稼叶子都是白的，收成减了一大半。",
            "工地每天半夜还在施工，机器轰隆隆响到凌晨，孩子根本睡不着觉。",
            "村边的猪场粪水直接流进水渠，臭气一两里外都闻得到。",
            "垃圾场的脏水渗到地里，村里的井水有一股怪味，不敢再喝。",
            "楼下餐馆的排烟管正对着我家窗户，一年到头都是油烟味。",
            "{polluter}没有经过环境评估就投产，周围几个村的空气都是化学品的味道。",
            "矿上放炮震得我家房子开裂，飞起来的石粉把整个村子都盖住了。",
            "附近厂子排的水里有重金属，村里小孩体检血铅超标。",
        ],
        _ => &[
            "小区物业只收钱不办事，电梯坏了三个月没人修。",
            "我在医院做完手术伤口感染，医院不承认有责任。",
            "孩子上学要跨好几个街区，离家近的学校不让报名。",
            "我在外地打工的工地老板欠了我一万多块工钱，电话也打不通。",
            "我家的低保被取消了，村里说我家有车，那是儿子借钱买的旧货车。",
            "法院判了对方还钱，判决生效两年了一分钱没执行到。",
            "村里修路占了我家半亩地，一直没给说法。",
            "建议在学校门口的路口增设红绿灯，上下学时段太危险。",
            "公交车经常晚点，早上上班要等半个多小时。",
            "网上买的电器有质量问题，商家不给退换。",
            "想咨询一下办理居住证需要准备哪些材料。",
            "新买的商品房交房时墙面开裂漏水，开发商拖着不修。",
            "菜市场门口占道经营，早上车都开不出去。",
            "医保异地报销的手续太复杂，来回跑了好多趟。",
            "希望给村里通上自来水，现在喝的水不干净。",
            "景区门票太贵，本地老人也没有优惠。",
            "孩子在学校被同学欺负，学校处理得不公平。",
            "希望城区多建几个公园，方便老人锻炼。",
        ],
    }
}

const CLASSES: [&str; 6] = [
    "城建拆迁",
    "涉军群体",
    "企业改制",
    "库区移民",
    "历史遗留",
    "环境污染",
];

/// Sentences that mention a class only to deny it (the case is not about it).
const NEGATED: &[(&str, &str)] = &[
    ("城建拆迁", "这次反映的不是拆迁问题，"),
    ("环境污染", "我说的并不是污染的事，"),
    ("库区移民", "我们家不是移民，"),
    ("企业改制", "这个不是改制的问题，"),
];

const OPENINGS: &[&str] = &[
    "尊敬的领导：",
    "尊敬的书记、县长：",
    "各位领导好！",
    "",
    "",
    "领导您好，",
    "信访局的同志：",
];
const INTROS: &[&str] = &[
    "我是{town}{village}的村民。",
    "我叫张某，住在{town}。",
    "我们是{town}的老百姓。",
    "",
    "我是一名普通群众。",
];
const FILLERS: &[&str] = &[
    "我们一家老小都靠这个过日子。",
    "这件事情说来话长，前前后后拖了很多年。",
    "我们都是本分人，从来没给政府添过麻烦。",
    "我年纪大了，身体也不好，实在是没有办法了。",
    "村里很多人都知道这个情况，可以作证。",
    "我们相信党和政府一定会为老百姓做主。",
    "“群众利益无小事”，这是领导在大会上亲口说的。",
    "材料我都复印好了，随时可以提供。",
];
const CLOSINGS: &[&str] = &[
    "恳请领导重视，依法处理。",
    "请求政府给我们一个说法。",
    "盼复。",
    "希望早日解决，谢谢！",
    "此致敬礼。",
    "请有关部门尽快核实。",
];

/// (signal, phrases, strength) strength: 3 = red-worthy, 2 = orange, 1 = yellow.
const SIGNALS: &[(&str, &[&str], u8)] = &[
    (
        "群体",
        &[
            "我们{n}户人家都是一样的遭遇，",
            "厂里{n}多名老职工都在联名信上签了字，",
            "同样情况的有{n}多人，大家推举我来反映，",
            "全村老少都在请愿书上按了手印，",
        ],
        2,
    ),
    (
        "越级",
        &[
            "县里一直推诿，我们已经到省城去反映过了。",
            "如果再拖下去，我们只能上北京去告。",
            "大家商量好了，过完年就一起进京。",
            "市里不管，我们就往上一级一级地告。",
        ],
        2,
    ),
    (
        "自伤风险",
        &[
            "再没人管，我就从县政府楼上跳下去。",
            "我已经不想活了，药都准备好了。",
            "逼急了我就在政府门口点火烧了自己。",
        ],
        3,
    ),
    (
        "过激行为",
        &[
            "下星期我们就去把进城的路堵了。",
            "大家准备拉上横幅到县委门口坐着不走。",
            "已经有人说要去围政府大院。",
        ],
        2,
    ),
    (
        "媒体曝光",
        &[
            "我们已经把视频发到网上，还联系了报社的记者。",
            "再不处理我们就去找电视台曝光。",
        ],
        1,
    ),
    (
        "重复信访",
        &[
            "这个问题我们前后反映了七八次，每次都说研究研究。",
            "从去年到现在跑了十几趟，部门之间踢来踢去。",
            "上次的答复我们不满意，到现在还是老样子。",
        ],
        1,
    ),
];

const NUMS: &[&str] = &[
    "二十",
    "三十",
    "五十",
    "七十",
    "一百",
    "两百",
    "三四十",
    "几十",
];

/// A small simplified → traditional table for the characters the
/// generator uses most, to make traditional-character letters.
const S2T: &[(char, char)] = &[
    ('们', '們'),
    ('这', '這'),
    ('个', '個'),
    ('来', '來'),
    ('时', '時'),
    ('说', '說'),
    ('为', '為'),
    ('没', '沒'),
    ('过', '過'),
    ('还', '還'),
    ('后', '後'),
    ('里', '裡'),
    ('厂', '廠'),
    ('补', '補'),
    ('偿', '償'),
    ('拆', '拆'),
    ('迁', '遷'),
    ('给', '給'),
    ('钱', '錢'),
    ('现', '現'),
    ('经', '經'),
    ('题', '題'),
    ('问', '問'),
    ('实', '實'),
    ('办', '辦'),
    ('县', '縣'),
    ('乡', '鄉'),
    ('镇', '鎮'),
    ('会', '會'),
    ('领', '領'),
    ('导', '導'),
    ('政', '政'),
    ('府', '府'),
    ('处', '處'),
    ('理', '理'),
    ('职', '職'),
    ('工', '工'),
    ('资', '資'),
    ('龄', '齡'),
    ('军', '軍'),
    ('战', '戰'),
    ('伤', '傷'),
    ('残', '殘'),
    ('烟', '煙'),
    ('气', '氣'),
    ('污', '污'),
    ('染', '染'),
    ('脏', '髒'),
    ('鱼', '魚'),
    ('库', '庫'),
    ('淹', '淹'),
    ('护', '護'),
    ('门', '門'),
    ('户', '戶'),
    ('万', '萬'),
    ('两', '兩'),
    ('岁', '歲'),
    ('老', '老'),
    ('兵', '兵'),
    ('队', '隊'),
    ('医', '醫'),
    ('院', '院'),
    ('报', '報'),
    ('记', '記'),
    ('录', '錄'),
    ('业', '業'),
    ('产', '產'),
    ('场', '場'),
    ('农', '農'),
    ('书', '書'),
    ('证', '證'),
    ('协', '協'),
    ('议', '議'),
    ('评', '評'),
    ('价', '價'),
    ('级', '級'),
    ('应', '應'),
    ('该', '該'),
    ('对', '對'),
    ('从', '從'),
    ('头', '頭'),
    ('发', '發'),
    ('东', '東'),
    ('车', '車'),
];

fn to_traditional(s: &str) -> String {
    s.chars()
        .map(|c| S2T.iter().find(|(a, _)| *a == c).map_or(c, |(_, t)| *t))
        .collect()
}

/// Insert evasion symbols inside a few two-character words.
fn add_noise(rng: &mut Rng, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        out.push(*c);
        let cjk = |x: &char| ('\u{4E00}'..='\u{9FFF}').contains(x);
        if cjk(c) && chars.get(i + 1).is_some_and(cjk) && rng.chance(0.05) {
            out.push(*rng.pick(&['*', ' ', '-', '·', '#']));
        }
    }
    out
}

fn fill(rng: &mut Rng, t: &str) -> String {
    let mut s = t.to_string();
    for (key, list) in [
        ("{town}", TOWNS),
        ("{village}", VILLAGES),
        ("{work}", WORKS),
        ("{dam}", DAMS),
        ("{polluter}", POLLUTERS),
        ("{n}", NUMS),
    ] {
        while s.contains(key) {
            let v = *rng.pick(list);
            s = s.replacen(key, v, 1);
        }
    }
    s
}

/// Generate one labeled case.
pub fn labeled_case(rng: &mut Rng, i: usize) -> LabeledCase {
    let other = rng.chance(0.22);
    let primary = if other { "其他" } else { *rng.pick(&CLASSES) };
    let mut parts: Vec<String> = Vec::new();
    let mut secondary = Vec::new();
    parts.push(rng.pick(OPENINGS).to_string());
    let intro = *rng.pick(INTROS);
    parts.push(fill(rng, intro));
    if rng.chance(0.08) {
        let (_, neg) = *rng.pick(NEGATED);
        parts.push(neg.to_string());
    }
    let sentences = class_sentences(primary);
    let long = rng.chance(0.3);
    let n_main = 1 + rng.below(if long { 3 } else { 2 });
    for _ in 0..n_main {
        let t = *rng.pick(sentences);
        parts.push(fill(rng, t));
    }
    if !other && rng.chance(0.2) {
        let second = *rng.pick(&CLASSES);
        if second != primary {
            secondary.push(second.to_string());
            let t = *rng.pick(class_sentences(second));
            parts.push(format!("另外，{}", fill(rng, t)));
        }
    }
    let rambling = rng.chance(0.25);
    if rambling {
        for _ in 0..(2 + rng.below(4)) {
            parts.push(rng.pick(FILLERS).to_string());
        }
    }
    let mut signals: Vec<String> = Vec::new();
    let mut strength = 0u8;
    let mut persons = 1;
    let mut level = *rng.pick(&["县", "县", "乡镇", "市"]);
    for (name, phrases, s) in SIGNALS {
        let p = match *name {
            "群体" | "重复信访" => 0.22,
            "越级" => 0.12,
            "自伤风险" => 0.03,
            _ => 0.05,
        };
        if (!other || *name == "重复信访" || *name == "媒体曝光") && rng.chance(p) {
            let t = *rng.pick(phrases);
            let phrase = fill(rng, t);
            if *name == "群体" {
                parts.insert(2.min(parts.len()), phrase);
                persons = *rng.pick(&[5, 8, 12, 30, 60]);
            } else {
                parts.push(phrase);
            }
            if *name == "越级" && rng.chance(0.4) {
                level = *rng.pick(&["省", "国家"]);
            }
            signals.push((*name).to_string());
            strength = strength.max(*s);
        }
    }
    parts.push(rng.pick(CLOSINGS).to_string());
    let mut text: String = parts.concat();
    if rng.chance(0.06) {
        text = to_traditional(&text);
    }
    if rng.chance(0.06) {
        text = add_noise(rng, &text);
    }
    let both_group_skip =
        signals.iter().any(|s| s == "群体") && signals.iter().any(|s| s == "越级");
    let tier = match (primary, strength) {
        (_, 3) => "红",
        (_, 2) if both_group_skip => "红",
        (_, 2) => "橙",
        ("其他", 1) => "无",
        (_, 1) => "黄",
        ("其他", _) => "无",
        _ => "蓝",
    };
    let day = 1 + rng.below(360);
    let date =
        chrono::NaiveDate::from_yo_opt(2026, u32::try_from(day).unwrap_or(1)).unwrap_or_default();
    LabeledCase {
        id: format!("B{i:06}"),
        received: date.to_string(),
        channel: rng.pick(&["来信", "来访", "网上", "电话"]).to_string(),
        petitioner_ids: vec![format!("Q{:05}", rng.below(100_000))],
        persons,
        target_level: level.to_string(),
        title: String::new(),
        text,
        gold: Gold {
            primary: primary.to_string(),
            secondary,
            warn: tier != "无",
            tier: tier.to_string(),
            signals,
        },
    }
}

/// Write `count` labeled cases as JSON Lines.
pub fn write_labeled(out: &mut impl Write, seed: u64, count: usize) -> std::io::Result<()> {
    let mut rng = Rng::new(seed);
    for i in 1..=count {
        let c = labeled_case(&mut rng, i);
        serde_json::to_writer(&mut *out, &c)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Stream unlabeled cases until about `bytes` bytes have been written.
pub fn write_unlabeled(out: &mut impl Write, seed: u64, bytes: u64) -> std::io::Result<u64> {
    let mut rng = Rng::new(seed);
    let mut written = 0u64;
    let mut i = 0usize;
    let mut line = Vec::with_capacity(4096);
    while written < bytes {
        i += 1;
        let c = labeled_case(&mut rng, i);
        line.clear();
        serde_json::to_writer(
            &mut line,
            &serde_json::json!({
                "id": c.id, "received": c.received, "channel": c.channel,
                "petitioner_ids": c.petitioner_ids, "persons": c.persons,
                "target_level": c.target_level, "text": c.text,
            }),
        )?;
        line.push(b'\n');
        out.write_all(&line)?;
        written += line.len() as u64;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_varied() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_labeled(&mut a, 7, 500).unwrap();
        write_labeled(&mut b, 7, 500).unwrap();
        assert_eq!(a, b);
        let text = String::from_utf8(a).unwrap();
        for class in CLASSES.iter().chain(&["其他"]) {
            assert!(
                text.contains(&format!("\"primary\":\"{class}\"")),
                "{class}"
            );
        }
        for tier in ["红", "橙", "黄", "蓝", "无"] {
            assert!(text.contains(&format!("\"tier\":\"{tier}\"")), "{tier}");
        }
        let mut c = Vec::new();
        write_labeled(&mut c, 8, 500).unwrap();
        assert_ne!(text.as_bytes(), &c[..]);
    }

    #[test]
    fn unlabeled_stream_stops_near_the_size() {
        let mut out = Vec::new();
        let n = write_unlabeled(&mut out, 1, 100_000).unwrap();
        assert_eq!(n, out.len() as u64);
        assert!((100_000..110_000).contains(&n));
        assert!(!String::from_utf8(out).unwrap().contains("gold"));
    }
}
