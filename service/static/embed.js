// Goodloop donate buttons for any website:
//   <script src="https://goodloop.example/embed.js" defer></script>
//   <a href="https://goodloop.example/c/SLUG" data-goodloop="SLUG">Donate</a>
// Each link becomes a button that opens the campaign's donate form in a modal iframe. The
// link keeps pointing at the full campaign page, so it still works if the script or the
// frame cannot load (and the frame is only allowed on origins the campaign lists).
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var openModal = null;

  function close() {
    if (openModal) {
      openModal.remove();
      openModal = null;
      document.removeEventListener("keydown", onKey);
    }
  }

  function onKey(event) {
    if (event.key === "Escape") {
      close();
    }
  }

  function open(slug, title) {
    close();
    var overlay = document.createElement("div");
    overlay.setAttribute("data-goodloop-modal", slug);
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", title || "Donate");
    var s = overlay.style;
    s.position = "fixed";
    s.inset = "0";
    s.background = "rgba(17, 24, 39, 0.6)";
    s.display = "flex";
    s.alignItems = "center";
    s.justifyContent = "center";
    s.zIndex = "2147483647";
    overlay.addEventListener("click", function (event) {
      if (event.target === overlay) {
        close();
      }
    });

    var panel = document.createElement("div");
    var p = panel.style;
    p.position = "relative";
    p.width = "min(28rem, 96vw)";
    p.height = "min(44rem, 92vh)";
    p.background = "#fff";
    p.borderRadius = "10px";
    p.overflow = "hidden";

    var frame = document.createElement("iframe");
    frame.src = base + "/embed/" + encodeURIComponent(slug);
    frame.title = title || "Donate";
    var f = frame.style;
    f.width = "100%";
    f.height = "100%";
    f.border = "0";

    var shut = document.createElement("button");
    shut.type = "button";
    shut.textContent = "\u00d7";
    shut.setAttribute("aria-label", "Close");
    var b = shut.style;
    b.position = "absolute";
    b.top = "4px";
    b.right = "8px";
    b.font = "24px/1 system-ui, sans-serif";
    b.background = "transparent";
    b.border = "0";
    b.cursor = "pointer";
    shut.addEventListener("click", close);

    var fallback = document.createElement("a");
    fallback.href = base + "/c/" + encodeURIComponent(slug);
    fallback.target = "_blank";
    fallback.rel = "noopener";
    fallback.textContent = "Open the donation page";
    var l = fallback.style;
    l.position = "absolute";
    l.bottom = "6px";
    l.left = "10px";
    l.font = "13px system-ui, sans-serif";

    panel.appendChild(frame);
    panel.appendChild(shut);
    panel.appendChild(fallback);
    overlay.appendChild(panel);
    document.body.appendChild(overlay);
    document.addEventListener("keydown", onKey);
    shut.focus();
    openModal = overlay;
  }

  function enhance(link) {
    var slug = link.getAttribute("data-goodloop");
    if (!slug || link.getAttribute("data-goodloop-ready")) {
      return;
    }
    link.setAttribute("data-goodloop-ready", "1");
    if (!link.getAttribute("href")) {
      link.href = base + "/c/" + encodeURIComponent(slug);
    }
    link.setAttribute("role", "button");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      open(slug, link.textContent.trim());
    });
  }

  function run() {
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
