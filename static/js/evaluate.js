// Use and evaluate: live strength label and webui snippet, seed re-roll, copy to clipboard.
// Delegated from the document so it also works on panels htmx swaps in later.
(function () {
  "use strict";

  document.addEventListener("input", function (event) {
    var slider = event.target.closest("[data-strength]");
    if (!slider) return;
    var form = slider.closest("form");
    var card = slider.closest("section") || document;
    var value = String(parseFloat(slider.value));
    form.querySelectorAll("[data-strength-out]").forEach(function (el) { el.textContent = value; });
    card.querySelectorAll("[data-webui-strength]").forEach(function (el) { el.textContent = value; });
  });

  document.addEventListener("click", function (event) {
    var reroll = event.target.closest("[data-reroll]");
    if (reroll) {
      var seed = reroll.closest("form").querySelector("input[name=seed]");
      var values = new Uint32Array(1);
      window.crypto.getRandomValues(values);
      seed.value = String(values[0] % 2147483647);
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var scope = copy.closest("p, section, figcaption") || document;
      var source = scope.querySelector(copy.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        copy.textContent = "Copied";
        window.setTimeout(function () { copy.textContent = "Copy"; }, 1500);
      });
    }
  });
})();
