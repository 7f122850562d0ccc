// Share and copy, for the share block (giving/_share.html) and for secrets shown once in the
// dashboard (new API keys, invitation links). Everything works without this script: the
// link is selectable text and the network links are plain links. The script adds:
// - Copy buttons: <button data-copy-target="ID" hidden> copies the value (or text) of #ID,
//   says "Copied" on the button and in the live region #ID-status; without the clipboard API
//   (plain http, old browsers) it selects the text and tries the legacy copy command.
// - "Share…": <button data-share hidden>, shown only where the browser has navigator.share,
//   opens the phone's share sheet with the words the server wrote (data-share-* on .share).
(function () {
  "use strict";
  var RESET_MS = 4000;

  function statusFor(button, id) {
    var status = document.getElementById(id + "-status");
    if (!status) {
      status = document.createElement("p");
      status.id = id + "-status";
      status.className = "copy-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      button.parentNode.insertBefore(status, button.nextSibling);
    }
    return status;
  }

  function selectAll(field) {
    field.focus();
    if (typeof field.select === "function") {
      field.select();
      if (typeof field.setSelectionRange === "function") {
        field.setSelectionRange(0, field.value.length);
      }
    } else {
      var range = document.createRange();
      range.selectNodeContents(field);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  function legacyCopy(field) {
    selectAll(field);
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  function copy(field, text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () {
          return true;
        },
        function () {
          return legacyCopy(field);
        }
      );
    }
    return Promise.resolve(legacyCopy(field));
  }

  function setUpCopy(button) {
    var id = button.getAttribute("data-copy-target");
    var field = document.getElementById(id);
    if (!field) {
      return;
    }
    var label = button.textContent;
    // The page's language: the words come from data- attributes the server translated
    // (data-copied, data-copied-status, data-select-status), English when a page gives none.
    var copiedLabel = button.getAttribute("data-copied") || "Copied";
    var copiedStatus = button.getAttribute("data-copied-status") || "Copied to the clipboard.";
    var selectStatus =
      button.getAttribute("data-select-status") ||
      "Selected: press Ctrl+C (or long-press and choose Copy) to copy.";
    var timer = null;
    var status = statusFor(button, id);
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = "value" in field ? field.value : field.textContent;
      copy(field, text.trim()).then(function (copied) {
        window.clearTimeout(timer);
        if (copied) {
          button.textContent = copiedLabel;
          button.classList.add("copied");
          status.textContent = copiedStatus;
        } else {
          selectAll(field);
          status.textContent = selectStatus;
        }
        timer = window.setTimeout(function () {
          button.textContent = label;
          button.classList.remove("copied");
          status.textContent = "";
        }, RESET_MS);
      });
    });
  }

  function setUpShare(button) {
    var box = button.closest(".share");
    if (!box || typeof navigator.share !== "function") {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator
        .share({
          title: box.getAttribute("data-share-title"),
          text: box.getAttribute("data-share-text"),
          url: box.getAttribute("data-share-url"),
        })
        .catch(function () {
          // The donor closed the share sheet (AbortError): nothing to do.
        });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), setUpCopy);
  Array.prototype.forEach.call(document.querySelectorAll("[data-share]"), setUpShare);
})();
