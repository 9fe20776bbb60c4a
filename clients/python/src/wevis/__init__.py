"""
wevis: a Python client for Wevis servers, with the API of the original wevis module.

A program reads the same ``.wevis`` definitions file the server is built from, logs in, and sends and receives
typed messages::

    import wevis

    defs = wevis.DefinitionList.from_file('example.wevis')
    defs.instantiate()
    client = wevis.Client('michael', 'mypassword', '1.0.0', 'localhost', 12121)
    try:
        client.start_blocking()
        client.receive_blocking('ServerReady')
        client.q('WhatTimeIsIt')
        r = client.receive_blocking('ItIs')
        print(f'It is {r.get("hours")}:{r.get("minutes")}')
    finally:
        client.stop()

It speaks the Wevis wire protocol (docs/protocol.md in the Wevis repository), all of it in ``wevis._protocol``.
"""
from ._client import Client
from ._definitions import DefinitionError, DefinitionList, Message, MessageDefinition
from ._errors import (ArgumentTooLargeError, ClientError, ConnectionClosedError, LoginRejectedError, ProtocolError,
                      RequestFailedError, UnexpectedMessageError)
from ._protocol import DEFAULT_PORT, PROTOCOL_VERSION, encrypt, wire_id

__version__ = '0.1.0'

__all__ = [
    'ArgumentTooLargeError',
    'Client',
    'ClientError',
    'ConnectionClosedError',
    'DEFAULT_PORT',
    'DefinitionError',
    'DefinitionList',
    'LoginRejectedError',
    'Message',
    'MessageDefinition',
    'PROTOCOL_VERSION',
    'ProtocolError',
    'RequestFailedError',
    'UnexpectedMessageError',
    'encrypt',
    'wire_id',
]
