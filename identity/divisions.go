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

// divisionName looks a 6-digit address code up in the generated table
// (binary search over a sorted array: no allocation, no start-up cost).
func divisionName(code string) (name string, known bool) {
	if len(code) != 6 || !allDigits(code) {
		return "", false
	}
	c := uint32(atoi(code))
	i, found := slices.BinarySearchFunc(divisions[:], c, func(d division, c uint32) int { return cmp.Compare(d.code, c) })
	if !found {
		return "", false
	}
	return divisions[i].name, true
}
