"""oslo.messaging on the other side of the AMQP bridge (Debian's python3-oslo.messaging).

listen URL [TOPIC]   a notification listener (exchange ``nova``, topic ``versioned_notifications``
                     by default), as Searchlight runs one: prints ``{"ready": true}`` once it
                     listens, then one JSON line per notification its endpoint receives
                     (ctxt, publisher_id, event_type, payload, metadata). Runs until stdin closes.
notify URL TOPIC     publishes one notification with oslo's own ``messagingv2`` notifier, as Nova
                     does, so a test can compare what the broker holds with what we publish.
"""
import json
import sys
import threading

import oslo_messaging
from oslo_config import cfg


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Endpoint:
    def _record(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        emit({"priority": priority, "ctxt": ctxt, "publisher_id": publisher_id, "event_type": event_type,
              # The payload's own text, compact and key order kept, to compare byte for byte.
              "payload_json": json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
              "metadata": metadata})

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record("info", ctxt, publisher_id, event_type, payload, metadata)

    def warn(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record("warn", ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record("error", ctxt, publisher_id, event_type, payload, metadata)


def main():
    mode, url = sys.argv[1], sys.argv[2]
    # As nova/rpc.py does: Nova's control_exchange is "nova".
    oslo_messaging.set_transport_defaults(control_exchange="nova")
    conf = cfg.ConfigOpts()
    conf([], project="bridge-test")
    transport = oslo_messaging.get_notification_transport(conf, url=url)
    # Reconnect quickly after the tests' broker outage (defaults back off up to 30 s).
    conf.set_override("rabbit_interval_max", 2, group="oslo_messaging_rabbit")
    if mode == "listen":
        topic = sys.argv[3] if len(sys.argv) > 3 else "versioned_notifications"
        targets = [oslo_messaging.Target(exchange="nova", topic=topic)]
        listener = oslo_messaging.get_notification_listener(transport, targets, [Endpoint()], executor="threading")
        listener.start()
        emit({"ready": True})
        sys.stdin.read()  # the test closes stdin to stop the listener
        listener.stop()
        listener.wait()
    elif mode == "notify":
        topic = sys.argv[3]
        notifier = oslo_messaging.Notifier(transport, publisher_id="nova-compute:oracle", driver="messagingv2", topics=[topic])
        notifier.info({"user": "oracle"}, "compute_node.create", {"nova_object.name": "ComputeNodePayload", "n": 12345678901234567890})
        emit({"sent": True})
    transport.cleanup()


if __name__ == "__main__":
    main()
