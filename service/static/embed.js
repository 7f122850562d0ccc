// Goodloop donate buttons for any website:
//
//   <script src="https://goodloop.example/embed.js" defer></script>
//   <a href="https://goodloop.example/c/SLUG" data-goodloop="SLUG">Donate</a>
//
// Each such link becomes a button that opens the campaign's donate form in a dialog (an iframe
// of /embed/SLUG). The link keeps pointing at the full campaign page, so it still works if this
// script or the frame cannot load. Optional attributes on the link:
//
//   data-goodloop-color  the button's colour: #rgb or #rrggbb (anything else is ignored and the
//                        Goodloop green is used); the text is white or near-black, whichever
//                        contrasts more with it
//   data-goodloop-label  the button's text (default: the link's own text, else "Donate")
//   data-goodloop-size   small, medium (default) or large
//
// The form speaks the host page's language: `data-goodloop-lang="nl"` (or "en") on the script
// tag, else the page's own <html lang>, when it is one Goodloop speaks; otherwise the frame
// follows the visitor's browser. This script's own few words follow the same choice.
//
// The form may only be framed on the sites the campaign lists (its allowed embed origins). On
// any other site the dialog says so and links to the campaign page instead of showing a broken
// frame: the script asks /embed/SLUG/origins before it builds the frame, and a frame that does
// not say it is ready (goodloop:ready) within a few seconds is replaced by the same message.
// Donors pay on Stripe in a new tab or in this window (their choice, inside the form); after
// paying, the thank-you page links back to this page when its origin is an allowed one.
// No dependencies, no cookies, no inline styles or scripts: it works under a strict CSP.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var READY_TIMEOUT_MS = 5000;
  var COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
  var GREEN = "#0b7a5a";
  var DARK = "#111827";
  var SIZES = { small: ["14px", "6px 12px"], medium: ["16px", "10px 18px"], large: ["19px", "14px 26px"] };
  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var SANDBOX = [
    "allow-scripts",
    "allow-same-origin",
    "allow-forms",
    "allow-popups",
    "allow-popups-to-escape-sandbox", // the new tab is Stripe's page, not a sandboxed one
    "allow-top-navigation-by-user-activation"
  ].join(" ");
  var origins = {};
  var current = null;
  var WORDS = {
    en: {
      donate: "Donate",
      refused: "This donation form can't be shown on this site.",
      instead: "Give on the campaign page instead",
      close: "Close",
      open: "Open the donation page"
    },
    nl: {
      donate: "Doneer",
      refused: "Dit donatieformulier kan op deze site niet worden getoond.",
      instead: "Geef in plaats daarvan op de campagnepagina",
      close: "Sluiten",
      open: "Open de donatiepagina"
    }
  };

  function spoken(value) {
    var primary = (value || "").trim().slice(0, 2).toLowerCase();
    return Object.prototype.hasOwnProperty.call(WORDS, primary) ? primary : "";
  }

  var LANG = spoken(script && script.getAttribute("data-goodloop-lang")) || spoken(document.documentElement.lang);
  var words = WORDS[LANG || spoken(navigator.language) || "en"];

  function withLanguage(url) {
    if (!LANG) {
      return url;
    }
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "lang=" + LANG;
  }

  function campaignUrl(slug) {
    return withLanguage(base + "/c/" + encodeURIComponent(slug));
  }

  function allowedOrigins(slug) {
    // One question per campaign and page; null when it cannot be answered (the host's own CSP
    // may forbid fetch), and then the frame's ready ping decides.
    if (!window.fetch) {
      return Promise.resolve(null);
    }
    if (!Object.prototype.hasOwnProperty.call(origins, slug)) {
      origins[slug] = window
        .fetch(base + "/embed/" + encodeURIComponent(slug) + "/origins", { credentials: "omit" })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (body) {
          return body && body.allowed_origins ? body.allowed_origins : null;
        })
        .catch(function () {
          return null;
        });
    }
    return origins[slug];
  }

  function luminance(hex) {
    var h = hex.slice(1);
    if (h.length === 3) {
      h = h[0] + h[0] + h[1] + h[1] + h[2] + h[2];
    }
    var rgb = [0, 2, 4].map(function (i) {
      var c = parseInt(h.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }

  function textOn(hex) {
    var l = luminance(hex);
    var onWhite = 1.05 / (l + 0.05);
    var onDark = (l + 0.05) / (luminance(DARK) + 0.05);
    return onWhite >= onDark ? "#ffffff" : DARK;
  }

  function css(element, rules) {
    for (var name in rules) {
      if (Object.prototype.hasOwnProperty.call(rules, name)) {
        element.style[name] = rules[name];
      }
    }
  }

  function styleButton(link) {
    var color = link.getAttribute("data-goodloop-color") || "";
    color = COLOR.test(color) ? color : GREEN;
    var sizeName = link.getAttribute("data-goodloop-size");
    var size = Object.prototype.hasOwnProperty.call(SIZES, sizeName) ? SIZES[sizeName] : SIZES.medium;
    var label = (link.getAttribute("data-goodloop-label") || "").trim();
    if (label) {
      link.textContent = label;
    } else if (!link.textContent.trim()) {
      link.textContent = words.donate;
    }
    css(link, {
      display: "inline-block",
      boxSizing: "border-box",
      minHeight: "24px",
      background: color,
      color: textOn(color),
      font: "600 " + size[0] + "/1.25 " + FONT,
      padding: size[1],
      border: "1px solid rgba(0, 0, 0, 0.15)",
      borderRadius: "8px",
      textDecoration: "none",
      cursor: "pointer"
    });
    // A ring that shows on light and dark pages alike: dark outline around a white gap.
    link.addEventListener("focus", function () {
      var visible = true;
      try {
        visible = link.matches(":focus-visible");
      } catch (e) {
        // older browsers: always show it
      }
      if (visible) {
        css(link, { outline: "3px solid " + DARK, outlineOffset: "2px", boxShadow: "0 0 0 2px #ffffff" });
      }
    });
    link.addEventListener("blur", function () {
      css(link, { outline: "", outlineOffset: "", boxShadow: "" });
    });
  }

  function element(tag, rules, text) {
    var made = document.createElement(tag);
    css(made, rules || {});
    if (text) {
      made.textContent = text;
    }
    return made;
  }

  function refusedMessage(slug) {
    var box = element("div", { padding: "24px 20px", font: "16px/1.5 " + FONT, color: DARK });
    box.setAttribute("role", "alert");
    box.setAttribute("data-goodloop-refused", slug);
    box.appendChild(element("p", { margin: "0 0 12px" }, words.refused));
    var link = element(
      "a",
      {
        display: "inline-block",
        padding: "12px 18px",
        borderRadius: "8px",
        background: GREEN,
        color: "#ffffff",
        fontWeight: "600",
        textAlign: "center",
        textDecoration: "none"
      },
      words.instead
    );
    link.href = campaignUrl(slug);
    link.target = "_blank";
    link.rel = "noopener";
    var p = element("p", { margin: "0" });
    p.appendChild(link);
    box.appendChild(p);
    return box;
  }

  function showRefused(state) {
    if (state.frame) {
      state.frame.style.display = "none";
    }
    state.footer.style.display = "none";
    css(state.panel, { height: "auto", width: "min(28rem, 92vw)", borderRadius: "12px" }); // a card, not a sheet
    if (!state.message) {
      state.message = refusedMessage(state.slug);
      state.body.appendChild(state.message);
    }
  }

  function showFrame(state) {
    state.overlay.setAttribute("aria-busy", "false");
    if (state.message) {
      state.message.remove();
      state.message = null;
    }
    state.frame.style.display = "block";
    state.footer.style.display = "block";
    css(state.panel, state.size);
  }

  function addFrame(state) {
    var frame = element("iframe", { display: "block", width: "100%", height: "100%", border: "0" });
    var here = window.location.href.split("#")[0];
    frame.src = withLanguage(
      base + "/embed/" + encodeURIComponent(state.slug) + "?return_to=" + encodeURIComponent(here)
    );
    frame.title = state.title;
    frame.setAttribute("sandbox", SANDBOX);
    state.frame = frame;
    state.body.appendChild(frame);
    state.timer = window.setTimeout(function () {
      if (!state.ready) {
        showRefused(state); // the browser refused the frame, or it is far too slow to be of use
      }
    }, READY_TIMEOUT_MS);
  }

  function onMessage(event) {
    var state = current;
    if (!state || !state.frame || event.origin !== base || event.source !== state.frame.contentWindow) {
      return;
    }
    var type = event.data && event.data.type;
    if (type === "goodloop:ready") {
      state.ready = true;
      window.clearTimeout(state.timer);
      showFrame(state); // also when it arrives after the timeout: a slow frame, not a refused one
    } else if (type === "goodloop:close") {
      close();
    }
  }

  function focusables(state) {
    var all = [state.shut, state.frame, state.message && state.message.querySelector("a"), state.fallback];
    return all.filter(function (el) {
      return el && el.isConnected && el.offsetParent !== null;
    });
  }

  function onKey(event) {
    var state = current;
    if (!state) {
      return;
    }
    if (event.key === "Escape") {
      close();
    } else if (event.key === "Tab") {
      // Keep focus inside the dialog (aria-modal), wrapping at both ends.
      var list = focusables(state);
      var first = list[0];
      var last = list[list.length - 1];
      var active = document.activeElement;
      if (!state.overlay.contains(active) || (event.shiftKey ? active === first : active === last)) {
        event.preventDefault();
        (event.shiftKey ? last : first).focus();
      }
    }
  }

  function close() {
    var state = current;
    if (!state) {
      return;
    }
    current = null;
    window.clearTimeout(state.timer);
    state.overlay.remove();
    document.removeEventListener("keydown", onKey, true);
    document.documentElement.style.overflow = state.overflow;
    state.opener.focus(); // back to the button that opened the dialog
  }

  function open(link, slug) {
    close();
    var title = link.textContent.trim() || words.donate;
    var phone = window.innerWidth < 480;
    var overlay = element("div", {
      position: "fixed",
      inset: "0",
      background: "rgba(17, 24, 39, 0.6)",
      display: "flex",
      alignItems: "center",
      justifyContent: "center",
      zIndex: "2147483647"
    });
    overlay.setAttribute("data-goodloop-modal", slug);
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", title);
    // Busy until the form inside says it is ready (goodloop:ready): assistive technology waits
    // rather than reading an empty frame.
    overlay.setAttribute("aria-busy", "true");
    // Phones get the whole screen for the form, larger screens a centred panel.
    var size = phone
      ? { width: "100%", height: "100%", borderRadius: "0" }
      : { width: "min(28rem, 96vw)", height: "min(44rem, 92vh)", borderRadius: "12px" };
    var panel = element("div", {
      display: "flex",
      flexDirection: "column",
      background: "#ffffff",
      overflow: "hidden",
      boxShadow: "0 10px 40px rgba(0, 0, 0, 0.35)"
    });
    css(panel, size);
    var header = element("div", {
      display: "flex",
      alignItems: "center",
      justifyContent: "space-between",
      padding: "4px 4px 4px 16px",
      borderBottom: "1px solid #d9dee7",
      font: "600 15px/1.3 " + FONT,
      color: DARK
    });
    header.appendChild(element("span", {}, title));
    var shut = element(
      "button",
      { font: "28px/1 " + FONT, width: "44px", height: "44px", background: "transparent", border: "0", color: DARK, cursor: "pointer" },
      "\u00d7"
    );
    shut.type = "button";
    shut.setAttribute("aria-label", words.close);
    shut.addEventListener("click", close);
    header.appendChild(shut);
    var body = element("div", { flex: "1 1 auto", minHeight: "0" });
    var footer = element("div", { padding: "8px 16px", borderTop: "1px solid #d9dee7", font: "14px/1.4 " + FONT });
    var fallback = element("a", { color: "#0b6b4f" }, words.open);
    fallback.href = campaignUrl(slug);
    fallback.target = "_blank";
    fallback.rel = "noopener";
    footer.appendChild(fallback);
    panel.appendChild(header);
    panel.appendChild(body);
    panel.appendChild(footer);
    overlay.appendChild(panel);
    overlay.addEventListener("click", function (event) {
      if (event.target === overlay) {
        close();
      }
    });

    var state = {
      slug: slug,
      title: title,
      opener: link,
      overlay: overlay,
      panel: panel,
      size: size,
      body: body,
      footer: footer,
      shut: shut,
      fallback: fallback,
      frame: null,
      message: null,
      ready: false,
      timer: 0,
      overflow: document.documentElement.style.overflow
    };
    current = state;
    document.body.appendChild(overlay);
    document.documentElement.style.overflow = "hidden";
    document.addEventListener("keydown", onKey, true);
    shut.focus();

    allowedOrigins(slug).then(function (list) {
      if (current !== state) {
        return; // closed meanwhile
      }
      if (list && list.indexOf(window.location.origin) === -1) {
        showRefused(state); // no frame at all: the browser would refuse it
      } else {
        addFrame(state);
      }
    });
  }

  function enhance(link) {
    var slug = link.getAttribute("data-goodloop");
    if (!slug || link.getAttribute("data-goodloop-ready")) {
      return;
    }
    link.setAttribute("data-goodloop-ready", "1");
    if (!link.getAttribute("href")) {
      link.href = campaignUrl(slug);
    }
    link.setAttribute("role", "button");
    link.setAttribute("aria-haspopup", "dialog");
    styleButton(link);
    link.addEventListener("click", function (event) {
      event.preventDefault();
      open(link, slug);
    });
    link.addEventListener("keydown", function (event) {
      // A link answers Enter by itself; a button also answers Space.
      if (event.key === " ") {
        event.preventDefault();
        open(link, slug);
      }
    });
    allowedOrigins(slug); // ask early, so the dialog opens without waiting
  }

  function run() {
    window.addEventListener("message", onMessage);
    var links = document.querySelectorAll("a[data-goodloop]");
    for (var i = 0; i < links.length; i += 1) {
      enhance(links[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
