"""`python -m connectors.sink --source store --target warehouse`: run one sink."""

import argparse
import logging
import os

from pythonjsonlogger.json import JsonFormatter

from connectors.sink import metrics
from connectors.sink.consumer import Sink, SinkConfig, install_signal_handlers
from ordersync.environment import BadSetting, setting, whole
from ordersync.mapping import SIDES


def configure_logging() -> None:
    """One JSON object per log line on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=os.environ.get("SINK_LOG_LEVEL", "INFO"), handlers=[handler])


def main() -> None:
    """Parse arguments, start the metrics server and run the sink until signalled."""
    parser = argparse.ArgumentParser(prog="python -m connectors.sink", description=__doc__)
    parser.add_argument("--source", choices=SIDES, required=True)
    parser.add_argument("--target", choices=SIDES, required=True)
    args = parser.parse_args()
    if args.source == args.target:
        parser.error("--source and --target must differ")
    configure_logging()
    try:
        config = SinkConfig.from_env(args.source, args.target)
        port = setting(os.environ, "SINK_METRICS_PORT", whole(1, 65535), 9101)
    except BadSetting as error:
        parser.error(str(error))  # exit 2 with the variable's name, before any connection
    sink = Sink(config)
    install_signal_handlers(sink)
    metrics.polled()
    metrics.serve(os.environ.get("SINK_METRICS_HOST", "127.0.0.1"), port)
    sink.run()


if __name__ == "__main__":
    main()
