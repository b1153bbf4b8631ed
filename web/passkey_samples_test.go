package web

func init() {
	samples[PagePasskeys] = PasskeysData{DefaultName: "通行密钥 2026-03-01", Notice: "added", Keys: []PasskeyLine{
		{ID: "AbC-_1", Name: "Phone <1>", Created: "2026-03-01 08:00", LastUsed: "2026-03-02 09:00", Synced: true},
		{ID: "xyz", Name: "Key", Created: "2026-03-01 08:00"}}}
}
