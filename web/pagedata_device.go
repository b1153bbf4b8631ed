package web

// PageDevice is the device-flow verification page (RFC 8628).
const PageDevice = "device.html"

// DeviceData is the verification page: Step "enter" asks for the user code,
// "confirm" shows which site asks for what, "done" reports the answer.
type DeviceData struct {
	Step       string
	UserCode   string
	ClientName string
	Scopes     []ScopeLine
	Approved   bool
	Error      string
}
