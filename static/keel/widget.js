// Keel chat widget loader: one <script> tag on the company's site.
//   <script src="https://keel.example/static/keel/widget.js" data-workspace="PUBLIC_KEY" defer></script>
// Optional, for logged-in customers: data-user-id and data-user-hash (hex HMAC-SHA256 of
// the id with the workspace's identity secret, computed on the site's server).
// The chat itself runs in an iframe served by Keel; this script only adds the launcher,
// keeps the visitor token in this site's own storage, and opens and closes the panel.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.workspace) return;
  var key = script.dataset.workspace;
  var keel = new URL(script.src, location.href).origin;
  var tokenKey = "keel:" + key + ":visitor";
  var openKey = "keel:" + key + ":open";
  var BUBBLE = '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z"/></svg>';

  function stored(storage, name) {
    try { return window[storage].getItem(name) || ""; } catch (error) { return ""; }
  }
  function store(storage, name, value) {
    try { window[storage].setItem(name, value); } catch (error) { /* storage disabled */ }
  }

  var host = document.createElement("div");
  host.setAttribute("data-keel-widget", "");
  var root = host.attachShadow({ mode: "open" });
  // A constructed style sheet, not a <style> element: a site whose Content-Security-Policy
  // forbids inline styles (Keel's own demo site among them) still shows the launcher.
  var styles = new CSSStyleSheet();
  styles.replaceSync(
    ":host{all:initial}" +
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;" +
    "border-radius:50%;border:0;background:#1d2420;color:#fff;font:600 28px/56px system-ui,sans-serif;display:flex;align-items:center;justify-content:center;" +
    "cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".launcher:focus-visible{outline:3px solid #fff;outline-offset:-6px}" +
    ".panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:380px;height:600px;" +
    "max-height:calc(100vh - 108px);border:0;border-radius:14px;background:#fff;" +
    "box-shadow:0 8px 30px rgba(0,0,0,.25)}" +
    ".panel[hidden]{display:none}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0}}"
  );
  root.adoptedStyleSheets = [styles];
  root.innerHTML =
    '<button class="launcher" type="button" aria-expanded="false" aria-controls="keel-panel" aria-label="Open chat">' + BUBBLE + "</button>" +
    '<iframe class="panel" id="keel-panel" title="Chat" hidden></iframe>';
  var launcher = root.querySelector(".launcher");
  var panel = root.querySelector(".panel");

  var fragment = new URLSearchParams({
    visitor: stored("localStorage", tokenKey),
    page_origin: location.origin,
    user_id: script.dataset.userId || "",
    user_hash: script.dataset.userHash || ""
  });
  panel.src = keel + "/widget/" + encodeURIComponent(key) + "/#" + fragment.toString();

  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.innerHTML = open ? "×" : BUBBLE;
    store("sessionStorage", openKey, open ? "1" : "");
    if (!moveFocus) return;
    if (open) {
      panel.focus();
      panel.contentWindow.postMessage({ type: "keel:opened" }, keel);
    } else {
      launcher.focus();
    }
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden, true); });

  window.addEventListener("message", function (event) {
    if (event.origin !== keel || event.source !== panel.contentWindow || !event.data) return;
    var data = event.data;
    if (data.type === "keel:visitor" && typeof data.token === "string") {
      store("localStorage", tokenKey, data.token);
    } else if (data.type === "keel:close") {
      setOpen(false, true);
    } else if (data.type === "keel:ready") {
      if (/^#[0-9a-fA-F]{6}$/.test(data.colour || "")) launcher.style.background = data.colour;
      if (data.name) {
        launcher.setAttribute("aria-label", "Chat with " + data.name);
        panel.title = "Chat with " + data.name;
      }
      // Reopened after a reload or a move to another page, without taking the focus.
      if (stored("sessionStorage", openKey)) setOpen(true, false);
    }
  });

  document.body.appendChild(host);
})();
