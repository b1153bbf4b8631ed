package web

func init() {
	samples[PageDevice] = DeviceData{Step: "confirm", UserCode: "BCDF-GHJK", ClientName: "Kiosk <1>",
		Scopes: []ScopeLine{{Text: "your name", Sensitive: false}, {Text: "your ID number", Sensitive: true}}}
}
