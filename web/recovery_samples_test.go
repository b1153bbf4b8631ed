package web

func init() {
	samples[PageRecover] = RecoverData{FlowID: "f1", ClientName: "Tax <Bureau>", Username: "11010519491231002X",
		Error: "bad", LoginURL: "/login?flow=f1"}
	samples[PageRecoverCode] = RecoverData{FlowID: "f1", ClientName: "Tax", Username: "11010519491231002X",
		MaskedPhone: "139****9000", Minutes: 5, Notice: "wait", Error: "wrong", LoginURL: "/login?flow=f1"}
	samples[PageRecoverDone] = RecoverDoneData{LoginURL: "/login?flow=f1"}
}
