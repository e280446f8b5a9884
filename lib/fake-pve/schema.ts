import { paramError } from './errors';
import type { ParamMap } from './params';

export type PropertyFormat =
  | 'pve-vmid'
  | 'pve-node'
  | 'dns-name'
  | 'pve-poolid'
  | 'pve-storage-id'
  | 'pve-configid';

export interface PropertySpec {
  type: 'string' | 'integer' | 'number' | 'boolean';
  format?: PropertyFormat;
  optional?: boolean;
  maxLength?: number;
  minimum?: number;
  enum?: string[];
}

export type Schema = Record<string, PropertySpec>;

/** Validated parameters: every present value as a string, booleans as `0`/`1`. */
export type VerifiedParams = Record<string, string>;

const MISSING = 'property is missing and it is not optional';
const UNKNOWN =
  'property is not defined in schema and the schema does not allow additional properties';

/**
 * Checks parameters like pve-common JSONSchema.pm (`validate` / `check_prop` / `check_type`):
 * every problem is collected, then one 400 `Parameter verification failed.` carries them all.
 * Format messages end with a newline, as the Perl verifiers `die` them.
 */
export function verifyParams(params: ParamMap, schema: Schema): VerifiedParams {
  const errors: Record<string, string> = {};
  const verified: VerifiedParams = {};

  for (const [key, spec] of Object.entries(schema)) {
    const value = params.get(key);
    if ((value === null || value === undefined) && !spec.optional) errors[key] = MISSING;
  }

  for (const [key, value] of params) {
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!spec) {
      errors[key] = UNKNOWN;
      continue;
    }
    if (value === null || value === undefined) continue;

    const checked = checkProperty(spec, value);
    if (checked.error !== undefined) errors[key] = checked.error;
    else verified[key] = checked.value;
  }

  if (Object.keys(errors).length > 0) throw paramError(errors);
  return verified;
}

function checkProperty(spec: PropertySpec, value: unknown): { value: string; error?: string } {
  const typeError = checkType(spec.type, value);
  if (typeError !== undefined) return { value: '', error: typeError };

  const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);

  const formatError = spec.format ? checkFormat(spec.format, text) : undefined;
  if (formatError !== undefined) return { value: text, error: `invalid format - ${formatError}` };

  if (spec.maxLength !== undefined && text.length > spec.maxLength) {
    return { value: text, error: `value may only be ${spec.maxLength} characters long` };
  }
  if (spec.minimum !== undefined && isNumber(text) && Number(text) < spec.minimum) {
    return { value: text, error: `value must have a minimum value of ${spec.minimum}` };
  }
  if (spec.enum && !spec.enum.includes(text)) {
    return {
      value: text,
      error: `value '${text}' does not have a value in the enumeration '${spec.enum.join(', ')}'`,
    };
  }
  return { value: text };
}

function checkType(type: PropertySpec['type'], value: unknown): string | undefined {
  if (Array.isArray(value)) return `type check ('${type}') failed - got ARRAY`;
  if (typeof value === 'object') return `type check ('${type}') failed - got HASH`;
  if (typeof value === 'boolean') {
    return type === 'boolean' ? undefined : `type check ('${type}') failed - got JSON::PP::Boolean`;
  }

  const text = String(value);
  const ok =
    type === 'string' ||
    (type === 'boolean' && (text === '0' || text === '1')) ||
    (type === 'integer' && /^[+-]?\d+$/.test(text)) ||
    (type === 'number' && isNumber(text));
  return ok ? undefined : `type check ('${type}') failed - got '${text}'`;
}

function isNumber(text: string): boolean {
  return /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(text);
}

const NAME_LABEL = '[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?';

/** The registered format verifiers of pve-common JSONSchema.pm and pve-access-control. */
function checkFormat(format: PropertyFormat, text: string): string | undefined {
  switch (format) {
    case 'pve-vmid':
      return /^[1-9][0-9]{2,8}$/.test(text)
        ? undefined
        : 'value does not look like a valid VM ID\n';
    case 'pve-node':
      return new RegExp(`^${NAME_LABEL}$`).test(text)
        ? undefined
        : 'value does not look like a valid node name\n';
    case 'dns-name':
      return new RegExp(`^(${NAME_LABEL}\\.)*${NAME_LABEL}$`).test(text)
        ? undefined
        : 'value does not look like a valid DNS name\n';
    case 'pve-poolid':
      if (text.split('/').length > 3) {
        return `pool name '${text}' nested too deeply (max levels = 3)\n`;
      }
      return /^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/.test(text)
        ? undefined
        : `pool name '${text}' contains invalid characters\n`;
    case 'pve-storage-id':
      if (text.length < 2) return `storage ID '${text}' cannot be shorter than 2 characters\n`;
      return /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(text)
        ? undefined
        : `storage ID '${text}' contains illegal characters\n`;
    case 'pve-configid':
      return /^[a-z][a-z0-9_-]+$/i.test(text) ? undefined : `invalid configuration ID '${text}'\n`;
  }
}
