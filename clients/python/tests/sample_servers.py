"""Starts the repository's C# sample servers as processes for the tests, on ports the system picks."""
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

#: The repository's root (clients/python/tests/ is three folders below it).
REPOSITORY = Path(__file__).resolve().parents[3]

_LISTENING = re.compile(r'Wevis server listening on 127\.0\.0\.1:(\d+) ')


def sample_dll(sample):
    """
    The built dll of samples/<sample> (or of clients/python/tests/<sample>, the tests' own servers), in the
    configuration the C# tests use (WEVIS_CONFIGURATION, Release).
    """
    configuration = os.environ.get('WEVIS_CONFIGURATION', 'Release')
    framework = os.environ.get('WEVIS_TARGET_FRAMEWORK', 'net10.0')
    folder = REPOSITORY / 'samples' / sample
    if not folder.exists():
        folder = Path(__file__).resolve().parent / sample
    path = folder / 'bin' / configuration / framework / f'{sample}.dll'
    if not path.exists():
        raise RuntimeError(f'{path} is not built; build it first: dotnet build {folder.relative_to(REPOSITORY)} -c {configuration}')
    return path


class SampleServer:
    """
    A sample server process (``dotnet samples/<sample>/bin/.../<sample>.dll``), listening on 127.0.0.1 and a port
    the system picked, which it logs; its output is collected line by line. Stop it with :meth:`stop`.
    """

    def __init__(self, sample, *arguments, timeout=60):
        dotnet = os.environ.get('DOTNET_HOST_PATH') or shutil.which('dotnet') or 'dotnet'
        self.lines = []
        self._changed = threading.Condition()
        self._process = subprocess.Popen(
            [dotnet, str(sample_dll(sample)), *arguments, '--host', '127.0.0.1', '--port', '0'],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, 'DOTNET_NOLOGO': '1', 'DOTNET_CLI_TELEMETRY_OPTOUT': '1'})
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.port = int(self.wait_for(_LISTENING, timeout).group(1))
        except BaseException:
            self.stop()
            raise

    def _read(self):
        for line in self._process.stdout:
            with self._changed:
                self.lines.append(line.rstrip('\n'))
                self._changed.notify_all()
        with self._changed:
            self.lines.append(None)  # the end of the output
            self._changed.notify_all()

    def wait_for(self, pattern, timeout):
        """The first output line matching ``pattern`` (a compiled regex); waits for it, woken by each new line."""
        seen, deadline = 0, time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if line is None:
                        raise RuntimeError(f'The server ended without printing {pattern.pattern!r}:\n' + self.transcript())
                    match = pattern.search(line)
                    if match:
                        return match
                seen = len(self.lines)
                if not self._changed.wait(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f'No line matching {pattern.pattern!r} within {timeout} s:\n' + self.transcript())

    def transcript(self):
        return '\n'.join(line for line in self.lines if line is not None)

    def stop(self):
        """Asks the server to stop (SIGTERM, as Ctrl+C) and waits for it; kills it if it takes over 10 s."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._reader.join(10)
