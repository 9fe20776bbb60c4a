"""The example optimiser (examples/bennevis_optimiser.py) playing whole matches, as a user runs it: as a program."""
import math
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import unittest

import msgpack

import wevis
from wevis import _protocol

from .sample_servers import REPOSITORY, SampleServer

EXAMPLE = REPOSITORY / 'clients' / 'python' / 'examples' / 'bennevis_optimiser.py'
BENNEVIS = REPOSITORY / 'samples' / 'BenNevis' / 'bennevis.wevis'
TIMEOUT = 120


def scipy_missing():
    try:
        import scipy.optimize  # noqa: F401
        return False
    except ImportError:
        return True


def run_example(*arguments):
    return subprocess.run([sys.executable, str(EXAMPLE), '--host', '127.0.0.1', *arguments],
                          capture_output=True, text=True, timeout=TIMEOUT)


class MatchTests(unittest.TestCase):
    """Against the BenNevis sample's server: the example joins a match from the lobby, plays it to its end, and hears the result."""

    def play(self, *options):
        maps = tempfile.TemporaryDirectory()
        self.addCleanup(maps.cleanup)
        server = SampleServer('BenNevis', 'server', '--players', '1', '--budget', '300', '--maps', maps.name)
        self.addCleanup(server.stop)

        done = run_example('--port', str(server.port), '--name', 'py', *options)

        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual('Match 1 started with 1 player(s): 700 x 1300 km, 300 evaluations.', lines[2])
        found = re.match(r'^py found (\d+) m at \(\d+\.\d\d km east, \d+\.\d\d km north\)\.$', lines[3])
        self.assertIsNotNone(found, lines[3])
        self.assertRegex(lines[4], r'^Match 1 is over \(all done\); the summit is 1345 m at \(\d+\.\d\d, \d+\.\d\d\) km; py won\.$')
        self.assertRegex(lines[5], rf'^  1\. py +{found.group(1)} m after \d+ evaluations$')
        self.assertEqual('Leaderboard:', lines[6])
        self.assertRegex(lines[7], rf'^  1\. py +{found.group(1)} m mean, +{found.group(1)} m best, 1 of 1 won$')
        # The server ended the match, told its log the summit only then, and drew the match.
        server.wait_for(re.compile(r'Match 1 is over \(all done\); .*; py won with \d+ m at .* after \d+ evaluations\.$'), TIMEOUT)
        server.wait_for(re.compile(re.escape(f"Match 1's map: {os.path.join(maps.name, 'match-1.svg')}")), TIMEOUT)
        return lines

    def test_the_plain_python_optimiser_finishes_a_match(self):
        self.assertEqual('Climbing with plain-Python Nelder-Mead.', self.play('--no-scipy')[0])

    @unittest.skipIf(scipy_missing(), 'SciPy is not installed (Debian: python3-scipy)')
    def test_the_scipy_optimiser_finishes_a_match(self):
        self.assertEqual('Climbing with SciPy Nelder-Mead.', self.play()[0])


class FakeMatchServer:
    """
    Serves one match to one player, in the messages of bennevis.wevis, on a made-up 100 x 200 km map of two hills: a
    lesser one of 600 m at (30, 50) and the summit, 1000 m at (70, 150), so that a test knows where the optimiser
    should end (the C# server's map is too big to know that of), and sees every query it makes.
    """

    SUMMIT = (70.0, 150.0, 1000.0)

    def __init__(self, budget):
        self.definitions = wevis.DefinitionList.from_file(BENNEVIS)
        self.budget = budget
        self.asked = 0
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def height(x, y):
        return (600 * math.exp(-((x - 30) ** 2 + (y - 50) ** 2) / (2 * 15 ** 2))
                + 1000 * math.exp(-((x - 70) ** 2 + (y - 150) ** 2) / (2 * 10 ** 2)))

    def _serve(self):
        try:
            sock, _ = self.listener.accept()
            with sock:
                sock.settimeout(TIMEOUT)
                self.sock, self.buffer = sock, b''
                self._send('_Welcome', _protocol.PROTOCOL_VERSION, 'salty', self.definitions.fingerprint())
                assert self._read() == ('_Hello', [_protocol.PROTOCOL_VERSION])
                name, (username, password, version, fingerprint) = self._read()
                assert (name, password) == ('_Login', wevis.encrypt('bennevis', 'salty')), name
                self._send('_LoginAccepted')
                assert self._read() == ('Play', [])
                self._send('_RoomChanged', 0, 'match-1', 'match', '')
                self._send('MatchWaiting', 1, 1, 10.0)
                self._send('MatchStarted', 1, 100.0, 200.0, self.budget, 1, 60.0, 1)
                best = (math.nan, math.nan, -math.inf, 0)
                while True:
                    name, args = self._read()
                    if name == 'Ask':
                        x, y, _ = args
                        self.asked += 1
                        h = self.height(x, y)
                        best = max(best, (x, y, h, self.asked), key=lambda b: b[2])
                        self._send('Answer', x, y, h, math.nan, math.nan, self.budget - self.asked)
                    elif name == 'AskMany':
                        xs, ys = (struct.unpack(f'<{len(b) // 8}d', b) for b in args)
                        hs = [self.height(x, y) for x, y in zip(xs, ys)]
                        for x, y, h in zip(xs, ys, hs):
                            self.asked += 1
                            best = max(best, (x, y, h, self.asked), key=lambda b: b[2])
                        self._send('Answers', struct.pack(f'<{len(hs)}d', *hs), self.budget - self.asked)
                    elif name == 'Done':
                        break
                    assert self.asked <= self.budget, f'{self.asked} heights asked with a budget of {self.budget}'
                sx, sy, sm = self.SUMMIT
                self._send('MatchOver', 1, 'all done', sx, sy, sm, username, 1)
                self._send('PlayerScore', 1, username, best[2], best[0], best[1], best[3], self.asked)
                self._send('LeaderboardTable', 1)
                self._send('LeaderboardRow', 1, username, 1, 1, best[2], best[2])
                self._send('_RoomChanged', 0, 'lobby', 'lobby', 'the room match-1 was closed: match 1 is over')
                self.best = best
                assert self._read()[0] == '_Closing'
        except Exception as e:  # reported by the test
            self.error = e

    def _send(self, name, *values):
        self.sock.sendall(_protocol.encode_frame(wevis.wire_id(name), list(values)))

    def _read(self):
        while len(self.buffer) < 4 or len(self.buffer) < 4 + struct.unpack('>I', self.buffer[:4])[0]:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError('the client closed')
            self.buffer += data
        length = struct.unpack('>I', self.buffer[:4])[0]
        body, self.buffer = msgpack.unpackb(self.buffer[4:4 + length], raw=False), self.buffer[4 + length:]
        names = {wevis.wire_id(n): n for n in [*_protocol.PROTOCOL_MESSAGES, *(d.name for d in self.definitions)]}
        return names[body[0]], body[1:]


class KnownMapTests(unittest.TestCase):
    """Against a stand-in server with a map whose summit is known: the optimiser finds it, not the lesser hill."""

    def test_the_optimiser_plays_a_match_within_its_budget_and_finds_the_summit(self):
        server = FakeMatchServer(budget=400)

        done = run_example('--port', str(server.port), '--name', 'py', '--no-scipy')
        server.thread.join(TIMEOUT)

        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        self.assertIsNone(server.error)
        self.assertLessEqual(server.asked, 400)
        x, y, metres, _ = server.best
        self.assertGreater(metres, 990, f'It found {metres:.0f} m at ({x:.1f}, {y:.1f}).')
        lines = done.stdout.splitlines()
        self.assertRegex(lines[3], r'^py found (99\d|1000) m at \(\d+\.\d\d km east, \d+\.\d\d km north\)\.$')
        self.assertEqual('Match 1 is over (all done); the summit is 1000 m at (70.00, 150.00) km; py won.', lines[4])


if __name__ == '__main__':
    unittest.main()
