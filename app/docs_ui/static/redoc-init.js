// Starts ReDoc on #redoc. A file, not an inline script (the page's CSP allows scripts from 'self').
"use strict";
(function () {
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, { hideDownloadButton: false }, root);
})();
