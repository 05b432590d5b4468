/**
 * The shipped default lists (src/data/default-lists.ts), versioned with the service and
 * validated when the module loads. They are on by default (`layers.defaults.enabled`);
 * `layers.defaults.disable` leaves lists out by id.
 */
import { z } from 'zod';
import raw from './data/default-lists.js';
import { VALIDATOR_NAMES } from './layers/validators.js';

const direction = z.enum(['input', 'output']);
const level = z.enum(['warning', 'blocked']);

const termList = z.strictObject({
  id: z.string().regex(/^[a-z0-9_]{1,64}$/),
  kind: z.enum(['keyword', 'injection']),
  category: z.string().min(1),
  level,
  appliesTo: z.array(direction).min(1).optional(),
  terms: z.array(z.string().min(1)).min(1),
});

const regexList = z.strictObject({
  id: z.string().regex(/^[a-z0-9_]{1,64}$/),
  kind: z.literal('regex'),
  category: z.string().min(1),
  level,
  appliesTo: z.array(direction).min(1).optional(),
  patterns: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        pattern: z.string().min(1),
        flags: z.string().regex(/^[imsu]*$/),
        validator: z.enum(VALIDATOR_NAMES).optional(),
      }),
    )
    .min(1),
});

const file = z.strictObject({
  version: z.string().regex(/^\d{4}\.\d{1,2}\.\d+$/),
  description: z.string(),
  lists: z.array(z.discriminatedUnion('kind', [termList, regexList])).min(1),
});

export type DefaultList = z.output<typeof file>['lists'][number];
export type TermList = z.output<typeof termList>;
export type RegexList = z.output<typeof regexList>;

const parsed = file.parse(raw);

export const DEFAULT_LISTS_VERSION: string = parsed.version;
export const DEFAULT_LISTS: readonly DefaultList[] = parsed.lists;
export const DEFAULT_LIST_IDS: readonly string[] = parsed.lists.map((l) => l.id);

/** The default lists left after `disable`, in file order. */
export function enabledDefaultLists(enabled: boolean, disable: readonly string[]): DefaultList[] {
  if (!enabled) return [];
  const off = new Set(disable);
  return DEFAULT_LISTS.filter((l) => !off.has(l.id));
}
