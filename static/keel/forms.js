// A form marked data-reset-after-send is emptied once htmx has sent it successfully (the
// upload form: the chosen files are gone once uploaded). Here rather than in hx-on, which
// htmx evaluates as code, and the Content-Security-Policy allows no evaluated code.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.successful && form.matches("form[data-reset-after-send]")) form.reset();
  });
})();
