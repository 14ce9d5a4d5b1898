/**
 * The resync marker: the attribute a resync run writes (`SET resync_run = :run`) to every
 * live compute node item, so that the item's next stream record carries the run through the
 * notifier. It is not a payload field and never appears in a payload; the notifier turns a
 * change of it alone into a full-state `compute_node.update` with `change.origin: "resync"`
 * and `change.resync_run` = the marker's value (see docs/resync-and-indexer.md).
 */
export const RESYNC_MARKER_ATTRIBUTE = 'resync_run';
