// Live refresh: every data-refresh seconds, fetch this page again and swap <main>,
// unless the reader is typing in a form or the tab is hidden. No build step.
(function () {
  var main = document.getElementById("main");
  var seconds = main && parseInt(main.getAttribute("data-refresh"), 10);
  if (!seconds) { return; }
  setInterval(function () {
    var active = document.activeElement;
    if (document.hidden || (active && main.contains(active) && active.tagName !== "BODY")) { return; }
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (fresh) { main.innerHTML = fresh.innerHTML; }
      })
      .catch(function () {});
  }, seconds * 1000);
})();
