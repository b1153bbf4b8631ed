package web

func init() {
	samples[PageLoginSMS] = LoginSMSData{FlowID: "f1", ClientName: "Tax <Bureau>", Username: "11010519491231002X",
		Error: "bad", PasswordURL: "/login?flow=f1"}
	samples[PageLoginSMSCode] = LoginSMSData{FlowID: "f1", ClientName: "Tax", Username: "11010519491231002X",
		MaskedPhone: "139****9000", Minutes: 5, Notice: "wait", Error: "wrong", PasswordURL: "/login?flow=f1"}
	samples[PageLoginStepUp] = StepUpData{FlowID: "f1", ClientName: "Tax", MaskedPhone: "139****9000", Minutes: 5,
		Sent: true, Notice: "wait", Error: "wrong"}
}
