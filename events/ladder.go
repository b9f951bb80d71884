package events

import (
	"fmt"
	"strconv"
)

// Level is a rank on the new eight-level skill ladder (新八级工), 0–7. It is
// held per trade. In JSON a Level is its API name ("senior_technician").
type Level int

// The ladder. Junior..SeniorTechnician are certified (skill-level or
// vocational-qualification certificates, national grades 5..1);
// Principal and Chief are posts an enterprise appoints.
const (
	Apprentice          Level = 0 // 学徒工
	Junior              Level = 1 // 初级工 (五级)
	Intermediate        Level = 2 // 中级工 (四级)
	Senior              Level = 3 // 高级工 (三级)
	Technician          Level = 4 // 技师 (二级)
	SeniorTechnician    Level = 5 // 高级技师 (一级)
	PrincipalTechnician Level = 6 // 特级技师
	ChiefTechnician     Level = 7 // 首席技师
)

// LevelInfo names a rank of the ladder.
type LevelInfo struct {
	Rank    Level  `json:"rank"`
	API     string `json:"api"`
	Chinese string `json:"zh"`
	English string `json:"en"`
	// Grade is the national grade (五级=5 … 一级=1); 0 for apprentice and the upper grades.
	Grade int `json:"grade"`
}

var ladder = [...]LevelInfo{
	{Apprentice, "apprentice", "学徒工", "apprentice", 0},
	{Junior, "junior", "初级工（五级）", "junior (level 5)", 5},
	{Intermediate, "intermediate", "中级工（四级）", "intermediate (level 4)", 4},
	{Senior, "senior", "高级工（三级）", "senior (level 3)", 3},
	{Technician, "technician", "技师（二级）", "technician (level 2)", 2},
	{SeniorTechnician, "senior_technician", "高级技师（一级）", "senior technician (level 1)", 1},
	{PrincipalTechnician, "principal_technician", "特级技师", "principal technician", 0},
	{ChiefTechnician, "chief_technician", "首席技师", "chief technician", 0},
}

// Ladder returns the eight ranks in order.
func Ladder() []LevelInfo { return append([]LevelInfo(nil), ladder[:]...) }

// Valid reports whether l is a rank of the ladder.
func (l Level) Valid() bool { return l >= Apprentice && l <= ChiefTechnician }

// Certifiable reports whether l is obtained by certificate (junior..senior technician).
func (l Level) Certifiable() bool { return l >= Junior && l <= SeniorTechnician }

// UpperGrade reports whether l is an appointed post (principal or chief technician).
func (l Level) UpperGrade() bool { return l == PrincipalTechnician || l == ChiefTechnician }

// Info returns the names of l; an invalid level gets its number as names.
func (l Level) Info() LevelInfo {
	if !l.Valid() {
		s := strconv.Itoa(int(l))
		return LevelInfo{Rank: l, API: s, Chinese: s, English: s}
	}
	return ladder[l]
}

// String is the API name.
func (l Level) String() string { return l.Info().API }

// ParseLevel reads an API name ("technician") or a rank number ("4").
func ParseLevel(s string) (Level, error) {
	for _, li := range ladder {
		if li.API == s {
			return li.Rank, nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && Level(n).Valid() {
		return Level(n), nil
	}
	return 0, fieldErr("level", "unknown level %q (apprentice, junior, intermediate, senior, technician, senior_technician, principal_technician, chief_technician)", s)
}

// LevelFromGrade maps a national grade (5..1) to the ladder.
func LevelFromGrade(grade int) (Level, error) {
	if grade < 1 || grade > 5 {
		return 0, fieldErr("level", "national grade %d out of range 1..5", grade)
	}
	return Level(6 - grade), nil
}

// MarshalText writes the API name.
func (l Level) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, fmt.Errorf("level %d out of range 0..7", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads an API name or a rank number.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

func validCertLevel(field string, l Level) error {
	if !l.Certifiable() {
		return fieldErr(field, "level %s is not certifiable (junior..senior_technician)", l.Info().API)
	}
	return nil
}
