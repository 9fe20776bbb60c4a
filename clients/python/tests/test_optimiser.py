"""The example optimiser (examples/bennevis_optimiser.py) playing whole games, as a user runs it: as a program."""
import math
import re
import socket
import struct
import subprocess
import sys
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


class GuessingGameTests(unittest.TestCase):
    """Against the BenNevis sample's server as it is today: heights, then one guess, then the final leaderboard."""

    def play(self, *options):
        server = SampleServer('BenNevis', 'server', '--players', '1', '--budget', '300')
        self.addCleanup(server.stop)

        done = run_example('--port', str(server.port), '--name', 'py', *options)

        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        lines = done.stdout.splitlines()
        self.assertRegex(lines[1], r'^py guessed \(\d+\.\d\d km east, \d+\.\d\d km north\), \d+ m high\.$')
        self.assertEqual('Final leaderboard:', lines[2])
        distance = float(re.match(r'^ +1\. py +(\d+\.\d\d) km from the top$', lines[3]).group(1))
        self.assertLess(distance, 1.0)
        server.wait_for(re.compile(r'Game 1 is over; py won$'), TIMEOUT)
        return lines

    def test_the_plain_python_optimiser_finishes_a_game(self):
        self.assertEqual('Climbing with plain-Python Nelder-Mead.', self.play('--no-scipy')[0])

    @unittest.skipIf(scipy_missing(), 'SciPy is not installed (Debian: python3-scipy)')
    def test_the_scipy_optimiser_finishes_a_game(self):
        self.assertEqual('Climbing with SciPy Nelder-Mead.', self.play()[0])


class FakeMatchServer:
    """
    Serves one match to one player, in the match messages of bennevis.wevis, on a made-up 100 x 200 km map of two
    hills: a lesser one of 600 m at (30, 50) and the summit, 1000 m at (70, 150). It stands in for the match rooms
    until the C# server runs them.
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
                self._send('_RoomChanged', 0, 'match-1', 'match', '')
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


class MatchTests(unittest.TestCase):
    """The match messages, against a stand-in server: the optimiser finds the summit, not the lesser hill."""

    def test_the_optimiser_plays_a_match_within_its_budget_and_finds_the_summit(self):
        server = FakeMatchServer(budget=400)

        done = run_example('--port', str(server.port), '--name', 'py', '--game', 'match', '--no-scipy')
        server.thread.join(TIMEOUT)

        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        self.assertIsNone(server.error)
        self.assertLessEqual(server.asked, 400)
        x, y, metres, _ = server.best
        self.assertGreater(metres, 990, f'It found {metres:.0f} m at ({x:.1f}, {y:.1f}).')
        lines = done.stdout.splitlines()
        self.assertRegex(lines[1], r'^py found (99\d|1000) m at \(\d+\.\d\d km east, \d+\.\d\d km north\)\.$')
        self.assertEqual('Match 1 is over (all done); the summit is 1000 m at (70.00, 150.00) km; py won.', lines[2])


if __name__ == '__main__':
    unittest.main()
