"""The wire protocol (wevis._protocol) and the definitions, without a server: a socket pair plays the server's part."""
import hashlib
import socket
import struct
import unittest

import msgpack

import wevis
from wevis import _protocol

from .sample_servers import REPOSITORY

EXAMPLE = REPOSITORY / 'definitions' / 'example.wevis'


class WireTests(unittest.TestCase):
    def test_wire_ids_and_a_frame_are_as_documented(self):
        # docs/protocol.md: wire_id("ItIs") == 834488472, and ItIs hours=13 minutes=45 is this frame.
        self.assertEqual(834488472, wevis.wire_id('ItIs'))
        self.assertEqual(bytes.fromhex('00000008 93 ce31bd4898 0d 2d'), _protocol.encode_frame(834488472, [13, 45]))

    def test_the_protocols_own_messages_have_the_documented_wire_ids(self):
        self.assertEqual(
            {'_Hello': 662076846, '_Welcome': 1812130842, '_Login': 2119242171, '_LoginAccepted': 2093444222,
             '_LoginRejected': 1222244641, '_Ping': 466183270, '_Pong': 349836636, '_Closing': 1249651549, '_Failed': 2011301551,
             '_JoinRoom': 700765049, '_JoinOrCreateRoom': 138112712, '_CreateRoom': 2134500809, '_LeaveRoom': 1597072338,
             '_RoomChanged': 125938619, '_JoinRefused': 697988786},
            {name: wevis.wire_id(name) for name in _protocol.PROTOCOL_MESSAGES})

    def test_the_fingerprint_of_the_example_is_the_csharp_servers(self):
        # As the TimeServer sample's _Welcome carries it (the C# registry built from the same file).
        self.assertEqual('08e714d55eb8507c416c12fcd1aaf35b', wevis.DefinitionList.from_file(EXAMPLE).fingerprint())

    def test_argument_names_become_pascal_case_in_the_fingerprint(self):
        self.assertEqual(['HoursLeft', 'HoursLeft', 'X', 'Gradient2'],
                         [_protocol.property_name(n) for n in ('hours_left', 'hoursLeft', 'x', 'gradient_2')])

    def test_float_arrays_travel_as_little_endian_bins(self):
        defs = wevis.DefinitionList()
        defs.add('Floats', singles='?f', doubles='?d')
        message = wevis.Message(defs.get('Floats'), singles=[1.5], doubles=(2, -0.5))
        self.assertEqual([b'\x00\x00\xc0\x3f', struct.pack('<2d', 2.0, -0.5)], message._wire_values())
        self.assertEqual([2.0, -0.5], message.doubles)

    def test_encrypt_is_the_salted_sha512(self):
        self.assertEqual(hashlib.sha512(b'mypasswordsalt').hexdigest(), wevis.encrypt('mypassword', 'salt'))


class DefinitionTests(unittest.TestCase):
    def test_the_example_file_reads_as_the_original_did(self):
        defs = wevis.DefinitionList.from_file(EXAMPLE)
        self.assertEqual(['ServerReady', 'WhatTimeIsIt', 'ItIs', 'WhoAmI', 'YouAre', 'PleaseMayIHaveSomeFloats', 'SomeFloats'],
                         [d.name for d in defs])
        self.assertEqual((('hours', 'int'), ('minutes', 'int')), defs.get('ItIs').arguments)

    def test_definitions_in_code_take_python_types(self):
        defs = wevis.DefinitionList()
        defs.add('ItIs', hours=int, minutes=int)
        defs.add('Where', x=float, ok=bool, name=str, blob=bytes, many='?d', big='long')
        self.assertEqual((('x', 'float'), ('ok', 'bool'), ('name', 'str'), ('blob', 'bytes'), ('many', '?d'), ('big', 'long')),
                         defs.get('Where').arguments)

    def test_mistakes_in_a_file_name_the_line_and_what_is_wrong(self):
        cases = {
            'ItIs hours=int\nItIs minutes=int': 'f(2): ItIs is defined twice.',
            'Say text=string': "f(1): Say.text: unknown type 'string'; the types are int, long, float, bool, str, bytes, ?f, ?d.",
            '# comment\n\nSay text': 'f(3): Say: argument "text" has no type; write text=type.',
            '_Goodbye': 'f(1): _Goodbye: names starting with "_" are reserved for the protocol\'s own messages '
                      '(_Hello, _Welcome, _Login, _LoginAccepted, _LoginRejected, _Ping, _Pong, _Closing, _Failed, _JoinRoom, _JoinOrCreateRoom, _CreateRoom, _LeaveRoom, _RoomChanged, _JoinRefused).',
            'Move x_y=int xY=int': 'f(1): Move: the arguments x_y and xY are the same name (XY).',
            '9Lives': 'f(1): "9Lives" is not a message name: an ASCII letter or "_", then letters, digits or "_".',
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(wevis.DefinitionError) as caught:
                    wevis.DefinitionList.from_text(text, 'f')
                self.assertEqual(reason, str(caught.exception))

    def test_instantiate_makes_the_default_definitions_as_in_the_original(self):
        defs = wevis.DefinitionList.from_file(EXAMPLE)
        defs.instantiate()
        self.assertEqual(wevis.Message('ItIs', hours=1, minutes=2), wevis.Message(defs.get('ItIs'), hours=1, minutes=2))
        self.assertEqual('ItIs(hours=1, minutes=2)', repr(wevis.Message('ItIs', hours=1, minutes=2)))


class FakeServer:
    """The server's end of a socket pair: sends frames and reads what the client sent."""

    def __init__(self, test):
        self.sock, client_sock = socket.socketpair()
        self.sock.settimeout(10)
        client_sock.settimeout(10)
        test.addCleanup(self.sock.close)
        test.addCleanup(client_sock.close)
        defs = wevis.DefinitionList.from_file(EXAMPLE)
        self.connection = _protocol.Connection(client_sock, defs)

    def send(self, name, *values):
        self.sock.sendall(_protocol.encode_frame(wevis.wire_id(name), list(values)))

    def send_raw(self, data):
        self.sock.sendall(data)

    def frames(self):
        """Everything the client sent until it shut its side: (wire id, arguments) pairs."""
        data = b''
        while chunk := self.sock.recv(65536):
            data += chunk
        frames = []
        while data:
            (length,) = struct.unpack('>I', data[:4])
            body = msgpack.unpackb(data[4:4 + length], raw=False)
            frames.append((body[0], body[1:]))
            data = data[4 + length:]
        return frames


CLOSING = wevis.wire_id('_Closing')


class ConnectionTests(unittest.TestCase):
    def test_a_ping_is_answered_with_a_pong_and_messages_come_through(self):
        server = FakeServer(self)
        server.send('_Ping')
        server.send('ItIs', 13, 45)

        self.assertEqual(('ItIs', [13, 45]), server.connection.receive())
        (length,) = struct.unpack('>I', server.sock.recv(4))
        self.assertEqual([wevis.wire_id('_Pong')], msgpack.unpackb(server.sock.recv(length)))

    def test_the_servers_closing_ends_the_connection_with_its_reason(self):
        server = FakeServer(self)
        server.send('_Closing', 'the server is stopping')
        server.sock.shutdown(socket.SHUT_WR)

        with self.assertRaises(wevis.ConnectionClosedError) as caught:
            server.connection.receive()

        self.assertEqual('the server is stopping', caught.exception.reason)
        self.assertEqual([], server.frames())  # the client closed its side without a word more

    def test_closing_tells_the_server_why_and_reads_to_the_end(self):
        server = FakeServer(self)
        server.connection.close('the client was stopped')

        self.assertEqual([(CLOSING, ['the client was stopped'])], server.frames())
        server.sock.shutdown(socket.SHUT_WR)
        with self.assertRaises(wevis.ConnectionClosedError) as caught:
            server.connection.receive()
        self.assertEqual('the client was stopped', caught.exception.reason)

    def test_what_breaks_the_protocol_closes_the_connection_with_a_reason(self):
        wid = wevis.wire_id('ItIs')
        cases = {
            b'\x00\x00\x00\x00': 'The server sent a frame of length 0.',
            b'\x10\x00\x00\x00': 'The server sent a frame of 268435456 bytes; this client reads at most 67108864.',
            b'\x00\x00\x00\x09\x93': 'The connection ended inside a frame (1 of 9 bytes read).',
            b'\x00\x00\x00\x01\xc1': 'The server sent a frame that is not one MessagePack value: ',
            b'\x00\x00\x00\x01\x05': 'The server sent a frame that is not a message ([wire id, arguments...]).',
            _protocol.encode_frame(wid, [13]): 'The server sent ItIs with 1 arguments; it has 2.',
            _protocol.encode_frame(wid, [13, 'x']): 'ItIs.minutes should be int, but the server sent a str.',
            _protocol.encode_frame(wevis.wire_id('SomeFloats'), [b'abc', b'']): 'SomeFloats.singles should be ?f, but the server sent a bytes of 3 bytes.',
            _protocol.encode_frame(wid, [2 ** 40, 1]): 'ItIs.hours should be int, but the server sent 1099511627776, outside its range.',
            _protocol.encode_frame(wevis.wire_id('_Goodbye'), []): (
                f'The server sent a message with wire id {wevis.wire_id("_Goodbye")}, which is neither one of this client\'s definitions nor '
                'one of the protocol\'s own messages (_Hello, _Welcome, _Login, _LoginAccepted, _LoginRejected, _Ping, _Pong, _Closing, _Failed, _JoinRoom, _JoinOrCreateRoom, _CreateRoom, _LeaveRoom, _RoomChanged, _JoinRefused): the server may speak a newer protocol than this client (2).'),
            _protocol.encode_frame(wevis.wire_id('_Welcome'), [1, 'salt', 'f']): 'The server sent _Welcome after the login.',
        }
        for data, reason in cases.items():
            with self.subTest(reason=reason):
                server = FakeServer(self)
                server.send_raw(data)
                server.sock.shutdown(socket.SHUT_WR)

                with self.assertRaises(wevis.ProtocolError) as caught:
                    server.connection.receive()

                self.assertTrue(caught.exception.reason.startswith(reason), caught.exception.reason)
                self.assertEqual([(CLOSING, [caught.exception.reason])], server.frames())

    def test_trailing_bytes_after_the_message_break_the_protocol(self):
        server = FakeServer(self)
        body = msgpack.packb([wevis.wire_id('ItIs'), 13, 45]) + b'\x2d'
        server.send_raw(struct.pack('>I', len(body)) + body)
        server.sock.shutdown(socket.SHUT_WR)

        with self.assertRaises(wevis.ProtocolError) as caught:
            server.connection.receive()

        self.assertTrue(caught.exception.reason.startswith('The server sent a frame that is not one MessagePack value'))


if __name__ == '__main__':
    unittest.main()
