/** The event contract: payload definitions with their version history, the Detail, the schemas. */
export * from './compute-node-payload.js';
export * from './compute-node-delete-payload.js';
export * from './notifications.js';
export * from './watched-fields.js';
export * from './json-schemas.js';
export * from './resync-marker.js';
export * from './resync-run-event.js';
export * from './heartbeat.js';
export * from './schema-fingerprint.js';
export type { PayloadDefinition, PayloadData } from './payload-definition.js';
export type { NovaField, NovaFieldKind } from './nova-fields.js';
