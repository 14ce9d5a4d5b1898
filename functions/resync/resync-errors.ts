/** Errors of a resync run. */

/** Resync configuration, state or situation that cannot work. */
export class ResyncError extends Error {
  override readonly name: string = 'ResyncError';
}
