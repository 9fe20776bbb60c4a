"""
The second edition of the definitions language (directions, requests, bounds, @version) read as the C# side reads it:
the fingerprints are the C# generator's for the same files, as `wevis check FILE` (src/Wevis.Cli) prints them.
"""
import unittest

import wevis

from .sample_servers import REPOSITORY

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


if __name__ == '__main__':
    unittest.main()
