/* Trellis website tracking: page hits to the server that served this script.
   <script src="https://trellis.example/t/w.js" data-site="www" async></script>
   Nothing is recorded when the browser sends Do Not Track or Global Privacy Control;
   with data-consent="required", nothing until the page calls trellis("consent"). */
(function (w, d) {
  "use strict";
  var n = w.navigator, s = d.currentScript;
  if (!s || w.trellis && w.trellis.loaded) { return; }
  var q = (w.trellis && w.trellis.q) || [];
  var base = s.src.replace(/\/t\/w\.js(\?.*)?$/, "");
  var site = (s.getAttribute("data-site") || "").slice(0, 100);
  var consent = s.getAttribute("data-consent") !== "required";
  var KEY = "trellis_vid", ct = null, queued = false;
  function optedOut() {
    return n.doNotTrack === "1" || w.doNotTrack === "1" || n.globalPrivacyControl === true;
  }
  function cookie() {
    // A sandboxed page (Trellis landing pages are) has no cookies: reading them throws.
    try {
      var m = d.cookie.match(/(?:^|; )trellis_vid=([A-Za-z0-9_-]{16,64})/);
      return m ? m[1] : null;
    } catch (e) { return null; }
  }
  function visitor() {
    var id = null;
    try { id = w.localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
    id = id || cookie();
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      var bytes = new Uint8Array(16), out = "";
      (w.crypto || w.msCrypto).getRandomValues(bytes);
      for (var i = 0; i < bytes.length; i++) { out += ("0" + bytes[i].toString(16)).slice(-2); }
      id = out;
    }
    try { w.localStorage.setItem(KEY, id); } catch (e) { /* storage blocked */ }
    try {
      d.cookie = KEY + "=" + id + "; path=/; max-age=31536000; SameSite=Lax" +
        (w.location.protocol === "https:" ? "; Secure" : "");
    } catch (e) { /* sandboxed: no cookies */ }
    return id;
  }
  function device() {
    var width = Math.min(w.screen.width || 0, w.screen.height || 0) || w.innerWidth;
    var touch = "ontouchstart" in w || n.maxTouchPoints > 0;
    if (/iPad|Tablet/i.test(n.userAgent) || (touch && width >= 600)) { return "tablet"; }
    if (/Mobi|Android|iPhone/i.test(n.userAgent) || (touch && width < 600)) { return "mobile"; }
    return "desktop";
  }
  function takeToken() {
    // The contact token of a tracked email link: read once, then removed from the address bar.
    var url = new URL(w.location.href), token = url.searchParams.get("trellis_ct");
    if (token) {
      url.searchParams.delete("trellis_ct");
      try { w.history.replaceState(w.history.state, "", url.toString()); } catch (e) { /* ok */ }
    }
    return token;
  }
  function send(data) {
    var body = JSON.stringify(data), url = base + "/t/hit";
    // text/plain: a "simple" request, no preflight; the server reads it as JSON.
    var blob = new Blob([body], { type: "text/plain" });
    if (n.sendBeacon && n.sendBeacon(url, blob)) { return; }
    if (w.fetch) {
      w.fetch(url, { method: "POST", body: body, keepalive: true, mode: "no-cors",
        credentials: "omit", headers: { "Content-Type": "text/plain" } });
    }
  }
  function page() {
    if (optedOut()) { return; }
    if (!consent) { queued = true; return; }
    var data = { v: visitor(), u: w.location.href.slice(0, 2000),
      t: (d.title || "").slice(0, 500), r: (d.referrer || "").slice(0, 2000), s: site, d: device() };
    if (ct) { data.ct = ct; ct = null; }
    send(data);
  }
  function trellis(command) {
    if (command === "consent") {
      consent = true;
      if (queued) { queued = false; page(); }
    } else if (command === "page") { page(); }
  }
  trellis.loaded = true;
  ct = takeToken();
  w.trellis = trellis;
  var push = w.history.pushState;
  w.history.pushState = function () {
    var result = push.apply(this, arguments);
    page();
    return result;
  };
  w.addEventListener("popstate", page);
  page();
  for (var i = 0; i < q.length; i++) { trellis(q[i][0]); }
})(window, document);
