/*
 * sms-counter: the live SMS length under a template's text (progressive
 * enhancement: the server shows the same count on every page load, preview
 * and save). Mirrors src/comms/segments.c: GSM-7 (160, or 153 per part;
 * extension characters count 2) unless a character is outside it, then UCS-2
 * (70, or 67 per part; characters outside the BMP count 2); an escape pair or
 * a surrogate pair never splits between parts. Counts the text as written:
 * tags are replaced when the message is sent.
 */
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "\f^{}\\[~]|€";

  function septets(ch) {
    if (BASIC.indexOf(ch) >= 0) return 1;
    if (EXT.indexOf(ch) >= 0) return 2;
    return 0;
  }

  function count(text) {
    var chars = Array.from(text), gsm = true, i;
    for (i = 0; i < chars.length; i++) {
      if (septets(chars[i]) === 0) { gsm = false; break; }
    }
    var cap = gsm ? 153 : 67, single = gsm ? 160 : 70;
    var total = 0, parts = 1, fill = 0;
    for (i = 0; i < chars.length; i++) {
      var size = gsm ? septets(chars[i]) : chars[i].length; /* UTF-16 units */
      total += size;
      if (fill + size > cap) { parts++; fill = 0; }
      fill += size;
    }
    return { chars: total, segments: total <= single ? 1 : parts,
             encoding: gsm ? "GSM-7" : "UCS-2",
             per: gsm ? (total <= single ? 160 : 153) : (total <= single ? 70 : 67) };
  }

  function bind(area) {
    var out = document.getElementById(area.getAttribute("data-sms-counter"));
    if (!out) return;
    var update = function () {
      var c = count(area.value);
      var set = function (cls, v) {
        var el = out.querySelector("." + cls);
        if (el) el.textContent = v;
      };
      set("sms-chars", c.chars);
      set("sms-segments", c.segments);
      set("sms-per", c.per);
      set("sms-enc", c.encoding);
      var many = out.querySelector(".sms-many");
      if (many) many.hidden = c.segments <= 1;
    };
    area.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var areas = document.querySelectorAll("textarea[data-sms-counter]");
    for (var i = 0; i < areas.length; i++) bind(areas[i]);
  });
})();
