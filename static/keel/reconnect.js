// Keel closes a socket with 4013, its own "try again later" (daphne cannot send RFC 6455's
// 1013), when the server has lost Redis for a moment; a notice on the page says so.
// htmx's ws extension reconnects by itself only after 1006 and 1011-1013, so this file
// reconnects after 4013, waiting longer each time (full jitter, at most 64 s) until a
// connection gets further than the server's notice.
//
// After a reconnect the page reads the conversation again (the widget's history, the
// console's transcript), and a message in that read can still be pushed after it: its
// push leaves once its write commits, which may come after the read. Such a late
// "append" of a message already on the page is skipped, so it shows once.
(function () {
  "use strict";
  var failures = 0;
  var received = 0;

  document.addEventListener("htmx:wsOpen", function () { received = 0; });
  document.addEventListener("htmx:wsAfterMessage", function () { received += 1; });
  document.addEventListener("htmx:wsClose", function (event) {
    if (event.detail.event.code !== 4013) return;
    if (received > 1) failures = 0;  // it worked for a while: start again from a short wait
    var wait = 1000 * Math.pow(2, Math.min(failures, 6)) * Math.random();
    failures += 1;
    setTimeout(event.detail.socketWrapper.reconnect, wait);
  });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var items = event.detail.fragment.children;
    if (items.length !== 1 || !items[0].id) return;
    var shown = document.getElementById(items[0].id);
    // A replacement targets the shown element itself; an append targets its list.
    if (shown && shown !== event.detail.target) event.detail.shouldSwap = false;
  });
})();
