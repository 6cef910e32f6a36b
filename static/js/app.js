// Small behaviours that cannot be declared in HTML: theme switch and the phone menu.
(function () {
  "use strict";
  var root = document.documentElement;
  var saved = localStorage.getItem("loraface-theme");
  if (saved === "dark" || saved === "light") root.setAttribute("data-theme", saved);

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".theme-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var dark = root.getAttribute("data-theme") === "dark" ||
          (!root.getAttribute("data-theme") && window.matchMedia("(prefers-color-scheme: dark)").matches);
        var next = dark ? "light" : "dark";
        root.setAttribute("data-theme", next);
        localStorage.setItem("loraface-theme", next);
      });
    }
    var navToggle = document.querySelector(".nav-toggle");
    var links = document.getElementById("nav-links");
    if (navToggle && links) {
      navToggle.addEventListener("click", function () {
        var open = links.classList.toggle("open");
        navToggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
  });
})();

// Lesson tools answer bad values with 400 and a message in their result: show it, do not drop it.
document.addEventListener("htmx:beforeSwap", function (event) {
  var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (event.detail.xhr.status === 400 && elt && elt.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
