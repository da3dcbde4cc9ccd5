// Loan Desk's own browser behaviour. Kept in this file, never inline:
// the Content-Security-Policy allows scripts from 'self' only, and htmx's
// eval-based features (hx-on, js: values) are switched off.
(function () {
  "use strict";

  // A panel that refreshes itself (hx-trigger "every …": the documents,
  // scorecard and jobs panels while work is pending) skips a round while
  // a form inside it is open: a folded form unfolded (details open), a
  // field changed or a file chosen (in a form not folded away again), or
  // the keyboard in a field. Its next round, once the form is folded or
  // sent, refreshes it. Registered first, so a skipped round never marks
  // the panel busy.
  function formOpenIn(panel) {
    if (panel.querySelector("details[open]")) return true;
    var active = document.activeElement;
    if (active && active !== panel && panel.contains(active) && typing(active)) return true;
    var forms = panel.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].closest("details:not([open])")) continue; // folded away: given up
      if (isDirty(forms[i])) return true;
      var files = forms[i].querySelectorAll('input[type="file"]');
      for (var j = 0; j < files.length; j++) if (files[j].files && files[j].files.length > 0) return true;
    }
    return false;
  }
  function polls(elt) {
    var trigger = elt && elt.getAttribute ? elt.getAttribute("hx-trigger") || "" : "";
    return trigger.indexOf("every ") === 0;
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (!polls(e.detail.elt) || !formOpenIn(e.detail.elt)) return;
    e.preventDefault();
    e.stopImmediatePropagation();
  });
  // A round sent before the form was opened is dropped on its return,
  // silently (nobody asked for it). (beforeSwap's elt is the target; the
  // element that asked is the request's.)
  document.addEventListener("htmx:beforeSwap", function (e) {
    var asker = e.detail.requestConfig ? e.detail.requestConfig.elt : null;
    if (!polls(asker) || !formOpenIn(e.detail.target)) return;
    e.detail.shouldSwap = false;
    e.stopImmediatePropagation();
  });

  // A slow request shows a busy cursor on the element that made it.
  document.addEventListener("htmx:beforeRequest", function (e) {
    e.target.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    e.target.removeAttribute("aria-busy");
  });

  // A response htmx does not swap (5xx, network failure) must not fail
  // silently: tell the user.
  function showError(message) {
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "request-error";
      box.setAttribute("role", "alert");
      box.className = "toast-error";
      document.body.appendChild(box);
    }
    box.textContent = message;
  }
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (status === 401) {
      window.location.assign("/login");
      return;
    }
    showError("The request failed (" + status + "). Please try again.");
  });
  // Uploads show their progress in the form's progress bar.
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest ? e.target.closest("form[data-upload]") : null;
    var bar = form && form.querySelector("[data-upload-progress]");
    if (!bar || !e.detail.lengthComputable) return;
    bar.classList.remove("hidden");
    bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
  });

  // Unsaved typing is never dropped without asking. A form marked
  // data-guard="<what it edits>" is dirty when a field differs from what
  // the server sent (or when the server marked it data-unsaved: a refused
  // form showing what was typed, or a conflict holding your changes).
  function isDirty(form) {
    if (form.hasAttribute("data-unsaved")) return true;
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (el.type === "hidden" || el.type === "submit" || el.type === "button" || el.type === "file") continue;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked !== el.defaultChecked) return true;
      } else if (el.tagName === "SELECT" && !el.multiple) {
        // The server's choice: the last option marked selected, else the first.
        var chosen = 0;
        for (var k = 0; k < el.options.length; k++) if (el.options[k].defaultSelected) chosen = k;
        if (el.options.length > 0 && el.selectedIndex !== chosen) return true;
      } else if (el.tagName === "SELECT") {
        for (var j = 0; j < el.options.length; j++) {
          if (el.options[j].selected !== el.options[j].defaultSelected) return true;
        }
      } else if (el.value !== el.defaultValue) {
        return true;
      }
    }
    return false;
  }
  function dirtyForms(within) {
    var out = [];
    var forms = (within || document).querySelectorAll("form[data-guard]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].closest("details:not([open])")) continue; // folded away: given up
      if (isDirty(forms[i])) out.push(forms[i]);
    }
    if (within && within.matches && within.matches("form[data-guard]") && isDirty(within)) out.push(within);
    return out;
  }
  function names(forms) {
    return forms.map(function (f) { return f.getAttribute("data-guard"); }).join(", ");
  }
  // agreed is set once the user agreed to lose their changes (until the
  // page swaps something instead of reloading); submitting is a plain
  // form being sent, whose own typing is not lost by its submission.
  var agreed = false;
  var submitting = null;
  document.addEventListener("submit", function (e) {
    if (!e.target.hasAttribute("hx-put") && !e.target.hasAttribute("hx-post")) submitting = e.target;
  });
  window.addEventListener("beforeunload", function (e) {
    if (agreed) return;
    if (dirtyForms().filter(function (f) { return f !== submitting; }).length === 0) return;
    submitting = null;
    e.preventDefault();
    e.returnValue = "";
  });
  document.addEventListener("htmx:afterSwap", function () {
    agreed = false;
  });
  // An htmx action that reloads the page (a status move, an assignment:
  // data-reloads-page) asks first when another form holds unsaved typing.
  // A form's Cancel asks too when the form has changes.
  document.addEventListener("htmx:confirm", function (e) {
    var elt = e.detail.elt;
    if (!elt.closest) return;
    if (elt.hasAttribute("data-cancel")) {
      var own = elt.closest("form[data-guard]");
      if (own && isDirty(own) && !window.confirm("Discard your unsaved changes to " + own.getAttribute("data-guard") + "?")) e.preventDefault();
      return;
    }
    var form = elt.closest("[data-reloads-page]");
    if (!form) return;
    var dirty = dirtyForms().filter(function (f) { return f !== form; });
    if (dirty.length > 0 && !window.confirm("Your changes to " + names(dirty) + " are not saved. This reloads the page and they would be lost. Go on?")) {
      e.preventDefault();
      return;
    }
    agreed = true; // its answer may reload the page: the form's own typing was sent
  });
  // A swap that would replace a form with unsaved typing, made by
  // anything but that form itself (its Save, its Cancel), asks first.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    if (!target || !e.detail.shouldSwap) return;
    var from = e.detail.requestConfig ? e.detail.requestConfig.elt : null;
    var dirty = dirtyForms(target).filter(function (f) { return !(from && f.contains(from)); });
    if (dirty.length === 0) return;
    if (!window.confirm("Discard your unsaved changes to " + names(dirty) + "?")) e.detail.shouldSwap = false;
  });
  // Out-of-band refreshes (a panel beside a saved section, the live
  // refresh) keep a panel whose form holds unsaved typing, or is open
  // (formOpenIn), as it is.
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var t = e.detail.target;
    if (!t || !(dirtyForms(t).length > 0 || formOpenIn(t))) return;
    e.detail.shouldSwap = false;
    // A section's own notice (its changed-notice poller) says it; any
    // other panel says here that it is behind, and keeps the latest.
    if (!(t.id && t.id.indexOf("section-") === 0)) keepLatest(t, e.detail.fragment);
  });
  function shownText(el) {
    var copy = el.cloneNode(true);
    var note = copy.querySelector("[data-panel-changed]");
    if (note) note.remove();
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  // keepLatest marks a panel kept as it was for its typing: a notice at
  // its top says it changed meanwhile, with a button that shows the
  // latest (asking first, as the typing there is then lost).
  function keepLatest(panel, fragment) {
    var latest = fragment && fragment.firstElementChild ? fragment.firstElementChild.cloneNode(true) : null;
    if (!latest) return;
    latest.removeAttribute("hx-swap-oob");
    panel._latest = latest;
    // The same text as shown (a refresh of everything, this panel
    // unchanged): nothing to say. Typing is not in the text (a field's
    // typed value is not its content).
    if (shownText(panel) === shownText(latest)) return;
    if (panel.querySelector("[data-panel-changed]")) return;
    var note = document.createElement("p");
    note.setAttribute("role", "status");
    note.setAttribute("data-panel-changed", "");
    note.setAttribute("data-testid", "panel-changed");
    note.className = "mb-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800";
    note.textContent = "This changed meanwhile (another admin, or a job); what you typed here is kept. ";
    var show = document.createElement("button");
    show.type = "button";
    show.className = "font-medium underline";
    show.textContent = "Show the latest";
    show.addEventListener("click", function () {
      var dirty = dirtyForms(panel);
      if (dirty.length > 0 && !window.confirm("Discard your unsaved changes to " + names(dirty) + "?")) return;
      var fresh = panel._latest;
      panel.replaceWith(fresh);
      window.htmx.process(fresh);
    });
    note.appendChild(show);
    panel.insertBefore(note, panel.firstChild);
  }

  // The loan page follows other admins' and jobs' changes: its poller
  // (#loan-live, views.LoanLivePoller) asks every 10 s whether the
  // application is newer than the page (204 while it is not; else its
  // sections and panels out of band). It asks only while the tab is
  // visible and its user did something in the last 15 minutes; input
  // after that, or the tab shown again, asks at once and resumes.
  var LIVE_EVERY = 10000;
  var LIVE_IDLE = 15 * 60 * 1000;
  var lastInput = Date.now();
  var lastPoll = Date.now();
  function livePoll() {
    var poller = document.getElementById("loan-live");
    if (!poller || !window.htmx || document.visibilityState === "hidden") return;
    if (Date.now() - lastInput > LIVE_IDLE) return;
    lastPoll = Date.now();
    window.htmx.trigger(poller, "loan-live");
  }
  if (document.getElementById("loan-live")) {
    setInterval(livePoll, LIVE_EVERY);
    ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (type) {
      document.addEventListener(type, function () {
        var idle = Date.now() - lastInput > LIVE_IDLE;
        lastInput = Date.now();
        if (idle && Date.now() - lastPoll >= LIVE_EVERY) livePoll();
      }, { capture: true, passive: true });
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && Date.now() - lastPoll >= LIVE_EVERY) livePoll();
    });
  }
  // An out-of-band section refresh (the live refresh) never closes an
  // open section form or conflict prompt: its changed-notice tells the
  // editor instead.
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var t = e.detail.target;
    if (t && t.id && t.id.indexOf("section-") === 0 && t.querySelector("form")) e.detail.shouldSwap = false;
  });

  // Escape cancels an open section edit (asking first when it has changes).
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    var form = e.target.closest ? e.target.closest("form[data-guard]") : null;
    var cancel = form && form.querySelector("[data-cancel]");
    if (!cancel) return;
    e.preventDefault();
    cancel.click(); // asks first when the form has changes (htmx:confirm above)
  });

  // Keyboard shortcuts, listed in the ? help (views/layout.templ): / to
  // search, j and k to move between the list's rows (the row's link takes
  // the focus, so Enter opens it and screen readers announce it), ? for
  // the help. None acts while a field has the focus or with Ctrl, Alt or
  // Meta held, so typing and the browser's own keys are never taken.
  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }
  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-testid="loan-row"] td:first-child a'));
  }
  var help = document.getElementById("shortcuts-help");
  var helpButton = document.querySelector("[data-shortcuts-open]");
  function openHelp() {
    if (help && !help.open && typeof help.showModal === "function") help.showModal();
  }
  if (helpButton && help) {
    helpButton.classList.remove("hidden");
    helpButton.addEventListener("click", openHelp);
  }
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || typing(e.target)) return;
    if (help && help.open) return; // the dialog has the keyboard (Esc closes it)
    if (e.key === "?") {
      e.preventDefault();
      openHelp();
      return;
    }
    if (e.key === "/") {
      var search = document.getElementById("loan-search");
      if (!search) return;
      e.preventDefault();
      search.focus();
      search.select();
      return;
    }
    if (e.key !== "j" && e.key !== "k") return;
    var links = rowLinks();
    if (links.length === 0) return;
    e.preventDefault();
    var at = links.indexOf(document.activeElement);
    var next = at < 0 ? (e.key === "j" ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + (e.key === "j" ? 1 : -1)));
    links[next].focus();
    links[next].scrollIntoView({ block: "nearest" });
  });

  // "Select all on this page" ticks every row's box in place (without
  // JavaScript it is a link to the page with them ticked); pressed again
  // when all are ticked, it clears them.
  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("[data-select-all]") : null;
    if (!link) return;
    var boxes = document.querySelectorAll('input[form="bulk-form"][type="checkbox"]');
    if (boxes.length === 0) return;
    e.preventDefault();
    var all = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    Array.prototype.forEach.call(boxes, function (b) { b.checked = !all; });
    link.textContent = all ? "Select all on this page" : "Clear the selection";
  });

  // Exports of the filtered list (CSV, Excel: data-export="<what>") are
  // fetched rather than followed, so the page shows one is being prepared
  // and how far it got ("3,200 of 10,000 rows", from the server's
  // X-Export-Rows; an Excel file by size, as it is sent whole), a second
  // click starts nothing while one runs, a refusal (a mistyped filter) is
  // said beside the links, and the file is saved under the server's name.
  // Only a file is ever saved: a page instead (the sign-in page after the
  // session ended, which fetch reaches by following the redirect; any
  // other HTML answer) is said as such, never saved as the export. The
  // status line (its place kept in the page, views/loans.templ) offers a
  // Cancel while it runs, and an export that receives nothing for
  // EXPORT_IDLE is stopped and says so; both give the links back.
  // Modified clicks, and browsers without fetch streams or
  // AbortController, download as plain links (as without JavaScript).
  var EXPORT_IDLE = 120000;
  var exporting = false;
  function grouped(n) {
    return n.toLocaleString("en-IN");
  }
  function exportLinks(busy) {
    var links = document.querySelectorAll("a[data-export]");
    for (var i = 0; i < links.length; i++) {
      if (busy) links[i].setAttribute("aria-disabled", "true");
      else links[i].removeAttribute("aria-disabled");
    }
  }
  // exportAction shows the status line's Cancel button or Sign in link
  // (views/loans.templ), or neither.
  function exportAction(which) {
    var cancel = document.querySelector("[data-export-cancel]");
    var signIn = document.querySelector("[data-export-sign-in]");
    if (cancel) cancel.hidden = which !== "cancel";
    if (signIn) {
      signIn.hidden = which !== "sign-in";
      signIn.href = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    }
  }
  function exportError(message) {
    var err = new Error(message);
    err.exportMessage = true;
    return err;
  }
  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a[data-export]") : null;
    if (!link || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    if (typeof fetch !== "function" || typeof TextDecoder !== "function" || !window.ReadableStream || typeof AbortController !== "function") return;
    e.preventDefault();
    if (exporting) return; // one at a time: the running one says how far it is
    exporting = true;
    var what = link.getAttribute("data-export");
    var status = document.querySelector("[data-export-status]") || { textContent: "" };
    var control = new AbortController();
    var stopped = ""; // why it was aborted: "cancelled" or "timeout"
    var idle = 0;
    function waitMore() {
      clearTimeout(idle);
      idle = setTimeout(function () {
        stopped = "timeout";
        control.abort();
      }, EXPORT_IDLE);
    }
    var cancel = document.querySelector("[data-export-cancel]");
    function cancelled() {
      stopped = "cancelled";
      control.abort();
    }
    if (cancel) cancel.addEventListener("click", cancelled);
    exportLinks(true);
    link.setAttribute("aria-busy", "true");
    status.textContent = "Preparing the " + what + "…";
    exportAction("cancel");
    waitMore();
    var total = 0;
    var name = "";
    fetch(link.href, { credentials: "same-origin", headers: { Accept: "*/*" }, signal: control.signal })
      .then(function (res) {
        var type = (res.headers.get("Content-Type") || "").toLowerCase();
        var path = res.url ? new URL(res.url, window.location.href).pathname : "";
        if (res.status === 401 || (res.redirected && path === "/login")) {
          control.abort(); // the sign-in page is not read
          throw exportError("session");
        }
        if (!res.ok) {
          return res.text().then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var msg = doc.querySelector('[data-testid="error-page"] h1 + p');
            throw exportError("The export failed (" + res.status + ")" + (msg ? ": " + msg.textContent.trim() : ". Please try again."));
          });
        }
        if (res.redirected || type.indexOf("text/html") === 0) {
          control.abort();
          throw exportError("The export failed: the server answered with a page, not the file. Reload the page and try again.");
        }
        waitMore();
        total = parseInt(res.headers.get("X-Export-Rows") || "0", 10);
        var m = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
        name = m ? m[1] : "loans-export";
        var reader = res.body.getReader();
        var chunks = [];
        var bytes = 0;
        var lines = 0;
        var csv = /\.csv$/.test(name);
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) return new Blob(chunks, { type: type || "application/octet-stream" });
            waitMore();
            chunks.push(r.value);
            bytes += r.value.length;
            if (csv) {
              for (var i = 0; i < r.value.length; i++) if (r.value[i] === 10) lines++;
              var rows = Math.max(0, Math.min(total, lines - 1)); // the first line names the columns
              status.textContent = "Preparing the " + what + "… " + grouped(rows) + " of " + grouped(total) + " rows";
            } else {
              status.textContent = "Preparing the " + what + "… " + grouped(Math.round(bytes / 1024)) + " KB";
            }
            return pump();
          });
        }
        return pump();
      })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = url;
        a.download = name;
        a.hidden = true;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () {
          URL.revokeObjectURL(url);
        }, 60000);
        status.textContent = "Downloaded " + name + " (" + grouped(total) + " " + (total === 1 ? "row" : "rows") + ").";
      })
      .catch(function (err) {
        if (err && err.exportMessage && err.message === "session") {
          status.textContent = "Your session ended.";
          return "sign-in";
        }
        if (err && err.exportMessage) status.textContent = err.message;
        else if (stopped === "cancelled") status.textContent = "Export cancelled: nothing was downloaded.";
        else if (stopped === "timeout") status.textContent = "The export stopped: the server sent nothing for " + EXPORT_IDLE / 60000 + " minutes. Nothing was downloaded; try again, or narrow the filters.";
        else status.textContent = "The export could not be downloaded. Check your connection and try again.";
      })
      .then(function (action) {
        clearTimeout(idle);
        if (cancel) cancel.removeEventListener("click", cancelled);
        exportAction(action || "");
        exporting = false;
        exportLinks(false);
        link.removeAttribute("aria-busy");
        if (stopped === "cancelled") link.focus(); // the Cancel it was on is gone
      });
  });

  document.addEventListener("htmx:sendError", function () {
    showError("The server could not be reached. Check your connection and try again.");
  });
})();
