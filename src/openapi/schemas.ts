import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** Where a named schema lives in the document. */
export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * zod's default bounds of `.int()`: an integer with no bound of its own gets these, and viewers
 * show them as example values. They say nothing a reader needs, so they are left out.
 */
function dropSafeIntegerBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

const DEFS = '#/$defs/';
const COMPONENTS = '#/components/schemas/';

/** Rewrite every `#/$defs/X` reference of a converted schema to `#/components/schemas/<names[X] ?? X>`. */
function pointRefsAtComponents(node: unknown, names: Record<string, string>): void {
  if (Array.isArray(node)) {
    for (const item of node) pointRefsAtComponents(item, names);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as JsonSchema;
  if (typeof obj.$ref === 'string' && obj.$ref.startsWith(DEFS)) {
    const id = obj.$ref.slice(DEFS.length);
    obj.$ref = COMPONENTS + (names[id] ?? id);
  }
  for (const value of Object.values(obj)) pointRefsAtComponents(value, names);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * zod -> JSON Schema 2020-12 (OpenAPI 3.1's dialect) for one document. A schema named with
 * `.meta({ id })` becomes one entry of `components.schemas`, referenced by `$ref` wherever it is
 * used, so an error body, a user or an API key is described once.
 */
export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const converted = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      target: 'draft-2020-12',
      reused: 'inline',
      override: dropSafeIntegerBounds,
    }) as JsonSchema;
    const { $schema: _drop, $defs, ...rest } = converted;
    const defs = ($defs ?? {}) as Record<string, JsonSchema>;
    // Names first (an input shape may be "<id>Input"), then every reference follows them.
    const names: Record<string, string> = {};
    for (const [id, def] of Object.entries(defs)) {
      const probe = structuredClone(def);
      pointRefsAtComponents(probe, {});
      names[id] = this.nameFor(id, probe, io);
    }
    for (const [id, def] of Object.entries(defs)) {
      pointRefsAtComponents(def, names);
      this.schemas[names[id]!] ??= def;
    }
    pointRefsAtComponents(rest, names);
    return rest;
  }

  private readonly namedBy = new Map<z.ZodType, { $ref: string }>();

  /**
   * `schema` as a component: its own id when it has one, else `name` (the first operation that
   * uses it). A schema several operations share is described once.
   */
  named(name: string, schema: z.ZodType, io: 'input' | 'output'): { $ref: string } {
    const known = this.namedBy.get(schema);
    if (known) return known;
    const converted = this.convert(schema, io);
    let ref: { $ref: string };
    if (typeof converted.$ref === 'string' && Object.keys(converted).length === 1) ref = { $ref: converted.$ref };
    else {
      let free = name;
      for (let n = 2; this.schemas[free]; n++) free = `${name}${n}`;
      this.schemas[free] = converted;
      ref = schemaRef(free);
    }
    this.namedBy.set(schema, ref);
    return ref;
  }

  /**
   * The component name of a schema named `id`. Its input and output shapes differ when a field
   * has a default (optional on the way in, always there on the way out): the input shape is then
   * "<id>Input". Two different schemas with one name are a mistake in the route definitions.
   */
  private nameFor(id: string, def: JsonSchema, io: 'input' | 'output'): string {
    const existing = this.schemas[id];
    if (!existing || same(existing, def)) return id;
    if (io === 'input' && !id.endsWith('Input')) return this.nameFor(`${id}Input`, def, io);
    throw new Error(`Two different schemas are named "${id}" in the API description`);
  }
}
