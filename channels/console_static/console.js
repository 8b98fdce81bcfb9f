// Nurse console: keeps the queue and the open ticket's transcript current without
// reloading. Text is only ever inserted as text.
(function () {
  "use strict";
  var REFRESH_MS = 3000;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function waited(seconds) {
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    return minutes < 60 ? minutes + " min" : Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function poll(url, render) {
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (reply) {
          if (reply.status === 401) { window.location.assign("/webhooks/console/login"); return null; }
          return reply.ok ? reply.json() : null;
        })
        .then(function (data) { if (data) render(data); })
        .catch(function () { /* offline for a moment: the next tick tries again */ })
        .then(function () { window.setTimeout(tick, REFRESH_MS); });
    }
    tick();
  }

  function renderQueue(table, data) {
    var body = table.tBodies[0];
    var rows = data.tickets.map(function (ticket) {
      var row = el("tr", null, "level-" + (ticket.level || "none"));
      row.appendChild(el("td", ticket.level || "no triage"));
      row.appendChild(el("td", waited(ticket.waiting_seconds)));
      row.appendChild(el("td", ticket.topic || "–"));
      row.appendChild(el("td", ticket.language || "?"));
      row.appendChild(el("td", ticket.channel));
      row.appendChild(el("td", ticket.status + (ticket.mine ? " (yours)" : "")));
      var cell = el("td");
      var link = el("a", "Open ticket " + ticket.id);
      link.href = "/webhooks/console/tickets/" + ticket.id;
      cell.appendChild(link);
      row.appendChild(cell);
      return row;
    });
    body.replaceChildren.apply(body, rows);
    var waiting = data.tickets.filter(function (t) { return t.status === "waiting"; }).length;
    document.getElementById("queue-status").textContent =
      waiting + " waiting, " + (data.tickets.length - waiting) + " being answered";
  }

  // The same markup as the page's `translation` macro (ticket.html).
  function translationOf(message) {
    if (message.translation !== undefined) {
      var span = el("span", null, "translation");
      span.lang = message.translation_language;
      span.appendChild(el("span", "Machine translation (" + message.translation_language + "):", "label"));
      span.appendChild(document.createTextNode(" " + message.translation));
      return span;
    }
    if (message.translation_note) return el("span", message.translation_note, "translation missing");
    return null;
  }

  function renderTranscript(list, data) {
    if (String(data.messages.length) === list.dataset.count) return;
    list.dataset.count = String(data.messages.length);
    if (!data.messages.length) return;
    list.replaceChildren.apply(list, data.messages.map(function (message) {
      var item = el("li", null, "from-" + message.author);
      var who = el("span", message.author + " · ", "who");
      var time = el("time", new Date(message.at).toLocaleTimeString("fi-FI",
        { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Helsinki" }));
      time.dateTime = message.at;
      who.appendChild(time);
      item.appendChild(who);
      var text = el("span", message.text, "text");
      if (message.language) text.lang = message.language;
      item.appendChild(text);
      var translation = translationOf(message);
      if (translation) item.appendChild(translation);
      return item;
    }));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("queue");
    if (table) poll(table.dataset.queueUrl, function (data) { renderQueue(table, data); });
    var transcript = document.getElementById("transcript");
    if (transcript) {
      transcript.dataset.count = String(transcript.querySelectorAll("li:not(.empty)").length);
      poll(transcript.dataset.ticketUrl, function (data) { renderTranscript(transcript, data); });
    }
    var box = document.getElementById("reply-text");
    Array.prototype.forEach.call(document.querySelectorAll(".canned-reply"), function (button) {
      button.addEventListener("click", function () {
        box.value = button.dataset.text;
        box.focus();
      });
    });
  });
})();
