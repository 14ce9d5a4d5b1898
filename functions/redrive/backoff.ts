/**
 * How long the redrive waits before trying an object again: the base delay doubled with each
 * failed attempt, at most the maximum (SQS's visibility timeout tops out at 12 hours). No
 * jitter: failed objects are few, and a bus coming back serves them all at once anyway.
 */
import type { BackoffSettings } from './config.js';

/** Delay in seconds after the `attempts`-th failed attempt (1-based). */
export function backoffSeconds(attempts: number, s: Pick<BackoffSettings, 'baseDelaySeconds' | 'maxDelaySeconds'>): number {
  const n = Math.max(1, Math.floor(attempts));
  // 2^(n-1) overflows to Infinity long after it passed the cap: min() keeps it finite.
  return Math.min(s.maxDelaySeconds, s.baseDelaySeconds * 2 ** Math.min(n - 1, 40));
}

/** What to do with a message whose object must wait: hide it longer, or send it again before the queue drops it. */
export function nextStep(
  attempts: number,
  messageAgeSeconds: number,
  s: BackoffSettings,
): { readonly kind: 'hide'; readonly seconds: number } | { readonly kind: 'resend'; readonly delaySeconds: number } {
  const seconds = backoffSeconds(attempts, s);
  // A margin of an hour (or a tenth of a short retention) so the message is re-sent before SQS deletes it.
  const margin = Math.min(3600, Math.floor(s.queueRetentionSeconds / 10));
  if (messageAgeSeconds + seconds >= s.queueRetentionSeconds - margin) return { kind: 'resend', delaySeconds: Math.min(seconds, 900) };
  return { kind: 'hide', seconds };
}
