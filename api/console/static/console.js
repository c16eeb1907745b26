// The console's shared script: small on purpose (pages are rendered on the server and work without it).
"use strict";
(function () {
  // Sign-in: send the browser's time zone, so times are shown in it from the first page.
  const tz = document.getElementById("tz");
  if (tz && window.Intl) {
    tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }
  // Forms that change something say so first when they carry data-confirm.
  document.addEventListener("submit", function (event) {
    const message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // Filter bars submit on change (a "Apply" button stays for keyboard and no-script use).
  document.querySelectorAll("form.filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });
})();
