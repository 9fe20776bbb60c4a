"""
The second edition of the definitions language (directions, requests, bounds, @version) read as the C# side reads it:
the fingerprints are the C# generator's for the same files, as `wevis check FILE` (src/Wevis.Cli) prints them.
"""
import socket
import struct
import threading
import unittest

import msgpack

import wevis
from wevis import _protocol

from .sample_servers import REPOSITORY, SampleServer

TIMEOUT = 30  # seconds: every wait in these tests is bounded

LOBBY = REPOSITORY / 'definitions' / 'lobby.wevis'
REQUESTS = REPOSITORY / 'tests' / 'Wevis.Runtime.Tests' / 'Definitions' / 'requests.wevis'


class SecondEditionTests(unittest.TestCase):
    def test_the_fingerprints_are_the_csharp_sides(self):
        # dotnet src/Wevis.Cli/bin/Release/net10.0/Wevis.Cli.dll check definitions/lobby.wevis (and the others):
        # "9 message(s), 0 warning(s), no errors; fingerprint a66c63239deeaa3052cf7876beec0d8c@2".
        self.assertEqual('a66c63239deeaa3052cf7876beec0d8c@2', wevis.DefinitionList.from_file(LOBBY).fingerprint())
        self.assertEqual('d5076c6c79ecdfb22a2bd1c2e5ea182d', wevis.DefinitionList.from_file(REQUESTS).fingerprint())

    def test_the_lobby_reads_with_its_directions_replies_bounds_and_version(self):
        defs = wevis.DefinitionList.from_file(LOBBY)
        join, terrain, heartbeat = defs.get('Join'), defs.get('Terrain'), defs.get('Heartbeat')
        self.assertEqual(('client', ('Joined', 'RoomFull'), (('room', 'str'),), (32,)),
                         (join.direction, join.replies, join.arguments, join.bounds))
        self.assertTrue(join.is_request)
        self.assertEqual(('server', (4096, 65536, 4096)), (terrain.direction, terrain.bounds))
        self.assertEqual((None, (), (None,)), (heartbeat.direction, heartbeat.replies, heartbeat.bounds))
        self.assertFalse(heartbeat.is_request)
        self.assertEqual(2, defs.version)
        self.assertEqual(wevis.wire_id('Join'), join.wire_id)
        self.assertEqual('client: Join room=str(32) -> Joined | RoomFull', repr(join))

    def test_the_fingerprint_text_is_the_documented_one(self):
        # docs/protocol.md: the lobby's text starts with these lines, sorted by ordinal.
        defs = wevis.DefinitionList.from_file(LOBBY)
        lines = sorted(d.fingerprint_line() for d in defs)
        self.assertEqual(['Heartbeat Sent=long', 'client: Join Room=str(32) -> Joined | RoomFull', 'client: Leave -> Left'],
                         lines[:3])

    def test_spacing_and_a_version_anywhere_read_as_the_generator_reads_them(self):
        text = ('server:Joined room=str(32) players=int\n'
                'server: RoomFull room=str(32)\n'
                'server: Left room=str(32)\n'
                'Heartbeat sent=long   # either way\n'
                'client:Join room=str(32)->Joined|RoomFull\n'
                'client: Leave -> Left\n'
                'client: Talk text=str(200)\n'
                'server: Talked player=str(32) text=str(200)\n'
                'server: Terrain heights=?d(4096) walkable=bytes(65536) shading=?f(4096)\n'
                '@version 2\n')
        self.assertEqual(wevis.DefinitionList.from_file(LOBBY).fingerprint(), wevis.DefinitionList.from_text(text).fingerprint())

    def test_definitions_in_code_take_directions_replies_and_bounds(self):
        defs = wevis.DefinitionList()
        defs.add('Joined', _direction='server', room='str(32)', players=int)
        defs.add('Join', _direction='client', _replies=('Joined',), room='str(32)')
        self.assertEqual('client: Join room=str(32) -> Joined', repr(defs.get('Join')))
        self.assertEqual(('server', (32, None)), (defs.get('Joined').direction, defs.get('Joined').bounds))

    def test_mistakes_in_the_second_editions_additions_name_the_line(self):
        cases = {
            'clients: Hello': 'f(1): clients: is not a direction: start a line with client:',
            'client:': 'f(1): client: must be followed by the message it applies to.',
            'server: Hi\nclient: Hello -> Hi Bye': 'f(2): Hello: separate replies with "|" (found "Bye").',
            'client: Hello ->': 'f(1): Hello: no reply follows "->".',
            'server: Hi\nclient: Hello -> Hi | x=int': 'f(2): Hello: "x=int" is an argument, and arguments come before "->".',
            'server: Hi\nHello x=int | y=int': 'f(2): Hello: "|" separates replies, which follow "->".',
            'client: Hello -> Nobody': 'f(1): Hello: the reply Nobody is not a message of these definitions.',
            'server: Hi\nserver: Hello -> Hi': 'f(2): Hello: a server: message cannot have replies; requests are sent by clients.',
            'client: Hi\nclient: Hello -> Hi': 'f(2): Hello: the reply Hi is a client: message; replies are sent by the server.',
            'server: Hi\nclient: Hello -> Hi | Hi': 'f(2): Hello: the reply Hi is listed twice.',
            'Say text=str(0)': 'f(1): Say.text: invalid bound (0); write a whole number from 1 to 2147483647',
            'Say text=str(x)': 'f(1): Say.text: invalid bound (x); write',
            'Say text=str(32': 'f(1): Say.text: invalid bound (32; write',
            'Count n=int(4)': 'f(1): Count.n: int has a fixed size and takes no bound',
            '@versio 2': 'f(1): unknown directive @versio; the only one is @version N.',
            '@version two': 'f(1): write @version N, with N a whole number from 1 to 2147483647.',
            '@version 0': 'f(1): write @version N',
            '@version': 'f(1): write @version N',
            '@version 1\n@version 2': 'f(2): the version is already declared on line 1.',
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(wevis.DefinitionError) as caught:
                    wevis.DefinitionList.from_text(text, 'f')
                self.assertTrue(str(caught.exception).startswith(reason), str(caught.exception))


class LobbyServerTests(unittest.TestCase):
    """Against a C# server built from lobby.wevis (tests/LobbyServer): the login, requests, directions and bounds."""

    @classmethod
    def setUpClass(cls):
        cls.server = SampleServer('LobbyServer')
        cls.definitions = wevis.DefinitionList.from_file(LOBBY)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def client(self, name='ann'):
        client = wevis.Client(name, 'lobby', '1.0.0', '127.0.0.1', self.server.port, definitions=self.definitions, timeout=TIMEOUT)
        self.addCleanup(client.stop)
        client.start_blocking(timeout=TIMEOUT)
        return client

    def test_the_login_succeeds_with_second_edition_definitions(self):
        client = self.client()
        client.q('Heartbeat', sent=41)
        self.assertEqual(42, client.receive_blocking('Heartbeat', timeout=TIMEOUT).sent)

    def test_an_older_version_of_the_definitions_is_told_to_upgrade(self):
        older = wevis.DefinitionList.from_text(LOBBY.read_text(encoding='utf-8').replace('@version 2', '@version 1'))
        self.assertTrue(older.fingerprint().endswith('@1'))
        client = wevis.Client('ann', 'lobby', '1.0.0', '127.0.0.1', self.server.port, definitions=older, timeout=TIMEOUT)
        self.addCleanup(client.stop)
        with self.assertRaises(wevis.LoginRejectedError) as caught:
            client.start_blocking(timeout=TIMEOUT)
        self.assertEqual('This server speaks version 2 of the message definitions, and the client was built from an '
                         'older version (1): upgrade the client.', caught.exception.reason)

    def test_a_request_returns_its_typed_reply_and_other_messages_still_arrive(self):
        client = self.client()
        joined = client.request('Join', room='hall', timeout=TIMEOUT)
        self.assertEqual(('Joined', 'hall'), (joined.name, joined.room))
        # players counts everyone in the server's one room, where an earlier test's client may still be leaving
        # (its stop does not wait for the server to see it go): at least this one, as an int.
        self.assertIsInstance(joined.players, int)
        self.assertGreaterEqual(joined.players, 1)
        # The room broadcast a Heartbeat before replying: it went to receive_blocking, not to the request.
        self.assertEqual(7, client.receive_blocking('Heartbeat', timeout=TIMEOUT).sent)
        full = client.request(wevis.Message(self.definitions.get('Join'), room='full'), timeout=TIMEOUT)
        self.assertEqual(('RoomFull', 'full'), (full.name, full.room))
        self.assertEqual('Left', client.request('Leave', timeout=TIMEOUT).name)

    def test_requests_from_several_threads_get_their_own_replies(self):
        client = self.client()
        rooms = [f'room{k}' for k in range(20)]
        replies = {}

        def ask(room):
            replies[room] = client.request('Join', room=room, timeout=TIMEOUT).room

        threads = [threading.Thread(target=ask, args=(room,)) for room in rooms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        self.assertEqual({room: room for room in rooms}, replies)

    def test_a_refused_request_raises_with_the_servers_reason(self):
        client = self.client()
        with self.assertRaises(wevis.RequestFailedError) as caught:
            client.request('Join', room='', timeout=TIMEOUT)
        self.assertEqual(('Join', 'Name a room to join.'), (caught.exception.request_name, caught.exception.reason))
        self.assertEqual('The server refused the Join request: Name a room to join.', str(caught.exception))
        self.assertEqual('Left', client.request('Leave', timeout=TIMEOUT).name)  # the connection carries on

    def test_an_unanswered_request_times_out_and_a_closed_connection_ends_the_wait(self):
        client = self.client()
        with self.assertRaisesRegex(TimeoutError, r'^The Join request \(id \d+\) was not answered within 0.3 s\.$'):
            client.request('Join', room='silent', timeout=0.3)
        self.assertEqual('Left', client.request('Leave', timeout=TIMEOUT).name)  # the connection carries on
        with self.assertRaises(wevis.ConnectionClosedError) as caught:
            client.request('Join', room='closed', timeout=TIMEOUT)
        self.assertEqual('The lobby is closed.', caught.exception.reason)

    def test_a_server_message_is_refused_before_sending(self):
        client = self.client()
        with self.assertRaisesRegex(wevis.ClientError, r'^Joined is sent only by the server \(server: Joined room=str\(32\) players=int\); a client cannot send it\.$'):
            client.q('Joined', room='hall', players=1)
        with self.assertRaisesRegex(wevis.ClientError, r'^Talk is not a request'):
            client.request('Talk', text='hi', timeout=TIMEOUT)

    def test_an_argument_over_its_bound_is_refused_before_sending_and_the_connection_carries_on(self):
        client = self.client()
        with self.assertRaises(wevis.ArgumentTooLargeError) as caught:
            client.q('Talk', text='é' * 101)  # 101 characters, 202 bytes of UTF-8: the bound counts bytes
        error = caught.exception
        self.assertEqual(('Talk', 'text', 202, 200), (error.message_name, error.argument_name, error.size, error.bound))
        self.assertEqual("The Talk message's argument 'text' holds 202 bytes, over its bound of 200 (text=str(200)); "
                         'the message was not sent.', str(error))
        with self.assertRaises(wevis.ArgumentTooLargeError):
            client.request('Join', room='x' * 33, timeout=TIMEOUT)
        client.q('Talk', text='é' * 100)
        talked = client.receive_blocking('Talked', timeout=TIMEOUT)
        self.assertEqual(('ann', 'é' * 100), (talked.player, talked.text))


class RequestEnvelopeTests(unittest.TestCase):
    """The envelopes' bytes as docs/protocol.md gives them, with a socket pair as the server."""

    def setUp(self):
        self.sock, client_sock = socket.socketpair()
        self.sock.settimeout(10)
        client_sock.settimeout(10)
        self.addCleanup(self.sock.close)
        self.addCleanup(client_sock.close)
        self.connection = _protocol.Connection(client_sock, wevis.DefinitionList.from_file(LOBBY))

    def read_frame(self):
        (length,) = struct.unpack('>I', self.sock.recv(4))
        return self.sock.recv(length)

    def test_the_documented_request_reply_and_refusal(self):
        self.connection.send_request(1, wevis.wire_id('Leave'), [])
        self.assertEqual(bytes.fromhex('93 ce 24 bd ab 83 01 91 ce 7a 2f 32 60'), self.read_frame())

        for body in ('93 ce 0f 7a 18 b2 01 92 ce 12 77 38 90 a5 6c 6f 62 62 79', '93 ce 77 e2 06 af 01 a8 6e 6f 74 20 68 65 72 65'):
            data = bytes.fromhex(body)
            self.sock.sendall(struct.pack('>I', len(data)) + data)
        self.assertEqual(('_Reply', (1, 'Left', ['lobby'])), self.connection.receive())
        self.assertEqual(('_Failed', [1, 'not here']), self.connection.receive())

    def test_what_a_server_may_not_send_closes_the_connection_with_a_reason(self):
        cases = [
            ((wevis.wire_id('Talk'), 'hi'), "The server sent Talk, which only clients send (client: Talk text=str(200))."),
            ((_protocol.REPLY_WIRE_ID, 1, [wevis.wire_id('Leave')]), 'The server answered a request with Leave, which only clients send.'),
            ((_protocol.REQUEST_WIRE_ID, 1, [wevis.wire_id('Heartbeat'), 1]), 'The server sent a request (a _Request envelope), but only clients send requests.'),
            ((_protocol.REPLY_WIRE_ID, 1), 'The server sent a reply envelope that is not [_Reply, id, [wire id, arguments...]].'),
            ((wevis.wire_id('Left'), 'x' * 33), "The server sent Left whose argument 'room' holds 33 bytes, over its bound of 32 (room=str(32))."),
            ((wevis.wire_id('Terrain'), b'', b'', b'\0' * 4 * 4097), "The server sent Terrain whose argument 'shading' holds 4097 values, over its bound of 4096 (shading=?f(4096))."),
        ]
        for body, reason in cases:
            with self.subTest(reason=reason):
                self.setUp()
                self.sock.sendall(_protocol.encode_body(list(body)))
                self.sock.shutdown(socket.SHUT_WR)
                with self.assertRaises(wevis.ProtocolError) as caught:
                    self.connection.receive()
                self.assertEqual(reason, caught.exception.reason)


if __name__ == '__main__':
    unittest.main()
