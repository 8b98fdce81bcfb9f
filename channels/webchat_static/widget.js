/* Helsinki health assistant: web chat widget.
 *
 * <script src="https://SERVER/webhooks/webchat/widget.js" data-lang="fi" defer></script>
 *
 * No framework and nothing fetched from elsewhere. Every text is inserted with
 * textContent, never as HTML. The session token lives in localStorage, so a
 * reload or a new tab continues the same conversation, and travels only in the
 * Authorization header (or the socket's first frame), never in a URL; messages
 * carry sequence numbers, so after a reconnect each one is shown once and in
 * order. A session starts with the first message; "End conversation" deletes it
 * on the server and here (a shared computer keeps nothing), and a session the
 * server no longer knows (ended, idle too long) is replaced without a word.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var base = new URL(".", script.src);
  var api = base.href.replace(/\/$/, "");
  var MAX_CHARS = 2000;
  var LANGS = ["fi", "sv", "en", "ru", "et", "so", "ar", "uk"];
  var RTL = { ar: true };
  var NATIVE = { fi: "Suomi", sv: "Svenska", en: "English", ru: "Русский", et: "Eesti",
    so: "Soomaali", ar: "العربية", uk: "Українська" };
  var STORE = { token: "hb-webchat-token", seen: "hb-webchat-privacy", lang: "hb-webchat-lang" };

  var UI = {
    fi: { title: "Terveysneuvonta", open: "Avaa terveysneuvonnan chat", close: "Sulje chat",
      label: "Kirjoita viesti", send: "Lähetä", language: "Kieli", auto: "Automaattinen",
      privacy: "Älä kirjoita henkilötunnustasi. Keskustelut tallennetaan palvelun toteuttamiseksi ja poistetaan 30 päivän kuluttua. Hätätilanteessa soita 112.",
      ok: "Selvä", typing: "Avustaja kirjoittaa…", tooLong: "Viesti on liian pitkä (yli 2 000 merkkiä). Lyhennä sitä, niin voit lähettää sen.",
      offline: "Yhteys katkesi. Yhdistetään uudelleen…", failed: "Viestiä ei voitu lähettää. Yritä uudelleen.",
      you: "Sinä", bot: "Avustaja", nurse: "Hoitaja",
      end: "Lopeta keskustelu", endAsk: "Lopetetaanko keskustelu? Sen viestit poistetaan, eikä niitä voi palauttaa.",
      endYes: "Lopeta", endNo: "Peruuta", ended: "Keskustelu on lopetettu ja sen viestit poistettu.",
      busy: "Liian monta viestiä. Odota hetki ja lähetä sitten uudelleen." },
    sv: { title: "Hälsorådgivning", open: "Öppna chatten för hälsorådgivning", close: "Stäng chatten",
      label: "Skriv ett meddelande", send: "Skicka", language: "Språk", auto: "Automatiskt",
      privacy: "Skriv inte din personbeteckning. Samtalen sparas för att tjänsten ska fungera och raderas efter 30 dagar. Vid nödfall ring 112.",
      ok: "Okej", typing: "Assistenten skriver…", tooLong: "Meddelandet är för långt (över 2 000 tecken). Korta ner det så kan du skicka det.",
      offline: "Anslutningen bröts. Ansluter på nytt…", failed: "Meddelandet kunde inte skickas. Försök igen.",
      you: "Du", bot: "Assistenten", nurse: "Sjukskötaren",
      end: "Avsluta samtalet", endAsk: "Vill du avsluta samtalet? Meddelandena raderas och kan inte återställas.",
      endYes: "Avsluta", endNo: "Avbryt", ended: "Samtalet har avslutats och meddelandena har raderats.",
      busy: "För många meddelanden. Vänta en stund och skicka sedan igen." },
    en: { title: "Health advice", open: "Open the health advice chat", close: "Close chat",
      label: "Write a message", send: "Send", language: "Language", auto: "Automatic",
      privacy: "Don't write your personal identity code. Conversations are stored to provide the service and deleted after 30 days. In an emergency call 112.",
      ok: "OK", typing: "The assistant is typing…", tooLong: "The message is too long (over 2,000 characters). Shorten it and you can send it.",
      offline: "Connection lost. Reconnecting…", failed: "The message could not be sent. Please try again.",
      you: "You", bot: "Assistant", nurse: "Nurse",
      end: "End conversation", endAsk: "End the conversation? Its messages will be deleted and cannot be restored.",
      endYes: "End", endNo: "Cancel", ended: "The conversation has ended and its messages were deleted.",
      busy: "Too many messages. Please wait a moment, then send again." },
    ru: { title: "Медицинская консультация", open: "Открыть чат медицинской консультации", close: "Закрыть чат",
      label: "Напишите сообщение", send: "Отправить", language: "Язык", auto: "Автоматически",
      privacy: "Не пишите свой личный идентификационный код. Переписка хранится для работы сервиса и удаляется через 30 дней. В экстренной ситуации звоните 112.",
      ok: "Понятно", typing: "Ассистент печатает…", tooLong: "Сообщение слишком длинное (более 2000 символов). Сократите его, чтобы отправить.",
      offline: "Соединение потеряно. Подключаемся снова…", failed: "Не удалось отправить сообщение. Попробуйте ещё раз.",
      you: "Вы", bot: "Ассистент", nurse: "Медсестра",
      end: "Завершить разговор", endAsk: "Завершить разговор? Его сообщения будут удалены без возможности восстановления.",
      endYes: "Завершить", endNo: "Отмена", ended: "Разговор завершён, его сообщения удалены.",
      busy: "Слишком много сообщений. Подождите немного и отправьте снова." },
    et: { title: "Terviseinfo", open: "Ava terviseinfo vestlus", close: "Sulge vestlus",
      label: "Kirjuta sõnum", send: "Saada", language: "Keel", auto: "Automaatne",
      privacy: "Ära kirjuta oma isikukoodi. Vestlusi säilitatakse teenuse osutamiseks ja need kustutatakse 30 päeva pärast. Hädaolukorras helista 112.",
      ok: "Selge", typing: "Assistent kirjutab…", tooLong: "Sõnum on liiga pikk (üle 2000 märgi). Lühenda seda, et saaksid selle saata.",
      offline: "Ühendus katkes. Ühendan uuesti…", failed: "Sõnumit ei saanud saata. Proovi uuesti.",
      you: "Sina", bot: "Assistent", nurse: "Õde",
      end: "Lõpeta vestlus", endAsk: "Kas lõpetad vestluse? Selle sõnumid kustutatakse ja neid ei saa taastada.",
      endYes: "Lõpeta", endNo: "Tühista", ended: "Vestlus on lõpetatud ja selle sõnumid kustutatud.",
      busy: "Liiga palju sõnumeid. Oota hetk ja saada siis uuesti." },
    so: { title: "Talo caafimaad", open: "Fur wada-sheekaysiga talada caafimaadka", close: "Xir wada-sheekaysiga",
      label: "Qor fariin", send: "Dir", language: "Luqadda", auto: "Si toos ah",
      privacy: "Ha qorin lambarkaaga aqoonsiga shakhsiga. Wada-sheekaysiyada waa la kaydiyaa si adeegga loo bixiyo, waxaana la tirtiraa 30 maalmood kadib. Xaalad degdeg ah wac 112.",
      ok: "Hagaag", typing: "Kaaliyaha ayaa qoraya…", tooLong: "Fariintu aad bay u dheer tahay (in ka badan 2,000 xaraf). Soo gaabi si aad u dirto.",
      offline: "Xiriirkii wuu go'ay. Dib ayaa loo xiriirinayaa…", failed: "Fariinta lama diri karin. Isku day mar kale.",
      you: "Adiga", bot: "Kaaliyaha", nurse: "Kalkaalisada",
      end: "Dhammee wada-hadalka", endAsk: "Ma dhammaynaysaa wada-hadalka? Fariimihiisa waa la tirtirayaa, dibna looma soo celin karo.",
      endYes: "Dhammee", endNo: "Ka noqo", ended: "Wada-hadalkii waa dhammaaday, fariimihiisiina waa la tirtiray.",
      busy: "Fariimo aad u badan. Wax yar sug, kadibna mar kale dir." },
    ar: { title: "الاستشارة الصحية", open: "افتح محادثة الاستشارة الصحية", close: "أغلق المحادثة",
      label: "اكتب رسالة", send: "إرسال", language: "اللغة", auto: "تلقائي",
      privacy: "لا تكتب رقم هويتك الشخصية. تُحفظ المحادثات لتقديم الخدمة وتُحذف بعد 30 يومًا. في حالات الطوارئ اتصل بالرقم 112.",
      ok: "حسنًا", typing: "المساعد يكتب…", tooLong: "الرسالة طويلة جدًا (أكثر من 2000 حرف). اختصرها لتتمكن من إرسالها.",
      offline: "انقطع الاتصال. جارٍ إعادة الاتصال…", failed: "تعذر إرسال الرسالة. حاول مرة أخرى.",
      you: "أنت", bot: "المساعد", nurse: "الممرضة",
      end: "إنهاء المحادثة", endAsk: "هل تريد إنهاء المحادثة؟ ستُحذف رسائلها ولا يمكن استعادتها.",
      endYes: "إنهاء", endNo: "إلغاء", ended: "انتهت المحادثة وحُذفت رسائلها.",
      busy: "رسائل كثيرة جدًا. انتظر لحظة ثم أرسل مرة أخرى." },
    uk: { title: "Медична консультація", open: "Відкрити чат медичної консультації", close: "Закрити чат",
      label: "Напишіть повідомлення", send: "Надіслати", language: "Мова", auto: "Автоматично",
      privacy: "Не пишіть свій особистий ідентифікаційний код. Розмови зберігаються для надання послуги та видаляються через 30 днів. У надзвичайній ситуації телефонуйте 112.",
      ok: "Зрозуміло", typing: "Асистент друкує…", tooLong: "Повідомлення задовге (понад 2000 символів). Скоротіть його, щоб надіслати.",
      offline: "З'єднання втрачено. Підключаємося знову…", failed: "Не вдалося надіслати повідомлення. Спробуйте ще раз.",
      you: "Ви", bot: "Асистент", nurse: "Медсестра",
      end: "Завершити розмову", endAsk: "Завершити розмову? Її повідомлення буде видалено без можливості відновлення.",
      endYes: "Завершити", endNo: "Скасувати", ended: "Розмову завершено, її повідомлення видалено.",
      busy: "Забагато повідомлень. Зачекайте трохи й надішліть ще раз." }
  };

  function pick(code) { return LANGS.indexOf(code) >= 0 ? code : null; }

  var state = {
    token: localStorage.getItem(STORE.token),
    chosen: pick(localStorage.getItem(STORE.lang) || "") || "auto",
    uiLang: pick(script.getAttribute("data-lang") || "") || pick((navigator.language || "").slice(0, 2)) || "en",
    lastSeq: 0,
    socket: null,
    backoff: 1000,
    typingTimer: null,
    retryTimer: null,
    pollTimer: null,
    replies: { buttons: [], lang: null }, /* the quick replies on show */
    outgoing: null /* the latest message sent, given back if the server refuses it */
  };

  function el(tag, className, attrs) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    return node;
  }

  function t(key) { return (UI[state.uiLang] || UI.en)[key]; }

  /* An "exit" icon drawn here: nothing is fetched, and the page's CSP allows it. */
  function exitIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M10 4H5v16h5M15 8l4 4-4 4M19 12H9");
    svg.appendChild(path);
    return svg;
  }

  /* ---- the page parts ---- */
  var stylesheet = el("link", null, { rel: "stylesheet", href: api + "/widget.css" });
  document.head.appendChild(stylesheet);

  var root = el("div", "hb-root");
  var launcher = el("button", "hb-launcher", { type: "button", "aria-expanded": "false", "aria-controls": "hb-panel" });
  var panel = el("section", "hb-panel", { id: "hb-panel", role: "dialog", "aria-modal": "false", hidden: "" });
  var header = el("div", "hb-header");
  var title = el("h2", "hb-title", { id: "hb-title" });
  panel.setAttribute("aria-labelledby", "hb-title");
  var langRow = el("div", "hb-lang-row");
  var langLabel = el("label", "hb-lang-label", { for: "hb-lang" });
  var langSelect = el("select", "hb-lang", { id: "hb-lang" });
  var endButton = el("button", "hb-end", { type: "button", "aria-controls": "hb-confirm", "aria-expanded": "false" });
  var closeButton = el("button", "hb-close", { type: "button" });
  var confirmBox = el("div", "hb-confirm", { id: "hb-confirm", role: "group", "aria-labelledby": "hb-confirm-text", hidden: "" });
  var confirmText = el("p", "hb-confirm-text", { id: "hb-confirm-text" });
  var confirmYes = el("button", "hb-confirm-yes", { type: "button" });
  var confirmNo = el("button", "hb-confirm-no", { type: "button" });
  var notice = el("div", "hb-notice", { role: "note" });
  var noticeText = el("p", "hb-notice-text");
  var noticeOk = el("button", "hb-notice-ok", { type: "button" });
  var log = el("div", "hb-log", { role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
  var typing = el("p", "hb-typing", { hidden: "" });
  var replies = el("div", "hb-replies");
  var status = el("p", "hb-status", { role: "alert" });
  var form = el("form", "hb-form");
  var inputLabel = el("label", "hb-visually-hidden", { for: "hb-input" });
  var input = el("textarea", "hb-input", { id: "hb-input", rows: "2" });
  var send = el("button", "hb-send", { type: "submit" });

  var autoOption = el("option", null, { value: "auto" });
  langSelect.appendChild(autoOption);
  LANGS.forEach(function (code) {
    var option = el("option", null, { value: code, lang: code });
    option.textContent = NATIVE[code];
    langSelect.appendChild(option);
  });
  langSelect.value = state.chosen;
  endButton.appendChild(exitIcon());

  /* the title and the two buttons on the first row, the language on its own: one row
     for all of them would not fit 320 px in every language */
  header.appendChild(title);
  header.appendChild(endButton);
  header.appendChild(closeButton);
  langRow.appendChild(langLabel);
  langRow.appendChild(langSelect);
  header.appendChild(langRow);
  confirmBox.appendChild(confirmText);
  confirmBox.appendChild(confirmYes);
  confirmBox.appendChild(confirmNo);
  notice.appendChild(noticeText);
  notice.appendChild(noticeOk);
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(confirmBox);
  panel.appendChild(notice);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(replies);
  panel.appendChild(status);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);
  document.body.appendChild(root);

  function renderStrings() {
    var lang = state.uiLang;
    panel.setAttribute("lang", lang);
    panel.setAttribute("dir", RTL[lang] ? "rtl" : "ltr");
    launcher.setAttribute("aria-label", t("open"));
    launcher.textContent = t("title");
    title.textContent = t("title");
    langLabel.textContent = t("language");
    autoOption.textContent = t("auto");
    endButton.setAttribute("aria-label", t("end"));
    endButton.setAttribute("title", t("end"));
    closeButton.setAttribute("aria-label", t("close"));
    closeButton.textContent = "×";
    confirmText.textContent = t("endAsk");
    confirmYes.textContent = t("endYes");
    confirmNo.textContent = t("endNo");
    noticeText.textContent = t("privacy");
    noticeOk.textContent = t("ok");
    inputLabel.textContent = t("label");
    input.setAttribute("placeholder", t("label"));
    send.textContent = t("send");
    typing.textContent = t("typing");
  }

  /* ---- messages ---- */
  function setUiLang(code) {
    if (pick(code) && code !== state.uiLang) {
      state.uiLang = code;
      renderStrings();
    }
  }

  function addMessage(message) {
    if (message.seq && message.seq <= state.lastSeq) return; /* already shown */
    if (message.seq) state.lastSeq = message.seq;
    var author = message.author || "bot";
    if (author !== "resident" && !message.text && !(message.buttons || []).length) return;
    var lang = message.lang || (author === "resident" ? null : state.uiLang);
    var item = el("div", "hb-msg hb-" + author);
    if (lang) {
      item.setAttribute("lang", lang);
      item.setAttribute("dir", RTL[lang] ? "rtl" : "ltr");
    } else {
      item.setAttribute("dir", "auto");
    }
    var who = el("span", "hb-visually-hidden");
    who.textContent = t(author === "resident" ? "you" : author) + ": ";
    var body = el("p", "hb-text");
    body.textContent = message.text || "";
    item.appendChild(who);
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (author === "resident") {
      state.outgoing = null; /* stored: nothing to give back */
    } else {
      hideTyping();
      if (state.chosen === "auto" && lang) setUiLang(lang);
      showReplies(message.buttons || [], lang);
    }
  }

  /* A line of the widget's own in the log, such as "the conversation has ended". */
  function addNote(text) {
    var note = el("p", "hb-note");
    note.textContent = text;
    log.appendChild(note);
  }

  function clearLog() {
    while (log.firstChild) log.removeChild(log.firstChild);
  }

  function showReplies(buttons, lang) {
    state.replies = { buttons: buttons, lang: lang };
    while (replies.firstChild) replies.removeChild(replies.firstChild);
    buttons.forEach(function (button) {
      var choice = el("button", "hb-reply", { type: "button" });
      if (lang) choice.setAttribute("lang", lang);
      choice.textContent = button.title;
      choice.addEventListener("click", function () {
        sendMessage(button.payload, button.title);
      });
      replies.appendChild(choice);
    });
  }

  function showTyping() {
    typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, 30000);
  }

  function hideTyping() {
    typing.hidden = true;
    clearTimeout(state.typingTimer);
  }

  function showStatus(text) { status.textContent = text || ""; }

  /* ---- the server ---- */
  function request(method, path, body) {
    var headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined
    }).then(function (resp) {
      if (resp.status === 204) return null;
      return resp.json().then(function (data) {
        if (!resp.ok) { var error = new Error(data.error || "http " + resp.status); error.status = resp.status; throw error; }
        return data;
      });
    });
  }

  /* `text` is the first message: the server lets a red flag start a session even
     when this address has started too many. */
  function newSession(text) {
    return request("POST", "/session", { text: text }).then(function (data) {
      clearLog();
      state.token = data.token;
      state.lastSeq = 0;
      localStorage.setItem(STORE.token, data.token);
      connect();
    });
  }

  /* This page lets go of the conversation: no socket, no token, nothing shown. */
  function reset() {
    var socket = state.socket;
    state.socket = null;
    if (socket) socket.close();
    stopPolling();
    clearTimeout(state.retryTimer);
    state.token = null;
    state.lastSeq = 0;
    clearLog();
    showReplies([]);
    hideTyping();
    showStatus("");
  }

  /* The session is over (ended here or in another tab, or the server forgot it). */
  function forget() {
    reset();
    localStorage.removeItem(STORE.token);
  }

  function loadHistory() {
    if (!state.token) return Promise.resolve(); /* the first message starts a session */
    return request("GET", "/history").then(function (data) {
      data.messages.forEach(addMessage);
    }).catch(function (error) {
      if (error.status === 403) return forget();
      throw error;
    });
  }

  function connect() {
    if (!state.token) return;
    var url = api.replace(/^http/, "ws") + "/ws";
    var socket = new WebSocket(url);
    state.socket = socket;
    socket.onopen = function () {
      socket.send(JSON.stringify({ token: state.token, after: state.lastSeq }));
      state.backoff = 1000;
      stopPolling();
      showStatus("");
    };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "message") {
        addMessage(frame);
        socket.send(JSON.stringify({ type: "ack", seq: frame.seq }));
      } else if (frame.type === "error") {
        refused(frame.error);
      }
    };
    socket.onclose = function () {
      if (state.socket !== socket) return;
      state.socket = null;
      showStatus(t("offline"));
      startPolling();
      var wait = state.backoff + Math.floor(Math.random() * 500);
      state.backoff = Math.min(state.backoff * 2, 30000);
      clearTimeout(state.retryTimer);
      state.retryTimer = setTimeout(connect, wait);
    };
  }

  function poll() {
    if (!state.token) return;
    request("GET", "/messages?after=" + state.lastSeq)
      .then(function (data) {
        data.messages.forEach(addMessage);
        if (!state.socket) {
          /* the server answers again: reconnect now instead of waiting out the backoff */
          showStatus("");
          clearTimeout(state.retryTimer);
          state.backoff = 1000;
          connect();
        }
      })
      .catch(function (error) {
        if (error.status === 403) forget(); /* else the server is away; the socket retries */
      });
  }

  function startPolling() { if (!state.pollTimer) state.pollTimer = setInterval(poll, 3000); }
  function stopPolling() { clearInterval(state.pollTimer); state.pollTimer = null; }

  function sendMessage(text, shownAs) {
    if (text.length > MAX_CHARS) { showStatus(t("tooLong")); return false; }
    var frame = { type: "message", text: text };
    if (shownAs) frame.title = shownAs;
    if (state.chosen !== "auto") frame.metadata = { language_choice: state.chosen };
    else frame.metadata = { language_hint: state.uiLang };
    state.outgoing = { frame: frame, replies: state.replies };
    showStatus("");
    showReplies([]);
    deliver(frame, false);
    return true;
  }

  /* Over the socket when it is open, else over HTTP, starting a session if there is
     none; a session the server no longer knows is replaced once, transparently. */
  function deliver(frame, retried) {
    showTyping();
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(frame));
      return;
    }
    (state.token ? Promise.resolve() : newSession(frame.text))
      .then(function () { return request("POST", "/message", frame); })
      .then(poll)
      .catch(function (error) {
        if (error.status === 403 && !retried) { forget(); deliver(frame, true); return; }
        refused(error.status === 413 ? "message_too_long" : error.status === 429 ? "rate_limited" : "failed");
      });
  }

  /* The server did not take the latest message: say why, and give it back. */
  function refused(why) {
    var outgoing = state.outgoing;
    if (why === "unknown_session") {
      forget();
      if (outgoing) deliver(outgoing.frame, true);
      return;
    }
    if (why === "bad_frame") return;
    hideTyping();
    showStatus(why === "message_too_long" ? t("tooLong") : why === "rate_limited" ? t("busy") : t("failed"));
    state.outgoing = null;
    if (!outgoing) return;
    if (outgoing.frame.title) {
      showReplies(outgoing.replies.buttons, outgoing.replies.lang); /* a button: offer it again */
    } else {
      input.value = input.value ? outgoing.frame.text + "\n" + input.value : outgoing.frame.text;
    }
  }

  /* ---- ending the conversation ---- */
  function askToEnd() {
    confirmBox.hidden = false;
    endButton.setAttribute("aria-expanded", "true");
    confirmNo.focus(); /* the safe choice first */
  }

  function dontEnd() {
    confirmBox.hidden = true;
    endButton.setAttribute("aria-expanded", "false");
    endButton.focus();
  }

  function endConversation() {
    var ending = state.token ? request("DELETE", "/session") : Promise.resolve();
    ending.catch(function (error) {
      if (error.status !== 403) throw error; /* 403: already over on the server */
    }).then(function () {
      confirmBox.hidden = true;
      endButton.setAttribute("aria-expanded", "false");
      forget();
      state.outgoing = null;
      addNote(t("ended"));
      input.value = "";
      input.focus();
    }, function () {
      showStatus(t("failed")); /* nothing was deleted: the resident can try again */
    });
  }

  /* ---- interaction ---- */
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    notice.hidden = localStorage.getItem(STORE.seen) === "1";
    (notice.hidden ? input : noticeOk).focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  closeButton.addEventListener("click", close);
  endButton.addEventListener("click", function () { if (confirmBox.hidden) askToEnd(); else dontEnd(); });
  confirmNo.addEventListener("click", dontEnd);
  confirmYes.addEventListener("click", endConversation);
  confirmBox.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.stopPropagation(); dontEnd(); }
  });
  noticeOk.addEventListener("click", function () {
    localStorage.setItem(STORE.seen, "1");
    notice.hidden = true;
    input.focus();
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
  langSelect.addEventListener("change", function () {
    state.chosen = langSelect.value;
    localStorage.setItem(STORE.lang, state.chosen);
    if (state.chosen !== "auto") setUiLang(state.chosen);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    if (sendMessage(text)) {
      input.value = "";
    }
  });
  /* ended in another tab: this one shows nothing of it either */
  window.addEventListener("storage", function (event) {
    if (event.key === STORE.token && !event.newValue && state.token) reset();
  });

  renderStrings();
  loadHistory().then(connect).catch(function () {
    showStatus(t("offline"));
    setTimeout(function () { loadHistory().then(connect); }, 3000);
  });
})();
