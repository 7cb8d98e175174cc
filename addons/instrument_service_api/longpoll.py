# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Waiting for a message of Tryton's bus with a timeout of one's own.

Tryton's Bus.subscribe() waits [bus] long_polling_timeout seconds (5
minutes by default), longer than a mobile client waits for an answer. So
wait() listens to the NOTIFY that Bus.publish() sends, through the public
API of the backend, as trytond's bus and cache listeners do: one listener
thread (and connection) per process and database, started by the first
wait and ended once nobody waited for [database] timeout seconds, or when
its connection is lost (a restart of the database). Then it wakes every
wait, to look in the database now (and answer 503 while it is out of
reach); the next wait starts another listener."""
import collections
import json
import logging
import os
import selectors
import threading
import time

from trytond import backend
from trytond.bus import Bus, LongPollingBus
from trytond.config import config

from . import availability, trytond_internals

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# database name -> its Listener, in this process
_listeners = {}


def _forget():
    "A forked process has none of its parent's threads"
    global _lock, _listeners
    _lock = threading.Lock()
    _listeners = {}


os.register_at_fork(after_in_child=_forget)


def wait(database, channels, timeout):
    """Wait at most timeout seconds for a message of the bus on one of
    channels. True when one came or the listener stopped (look now); on a
    database without channels (SQLite), sleep at most a second instead."""
    if not listens(database):
        time.sleep(max(0, min(1, timeout)))
        return False
    event = threading.Event()
    with _lock:
        listener = _listeners.get(database)
        if listener is None or not listener.is_alive():
            listener = _listeners[database] = Listener(database)
            listener.start()
        listener.until = time.monotonic() + config.getint(
            'database', 'timeout')
        for channel in channels:
            listener.events[channel].append(event)
    try:
        return event.wait(timeout)
    finally:
        with _lock:
            for channel in channels:
                events = listener.events.get(channel)
                if events and event in events:
                    events.remove(event)
                if channel in listener.events and not events:
                    del listener.events[channel]


def listens(database):
    "Whether the bus of database sends its messages as NOTIFY"
    return (isinstance(Bus, type) and issubclass(Bus, LongPollingBus)
        and backend.Database(database).has_channel())


class Listener(threading.Thread):
    "The LISTEN of the bus's channel on one database"

    def __init__(self, database):
        super().__init__(daemon=True,
            name='instrument_service_api bus listener %s' % database)
        self.database = database
        # channel -> the events of the waits on it
        self.events = collections.defaultdict(list)
        # End after this (monotonic) time when nobody waits
        self.until = 0
        # Set once the LISTEN is done
        self.listening = threading.Event()

    def run(self):
        database = connection = None
        selector = selectors.DefaultSelector()
        try:
            database = backend.Database(self.database)
            connection = database.get_connection(autocommit=True)
            cursor = connection.cursor()
            cursor.execute('LISTEN "%s"' % trytond_internals.bus_channel())
            self.listening.set()
            selector.register(connection, selectors.EVENT_READ)
            while not self._idle():
                selector.select(
                    timeout=config.getint('bus', 'select_timeout'))
                for notification in database.get_notifications(connection):
                    self._wake(_channel_of(notification.payload))
                # Keep connected, and find out when the connection is lost
                cursor.execute('SELECT 1')
        except Exception as e:
            if availability.unavailable(e):
                # An outage: one line, not a traceback
                logger.warning("bus listener on '%s' stopped: %s",
                    self.database, availability.first_line(e))
            else:
                logger.exception("bus listener on '%s' crashed",
                    self.database)
        finally:
            self._stop_waits()
            selector.close()
            if connection is not None:
                database.put_connection(connection)

    def _idle(self):
        "Whether nobody waits nor waited for a while: then end (once)"
        with _lock:
            if self.events or time.monotonic() < self.until:
                return False
            if _listeners.get(self.database) is self:
                del _listeners[self.database]
            return True

    def _wake(self, channel):
        with _lock:
            events = self.events.pop(channel, [])
        for event in events:
            event.set()

    def _stop_waits(self):
        "Leave the next wait to start another listener; wake those waiting"
        with _lock:
            if _listeners.get(self.database) is self:
                del _listeners[self.database]
            events = [event for events in self.events.values()
                for event in events]
            self.events.clear()
        for event in events:
            event.set()


def _channel_of(payload):
    "The bus channel of a NOTIFY of Bus.publish(), None if it is not one"
    try:
        return json.loads(payload)['channel']
    except (ValueError, TypeError, KeyError):
        return None
