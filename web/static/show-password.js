// show-password: progressive enhancement of the "Show password" link on the
// invitation and reset pages. Without JavaScript the link reloads the page
// with ?show=1 (the fields come back as plain text); with it, the link becomes
// a button that switches the fields in place and keeps what was typed (its
// label says what the next press does).
// Loaded from 'self' only (CSP); no inline script, no other effect.
'use strict';
(function () {
  var links = document.querySelectorAll('a[data-show-password]');
  Array.prototype.forEach.call(links, function (link) {
    var fields = document.querySelectorAll('input[data-password]');
    if (!fields.length) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'link';
    var showLabel = link.getAttribute('data-label-show');
    var hideLabel = link.getAttribute('data-label-hide');
    var shown = fields[0].type === 'text';
    var ids = Array.prototype.map.call(fields, function (f) { return f.id; }).join(' ');
    button.setAttribute('aria-controls', ids);
    function paint() {
      button.textContent = shown ? hideLabel : showLabel;
      Array.prototype.forEach.call(fields, function (f) { f.type = shown ? 'text' : 'password'; });
    }
    button.addEventListener('click', function () {
      shown = !shown;
      paint();
    });
    paint();
    link.parentNode.replaceChild(button, link);
    var hidden = document.querySelector('input[type=hidden][name=show]');
    if (hidden) hidden.parentNode.removeChild(hidden);
  });
})();
