// The agent console. htmx's ws extension owns the socket and swaps the pushed partials;
// this file says which conversation the page shows, tells the customer the agent is
// typing, keeps the waiting count in the tab title, refreshes the list when the queue
// changes, keeps the thread scrolled to the newest message, and handles the keyboard:
// j/k between conversations, / to the composer, Enter to send, /shortcut for canned
// replies, ? for the list of shortcuts; and it fires the browser notifications an agent
// chose of customers left waiting.
(function () {
  "use strict";
  var lastTyping = 0;
  var socket = null;

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

  function page() {
    return document.getElementById("console");
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    var watching = page() && page().dataset.watch;
    setNotice("");
    if (watching) {
      event.detail.socketWrapper.send(JSON.stringify({ type: "watch", conversation_id: watching, refresh: dropped }));
    }
    dropped = false;
    socket = event.detail.socketWrapper;
  });

  document.addEventListener("input", function (event) {
    if (event.target.id !== "reply-text") return;
    canned.update(event.target);
    if (!socket) return;
    var now = Date.now();
    if (now - lastTyping > 2000) {
      lastTyping = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });

  function title() {
    var queue = document.getElementById("queue");
    if (!queue || !page()) return;
    var waiting = Number(queue.dataset.waiting || 0);
    document.title = (waiting ? "(" + waiting + ") " : "") + page().dataset.title + " · Keel";
  }

  // The newest message in view: on opening, and whenever one arrives.
  function scrollThread() {
    var transcript = document.getElementById("transcript");
    if (transcript) transcript.scrollTop = transcript.scrollHeight;
  }

  // The open conversation's row, also in a list pushed or fetched since the page loaded.
  function markOpen() {
    rows().forEach(function (link) {
      if (link.pathname === window.location.pathname) link.setAttribute("aria-current", "page");
    });
  }
  document.addEventListener("htmx:afterSwap", markOpen);

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    title();
    markOpen();
    var html = String(event.detail.message || "");
    if (html.indexOf('id="queue"') !== -1) {
      // Unread counts and what each customer needs changed: this agent's list again (the
      // open conversation's page marks it read).
      var list = document.getElementById("conversation-list");
      if (list) htmx.trigger(list, "console:refresh");
    }
    if (html.indexOf("console-message-") !== -1 || html.indexOf('id="transcript"') !== -1) scrollThread();
  });
  document.addEventListener("DOMContentLoaded", function () {
    title();
    scrollThread();
  });

  // Canned replies: "/sho" at the caret lists the shortcuts starting with "sho".
  var canned = {
    items: [],
    chosen: 0,
    request: 0,
    list: function () {
      return document.getElementById("canned-list");
    },
    typed: function (box) {
      var before = box.value.slice(0, box.selectionStart);
      var found = /(^|\s)\/([a-z0-9-]*)$/i.exec(before);
      return found ? found[2] : null;
    },
    update: function (box) {
      var prefix = canned.typed(box);
      if (prefix === null) return canned.close();
      var number = ++canned.request;
      var url = page().dataset.cannedUrl + "?q=" + encodeURIComponent(prefix);
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { replies: [] }; })
        .then(function (data) {
          if (number === canned.request) canned.show(data.replies, box);
        })
        .catch(function () { canned.close(); });
    },
    show: function (replies, box) {
      var list = canned.list();
      canned.items = replies;
      canned.chosen = 0;
      list.replaceChildren();
      replies.forEach(function (reply, index) {
        var item = document.createElement("li");
        item.id = "canned-" + index;
        item.setAttribute("role", "option");
        var name = document.createElement("strong");
        name.textContent = "/" + reply.shortcut + " ";
        var body = document.createElement("small");
        body.textContent = reply.title;
        item.append(name, body);
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          canned.insert(box, index);
        });
        list.append(item);
      });
      list.hidden = replies.length === 0;
      canned.mark(box);
    },
    mark: function (box) {
      Array.prototype.forEach.call(canned.list().children, function (item, index) {
        item.setAttribute("aria-selected", index === canned.chosen ? "true" : "false");
      });
      if (canned.open()) box.setAttribute("aria-activedescendant", "canned-" + canned.chosen);
      else box.removeAttribute("aria-activedescendant");
    },
    open: function () {
      var list = canned.list();
      return Boolean(list && !list.hidden && canned.items.length);
    },
    close: function () {
      var list = canned.list();
      canned.request++;
      canned.items = [];
      if (list) {
        list.hidden = true;
        list.replaceChildren();
      }
      var box = document.getElementById("reply-text");
      if (box) box.removeAttribute("aria-activedescendant");
    },
    insert: function (box, index) {
      var reply = canned.items[index];
      var caret = box.selectionStart;
      var before = box.value.slice(0, caret).replace(/\/[a-z0-9-]*$/i, "");
      box.value = before + reply.body + box.value.slice(caret);
      var at = before.length + reply.body.length;
      box.setSelectionRange(at, at);
      canned.close();
      box.focus();
    },
  };

  function composerKeys(event) {
    var box = event.target;
    if (canned.open()) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        canned.chosen = (canned.chosen + step + canned.items.length) % canned.items.length;
        canned.mark(box);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        canned.insert(box, canned.chosen);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        canned.close();
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (box.value.trim()) box.form.requestSubmit();
    }
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function rows() {
    // The list shown: the queue, or this agent's list under another filter.
    var shown = document.querySelector(".console__list .console__rows:not([hidden] *)");
    return shown ? Array.prototype.slice.call(shown.querySelectorAll(".console-row a")) : [];
  }

  function move(step) {
    var links = rows();
    if (!links.length) return;
    var at = links.indexOf(document.activeElement);
    if (at === -1) at = links.findIndex(function (link) { return link.getAttribute("aria-current") === "page"; });
    var next = at === -1 ? (step > 0 ? 0 : links.length - 1) : Math.min(Math.max(at + step, 0), links.length - 1);
    links[next].focus();
  }

  function help(show) {
    var popover = document.getElementById("console-help");
    var button = document.querySelector(".console__help-button");
    if (!popover) return;
    popover.hidden = show === undefined ? !popover.hidden : !show;
    if (button) button.setAttribute("aria-expanded", String(!popover.hidden));
    if (!popover.hidden) popover.querySelector("[data-close-help]").focus();
    else if (button) button.focus();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest(".console__help-button")) help();
    else if (event.target.closest("[data-close-help]")) help(false);
  });

  document.addEventListener("keydown", function (event) {
    if (!page()) return;
    if (event.target.id === "reply-text") return composerKeys(event);
    if (event.key === "Escape") {
      var popover = document.getElementById("console-help");
      if (popover && !popover.hidden) help(false);
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey) return;
    var down = event.key === "j" || (event.altKey && event.key === "ArrowDown");
    var up = event.key === "k" || (event.altKey && event.key === "ArrowUp");
    if (event.altKey && !down && !up) return;
    if (down || up) {
      event.preventDefault();
      move(down ? 1 : -1);
    } else if (event.key === "/") {
      var box = document.getElementById("reply-text");
      if (box) {
        event.preventDefault();
        box.focus();
      }
    } else if (event.key === "?") {
      event.preventDefault();
      help();
    }
  });
  // Browser notifications, for an agent who chose them: a customer in the queue for the
  // chosen minutes while this console is in a background tab is announced once per wait
  // (its row's link and waiting-since time, remembered for the tab's session). Checked
  // when the queue is pushed, when the tab is left and every 20 seconds, since a wait
  // growing long changes nothing on the page.
  function announceWaits() {
    var minutes = Number(page() && page().dataset.notifyAfterMinutes);
    if (!minutes || !document.hidden || !("Notification" in window)) return;
    if (Notification.permission !== "granted") return;
    var due = Date.now() - minutes * 60000;
    document.querySelectorAll("#queue .console-row a").forEach(function (link) {
      var since = link.querySelector("time").getAttribute("datetime");
      var key = "keel-announced " + link.pathname + " " + since;
      if (Date.parse(since) > due || sessionStorage.getItem(key)) return;
      sessionStorage.setItem(key, "1");
      var name = link.querySelector(".console-row__name").textContent;
      var shown = new Notification(name + " is waiting", {
        body: link.querySelector(".console-row__need").textContent,
        tag: key,
      });
      shown.onclick = function () {
        window.focus();
        window.location.href = link.href;
        shown.close();
      };
    });
  }
  document.addEventListener("htmx:wsAfterMessage", announceWaits);
  document.addEventListener("visibilitychange", announceWaits);
  setInterval(announceWaits, 20000);
})();
