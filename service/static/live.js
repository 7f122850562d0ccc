// Live progress on the campaign page: the numbers and the wall of support follow new gifts
// without a reload. Listens to the page's Server-Sent Events stream (data-live-url); without
// EventSource, or when the stream keeps failing (the server may be full and answer 503), it
// polls the public summary (data-summary-url) every 15 seconds instead. The server sends every
// text ready to show (amounts already formatted), so nothing here formats money; new entries
// are built with textContent only, never from HTML. The article's data-live-state says which
// way it is following ("open" or "polling").
//
// Languages: every event and the summary carry `texts` per language ({"nl": {...}, "en": {...}});
// the page takes those of its own <html lang>. Screen readers: the numbers change silently; one
// short sentence (announce_text, "€ 1.250,00 opgehaald van € 5.000,00") goes to the polite live
// region #progress-announce, at most once every ANNOUNCE_MS, so a busy campaign is not chatty.
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
  var lang = document.documentElement.getAttribute("lang") || "en";
  var ANNOUNCE_MS = 30000;
  var lastAnnounced = 0;
  var pendingAnnouncement = null;
  var announceTimer = 0;

  function inLanguage(payload) {
    // The texts of the page's language, else the payload's own (English) ones.
    var texts = payload && payload.texts;
    return texts && texts[lang] ? texts[lang] : payload;
  }

  function announce(text) {
    var region = document.getElementById("progress-announce");
    if (!region || typeof text !== "string") {
      return;
    }
    pendingAnnouncement = text;
    var wait = lastAnnounced + ANNOUNCE_MS - Date.now();
    if (announceTimer) {
      return; // the latest sentence goes out when the quiet time is over
    }
    announceTimer = window.setTimeout(function () {
      announceTimer = 0;
      lastAnnounced = Date.now();
      if (region.textContent !== pendingAnnouncement) {
        region.textContent = pendingAnnouncement;
      }
    }, Math.max(wait, 0));
  }

  function setText(id, text) {
    var element = document.getElementById(id);
    if (element && typeof text === "string" && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function applyProgress(progress) {
    var texts = inLanguage(progress);
    var total = document.getElementById("total");
    var moved = !!total && typeof texts.total_text === "string" && total.textContent !== texts.total_text;
    setText("raised", texts.raised_text);
    setText("matched", texts.matched_text);
    setText("total", texts.total_text);
    setText("percent", texts.percent_text);
    setText("donor-count", texts.donors_text);
    var bar = document.getElementById("progress-bar");
    if (bar && typeof progress.goal_minor === "number" && typeof progress.total_minor === "number") {
      var percentText = typeof texts.percent_text === "string" ? texts.percent_text : progress.percent + "%";
      var label = bar.getAttribute("data-label") || "%(percent)s of the goal raised";
      bar.max = progress.goal_minor;
      bar.value = Math.min(progress.total_minor, progress.goal_minor);
      bar.textContent = percentText;
      bar.setAttribute("aria-label", label.replace("%(percent)s", percentText));
    }
    if (moved) {
      announce(texts.announce_text);
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
    var texts = supporter.texts && supporter.texts[lang];
    var line = element("p", "supporter-line");
    line.appendChild(element("strong", "supporter-name", texts ? texts.name : supporter.name));
    var amount = texts ? texts.amount_text : supporter.amount_text && "gave " + supporter.amount_text;
    if (amount) {
      line.appendChild(document.createTextNode(" "));
      line.appendChild(element("span", "supporter-amount", amount));
    }
    var when = texts ? texts.when_text : supporter.when_text;
    if (when) {
      line.appendChild(document.createTextNode(" "));
      line.appendChild(element("span", "hint", "· " + when));
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
