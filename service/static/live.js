// Live progress on the campaign page: the numbers and the wall of support follow new gifts
// without a reload. Listens to the page's Server-Sent Events stream (data-live-url); without
// EventSource, or when the stream keeps failing (the server may be full and answer 503), it
// polls the public summary (data-summary-url) every 15 seconds instead. The server sends every
// text ready to show (amounts already formatted), so nothing here formats money; new entries
// are built with textContent only, never from HTML. The article's data-live-state says which
// way it is following ("open" or "polling").
(function () {
  "use strict";

  var article = document.querySelector("article.campaign[data-live-url]");
  if (!article) {
    return;
  }
  var liveUrl = article.getAttribute("data-live-url");
  var summaryUrl = article.getAttribute("data-summary-url");
  var POLL_MS = 15000;
  var MAX_ERRORS = 3;
  var MAX_SUPPORTERS = 50;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function setText(id, text) {
    var element = document.getElementById(id);
    if (element && typeof text === "string" && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function applyProgress(progress) {
    setText("raised", progress.raised_text);
    setText("matched", progress.matched_text);
    setText("total", progress.total_text);
    setText("percent", progress.percent_text);
    setText("donor-count", progress.donors_text);
    var bar = document.getElementById("progress-bar");
    if (bar && typeof progress.goal_minor === "number" && typeof progress.total_minor === "number") {
      var percent = typeof progress.percent === "number" ? progress.percent : 0;
      bar.max = progress.goal_minor;
      bar.value = Math.min(progress.total_minor, progress.goal_minor);
      bar.textContent = percent + "%";
      bar.setAttribute("aria-label", percent + "% of the goal raised");
    }
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) {
      made.className = className;
    }
    if (text) {
      made.textContent = text;
    }
    return made;
  }

  function addSupporter(supporter) {
    var list = document.getElementById("supporter-list");
    if (!list || typeof supporter.name !== "string") {
      return;
    }
    if (supporter.id && document.getElementById("gift-" + supporter.id)) {
      return; // already shown (the stream reconnected and said it again)
    }
    var item = element("li", reduceMotion ? "supporter" : "supporter supporter-new");
    if (supporter.id) {
      item.id = "gift-" + supporter.id;
    }
    var line = element("p", "supporter-line");
    line.appendChild(element("strong", "supporter-name", supporter.name));
    if (supporter.amount_text) {
      line.appendChild(document.createTextNode(" "));
      line.appendChild(element("span", "supporter-amount", "gave " + supporter.amount_text));
    }
    if (supporter.when_text) {
      line.appendChild(document.createTextNode(" "));
      line.appendChild(element("span", "hint", "· " + supporter.when_text));
    }
    item.appendChild(line);
    if (supporter.message) {
      item.appendChild(element("p", "supporter-message", supporter.message));
    }
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX_SUPPORTERS) {
      list.removeChild(list.lastChild);
    }
    var empty = document.getElementById("no-supporters");
    if (empty) {
      empty.hidden = true;
    }
  }

  function parsed(event) {
    try {
      return JSON.parse(event.data);
    } catch (error) {
      return null;
    }
  }

  var polling = false;

  function poll() {
    if (!summaryUrl || !window.fetch) {
      return;
    }
    window
      .fetch(summaryUrl, { headers: { Accept: "application/json" }, cache: "no-cache" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (summary) {
        if (summary) {
          applyProgress(summary);
        }
      })
      .catch(function () {
        // Offline for a moment: the next round tries again.
      });
  }

  function startPolling() {
    if (polling) {
      return;
    }
    polling = true;
    article.setAttribute("data-live-state", "polling");
    poll(); // the page may be older than the stream that failed: catch up at once
    window.setInterval(poll, POLL_MS);
  }

  if (!("EventSource" in window)) {
    startPolling();
    return;
  }

  var errors = 0;
  var source = new window.EventSource(liveUrl);
  source.addEventListener("open", function () {
    errors = 0;
    article.setAttribute("data-live-state", "open");
  });
  source.addEventListener("progress", function (event) {
    var progress = parsed(event);
    if (progress) {
      applyProgress(progress);
    }
  });
  source.addEventListener("supporter", function (event) {
    var supporter = parsed(event);
    if (supporter) {
      addSupporter(supporter);
    }
  });
  source.addEventListener("error", function () {
    errors += 1;
    // A refused stream (503, 404) is closed for good; a flapping one is not worth keeping.
    if (source.readyState === window.EventSource.CLOSED || errors >= MAX_ERRORS) {
      source.close();
      startPolling();
    }
  });
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();
