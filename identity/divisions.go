package identity

import (
	"cmp"
	"slices"
)

//go:generate go run ./internal/gendivisions

// division is one GB/T 2260 code and its name (possibly empty for historic
// codes whose name no source kept).
type division struct {
	code uint32
	name string
}

// provinceNames are the GB/T 2260 province-level units (the table itself is
// county-level).
var provinceNames = map[uint32]string{
	11: "北京市", 12: "天津市", 13: "河北省", 14: "山西省", 15: "内蒙古自治区",
	21: "辽宁省", 22: "吉林省", 23: "黑龙江省",
	31: "上海市", 32: "江苏省", 33: "浙江省", 34: "安徽省", 35: "福建省", 36: "江西省", 37: "山东省",
	41: "河南省", 42: "湖北省", 43: "湖南省", 44: "广东省", 45: "广西壮族自治区", 46: "海南省",
	50: "重庆市", 51: "四川省", 52: "贵州省", 53: "云南省", 54: "西藏自治区",
	61: "陕西省", 62: "甘肃省", 63: "青海省", 64: "宁夏回族自治区", 65: "新疆维吾尔自治区",
	71: "台湾省", 81: "香港特别行政区", 82: "澳门特别行政区", 83: "台湾地区",
}

// divisionName looks a 6-digit address code up in the generated table
// (binary search over a sorted array: no allocation, no start-up cost).
// The table lists county-level units; a prefecture code (xxxx00) is known
// when the table has a county under it (its name is then ""), and a province
// code (xx0000) when it names a province.
func divisionName(code string) (name string, known bool) {
	if len(code) != 6 || !allDigits(code) {
		return "", false
	}
	c := uint32(atoi(code))
	i, found := slices.BinarySearchFunc(divisions[:], c, func(d division, c uint32) int { return cmp.Compare(d.code, c) })
	switch {
	case found:
		return divisions[i].name, true
	case c%10000 == 0:
		name, known = provinceNames[c/10000]
		return name, known
	case c%100 == 0:
		// i is where c would go: the first code above it.
		return "", i < len(divisions) && divisions[i].code < c+100
	}
	return "", false
}
