// The chat panel inside the iframe. htmx's ws extension owns the socket; this file says
// hello on every (re)connection, relays the visitor token to the host page for keeping,
// and handles keyboard and focus.
(function () {
  "use strict";
  var params = new URLSearchParams(location.hash.slice(1));
  var pageOrigin = params.get("page_origin") || "";
  var visitor = params.get("visitor") || "";
  var embedded = window.parent !== window && pageOrigin;

  function toHost(message) {
    if (embedded) window.parent.postMessage(message, pageOrigin);
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    setNotice("");
    event.detail.socketWrapper.send(JSON.stringify({
      type: "hello",
      visitor: visitor,
      page_origin: pageOrigin || location.origin,
      user_id: params.get("user_id") || "",
      user_hash: params.get("user_hash") || ""
    }));
  });

  document.addEventListener("htmx:wsClose", function (event) {
    // 4013: the server said why in a notice, which stays (reconnect.js reconnects).
    if (event.detail.event.code !== 4013) setNotice("Connection lost. Reconnecting…");
  });

  document.addEventListener("htmx:wsAfterMessage", function () {
    clearAccepted();
    var session = document.getElementById("session");
    var token = session && session.dataset.visitor;
    if (token && token !== visitor) {
      visitor = token;
      toHost({ type: "keel:visitor", token: token });
    }
    var messages = document.getElementById("messages");
    messages.scrollTop = messages.scrollHeight;
    timesLocalise(messages);
    var status = document.getElementById("handoff-status");
    var box = document.getElementById("message");
    if (status && status.dataset.placeholder) box.placeholder = status.dataset.placeholder;
    var typing = document.getElementById("typing");
    if (typing && typing.dataset.clearAfter) {
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.textContent = ""; }, Number(typing.dataset.clearAfter));
    }
  });
  var typingTimer = null;

  // The box is cleared once Keel has stored the question, never on sending: a question
  // lost on the way stays in the box, to send again. Each question carries a number, which
  // Keel's acknowledgement (#accepted) names; the box is cleared if it still holds it.
  var sending = {};
  var sent = 0;
  document.addEventListener("htmx:wsConfigSend", function (event) {
    if (event.target.id !== "ask") return;
    sent += 1;
    event.detail.parameters.sent = String(sent);
    sending[sent] = event.detail.parameters.message;
  });

  function clearAccepted() {
    var accepted = document.getElementById("accepted");
    var number = accepted && accepted.dataset.sent;
    if (!number) return;
    var box = document.getElementById("message");
    if (number in sending && box.value === sending[number]) box.value = "";
    delete sending[number];
    delete accepted.dataset.sent;
  }

  // Times come in UTC from the server: shown here in the customer's own zone, the time
  // alone for today, with the day for older ones, and in full on hover.
  function timesLocalise(root) {
    var today = new Date().toDateString();
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (time) {
      var at = new Date(time.getAttribute("datetime"));
      if (isNaN(at)) return;
      var short = { hour: "2-digit", minute: "2-digit" };
      if (at.toDateString() !== today) { short.day = "numeric"; short.month = "short"; }
      time.textContent = at.toLocaleString([], short);
      time.title = at.toLocaleString([], { dateStyle: "full", timeStyle: "short" });
      time.dataset.local = "1";
    });
  }

  // Keel refuses a message over its limit; rather than cutting a paste short (as maxlength
  // would), the box keeps it all, counts near the limit, and above it says why it cannot
  // be sent (the browser's validity check then stops the form).
  function lengthCheck(box) {
    var limit = Number(box.dataset.maxChars);
    var length = box.value.length;
    var line = document.getElementById("message-limit");
    var over = length > limit;
    var message = "";
    if (over) {
      message = "Your message is " + length.toLocaleString() + " characters long; the limit is " +
        limit.toLocaleString() + ". Please shorten it before sending.";
      line.textContent = message;
    } else {
      line.textContent = length >= limit * 0.9 ? length.toLocaleString() + " / " + limit.toLocaleString() : "";
    }
    line.classList.toggle("chat__limit--over", over);
    box.setCustomValidity(message);
    box.setAttribute("aria-invalid", String(over));
  }

  // A cited source opens in a sheet over the conversation (not a new tab); Back or Esc
  // closes it and the focus goes back to the link that opened it.
  var sheetOpener = null;
  function sheetOpen(link) {
    var sheet = document.getElementById("sheet");
    fetch(link.href, { headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        sheet.innerHTML = html;
        sheetOpener = link;
        sheet.showModal();
        sheet.querySelector(".sheet__back").focus();
      })
      .catch(function () { setNotice("That source could not be opened. Please try again."); });
  }

  function setNotice(text) {
    var notice = document.getElementById("notice");
    if (notice) notice.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("message");
    var sheet = document.getElementById("sheet");
    timesLocalise(document);
    // On the document: the box and the messages are replaced by some of Keel's frames.
    document.addEventListener("input", function (event) {
      if (event.target.id === "message") lengthCheck(event.target);
    });
    lengthCheck(box);
    document.addEventListener("click", function (event) {
      var link = event.target.closest("#messages a.cite, #messages .sources a");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      sheetOpen(link);
    });
    sheet.addEventListener("close", function () {
      if (sheetOpener && sheetOpener.isConnected) sheetOpener.focus();
      sheetOpener = null;
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        box.form.requestSubmit();
      }
    });
    document.getElementById("close").addEventListener("click", function () {
      toHost({ type: "keel:close" });
    });
    document.addEventListener("keydown", function (event) {
      // Esc with the sheet open closes the sheet only (the dialog does it by itself).
      if (event.key === "Escape" && !sheet.open) toHost({ type: "keel:close" });
    });
    window.addEventListener("message", function (event) {
      if (event.origin === pageOrigin && event.data && event.data.type === "keel:opened") {
        box.focus();
      }
    });
    toHost({
      type: "keel:ready",
      colour: document.body.dataset.brandColour,
      name: document.body.dataset.assistantName
    });
  });
})();
