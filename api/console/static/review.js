// Keyboard for working through the review queue (the pages work without it).
// Queue: j / k move between items, Enter opens the focused one.
// Item: a assigns to me, s focuses the status, n the note box, ] goes to the next item in the queue.
"use strict";
(function () {
  function typing(target) {
    const tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  const links = Array.prototype.slice.call(document.querySelectorAll("table.queue a.item-link"));
  function move(step) {
    if (!links.length) { return; }
    const at = links.indexOf(document.activeElement);
    const next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    links.forEach(function (link) { link.closest("tr").classList.remove("current"); });
    links[next].closest("tr").classList.add("current");
    links[next].focus();
  }
  const keys = {
    j: function () { move(1); },
    k: function () { move(-1); },
    a: function () {
      const form = document.getElementById("assign-me");
      if (form) { form.requestSubmit(); }
    },
    s: function () { const el = document.getElementById("status-choice"); if (el) { el.focus(); } },
    n: function () { const el = document.getElementById("note-text"); if (el) { el.focus(); } },
    "]": function () { const el = document.getElementById("next-item"); if (el) { window.location.href = el.href; } },
  };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    const action = keys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });
})();
