// Thank-you page. While the payment is processing, ask the server every two seconds and
// reload once Stripe's webhook has confirmed (or failed) the donation. Once confirmed, the
// match quoted at checkout is recorded by the webhook processor a moment later: while the
// page says one is expected (data-awaiting on #matches), keep asking for a short while and
// show the matches in place, without a reload. Without JavaScript the page offers a refresh
// link instead. The server formats every amount and status sentence; this file never does.
(function () {
  "use strict";
  var box = document.getElementById("thanks");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var matches = document.getElementById("matches");
  var processing = box.getAttribute("data-state") === "processing";
  var awaiting = !!matches && matches.getAttribute("data-awaiting") === "true";
  if (!url || (!processing && !awaiting)) {
    return;
  }
  var tries = 0;
  var maxTries = processing ? 150 : 30; // five minutes for Stripe; one minute for the match

  function text(tag, className, value) {
    var el = document.createElement(tag);
    el.className = className;
    el.textContent = value;
    return el;
  }

  function showMatches(list) {
    var ul = document.getElementById("match-list");
    if (!ul) {
      return;
    }
    while (ul.firstChild) {
      ul.removeChild(ul.firstChild);
    }
    list.forEach(function (m) {
      var li = document.createElement("li");
      li.className = "match-line match-" + m.status;
      li.appendChild(text("span", "match-program", m.program_name));
      li.appendChild(text("strong", "match-amount", (m.status === "voided" ? "" : "+ ") + m.amount_text));
      li.appendChild(text("span", "match-status", m.status_text));
      ul.appendChild(li);
    });
    var waiting = document.getElementById("match-waiting");
    if (waiting) {
      waiting.parentNode.removeChild(waiting);
    }
    matches.removeAttribute("data-awaiting");
    matches.hidden = false;
  }

  function again() {
    if (tries < maxTries) {
      window.setTimeout(poll, 2000);
    }
  }

  function poll() {
    tries += 1;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (!body) {
          again();
        } else if (processing) {
          if (body.state !== "processing") {
            window.location.reload();
          } else {
            again();
          }
        } else if (body.matches && body.matches.length) {
          showMatches(body.matches);
        } else if (body.awaiting_matches) {
          again();
        }
      })
      .catch(again);
  }

  window.setTimeout(poll, processing ? 2000 : 1000);
})();
