// The staff shell's few behaviours, here rather than inline (the Content-Security-Policy
// allows no inline or evaluated script): the phone menu, closing a toast, and the confirm
// dialog (templates/components/confirm.html) in place of the browser's confirm() for
// every hx-confirm, and the browser's permission for Keel's notifications.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var menu = event.target.closest("[data-menu]");
    if (menu) {
      var open = menu.getAttribute("aria-expanded") !== "true";
      menu.setAttribute("aria-expanded", String(open));
      document.getElementById(menu.getAttribute("aria-controls")).dataset.open = String(open);
      return;
    }
    var close = event.target.closest("[data-dismiss-toast]");
    if (close) close.closest(".toast").remove();
  });

  // Asks `question` in the dialog; `proceed` runs only if the user confirms. The confirm
  // button takes the look of the button that asked (a red one for a deletion).
  function ask(question, asker, proceed) {
    var dialog = document.getElementById("confirm");
    var confirmButton = dialog.querySelector("[data-confirm-button]");
    var danger = asker && asker.closest(".danger, .button--danger, [data-confirm-danger]");
    confirmButton.className = "button " + (danger ? "button--danger" : "button--primary");
    confirmButton.textContent = (asker && asker.dataset.confirmLabel) || "Confirm";
    dialog.querySelector(".confirm__question").textContent = question;
    dialog.returnValue = "";
    dialog.addEventListener("close", function answered() {
      dialog.removeEventListener("close", answered);
      if (dialog.returnValue === "confirm") proceed();
    });
    dialog.showModal();
  }

  // htmx asks before any request whose element (or an ancestor) has hx-confirm.
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.question) return;
    event.preventDefault();
    var asker = event.detail.elt.querySelector("[type=submit]") || event.detail.elt;
    ask(event.detail.question, asker, function () { event.detail.issueRequest(true); });
  });
  // Browser notifications need the browser's leave, asked when the agent ticks the box (a
  // click: browsers ask for one); what the browser says is shown beside it.
  function notificationPermissionShown() {
    var note = document.getElementById("browser-permission");
    if (!note) return;
    if (!("Notification" in window)) note.textContent = "This browser cannot show notifications.";
    else if (Notification.permission === "denied")
      note.textContent = "This browser blocks Keel's notifications: allow them in its site settings.";
    else if (Notification.permission === "default")
      note.textContent = "Your browser will ask whether Keel may show notifications.";
    else note.textContent = "This browser shows Keel's notifications.";
  }
  document.addEventListener("change", function (event) {
    if (event.target.name !== "in_browser" || !event.target.checked) return;
    if ("Notification" in window && Notification.permission === "default")
      Notification.requestPermission().then(notificationPermissionShown);
  });
  document.addEventListener("DOMContentLoaded", notificationPermissionShown);
})();
