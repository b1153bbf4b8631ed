// QR login, the desktop side: poll the ticket's status and, once the phone
// has confirmed, submit the "continue" form (the same form a browser without
// JavaScript submits by hand). Served under script-src 'self'.
(function () {
  "use strict";
  var el = document.getElementById("qr-status");
  var form = document.getElementById("qr-continue");
  if (!el || !form || !window.fetch) {
    return;
  }
  var url = el.dataset.status + "?ticket=" + encodeURIComponent(el.dataset.ticket);
  var delay = 1500;
  var done = false;
  el.textContent = el.dataset.waiting;

  function show(key) {
    el.textContent = el.dataset[key] || "";
  }

  function poll() {
    if (done) {
      return;
    }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 429) {
          delay = Math.min(delay * 2, 10000);
          return { status: "pending" };
        }
        return r.json();
      })
      .then(function (body) {
        switch (body.status) {
          case "approved":
            done = true;
            show("approved");
            form.submit();
            return;
          case "denied":
          case "expired":
            done = true;
            show(body.status);
            return;
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
})();
