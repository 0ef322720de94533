// Starts Swagger UI on /docs (a file, not an inline script: the Content-Security-Policy allows none).
const root = document.getElementById("swagger-ui");
window.ui = window.SwaggerUIBundle({
  url: root.dataset.openapi,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null, // the default badge loads an image from validator.swagger.io
});
