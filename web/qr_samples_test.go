package web

import "html/template"

func init() {
	samples[PageQRLogin] = QRLoginData{Step: "desktop", FlowID: "f1", ClientName: "Tax <Bureau>", Ticket: "t1",
		TicketURL: "https://id.example/qr/t1", QR: template.HTML(`<svg class="qr"></svg>`), LoginURL: "/login?flow=f1", Seconds: 120, Again: true}
	samples[PageConsoleCounter] = ConsoleCounterData{ConsoleBase: ConsoleBase{Operator: "Clerk", Roles: "registrar", Region: "Beijing"},
		Step: "confirm", Method: "qr", Key: "k", ClientName: "Counter <3>", Citizen: "**四", QR: template.HTML(`<svg class="qr"></svg>`), TicketURL: "https://id.example/qr/t"}
}
