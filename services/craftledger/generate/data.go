package generate

import (
	"slices"

	"github.com/craftledger/craftledger/events"
)

// The vocabulary of the demo population: real occupation codes of the
// national occupational classification (职业分类大典), provinces with their
// administrative division codes (GB/T 2260), common surnames and given-name
// characters, and the kinds of organisations that train and employ.

type tradeInfo struct {
	events.Trade
	slug     string  // short latin name for ids and English text
	weight   int     // relative share of the workforce
	industry string  // what an employer of this trade makes
	position string  // a typical post
	hours    float64 // base course hours per level
}

var trades = []tradeInfo{
	{events.Trade{Code: "6-31-01-03", Name: "电工"}, "electrician", 24, "电力", "运维电工", 80},
	{events.Trade{Code: "6-18-02-04", Name: "焊工"}, "welder", 20, "重型装备", "焊接工", 96},
	{events.Trade{Code: "6-18-01-01", Name: "车工"}, "lathe", 14, "机床", "数控车工", 80},
	{events.Trade{Code: "6-18-01-02", Name: "铣工"}, "milling", 8, "机床", "数控铣工", 80},
	{events.Trade{Code: "6-20-01-01", Name: "装配钳工"}, "fitter", 12, "汽车制造", "装配钳工", 72},
	{events.Trade{Code: "4-12-01-01", Name: "汽车维修工"}, "autorepair", 12, "汽车服务", "机电维修工", 64},
	{events.Trade{Code: "4-03-02-01", Name: "中式烹调师"}, "chef", 10, "餐饮", "厨师", 64},
}

type province struct {
	name, city string
	code       string // GB/T 2260 code of the capital city's first district
	weight     int
}

var provinces = []province{
	{"天津", "天津", "120101", 10},
	{"北京", "北京", "110101", 6},
	{"上海", "上海", "310101", 8},
	{"江苏", "南京", "320102", 10},
	{"浙江", "杭州", "330102", 8},
	{"山东", "济南", "370102", 9},
	{"广东", "广州", "440103", 10},
	{"湖北", "武汉", "420102", 6},
	{"四川", "成都", "510104", 7},
	{"辽宁", "沈阳", "210102", 6},
	{"河南", "郑州", "410102", 6},
	{"陕西", "西安", "610102", 4},
}

var surnames = []string{
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
	"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
	"余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
}

var givenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文斌宇浩然鹏飞俊峰波辉晨阳海燕雪梅春生宏亮德福永庆立新卫东振华国强小龙佳怡思远子豪欣怡梓涵")

var employerKinds = []string{"集团有限公司", "股份有限公司", "有限责任公司"}
var employerWords = []string{"重工", "机械", "电力", "汽车", "轨道交通", "造船", "钢铁", "建工", "石化", "装备", "精密", "动力"}

// Competition definitions of the demo: the shapes of docs/policy (relative
// grants, bands by rank and award, student tracks, honours triggered by
// placements, approval, a yearly cap).
type competitionSpec struct {
	def  events.CompetitionDefined
	org  string  // organiser's organisation id (the publishing issuer)
	hr   string  // the HR authority that approves its entitlements
	rate float64 // share of eligible craftsmen taking part
	date string  // results date
	// province, when set, limits the competition to craftsmen of that province
	province string
}

const (
	orgMOHRSS = "mohrss" // 人力资源和社会保障部
	orgACFTU  = "acftu"  // 中华全国总工会
	orgWSC    = "worldskills-china"
)

// Conferring bodies of the catalogue (events.HonourCatalogue) the demo's
// organisations act as.
const (
	bodyProvincialUnion = "provincial trade-union federation"
	bodyCityUnion       = "city trade-union federation"
	bodyProvincialHR    = "provincial HR department"
)

// provincialHR are the provincial HR authorities the demo registers; they
// organise regional competitions, approve their entitlements and confer
// provincial technical experts.
var provincialHR = []struct{ id, name string }{
	{"tj-hrss", "天津市人力资源和社会保障局"}, {"gd-hrss", "广东省人力资源和社会保障厅"},
	{"js-hrss", "江苏省人力资源和社会保障厅"}, {"sd-hrss", "山东省人力资源和社会保障厅"},
}

// unionOf is the organisation recording a province's trade-union honours
// (provincial and city craftsmen): its trade-union federation.
func unionOf(pv province) string { return "union-" + pv.code }

// ConferringBodies are the conferring bodies the demo's organisations act
// as (honour.Options.ConferringBodies): each province's trade-union
// federation confers its provincial and city trade-union honours, each
// provincial HR authority its provincial HR honours. MOHRSS and ACFTU act
// as themselves by id and need no entry. The all-in-one and the
// generator's direct mode run the honour service with it and CheckWriters
// on, so every honour of the demo is recorded by its conferring body.
func ConferringBodies() map[string][]string {
	m := map[string][]string{}
	for _, pv := range provinces {
		m[unionOf(pv)] = []string{bodyProvincialUnion, bodyCityUnion}
	}
	for _, hr := range provincialHR {
		m[hr.id] = []string{bodyProvincialHR}
	}
	return m
}

// Approvers are the HR authorities that approve (核准) the demo
// population's entitlements — every competition's approving authority,
// each once, in the order the competitions are planned. The all-in-one
// restricts approval to them by default (app.DefaultApprovers).
func Approvers() []string {
	var out []string
	for _, c := range competitions() {
		if !slices.Contains(out, c.hr) {
			out = append(out, c.hr)
		}
	}
	return out
}
