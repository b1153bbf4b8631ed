// Passkey enrolment (account page) and sign-in (login page). Loaded as a
// file because the CSP allows no inline script. The server sends WebAuthn
// options as JSON with binary fields in base64url; this file turns them into
// ArrayBuffers, calls the browser and posts the result back as a form field
// (so the CSRF token travels the same way as on every other form).
"use strict";
(function () {
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: b64urlToBuf(d.id) });
    });
  }
  function creationOptions(pk) {
    var o = Object.assign({}, pk);
    o.challenge = b64urlToBuf(pk.challenge);
    o.user = Object.assign({}, pk.user, { id: b64urlToBuf(pk.user.id) });
    o.excludeCredentials = descriptors(pk.excludeCredentials);
    return o;
  }
  function requestOptions(pk) {
    var o = Object.assign({}, pk);
    o.challenge = b64urlToBuf(pk.challenge);
    if (pk.allowCredentials) o.allowCredentials = descriptors(pk.allowCredentials);
    return o;
  }
  function credentialJSON(c) {
    var r = c.response, out = {
      id: c.id, rawId: bufToB64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    return JSON.stringify(out);
  }
  function post(url, fields) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(fields)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (!resp.ok) {
          var e = new Error(body.error_description || resp.statusText);
          e.server = true;
          throw e;
        }
        return body;
      });
    });
  }
  function say(status, text) {
    if (status) status.textContent = text;
  }
  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && window.fetch);
  }
  function failure(status, err) {
    if (err && err.server) return say(status, err.message);
    say(status, status ? status.getAttribute("data-cancelled") : "");
  }

  // The login page: discoverable sign-in, or the passkeys of the typed ID number.
  var login = document.getElementById("passkey-login");
  if (login) {
    var status = document.getElementById("passkey-status");
    if (!supported()) return;
    login.hidden = false;
    document.getElementById("passkey-login-button").addEventListener("click", function () {
      var form = document.querySelector("form[action='/login']");
      var field = function (n) { var el = form && form.querySelector("[name='" + n + "']"); return el ? el.value : ""; };
      var csrf = field("csrf_token");
      say(status, status.getAttribute("data-working"));
      post(login.getAttribute("data-begin"), { csrf_token: csrf, flow: field("flow"), username: field("username").trim() })
        .then(function (begin) {
          return navigator.credentials.get({ publicKey: requestOptions(begin.publicKey) }).then(function (cred) {
            return post(login.getAttribute("data-finish"), { csrf_token: csrf, ceremony: begin.ceremony, credential: credentialJSON(cred) });
          });
        })
        .then(function (done) { window.location.assign(done.redirect); })
        .catch(function (err) { failure(status, err); });
    });
  }

  // The account page: enrol a new passkey.
  var enrol = document.getElementById("passkey-enrol");
  if (enrol) {
    var st = document.getElementById("passkey-status");
    if (!supported()) { say(st, st.getAttribute("data-unsupported")); return; }
    enrol.hidden = false;
    enrol.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var csrf = enrol.querySelector("[name='csrf_token']").value;
      var name = enrol.querySelector("[name='name']").value;
      say(st, st.getAttribute("data-working"));
      post(enrol.getAttribute("data-begin"), { csrf_token: csrf })
        .then(function (begin) {
          return navigator.credentials.create({ publicKey: creationOptions(begin.publicKey) }).then(function (cred) {
            return post(enrol.getAttribute("data-finish"), { csrf_token: csrf, ceremony: begin.ceremony, name: name, credential: credentialJSON(cred) });
          });
        })
        .then(function () { window.location.assign(enrol.getAttribute("data-done")); })
        .catch(function (err) { failure(st, err); });
    });
  }
})();
