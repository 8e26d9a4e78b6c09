// The agent console. htmx's ws extension owns the socket and swaps the pushed partials;
// this file says which conversation the page shows, tells the customer the agent is
// typing, and keeps the waiting count in the tab title.
(function () {
  "use strict";
  var lastTyping = 0;

  // After a lost connection the queue comes back by itself (it is pushed on every
  // connection), and the conversation's transcript and status are asked for again.
  var dropped = false;
  document.addEventListener("htmx:wsClose", function () {
    dropped = true;  // after 4013, reconnect.js reconnects
    setNotice("Live updates stopped: the connection was lost. Reconnecting…");
  });

  function setNotice(text) {
    var notice = document.getElementById("console-notice");
    if (notice) notice.textContent = text;
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    var page = document.getElementById("console");
    var watching = page && page.dataset.watch;
    setNotice("");
    if (watching) {
      event.detail.socketWrapper.send(JSON.stringify({ type: "watch", conversation_id: watching, refresh: dropped }));
    }
    dropped = false;
    socket = event.detail.socketWrapper;
  });
  var socket = null;

  document.addEventListener("input", function (event) {
    if (!socket || event.target.id !== "reply-text") return;
    var now = Date.now();
    if (now - lastTyping > 2000) {
      lastTyping = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });

  function title() {
    var queue = document.getElementById("queue");
    var page = document.getElementById("console");
    if (!queue || !page) return;
    var waiting = Number(queue.dataset.waiting || 0);
    document.title = (waiting ? "(" + waiting + ") " : "") + page.dataset.title + " · Keel";
  }
  document.addEventListener("htmx:wsAfterMessage", title);
  document.addEventListener("DOMContentLoaded", title);
})();
