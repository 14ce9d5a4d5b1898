/** CloudWatch metric names (EMF, namespace from POWERTOOLS_METRICS_NAMESPACE), shared with the stack's alarms. */
export const METRICS_NAMESPACE = 'HypervisorNotifications';
export const METRIC = {
  /** Notifications published, with dimension `EventType`. */
  notificationsSent: 'NotificationsSent',
  /** MODIFY records whose watched fields did not change. */
  updatesSuppressed: 'UpdatesSuppressed',
  /** Records quarantined (invalid image or permanently refused entry). */
  recordsRejected: 'RecordsRejected',
  /** PutEvents entries sent again after a retryable failure. */
  putEventsRetries: 'PutEventsRetries',
  /** PutEvents entries that could not be published in this invocation. */
  putEventsFailures: 'PutEventsFailures',
  /** Records reported back to Lambda as batch item failures. */
  batchItemFailures: 'BatchItemFailures',
  /** Records written in another region (writer region option): that region's notifier notifies them. */
  writesOfOtherRegions: 'WritesOfOtherRegions',
  /** Records without a usable writer region mark (writer region option): notified, as without the option. */
  unmarkedWrites: 'UnmarkedWrites',
  /** Heartbeat events accepted by the bus (contract/heartbeat.ts); none for a minute is the "pipeline stalled" sign. */
  heartbeatsPublished: 'HeartbeatsPublished',
  /** Milliseconds from a heartbeat's write to its PutEvents answered, one value per heartbeat. */
  heartbeatLag: 'HeartbeatLag',
} as const;
