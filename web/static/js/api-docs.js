// Starts Swagger UI on the API documentation page, from assets the app serves itself.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || typeof window.SwaggerUIBundle !== "function") return;
  // validatorUrl null: Swagger UI would otherwise send the schema to an outside validator.
  window.SwaggerUIBundle({
    url: node.dataset.specUrl,
    domNode: node,
    deepLinking: true,
    validatorUrl: null,
  });
})();
