"""`python -m connectors.sink --source store --target warehouse`: run one sink."""

import argparse
import logging
import os

from pythonjsonlogger.json import JsonFormatter

from connectors.sink import metrics
from connectors.sink.config import SinkConfig
from connectors.sink.loop import Sink, install_signal_handlers
from ordersync.environment import BadSetting
from ordersync.sync.mapping import SIDES


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
    except BadSetting as error:
        parser.error(str(error))  # exit 2 with the variable's name, before any connection
    sink = Sink(config)
    install_signal_handlers(sink)
    sink.health.polled()
    metrics.serve(config.metrics_host, config.metrics_port, sink.health)
    sink.run()


if __name__ == "__main__":
    main()
