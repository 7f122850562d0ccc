// The leaderboard's two lists (people, teams) as tabs (giving/_fundraisers.html). Without this
// script both lists show one after the other with their own headings; with it, a tab list
// switches between them (WAI-ARIA tabs: arrow keys move between tabs, Tab leaves the list).
(function () {
  "use strict";

  function setUp(board) {
    var tablist = board.querySelector("[role=tablist]");
    var tabs = Array.prototype.slice.call(board.querySelectorAll("[role=tab]"));
    if (!tablist || tabs.length < 2) {
      return;
    }
    function select(chosen, focus) {
      tabs.forEach(function (tab) {
        var on = tab === chosen;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        var panel = document.getElementById(tab.getAttribute("aria-controls"));
        if (panel) {
          panel.hidden = !on;
        }
      });
      if (focus) {
        chosen.focus();
      }
    }
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () {
        select(tab, false);
      });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") {
          next = tabs[(index + 1) % tabs.length];
        } else if (event.key === "ArrowLeft") {
          next = tabs[(index - 1 + tabs.length) % tabs.length];
        } else if (event.key === "Home") {
          next = tabs[0];
        } else if (event.key === "End") {
          next = tabs[tabs.length - 1];
        }
        if (next) {
          event.preventDefault();
          select(next, true);
        }
      });
    });
    // The panels' own headings repeat the tabs' names; the tabs label them now.
    board.querySelectorAll(".board-heading").forEach(function (heading) {
      heading.classList.add("board-heading-tabbed");
    });
    tabs.forEach(function (tab) {
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) {
        panel.setAttribute("aria-labelledby", tab.id);
      }
    });
    tablist.hidden = false;
    select(tabs[0], false);
  }

  document.querySelectorAll("[data-board]").forEach(setUp);
})();
