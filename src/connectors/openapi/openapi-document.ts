/** An OpenAPI 3 document as parsed JSON (Swagger 2 documents are converted to this shape). */
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths?: Record<string, unknown> };
