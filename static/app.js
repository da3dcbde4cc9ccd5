// Loan Desk's own browser behaviour. Kept in this file, never inline:
// the Content-Security-Policy allows scripts from 'self' only, and htmx's
// eval-based features (hx-on, js: values) are switched off.
(function () {
  "use strict";

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

  document.addEventListener("htmx:sendError", function () {
    showError("The server could not be reached. Check your connection and try again.");
  });
})();
