#!/usr/bin/env python3
"""A real trytond for the apps' browser tests and benchmark: a fresh SQLite
database with the API (the test server of instrument_service_api, with its
engineers, their passwords, and the dispatcher) and the H5 builds: the
customer app's at /h5/, the engineer app's at /engineer/ (at least one).

    python tests/apps/serve.py [--customer-app DIR] [--engineer-app DIR]
        [--engineers N]

Prints one JSON line once the server answers:
    {"origin", "api", "h5", "engineer", "log", "people", "database",
     "directory"}
("h5" or "engineer" is null when that app is not served; "people" holds
the engineers' and the dispatcher's logins and passwords)
then serves until its standard input closes (the caller exits or closes
the pipe), stops the server and removes its database. The server log
holds the development login codes ("development login code for PHONE:
CODE"). Exits with status 3 when the log shows a traceback: an API answer
of 500, which no test may cause.
"""
import argparse
import json
import os
import signal
import sys

# The apps are tested on SQLite, once, whatever backend the suite runs on
os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'

from trytond.modules.instrument_service_api.tests.server import (  # noqa: E402
    APIServer)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--customer-app',
        help="the folder of the customer H5 build, served at /h5/")
    parser.add_argument('--engineer-app',
        help="the folder of the engineer H5 build, served at /engineer/")
    parser.add_argument('--engineers', type=int, default=2)
    parser.add_argument('--service-phone', default='400-820-1234',
        help="the service desk's phone the app shows (GET /config)")
    options = parser.parse_args(argv)
    if not (options.customer_app or options.engineer_app):
        parser.error("give --customer-app, --engineer-app or both")
    # Stopped by a signal, still stop the server and remove its database
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    # An app not given is not served (an empty value)
    server = APIServer(engineers=options.engineers, config={
            'instrument_service_api': {
                'customer_app': os.path.abspath(options.customer_app)
                if options.customer_app else '',
                'engineer_app': os.path.abspath(options.engineer_app)
                if options.engineer_app else '',
                }})
    server.start()
    try:
        # As an administrator sets it in the back office
        server.back_office('model.instrument_service.configuration.write',
            [1], {'service_phone': options.service_phone})
        origin = 'http://127.0.0.1:%s' % server.port
        print(json.dumps({
                    'origin': origin,
                    'api': server.url,
                    'h5': origin + '/h5/' if options.customer_app else None,
                    'engineer': (origin + '/engineer/'
                        if options.engineer_app else None),
                    'log': server.log_path,
                    'people': server.people,
                    'database': server.database,
                    'directory': server.directory,
                    }), flush=True)
        # Serve until the caller closes our standard input
        for _ in sys.stdin:
            pass
        log = server.server_log()
    finally:
        server.stop()
    if 'Traceback' in log:
        start = max(log.index('Traceback') - 500, 0)
        sys.stderr.write('The server logged a traceback:\n'
            + log[start:start + 5000] + '\n')
        return 3
    return 0


if __name__ == '__main__':
    sys.exit(main())
