// A placeholder until the console's front end (its own build) replaces it: the live feed of
// /v1/stream, read with the session cookie. EventSource reconnects on its own and sends the
// last id back (Last-Event-ID); a 401 (the session ended) sends the person to the login page.
"use strict";
(function () {
  const feed = document.getElementById("feed");
  const state = document.getElementById("feed-state");
  if (!feed || !state) return;
  const source = new EventSource("/v1/stream?types=alarm.*,shipment.*,hold.*");
  source.onopen = function () { state.textContent = "Live"; };
  source.onmessage = function (message) {
    const event = JSON.parse(message.data);
    const item = document.createElement("li");
    item.textContent = event.time + "  " + event.type + "  " + event.subject;
    feed.prepend(item);
    while (feed.children.length > 200) feed.lastElementChild.remove();
  };
  source.onerror = function () {
    state.textContent = "Reconnecting…";
    fetch("/v1/auth/me", { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) window.location.assign("/console/login");
    });
  };
})();
