/**
 * Nova soft-deletes a compute node: `deleted` becomes non-zero (Nova writes the row id).
 * Some tables store it as a boolean; both are understood. A missing or NULL `deleted`
 * means a live node.
 */
import { SOFT_DELETE_ATTRIBUTE } from './contract/watched-fields.js';
import { attributeType } from './codec/attribute-codecs.js';
import { integerText } from './codec/nova-integer.js';
import type { FieldIssue } from './errors.js';
import type { Image } from './stream-record.js';

/** Whether the image is soft-deleted, or the issue with its `deleted` attribute. */
export function isSoftDeleted(image: Image): boolean | FieldIssue {
  const value = image[SOFT_DELETE_ATTRIBUTE];
  if (value === undefined) return false;
  switch (typeof value === 'object' && value !== null ? attributeType(value) : undefined) {
    case 'NULL':
      return false;
    case 'BOOL':
      if (typeof value.BOOL === 'boolean') return value.BOOL;
      break;
    case 'N':
      if (typeof value.N === 'string') {
        const n = integerText(value.N);
        if (n.ok) return n.digits !== '0';
      }
      break;
  }
  return { field: SOFT_DELETE_ATTRIBUTE, value, rule: 'must be an integer (0 = live, as Nova writes it), a boolean, or NULL' };
}
