// Thank-you page: while the payment is processing, ask the server every two seconds and
// reload once Stripe's webhook has confirmed (or failed) the donation. Without JavaScript the
// page offers a refresh link instead.
(function () {
  "use strict";
  var box = document.getElementById("thanks");
  if (!box || box.getAttribute("data-state") !== "processing") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var tries = 0;
  var maxTries = 150; // five minutes

  function poll() {
    tries += 1;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body && body.state !== "processing") {
          window.location.reload();
        } else if (tries < maxTries) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        if (tries < maxTries) {
          window.setTimeout(poll, 2000);
        }
      });
  }

  window.setTimeout(poll, 2000);
})();
