// Validates an OpenAPI document with an independent validator, @apidevtools/swagger-parser:
// the document must match the official OpenAPI 3.0 JSON schema and every $ref must resolve.
// Exits 0 and prints a summary when valid, 1 with the validator's message otherwise.
//
// node validate_openapi.js FILE.json
"use strict";

const SwaggerParser = require("@apidevtools/swagger-parser");

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error("usage: node validate_openapi.js FILE.json");
  // validate() parses, resolves and dereferences every $ref, then checks the schema.
  const api = await SwaggerParser.validate(file);
  if (!/^3\.0\.\d+$/.test(api.openapi)) throw new Error(`expected OpenAPI 3.0.x, got ${api.openapi}`);
  let operations = 0;
  for (const item of Object.values(api.paths))
    for (const method of ["get", "put", "post", "delete", "patch", "head", "options", "trace"])
      if (item[method]) operations += 1;
  console.log(`valid OpenAPI ${api.openapi}: ${Object.keys(api.paths).length} paths, ` +
              `${operations} operations (@apidevtools/swagger-parser)`);
}

main().catch((e) => {
  console.error(`invalid: ${e.message}`);
  process.exit(1);
});
