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

  function setNotice(text) {
    var notice = document.getElementById("notice");
    if (notice) notice.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("message");
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
      if (event.key === "Escape") toHost({ type: "keel:close" });
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
