// The donate form inside another site's page (giving/embed.html), talking to embed.js there:
// - tells the parent it loaded (goodloop:ready), so embed.js can tell a refused frame apart;
// - Escape inside the frame asks the parent to close its dialog (goodloop:close);
// - carries the parent page's address (return_to) into the form, for "Back to <site>" after
//   paying (the server keeps it only on an origin the campaign allows);
// - Stripe Checkout cannot run inside a frame, so the donor chooses where to pay: a new tab
//   (the host page stays as it was) or this page (the top window). Desktops default to a new
//   tab; phones to this page, because phone browsers hide tabs and in-app browsers often lose
//   or block new ones. The choice is remembered for the browser session.
(function () {
  "use strict";
  var main = document.getElementById("embed");
  var framed = window.parent !== window;
  var slug = main ? main.getAttribute("data-slug") : "";
  var KEY = "goodloop:pay-in";

  function tell(type) {
    // Nothing secret in these pings, so any parent may hear them; embed.js checks who sent them.
    if (framed) {
      window.parent.postMessage({ type: type, slug: slug }, "*");
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      tell("goodloop:close");
    }
  });

  var form = document.getElementById("donate-form");
  var returnTo = document.getElementById("return-to");
  if (returnTo) {
    returnTo.value = new URLSearchParams(window.location.search).get("return_to") || "";
  }
  var choice = document.getElementById("pay-in");
  if (form && choice && window.top !== window) {
    setUpChoice(form, choice);
  }
  tell("goodloop:ready");

  function remembered() {
    try {
      return window.sessionStorage.getItem(KEY);
    } catch (e) {
      return null; // storage refused (privacy settings): fall back to the device's default
    }
  }

  function remember(value) {
    try {
      window.sessionStorage.setItem(KEY, value);
    } catch (e) {
      // not remembered, nothing else lost
    }
  }

  function setUpChoice(form, choice) {
    var phone = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    var value = remembered() || (phone ? "top" : "tab");
    var tab = document.getElementById("pay-in-tab");
    var top = document.getElementById("pay-in-top");
    tab.checked = value === "tab";
    top.checked = !tab.checked;
    choice.hidden = false;
    choice.addEventListener("change", function () {
      remember(tab.checked ? "tab" : "top");
    });

    var elsewhere = document.getElementById("pay-elsewhere");
    var again = document.getElementById("pay-again");
    form.addEventListener("submit", function () {
      form.target = tab.checked ? "_blank" : "_top";
      if (!tab.checked || !elsewhere) {
        return;
      }
      // After the browser has taken the form's data: the form steps aside for the message.
      window.setTimeout(function () {
        form.hidden = true;
        elsewhere.hidden = false;
        elsewhere.focus();
      }, 0);
    });
    if (again && elsewhere) {
      again.addEventListener("click", function () {
        elsewhere.hidden = true;
        form.hidden = false;
        var button = form.querySelector("button[type=submit]");
        if (button) {
          button.focus();
        }
      });
    }
  }
})();
