// Event Hub's Swagger UI set-up, served at /swagger-ui/swagger-initializer.js instead of the
// swagger-ui-dist default (the petstore): loads this service's /v3/api-docs and keeps the
// bearer token given to "Authorize" across page reloads.
window.onload = function () {
  // Relative to the page, so the UI also works behind a proxy that adds a path prefix.
  const apiDocs = new URL("../v3/api-docs", document.baseURI).href;
  window.ui = SwaggerUIBundle({
    url: apiDocs,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
