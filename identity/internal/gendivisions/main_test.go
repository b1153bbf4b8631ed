package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedFileIsCurrent fails when division-codes.csv changed and
// go generate was not run.
func TestGeneratedFileIsCurrent(t *testing.T) {
	f, err := os.Open("division-codes.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := readRows(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := render(rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../divisions_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("identity/divisions_gen.go is stale: run go generate ./identity")
	}
}

func TestReadRowsRefuses(t *testing.T) {
	tests := map[string]string{
		"bad header":  "id,name\n110101,x\n",
		"short code":  "code,name\n11010,x\n",
		"repeat":      "code,name\n110101,x\n110101,y\n",
		"leading 0":   "code,name\n010101,x\n",
		"no codes":    "code,name\n",
		"three cells": "code,name\n110101,x,y\n",
	}
	for name, in := range tests {
		if _, err := readRows(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	rows, err := readRows(strings.NewReader("code,name\n820000,澳门\n110101,东城区\n"))
	if err != nil || len(rows) != 2 || rows[0].code != 110101 {
		t.Fatalf("rows = %v, %v; want sorted", rows, err)
	}
}
