// The running timer on the patient page: a clock counted from the server's start time, an
// activity heartbeat, and the idle prompt. A static file: the CSP forbids inline scripts.
(function () {
  "use strict";

  var HEARTBEAT_MS = 60 * 1000; // report activity to the server at most once a minute
  var ACTIVITY = ["mousemove", "mousedown", "keydown", "wheel", "touchstart", "scroll"];
  var current = null; // one running clock per page

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function formatElapsed(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s % 60);
  }

  function storageKey(timerId) { return "careledger.timer." + timerId + ".activity"; }

  function sharedActivity(timerId) {
    // Activity seen by another tab of this browser (a time stamp, no patient data).
    try { return parseInt(window.localStorage.getItem(storageKey(timerId)) || "0", 10) || 0; }
    catch (e) { return 0; }
  }

  function shareActivity(timerId, at) {
    try { window.localStorage.setItem(storageKey(timerId), String(at)); } catch (e) { /* private mode */ }
  }

  function Clock(panel) {
    var el = panel.querySelector("[data-timer-clock]");
    this.panel = panel;
    this.el = el;
    this.timerId = el.getAttribute("data-timer-id");
    // Server time minus browser time, so a wrong desktop clock does not skew the display.
    this.skew = Date.parse(el.getAttribute("data-server-now")) - Date.now();
    this.startedAt = Date.parse(el.getAttribute("data-started-at"));
    this.zone = el.getAttribute("data-zone");
    this.idleMs = parseInt(el.getAttribute("data-idle-seconds"), 10) * 1000;
    this.lastActivity = Date.parse(el.getAttribute("data-last-activity-at"));
    this.lastSent = this.lastActivity;
    this.prompt = panel.querySelector("[data-idle-prompt]");
    this.touchForm = panel.querySelector("[data-touch-form]");
    this.stopForm = panel.querySelector("[data-stop-form]");
    this.prompting = this.prompt && !this.prompt.hidden;
    this.onActivity = this.onActivity.bind(this);
    this.tick = this.tick.bind(this);
    var self = this;
    ACTIVITY.forEach(function (name) {
      document.addEventListener(name, self.onActivity, { passive: true });
    });
    var no = panel.querySelector("[data-idle-no]");
    if (no) no.addEventListener("click", function () { self.trimToLastActivity(); });
    this.tick();
    this.interval = window.setInterval(this.tick, 1000);
  }

  Clock.prototype.now = function () { return Date.now() + this.skew; };

  Clock.prototype.stop = function () {
    var self = this;
    window.clearInterval(this.interval);
    ACTIVITY.forEach(function (name) { document.removeEventListener(name, self.onActivity); });
  };

  Clock.prototype.onActivity = function () {
    if (this.prompting) return; // while asking, only an answer counts
    var now = this.now();
    this.lastActivity = now;
    shareActivity(this.timerId, now);
    if (now - this.lastSent >= HEARTBEAT_MS) {
      this.lastSent = now;
      this.heartbeat();
    }
  };

  Clock.prototype.heartbeat = function () {
    if (!this.touchForm) return;
    window.fetch(this.touchForm.action, {
      method: "POST",
      body: new FormData(this.touchForm),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).catch(function () { /* the next activity tries again */ });
  };

  Clock.prototype.tick = function () {
    if (!document.body.contains(this.el)) { this.stop(); return; }
    var now = this.now();
    this.el.textContent = formatElapsed(now - this.startedAt);
    this.lastActivity = Math.max(this.lastActivity, sharedActivity(this.timerId));
    if (!this.prompting && now - this.lastActivity >= this.idleMs) this.ask();
  };

  Clock.prototype.ask = function () {
    if (!this.prompt) return;
    this.prompting = true;
    this.prompt.hidden = false;
    var since = this.prompt.querySelector("[data-idle-since]");
    if (since) {
      // The practice's wall clock, as every time on the page.
      var at = new Date(this.lastActivity - this.skew);
      try {
        since.textContent = new Intl.DateTimeFormat("en-GB", {
          hour: "2-digit", minute: "2-digit", timeZone: this.zone || undefined,
        }).format(at);
      } catch (e) {
        since.textContent = pad(at.getHours()) + ":" + pad(at.getMinutes());
      }
    }
    var yes = this.prompt.querySelector("button[type=submit]");
    if (yes) yes.focus();
  };

  Clock.prototype.trimToLastActivity = function () {
    // "No": the entry ends at the last activity the server recorded; the form asks the rest.
    if (!this.stopForm) return;
    var trim = this.stopForm.querySelector("[data-trim]");
    var note = this.stopForm.querySelector("[data-trim-note]");
    if (trim) trim.value = "on";
    if (note) note.hidden = false;
    this.prompt.hidden = true;
    var first = this.stopForm.querySelector("select, textarea");
    if (first) first.focus();
  };

  function init(root) {
    var panel = root.querySelector ? root.querySelector("#timer-panel") : null;
    if (root.id === "timer-panel") panel = root;
    if (!panel) return;
    if (current) { current.stop(); current = null; }
    if (panel.querySelector("[data-timer-clock]")) current = new Clock(panel);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // htmx swaps the panel in (on load, and after start, stop or discard).
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
